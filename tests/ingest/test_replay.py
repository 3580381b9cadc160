"""Record a provider's answers to files, then play them back at a chosen speed."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import Poller
from ingest.providers.replay import Recorder, Replay
from ingest.providers.simulator import Simulator
from ingest.scheduler import Scheduler, Tiers

MARKETS = ("h2h", "spreads", "totals")
T0 = 1_800_000_000.0


async def test_replay_plays_back_what_was_recorded_at_the_chosen_speed(tmp_path: Path) -> None:
    now = [T0]
    recorder = Recorder(Simulator(seed=4, leagues=5, clock=lambda: now[0]), tmp_path)
    recorded = Poller(recorder, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000))
    await recorded.bootstrap()
    states = []
    for _ in range(6):
        await recorded.tick()
        states.append({k: dict(v) for k, v in recorded.state.items()})
        now[0] += 600
    await recorder.close()
    assert (tmp_path / "responses.jsonl").stat().st_size > 0

    clock = [50.0]
    replay = Replay(tmp_path, speed=10.0, clock=lambda: clock[0])
    assert replay.now_ms() == int(T0 * 1000)
    played = Poller(replay, Scheduler(Tiers(30, 300, 1800), MARKETS, 72 * 3_600_000))
    await played.bootstrap()
    assert set(played.leagues) == set(recorded.leagues)
    for i in range(6):
        await played.tick()
        assert played.state == states[i], f"tick {i}"
        clock[0] += 60  # 60 s at 10x = the 600 s the recording advanced per tick


async def test_replay_answers_nothing_before_the_first_recording_of_a_league(tmp_path: Path) -> None:
    (tmp_path / "responses.jsonl").write_bytes(
        b'{"t": 1000, "method": "sports", "league": "", "data": [{"key": "a_b", "title": "B"}]}\n'
        b'{"t": 5000, "method": "events", "league": "a_b", "data": [{"id": "x"}]}\n')
    clock = [0.0]
    replay = Replay(tmp_path, speed=1.0, clock=lambda: clock[0])
    assert await replay.sports() == [{"key": "a_b", "title": "B"}]
    assert await replay.events("a_b") == []
    clock[0] = 4.0
    assert await replay.events("a_b") == [{"id": "x"}]
