"""What the network outputs over the input plane, with the data on top.

For a 2-input network the view computes ŷ on a 64 × 64 grid from the
snapshot's θ with :func:`bpviz.engine.predict.predict` (never touching the
live network) and draws it as a heatmap: a diverging map centred on 0.5
for classification (blue = class 0, red = class 1, the same CET-D1 map as
θ and δ) and a sequential map (viridis) for regression. The map is drawn
muted (its colours mixed halfway with the background: paler on a light
theme, darker on a dark one; the colour bar too), the points in the map's
full colours: training points are filled circles ringed in the background
colour, test points rings outlined in the text colour, both coloured by
their label. So a point's label reads on any region, and a misclassified
point stands out (a strong red dot in a muted blue region). For
classification the ŷ = 0.5 contour (the decision boundary) is drawn too.

Recomputing is coalesced to about 15 times a second, however fast
snapshots arrive (the main window asks less often while training plays).
The decision boundary is traced by a vectorised marching-squares pass
(:func:`level_segments`, well under a millisecond on the 64 × 64 grid) and
drawn as one curve of segment pairs.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFontMetricsF, QPalette
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from ..engine.datasets import finite_range
from ..engine.predict import predict_layers
from .colors import DIVERGING_MAP, SymmetricScale, scaled_font
from .formulas import neuron_number

__all__ = ["OutputView", "level_segments"]

#: Heatmap resolution (cells per side).
GRID = 64
#: How much of the map's colour the region keeps (the rest is the background).
REGION_STRENGTH = 0.5
#: At most this many heatmap recomputations per second.
MAX_RATE_HZ = 15.0
#: Sequential map for regression outputs.
SEQUENTIAL_MAP = "viridis"
#: Thumbnails of the first hidden layer are drawn up to this many neurons ...
MAX_THUMBS = 16
#: ... when the view is at least this tall (pixels, times the font scale).
MIN_HEIGHT_FOR_THUMBS = 420
#: At most this many training points, and as many test points, are drawn; a
#: larger set is drawn as a random sample of this size, and the plot says so.
MAX_DRAWN_POINTS = 5000


#: The values a bounded output σ produces: the colour bar of a regression covers them.
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}

#: Colour-bar values larger than this (in magnitude) are given to pyqtgraph divided by a
#: power of two (exact), so that its differences (hi − lo, v − lo) and the products it
#: forms with them stay finite for targets near ±1e308; the ticks still read true values.
SAFE_MAGNITUDE = 1e300


def _bar_scale(lo: float, hi: float) -> float:
    """1, or the power of two that brings ``lo`` and ``hi`` within ±:data:`SAFE_MAGNITUDE`."""
    m = max(abs(lo), abs(hi))
    if m <= SAFE_MAGNITUDE:
        return 1.0
    return 2.0 ** math.ceil(math.log2(m / SAFE_MAGNITUDE))


def _tick_values(lo: float, hi: float, n: int = 5) -> list[float]:
    """``n`` evenly spaced values from ``lo`` to ``hi``, both exact, free of overflow.

    ``np.linspace`` forms hi − lo, which overflows for −1e308 … 1e308; a weighted
    mean of the two ends never leaves their range.
    """
    inner = [lo * (1 - k / (n - 1)) + hi * (k / (n - 1)) for k in range(1, n - 1)]
    return [lo, *(min(max(v, lo), hi) for v in inner), hi]


def _shared(colors: list[QColor], make) -> list:
    """One brush (or pen) per distinct colour, shared by the points that have it.

    pyqtgraph renders a symbol per distinct brush object: shared ones keep a
    class-coloured set of thousands of points to two renders.
    """
    made: dict[int, object] = {}
    out = []
    for c in colors:
        key = c.rgba()
        item = made.get(key)
        if item is None:
            item = made[key] = make(c)
        out.append(item)
    return out


def _sample(n: int, limit: int = MAX_DRAWN_POINTS) -> np.ndarray | slice:
    """Indices of at most ``limit`` of ``n`` points: all of them, or a fixed random sample."""
    if n <= limit:
        return slice(None)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


def level_segments(z: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The line z = ``level`` by marching squares, as segments (x, y), consecutive pairs.

    ``z`` is (rows, columns); x runs along columns and y along rows, in grid
    index units (point (i, j) is at x = j, y = i); crossings are linearly
    interpolated along the cell edges. A saddle cell (all four edges
    crossed) is split by the mean of its corners. Values must be finite.
    """
    z = np.asarray(z, dtype=np.float64)
    rows, cols = z.shape
    empty = np.zeros(0), np.zeros(0)
    if rows < 2 or cols < 2:
        return empty
    above = z > level
    ch = above[:, :-1] != above[:, 1:]  # horizontal edges (i, j)–(i, j+1) crossed
    cv = above[:-1, :] != above[1:, :]  # vertical edges (i, j)–(i+1, j) crossed
    # Per cell (i, j), its edges in the order top, right, bottom, left.
    cross = np.stack([ch[:-1, :], cv[:, 1:], ch[1:, :], cv[:, :-1]], axis=-1)
    count = cross.sum(axis=-1).ravel()
    cells = np.flatnonzero(count >= 2)
    if cells.size == 0:
        return empty
    ci, cj = np.divmod(cells, cols - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        top = (level - z[ci, cj]) / (z[ci, cj + 1] - z[ci, cj])
        bottom = (level - z[ci + 1, cj]) / (z[ci + 1, cj + 1] - z[ci + 1, cj])
        left = (level - z[ci, cj]) / (z[ci + 1, cj] - z[ci, cj])
        right = (level - z[ci, cj + 1]) / (z[ci + 1, cj + 1] - z[ci, cj + 1])
    fi, fj = ci.astype(np.float64), cj.astype(np.float64)
    px = np.stack([fj + top, fj + 1.0, fj + bottom, fj], axis=-1)
    py = np.stack([fi, fi + right, fi + 1.0, fi + left], axis=-1)
    flags = cross.reshape(-1, 4)[cells]
    n = count[cells]
    xs, ys = [], []
    two = np.flatnonzero(n == 2)
    if two.size:
        # Join the cell's two crossings (its first two crossed edges).
        order = np.argsort(~flags[two], axis=1, kind="stable")
        a, b = order[:, 0], order[:, 1]
        xs.append(np.column_stack([px[two, a], px[two, b]]).ravel())
        ys.append(np.column_stack([py[two, a], py[two, b]]).ravel())
    sad = np.flatnonzero(n == 4)
    if sad.size:
        si, sj = ci[sad], cj[sad]
        centre = (z[si, sj] + z[si, sj + 1] + z[si + 1, sj] + z[si + 1, sj + 1]) / 4
        # Centre on the top-left corner's side: top-left joins bottom-right, so
        # the line cuts off the top-right (top–right) and bottom-left
        # (bottom–left) corners; otherwise the top-left (top–left) and
        # bottom-right (bottom–right) ones.
        joined = (centre > level) == above[si, sj]
        for p, q in ((0, np.where(joined, 1, 3)), (2, np.where(joined, 3, 1))):
            xs.append(np.column_stack([px[sad, p], px[sad, q]]).ravel())
            ys.append(np.column_stack([py[sad, p], py[sad, q]]).ravel())
    return np.concatenate(xs), np.concatenate(ys)


class OutputView(QWidget):
    """The network's output ŷ over the input plane (2-input networks)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font_scale = 1.0
        self._dataset = None
        self._train_pick: np.ndarray | slice = slice(None)
        self._test_pick: np.ndarray | slice = slice(None)
        self._drawn_points = 0
        self._config: dict | None = None
        self._pending = None
        self._last_render = -math.inf
        self._heat: np.ndarray | None = None
        self._output_index = 0
        self._extent = (-1.0, 1.0, -1.0, 1.0)
        self._grid_X: np.ndarray | None = None
        self._show_hidden = True
        self.render_count = 0

        self._widget = pg.PlotWidget()
        self._widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        pi = self._widget.getPlotItem()
        self._pi = pi
        pi.setMenuEnabled(False)
        pi.setMouseEnabled(False, False)
        pi.hideButtons()
        pi.setAspectLocked(False)  # fill the dock: size matters more than true aspect
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setZValue(-10)
        pi.addItem(self._image)
        self._contour = pg.PlotCurveItem(pen=pg.mkPen("k", width=2), connect="pairs")
        self._contour.setParentItem(self._image)
        self._contour.setZValue(5)
        # level_segments() gives (column, row) grid indices; cell centres sit
        # half a pixel in from the image's corner.
        self._contour.setPos(0.5, 0.5)
        self._test_outer = pg.ScatterPlotItem(pxMode=True)
        self._test_inner = pg.ScatterPlotItem(pxMode=True)
        self._train_points = pg.ScatterPlotItem(pxMode=True)
        for z, item in enumerate((self._test_outer, self._test_inner, self._train_points)):
            item.setZValue(10 + z)
            # The data points stay put while the map under them changes: keep
            # them as pixmaps instead of painting every marker again.
            item.setCacheMode(item.CacheMode.DeviceCoordinateCache)
            pi.addItem(item)
        self._colorbar = pg.ColorBarItem(
            values=(0.0, 1.0),
            colorMap=pg.colormap.get(DIVERGING_MAP),
            interactive=False,
            colorMapMenu=False,
            width=18,
        )
        self._colorbar.setImageItem(self._image, insert_in=pi)
        self._colorbar.axis.enableAutoSIPrefix(False)
        # The axes read the inputs' true values: pyqtgraph would label x2 = 0.5 as
        # "500" with "(x0.001)" in the title, which a student reads as 500.
        for name in ("left", "bottom"):
            pi.getAxis(name).enableAutoSIPrefix(False)

        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self._stack = QStackedLayout()
        page = QWidget()
        page_lay = QVBoxLayout(page)
        page_lay.setContentsMargins(0, 0, 0, 0)
        page_lay.addWidget(self._widget, 1)
        self._thumbs = _HiddenThumbnails()
        page_lay.addWidget(self._thumbs)
        self._stack.addWidget(page)
        self._stack.addWidget(self.message)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._stack)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

        self._apply_palette()
        self._apply_fonts()
        self._update_mode()

    # -- public ----------------------------------------------------------------

    @property
    def plot_item(self) -> pg.PlotItem:
        """The pyqtgraph PlotItem (for exporters)."""
        return self._pi

    def set_data(self, dataset) -> None:
        """Show ``dataset``'s points (a :class:`bpviz.engine.datasets.Dataset`).

        Up to :data:`MAX_DRAWN_POINTS` training and as many test points are
        drawn; a larger set is drawn as a fixed random sample of that many,
        and the plot's title says how many of how many are shown.
        """
        self._dataset = dataset
        if dataset is not None:
            self._train_pick = _sample(len(dataset.X_train))
            self._test_pick = _sample(len(dataset.X_test))
        self._update_extent()
        self._update_points()
        self._update_mode()
        self._render_again()

    def set_network(self, config: dict) -> None:
        """Use the network described by ``Network.config()`` (sizes, activations, …)."""
        self._config = dict(config)
        self._heat = None
        self._pending = None
        self._image.clear()
        self._set_contour(None)
        self._output_index = min(self._output_index, int(self._config["sizes"][-1]) - 1)
        self._thumbs.set_network(self._config, self._show_hidden)
        self._update_mode()
        self._update_points()

    @Slot(bool)
    def set_show_hidden(self, on: bool) -> None:
        """Small maps of each first-hidden-layer neuron's output o_i (≤ 16 neurons)."""
        self._show_hidden = bool(on)
        if self._config is not None:
            self._thumbs.set_network(self._config, self._show_hidden)
            self._render_again()

    def hidden_maps(self) -> list[np.ndarray]:
        """The first hidden layer's o_i over the plane, as last drawn (empty if hidden)."""
        return self._thumbs.maps()

    def set_output_index(self, j: int) -> None:
        """Which output ŷ_j to map (networks with several outputs)."""
        self._output_index = max(0, int(j))
        self._update_mode()
        self._render_again()

    @Slot(object)
    def show_snapshot(self, snapshot) -> None:
        """Recompute the heatmap from the snapshot's θ (coalesced to ≤ 15 Hz)."""
        self._pending = snapshot
        if self._timer.isActive():
            return
        wait_ms = (self._last_render + 1.0 / MAX_RATE_HZ - time.monotonic()) * 1000.0
        if wait_ms <= 0:
            self.flush()
        else:
            self._timer.start(math.ceil(wait_ms))

    @Slot()
    def flush(self) -> None:
        """Render the pending snapshot now."""
        self._timer.stop()
        snap, self._pending = self._pending, None
        if snap is None:
            return
        self._render(snap)

    def is_supported(self) -> bool:
        """True when the network has 2 inputs (the map can be drawn)."""
        return self._config is not None and int(self._config["sizes"][0]) == 2

    def message_visible(self) -> bool:
        """True when the explanatory message is shown instead of the map."""
        return self._stack.currentIndex() == 1

    def message_text(self) -> str:
        """The text of the message page."""
        return self.message.text()

    def heatmap(self) -> np.ndarray | None:
        """The last computed ŷ grid, (GRID, GRID), row = x2, column = x1."""
        return None if self._heat is None else self._heat.copy()

    def extent(self) -> tuple[float, float, float, float]:
        """(x1_min, x1_max, x2_min, x2_max) of the mapped plane."""
        return self._extent

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale all text (presenter mode)."""
        self._font_scale = max(float(f), 0.5)
        self._apply_fonts()

    # -- internals -------------------------------------------------------------

    def _is_classification(self) -> bool:
        if self._dataset is not None:
            return self._dataset.task == "classification"
        if self._config is not None:
            return self._config.get("output_activation") in ("sigmoid", "softmax")
        return True

    def _levels(self) -> tuple[float, float]:
        """The colour bar's range: 0 … 1 for classification, else the targets' range.

        Remembered per dataset and output (a 10⁶-sample set is read once, not at
        every render).
        """
        if self._is_classification():
            return 0.0, 1.0
        ds, j = self._dataset, self._output_index
        out_act = (self._config or {}).get("output_activation")
        key = (id(ds), j, out_act)
        cached = getattr(self, "_levels_for", None)
        if cached is not None and cached[0] == key and cached[1] is ds:
            return cached[2]
        levels = 0.0, 1.0
        found = (
            None if ds is None or j >= ds.n_outputs else finite_range((ds.Y_train, ds.Y_test), j)
        )
        if found is not None:
            lo, hi = found
            # ŷ of a bounded output σ can be anywhere in its range: the bar covers it too
            # (one target y = 1 with a sigmoid output is 0 … 1, not 0.5 … 1.5).
            bounded = OUTPUT_RANGES.get(out_act)
            if bounded is not None:
                lo, hi = min(lo, bounded[0]), max(hi, bounded[1])
            if hi <= lo + 1e-9:  # (hi − lo would overflow for ±1e308)
                # Around the one value; wide enough not to vanish in rounding at 1e308.
                pad = max(0.5, abs(lo) * 1e-6)
                lo, hi = lo - pad, hi + pad
            levels = lo, hi
        self._levels_for = (key, ds, levels)
        return levels

    def _cmap(self) -> pg.ColorMap:
        """The map in full colour: the data points."""
        name = DIVERGING_MAP if self._is_classification() else SEQUENTIAL_MAP
        return pg.colormap.get(name)

    def region_cmap(self) -> pg.ColorMap:
        """The map mixed with the background: the ŷ region and its colour bar."""
        pos, colors = self._cmap().getStops(mode=pg.ColorMap.FLOAT)
        bg = self.palette().color(QPalette.ColorRole.Base)
        bg_rgba = np.array([bg.redF(), bg.greenF(), bg.blueF(), 1.0])
        pale = bg_rgba + (np.asarray(colors, dtype=np.float64) - bg_rgba) * REGION_STRENGTH
        pale[:, 3] = 1.0
        return pg.ColorMap(pos, np.round(pale * 255).astype(np.uint8))

    def _update_mode(self) -> None:
        cfg = self._config
        if cfg is None:
            self.message.setText("No network yet.")
            self._stack.setCurrentIndex(1)
            return
        n_in = int(cfg["sizes"][0])
        if n_in != 2:
            self.message.setText(
                f"The output map needs 2 inputs; this network has {n_in}.\n\n"
                "Choose a dataset with two inputs (x1, x2) to see ŷ over the plane."
            )
            self._stack.setCurrentIndex(1)
            return
        self._stack.setCurrentIndex(0)
        lo, hi = self._levels()
        scale = _bar_scale(lo, hi)
        self._colorbar.setColorMap(self.region_cmap())
        self._colorbar.setLevels((lo / scale, hi / scale))
        n_out = int(cfg["sizes"][-1])
        name = "ŷ" if n_out == 1 else f"ŷ{self._output_index + 1}"
        self._colorbar.axis.setLabel(name, **self._label_style())
        # Explicit ticks: pyqtgraph drops labels on a short bar with a large font.
        ticks = [(v / scale, f"{v:.3g}") for v in _tick_values(lo, hi)]
        axis = self._colorbar.axis
        axis.setTicks([ticks])
        # Its width is fixed by ColorBarItem: make room for the labels and the title.
        fm = QFontMetricsF(scaled_font(self._font_scale))
        text_w = max(fm.horizontalAdvance(t) for _, t in ticks)
        axis.setWidth(int(text_w + 1.6 * fm.height() + 14))
        self._contour.setVisible(self._is_classification())
        names = ("x1", "x2")
        if self._dataset is not None and self._dataset.n_inputs == 2:
            names = tuple(self._dataset.input_names)
        self._pi.setLabel("bottom", names[0], **self._label_style())
        self._pi.setLabel("left", names[1], **self._label_style())

    def _label_style(self) -> dict:
        return {"font-size": f"{12.0 * self._font_scale:g}pt", "color": self._fg.name()}

    def _update_extent(self) -> None:
        ds = self._dataset
        if ds is None or ds.n_inputs != 2:
            self._extent = (-1.0, 1.0, -1.0, 1.0)
        else:
            ranges = [finite_range((ds.X_train, ds.X_test), c) for c in (0, 1)]
            if None in ranges:
                self._extent = (-1.0, 1.0, -1.0, 1.0)
            else:
                lo, hi = np.array(ranges).T
                span = np.maximum(hi - lo, 1e-6)
                pad = np.maximum(span * 0.12, 0.1)
                lo, hi = lo - pad, hi + pad
                self._extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        x0, x1, y0, y1 = self._extent
        # Cell centres, so the heatmap covers [x0, x1] × [y0, y1] exactly.
        cx = x0 + (np.arange(GRID) + 0.5) * (x1 - x0) / GRID
        cy = y0 + (np.arange(GRID) + 0.5) * (y1 - y0) / GRID
        gx, gy = np.meshgrid(cx, cy)  # rows follow x2, columns x1
        self._grid_X = np.column_stack([gx.ravel(), gy.ravel()])
        self._image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self._pi.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _point_colors(self, Y: np.ndarray) -> list[QColor]:
        lo, hi = self._levels()
        cmap = self._cmap()
        j = min(self._output_index, Y.shape[1] - 1) if Y.ndim == 2 and Y.shape[1] else 0
        y = Y[:, j] if Y.ndim == 2 and Y.shape[1] else np.zeros(len(Y))
        # Halves first: y − lo and hi − lo would overflow for targets near ±1e308.
        t = np.clip((y / 2 - lo / 2) / (hi / 2 - lo / 2), 0.0, 1.0)
        t = np.where(np.isfinite(t), t, 0.5)
        # 256 steps, as fine as the colour bar, so a regression set shares a few
        # hundred brushes (see _shared) rather than one per point.
        t = np.round(t * 255.0) / 255.0
        return cmap.map(t, mode="qcolor")

    def _update_points(self) -> None:
        ds = self._dataset
        if ds is None or ds.n_inputs != 2:
            for item in (self._train_points, self._test_inner, self._test_outer):
                item.clear()
            self._drawn_points = 0
            self._pi.setTitle(None)
            return
        X_train, Y_train = ds.X_train[self._train_pick], ds.Y_train[self._train_pick]
        X_test, Y_test = ds.X_test[self._test_pick], ds.Y_test[self._test_pick]
        n_all = len(ds.X_train) + len(ds.X_test)
        n_drawn = len(X_train) + len(X_test)
        self._drawn_points = n_drawn
        if n_drawn < n_all:
            # Short enough for a 720p dock (about 230 px at 10 pt).
            self._pi.setTitle(
                f"random {n_drawn:,} of {n_all:,} shown",
                color=self._fg.name(),
                size=f"{10 * self._font_scale:g}pt",
            )
        else:
            self._pi.setTitle(None)
        few = n_all <= 50
        # Smaller markers in a small plot, so the map stays visible under them.
        fit = max(0.55, min(1.0, min(self._widget.width(), self._widget.height()) / 450.0))
        # Ringed in the background colour: the full-colour dot stands apart from
        # the pale region of the same hue and from its neighbours.
        outline = pg.mkPen(self.palette().color(QPalette.ColorRole.Base), width=2.0 if few else 1.5)
        colors = self._point_colors(Y_train)
        self._train_points.setData(
            x=X_train[:, 0],
            y=X_train[:, 1],
            size=(18 if few else 11) * fit * max(1.0, self._font_scale * 0.8),
            symbol="o",
            pen=outline,
            brush=_shared(colors, pg.mkBrush),
        )
        tcolors = self._point_colors(Y_test)
        size = (18 if few else 12) * fit * max(1.0, self._font_scale * 0.8)
        self._test_outer.setData(
            x=X_test[:, 0],
            y=X_test[:, 1],
            size=size + 3,
            symbol="o",
            pen=pg.mkPen(self._fg, width=5.5),
            brush=None,
        )
        self._test_inner.setData(
            x=X_test[:, 0],
            y=X_test[:, 1],
            size=size + 3,
            symbol="o",
            pen=_shared(tcolors, lambda c: pg.mkPen(c, width=3)),
            brush=None,
        )

    def _render_again(self) -> None:
        if getattr(self, "_last_snapshot", None) is not None:
            self._render(self._last_snapshot)

    def _render(self, snap) -> None:
        self._last_snapshot = snap
        if not self.is_supported() or self._grid_X is None:
            return
        cfg = self._config
        if snap.weights[0].shape[1] != 2 or len(snap.weights) != len(cfg["sizes"]) - 1:
            return
        try:
            outs = predict_layers(cfg, snap.weights, snap.biases, self._grid_X)
        except ValueError:
            return
        y_hat = outs[-1]
        if len(outs) > 2 and self._thumbs.wanted and self._thumbs.isVisible():
            self._thumbs.show_layer(outs[1], GRID, self._extent, cfg)
        j = min(self._output_index, y_hat.shape[1] - 1)
        heat = np.asarray(y_hat[:, j], dtype=np.float64).reshape(GRID, GRID)
        self._heat = heat
        lo, hi = self._levels()
        scale = _bar_scale(lo, hi)
        shown = np.where(np.isfinite(heat), heat, lo / 2 + hi / 2)  # no overflow at ±1e308
        # The heat map clipped to the bar's range, in the bar's units: the colours are
        # the same, and pyqtgraph's v − lo cannot overflow.
        shown = np.clip(shown, lo, hi) / scale
        self._image.setImage(shown, autoLevels=False, levels=(lo / scale, hi / scale))
        x0, x1, y0, y1 = self._extent
        self._image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        # fmin/fmax skip NaN quietly (all NaN gives NaN, and no contour) where
        # nanmin/nanmax would warn "All-NaN slice".
        if self._is_classification() and np.fmin.reduce(heat, axis=None) < 0.5 < np.fmax.reduce(
            heat, axis=None
        ):
            self._set_contour(shown)
        else:
            self._set_contour(None)
        self._last_render = time.monotonic()
        self.render_count += 1

    def _set_contour(self, grid: np.ndarray | None) -> None:
        """The ŷ = 0.5 line of ``grid`` (row = x2, column = x1), or none."""
        if grid is None:
            self._contour.setData(x=np.zeros(0), y=np.zeros(0), connect="pairs")
            return
        # Padding by the edge values extends the line to the map's border.
        x, y = level_segments(np.pad(grid, 1, mode="edge"), 0.5)
        rows, cols = grid.shape
        x = np.clip(x - 1.0, -0.5, cols - 0.5)
        y = np.clip(y - 1.0, -0.5, rows - 0.5)
        self._contour.setData(x=x, y=y, connect="pairs")

    def drawn_point_count(self) -> int:
        """Data points drawn (training and test; a sample of a large set)."""
        return self._drawn_points

    def contour_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """The decision boundary as drawn: x and y in grid cells, consecutive pairs."""
        x, y = self._contour.getData()
        if x is None:
            return np.zeros(0), np.zeros(0)
        return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)

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
        self._colorbar.axis.setPen(pg.mkPen(fg))
        self._colorbar.axis.setTextPen(pg.mkPen(fg))
        self._contour.setPen(pg.mkPen(fg, width=2.5))
        self.message.setStyleSheet("")

    def resizeEvent(self, event) -> None:
        """Marker sizes follow the plot size; hidden-layer maps need room."""
        super().resizeEvent(event)
        was = self._thumbs.isVisible()
        self._thumbs.fit_to(self.height())
        if self._thumbs.isVisible() and not was:
            self._render_again()
        if self._dataset is not None:
            self._update_points()

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark)."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_colorbar"):
            self._apply_palette()
            self._apply_fonts()  # re-runs _update_mode: the muted map follows the background
            self._update_points()
        super().changeEvent(event)

    def _apply_fonts(self) -> None:
        fs = self._font_scale
        font = scaled_font(fs)
        self._thumbs.set_font_scale(fs)
        for ax in (self._pi.getAxis("left"), self._pi.getAxis("bottom"), self._colorbar.axis):
            ax.setTickFont(font)
        self.message.setFont(scaled_font(fs, 3.0, bold=True))
        # Room above and below the plot for the colour bar's end labels.
        half_line = int(font.pointSizeF() * 0.8) + 4
        self._pi.layout.setContentsMargins(4, half_line, 8, 4)
        if self._config is not None:
            self._update_mode()
            self._update_points()


class _HiddenThumbnails(QWidget):
    """A row of small maps: o_i of each neuron of the first hidden layer over the plane.

    Shown for networks with a hidden layer of at most :data:`MAX_THUMBS`
    neurons. Colours use the diverging map on a symmetric scale shared by
    the row (centred on 0.5 for a sigmoid layer, on 0 otherwise), so the
    maps compare with each other.
    """

    def __init__(self) -> None:
        super().__init__()
        self._font_scale = 1.0
        self._title = QLabel()
        self._title.setContentsMargins(6, 2, 6, 0)
        self._layout = pg.GraphicsLayoutWidget()
        self._layout.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._layout.ci.setContentsMargins(2, 2, 2, 2)
        self._layout.ci.setSpacing(4)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self._title)
        lay.addWidget(self._layout)
        self._images: list[pg.ImageItem] = []
        self._labels: list[pg.LabelItem] = []
        self._maps: list[np.ndarray] = []
        self._scale = SymmetricScale(patience=10)
        self._centre = 0.0
        self._placed = None
        self.wanted = False
        self._apply_palette()
        self._set_height()
        self.hide()

    def fit_to(self, available: int) -> None:
        """Show the row only when the view is tall enough to spare room for it."""
        self.setVisible(self.wanted and available >= MIN_HEIGHT_FOR_THUMBS * self._font_scale)

    def set_network(self, config: dict, show: bool) -> None:
        sizes = [int(n) for n in config["sizes"]]
        n = sizes[1] if len(sizes) > 2 else 0
        self._layout.clear()
        self._images, self._labels, self._maps = [], [], []
        self._placed = None
        self._scale.reset()
        act = config.get("activation", "tanh")
        self._centre = 0.5 if act == "sigmoid" else 0.0
        self.wanted = show and 0 < n <= MAX_THUMBS and sizes[0] == 2
        if not self.wanted:
            self.hide()
            return
        self._title.setText(f"hidden layer 1: o of each neuron over the plane ({act})")
        fg = self.palette().color(QPalette.ColorRole.Text)
        for i in range(n):
            label = self._layout.addLabel(
                str(neuron_number(sizes, 1, i)),
                row=0,
                col=i,
                color=fg.name(),
                size=f"{10 * self._font_scale:g}pt",
            )
            vb = self._layout.addViewBox(row=1, col=i, lockAspect=True, enableMouse=False)
            vb.setMenuEnabled(False)
            img = pg.ImageItem(axisOrder="row-major")
            vb.addItem(img)
            self._images.append(img)
            self._labels.append(label)
        self.fit_to(self.parentWidget().height() if self.parentWidget() else 600)

    def show_layer(self, o: np.ndarray, grid: int, extent, config: dict) -> None:
        if not self._images:
            return
        n = min(o.shape[1], len(self._images))
        maps = [np.asarray(o[:, i], dtype=np.float64).reshape(grid, grid) for i in range(n)]
        self._scale.update([m - self._centre for m in maps])
        lut = (self._scale.lut[:, :3] * 255).astype(np.ubyte)
        r = self._scale.range
        x0, x1, y0, y1 = extent
        place = extent != self._placed
        for img, m in zip(self._images, maps, strict=False):
            shown = np.where(np.isfinite(m), m, self._centre)
            img.setImage(shown, lut=lut, levels=(self._centre - r, self._centre + r))
            if place:  # the plane's extent rarely changes: fit the boxes only then
                img.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
                img.getViewBox().autoRange(padding=0)
        self._placed = extent
        self._maps = maps

    def maps(self) -> list[np.ndarray]:
        return [m.copy() for m in self._maps] if self.isVisible() else []

    def set_font_scale(self, f: float) -> None:
        self._font_scale = f
        self._title.setFont(scaled_font(f))
        for label in self._labels:
            label.setText(label.text, size=f"{10 * f:g}pt")
        self._set_height()

    def _set_height(self) -> None:
        self._title.setFont(scaled_font(self._font_scale))
        self._layout.setFixedHeight(int(90 + 20 * self._font_scale))

    def _apply_palette(self) -> None:
        self._layout.setBackground(self.palette().color(QPalette.ColorRole.Base))
