"""The frame budget: painting takes at most about a quarter of the GUI thread."""

from __future__ import annotations

from bpviz.views.frame_budget import FrameBudget


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frame(budget: FrameBudget, clock: Clock, cost_ms: float) -> int:
    budget.begin()
    clock.now += cost_ms / 1000
    return budget.end()


def test_cheap_frames_run_at_the_screen_rate():
    clock = Clock()
    budget = FrameBudget(16, clock=clock)
    for _ in range(20):
        assert frame(budget, clock, 1.0) == 16


def test_costly_frames_are_spaced_to_four_times_their_cost():
    clock = Clock()
    budget = FrameBudget(16, clock=clock)
    intervals = [frame(budget, clock, 10.0) for _ in range(5)]
    assert intervals == [40] * 5  # 10 ms of painting every 40 ms: a quarter of the thread
    # Painting gets cheaper again: the rate comes back, smoothly.
    later = [frame(budget, clock, 2.0) for _ in range(60)]
    assert later[0] < 40 and later == sorted(later, reverse=True)
    assert later[-1] == 16


def test_one_slow_frame_does_not_halve_the_rate_and_the_interval_is_bounded():
    clock = Clock()
    budget = FrameBudget(16, max_interval_ms=250, clock=clock)
    for _ in range(10):
        frame(budget, clock, 2.0)
    assert frame(budget, clock, 40.0) < 32
    for _ in range(40):
        last = frame(budget, clock, 1000.0)
    assert last == 250


def test_end_without_begin_keeps_the_interval():
    budget = FrameBudget(16, clock=Clock())
    assert budget.end() == 16
