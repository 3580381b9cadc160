"""The restore drill: money written before T comes back to the cent, money written after T does not."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from devtools.devservers import EmbeddedPostgres, free_port
from restapi.app import create_app
from restapi.config import RestSettings
from restapi.ledger.verify import verify
from shared.backup import job
from shared.config import load
from shared.db import create_pool
from shared.tokens import KeyRing, access_claims
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.restapi.betting.conftest import BOOK_SQL, INSERT_PRICE, PRICES, straight
from tests.shared.backup_helpers import archived_postgres, migrated, money_state, query

AGENT, PLAYERS = 2, (10, 11)
CASHIER = "/api/v1/agent/cashier"


async def write_money(client: Any, ring: KeyRing, tag: str, stakes: tuple[int, ...]) -> None:
    """Cashier deposits and a withdrawal, then straight bets, for each player, all through the API."""
    agent = {"Authorization": f"Bearer {ring.sign(access_claims(AGENT, 'agent', None, ttl=600))}"}
    for player in PLAYERS:
        for n, (path, kind, cents) in enumerate((("/credit", "deposit", 50_000), ("/debit", "withdrawal", 1_234))):
            resp = await client.post(CASHIER + path, headers={**agent, "Idempotency-Key": f"{tag}-{player}-{n}"},
                                     json={"player_id": player, "amount_cents": cents, "type": kind,
                                           "reason": "drill"})
            assert resp.status == 201, await resp.text()
        auth = {"Authorization": f"Bearer {ring.sign(access_claims(player, 'player', AGENT, ttl=600))}"}
        for n, stake in enumerate(stakes):
            resp = await client.post("/api/v1/betting/bets", json=straight(stake),
                                     headers={**auth, "Idempotency-Key": f"{tag}-bet-{player}-{n}"})
            assert resp.status == 201, await resp.text()


async def test_restore_to_t_brings_back_exactly_the_money_committed_before_t(
        data_root: Path, redis_url: str, keys_dir: Path, aiohttp_client: Any) -> None:
    with archived_postgres(data_root) as src:
        await migrated(src.server.url)
        query(src.server.url, BOOK_SQL)
        for row in PRICES:
            query(src.server.url, INSERT_PRICE, row)
        src.barman.cron()
        src.barman.switch_wal()
        src.barman.backup()

        # The job's view of that catalogue: one backup, archiving without failures, barman check passes.
        await job.BackupJob(src.barman, src.settings, await create_pool(src.server.url, 1, 1)).round()
        assert job.BACKUP_COUNT._value.get() == 1 and job.ARCHIVE_FAILED._value.get() == 0
        side = await aiohttp_client(job.side_app(src.barman, 60 * TIMEOUT_FACTOR))
        ready = await side.get("/readyz")
        assert ready.status == 200, await ready.text()

        settings = load(RestSettings, {"DATABASE_URL": src.server.url, "REDIS_URL": redis_url,
                                       "AUTH_KEYS_DIR": str(keys_dir)}, port=0, api_limit=100_000)
        client = await aiohttp_client(create_app(settings))
        ring = KeyRing.load(keys_dir)
        await write_money(client, ring, "before", (1_000, 2_500, 777))
        at_t = money_state(src.server.url)
        ((t,),) = query(src.server.url, "SELECT clock_timestamp()")
        await write_money(client, ring, "after", (3_000, 4_100))
        after = money_state(src.server.url)
        assert len(after.ledger_ids) > len(at_t.ledger_ids) and after.balances != at_t.balances
        src.barman.switch_wal()  # the WAL past T reaches the catalogue, as archive_timeout would

        dest, port = data_root / f"restored-{os.getpid()}-{t.timestamp():.0f}", free_port()
        env = {**os.environ, **src.env}
        proc = subprocess.run([sys.executable, "-m", "devtools.restore", "--to", t.isoformat(),
                               "--dest", str(dest), "--port", str(port)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600 * TIMEOUT_FACTOR)
        restored = EmbeddedPostgres(dest, port)
        try:
            assert proc.returncode == 0, proc.stderr[-3000:]
            assert restored.url in proc.stdout
            back = money_state(restored.url)
            assert back.ledger_ids == at_t.ledger_ids and back.bet_ids == at_t.bet_ids
            assert back.balances == at_t.balances
            pool = await create_pool(restored.url, 1, 1)
            try:
                report = await verify(pool)
            finally:
                pool.close()
                await pool.wait_closed()
            assert report.ok and report.entries == len(at_t.ledger_ids), report.to_json()
            assert isinstance(t, datetime)
        finally:
            restored.stop()
