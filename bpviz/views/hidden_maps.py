"""What every hidden neuron outputs over the input plane: one row of small maps per layer.

For a 2-input network, each hidden neuron i gets a small map of its output
o_i over the same plane as the Output view, computed from the snapshot's θ
with :func:`bpviz.engine.predict.predict_layers` (never touching the live
network). Each row (a hidden layer) has one colour scale, shown in its
title: the activation's own range for sigmoid (0 … 1, centred on 0.5) and
tanh (−1 … +1); for ReLU and linear layers ±the largest |o| rounded up to
1, 2 or 5 × 10ⁿ, so the colours change only when a value would otherwise
clip. Rendering is coalesced (at most :data:`MAX_RATE_HZ` a second) and
skipped while the widget is hidden.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from ..engine.datasets import finite_range
from ..engine.predict import predict_layers
from .colors import DIVERGING_MAP, scaled_font
from .formulas import neuron_number

__all__ = ["HiddenMaps"]

#: Cells per side of each small map.
GRID = 40
#: At most this many renders a second.
MAX_RATE_HZ = 10.0
#: Neurons drawn per layer at most (a wider layer says how many are left out).
MAX_PER_LAYER = 16
#: Side of one map in pixels at text scale 1: at least MIN_MAP_PX (the area scrolls
#: then), at most MAX_MAP_PX, else as large as fits every layer in the view's height.
MIN_MAP_PX, MAX_MAP_PX = 48, 120


def _nice_ceil(x: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ ≥ x (x > 0)."""
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        v = float(f"{m}e{e}")
        if v >= x * (1 - 1e-12):
            return v
    return float(f"1e{e + 1}")


def plane_extent(dataset) -> tuple[float, float, float, float]:
    """The input plane the maps cover: the data's range, padded (as the Output view's)."""
    if dataset is None or dataset.n_inputs != 2:
        return (-1.0, 1.0, -1.0, 1.0)
    ranges = [finite_range((dataset.X_train, dataset.X_test), c) for c in (0, 1)]
    if None in ranges:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = np.array(ranges).T
    pad = np.maximum(np.maximum(hi - lo, 1e-6) * 0.12, 0.1)
    lo, hi = lo - pad, hi + pad
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


class HiddenMaps(QWidget):
    """Small maps of o_i over the input plane for every neuron of every hidden layer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font_scale = 1.0
        self._config: dict | None = None
        self._extent = (-1.0, 1.0, -1.0, 1.0)
        self._grid_X = self._make_grid()
        self._pending = None
        self._last_snapshot = None
        self._last_render = -math.inf
        self._images: list[list[pg.ImageItem]] = []  # per hidden layer
        self._titles: list[pg.LabelItem] = []
        self._labels: list[pg.LabelItem] = []
        self._ranges: list[float] = []
        self._maps: list[list[np.ndarray]] = []
        self._built = False
        self.render_count = 0

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel(
            "o of each hidden neuron over the input plane (x1 →, x2 ↑), a row per layer"
        )
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(6, 2, 6, 2)
        self._layout = pg.GraphicsLayoutWidget()
        self._layout.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._layout.ci.setContentsMargins(4, 4, 4, 4)
        self._layout.ci.setSpacing(2)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setWidget(self._layout)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.message)
        lay.addWidget(self.caption)
        lay.addWidget(self._scroll, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._apply_palette()
        self._show_message("Waiting for the network…")

    # -- public ----------------------------------------------------------------

    def set_network(self, config: dict) -> None:
        """Lay out one row per hidden layer of the network ``Network.config()`` describes.

        Laid out when shown (building the maps costs tens of milliseconds).
        """
        self._config = dict(config)
        self._last_snapshot = None
        self._built = False
        if self.isVisible():
            self._build()

    def _build(self) -> None:
        self._built = True
        config = self._config
        sizes = [int(n) for n in config["sizes"]]
        self._layout.clear()
        self._images, self._titles, self._labels, self._maps = [], [], [], []
        self._ranges = []
        if sizes[0] != 2:
            self._show_message("Hidden-neuron maps need a network with 2 inputs (a plane).")
            return
        if len(sizes) < 3:
            self._show_message("This network has no hidden layer.")
            return
        self.message.hide()
        self.caption.show()
        self._scroll.show()
        fg = self.palette().color(QPalette.ColorRole.Text).name()
        act = str(config.get("activation", "tanh"))
        row = 0
        for l in range(1, len(sizes) - 1):
            n = sizes[l]
            shown = min(n, MAX_PER_LAYER)
            self._ranges.append(1.0)
            title = self._layout.addLabel(
                "", row=row, col=0, colspan=max(shown, 1), color=fg, justify="left"
            )
            self._titles.append(title)
            row += 1
            images = []
            for i in range(shown):
                label = self._layout.addLabel(
                    str(neuron_number(sizes, l, i)), row=row, col=i, color=fg
                )
                self._labels.append(label)
                vb = self._layout.addViewBox(row=row + 1, col=i, lockAspect=True, enableMouse=False)
                vb.setMenuEnabled(False)
                img = pg.ImageItem(axisOrder="row-major")
                vb.addItem(img)
                images.append(img)
            self._images.append(images)
            self._set_title(l - 1, act, n)
            row += 2
        self._apply_fonts()
        self._render_again()

    def set_data(self, dataset) -> None:
        """The plane the maps cover follows the data's range."""
        self._extent = plane_extent(dataset)
        self._grid_X = self._make_grid()
        self._render_again()

    @Slot(object)
    def show_snapshot(self, snapshot) -> None:
        """Recompute the maps from the snapshot's θ (coalesced; none while hidden)."""
        self._pending = snapshot
        if not self.isVisible() or self._timer.isActive():
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
        if snap is not None:
            self._render(snap)

    def grid_inputs(self) -> np.ndarray:
        """The (GRID², 2) input points the maps are computed at (row-major, rows follow x2)."""
        return self._grid_X.copy()

    def maps(self) -> list[list[np.ndarray]]:
        """Per hidden layer, each drawn neuron's o over the plane (rows follow x2)."""
        return [[m.copy() for m in layer] for layer in self._maps]

    def titles(self) -> list[str]:
        """Each row's title (plain text)."""
        return [t.text for t in self._titles]

    def map_size_px(self) -> float:
        """The side, in pixels on screen, of the smallest map drawn (0 if none)."""
        sides = [
            min(img.getViewBox().width(), img.getViewBox().height())
            for layer in self._images
            for img in layer
        ]
        return min(sides) if sides else 0.0

    def set_font_scale(self, f: float) -> None:
        """Scale the text (the window's text size)."""
        self._font_scale = max(float(f), 0.5)
        self._apply_fonts()

    # -- internals ---------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self.caption.hide()
        self._scroll.hide()

    def _make_grid(self) -> np.ndarray:
        x0, x1, y0, y1 = self._extent
        cx = x0 + (np.arange(GRID) + 0.5) * (x1 - x0) / GRID
        cy = y0 + (np.arange(GRID) + 0.5) * (y1 - y0) / GRID
        gx, gy = np.meshgrid(cx, cy)  # rows follow x2, columns x1
        return np.column_stack([gx.ravel(), gy.ravel()])

    def _set_title(self, row: int, act: str, n: int) -> None:
        r = self._ranges[row]
        scale = "0 (blue) … 1 (red)" if act == "sigmoid" else f"−{r:g} (blue) … +{r:g} (red)"
        more = f", first {MAX_PER_LAYER} of {n}" if n > MAX_PER_LAYER else ""
        size = f"{10 * self._font_scale:g}pt"
        self._titles[row].setText(f"layer {row + 1} ({act}): {scale}{more}", size=size)

    def _render_again(self) -> None:
        if self._last_snapshot is not None and self.isVisible():
            self._render(self._last_snapshot)

    def _render(self, snap) -> None:
        self._last_snapshot = snap
        cfg = self._config
        if cfg is None or not self._images:
            return
        if snap.weights[0].shape[1] != 2 or len(snap.weights) != len(cfg["sizes"]) - 1:
            return
        try:
            outs = predict_layers(cfg, snap.weights, snap.biases, self._grid_X)
        except ValueError:
            return
        act = str(cfg.get("activation", "tanh"))
        centre = 0.5 if act == "sigmoid" else 0.0
        x0, x1, y0, y1 = self._extent
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        cmap = pg.colormap.get(DIVERGING_MAP)
        lut = cmap.getLookupTable(nPts=257, alpha=False)
        self._maps = []
        for row, images in enumerate(self._images):
            o = np.asarray(outs[row + 1], dtype=np.float64)
            maps = [o[:, i].reshape(GRID, GRID) for i in range(len(images))]
            if act == "sigmoid":
                r = 0.5
            elif act == "tanh":
                r = 1.0
            else:  # unbounded: grows (never shrinks mid-run) when a value would clip
                finite = np.abs(o[np.isfinite(o)])
                need = float(finite.max()) if finite.size else 0.0
                r = max(self._ranges[row], _nice_ceil(need) if need > 0 else 1.0)
            if r != self._ranges[row]:
                self._ranges[row] = r
                self._set_title(row, act, int(cfg["sizes"][row + 1]))
            for img, m in zip(images, maps, strict=True):
                img.setImage(
                    np.where(np.isfinite(m), m, centre), lut=lut, levels=(centre - r, centre + r)
                )
                img.setRect(rect)
                img.getViewBox().autoRange(padding=0)
            self._maps.append(maps)
        self._last_render = time.monotonic()
        self.render_count += 1

    def _apply_fonts(self) -> None:
        f = self._font_scale
        self.message.setFont(scaled_font(f))
        for label in self._labels:
            label.setText(label.text, size=f"{10 * f:g}pt")
        if self._config is not None:
            act = str(self._config.get("activation", "tanh"))
            for row in range(len(self._titles)):
                self._set_title(row, act, int(self._config["sizes"][row + 1]))
        self.caption.setFont(scaled_font(f))
        self._apply_sizes()

    def _apply_sizes(self) -> None:
        # Each layer: a title row, a row of neuron numbers, a row of maps. Text rows
        # keep their height; the maps fill the height, never below MIN_MAP_PX.
        f = self._font_scale
        grid = self._layout.ci.layout
        text_h = 18 * f
        n_rows = max(len(self._images), 1)
        room = (self._scroll.viewport().height() - 8) / n_rows - (1.8 * text_h + 6)
        side = min(max(room, MIN_MAP_PX * f), MAX_MAP_PX * f)
        for layer in range(len(self._images)):
            grid.setRowFixedHeight(3 * layer, text_h)
            grid.setRowFixedHeight(3 * layer + 1, text_h * 0.8)
            grid.setRowMinimumHeight(3 * layer + 2, side)
        widest = max((len(r) for r in self._images), default=0)
        for col in range(widest):
            grid.setColumnMinimumWidth(col, side)
        n_rows = len(self._images)
        self._layout.setMinimumHeight(int(n_rows * (side + 1.8 * text_h + 6) + 8))
        self._layout.setMinimumWidth(int(widest * (side + 4) + 8))

    def _apply_palette(self) -> None:
        self._layout.setBackground(self.palette().color(QPalette.ColorRole.Base))

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark)."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "_layout"):
            self._apply_palette()
            if self._config is not None:
                snap = self._last_snapshot
                self.set_network(self._config)
                self._last_snapshot = snap
        super().changeEvent(event)

    def resizeEvent(self, event) -> None:
        """The maps grow and shrink with the view (within their bounds)."""
        super().resizeEvent(event)
        self._apply_sizes()

    def showEvent(self, event) -> None:
        """Lay out and draw what arrived while hidden."""
        super().showEvent(event)
        if self._config is not None and not self._built:
            self._build()
        if self._pending is not None:
            QTimer.singleShot(0, self, self.flush)
        else:
            QTimer.singleShot(0, self, self._render_again)
