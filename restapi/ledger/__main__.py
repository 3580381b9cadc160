"""``python -m restapi.ledger verify [--account ID]``: recompute the hash chains; exit 1 if broken."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import orjson

from restapi.ledger.verify import verify
from shared.db import create_pool


async def _run(dsn: str, account: int | None) -> int:
    pool = await create_pool(dsn, 1, 2)
    try:
        report = await verify(pool, account)
    finally:
        pool.close()
        await pool.wait_closed()
    print(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2).decode())
    return 0 if report.ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m restapi.ledger", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["verify"])
    parser.add_argument("--account", type=int, default=None, help="verify one account only")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("DATABASE_URL is not set and --database-url not given")
    sys.exit(asyncio.run(_run(args.database_url, args.account)))


if __name__ == "__main__":
    main()
