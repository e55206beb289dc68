"""Auto-range that changes only now and then: shared by the loss and gradient plots.

A plot's auto-range is the union of its items' bounds. :class:`RangeHint`
is an invisible item whose bounds are the data's, rounded outwards to "nice"
values (:func:`nice_ceil_fine`, :func:`nice_step`): the range then stays put
while new points land inside it, and the axes (kept as pixmaps) are redrawn
only when it moves.
"""

from __future__ import annotations

import math
import sys

import pyqtgraph as pg
from PySide6.QtCore import QRectF

__all__ = ["NICE_MANTISSAS", "RangeHint", "nice_ceil_fine", "nice_step"]

#: Mantissas of a rounded-up range end (× a power of ten).
NICE_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil_fine(v: float) -> float:
    """The smallest "nice" number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ᵏ) ≥ v > 0.

    A subnormal ``v`` (a vanished δ, ~1e-320) counts as the smallest normal
    float, whose power of ten does not underflow to 0.
    """
    v = max(v, sys.float_info.min)
    p = 10.0 ** math.floor(math.log10(v))
    for m in NICE_MANTISSAS:
        if m * p >= v * (1 - 1e-12):
            return m * p
    return 10.0 * p


def nice_step(span: float) -> float:
    """A 1, 2 or 5 × 10ᵏ step of about a tenth of ``span`` > 0."""
    raw = max(span / 10.0, sys.float_info.min)
    p = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * p >= raw:
            return m * p
    return 10.0 * p


class RangeHint(pg.GraphicsObject):
    """An invisible item whose data bounds are the data's, rounded outwards.

    The view's auto-range is the union of its items' bounds; this one
    contains the curves, so the range follows these rounded bounds and stays
    put while new points land inside them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(self.GraphicsItemFlag.ItemHasNoContents)
        self._bounds: tuple = (None, None)

    def set_bounds(self, x: tuple[float, float] | None, y: tuple[float, float] | None) -> None:
        # Where it has no bounds (no finite data), the curves' own bounds decide,
        # and they may have changed: the view must look again.
        if (x, y) != self._bounds or x is None or y is None:
            self._bounds = (x, y)
            self.informViewBoundsChanged()

    def bounds(self) -> tuple:
        """(x range, y range) in view coordinates; None where it leaves the axis alone."""
        return self._bounds

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None):
        if orthoRange is not None:
            return None  # "visible data only": the curves' own bounds in that range decide
        return self._bounds[ax]

    def pixelPadding(self) -> float:
        # More than any curve's (half a 3 px pen), so theirs never reach past it.
        return 4.0

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, p, *args) -> None:
        pass
