"""The training process's loop on a fake clock: pace, tick length and snapshot rate.

:class:`~bpviz.training_process.TrainingLoop` reads the time only through the clock it is
given, and never sleeps: :meth:`~TrainingLoop.wait_time` says how long :func:`serve` may
wait for a command before the next tick. Here the clock is a number the test moves, so
every timing rule is checked exactly, whatever else the machine is doing. The engine is
real; only its speed is made up: each iteration advances the clock by a fixed cost.

How fast the real process trains, paces and shuts down is measured in
``benchmarks/pace.py``, not here (no wall-clock thresholds in tests).
"""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.experiment import Setup
from bpviz.training_process import (
    SNAPSHOT_INTERVAL,
    TICK_SECONDS,
    TrainingLoop,
)

#: A tiny, fast experiment: XOR's four points, 2-3-1 (as the GUI tests use).
SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)
#: How late an iteration at a set pace may come: one pace tick (10 ms) and an iteration.
LATE = 0.011
#: What one iteration costs on the fake clock unless a test says otherwise.
ITERATION_SECONDS = 100e-6


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Harness:
    """A TrainingLoop on a fake clock, with every report kept with the time it was sent.

    ``run_for`` does what :func:`serve` does while no command comes: wait as long as
    :meth:`TrainingLoop.wait_time` allows (the clock jumps), then tick.
    """

    def __init__(self, setup: Setup = SMALL, iteration_seconds: float = ITERATION_SECONDS):
        self.clock = FakeClock()
        self.iteration_seconds = iteration_seconds
        self.sent: list[tuple[float, str, object]] = []
        self.ticks: list[tuple[float, float, int]] = []  # (start, end, iterations)
        self.loop = TrainingLoop(self._send, clock=self.clock)
        self.loop.start(setup)

    def _send(self, kind: str, payload: object) -> None:
        self.sent.append((self.clock.t, kind, payload))
        if kind == "rebuilt":  # a new trainer: make its iterations take (fake) time
            trainer = self.loop._trainer
            run = trainer.run

            def timed_run(n: int) -> float:
                err = run(n)
                self.clock.t += n * self.iteration_seconds
                return err

            trainer.run = timed_run

    @property
    def iteration(self) -> int:
        return self.loop._trainer.iteration

    def run_for(self, seconds: float) -> None:
        end = self.clock.t + seconds
        while self.clock.t < end:
            wait = self.loop.wait_time()
            if wait is None:  # paused: serve waits for a command, however long
                self.clock.t = end
                return
            self.clock.t += wait
            start = self.clock.t
            done = self.loop.tick()
            self.ticks.append((start, self.clock.t, done))
            assert wait > 0 or done > 0, "a tick at full speed trained nothing"

    def mark(self) -> int:
        """A place in the reports: :meth:`snapshots` and :meth:`kinds` look from there on."""
        return len(self.sent)

    def snapshots(self, since: int = 0) -> list[tuple[float, int]]:
        """(time sent, iteration) of every snapshot sent since the mark ``since``."""
        return [(t, p.iteration) for t, kind, p in self.sent[since:] if kind == "snapshot"]

    def kinds(self, since: int = 0) -> list[str]:
        return [kind for _, kind, _ in self.sent[since:]]


# -- a set pace ----------------------------------------------------------------------------


def test_a_pace_of_20_a_second_trains_20_iterations_a_second_one_at_a_time():
    h = Harness()
    h.loop.set_pace(20)
    h.loop.play()
    t0, mark = h.clock.t, h.mark()
    h.run_for(10.0)
    assert h.iteration in (199, 200)  # 20 a second for 10 s
    shown = h.snapshots(mark)
    iterations = [i for _, i in shown]
    # One snapshot per iteration, each showing one iteration more: no bursts.
    assert iterations == list(range(1, h.iteration + 1))
    # Iteration k comes when it is due (t0 + k / 20), at most one pace tick late.
    late = np.array([t - (t0 + k / 20) for t, k in shown])
    assert late.min() >= 0
    assert late.max() <= LATE
    # Between iterations the loop only waits: a tick with nothing due sends nothing.
    assert h.kinds(mark) == ["snapshot"] * len(shown)


@pytest.mark.parametrize("pace", [4, 1])
def test_a_lecture_pace_shows_each_iteration_on_its_own(pace):
    h = Harness()
    h.loop.set_pace(pace)
    h.loop.play()
    t0, mark = h.clock.t, h.mark()
    h.run_for(3.0)
    shown = h.snapshots(mark)
    assert [i for _, i in shown] == list(range(1, 3 * pace + 1))
    gaps = np.diff([t0] + [t for t, _ in shown])
    assert np.all(np.abs(gaps - 1 / pace) <= LATE), gaps
    # Back to full speed while playing: hundreds of iterations within 0.1 s.
    h.loop.set_pace(0)
    assert h.loop.playing and h.loop.wait_time() == 0
    before = h.iteration
    h.run_for(0.1)
    assert h.iteration - before > 0.9 * 0.1 / ITERATION_SECONDS


def test_a_new_pace_counts_from_when_it_was_set():
    h = Harness()
    h.loop.play()
    h.run_for(0.05)  # full speed
    before, t0 = h.iteration, h.clock.t
    h.loop.set_pace(2)
    h.run_for(0.49)
    assert h.iteration == before  # the first iteration at 2 / s is due 0.5 s after the change
    h.run_for(0.02)
    assert h.iteration == before + 1
    assert h.snapshots()[-1][0] - t0 == pytest.approx(0.5, abs=LATE)


@pytest.mark.parametrize("pace", [20, 4])
def test_a_stall_does_not_make_a_set_pace_race_to_catch_up(pace):
    h = Harness()
    h.loop.set_pace(pace)
    h.loop.play()
    h.run_for(1.0)
    assert h.iteration == pace
    h.clock.t += 2.0  # the process was not scheduled for 2 s (a loaded machine)
    mark = h.mark()
    h.run_for(1.0)
    shown = h.snapshots(mark)
    assert np.all(np.diff([pace] + [i for _, i in shown]) == 1)  # one at a time
    # After the stall: one iteration at once, then the pace again (no burst of the
    # iterations the stall missed).
    gaps = np.diff([t for t, _ in shown])
    assert np.all(np.abs(gaps - 1 / pace) <= LATE), gaps
    assert h.iteration - pace <= pace + 1


def test_a_fast_pace_catches_up_a_slow_tick_and_keeps_its_rate():
    h = Harness()
    h.loop.set_pace(1000)
    h.loop.play()
    t0 = h.clock.t
    h.run_for(1.0)
    h.clock.t += 0.03  # one tick 30 ms late: within four ticks' worth, caught up
    h.run_for(1.0)
    # 1000 a second all along, the 30 ms of the stall included (within one tick's worth).
    assert abs(h.iteration - (h.clock.t - t0) * 1000) <= 1000 * (LATE + 0.001)
    # Snapshots still at most 60 a second.
    assert np.diff([t for t, _ in h.snapshots()[2:]]).min() >= SNAPSHOT_INTERVAL


def test_playing_again_after_a_pause_does_not_make_up_for_the_pause():
    h = Harness()
    h.loop.set_pace(4)
    h.loop.play()
    h.run_for(1.0)
    assert h.iteration == 4
    h.loop.pause()
    h.run_for(60.0)
    assert h.iteration == 4
    h.loop.play()
    h.run_for(0.26)
    assert h.iteration == 5


# -- full speed --------------------------------------------------------------------------


def test_full_speed_sends_60_snapshots_a_second_each_with_many_iterations():
    h = Harness()
    h.loop.play()
    h.run_for(0.1)  # the chunk size settles
    mark = h.mark()
    h.run_for(1.0)
    shown = h.snapshots(mark)
    times = np.array([t for t, _ in shown])
    gaps = np.diff(times)
    assert gaps.min() >= SNAPSHOT_INTERVAL  # at most 60 a second …
    assert gaps.max() <= SNAPSHOT_INTERVAL + 0.001  # … and not fewer (ticks end when one is due)
    assert 58 <= len(shown) <= 60
    per_snapshot = np.diff([i for _, i in shown])
    # Snapshots do not pace training: each carries about 1/60 s of iterations.
    assert per_snapshot.min() > 0.9 * SNAPSHOT_INTERVAL / ITERATION_SECONDS


@pytest.mark.parametrize("iteration_seconds", [ITERATION_SECONDS, 0.004])
def test_a_tick_lasts_about_10_ms_so_a_command_never_waits_longer(iteration_seconds):
    h = Harness(iteration_seconds=iteration_seconds)
    h.loop.play()
    h.run_for(0.5)
    lengths = np.array([end - start for start, end, _ in h.ticks])
    # A tick ends at its deadline (10 ms, sooner when a snapshot is due), overshooting by
    # at most one chunk of iterations: under 1 ms, or one iteration when that is longer.
    assert lengths.max() <= TICK_SECONDS + max(0.001, iteration_seconds)
    assert np.median(lengths) >= min(TICK_SECONDS, SNAPSHOT_INTERVAL) / 2


def test_a_paused_loop_trains_nothing_however_long_it_waits():
    h = Harness()
    h.loop.play()
    h.run_for(0.1)
    h.loop.pause()
    n, before = len(h.sent), h.iteration
    assert h.loop.wait_time() is None  # serve waits for the next command, for ever
    h.clock.t += 3600
    assert h.loop.tick() == 0
    assert h.iteration == before
    assert len(h.sent) == n


# -- configure commands that queued up are applied at once ---------------------------------


def test_configure_commands_of_one_setting_waiting_in_a_row_become_one_rebuild():
    import collections
    import queue

    from bpviz.training_process import coalesce_configures

    h = Harness()
    commands: queue.SimpleQueue = queue.SimpleQueue()
    for command in (
        ("configure", {"hidden": (5,)}),
        ("configure", {"hidden": (6,)}),
        ("configure", {"lr": 0.3}),  # another setting: done on its own, next
        ("configure", {"hidden": (7,)}),
    ):
        commands.put(command)
    pending: collections.deque = collections.deque()
    # A held-down spin box: only its last value waiting is applied, in one rebuild.
    merged = coalesce_configures({"hidden": (4,)}, commands, pending)
    assert merged == {"hidden": (6,)}
    assert list(pending) == [("configure", {"lr": 0.3})]
    assert coalesce_configures(pending.popleft()[1], commands, pending) == {"lr": 0.3}
    assert list(pending) == [("configure", {"hidden": (7,)})]
    h.sent.clear()
    h.loop.configure(merged)
    assert [kind for _t, kind, _p in h.sent].count("rebuilt") == 1
    assert h.loop._setup.hidden == (6,)


def test_other_commands_between_configures_keep_their_order():
    import collections
    import queue

    from bpviz.training_process import coalesce_configures

    commands: queue.SimpleQueue = queue.SimpleQueue()
    for command in (("play",), ("configure", {"hidden": (6,)})):
        commands.put(command)
    pending: collections.deque = collections.deque()
    assert coalesce_configures({"hidden": (5,)}, commands, pending) == {"hidden": (5,)}
    assert list(pending) == [("play",)]
    assert commands.get_nowait() == ("configure", {"hidden": (6,)})
