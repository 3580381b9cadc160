"""Kill switches as data, and the rules that apply them (no I/O).

A ``Board`` is an immutable snapshot of every thrown switch. Placement asks it, leg by leg, whether
anything covers the bet (``check_bet``); signup asks whether signups are off (``check_signup``).
A switch owned by a master agent covers the players of that master's tree only: callers pass the
player's ``chain`` (its agent and that agent's master), and the board keeps house switches
(``owner None``) apart from tree ones so the common case needs no look-up of the chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.errors import Conflict, ValidationFailed

SCOPES = ("global", "sport", "league", "event", "market", "feature")
FEATURES = ("live_betting", "parlays", "signups")
MARKETS = ("h2h", "spreads", "totals")
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
# Plain words for messages people read (never a field name).
FEATURE_WORDS = {"live_betting": "Live betting", "parlays": "Parlays", "signups": "New sign-ups"}
MARKET_WORDS = {"h2h": "moneyline", "spreads": "spread", "totals": "total"}


@dataclass(frozen=True, slots=True)
class Switch:
    """One switch as stored: who owns it, what it covers, whether it is thrown, why, by whom and when."""

    id: int
    owner_id: int | None
    scope: str
    target: str
    suspended: bool
    reason: str
    changed_by: int
    changed_at: datetime

    def as_api(self) -> dict[str, object]:
        return {"id": self.id, "owner_id": self.owner_id, "scope": self.scope, "target": self.target,
                "suspended": self.suspended, "reason": self.reason, "changed_by": self.changed_by,
                "changed_at": self.changed_at.isoformat(), "label": label(self.scope, self.target)}


def label(scope: str, target: str) -> str:
    """What a switch covers, in plain words."""
    if scope == "global":
        return "All betting"
    if scope == "feature":
        return FEATURE_WORDS.get(target, target)
    if scope == "market":
        event, _, market = target.rpartition("/")
        return f"The {MARKET_WORDS.get(market, market)} market of event {event}"
    return f"{scope.capitalize()} {target}"


def validate_target(scope: str, target: str) -> str:
    """``target`` normalised for ``scope``, or 422 naming the problem in plain words."""
    target = target.strip()
    if scope not in SCOPES:
        raise ValidationFailed("Choose what to switch: global, sport, league, event, market or feature",
                               details={"scope": [f"Must be one of: {', '.join(SCOPES)}."]})
    if scope == "global":
        if target:
            raise ValidationFailed("A global switch covers everything; leave the target empty",
                                   details={"target": ["Must be empty for a global switch."]})
        return ""
    if scope == "feature":
        if target not in FEATURES:
            raise ValidationFailed("Choose a feature: live betting, parlays or sign-ups",
                                   details={"target": [f"Must be one of: {', '.join(FEATURES)}."]})
        return target
    if scope == "market":
        event, _, market = target.rpartition("/")
        if market not in MARKETS or not _KEY.match(event):
            raise ValidationFailed("Name a market as event id / market, for example e123/h2h",
                                   details={"target": ["Must be <event id>/<h2h|spreads|totals>."]})
        return target
    if not _KEY.match(target):
        raise ValidationFailed(f"Name the {scope} to switch (letters, digits, _ . : -)",
                               details={"target": [f"Must be a {scope} key of 1-100 characters."]})
    return target


class BettingSuspended(Conflict):
    """Betting is suspended on something the bet covers; ``details`` names the scope."""

    code, default_message = "betting_suspended", "Betting is suspended"


class SignupsSuspended(Conflict):
    """New accounts are switched off."""

    code, default_message = "signups_suspended", "New sign-ups are paused"


@dataclass(frozen=True, slots=True)
class Leg:
    """What the board needs to know about one leg of a bet."""

    sport: str
    league: str
    event_id: str
    market: str
    live: bool


@dataclass(frozen=True, slots=True)
class Board:
    """Every thrown switch at one moment, indexed by (scope, target) per owner (None: the house)."""

    version: int = 0
    thrown: dict[int | None, dict[tuple[str, str], Switch]] = field(default_factory=dict)

    @classmethod
    def of(cls, version: int, switches: Iterable[Switch]) -> Board:
        thrown: dict[int | None, dict[tuple[str, str], Switch]] = {}
        for s in switches:
            if s.suspended:
                thrown.setdefault(s.owner_id, {})[(s.scope, s.target)] = s
        return cls(version, thrown)

    @property
    def has_tree_switches(self) -> bool:
        """Does any master agent have a switch thrown (so the player's chain matters)?"""
        return any(owner is not None for owner in self.thrown)

    def applying(self, chain: Sequence[int]) -> list[Switch]:
        """Every thrown switch that applies to a player whose agents are ``chain``."""
        out = list(self.thrown.get(None, {}).values())
        for owner in chain:
            out += self.thrown.get(owner, {}).values()
        return out

    def _find(self, chain: Sequence[int], keys: Sequence[tuple[str, str]]) -> Switch | None:
        for owner in (None, *chain):
            table = self.thrown.get(owner)
            if table:
                for key in keys:
                    hit = table.get(key)
                    if hit is not None:
                        return hit
        return None

    def check_bet(self, bet_type: str, legs: Sequence[Leg], chain: Sequence[int] = ()) -> None:
        """Raise ``BettingSuspended`` naming the first switch that covers the bet or one of its legs."""
        if not self.thrown:
            return
        hit = self._find(chain, [("global", "")] + ([("feature", "parlays")] if bet_type == "parlay" else []))
        if hit is not None:
            raise _suspended(hit, None)
        for index, leg in enumerate(legs):
            keys = [("sport", leg.sport), ("league", leg.league), ("event", leg.event_id),
                    ("market", f"{leg.event_id}/{leg.market}")]
            if leg.live:
                keys.append(("feature", "live_betting"))
            hit = self._find(chain, keys)
            if hit is not None:
                raise _suspended(hit, index)

    def check_signup(self, chain: Sequence[int] = ()) -> None:
        """Raise ``SignupsSuspended`` when sign-ups are off for the house or the agent's tree."""
        hit = self._find(chain, [("feature", "signups")])
        if hit is not None:
            raise SignupsSuspended(f"New sign-ups are paused: {hit.reason}",
                                   details={"scope": hit.scope, "target": hit.target, "reason": hit.reason})


def _suspended(hit: Switch, index: int | None) -> BettingSuspended:
    what = label(hit.scope, hit.target)
    if hit.scope == "feature":
        message = f"{what} is switched off right now: {hit.reason}"
    elif hit.scope == "global":
        message = f"Betting is suspended: {hit.reason}"
    else:
        message = f"Betting is suspended on {what[0].lower()}{what[1:]}: {hit.reason}"
    details: dict[str, object] = {"scope": hit.scope, "target": hit.target, "reason": hit.reason,
                                  "house": hit.owner_id is None}
    if index is not None:
        details["selection"] = index
    return BettingSuspended(message, details=details)
