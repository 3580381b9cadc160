"""What a socket says: hello within the timeout, then sub/unsub/ping/refresh until it closes.

``pushd.front`` owns the bytes and calls in here with each complete frame.

Every client mistake is answered with an ``error`` frame (the socket stays open) or, for abuse
and failed authentication, a close code; none of them logs an exception.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from pushd import metrics
from pushd import protocol as p
from pushd.auth import Identity
from pushd.hub import Conn
from pushd.keys import NODE
from pushd.node import Node
from pushd.reader import REDIS_DOWN
from shared.errors import AppError, Unauthorized, Unavailable
from shared.web import json_response

log = logging.getLogger(__name__)

RATE_WINDOW = 10.0


async def ws_refused(request: web.Request) -> web.StreamResponse:
    """``GET /ws`` that ``pushd.front`` did not take: a draining node (503) or not a valid upgrade (400)."""
    node = request.app[NODE]
    if node.draining:
        return json_response({"error": "unavailable", "message": "Node is draining; reconnect elsewhere",
                              "details": {}}, status=503)
    return json_response({"error": "bad_request", "message": "This address takes WebSocket upgrades only "
                          "(RFC 6455, version 13)", "details": {}}, status=400)


def _close(node: Node, conn: Conn, code: int, reason: str) -> None:
    metrics.CLOSES.labels(str(code)).inc()
    node.hub.kick(conn, code, reason)


def hello_timeout(node: Node, conn: Conn) -> None:
    """No ``hello`` in time: say so and close 4001."""
    node.hub.send(conn, p.error_frame("auth_timeout", "No hello within the time allowed"))
    _close(node, conn, p.CLOSE_UNAUTHORIZED, "hello timeout")


def hello_binary(node: Node, conn: Conn) -> None:
    """A binary first frame: say so and close 4001."""
    node.hub.send(conn, p.error_frame("bad_frame", "Send JSON text frames, not binary"))
    _close(node, conn, p.CLOSE_UNAUTHORIZED, "hello required")


async def hello(node: Node, conn: Conn, data: bytes) -> None:
    """Authenticate the first frame, ``hello``; welcome the socket, or answer and close it."""
    try:
        cmd = p.parse(data, max_topics=node.settings.max_topics)
        if not isinstance(cmd, p.Hello):
            raise p.ProtocolError("auth_required", "Say hello with a token first", close=p.CLOSE_UNAUTHORIZED)
        identity = await _authenticate(node, cmd.token)
    except AppError as exc:  # ProtocolError, Unauthorized or Unavailable: answer, then close with its code
        if exc.status < 500:
            metrics.CLIENT_ERRORS.labels(exc.code).inc()
        node.hub.send(conn, p.error_frame(exc.code, exc.message,
                                          exc.req_id if isinstance(exc, p.ProtocolError) else None))
        _close(node, conn, exc.ws_close, exc.code)
        return
    if conn.closed:  # the client went away while we checked
        return
    conn.user_id, conn.session, conn.jti = identity.user_id, secrets.token_urlsafe(12), identity.jti
    node.hub.add(conn)
    _arm_expiry(node, conn, identity.expires_at)
    node.hub.subscribe_live(conn, f"user:{identity.user_id}")
    node.hub.send(conn, p.welcome_frame(conn.session, node.node_id, node.settings.ping_interval, identity.user_id,
                                        identity.expires_at))


async def _authenticate(node: Node, token: str) -> Identity:
    """``node.auth.authenticate``, with Redis being down raised as ``Unavailable`` like any other AppError."""
    try:
        return await node.auth.authenticate(token)
    except REDIS_DOWN as exc:
        log.warning("credentials check failed: %r", exc)
        raise Unavailable("Cannot check credentials right now; retry shortly") from None


def _arm_expiry(node: Node, conn: Conn, expires_at: float | None) -> None:
    """Close ``conn`` (4001 ``token_expired``) when its access token expires; replaces an earlier timer."""
    if conn.expiry is not None:
        conn.expiry.cancel()
        conn.expiry = None
    if expires_at is None:
        return
    loop = asyncio.get_running_loop()
    conn.expiry = loop.call_at(loop.time() + max(0.0, expires_at - time.time()), _expire, node, conn)


def _expire(node: Node, conn: Conn) -> None:
    conn.expiry = None
    if conn.closed:
        return
    metrics.CLIENT_ERRORS.labels("token_expired").inc()
    node.hub.send(conn, p.error_frame("token_expired", "Your access token expired: send refresh before it does, "
                                                       "or reconnect with new credentials and resume"))
    metrics.CLOSES.labels(str(p.CLOSE_UNAUTHORIZED)).inc()
    node.hub.kick(conn, p.CLOSE_UNAUTHORIZED, "token_expired")


async def _refresh(node: Node, conn: Conn, cmd: p.Refresh) -> None:
    """Move the socket to newer credentials of the same user (a new expiry, a new token to revoke)."""
    try:
        identity = await _authenticate(node, cmd.token)
    except (Unauthorized, Unavailable) as exc:  # the socket stays open on its current credentials
        raise p.ProtocolError(exc.code, exc.message, req_id=cmd.req_id) from None
    if identity.user_id != conn.user_id:
        raise p.ProtocolError("forbidden", "These credentials belong to another user", req_id=cmd.req_id)
    if conn.closed:
        return
    conn.jti = identity.jti
    _arm_expiry(node, conn, identity.expires_at)
    node.hub.send(conn, p.refreshed_frame(cmd.req_id, identity.expires_at))


def _error(node: Node, conn: Conn, exc: p.ProtocolError) -> None:
    metrics.CLIENT_ERRORS.labels(exc.code).inc()
    node.hub.send(conn, p.error_frame(exc.code, exc.message, exc.req_id, exc.topic))
    if exc.close:
        metrics.CLOSES.labels(str(exc.close)).inc()
        node.hub.kick(conn, exc.close, exc.code)


def on_binary(node: Node, conn: Conn) -> None:
    """A binary frame after hello: an error frame, the socket stays open."""
    _error(node, conn, p.ProtocolError("bad_frame", "Send JSON text frames, not binary"))


def over_rate(node: Node, conn: Conn) -> bool:
    """Count one client frame (text, or a WebSocket ping) in the socket's window: True past the limit."""
    now = time.monotonic()
    if now - conn.win_start > RATE_WINDOW:
        conn.win_start, conn.win_count, conn.win_subs = now, 0, 0
    conn.win_count += 1
    return conn.win_count > node.settings.max_client_frames


def on_text(node: Node, conn: Conn, data: bytes) -> Coroutine[Any, Any, None] | None:
    """Handle one text frame after hello; what needs Redis (sub, refresh) is returned to be awaited.

    Frames that need no I/O (ping, unsub, every mistake) are answered at once, so a socket costs
    no task unless it is subscribing or refreshing."""
    if over_rate(node, conn):
        _error(node, conn, p.ProtocolError("rate_limited", "Too many frames; slow down",
                                           close=p.CLOSE_RATE_LIMITED))
        return None
    try:
        cmd = p.parse(data, max_topics=node.settings.max_topics)
        if isinstance(cmd, p.Hello):
            raise p.ProtocolError("already_authenticated", "This socket already said hello")
        if isinstance(cmd, p.Ping):
            node.hub.send(conn, p.pong_frame(cmd.req_id))
        elif isinstance(cmd, p.Refresh):
            return _guarded(node, conn, _refresh(node, conn, cmd))
        elif isinstance(cmd, p.Unsub):
            _unsub(node, conn, cmd)
        else:
            # A sub may cost a snapshot read and send (85 KB for a big league): it has a budget of
            # its own within the frame budget, with the same answer when it is spent.
            conn.win_subs += 1
            if conn.win_subs > node.settings.max_client_subs:
                raise p.ProtocolError("rate_limited", "Too many sub frames; slow down", req_id=cmd.req_id,
                                      close=p.CLOSE_RATE_LIMITED)
            return _guarded(node, conn, _sub(node, conn, cmd))
    except p.ProtocolError as exc:
        _error(node, conn, exc)
    return None


async def _guarded(node: Node, conn: Conn, work: Coroutine[Any, Any, None]) -> None:
    """Run ``work``; a client mistake it raises becomes its error frame."""
    try:
        await work
    except p.ProtocolError as exc:
        _error(node, conn, exc)


def _unsub(node: Node, conn: Conn, cmd: p.Unsub) -> None:
    own = f"user:{conn.user_id}"
    if own in cmd.topics:
        raise p.ProtocolError("forbidden", "Your private topic cannot be unsubscribed", req_id=cmd.req_id,
                              topic=own)
    for topic in cmd.topics:
        node.hub.unsubscribe(conn, topic)
    node.hub.send(conn, p.unsubscribed_frame(cmd.req_id, list(cmd.topics)))


async def _sub(node: Node, conn: Conn, cmd: p.Sub) -> None:
    new = [t for t in cmd.topics if t not in conn.topics]
    if len(conn.topics) - 1 + len(new) > node.settings.max_topics:  # - 1: the private topic is free
        raise p.ProtocolError("too_many_topics", f"At most {node.settings.max_topics} topics per socket",
                              req_id=cmd.req_id)
    done: list[str] = []
    recovered: dict[str, bool] = {}
    epochs: dict[str, str] = {}
    for topic in cmd.topics:
        kind, name = p.split_topic(topic)
        try:
            if kind == "user":
                if name != str(conn.user_id):
                    raise p.ProtocolError("forbidden", "Only your own private topic", topic=topic)
                user_since = cmd.since.get(topic)
                if user_since is not None:
                    resumed = await node.recovery.resume_user(conn, topic, user_since)
                    if resumed is None:
                        return
                    recovered[topic] = resumed.recovered
                done.append(topic)
                continue
            sport = await node.recovery.sport_for(topic)
            epoch = node.reader.epochs.get(sport, "")
            since = cmd.since.get(topic)
            if node.hub.is_current(conn, topic) and (since is None or since.epoch == epoch):
                # Already subscribed and live: the socket is at the current offset, so there is
                # nothing to replay and no second snapshot to send.
                done.append(topic)
                recovered[topic] = True
                epochs[topic] = epoch
                continue
            result = await node.recovery.subscribe(conn, topic, sport, since)
        except p.ProtocolError as exc:
            exc.req_id, exc.topic = cmd.req_id, topic
            _error(node, conn, exc)
            continue
        if result is None:  # the socket went away while we read
            return
        done.append(topic)
        recovered[topic] = result.recovered
        epochs[topic] = result.epoch
    if done:
        node.hub.send(conn, p.subscribed_frame(cmd.req_id, done, recovered, epochs))
