"""The rows the betting SQL returns, by name: each is built in one place, right after its query.

    PlacementOpen  bet_placement_open(...)  (sql/0015_placement_functions.sql), ``queries.OPEN_PLACEMENT``
    Bet            ``queries.BET_COLUMNS`` (``SELECT_OWN_BET``, ``SELECT_HISTORY``)
    LockedBet      ``queries.LOCK_BETS``: a Bet and its agent and sports
    SettleLeg      ``settlement.SELECT_LEG_RESULTS``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from shared.odds import LegResult


class PlacementOpen(NamedTuple):
    """The read half of a placement: the locked account, the new bet's id and time, the key's stored
    answer (if any) and the offers of every pick (a JSON array, see ``service.parse_offers``)."""

    status: str
    role: str
    agent_id: int | None
    min_wager_cents: int | None
    max_wager_cents: int | None
    credit_limit_cents: int
    balance_cents: int
    pending_risk_cents: int
    ledger_seq: int
    ledger_head: str
    accept_price_changes: str
    sport_caps: dict[str, int]
    bet_id: int
    placed_at: datetime
    request_hash: str | None
    response: dict[str, Any] | None
    offers: list[list[Any]]


class Bet(NamedTuple):
    """A bet as ``BET_COLUMNS`` reads it."""

    id: int
    user_id: int
    bet_type: str
    status: str
    stake_cents: int
    potential_payout_cents: int
    payout_cents: int | None
    placed_at: datetime
    settled_at: datetime | None
    regraded_at: datetime | None


class LockedBet(NamedTuple):
    """A bet locked ``FOR UPDATE`` by ``LOCK_BETS``."""

    id: int
    user_id: int
    bet_type: str
    status: str
    stake_cents: int
    potential_payout_cents: int
    payout_cents: int | None
    placed_at: datetime
    settled_at: datetime | None
    regraded_at: datetime | None
    agent_id: int | None
    sports: list[str]


class SettleLeg(NamedTuple):
    """What settling needs of a leg."""

    bet_id: int
    leg_no: int
    price: int
    result: LegResult
    league: str
