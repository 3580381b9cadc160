"""Fixtures of the kill switch tests: the betting book (reused) plus a sub-agent and its player."""

from __future__ import annotations

import pytest

from tests.restapi.betting.conftest import Book, book, client, redis, settings, sql  # noqa: F401

SUB_AGENT, SUB_PLAYER = 4, 13


@pytest.fixture
async def tree(book: Book) -> Book:  # noqa: F811
    """The book with agent1's sub-agent (4) and that sub-agent's player (13)."""
    await sql(book.dsn, "INSERT INTO users (id, login, role, agent_id, credit_limit_cents) VALUES "
                        "(4, 'sub1', 'agent', 2, 0), (13, 'p4', 'player', 4, 100000)")
    return book
