"""‖δ‖ of every layer against iteration, on a log scale.

Section 9 of the notes: with sigmoid σ′(u) ≤ ¼, δ shrinks layer by layer on
its way back (vanishing gradients); with too-large θ it grows (exploding).
One curve per neuron layer makes both visible at a glance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

__all__ = ["GradientPlot", "layer_delta_norms"]

#: Points kept per curve; older ones are thinned out beyond this.
MAX_POINTS = 4000


def layer_delta_norms(snapshot: Any) -> list[float]:
    """‖δ_l‖ per neuron layer l ≥ 1, as the RMS over the batch and the layer's neurons.

    NaN where δ is not computed yet.
    """
    out = []
    for d in snapshot.delta[1:]:
        if d is None or d.size == 0:
            out.append(math.nan)
        else:
            out.append(float(np.sqrt(np.mean(np.square(d)))))
    return out


class GradientPlot(QWidget):
    """One curve of ‖δ_l‖ per layer, log-y, against iteration."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "iteration")
        item.setLabel("left", "RMS of δ in layer l")
        item.setTitle("‖δ‖ per layer: vanishing ↓ / exploding ↑ gradients")
        item.setLogMode(y=True)
        item.showGrid(x=True, y=True, alpha=0.25)
        self._legend = item.addLegend(offset=(10, 10))
        self._curves: list[pg.PlotDataItem] = []
        self._x: list[float] = []
        self._y: list[list[float]] = []
        self._last_iteration = -1

    def set_layers(self, n_layers: int) -> None:
        """Start afresh for a network with ``n_layers`` neuron layers (input included)."""
        item = self.plot.getPlotItem()
        for c in self._curves:
            item.removeItem(c)
        self._legend.clear()
        self._curves = []
        cmap = pg.colormap.get("viridis")
        n = max(1, n_layers - 1)
        for l in range(1, n_layers):  # noqa: E741
            color = cmap.map(0.1 + 0.8 * (l - 1) / max(1, n - 1), mode="qcolor")
            name = "output δ" if l == n_layers - 1 else f"layer {l}"
            curve = self.plot.plot([], [], pen=pg.mkPen(color, width=3), name=name)
            self._curves.append(curve)
        self.clear()

    def clear(self) -> None:
        """Forget all points."""
        self._x = []
        self._y = [[] for _ in self._curves]
        self._last_iteration = -1
        for c in self._curves:
            c.setData([], [])

    def show_snapshot(self, snapshot: Any) -> None:
        """Add the snapshot's ‖δ‖ per layer (once per iteration; ignores half-walked ones)."""
        if snapshot.iteration < self._last_iteration:
            # Stepped back or reset: drop the points after it.
            keep = int(np.searchsorted(np.asarray(self._x), snapshot.iteration, side="right"))
            self._x = self._x[:keep]
            self._y = [ys[:keep] for ys in self._y]
        if snapshot.iteration == self._last_iteration or (
            snapshot.phase is not None and not snapshot.phase.is_last
        ):
            self._last_iteration = snapshot.iteration
            return
        norms = layer_delta_norms(snapshot)
        if len(norms) != len(self._curves) or all(math.isnan(v) for v in norms):
            self._last_iteration = snapshot.iteration
            return
        self._last_iteration = snapshot.iteration
        self._x.append(float(snapshot.iteration))
        for ys, v in zip(self._y, norms, strict=True):
            ys.append(v if v > 0 else math.nan)
        if len(self._x) > MAX_POINTS:
            # Long runs: thin the history rather than slow down.
            self._x = self._x[::2]
            self._y = [ys[::2] for ys in self._y]
        x = np.asarray(self._x)
        for c, ys in zip(self._curves, self._y, strict=True):
            c.setData(x, np.asarray(ys), connect="finite")

    def point_count(self) -> int:
        """Iterations plotted."""
        return len(self._x)
