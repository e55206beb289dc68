"""A frame budget: repaint less often when painting would take the GUI thread's time.

The window repaints from the latest snapshot on a timer. On a slow machine a
frame (the views' updates and the paint that follows) can take long enough
that 60 frames a second would keep the GUI thread busy most of the time, and
the keyboard would lag. :class:`FrameBudget` keeps painting to about a quarter
of the GUI thread's time: it measures each frame's cost and stretches the
interval between frames to four times that cost (never shorter than the
screen's 16 ms, never longer than a quarter of a second). Training never waits
for frames: it runs in its own process.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["FrameBudget"]


class FrameBudget:
    """The interval between frames that keeps painting to ``share`` of the GUI thread.

    Call :meth:`begin` when a frame's work starts and :meth:`end` once it is
    painted; :attr:`interval_ms` is then the interval to use. The cost is the
    GUI thread's own CPU time (``time.thread_time``): time the machine spends
    on other programs is not the window's to save. It is smoothed (an
    exponential average over about eight frames), so one slow frame does not
    halve the frame rate.
    """

    def __init__(
        self,
        min_interval_ms: int = 16,
        max_interval_ms: int = 250,
        share: float = 0.25,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.min_interval_ms = min_interval_ms
        self.max_interval_ms = max_interval_ms
        self.share = share
        self.clock = clock
        self.cost_ms = 0.0  # smoothed cost of one frame
        self.interval_ms = min_interval_ms
        self._start: float | None = None

    def begin(self) -> None:
        """A frame's work starts now."""
        self._start = self.clock()

    def end(self) -> int:
        """The frame begun last is painted: update the smoothed cost; return the interval."""
        if self._start is None:
            return self.interval_ms
        cost = (self.clock() - self._start) * 1000.0
        self._start = None
        self.cost_ms = cost if self.cost_ms == 0 else self.cost_ms + (cost - self.cost_ms) / 8
        wanted = self.cost_ms / self.share
        self.interval_ms = int(min(self.max_interval_ms, max(self.min_interval_ms, wanted)))
        return self.interval_ms
