"""Slow and greedy clients on pushd (issue 13): the WebSocket handshake's headers must arrive within
``PUSHD_HEADER_TIMEOUT`` (408, close), one address holds at most ``PUSHD_MAX_CONNS_PER_IP`` sockets
(429), and an upgraded socket is no longer subject to the header timeout."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pushd.app import create_app
from pushd.config import PushSettings
from pushd.front import PushRunner
from shared.config import load
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.helpers import served, slow_request

SLOW = min(10.0, 0.4 * TIMEOUT_FACTOR)
DEPLOY = ROOT / "deploy"
StartPush = Callable[..., Awaitable[int]]
UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Version: 13\r\n")


@pytest.fixture
async def start_push(push_env: dict[str, str]) -> AsyncIterator[StartPush]:
    """Start pushd as ``python -m pushd`` serves it (``shared.service.start_server``, with its limits)."""
    async with served() as serve:
        async def start(**overrides: Any) -> int:
            settings = load(PushSettings, push_env, port=0, node_id="slow", **overrides)
            return await serve(create_app(settings), settings.conn_limits(), PushRunner)

        yield start


async def test_a_handshake_trickling_its_headers_gets_408_and_is_closed(start_push: StartPush) -> None:
    port = await start_push(header_timeout=SLOW, max_conns_per_ip=0)
    results = await asyncio.gather(*(slow_request(port, UPGRADE, b"X-Slow: 1\r\n", SLOW / 8, 10 + 20 * SLOW)
                                     for _ in range(20)))
    for data, closed in results:
        assert closed and data.startswith(b"HTTP/1.1 408 "), data


async def test_an_open_websocket_outlives_the_header_timeout(start_push: StartPush) -> None:
    port = await start_push(header_timeout=SLOW, hello_timeout=60)
    async with aiohttp.ClientSession() as session, session.ws_connect(f"http://127.0.0.1:{port}/ws") as ws:
        # Past several header timeouts the socket is still open: a ping gets its pong.
        for _ in range(3):
            await asyncio.sleep(SLOW)  # lets the header timeout pass; the assertion is on the socket, not on time
            await ws.ping()
            assert not ws.closed


async def test_one_address_holds_at_most_its_cap_of_sockets(start_push: StartPush) -> None:
    port = await start_push(max_conns_per_ip=3, hello_timeout=60)
    async with aiohttp.ClientSession() as session:
        held = [await session.ws_connect(f"http://127.0.0.1:{port}/ws") for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"http://127.0.0.1:{port}/ws")
        assert refused.value.status == 429
        for ws in held:
            assert not ws.closed
            await ws.close()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key, crt = folder / "k.key", folder / "c.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=push.test",
                    "-keyout", str(key), "-out", str(crt), "-days", "1"], check=True, capture_output=True)
    return key, crt


def test_the_deploy_proxies_apply_the_same_limits_and_their_configs_load(tmp_path: Path) -> None:
    """nginx and HAProxy (the real binaries) accept the sample configs, which carry pushd's limits."""
    key, crt = _self_signed(tmp_path)
    (tmp_path / "c.pem").write_bytes(crt.read_bytes() + key.read_bytes())
    nginx_conf = (DEPLOY / "nginx-pushd.conf").read_text()
    for line in ("client_header_timeout 10s;", "client_body_timeout 10s;", "limit_conn pushd_per_addr 100;",
                 "limit_conn_status 429;"):
        assert line in nginx_conf
    site = (nginx_conf.replace("/etc/ssl/push.example.com.crt", str(crt))
            .replace("/etc/ssl/push.example.com.key", str(key)).replace("listen 443", "listen 127.0.0.1:18443"))
    if b"nginx/1.2" in subprocess.run(["nginx", "-v"], capture_output=True).stderr:
        site = site.replace("http2 off;", "")  # the directive exists from 1.25.1; HTTP/2 is off by default before
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                                         f"events {{}}\nhttp {{\n include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    haproxy_cfg = (DEPLOY / "haproxy-pushd.cfg").read_text()
    for line in ("timeout http-request 10s", "http-request deny deny_status 429 if { sc_conn_cur(0) gt 100 }"):
        assert line in haproxy_cfg
    (tmp_path / "h.cfg").write_text(haproxy_cfg.replace("/etc/haproxy/push.example.com.pem", str(tmp_path / "c.pem")))
    done = subprocess.run(["haproxy", "-c", "-f", str(tmp_path / "h.cfg")], capture_output=True, text=True)
    assert done.returncode == 0 and "Warnings were found" not in done.stderr + done.stdout, done.stderr
    # The proxies' limits are pushd's own defaults.
    defaults = load(PushSettings, {"REDIS_URL": "redis://x"})
    assert (defaults.header_timeout, defaults.body_timeout, defaults.max_conns_per_ip) == (10.0, 10.0, 100)
