"""The live loss curve: batch Err per iteration, full training and test Err.

Follows strategy 2 of pyqtgraph's ``scrollingPlots.py``: NumPy buffers that
double when full and ``setData`` on the filled slice, with peak
downsampling and clip-to-view, so a million points stay interactive. The
finite check stays on because a diverging run produces inf and NaN.

Appending data never repaints: it stores into the buffers and marks the
plot dirty; a single-shot timer (about 60 Hz) applies the data, so a
thousand snapshots a second cost at most sixty ``setData`` calls.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .colors import format_number, scaled_font

__all__ = ["LossPlot"]

#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
TRAIN_COLOR = "#0072B2"
TEST_COLOR = "#D55E00"
#: Redraw interval (ms) of the throttled updates.
REDRAW_MS = 16
#: Batch Err is drawn as settled blocks of this many points plus a live tail.
BLOCK = 1 << 16


class _Series:
    """x and y values in NumPy buffers that double when full."""

    __slots__ = ("n", "x", "y")

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity, dtype=np.float64)
        self.y = np.empty(capacity, dtype=np.float64)
        self.n = 0

    def truncate(self, n: int) -> None:
        self.n = max(0, min(self.n, int(n)))

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        m = len(y)
        if m == 0:
            return
        need = self.n + m
        if need > self.x.shape[0]:
            cap = self.x.shape[0]
            while cap < need:
                cap *= 2
            for name in ("x", "y"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=np.float64)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.x[self.n : need] = x
        self.y[self.n : need] = y
        self.n = need

    def xs(self) -> np.ndarray:
        return self.x[: self.n]

    def ys(self) -> np.ndarray:
        return self.y[: self.n]


class LossPlot(QWidget):
    """Err against iteration: batch Err (faint), training and test Err (bold).

    Signals
    -------
    log_y_changed(bool)
        The log-y toggle changed (from the check box or :meth:`set_log_y`).
    """

    log_y_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font_scale = 1.0
        self._log_y = False
        self._formula = "Err = Σ(y−ŷ)²"
        self._batch = _Series()
        self._train = _Series()
        self._test = _Series()
        self._dirty = False
        self._has_test = False
        self._hovering = False

        self._widget = pg.PlotWidget()
        self._widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        pi = self._widget.getPlotItem()
        self._pi = pi
        pi.setDownsampling(mode="peak", auto=True)
        pi.setClipToView(True)
        pi.showGrid(x=True, y=True, alpha=0.3)
        pi.setMenuEnabled(True)
        pi.showButtons()
        pi.enableAutoRange()
        self._legend = pi.addLegend(offset=(-12, 12))
        self._batch_head = pi.plot()  # settled blocks of batch Err, no legend entry
        self._head_n = 0
        self._head_buffer: np.ndarray | None = None
        self._batch_curve = pi.plot(name="batch Err (per iteration)")
        self._train_curve = pi.plot(name="training Err (full set)")
        self._test_curve = pi.plot(name="test Err")
        for c in (self._batch_head, self._batch_curve, self._train_curve, self._test_curve):
            c.setSkipFiniteCheck(False)
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.enableAutoSIPrefix(False)
            # Grid lines at the labelled ticks only: the minor grid costs ~5 ms a frame.
            ax.setStyle(maxTickLevel=0)
        self._legend.removeItem(self._test_curve)
        self._test_curve.hide()
        self._cursor = pg.InfiniteLine(angle=90, movable=False)
        self._cursor.setZValue(-5)
        self._cursor.hide()
        pi.addItem(self._cursor, ignoreBounds=True)
        self._proxy = pg.SignalProxy(
            pi.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )

        self.readout = QLabel()
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setMinimumWidth(50)
        self.readout.setWordWrap(True)
        self._log_box = QCheckBox("log scale")
        self._log_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._log_box.setToolTip("Logarithmic Err axis (values ≤ 0 are not drawn)")
        self._log_box.toggled.connect(self.set_log_y)
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 0)
        header.addWidget(self.readout, 1)
        header.addWidget(self._log_box)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(header)
        lay.addWidget(self._widget, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)

        self._apply_palette()
        self._apply_fonts()
        self._update_readout()

    # -- public ----------------------------------------------------------------

    @property
    def plot_item(self) -> pg.PlotItem:
        """The pyqtgraph PlotItem (for exporters)."""
        return self._pi

    @property
    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph PlotWidget."""
        return self._widget

    @Slot(str)
    def set_loss_formula(self, text: str) -> None:
        """Title of the plot, e.g. ``"Err = Σ(y−ŷ)²"``."""
        self._formula = str(text)
        self._apply_title()

    def loss_formula(self) -> str:
        """The title text."""
        return self._formula

    @Slot(object)
    def show_snapshot(self, snapshot) -> None:
        """Append the snapshot's new batch Err and evaluations (no repaint yet).

        Batch Err m of ``new_losses`` belongs to iteration
        ``losses_from + m + 1``. When more points are held than
        ``losses_from`` (after a step back), the extra ones are dropped first;
        evaluations likewise with ``eval_from``.
        """
        lf = int(snapshot.losses_from)
        if self._batch.n > lf:
            self._batch.truncate(lf)
            self._dirty = True
        new = np.asarray(snapshot.new_losses, dtype=np.float64)
        if new.size:
            self._batch.append(lf + 1 + np.arange(new.size, dtype=np.float64), new)
            self._dirty = True
        ef = int(snapshot.eval_from)
        if self._train.n > ef:
            self._train.truncate(ef)
            self._test.truncate(ef)
            self._dirty = True
        its = np.asarray(snapshot.new_eval_iterations, dtype=np.float64)
        if its.size:
            tr = np.asarray(snapshot.new_train_err, dtype=np.float64)
            te = np.asarray(snapshot.new_test_err, dtype=np.float64)
            self._train.append(its, tr)
            self._test.append(its, te)
            if not self._has_test and np.any(np.isfinite(te)):
                self._has_test = True
            self._dirty = True
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    def append_losses(self, start: int, losses: np.ndarray) -> None:
        """Append batch Err values of iterations ``start + 1``, … (drops any beyond ``start``)."""
        if self._batch.n > start:
            self._batch.truncate(start)
        losses = np.asarray(losses, dtype=np.float64)
        self._batch.append(start + 1 + np.arange(losses.size, dtype=np.float64), losses)
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def flush(self) -> None:
        """Apply pending data to the curves now (tests, exporters)."""
        self._timer.stop()
        if not self._dirty:
            return
        self._dirty = False
        self._set_batch_data()
        for series, curve in ((self._train, self._train_curve), (self._test, self._test_curve)):
            if series.n:
                curve.setData(series.xs(), series.ys())
            else:
                curve.setData([], [])
        show_test = self._has_test
        if show_test != self._test_curve.isVisible():
            self._test_curve.setVisible(show_test)
            if show_test:
                self._legend.addItem(self._test_curve, "test Err")
            else:
                self._legend.removeItem(self._test_curve)
        if not self._hovering:
            self._update_readout()

    def _set_batch_data(self) -> None:
        """Hand the batch Err buffer to its two curves: a settled head and a live tail.

        ``setData`` rescans every point it is given (bounds, finite check), so
        a million points passed on every redraw cost milliseconds each time.
        The head holds whole blocks of :data:`BLOCK` points and is set again
        only when a block fills (or the buffer moves); the tail, the rest
        from the head's last point on, is set on every redraw. Both are views
        of the same buffer, drawn with the same pen.
        """
        b = self._batch
        n = b.n
        m = (n // BLOCK) * BLOCK
        if m != self._head_n or b.x is not self._head_buffer:
            if m:
                self._batch_head.setData(b.x[:m], b.y[:m])
            else:
                self._batch_head.setData([], [])
            self._head_n, self._head_buffer = m, b.x
        start = max(m - 1, 0)  # share one point so the line is unbroken
        if n > start:
            self._batch_curve.setData(b.x[start:n], b.y[start:n])
        else:
            self._batch_curve.setData([], [])

    def drawn_batch_points(self) -> int:
        """Batch Err points handed to the curves (head + tail, shared point once)."""
        head = self._head_n
        tail = 0 if self._batch_curve.getData()[0] is None else len(self._batch_curve.getData()[0])
        return head + tail - (1 if head and tail else 0)

    def is_dirty(self) -> bool:
        """True while appended data waits for the next redraw."""
        return self._dirty

    @Slot()
    def clear(self) -> None:
        """Forget every point."""
        self._batch.truncate(0)
        self._train.truncate(0)
        self._test.truncate(0)
        self._has_test = False
        self._dirty = True
        self.flush()

    def point_count(self) -> int:
        """Batch Err points held."""
        return self._batch.n

    def eval_count(self) -> int:
        """Evaluation points held (training and test Err)."""
        return self._train.n

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the batch Err x (iteration) and y (Err) held."""
        return self._batch.xs().copy(), self._batch.ys().copy()

    def eval_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the evaluation iterations, training Err and test Err."""
        return self._train.xs().copy(), self._train.ys().copy(), self._test.ys().copy()

    @Slot(bool)
    def set_log_y(self, on: bool) -> None:
        """Logarithmic Err axis; values ≤ 0 (and inf/NaN) are simply not drawn."""
        on = bool(on)
        if on == self._log_y:
            return
        self._log_y = on
        self._pi.setLogMode(x=False, y=on)
        self._pi.enableAutoRange()
        if self._log_box.isChecked() != on:
            self._log_box.blockSignals(True)
            self._log_box.setChecked(on)
            self._log_box.blockSignals(False)
        self.log_y_changed.emit(on)

    def log_y(self) -> bool:
        """True when the Err axis is logarithmic."""
        return self._log_y

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale all text (presenter mode)."""
        self._font_scale = max(float(f), 0.5)
        self._apply_fonts()

    def readout_text(self) -> str:
        """The text of the hover/latest-value readout."""
        return self.readout.text()

    # -- internals -------------------------------------------------------------

    def _apply_palette(self) -> None:
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        fg = pal.color(QPalette.ColorRole.Text)
        self._fg = fg
        self._widget.setBackground(bg)
        for name in ("left", "bottom"):
            ax = self._pi.getAxis(name)
            ax.setPen(pg.mkPen(fg))
            ax.setTextPen(pg.mkPen(fg))
        light = bg.lightnessF() >= 0.5
        batch = QColor(110, 110, 110, 120) if light else QColor(190, 190, 190, 120)
        self._batch_curve.setPen(pg.mkPen(batch, width=1))
        self._batch_head.setPen(pg.mkPen(batch, width=1))
        self._train_curve.setPen(pg.mkPen(TRAIN_COLOR, width=3))
        self._test_curve.setPen(pg.mkPen(TEST_COLOR, width=3, style=Qt.PenStyle.DashLine))
        legend_bg = QColor(bg)
        legend_bg.setAlpha(220)
        self._legend.setBrush(pg.mkBrush(legend_bg))
        self._legend.setPen(pg.mkPen(QColor(fg.red(), fg.green(), fg.blue(), 90)))
        self._legend.setLabelTextColor(fg)
        self._refresh_legend()
        self._cursor.setPen(
            pg.mkPen(
                QColor(fg.red(), fg.green(), fg.blue(), 110), width=1, style=Qt.PenStyle.DashLine
            )
        )
        self._apply_title()

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark)."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_legend"):
            self._apply_palette()
            self._apply_fonts()
        super().changeEvent(event)

    def _refresh_legend(self) -> None:
        # LegendItem.setLabelTextSize/Color only store the style; re-render the labels.
        for _, label in self._legend.items:
            label.setText(label.text)
        self._legend.updateSize()

    def _apply_title(self) -> None:
        fs = self._font_scale
        pt = 13.0 * fs
        fg = self._fg.name() if hasattr(self, "_fg") else None
        args = {"size": f"{pt:g}pt", "bold": True}
        if fg:
            args["color"] = fg
        self._pi.setTitle(self._formula, **args)
        height = int(pt * 2.0 + 10)
        self._pi.titleLabel.setMaximumHeight(height)
        self._pi.layout.setRowFixedHeight(0, height)

    def _apply_fonts(self) -> None:
        fs = self._font_scale
        tick = scaled_font(fs)
        label_pt = 12.0 * fs
        for name, text in (("bottom", "iteration"), ("left", "Err")):
            ax = self._pi.getAxis(name)
            ax.setTickFont(tick)
            ax.setLabel(text, **{"font-size": f"{label_pt:g}pt", "color": self._fg.name()})
        self._legend.setLabelTextSize(f"{11.0 * fs:g}pt")
        self._refresh_legend()
        self.readout.setFont(scaled_font(fs))
        self._log_box.setFont(scaled_font(fs))
        self._apply_title()

    def _nearest_eval(self, x: float) -> int | None:
        n = self._train.n
        if n == 0:
            return None
        xs = self._train.xs()
        j = int(np.searchsorted(xs, x))
        cands = [c for c in (j - 1, j) if 0 <= c < n]
        return min(cands, key=lambda c: abs(xs[c] - x))

    def _text_at(self, x: float | None) -> str:
        parts = []
        b = self._batch
        if x is None:
            if b.n == 0 and self._train.n == 0:
                return "No iterations yet"
            it = b.x[b.n - 1] if b.n else self._train.x[self._train.n - 1]
            prefix = "latest: "
        else:
            it = round(x)
            prefix = ""
        if b.n:
            j = int(np.clip(np.searchsorted(b.xs(), it), 0, b.n - 1))
            if x is not None and j > 0 and abs(b.x[j - 1] - it) < abs(b.x[j] - it):
                j -= 1
            it = b.x[j]
            parts.append(f"{prefix}iteration {int(it)}: batch Err = {format_number(b.y[j])}")
        e = self._nearest_eval(it)
        if e is not None:
            ev = f"training Err = {format_number(self._train.y[e])}"
            te = self._test.y[e]
            if np.isfinite(te) or self._has_test:
                ev += f", test Err = {format_number(te)}"
            if not parts:
                parts.append(f"{prefix}iteration {int(self._train.x[e])}: {ev}")
            else:
                at = int(self._train.x[e])
                parts.append(ev if at == int(it) else f"{ev} (at iteration {at})")
        return ";  ".join(parts)

    def _update_readout(self, x: float | None = None) -> None:
        self.readout.setText(self._text_at(x))

    def hover_at(self, x: float | None) -> str:
        """Show the readout for iteration ``x`` (None: the latest values); returns it."""
        if x is None:
            self._hovering = False
            self._cursor.hide()
        else:
            self._hovering = True
            self._cursor.setPos(round(x))
            self._cursor.show()
        self._update_readout(x)
        return self.readout.text()

    def _on_mouse_moved(self, args) -> None:
        pos: QPointF = args[0]
        vb = self._pi.vb
        if not vb.sceneBoundingRect().contains(pos) or (self._batch.n == 0 and self._train.n == 0):
            if self._hovering:
                self.hover_at(None)
            return
        self.hover_at(vb.mapSceneToView(pos).x())

    def leaveEvent(self, event: QEvent) -> None:
        """Back to the latest values when the mouse leaves."""
        if self._hovering:
            self.hover_at(None)
        super().leaveEvent(event)
