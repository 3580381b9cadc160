"""The hub's pending and catch-up states, on in-memory transports: no gap and no duplicate on resume."""

from __future__ import annotations

from typing import Any

from pushd.hub import Conn, Hub


class Transport:
    """Collects what the hub writes (the hub only calls these three methods)."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.out.append(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


def _conn() -> tuple[Conn, Transport]:
    t = Transport()
    return Conn(transport=t, user_id=1, session="s"), t  # type: ignore[arg-type]


def _f(n: int) -> bytes:
    return f"frame-{n}".encode()


def _k(n: int) -> tuple[int, int]:
    return (n, 0)


def test_frames_kept_while_pending_are_flushed_past_what_the_recovery_covered() -> None:
    hub = Hub(max_buffer=1 << 20, max_pending=100)
    conn, t = _conn()
    hub.begin_pending(conn, "sport:a")
    for n in (4, 5, 6):
        hub.publish("sport:a", _k(n), _f(n))
    assert t.out == []
    assert hub.finish_pending(conn, "sport:a", _k(5), [b"replay-5"], reader_at=_k(6))
    hub.publish("sport:a", _k(7), _f(7))
    assert t.out == [b"replay-5", _f(6), _f(7)]


def test_a_node_whose_reader_is_behind_the_resume_point_repeats_nothing() -> None:
    """The client came from a node that was ahead: frames up to its offset are not sent again."""
    hub = Hub(max_buffer=1 << 20, max_pending=100)
    conn, t = _conn()
    other, t2 = _conn()
    hub.subscribe_live(other, "sport:a")
    hub.begin_pending(conn, "sport:a")
    assert hub.finish_pending(conn, "sport:a", _k(9), [b"replay-8", b"replay-9"], reader_at=_k(6))
    for n in (7, 8, 9, 10, 11):
        hub.publish("sport:a", _k(n), _f(n))
    assert t.out == [b"replay-8", b"replay-9", _f(10), _f(11)]
    assert t2.out == [_f(n) for n in (7, 8, 9, 10, 11)]
    assert conn in hub.live["sport:a"] and not hub.catchup


def test_unsubscribe_forgets_every_state() -> None:
    hub = Hub(max_buffer=1 << 20, max_pending=100)
    conn, t = _conn()
    hub.begin_pending(conn, "sport:a")
    hub.finish_pending(conn, "sport:a", _k(9), [], reader_at=_k(1))
    hub.unsubscribe(conn, "sport:a")
    hub.publish("sport:a", _k(10), _f(10))
    assert t.out == [] and not hub.has_subscribers("sport:a")


def test_pending_overflow_closes_the_socket_4008() -> None:
    closed: list[Any] = []
    hub = Hub(max_buffer=1 << 20, max_pending=3)
    conn, _ = _conn()
    hub.kick = lambda c, code, reason, grace=5.0: closed.append((c, code))  # type: ignore[method-assign]
    hub.begin_pending(conn, "sport:a")
    for n in range(5):
        hub.publish("sport:a", _k(n), _f(n))
    assert (conn, 4008) in closed
