"""‖δ‖ of every layer against iteration, on a log scale.

Section 9 of the notes: with sigmoid σ′(u) ≤ ¼, δ shrinks layer by layer on
its way back (vanishing gradients); with too-large θ it grows (exploding).
One curve per neuron layer makes both visible at a glance.

Speed: the norms go into NumPy buffers (thinned by half when full); the
curves are set from them at most :data:`REDRAW_MS` apart by a single-shot
timer, or at once by :meth:`GradientPlot.flush`, and not at all while the
plot cannot be seen (a tab behind the loss plot): showing it flushes. The
view's auto-range is rounded outwards (x to a "nice" number, y to whole
decades) by an invisible item, so the axes, whose log-scale grid is costly
to draw, are kept as pixmaps that change only now and then.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtGui import QFont, QFontMetricsF, QPalette, QPen, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .auto_range import RangeHint, nice_ceil_fine
from .colors import LOW_PLOT_PX, legend_under_plot, place_legend, scaled_font, style_legend

__all__ = ["GradientPlot", "layer_delta_norms"]

#: Points kept per curve; older ones are thinned out beyond this.
MAX_POINTS = 4000
#: Columns of the legend under the plot ("layer 1  layer 2  layer 3  layer 4" …).
LEGEND_COLUMNS = 4
#: Shortest time (ms) between two redraws while snapshots stream in.
REDRAW_MS = 100
#: The title, whole, then shortened for a narrow plot or large text.
TITLES = ("‖δ‖ per layer: vanishing ↓, exploding ↑", "‖δ‖ per layer")
#: Title size (points) at text scale 1, and the width (pixels) it leaves for the axes.
TITLE_PT, TITLE_MARGIN_PX = 11.0, 90


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
        self.plot = pg.PlotWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.setLogMode(y=True)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setDownsampling(mode="peak", auto=True)
        item.setClipToView(True)
        for name in ("left", "bottom"):
            ax = item.getAxis(name)
            # No SI-prefix scaling: on a log axis pyqtgraph would scale the
            # exponents and label 1e7 as 1e-19 "(x1e+27)".
            ax.enableAutoSIPrefix(False)
            ax.setCacheMode(ax.CacheMode.DeviceCoordinateCache)
        self._range_hint = RangeHint()
        item.addItem(self._range_hint)
        # Under the plot: inside, it covered the layers' curves (and kept runs' ghosts).
        self._legend = legend_under_plot(item, LEGEND_COLUMNS)
        self._font_scale = 1.0
        # Refitted to the plot's own size: an export lays it out at its aspect ratio.
        self.plot.installEventFilter(self)
        self._curves: list[pg.PlotDataItem] = []
        self._apply_palette()
        # Row 0: iteration; row 1 + l: ‖δ‖ of curve l. Columns [0, _n) are filled.
        self._data = np.empty((1, MAX_POINTS))
        self._n = 0
        self._last_iteration = -1
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale all text (the window's text size)."""
        self._font_scale = max(float(f), 0.5)
        self._apply_fonts()

    def font_scale(self) -> float:
        """The current text scale."""
        return self._font_scale

    def _apply_palette(self) -> None:
        """The window's colours: the text colour on the base colour (light or dark theme)."""
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        self._fg = fg = pal.color(QPalette.ColorRole.Text)
        self.plot.setBackground(bg)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            item.getAxis(name).setPen(pg.mkPen(fg))
            item.getAxis(name).setTextPen(pg.mkPen(fg))
        style_legend(self._legend, bg, fg)
        n_layers = len(self._curves) + 1
        for l, curve in enumerate(self._curves, start=1):
            curve.setPen(self._curve_pen(l, n_layers))
        self._apply_fonts()

    def _curve_pen(self, l: int, n_layers: int) -> QPen:
        """Layer ``l``'s pen: viridis from the first layer to the output, its dark end
        left out on a dark background."""
        lo = 0.1 if self.palette().color(QPalette.ColorRole.Base).lightnessF() >= 0.5 else 0.3
        n = max(1, n_layers - 1)
        t = lo + (0.9 - lo) * (l - 1) / max(1, n - 1)
        return pg.mkPen(pg.colormap.get("viridis").map(t, mode="qcolor"), width=3)

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark)."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_legend"):
            self._apply_palette()
        super().changeEvent(event)

    def _apply_fonts(self) -> None:
        fs = self._font_scale
        item = self.plot.getPlotItem()
        color = self._fg.name()
        for name, text in (("bottom", "iteration"), ("left", "RMS of δ in layer l")):
            ax = item.getAxis(name)
            ax.setTickFont(scaled_font(fs))
            ax.setLabel(text, **{"font-size": f"{12.0 * fs:g}pt", "color": color})
        self._apply_title(force=True)
        # As the loss plot's compact legend: two columns fit a 720p window's dock.
        self._legend.setLabelTextSize(f"{9.5 * fs:g}pt")
        for _, label in self._legend.items:  # re-render the existing labels
            label.setText(label.text)
        self._legend.updateSize()
        self.fit_legend()

    def set_layers(self, n_layers: int) -> None:
        """Start afresh for a network with ``n_layers`` neuron layers (input included)."""
        item = self.plot.getPlotItem()
        for c in self._curves:
            item.removeItem(c)
        self._legend.clear()
        self._curves = []
        for l in range(1, n_layers):
            name = "output δ" if l == n_layers - 1 else f"layer {l}"
            curve = self.plot.plot([], [], pen=self._curve_pen(l, n_layers), name=name)
            # About one min/max pair per 1.5 pixels (pyqtgraph's default keeps ~5).
            curve.opts["autoDownsampleFactor"] = 1.5
            self._curves.append(curve)
        self.fit_legend()
        self.clear()

    def clear(self) -> None:
        """Forget all points."""
        self._data = np.empty((1 + len(self._curves), MAX_POINTS))
        self._n = 0
        self._last_iteration = -1
        self._dirty = False
        self._timer.stop()
        for c in self._curves:
            c.setData([], [])
        self._range_hint.set_bounds(None, None)

    def show_snapshot(self, snapshot: Any) -> None:
        """Add the snapshot's ‖δ‖ per layer (once per iteration; ignores half-walked ones).

        Only stores the values: the curves follow within :data:`REDRAW_MS`
        (or at :meth:`flush`).
        """
        if snapshot.iteration < self._last_iteration and self._n:
            # Stepped back or reset: drop the points after it.
            keep = int(np.searchsorted(self._data[0, : self._n], snapshot.iteration, side="right"))
            if keep != self._n:
                self._n = keep
                self._mark_dirty()
        if snapshot.iteration == self._last_iteration or (
            snapshot.phase is not None and not snapshot.phase.is_last
        ):
            self._last_iteration = snapshot.iteration
            return
        self._last_iteration = snapshot.iteration
        norms = layer_delta_norms(snapshot)
        if len(norms) != len(self._curves) or all(math.isnan(v) for v in norms):
            return
        if self._n == self._data.shape[1]:
            # Long runs: thin the history rather than slow down.
            half = self._data[:, : self._n : 2]
            self._n = half.shape[1]
            self._data[:, : self._n] = half
        col = self._data[:, self._n]
        col[0] = snapshot.iteration
        col[1:] = [v if v > 0 else math.nan for v in norms]
        self._n += 1
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Draw the stored points now (a hidden plot waits until it is shown)."""
        self._timer.stop()
        # A dock tabbed behind another can count as visible yet show nothing.
        if not self._dirty or not self.isVisible() or not self._on_screen():
            return
        self._dirty = False
        n = self._n
        x = self._data[0, :n]
        for c, ys in zip(self._curves, self._data[1:], strict=True):
            c.setData(x, ys[:n], connect="finite")
        self._update_range_hint()

    def _update_range_hint(self) -> None:
        n = self._n
        x = (0.0, nice_ceil_fine(max(float(self._data[0, n - 1]), 10.0))) if n else None
        y = None
        ys = self._data[1:, :n]
        with np.errstate(invalid="ignore", divide="ignore"):
            logs = np.log10(ys[np.isfinite(ys) & (ys > 0)])
        if logs.size:
            y = (math.floor(float(logs.min())), math.ceil(float(logs.max())))
            if y[0] == y[1]:
                y = (y[0] - 1, y[1] + 1)  # at least a decade around a single value
        self._range_hint.set_bounds(x, y)

    def _on_screen(self) -> bool:
        """True when some of the plot can be seen (its viewport is not hidden or covered)."""
        return not self.plot.viewport().visibleRegion().isEmpty()

    def is_dirty(self) -> bool:
        """True while stored points wait for the next redraw."""
        return self._dirty

    def showEvent(self, event: QShowEvent) -> None:
        """Draw what arrived while the plot was hidden."""
        super().showEvent(event)
        if self._dirty:
            QTimer.singleShot(0, self, self.flush)  # once the dock is laid out

    def _apply_title(self, force: bool = False) -> None:
        """The title, shortened when the whole one would not fit the plot's width.

        Set again only when it changes, or with ``force`` (new font size or colour).
        """
        font = QFont(self.font())
        font.setPointSizeF(TITLE_PT * self._font_scale)
        room = self.plot.width() - TITLE_MARGIN_PX
        title = next(
            (t for t in TITLES if QFontMetricsF(font).horizontalAdvance(t) <= room), TITLES[-1]
        )
        if force or title != self.title():
            self.plot.getPlotItem().setTitle(
                title, size=f"{TITLE_PT * self._font_scale:g}pt", color=self._fg.name()
            )

    def title(self) -> str:
        """The title shown now."""
        return self.plot.getPlotItem().titleLabel.text or ""

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the title; a tabbed dock coming to the front may only be resized: draw what waits."""
        super().resizeEvent(event)
        self._apply_title()
        self.fit_legend()
        if self._dirty:
            QTimer.singleShot(0, self, self.flush)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Fit the legend to the plot whenever the plot is resized."""
        if obj is self.plot and event.type() == QEvent.Type.Resize and hasattr(self, "_legend"):
            self.fit_legend()
        return super().eventFilter(obj, event)

    def fit_legend(self) -> None:
        """Lay the legend out under the plot (see :func:`~bpviz.views.colors.place_legend`)."""
        low = self.plot.height() < LOW_PLOT_PX * max(self._font_scale, 1.0)
        place_legend(self.plot.getPlotItem(), self.plot.width() - 16, LEGEND_COLUMNS, low)

    def point_count(self) -> int:
        """Iterations plotted."""
        return self._n

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the iterations (n,) and of ‖δ‖ per curve (n_curves, n) held."""
        return self._data[0, : self._n].copy(), self._data[1:, : self._n].copy()
