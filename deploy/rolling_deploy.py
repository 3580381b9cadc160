"""Rolling deploy of restapi and pushd nodes behind nginx, one node at a time, with no failed request.

For each node in turn:

1. mark it ``down`` in nginx's upstreams file and reload nginx: new requests and new sockets go to
   the other nodes, and nginx's old workers finish the requests they hold;
2. wait ``settle`` seconds for those old workers, then stop the node (SIGTERM through the stop
   command): restapi stops accepting and finishes its in-flight requests, pushd sends every socket a
   jittered ``reconnect`` hint over PUSHD_DRAIN_WINDOW and closes 1012, so clients resume on the
   others from their offsets;
3. start the node from the new release (the start command) and wait for its ``/readyz``;
4. put it back in the upstreams file and reload.

A rollback is the same roll with the previous release: migrations are expand/contract
(``python -m shared.migrate`` before the roll, ``shared.migcheck`` refuses a contract too early), so
the previous release's code runs on the new schema.

    python deploy/rolling_deploy.py --rest 10.0.1.11:8080,10.0.1.12:8080 --push 10.0.1.11:8081 \\
        --upstreams /etc/nginx/wagerbabe-upstreams.conf --reload "nginx -s reload" \\
        --stop "systemctl stop wagerbabe-{kind}@{port}" --start "systemctl start wagerbabe-{kind}@{port}"

``{kind}`` (restapi or pushd), ``{host}``, ``{port}`` and ``{release}`` are filled in the commands.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import aiohttp


@dataclass(frozen=True, slots=True)
class Node:
    """One restapi or pushd process, by the address nginx reaches it at."""

    kind: str
    host: str
    port: int

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


def upstreams_text(nodes: Sequence[Node], down: frozenset[Node] = frozenset()) -> str:
    """The upstreams file of deploy/nginx (wagerbabe_rest, wagerbabe_push) with ``down`` nodes marked."""
    def servers(kind: str) -> str:
        return "".join(f"    server {n.addr} max_fails=1 fail_timeout=5s{' down' if n in down else ''};\n"
                       for n in nodes if n.kind == kind)
    return (f"upstream wagerbabe_rest {{\n{servers('restapi')}    keepalive 32;\n}}\n"
            f"upstream wagerbabe_push {{\n    least_conn;\n{servers('pushd')}}}\n")


class Launcher(Protocol):
    """Stops a node and starts it from a release."""

    async def stop(self, node: Node) -> None: ...

    async def start(self, node: Node, release: str) -> None: ...


async def _run(command: str) -> None:
    proc = await asyncio.create_subprocess_exec(*shlex.split(command))
    if await proc.wait() != 0:
        raise RuntimeError(f"{command!r} exited with {proc.returncode}")


@dataclass
class CommandLauncher:
    """Stop/start through shell-free command templates (systemd units, supervisorctl, ...)."""

    stop_cmd: str
    start_cmd: str

    def _fill(self, template: str, node: Node, release: str = "") -> str:
        return template.format(kind=node.kind, host=node.host, port=node.port, release=release)

    async def stop(self, node: Node) -> None:
        await _run(self._fill(self.stop_cmd, node))

    async def start(self, node: Node, release: str) -> None:
        await _run(self._fill(self.start_cmd, node, release))


@dataclass
class Nginx:
    """The upstreams file nginx includes and the command that reloads it."""

    upstreams: Path
    reload_cmd: str

    async def apply(self, nodes: Sequence[Node], down: frozenset[Node]) -> None:
        self.upstreams.write_text(upstreams_text(nodes, down))
        await _run(self.reload_cmd)


async def wait_ready(node: Node, timeout: float) -> None:
    """Poll the node's ``/readyz`` until 200 (RuntimeError after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://{node.addr}/readyz") as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{node.kind} {node.addr} not ready after {timeout}s")


@dataclass
class Step:
    """What happened to one node."""

    node: Node
    seconds: float


@dataclass
class Report:
    """The roll: each node's time out of rotation, and the whole."""

    release: str
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0


async def roll(nodes: Sequence[Node], nginx: Nginx, launcher: Launcher, release: str, *, settle: float = 1.0,
               ready_timeout: float = 60.0, log: Callable[[str], None] = print,
               between: Callable[[], Awaitable[None]] | None = None) -> Report:
    """Restart every node from ``release``, one at a time, restapi first; pushd after."""
    report = Report(release)
    started = time.monotonic()
    order = [n for n in nodes if n.kind == "restapi"] + [n for n in nodes if n.kind == "pushd"]
    for node in order:
        t0 = time.monotonic()
        log(f"{node.kind} {node.addr}: out of rotation")
        await nginx.apply(nodes, frozenset({node}))
        await asyncio.sleep(settle)  # nginx's old workers finish what they hold on this node
        await launcher.stop(node)
        log(f"{node.kind} {node.addr}: stopped; starting {release}")
        await launcher.start(node, release)
        await wait_ready(node, ready_timeout)
        await nginx.apply(nodes, frozenset())
        await asyncio.sleep(settle)  # back in rotation before the next node leaves
        report.steps.append(Step(node, time.monotonic() - t0))
        log(f"{node.kind} {node.addr}: back in rotation after {report.steps[-1].seconds:.1f}s")
        if between is not None:
            await between()
    report.seconds = time.monotonic() - started
    return report


def _nodes(kind: str, spec: str) -> list[Node]:
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        host, _, port = item.rpartition(":")
        out.append(Node(kind, host or "127.0.0.1", int(port)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python deploy/rolling_deploy.py", description=__doc__.split("\n")[0])
    ap.add_argument("--rest", default="", help="restapi nodes, host:port,...")
    ap.add_argument("--push", default="", help="pushd nodes, host:port,...")
    ap.add_argument("--upstreams", required=True, type=Path, help="the upstreams file nginx includes")
    ap.add_argument("--reload", default="nginx -s reload", help="command that reloads nginx")
    ap.add_argument("--stop", required=True, help="command that stops a node (SIGTERM), e.g. systemctl stop ...")
    ap.add_argument("--start", required=True, help="command that starts a node from {release}")
    ap.add_argument("--release", default="", help="what --start runs (a folder, a tag), passed as {release}")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds for nginx's old workers after a reload")
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    nodes = _nodes("restapi", args.rest) + _nodes("pushd", args.push)
    if not nodes:
        ap.error("give --rest and/or --push nodes")
    report = asyncio.run(roll(nodes, Nginx(args.upstreams, args.reload), CommandLauncher(args.stop, args.start),
                              args.release, settle=args.settle, ready_timeout=args.ready_timeout))
    print(f"rolled {len(report.steps)} node(s) to {report.release or 'the new release'} in {report.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
