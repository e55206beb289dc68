"""The live loss curve: batch Err per iteration, full training and test Err, per sample.

The engine's Err (the notes' Err = Σ(y−ŷ)²) is a sum over the samples it is
computed on: the iteration's batch, the whole training set, the whole test
set. Sums over different N cannot share an axis (a test set a quarter the
size of the training set would look four times better), so every curve is
drawn as Err/N (:mod:`bpviz.engine.per_sample`), the batch's each divided by
its own batch's N (the last batch of an epoch may be smaller). The legend
names each curve's N; the readout gives the engine's sum, its N and the
value per sample.

Follows strategy 2 of pyqtgraph's ``scrollingPlots.py``: NumPy buffers that
double when full and ``setData`` on the filled slice, with peak
downsampling and clip-to-view, so a million points stay interactive. The
finite check stays on because a diverging run produces inf and NaN.

Appending data never repaints: it stores into the buffers and marks the
plot dirty; a single-shot timer (about 60 Hz) applies the data, so a
thousand snapshots a second cost at most sixty ``setData`` calls.

While the view follows the data (auto-range), its range is rounded
outwards to "nice" values by an invisible item
(:class:`~bpviz.views.auto_range.RangeHint`), so it changes only now and
then rather than with every new point: between
changes the axes keep their cached pictures and the settled curves keep
their clipped, downsampled copies. The readout above the plot (the
iteration, then a line per curve: its Err, N and Err/N) changes at most
every :data:`READOUT_MS` ms.

The Err axis turns logarithmic by itself once the Err held spans more than
:data:`AUTO_LOG_SPAN` (two decades): on a linear axis a curve that fell from
1 to 0.001 is a spike at 0 and a flat line, and looks as if nothing is
learned any more. Once the user chooses (the check box, or the window's L
key through :meth:`LossPlot.choose_log_y`), the choice holds until
:meth:`LossPlot.clear` (a reset).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from ..engine import history
from ..engine.per_sample import (
    CURVE_NAMES,
    axis_label,
    curve_label,
    err_range_text,
    err_text,
    per_sample,
)
from .auto_range import RangeHint, nice_ceil_fine, nice_step
from .colors import (
    LOW_PLOT_PX,
    format_number,
    legend_under_plot,
    place_legend,
    scaled_font,
    style_legend,
)

__all__ = ["LossPlot"]

#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
TRAIN_COLOR = "#0072B2"
TEST_COLOR = "#D55E00"
#: Redraw interval (ms) of the throttled updates.
REDRAW_MS = 16
#: Batch Err is drawn as settled blocks of this many points plus a live tail.
BLOCK = 1 << 16
#: Likewise training and test Err (evaluated once an epoch, so fewer points).
EVAL_BLOCK = 1 << 12
#: While data streams in, training and test Err (new points once an epoch)
#: are redrawn at most this often (ms); batch Err follows every redraw.
EVAL_REDRAW_MS = 66
#: The "latest: …" readout changes at most this often (ms) while data streams in.
READOUT_MS = 250
#: The log-y range is rounded outwards to this fraction of a decade.
_LOG_STEP = 0.25
#: The axis turns logarithmic by itself once max Err / min Err (finite, > 0) exceeds this.
AUTO_LOG_SPAN = 100.0
#: In a plot lower than this (pixels; a dock on a 720-pixel screen) the legend is compact:
#: short labels in smaller text, so that it does not cover the curves it names.
COMPACT_LEGEND_BELOW = LOW_PLOT_PX
#: Columns of the legend under the plot, at most (fewer when the plot is narrow).
LEGEND_COLUMNS = 4
#: Legend labels: (full, compact), each followed by its N (:func:`~bpviz.engine.per_sample.
#: curve_label`). Compact ones leave out what the title and the y axis already say, so
#: that a kept run's entry still fits beside them at 720p.
_LEGEND_LABELS = CURVE_NAMES


def _y_extent(y: np.ndarray) -> tuple[float, float, float, float]:
    """(min, max) of the finite values and (min, max) of the finite positive ones (NaN: none)."""
    nan = math.nan
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return nan, nan, nan, nan
    positive = finite[finite > 0]
    lo, hi = float(finite.min()), float(finite.max())
    if positive.size == 0:
        return lo, hi, nan, nan
    return lo, hi, float(positive.min()), float(positive.max())


def _merge(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    """Union of two _y_extent results (NaN: no values)."""
    return (
        float(np.fmin(a[0], b[0])),
        float(np.fmax(a[1], b[1])),
        float(np.fmin(a[2], b[2])),
        float(np.fmax(a[3], b[3])),
    )


class _Row(NamedTuple):
    """One line of the readout: an Err, its N and its value per sample, each as (min, max).

    Exact values have min == max; an old stretch of a long run keeps ranges
    (each quantity its own: they need not come from one iteration).
    """

    name: str
    err: tuple[float, float]
    n: tuple[float, float]
    each: tuple[float, float]

    @property
    def exact(self) -> bool:
        return self.err[0] == self.err[1] and self.n[0] == self.n[1]

    def text(self, mean: bool, fmt=format_number) -> str:
        if self.exact or (self.err[0] != self.err[0]):  # (NaN: no range to speak of)
            return err_text(self.name, self.err[0], self.n[0], mean, fmt)
        return err_range_text(self.name, self.err, self.n, self.each, mean, fmt)


#: Readout row names' colours: those of the curves (the batch's is the muted text).
_ROW_COLORS = {"training": TRAIN_COLOR, "test": TEST_COLOR}


class _Reading(NamedTuple):
    """What the readout says: which iteration(s), a row per curve, and a note."""

    head: str
    rows: list[_Row]
    note: str

    def text(self, mean: bool) -> str:
        """Plain text: the batch on the head's line, the full sets on the next."""
        lines = []
        batch = [r for r in self.rows if r.name == "batch"]
        sets = [r for r in self.rows if r.name != "batch"]
        first = f"{self.head}:"
        if batch:
            lines.append(f"{first} {batch[0].text(mean)}")
        evals = ", ".join(r.text(mean) for r in sets)
        if evals and self.note:
            evals += f" ({self.note})"
        if evals:
            lines.append(evals if lines else f"{first} {evals}")
        return "\n".join(lines)

    def html(self, mean: bool) -> str:
        """A row per curve, worded as :meth:`text` words it, the names lined up.

        "training  Err/N = 19.7/160 = 0.1231": the engine's Err over its N,
        and the value per sample the curve draws.
        """
        out = ['<table cellspacing="0" cellpadding="0">']
        for r in self.rows:
            colour = _ROW_COLORS.get(r.name)
            name = f'<span style="color: {colour}">{r.name}</span>' if colour else r.name
            rest = r._replace(name="").text(mean)
            out.append(f'<tr><td>{name}</td><td style="padding-left: 8px">{rest}</td></tr>')
        out.append("</table>")
        if self.note:
            out.append(f"<div>({self.note})</div>")
        return "".join(out)


class _Readout(QLabel):
    """The readout's first line (which iteration); ``table`` below follows its visibility.

    The first line stays level with the log box; the table (a line per curve:
    its Err, N and Err/N) takes the plot's whole width beneath both.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(50)
        self.setWordWrap(True)
        self.table = QLabel()
        self.table.setTextFormat(Qt.TextFormat.RichText)
        self.table.setMinimumWidth(50)

    def setVisible(self, visible: bool) -> None:
        """Show or hide the table with it (presenter mode hides the readout)."""
        super().setVisible(visible)
        self.table.setVisible(visible and bool(self.table.text()))


def _quiet_bounds(item: pg.PlotDataItem) -> None:
    """Let new data in ``item`` leave the view's auto-range alone.

    Every ``setData`` tells the view that the item's bounds changed, and the
    view then asks every item for its bounds before the next paint. The
    :class:`~bpviz.views.auto_range.RangeHint` holds the data's bounds
    (rounded) and tells the view itself when they change, so the curves need
    not; only in the "visible data only" mode, where the hint stands aside,
    do they.
    """

    def make(target):
        loud = target.informViewBoundsChanged

        def inform() -> None:
            vb = target.getViewBox()
            if vb is not None and any(vb.state.get("autoVisibleOnly", (False, False))):
                loud()

        return inform

    item.informViewBoundsChanged = make(item)
    item.curve.informViewBoundsChanged = make(item.curve)


class _Series:
    """x and y values in NumPy buffers that double when full (and the y extent held).

    Memory stays bounded as in the engine (:mod:`bpviz.engine.history`): the
    newest ``exact`` points are kept as they are; older ones are folded into
    buckets stored at the front of the same buffers as pairs ``(first x,
    max)``, ``(first x, min)``, the way pyqtgraph's peak downsampling draws a
    chunk, so the curve draws them like every point they stand for.
    ``n_pairs`` buffer entries hold the buckets, ``n_folded`` points are in
    them and ``counts`` says how many each holds; ``points`` is the number of
    values the series stands for (``n`` is the buffer entries used).

    ``low`` is the lowest length truncated to since it was last reset (by the
    curves that draw the series: values from there on may have changed).
    """

    __slots__ = (
        "_counts",
        "_extent",
        "chunk",
        "exact",
        "low",
        "max_buckets",
        "n",
        "n_folded",
        "n_pairs",
        "width",
        "x",
        "y",
    )

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity, dtype=np.float64)
        self.y = np.empty(capacity, dtype=np.float64)
        self.n = 0
        self.low = 0
        self._extent: tuple[float, ...] | None = (math.nan,) * 4
        self.exact, self.chunk = history.EXACT, history.CHUNK
        self.max_buckets = history.MAX_BUCKETS
        self.n_pairs = 0
        self.n_folded = 0
        self.width = 1
        self._counts = np.empty(0, dtype=np.int64)

    @property
    def points(self) -> int:
        """Values held, folded or not."""
        return self.n_folded + self.n - self.n_pairs

    def bucket_counts(self) -> np.ndarray:
        """Points in each bucket (a view)."""
        return self._counts[: self.n_pairs // 2]

    def truncate(self, n: int) -> None:
        """Keep the first ``n`` values (whole buckets only, inside the folded part)."""
        n = max(0, min(self.points, int(n)))
        if n >= self.n_folded:
            entries = self.n_pairs + n - self.n_folded
        else:
            ends = np.cumsum(self.bucket_counts())
            keep = int(np.searchsorted(ends, n, side="right"))
            self.n_pairs = 2 * keep
            self.n_folded = int(ends[keep - 1]) if keep else 0
            entries = self.n_pairs
        if entries != self.n:
            self.n = entries
            self.low = min(self.low, entries)
            self._extent = None  # recomputed when asked for

    def extent(self) -> tuple[float, ...]:
        """(min, max) of the finite y held and (min, max) of the finite positive ones."""
        if self._extent is None:
            self._extent = _y_extent(self.ys())
        return self._extent

    def _reserve(self, need: int) -> None:
        if need > self.x.shape[0]:
            cap = self.x.shape[0]
            while cap < need:
                cap *= 2
            for name in ("x", "y"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=np.float64)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        m = len(y)
        if m == 0:
            return
        if self._extent is not None:
            self._extent = _merge(self._extent, _y_extent(np.asarray(y, dtype=np.float64)))
        need = self.n + m
        self._reserve(need)
        self.x[self.n : need] = x
        self.y[self.n : need] = y
        self.n = need
        while self.n - self.n_pairs >= self.exact + self.chunk:
            width = min(self.width, self.chunk)
            self._fold((self.n - self.n_pairs - self.exact) // width * width, width)

    def append_buckets(self, first: np.ndarray, count: np.ndarray, lo, hi) -> None:
        """Add buckets (from a snapshot) after what is held: the exact points fold first."""
        m = len(first)
        if m == 0:
            return
        if self.n > self.n_pairs:
            self._fold(self.n - self.n_pairs, 1)  # each exact point a bucket of one
        x = np.repeat(np.asarray(first, dtype=np.float64), 2)
        y = np.empty(2 * m)
        y[0::2], y[1::2] = hi, lo
        if self._extent is not None:
            self._extent = _merge(self._extent, _y_extent(y))
        self._reserve(self.n + 2 * m)
        self.x[self.n : self.n + 2 * m] = x
        self.y[self.n : self.n + 2 * m] = y
        self._set_counts(self.n_pairs // 2, np.asarray(count, dtype=np.int64))
        self.n += 2 * m
        self.n_pairs = self.n
        self.n_folded += int(np.sum(count))
        self.width = max(self.width, int(np.max(count)))
        while self.n_pairs // 2 > self.max_buckets:
            self._merge()

    def _set_counts(self, at: int, counts: np.ndarray) -> None:
        need = at + counts.shape[0]
        if need > self._counts.shape[0]:
            grown = np.empty(max(need, 2 * self._counts.shape[0], 64), dtype=np.int64)
            grown[:at] = self._counts[:at]
            self._counts = grown
        self._counts[at:need] = counts

    def _fold(self, c: int, width: int) -> None:
        """Fold the oldest ``c`` exact points (a multiple of ``width``) into buckets."""
        p, m = self.n_pairs, c // width
        xs = self.x[p : p + c].reshape(m, width)
        ys = self.y[p : p + c].reshape(m, width)
        px = np.repeat(xs[:, 0], 2)
        py = np.empty(2 * m)
        py[0::2] = np.fmax.reduce(ys, axis=1)
        py[1::2] = np.fmin.reduce(ys, axis=1)
        tail_x, tail_y = self.x[p + c : self.n].copy(), self.y[p + c : self.n].copy()
        self._reserve(p + 2 * m + tail_x.shape[0])
        self.x[p : p + 2 * m], self.y[p : p + 2 * m] = px, py
        end = p + 2 * m + tail_x.shape[0]
        self.x[p + 2 * m : end], self.y[p + 2 * m : end] = tail_x, tail_y
        self._set_counts(p // 2, np.full(m, width, dtype=np.int64))
        self.n, self.n_pairs, self.n_folded = end, p + 2 * m, self.n_folded + c
        self.low = min(self.low, p)
        while self.n_pairs // 2 > self.max_buckets:
            self._merge()

    def _merge(self) -> None:
        """Merge neighbouring buckets pairwise (an odd last one stays); new ones get wider."""
        nb = self.n_pairs // 2
        m = nb // 2
        x = self.x[: 2 * nb].reshape(nb, 2)
        y = self.y[: 2 * nb].reshape(nb, 2)
        counts = self.bucket_counts()
        nx = x[0 : 2 * m : 2, 0].copy()
        hi = np.fmax(y[0 : 2 * m : 2, 0], y[1 : 2 * m : 2, 0])
        lo = np.fmin(y[0 : 2 * m : 2, 1], y[1 : 2 * m : 2, 1])
        nc = counts[0 : 2 * m : 2] + counts[1 : 2 * m : 2]
        keep = nb % 2
        last = (x[nb - 1].copy(), y[nb - 1].copy(), int(counts[nb - 1])) if keep else None
        new_pairs = 2 * (m + keep)
        tail_x = self.x[2 * nb : self.n].copy()
        tail_y = self.y[2 * nb : self.n].copy()
        self.x[0 : 2 * m : 2], self.x[1 : 2 * m : 2] = nx, nx
        self.y[0 : 2 * m : 2], self.y[1 : 2 * m : 2] = hi, lo
        self._counts[:m] = nc
        if last is not None:
            self.x[2 * m : 2 * m + 2], self.y[2 * m : 2 * m + 2] = last[0], last[1]
            self._counts[m] = last[2]
        end = new_pairs + tail_x.shape[0]
        self.x[new_pairs:end], self.y[new_pairs:end] = tail_x, tail_y
        self.n, self.n_pairs = end, new_pairs
        self.low = 0
        self.width *= 2

    def xs(self) -> np.ndarray:
        return self.x[: self.n]

    def ys(self) -> np.ndarray:
        return self.y[: self.n]


class _Columns:
    """Series with the same x, folded alike: the one drawn and the ones the readout names.

    Every operation goes to each series, so their buffers stay entry for
    entry in step (the same x, the same buckets): entry j of the drawn
    series (Err per sample) is entry j of the others (the engine's Err sum,
    N). In a bucket each holds its own min and max.
    """

    __slots__ = ("series",)

    def __init__(self, k: int) -> None:
        self.series = tuple(_Series() for _ in range(k))

    def __getitem__(self, c: int) -> _Series:
        return self.series[c]

    def truncate(self, n: int) -> None:
        for s in self.series:
            s.truncate(n)

    def append(self, x: np.ndarray, *ys: np.ndarray) -> None:
        for s, y in zip(self.series, ys, strict=True):
            s.append(x, y)

    def append_buckets(self, first, count, *lo_hi) -> None:
        """``lo_hi``: a (lo, hi) pair per series."""
        for s, (lo, hi) in zip(self.series, lo_hi, strict=True):
            s.append_buckets(first, count, lo, hi)


class _HeadTail:
    """A series drawn as two curves with one pen: settled blocks (head) and the rest (tail).

    ``setData`` rescans every point it is given (bounds, finite check,
    downsampling), so a long series passed on every redraw costs
    milliseconds each time. The head holds whole blocks of ``block`` points
    and is set again only when a block fills (or the data under it changed);
    it is cached as a pixmap, so repaints do not stroke it again. The tail,
    from the head's last point on, is set on every redraw. Both are views of
    the series' buffer.
    """

    def __init__(
        self, head: pg.PlotDataItem, tail: pg.PlotDataItem, block: int, cache_tail: bool = False
    ) -> None:
        self.head, self.tail, self.block = head, tail, block
        self.head_n = 0
        self._buffer: np.ndarray | None = None
        head.curve.setCacheMode(head.curve.CacheMode.DeviceCoordinateCache)
        if cache_tail:  # a tail redrawn less often than the plot is repainted
            tail.curve.setCacheMode(tail.curve.CacheMode.DeviceCoordinateCache)

    def set_data(self, s: _Series) -> None:
        n = s.n
        m = (n // self.block) * self.block
        if m != self.head_n or s.x is not self._buffer or s.low < self.head_n:
            if m:
                self.head.setData(s.x[:m], s.y[:m])
            else:
                self.head.setData([], [])
            self.head_n, self._buffer = m, s.x
        s.low = n
        start = max(m - 1, 0)  # share one point so the line is unbroken
        if n > start:
            self.tail.setData(s.x[start:n], s.y[start:n])
        else:
            self.tail.setData([], [])

    def drawn_points(self) -> int:
        """Points handed to the two curves (the shared point once)."""
        x = self.tail.getOriginalDataset()[0]  # as given, not as downsampled for display
        tail = 0 if x is None else len(x)
        return self.head_n + tail - (1 if self.head_n and tail else 0)

    def set_pen(self, pen) -> None:
        self.head.setPen(pen)
        self.tail.setPen(pen)

    def set_visible(self, on: bool) -> None:
        self.head.setVisible(on)
        self.tail.setVisible(on)


class LossPlot(QWidget):
    """Err/N against iteration: batch (faint), training and test set (bold).

    Signals
    -------
    log_y_changed(bool)
        The log-y toggle changed (from the check box, :meth:`set_log_y`,
        :meth:`choose_log_y` or by itself, see :data:`AUTO_LOG_SPAN`).
    """

    log_y_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font_scale = 1.0
        self._log_y = False
        self._log_chosen = False  # the user decided: no automatic switch until clear()
        self._formula = "Err = Σ(y−ŷ)²"
        # Drawn: Err per sample; beside it the engine's Err (a sum) and, for the batch, N.
        self._batch_cols = _Columns(3)  # per sample, Err, N
        self._train_cols = _Columns(2)  # per sample, Err
        self._test_cols = _Columns(2)
        self._batch = self._batch_cols[0]
        self._train = self._train_cols[0]
        self._test = self._test_cols[0]
        self._n_train = self._n_test = math.nan  # N of the training and test Err
        self._loss_mean = False  # the loss is a mean already: per sample = Err
        self._axis_text = axis_label(False)
        self._dirty = False  # anything waiting for a redraw
        self._batch_dirty = False
        self._eval_dirty = False
        self._eval_at = -math.inf  # when training/test Err were last handed to their curves
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
        # Under the plot, not over the curves (kept runs' ghosts run along the top).
        # Centred under the view box, as the title is above it; under the y axis too only
        # when it fits nowhere else (each entry names its N, and a 720p dock is narrow).
        self._legend = legend_under_plot(pi, LEGEND_COLUMNS)
        # The columns follow the plot's own width: an export lays it out at its aspect
        # ratio (bpviz.export) without resizing this widget.
        self._widget.installEventFilter(self)
        # Each series: settled blocks without a legend entry, then the live tail.
        self._batch_head = pi.plot()
        self._batch_curve = pi.plot(name=_LEGEND_LABELS["batch"][0])
        self._train_head = pi.plot()
        self._train_curve = pi.plot(name=_LEGEND_LABELS["train"][0])
        self._test_head = pi.plot()
        self._test_curve = pi.plot(name=_LEGEND_LABELS["test"][0])
        # Each curve's N as (min, max) (None: not known yet).
        self._legend_n: dict[str, tuple[float, float] | None] = dict.fromkeys(_LEGEND_LABELS)
        self._batch_lines = _HeadTail(self._batch_head, self._batch_curve, BLOCK)
        self._train_lines = _HeadTail(self._train_head, self._train_curve, EVAL_BLOCK, True)
        self._test_lines = _HeadTail(self._test_head, self._test_curve, EVAL_BLOCK, True)
        for c in (
            self._batch_head,
            self._batch_curve,
            self._train_head,
            self._train_curve,
            self._test_head,
            self._test_curve,
        ):
            c.setSkipFiniteCheck(False)
            # Peak-downsample to about one min/max pair per 1.5 pixels (pyqtgraph's
            # default keeps ~5 points a pixel): the same envelope, fewer to stroke.
            c.opts["autoDownsampleFactor"] = 1.5
            _quiet_bounds(c)
        for name in ("left", "bottom"):
            ax = pi.getAxis(name)
            ax.enableAutoSIPrefix(False)
            # Grid lines at the labelled ticks only: the minor grid costs ~5 ms a frame.
            ax.setStyle(maxTickLevel=0)
            # The axes (and their grid) change only with the range: keep them as
            # pixmaps rather than repaint them under every new point.
            ax.setCacheMode(ax.CacheMode.DeviceCoordinateCache)
        self._legend.setCacheMode(self._legend.CacheMode.DeviceCoordinateCache)
        self._compact_legend = False
        self._legend_keys = {
            self._batch_curve: "batch",
            self._train_curve: "train",
            self._test_curve: "test",
        }
        self._legend.removeItem(self._test_curve)
        self._test_lines.set_visible(False)
        self._range_hint = RangeHint()
        pi.addItem(self._range_hint)
        self._cursor = pg.InfiniteLine(angle=90, movable=False)
        self._cursor.setZValue(-5)
        self._cursor.hide()
        pi.addItem(self._cursor, ignoreBounds=True)
        self._proxy = pg.SignalProxy(
            pi.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )

        # The readout: which iteration (level with the log box), then a line per curve
        # with its Err, N and Err/N, as wide as the plot.
        self._readout_plain = ""
        self.readout = _Readout()
        self._log_box = QCheckBox("log scale")
        self._log_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._log_box.setToolTip("Logarithmic Err axis (values ≤ 0 are not drawn)")
        self._log_box.toggled.connect(self.choose_log_y)
        header = QGridLayout()
        header.setContentsMargins(8, 4, 8, 0)
        header.setVerticalSpacing(2)
        header.addWidget(self.readout, 0, 0)
        header.addWidget(self._log_box, 0, 1, Qt.AlignmentFlag.AlignTop)
        header.addWidget(self.readout.table, 1, 0, 1, 2)
        header.setColumnStretch(0, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(header)
        lay.addWidget(self._widget, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.redraw)
        self._readout_at = -math.inf
        self._readout_timer = QTimer(self)
        self._readout_timer.setSingleShot(True)
        self._readout_timer.timeout.connect(self._refresh_readout)

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
        ``losses_from + m + 1``; ``new_batch_sizes`` gives its N. When more
        points are held than ``losses_from`` (after a step back), the extra
        ones are dropped first; evaluations likewise with ``eval_from``. The
        curves get Err/N (see :mod:`bpviz.engine.per_sample`).
        """
        self._set_counts(int(snapshot.n_train), int(snapshot.n_test), bool(snapshot.loss_mean))
        mean = self._loss_mean
        lf = int(snapshot.losses_from)
        env = getattr(snapshot, "new_batch_envelope", None)
        if env is not None and len(env):
            # Values folded before they reached us: their buckets, then the exact ones.
            # The engine's columns: Err, N, Err per sample.
            self._batch_cols.truncate(int(env.first[0]) - 1)
            self._batch_cols.append_buckets(
                env.first,
                env.count,
                *((env.lo[:, c], env.hi[:, c]) for c in (2, 0, 1)),
            )
            self._batch_dirty = True
        if self._batch.points > lf:
            self._batch_cols.truncate(lf)
            self._batch_dirty = True
        new = np.asarray(snapshot.new_losses, dtype=np.float64)
        if new.size:
            sizes = np.asarray(snapshot.new_batch_sizes, dtype=np.float64)
            x = lf + 1 + np.arange(new.size, dtype=np.float64)
            self._batch_cols.append(x, per_sample(new, sizes, mean), new, sizes)
            self._batch_dirty = True
        ef = int(snapshot.eval_from)
        env = getattr(snapshot, "new_eval_envelope", None)
        if env is not None and len(env):
            start = ef - int(np.sum(env.count))
            for c, (cols, n) in enumerate(
                ((self._train_cols, self._n_train), (self._test_cols, self._n_test))
            ):
                lo, hi = env.lo[:, c], env.hi[:, c]
                cols.truncate(start)
                # N > 0 is one number per set: the bucket's extremes per sample are its
                # extremes over N.
                cols.append_buckets(
                    env.first,
                    env.count,
                    (per_sample(lo, n, mean), per_sample(hi, n, mean)),
                    (lo, hi),
                )
            if not self._has_test and np.any(np.isfinite(env.hi[:, 1])):
                self._has_test = True
            self._eval_dirty = True
        if self._train.points > ef:
            self._train_cols.truncate(ef)
            self._test_cols.truncate(ef)
            self._eval_dirty = True
        its = np.asarray(snapshot.new_eval_iterations, dtype=np.float64)
        if its.size:
            tr = np.asarray(snapshot.new_train_err, dtype=np.float64)
            te = np.asarray(snapshot.new_test_err, dtype=np.float64)
            self._train_cols.append(its, per_sample(tr, self._n_train, mean), tr)
            self._test_cols.append(its, per_sample(te, self._n_test, mean), te)
            if not self._has_test and np.any(np.isfinite(te)):
                self._has_test = True
            self._eval_dirty = True
        if self._batch_dirty or self._eval_dirty:
            self._dirty = True
            self._auto_log_y()
            self._schedule()

    def _set_counts(self, n_train: int, n_test: int, mean: bool) -> None:
        """N of the training and the test Err, and whether the loss is a mean already."""
        n_train_f = float(n_train) if n_train > 0 else math.nan
        if (n_train_f, float(n_test), mean) == (self._n_train, self._n_test, self._loss_mean):
            return
        if self._train.points and (n_train_f != self._n_train or n_test != self._n_test):
            # Other data without a reset (cannot happen in the window): start afresh.
            self._train_cols.truncate(0)
            self._test_cols.truncate(0)
        self._n_train, self._n_test, self._loss_mean = n_train_f, float(n_test), mean
        self._update_labels()

    def _schedule(self) -> None:
        """Redraw within REDRAW_MS (sooner than a later redraw for training/test Err)."""
        if not self._timer.isActive() or self._timer.remainingTime() > REDRAW_MS:
            self._timer.start(REDRAW_MS)

    def append_losses(self, start: int, losses: np.ndarray, sizes: np.ndarray | int = 1) -> None:
        """Append batch Err values of iterations ``start + 1``, … (drops any beyond ``start``).

        ``sizes``: the N of each (one number for all; by default 1, one sample each).
        """
        if self._batch.points > start:
            self._batch_cols.truncate(start)
        losses = np.asarray(losses, dtype=np.float64)
        sizes = np.broadcast_to(np.asarray(sizes, dtype=np.float64), losses.shape)
        x = start + 1 + np.arange(losses.size, dtype=np.float64)
        self._batch_cols.append(x, per_sample(losses, sizes, self._loss_mean), losses, sizes)
        self._batch_dirty = self._dirty = True
        self._auto_log_y()
        self._schedule()

    def _auto_log_y(self) -> None:
        """Log-y on once the Err held spans more than AUTO_LOG_SPAN (unless the user chose)."""
        if self._log_y or self._log_chosen:
            return
        ext = _merge(self._batch.extent(), self._train.extent())
        if self._has_test:
            ext = _merge(ext, self._test.extent())
        lo, hi = ext[2], ext[3]  # finite and positive
        if lo > 0 and hi / lo > AUTO_LOG_SPAN:
            self.set_log_y(True)

    @Slot()
    def flush(self) -> None:
        """Apply pending data to the curves and the readout now (tests, exporters)."""
        self._apply_pending(readout_now=True)

    @Slot()
    def redraw(self) -> None:
        """Do now what the redraw timer would do soon (a window's frame tick, say).

        Unlike :meth:`flush`, training and test Err and the readout keep their
        lower rates.
        """
        self._apply_pending(readout_now=False)

    def _apply_pending(self, readout_now: bool) -> None:
        self._timer.stop()
        if not self._dirty:
            return
        if self._batch_dirty:
            self._batch_dirty = False
            self._batch_lines.set_data(self._batch)
            self._update_labels()
        now = time.monotonic()
        eval_wait = self._eval_at + EVAL_REDRAW_MS / 1000.0 - now
        if self._eval_dirty and (readout_now or eval_wait <= 0):
            self._eval_dirty = False
            self._eval_at = now
            self._train_lines.set_data(self._train)
            self._test_lines.set_data(self._test)
        self._dirty = self._eval_dirty
        if self._dirty:
            # Training and test Err follow a little later: with the next batch Err
            # while snapshots keep coming (one repaint for both), else on their own.
            self._timer.start(math.ceil(max(eval_wait, 0.0) * 1000.0) + 3 * REDRAW_MS)
        self._update_range_hint()
        show_test = self._has_test
        if show_test != self._test_curve.isVisible():
            self._test_lines.set_visible(show_test)
            if show_test:
                self._legend.addItem(self._test_curve, self._legend_label("test"))
                self._refresh_legend()
            else:
                self._legend.removeItem(self._test_curve)
                self.fit_legend()
        if not self._hovering:
            if readout_now:
                self._refresh_readout()
            elif not self._readout_timer.isActive():
                # At most every READOUT_MS, and always once more after the last change.
                wait = self._readout_at + READOUT_MS / 1000.0 - time.monotonic()
                self._readout_timer.start(math.ceil(max(wait, 0.0) * 1000.0))

    @Slot()
    def _refresh_readout(self) -> None:
        self._readout_timer.stop()
        self._readout_at = time.monotonic()
        if not self._hovering:
            self._update_readout()

    def _update_range_hint(self) -> None:
        """Round the data's range outwards to nice values (see :mod:`.auto_range`)."""
        last = -math.inf
        for series in (self._batch, self._train):
            if series.n:
                last = max(last, float(series.x[series.n - 1]))
        x = (0.0, nice_ceil_fine(max(last, 10.0))) if math.isfinite(last) else None
        ext = _merge(self._batch.extent(), self._train.extent())
        if self._has_test:
            ext = _merge(ext, self._test.extent())
        y = None
        if self._log_y:
            lo, hi = ext[2], ext[3]
            if math.isfinite(lo) and math.isfinite(hi):
                y = (
                    math.floor(math.log10(lo) / _LOG_STEP) * _LOG_STEP,
                    math.ceil(math.log10(hi) / _LOG_STEP) * _LOG_STEP,
                )
        else:
            lo, hi = ext[0], ext[1]
            if math.isfinite(lo) and math.isfinite(hi):
                span = hi - lo
                if not math.isfinite(span):  # e.g. −1e308 … 1e308: leave y to the curves
                    y = None
                else:
                    step = nice_step(span if span > 0 else max(abs(hi), 1.0))
                    y = (math.floor(lo / step) * step, math.ceil(hi / step) * step)
                    if not all(math.isfinite(v) for v in y):
                        y = None
        self._range_hint.set_bounds(x, y)

    def drawn_batch_points(self) -> int:
        """Batch Err points handed to the curves (head + tail, shared point once)."""
        return self._batch_lines.drawn_points()

    def is_dirty(self) -> bool:
        """True while appended data waits for the next redraw."""
        return self._dirty

    @Slot()
    def clear(self) -> None:
        """Forget every point, and the user's log-y choice: back to a linear, automatic axis."""
        self._batch_cols.truncate(0)
        self._train_cols.truncate(0)
        self._test_cols.truncate(0)
        self._has_test = False
        self._log_chosen = False
        self.set_log_y(False)
        self._dirty = self._batch_dirty = self._eval_dirty = True
        self.flush()

    def point_count(self) -> int:
        """Batch Err values held (those folded into min/max buckets included)."""
        return self._batch.points

    def eval_count(self) -> int:
        """Evaluations held (training and test Err; folded ones included)."""
        return self._train.points

    def folded_count(self) -> int:
        """Batch Err values held as min/max buckets (the oldest of a long run)."""
        return self._batch.n_folded

    def latest_eval(self) -> tuple[int, float, float] | None:
        """The newest evaluation held: (iteration, training Err, test Err); None if none.

        The engine's Err, sums over :meth:`sample_counts` samples. After a
        step back it is the newest one left: evaluations of the iterations
        undone are dropped with them (see :meth:`show_snapshot`).
        """
        n = self._train.n
        if n == 0:
            return None
        tr, te = self._train_cols[1].y, self._test_cols[1].y
        return int(self._train.x[n - 1]), float(tr[n - 1]), float(te[n - 1])

    def sample_counts(self) -> tuple[float, float]:
        """N of the training and the test Err (NaN before the first snapshot)."""
        return self._n_train, self._n_test

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the batch x (iteration) and y (Err per sample) as drawn.

        A long run's oldest values come first as min/max pairs (see
        :class:`_Series`); a short run's are every value.
        """
        return self._batch.xs().copy(), self._batch.ys().copy()

    def batch_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the engine's batch Err and its N, entry for entry as :meth:`data`.

        In the min/max pairs of a long run's oldest values each holds its own
        min and max (Err, N, Err per sample need not come from one iteration).
        """
        return self._batch_cols[1].ys().copy(), self._batch_cols[2].ys().copy()

    def exact_from(self) -> int:
        """Entries of :meth:`data` held as min/max pairs (the rest are every value)."""
        return self._batch.n_pairs

    def eval_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the evaluation iterations, training and test Err per sample (as drawn)."""
        return self._train.xs().copy(), self._train.ys().copy(), self._test.ys().copy()

    def eval_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the engine's training and test Err, entry for entry as :meth:`eval_data`."""
        return self._train_cols[1].ys().copy(), self._test_cols[1].ys().copy()

    @Slot(bool)
    def set_log_y(self, on: bool) -> None:
        """Logarithmic Err axis; values ≤ 0 (and inf/NaN) are simply not drawn."""
        on = bool(on)
        if on == self._log_y:
            return
        self._log_y = on
        self._pi.setLogMode(x=False, y=on)
        self._update_range_hint()
        self._pi.enableAutoRange()
        if self._log_box.isChecked() != on:
            self._log_box.blockSignals(True)
            self._log_box.setChecked(on)
            self._log_box.blockSignals(False)
        self.log_y_changed.emit(on)

    @Slot(bool)
    def choose_log_y(self, on: bool) -> None:
        """The user's choice of axis (check box, L key): no automatic switch until :meth:`clear`."""
        self._log_chosen = True
        self.set_log_y(on)

    def log_y(self) -> bool:
        """True when the Err axis is logarithmic."""
        return self._log_y

    def log_y_chosen(self) -> bool:
        """True when the user chose the axis since the last :meth:`clear`."""
        return self._log_chosen

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale all text (presenter mode)."""
        self._font_scale = max(float(f), 0.5)
        self._apply_fonts()

    def set_log_toggle_visible(self, on: bool) -> None:
        """Show or hide the "log scale" tick box (a picture of the plot has none)."""
        self._log_box.setVisible(on)

    def readout_text(self) -> str:
        """The hover/latest-value readout as plain text (the batch, then the full sets)."""
        return self._readout_plain

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
        self._batch_lines.set_pen(pg.mkPen(batch, width=1))
        self._train_lines.set_pen(pg.mkPen(TRAIN_COLOR, width=3))
        self._test_lines.set_pen(pg.mkPen(TEST_COLOR, width=3, style=Qt.PenStyle.DashLine))
        style_legend(self._legend, bg, fg)
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

    def _legend_label(self, key: str) -> str:
        n = self._legend_n[key] or (None, None)
        return curve_label(key, *n, compact=self._compact_legend)  # "train N=160" when compact

    def _update_labels(self) -> None:
        """Legend entries with each curve's N, and the y axis, for the data held."""
        sizes = self._batch_cols[2]
        lo, hi = sizes.extent()[:2] if sizes.n else (math.nan, math.nan)
        n_train, n_test = self._n_train, self._n_test
        legend_n = {
            "batch": (lo, hi) if math.isfinite(lo) else None,
            "train": (n_train, n_train) if math.isfinite(n_train) else None,
            "test": (n_test, n_test) if n_test > 0 else None,
        }
        # One sample everywhere (the lecture's example): Err per sample is Err.
        all_one = n_train == 1 and not n_test > 1 and not hi > 1
        axis = axis_label(all_one, self._loss_mean)
        if self._compact_legend:  # a low plot has no room for "(per sample)"
            axis = axis.partition(" (")[0]
        if legend_n != self._legend_n:
            self._legend_n = legend_n
            self._refresh_legend()
        if axis != self._axis_text:
            self._axis_text = axis
            self._apply_axis_labels()

    def _refresh_legend(self) -> None:
        # LegendItem.setLabelTextSize/Color only store the style; re-render the labels.
        for sample, label in self._legend.items:
            key = self._legend_keys.get(sample.item)
            label.setText(self._legend_label(key) if key else label.text)
        # Shrink the card with its labels (updateSize only measures the items laid out).
        layout = self._legend.layout
        layout.invalidate()
        self._legend.resize(layout.preferredSize())
        layout.activate()
        self._legend.updateSize()
        self.fit_legend()

    def fit_legend(self) -> None:
        """Lay the legend out under the plot (see :func:`~bpviz.views.colors.place_legend`).

        An exported figure is laid out higher than a 720p dock: its legend
        stays centred under the view box.
        """
        low = self._widget.height() < COMPACT_LEGEND_BELOW * max(self._font_scale, 1.0)
        place_legend(self._pi, self._widget.width() - 16, LEGEND_COLUMNS, low)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Fit the legend to the plot's width whenever the plot is resized."""
        if obj is self._widget and event.type() == QEvent.Type.Resize:
            self.fit_legend()
        return super().eventFilter(obj, event)

    def resizeEvent(self, event) -> None:
        """A compact legend in a low plot (see COMPACT_LEGEND_BELOW)."""
        super().resizeEvent(event)
        compact = self._widget.height() < COMPACT_LEGEND_BELOW * max(self._font_scale, 1.0)
        if compact != self._compact_legend:
            self._compact_legend = compact
            self._update_labels()
            self._apply_fonts()

    def legend_labels(self) -> list[str]:
        """The legend's labels, as shown."""
        return [label.text for _, label in self._legend.items]

    def _apply_title(self) -> None:
        fs = self._font_scale
        pt = (11.0 if self._compact_legend else 13.0) * fs
        fg = self._fg.name() if hasattr(self, "_fg") else None
        args = {"size": f"{pt:g}pt", "bold": True}
        if fg:
            args["color"] = fg
        self._pi.setTitle(self._formula, **args)
        # pyqtgraph's title row is 30 px at any size; a low plot keeps just the line's.
        height = int(
            pt * (1.6 if self._compact_legend else 2.0) + (4 if self._compact_legend else 10)
        )
        self._pi.titleLabel.setMaximumHeight(height)
        self._pi.layout.setRowFixedHeight(0, height)

    def _apply_axis_labels(self) -> None:
        label_pt = 12.0 * self._font_scale
        for name, text in (("bottom", "iteration"), ("left", self._axis_text)):
            self._pi.getAxis(name).setLabel(
                text, **{"font-size": f"{label_pt:g}pt", "color": self._fg.name()}
            )

    def axis_text(self) -> str:
        """The y axis's label ("Err / N (per sample)"; "Err" when every N is 1)."""
        return self._axis_text

    def _apply_fonts(self) -> None:
        fs = self._font_scale
        tick = scaled_font(fs)
        for name in ("bottom", "left"):
            self._pi.getAxis(name).setTickFont(tick)
        self._apply_axis_labels()
        legend_pt = (9.0 if self._compact_legend else 11.0) * fs
        self._legend.setLabelTextSize(f"{legend_pt:g}pt")
        self._refresh_legend()
        # A low dock (720p) keeps its plot: the readout in smaller type, as the legend.
        font = scaled_font(fs * (0.85 if self._compact_legend else 1.0))
        self.readout.setFont(font)
        self.readout.table.setFont(font)
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

    def _eval_rows(self, e: int) -> list[_Row]:
        """Evaluation entry ``e``: the training (and test) row; an old stretch as ranges."""
        sets = [("training", self._train_cols, self._n_train)]
        if self._has_test or np.isfinite(self._test.y[e]):
            sets.append(("test", self._test_cols, self._n_test))
        if e < self._train.n_pairs:  # old evaluations, kept as min and max
            k = e - e % 2
            return [
                _Row(name, (c[1].y[k + 1], c[1].y[k]), (n, n), (c[0].y[k + 1], c[0].y[k]))
                for name, c, n in sets
            ]
        return [_Row(name, (c[1].y[e],) * 2, (n, n), (c[0].y[e],) * 2) for name, c, n in sets]

    def latest_eval_text(self, fmt=format_number) -> str | None:
        """The newest evaluation as the readout words it (the status bar's text); None if none.

        "training Err/N = 19.7/160 = 0.1231, test Err/N = …", numbers written by ``fmt``.
        """
        n = self._train.n
        if n == 0:
            return None
        return ", ".join(r.text(self._loss_mean, fmt) for r in self._eval_rows(n - 1))

    def _reading_at(self, x: float | None) -> _Reading | None:
        """What the readout says at iteration ``x`` (None: the latest values); None if no data.

        The iteration's batch Err, then the full sets' Err of the nearest
        evaluation, each with its N and its value per sample.
        """
        b = self._batch
        if x is None:
            if b.n == 0 and self._train.n == 0:
                return None
            it = b.x[b.n - 1] if b.n else self._train.x[self._train.n - 1]
            prefix = "latest: "
        else:
            it = round(x)
            prefix = ""
        rows: list[_Row] = []
        head = ""
        if b.n:
            j = int(np.clip(np.searchsorted(b.xs(), it), 0, b.n - 1))
            if x is not None and j > 0 and abs(b.x[j - 1] - it) < abs(b.x[j] - it):
                j -= 1
            it = b.x[j]
            each, err, n = (c.y for c in self._batch_cols.series)
            if j < b.n_pairs:  # an old stretch of a long run, kept as its min and max
                k = j - j % 2
                end = int(b.x[k + 2]) - 1 if k + 2 < b.n else int(it)
                head = f"iterations {int(it):,}–{end:,}"
                rows.append(
                    _Row("batch", (err[k + 1], err[k]), (n[k + 1], n[k]), (each[k + 1], each[k]))
                )
            else:
                head = f"iteration {int(it):,}"
                rows.append(_Row("batch", (err[j],) * 2, (n[j],) * 2, (each[j],) * 2))
        note = ""
        e = self._nearest_eval(it)
        if e is not None and e < self._train.n_pairs:
            k = e - e % 2
            rows += self._eval_rows(k)
            at = int(self._train.x[k])
            end = int(self._train.x[k + 2]) if k + 2 < self._train.n else at
            note = f"evaluations at iterations {at:,}–{end:,}"
        elif e is not None:
            rows += self._eval_rows(e)
            at = int(self._train.x[e])
            if not head:
                head = f"iteration {at:,}"
            elif at != int(it):  # evaluated once an epoch: say for which θ
                sets = " and ".join(r.name for r in rows if r.name != "batch")
                note = f"{sets} at iteration {at:,}"
        return _Reading(prefix + head, rows, note)

    def _text_at(self, x: float | None) -> str:
        """The readout as plain text: the batch on the first line, the full sets on the next."""
        reading = self._reading_at(x)
        if reading is None:
            return "No iterations yet"
        return reading.text(self._loss_mean)

    def _update_readout(self, x: float | None = None) -> None:
        reading = self._reading_at(x)
        if reading is None:
            self.readout.setText("No iterations yet")
            self.readout.table.setText("")
            self.readout.table.hide()
            self._readout_plain = "No iterations yet"
            return
        self.readout.setText(reading.head)
        self.readout.table.setText(reading.html(self._loss_mean))
        self.readout.table.setVisible(not self.readout.isHidden())
        self._readout_plain = reading.text(self._loss_mean)
        self.readout.table.setAccessibleDescription(self._readout_plain)

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
        return self.readout_text()

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
