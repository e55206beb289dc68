"""The network picture: edges coloured by θ, neurons filled by δ.

Layout: one column per neuron layer, input on the left, like the lecture's
picture (layer ℓ → layer i → layer j). Edges take the colour of θ_iℓ on a
diverging map (blue negative, red positive) and get wider with |θ|; neurons
are filled with δ_i = ∂Err/∂u_i of one sample on their *own* symmetric
scale (δ is usually much smaller than θ), grey while δ is not computed yet.
Bias units are small squares labelled "1" above each layer; their edges
carry θ_i0.

Speed: positions and the edge list are computed once per architecture and
size (:meth:`NetworkView.set_architecture`, resize). A snapshot only
changes colours: θ and δ are quantised to the scale's colour levels and the
edges are painted in one batch per (colour, emphasis) bucket, so a
3 000-edge network costs about a hundred pen changes per repaint, not
3 000 (the ``connect='pairs'`` bucketing idea, without one PlotCurveItem
per colour).

Neuron numbers in the picture and the tooltips are the formula panel's
(:func:`bpviz.views.formulas.neuron_number`): counted from 1 through the
layers, input first, so every neuron has its own number and 0 is the bias
input (θ₃₀ is the bias of neuron 3). The signals and methods use the
engine's indices: layer l and 0-based i within it, ``weights[k][i, src]``,
src = −1 for the bias. A number goes under its neuron when there is room,
else inside it, else (small neurons in tight rows: a 720p projector) beside
it on the left; no text is drawn smaller than :data:`MIN_LABEL_PT`, and
:meth:`NetworkView.text_boxes` lists every text with its box and size.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLineF, QLocale, QPoint, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDoubleValidator,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QPaintEngine,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QStaticText,
)
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from .colors import ColorBarLegend, SymmetricScale, format_number, scaled_font
from .formulas import neuron_number, theta_label

__all__ = ["NetworkView"]

#: Up to this many layers × neurons per layer the picture has every label.
LEGIBLE_LAYERS = 8
LEGIBLE_NEURONS = 16
#: Number labels (u, o, δ) are shown only up to this many neurons in total.
VALUES_MAX_NEURONS = 40
#: At most this many neurons per layer are drawn ("…+N" marks the rest) ...
MAX_SHOWN = 64
#: ... halved until the drawn edges stay below this.
MAX_EDGES = 8000
#: No text in the picture is drawn smaller than this (points): a label that
#: would need less is placed elsewhere, or left out.
MIN_LABEL_PT = 6.5
#: Between a neuron's rim and its number beside it: clear of the selection ring.
NUMBER_GAP = 8.0

_NORMAL, _DIM, _EMPH = 0, 1, 2


def _static_text(text: str, font: QFont) -> QStaticText:
    """``text`` laid out once in ``font``, for drawing again and again."""
    st = QStaticText(text)
    st.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
    st.prepare(font=font)
    return st


def _fit_height(font: QFont, height: float) -> QFont:
    """``font``, made smaller if need be so that a line of it is at most ``height`` high."""
    out = QFont(font)
    pt = max(font.pointSizeF() * min(1.0, height / QFontMetricsF(font).height()), 1.0)
    out.setPointSizeF(pt)
    while pt > 1.0 and QFontMetricsF(out).height() > height:  # hinting: a little off
        pt *= 0.97
        out.setPointSizeF(pt)
    return out


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved towards ``b`` by ``amount`` (0 → a, 1 → b), opaque."""
    ca, cb = a.getRgbF()[:3], b.getRgbF()[:3]
    return QColor.fromRgbF(*[x * (1 - amount) + y * amount for x, y in zip(ca, cb, strict=True)])


class _EdgeLayer(pg.GraphicsObject):
    """Lines painted in buckets: one pen, many lines per bucket (one ``drawLines`` call).

    An optional first bucket of rims (a wider, faint pen under pale lines) is
    drawn without antialiasing: its jagged outer edge is barely visible, and
    it halves the cost of a picture whose weights are mostly near 0. The pale
    lines on the rims are drawn without antialiasing too (``smooth`` False
    for their buckets): on a jagged rim it changes nothing one can see, and
    antialiased lines cost about four times as much to draw.

    Qt draws while Python holds the GIL, so every call and every antialiased
    pixel is time taken from the training thread. The lines are therefore
    kept as a pixmap and drawn again only when the buckets change (θ moved
    to another colour level, a highlight, a new layout): the neurons above
    them change with every snapshot, the edges far less often. Painters that
    scale, or draw to another kind of device (exports), get the lines
    themselves.
    """

    def __init__(self, cached: bool = True) -> None:
        super().__init__()
        self._rect = QRectF()
        self._groups: list[tuple[QPen, list[QLineF]]] = []
        self._rims: tuple[QPen, list[QLineF]] | None = None
        self._smooth: list[bool] = []  # per bucket: antialiased
        self._pixmap: QPixmap | None = None  # the lines as drawn (None: draw them again)
        self._buffer: QPixmap | None = None  # its memory, kept across redraws
        self._changed = False  # new lines since the last paint
        self._misses = 0  # paints in a row that found new lines
        self._cached = cached
        #: An opaque background for the pixmap (None: transparent); an opaque
        #: pixmap is copied, not blended, which is several times faster.
        self._background: QColor | None = None
        self.antialias = True
        self.renders = 0  # pixmaps drawn (for tests)

    def set_background(self, color: QColor | None) -> None:
        """Fill the cached picture with ``color`` (None: leave it transparent)."""
        if color != self._background:
            self._background = None if color is None else QColor(color)
            self._pixmap = None
            self.update()

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)
        self._pixmap = None

    def set_groups(
        self,
        groups: list[tuple[QPen, list[QLineF]]],
        rims: tuple[QPen, list[QLineF]] | None = None,
        smooth: list[bool] | None = None,
    ) -> None:
        """New buckets (pen, lines), optional rims under them, and which are antialiased."""
        if not groups and not rims and not self._groups and not self._rims:
            return  # nothing drawn before or after (the selection overlay, mostly)
        self._groups = groups
        self._rims = rims
        self._smooth = [True] * len(groups) if smooth is None else list(smooth)
        self._pixmap = None
        self._changed = True
        self.update()

    def groups(self) -> list[tuple[QPen, list[QLineF]]]:
        """The buckets, rims first (when there are any)."""
        return ([self._rims] if self._rims else []) + self._groups

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        try:
            self._paint(p)
        except Exception:  # an exception escaping paint() can take the process down
            sys.excepthook(*sys.exc_info())

    def _paint(self, p: QPainter) -> None:
        if not self._groups and not self._rims:
            return
        tr = p.transform()
        engine = p.paintEngine()
        device = p.device()
        if (
            not self._cached
            or tr.isScaling()
            or tr.isRotating()
            or engine is None
            or engine.type() != QPaintEngine.Type.Raster
            or device is None
            or self._rect.isEmpty()
        ):
            self._draw(p)
            return
        changed, self._changed = self._changed, False
        self._misses = self._misses + 1 if changed else 0
        if self._misses > 1:
            # The lines change with every paint (a training run early on, or a
            # benchmark): a picture kept for later would only cost a copy.
            self._draw(p)
            return
        dpr = device.devicePixelRatioF()
        if self._pixmap is None or self._pixmap.devicePixelRatioF() != dpr:
            self._render(dpr)
        p.drawPixmap(self._rect.topLeft(), self._pixmap)

    def _render(self, dpr: float) -> None:
        """Draw the lines into the cached pixmap (reusing its memory when it fits)."""
        r = self._rect
        size = QSize(max(1, math.ceil(r.width() * dpr)), max(1, math.ceil(r.height() * dpr)))
        pm = self._buffer
        if pm is None or pm.size() != size:
            pm = self._buffer = QPixmap(size)
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent if self._background is None else self._background)
        q = QPainter(pm)
        q.translate(-r.left(), -r.top())
        # A clip rectangle, though it cuts nothing, halves the time Qt takes to
        # draw many wide lines without antialiasing (measured with Qt 6.11).
        q.setClipRect(r)
        self._draw(q)
        q.end()
        self._pixmap = pm
        self.renders += 1

    def _draw(self, p: QPainter) -> None:
        if self._rims:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(self._rims[0])
            p.drawLines(self._rims[1])
        current = None
        for (pen, lines), smooth in zip(self._groups, self._smooth, strict=True):
            aa = smooth and self.antialias
            if aa is not current:
                p.setRenderHint(QPainter.RenderHint.Antialiasing, aa)
                current = aa
            p.setPen(pen)
            p.drawLines(lines)


class _NodeLayer(pg.GraphicsObject):
    """Neurons, bias squares, labels and the selection ring (painted by the view)."""

    def __init__(self, view: NetworkView) -> None:
        super().__init__()
        self._view = view
        self._rect = QRectF()

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        try:
            self._view._paint_nodes(p)
        except Exception:  # an exception escaping paint() can take the process down
            sys.excepthook(*sys.exc_info())
        view = self._view
        if view._paint_started:  # painted in the canvas (not an export)
            view._paint_ms = (time.perf_counter() - view._paint_started) * 1e3
            view._paint_started = 0.0


class _EdgeEditor(QFrame):
    """A small inline editor for one θ: "θ₂₁ = [ 0.53 ]"; Enter applies, Esc cancels."""

    def __init__(self, parent: NetworkView) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.Box)
        self.setAutoFillBackground(True)
        self.label = QLabel(self)
        self.line_edit = QLineEdit(self)
        validator = QDoubleValidator(self.line_edit)
        validator.setLocale(QLocale.c())
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.line_edit.setValidator(validator)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addWidget(self.label)
        lay.addWidget(self.line_edit)
        self.key: tuple[int, int, int] | None = None
        self.line_edit.installEventFilter(self)
        self.hide()

    def eventFilter(self, obj, event) -> bool:
        """Esc cancels; losing focus cancels."""
        if obj is self.line_edit:
            if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
                self.cancel()
                return True
            if event.type() == QEvent.Type.FocusOut and self.isVisible():
                reason = event.reason()
                if reason not in (Qt.FocusReason.PopupFocusReason, Qt.FocusReason.OtherFocusReason):
                    self.cancel()
        return super().eventFilter(obj, event)

    def cancel(self) -> None:
        self.key = None
        self.hide()
        parent = self.parentWidget()
        if parent is not None:
            parent.setFocus(Qt.FocusReason.OtherFocusReason)


class NetworkView(QWidget):
    """The network with θ on the edges and δ in the neurons.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first.
    bias : bool
        Draw bias units (θ_i0).

    Signals
    -------
    neuron_selected(l, i)
        A neuron was clicked (0-based layer and index).
    edge_selected(k, i, src)
        An edge was clicked: θ of ``weights[k][i, src]``; src = −1 is the bias θ_i0.
    weight_edited(k, i, src, value)
        The user typed a new θ into the editor (double-click on an edge).
    """

    neuron_selected = Signal(int, int)
    edge_selected = Signal(int, int, int)
    weight_edited = Signal(int, int, int, float)

    def __init__(
        self, sizes: Sequence[int], bias: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._font_scale = 1.0
        self._high_contrast = False
        self._show_values = True
        # Room above the largest |value|, so that the update (θ) or the next
        # layer's δ rarely has to move the scale in the middle of a walk.
        self.theta_scale = SymmetricScale(headroom=1.25, fine=True)
        self.delta_scale = SymmetricScale(patience=10, headroom=1.25, fine=True)
        self._walk: int | None = None  # the iteration whose phases are shown
        self._pen_cache: dict[tuple, QPen] = {}
        self._sprite_cache: dict[tuple, QPixmap] = {}
        self._sprite_gen = 0
        self._layout_gen = 0  # counts layouts (new positions, new line list)
        self._edge_key: tuple | None = None  # what the edge buckets were built from
        self._nodes_key: tuple | None = None  # what the neurons were last drawn with
        self._static_text: dict[str, tuple[QStaticText, float]] = {}
        self._labels_cache: tuple | None = None  # the u, o, δ labels last laid out
        self._char_advance: dict = {}  # label font: advance of each character
        self._brush_cache: dict[tuple, QBrush] = {}
        self._snapshot = None
        self._sample = 0
        self._sel_neuron: tuple[int, int] | None = None
        self._sel_edge: tuple[int, int, int] | None = None
        self._hl_neurons: set[tuple[int, int]] | None = None
        self._hl_edges: set[tuple[int, int, int]] = set()
        self._hl_layer: int | None = None
        self._hover_text = ""
        self._paint_started = 0.0
        self._paint_ms = math.nan

        self.canvas = pg.GraphicsView(self)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.canvas.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._vb = pg.ViewBox(enableMouse=False, enableMenu=False, invertY=True, defaultPadding=0)
        self._vb.setMouseEnabled(False, False)
        self._vb.disableAutoRange()
        self.canvas.setCentralItem(self._vb)
        self._band = QGraphicsRectItem()
        self._band.setPen(QPen(Qt.PenStyle.NoPen))
        self._band.setZValue(-10)
        self._band.hide()
        self._edges = _EdgeLayer()
        self._edges.setZValue(0)
        self._overlay = _EdgeLayer(cached=False)
        self._overlay.setZValue(5)
        self._nodes = _NodeLayer(self)
        self._nodes.setZValue(10)
        for item in (self._band, self._edges, self._overlay, self._nodes):
            self._vb.addItem(item, ignoreBounds=True)

        self.theta_legend = ColorBarLegend(self.theta_scale, "θ (weight)")
        self.delta_legend = ColorBarLegend(
            self.delta_scale, "δ = ∂Err/∂u", neutral_text="not computed yet"
        )
        legends = QHBoxLayout()
        legends.setContentsMargins(8, 0, 8, 4)
        legends.setSpacing(24)
        legends.addWidget(self.theta_legend)
        legends.addWidget(self.delta_legend)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.canvas, 1)
        lay.addLayout(legends)

        self._editor = _EdgeEditor(self)
        self._editor.line_edit.returnPressed.connect(self._commit_edit)

        self._press_pos: QPointF | None = None
        self.canvas.viewport().setMouseTracking(True)
        self.canvas.viewport().installEventFilter(self)
        self._vb.sigResized.connect(self._relayout)
        self._apply_palette()
        self.set_architecture(sizes, bias)

    # ------------------------------------------------------------------
    # Architecture and layout
    # ------------------------------------------------------------------

    def set_architecture(self, sizes: Sequence[int], bias: bool = True) -> None:
        """Use a new architecture: recompute what is drawn and where (once)."""
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"a network needs ≥ 2 layers of ≥ 1 neuron, got {sizes}")
        self.sizes = sizes
        self.bias = bool(bias)
        L = len(sizes)
        self._degraded = L > LEGIBLE_LAYERS or max(sizes) > LEGIBLE_NEURONS
        self._bias_shown = self.bias and not self._degraded
        cap = MAX_SHOWN
        while cap > 8:
            shown = [min(n, cap) for n in sizes]
            if sum(a * b for a, b in itertools.pairwise(shown)) <= MAX_EDGES:
                break
            cap //= 2
        self._shown = [min(n, cap) for n in sizes]
        # Neurons in neuron_keys() order.
        keys: list[tuple[int, int]] = []
        starts = []
        for l, n in enumerate(self._shown):
            starts.append(len(keys))
            keys.extend((l, i) for i in range(n))
        self._node_keys = keys
        self._node_start = starts
        self._node_index = {k: j for j, k in enumerate(keys)}
        self._node_layer = np.array([k[0] for k in keys], dtype=np.intp)
        self._numbers = [neuron_number(sizes, l, i) for l, i in keys]
        # Edges: per k, the weight block (i major, src minor), then the bias block.
        ekeys: list[tuple[int, int, int]] = []
        src_node, dst_node, blocks = [], [], []
        for k in range(L - 1):
            n0, n1 = self._shown[k], self._shown[k + 1]
            ii, ss = np.meshgrid(np.arange(n1), np.arange(n0), indexing="ij")
            ii, ss = ii.ravel(), ss.ravel()
            start = len(ekeys)
            ekeys.extend(zip([k] * ii.size, ii.tolist(), ss.tolist(), strict=True))
            src_node.append(starts[k] + ss)
            dst_node.append(starts[k + 1] + ii)
            blocks.append(("w", k, start, len(ekeys)))
            if self._bias_shown:
                start = len(ekeys)
                ekeys.extend((k, i, -1) for i in range(n1))
                src_node.append(-1 - np.full(n1, k, dtype=np.intp))
                dst_node.append(starts[k + 1] + np.arange(n1))
                blocks.append(("b", k, start, len(ekeys)))
        self._edge_keys = ekeys
        self._edge_index: dict[tuple[int, int, int], int] | None = None
        self._edge_src = np.concatenate(src_node) if src_node else np.zeros(0, np.intp)
        self._edge_dst = np.concatenate(dst_node) if dst_node else np.zeros(0, np.intp)
        self._edge_blocks = blocks
        n_e = len(ekeys)
        self._edge_vals = np.full(n_e, np.nan)
        self._node_vals = np.full(len(keys), np.nan)
        self._edge_state = np.zeros(n_e, dtype=np.intp)
        self._node_state = np.zeros(len(keys), dtype=np.intp)
        self._edges.antialias = n_e <= 3000
        self.theta_scale.reset()
        self.delta_scale.reset()
        self._walk = None
        self.theta_legend.set_note("")
        self.delta_legend.set_note("")
        self._snapshot = None
        self._sel_neuron = self._sel_edge = None
        self._hl_neurons, self._hl_edges, self._hl_layer = None, set(), None
        if self._editor.isVisible():
            self._editor.cancel()
        self._relayout()

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        fs = self._font_scale
        hc = self._high_contrast
        return (
            scaled_font(fs, 1.0, bold=True),  # layer labels
            scaled_font(fs, 0.0, bold=hc),  # values, indices
            scaled_font(fs, 0.0, bold=True),  # bias "1"
        )

    @Slot()
    def _relayout(self) -> None:
        """Positions in pixels for the current size; the view shows (0, 0, W, H)."""
        if not hasattr(self, "sizes"):
            return
        # width()/height(), not boundingRect() (which pads by half a pixel): the
        # view then maps layout pixels 1:1 and the painter needs no scaling.
        W, H = max(float(self._vb.width()), 50.0), max(float(self._vb.height()), 50.0)
        self._W, self._H = W, H
        f_layer, f_small, _ = self._fonts()
        fm_l, fm_s = QFontMetricsF(f_layer), QFontMetricsF(f_small)
        self._lh_layer, self._lh = fm_l.height(), fm_s.height()
        L = len(self.sizes)
        truncated = any(s < n for s, n in zip(self._shown, self.sizes, strict=True))
        top = self._lh_layer + 14
        bottom = (self._lh + 10) if truncated else 10
        r_max = 26.0 * max(1.0, 0.75 * self._font_scale)
        slots = max(
            n + (1 if self._bias_shown and l < L - 1 else 0) for l, n in enumerate(self._shown)
        )
        # Number labels: as many lines as the vertical spacing allows.
        lh = self._lh
        sample_text = {3: "δ=−0.000123", 2: "δ=−0.000123", 1: "o=−0.123 δ=−0.0123"}
        # Neuron numbers under the neurons need room below the lowest row as well:
        # without it, lay out again keeping that room, else put them elsewhere.
        for attempt in (0, 1, 2):
            dy = max(min((H - top - bottom) / max(slots, 1), 170.0), 1.0)
            lines = (
                3 if dy >= 3 * lh + 6 else 2 if dy >= 2 * lh + 4 else 1 if dy >= 1.15 * lh else 0
            )
            values_possible = (
                self._show_values
                and not self._degraded
                and len(self._node_keys) <= VALUES_MAX_NEURONS
                and lines > 0
            )
            value_w = fm_s.horizontalAdvance(sample_text.get(lines, "")) + 16
            left = right = r_max + 14
            dx, r = self._columns(W, L, left + right + value_w, dy, r_max)
            values_fit = values_possible and dx >= 2 * r + value_w + 10
            if not values_fit:
                dx, r = self._columns(W, L, left + right, dy, r_max)
            # Neuron numbers: under the neuron when there is room, else inside it, else
            # (a small neuron in a tight column) beside it on the left.
            place, self._index_font = self._place_numbers(r, dy, f_small, below=attempt < 2)
            if place == "beside":
                fm_n = QFontMetricsF(self._index_font)
                num_w = max(fm_n.horizontalAdvance(str(n)) for n in self._numbers) + 6
                inputs = self._numbers[: self._shown[0]]
                w_in = max(fm_n.horizontalAdvance(str(n)) for n in inputs) + 6
                left = max(left, r + NUMBER_GAP + w_in + 2)
                dx, r = self._columns(W, L, left + right + value_w * values_fit, dy, r_max)
                # Between two columns: one's values (if shown), the next one's numbers.
                gap = num_w + NUMBER_GAP
                if values_fit and dx < 2 * r + value_w + 10 + gap:
                    values_fit = False
                    dx, r = self._columns(W, L, left + right, dy, r_max)
                if L > 1 and dx < 2 * r + gap + 4:
                    place = None
            if place == "below":
                lowest = top + (H - top - bottom) / 2 + (slots - 1) / 2 * dy
                over = lowest + r + 6 + lh + 2 - H
                if over > 0:
                    bottom += over + 2 if attempt == 0 else 0
                    continue
            break
        if values_fit:
            right += value_w
        self._index_place = place
        self._values_fit = values_fit
        self._values_lines = lines
        self._r, self._dx, self._dy = r, dx, dy
        # Bias squares: large enough for their "1" in MIN_LABEL_PT at least, as far
        # as the row spacing allows (else the "1" is left out).
        f_bias = self._fonts()[2]
        fm_b = QFontMetricsF(f_bias)
        side_for_min = fm_b.height() * MIN_LABEL_PT / f_bias.pointSizeF() / 0.8 + 0.5
        side = max(r * 1.4, 8.0, min(side_for_min, 0.8 * dy))
        y_mid = top + (H - top - bottom) / 2
        xs = np.empty(len(self._node_keys))
        ys = np.empty(len(self._node_keys))
        bias_x, bias_y = [], []
        for l, n in enumerate(self._shown):
            b_row = 1 if self._bias_shown and l < L - 1 else 0
            m = n + b_row
            y0 = y_mid - (m - 1) / 2 * dy
            x = left + l * dx if L > 1 else W / 2
            s = self._node_start[l]
            xs[s : s + n] = x
            ys[s : s + n] = y0 + (np.arange(n) + b_row) * dy
            if b_row:
                bias_x.append(x)
                bias_y.append(y0)
        self._nx, self._ny = xs, ys
        self._nx_list, self._ny_list = xs.tolist(), ys.tolist()
        self._bias_x = np.array(bias_x)
        self._bias_y = np.array(bias_y)
        self._font_layer, self._font_small = f_layer, f_small
        self._number_texts = [str(n) for n in self._numbers]
        # Edge end points (bias edges start at their layer's square).
        src, dst = self._edge_src, self._edge_dst
        is_bias = src < 0
        k_bias = np.where(is_bias, -1 - src, 0)
        sx = np.where(is_bias, self._bias_x[k_bias] if len(bias_x) else 0.0, xs[np.maximum(src, 0)])
        sy = np.where(is_bias, self._bias_y[k_bias] if len(bias_y) else 0.0, ys[np.maximum(src, 0)])
        tx, ty = xs[dst], ys[dst]
        self._ex0, self._ey0, self._ex1, self._ey1 = sx, sy, tx, ty
        # Drawn from rim to rim: the part under the (opaque) neurons costs
        # paint time and shows nothing.
        vx, vy = tx - sx, ty - sy
        length = np.maximum(np.hypot(vx, vy), 1e-9)
        ux, uy = vx / length, vy / length
        start_cut = np.where(is_bias, side / 2, r) * 0.9
        end_cut = np.minimum(r * 0.9, length / 2)
        start_cut = np.minimum(start_cut, length / 2)
        ax, ay = sx + ux * start_cut, sy + uy * start_cut
        bx, by = tx - ux * end_cut, ty - uy * end_cut
        self._layout_gen += 1
        self._lines = [
            QLineF(a, b, c, d)
            for a, b, c, d in zip(ax.tolist(), ay.tolist(), bx.tolist(), by.tolist(), strict=True)
        ]
        self._line_array = np.empty(len(self._lines), dtype=object)
        self._line_array[:] = self._lines
        self._index_static: dict[str, tuple[QStaticText, float]] = {}
        self._index_boxes, self._index_pos = self._number_boxes()
        self._bias_font = QFont(f_bias)
        bias_pt = f_bias.pointSizeF() * min(1.0, 0.8 * side / fm_b.height())
        self._bias_font.setPointSizeF(bias_pt)
        self._bias_label = bias_pt >= MIN_LABEL_PT - 1e-9
        self._bias_rects = [
            QRectF(bx - side / 2, by - side / 2, side, side)
            for bx, by in zip(bias_x, bias_y, strict=True)
        ]
        half = r + 4.0
        self._sprite_corners = [
            QPointF(x - half, y - half) for x, y in zip(self._nx_list, self._ny_list, strict=True)
        ]
        # Layer label texts that fit side by side: centred over their column, moved
        # inwards at the edges, and not touching their neighbours there either.
        col_x = [float(xs[self._node_start[l]]) for l in range(L)]

        def placed(names: list[str]) -> list[tuple[float, float]] | None:
            spans = []
            for x, text in zip(col_x, names, strict=True):
                tw = fm_l.horizontalAdvance(text) + 8
                spans.append((min(max(x - tw / 2, 2.0), W - tw - 2.0), tw))
            fits = all(
                a_left + a_w + 2.0 <= b_left
                for (a_left, a_w), (b_left, _) in itertools.pairwise(spans)
            )
            return spans if fits and all(left >= 0 for left, _ in spans) else None

        self._layer_text = [""] * L
        for short in (0, 1, 2):
            names = self._layer_names(short=short)
            if placed(names) is not None:
                self._layer_text = names
                break
        self._layer_rects = []
        # Text that never changes within a layout: laid out once (QStaticText).
        self._layer_static: list[QStaticText | None] = []
        self._layer_pos: list[QPointF] = []
        for l, text in enumerate(self._layer_text):
            x = col_x[l]
            tw = fm_l.horizontalAdvance(text) + 8
            left = min(max(x - tw / 2, 2.0), W - tw - 2.0)
            self._layer_rects.append(QRectF(left, 4, tw, self._lh_layer + 4))
            self._layer_static.append(_static_text(text, f_layer) if text else None)
            self._layer_pos.append(QPointF(left + 4, 4))
        fm_one = QFontMetricsF(self._bias_font)
        self._bias_one = _static_text("1", self._bias_font)
        w1, h1 = fm_one.horizontalAdvance("1"), fm_one.height()
        self._bias_text_pos = [
            QPointF(rect.center().x() - w1 / 2, rect.center().y() - h1 / 2)
            for rect in self._bias_rects
        ]
        full_rect = QRectF(0, 0, W, H)
        self._vb.setRange(full_rect, padding=0)
        for item in (self._edges, self._overlay, self._nodes):
            item.set_rect(full_rect)
        self._update_band()
        self._restyle()

    @staticmethod
    def _columns(W: float, L: int, margins: float, dy: float, r_max: float) -> tuple[float, float]:
        """Column spacing and neuron radius, ``margins`` pixels of the width kept free."""
        dx = (W - margins) / max(L - 1, 1)
        return dx, max(min(dy * 0.32, dx * 0.16, r_max), 2.5)

    def _place_numbers(
        self, r: float, dy: float, font: QFont, below: bool = True
    ) -> tuple[str | None, QFont]:
        """Where the neuron numbers go for radius ``r`` and row spacing ``dy``, and their font.

        "below" the neuron in ``font`` when there is room (and ``below``); else "inside" it in a
        font shrunk to fit, while that is at least :data:`MIN_LABEL_PT` and half
        the size the numbers would have beside it; else "beside" it on the
        left, as large as the rows allow. None: no room anywhere (or a network
        too big for numbers).
        """
        if self._degraded:
            return None, QFont(font)
        fm = QFontMetricsF(font)
        if below and dy - 2 * r >= fm.height() + 8:
            return "below", QFont(font)
        longest = max((str(n) for n in self._numbers), key=len)
        need = max(fm.horizontalAdvance(longest), fm.height() * 0.85)
        inside = QFont(font)
        inside.setPointSizeF(font.pointSizeF() * min(1.0, 1.7 * r / need))
        beside = _fit_height(font, dy - 3)
        if inside.pointSizeF() >= MIN_LABEL_PT and inside.pointSizeF() >= 0.5 * beside.pointSizeF():
            return "inside", inside
        if beside.pointSizeF() >= MIN_LABEL_PT:
            return "beside", beside
        return None, inside

    def _number_boxes(self) -> tuple[list[QRectF], list[QPointF]]:
        """Beside placement: each number's background box and its text's top-left corner.

        Right-aligned at :data:`NUMBER_GAP` left of the neuron's rim, centred on
        its row; laid out once per layout (the numbers never change).
        """
        if self._index_place != "beside":
            return [], []
        fm = QFontMetricsF(self._index_font)
        h, r = fm.height(), self._r
        boxes, corners = [], []
        for text, x, y in zip(self._number_texts, self._nx_list, self._ny_list, strict=True):
            w = fm.horizontalAdvance(text)
            right = x - r - NUMBER_GAP
            boxes.append(QRectF(right - w - 6, y - h / 2, w + 6, h))
            corners.append(QPointF(right - w - 3, y - h / 2))
        return boxes, corners

    def _layer_names(self, short: int) -> list[str]:
        L = len(self.sizes)
        names = []
        for l in range(L):
            if l == 0:
                names.append(("input", "input", "in")[short])
            elif l == L - 1:
                names.append(("output ŷ", "output ŷ", "ŷ")[short])
            else:
                names.append((f"hidden layer {l}", f"hidden {l}", f"h{l}")[short])
        return names

    # ------------------------------------------------------------------
    # Snapshots and styles
    # ------------------------------------------------------------------

    def show_snapshot(self, snapshot, sample: int = 0) -> None:
        """Colour edges by θ and neurons by δ of batch sample ``sample``.

        Through the phases of one iteration (a phase walk) the θ and δ scales
        hold still, so that colours can be compared before and after the
        update; they adapt between iterations, and in mid-walk only when a
        value would otherwise be clipped, which the legend then says.
        """
        if self.is_showing(snapshot, sample):
            return  # the window's frame timer may ask again: nothing to do
        weights = snapshot.weights
        sizes = [int(weights[0].shape[1])] + [int(w.shape[0]) for w in weights]
        if sizes != self.sizes:
            self.set_architecture(sizes, self.bias)
        self._snapshot = snapshot
        self._sample = max(int(sample), 0)
        phase = snapshot.phase
        walk = None if phase is None else snapshot.iteration - (1 if phase.is_last else 0)
        new_walk = walk is None or walk != self._walk
        self._walk = walk
        # θ in edge order.
        vals = self._edge_vals
        biases = snapshot.biases
        shown = self._shown
        for kind, k, a, b in self._edge_blocks:
            if kind == "w":
                vals[a:b] = weights[k][: shown[k + 1], : shown[k]].ravel()
            else:
                vals[a:b] = biases[k][: shown[k + 1]]
        theta_changed = self._adapt_scale(self.theta_scale, self.theta_legend, vals, walk, new_walk)
        # δ of the sample in node order (NaN where not computed).
        nv = self._node_vals
        nv.fill(np.nan)
        for l in range(1, len(self.sizes)):
            d = snapshot.delta[l] if snapshot.delta is not None else None
            if d is None or d.shape[0] == 0:
                continue
            row = d[min(self._sample, d.shape[0] - 1)]
            s = self._node_start[l]
            nv[s : s + shown[l]] = row[: shown[l]]
        delta_changed = self._adapt_scale(self.delta_scale, self.delta_legend, nv, walk, new_walk)
        self._restyle()
        if theta_changed:
            self.theta_legend.update()
        if delta_changed:
            self.delta_legend.update()

    def is_showing(self, snapshot, sample: int = 0) -> bool:
        """True when ``snapshot`` (and ``sample``) is what the view already shows.

        Cheap (no array is looked at): a frame budget can skip the view then.
        """
        return snapshot is self._snapshot and max(int(sample), 0) == self._sample

    def paint_cost_ms(self) -> float:
        """Wall time of the last paint of the picture (edges, neurons, labels), in ms.

        NaN before the first paint. Measured from the start of the canvas'
        paint event to the end of the topmost layer's paint.
        """
        return self._paint_ms

    @staticmethod
    def _adapt_scale(
        scale: SymmetricScale,
        legend: ColorBarLegend,
        values: np.ndarray,
        walk: int | None,
        new_walk: bool,
    ) -> bool:
        """Update ``scale`` for a snapshot of phase walk ``walk`` (None: not walking).

        Returns True when its range changed. A change while walking is shown
        in the legend until the next iteration begins.
        """
        old, fresh = scale.range, scale.fresh
        if new_walk:
            scale.release()  # between iterations: adapt to what the last walk showed
        scale.update(values, hold=walk is not None)
        changed = scale.range != old
        if walk is None or (new_walk and not changed):
            legend.set_note("")
        elif changed and not fresh:
            was = f"±{format_number(old, 3)}"
            if new_walk:
                legend.set_note(
                    f"was {was} before",
                    f"The scale was {was} in the iteration shown before this one: compare "
                    "colours within one iteration.",
                )
            else:
                legend.set_note(
                    f"was {was} (else clipped)",
                    f"The scale was {was} when this iteration began; a value beyond it "
                    "would have been drawn at the end colour, so the scale was widened. "
                    "Colours before and after this change are not comparable.",
                )
        return changed

    def _pen(self, level: int, state: int) -> QPen:
        key = (level, state, self._high_contrast, self._degraded)
        pen = self._pen_cache.get(key)
        if pen is None:
            scale = self.theta_scale
            rgba = scale.rgba_of_levels(np.array([level]))[0]
            if state == _DIM:
                rgba = self._dimmed(rgba)
            half = (scale.n_levels - 1) // 2
            mag = abs(level - half) / half if level >= 0 else 0.0
            w = self._width_of(np.array([mag]), state)[0]
            pen = QPen(QColor.fromRgbF(*map(float, rgba)), float(w))
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            self._pen_cache[key] = pen
        return pen

    def _skeleton_pen(self) -> QPen:
        key = ("skeleton", self._high_contrast, self._hl_neurons is not None)
        pen = self._pen_cache.get(key)
        if pen is None:
            amount = 0.9 if self._hl_neurons is not None else 0.72
            color = _mix(self._fg, self._bg, amount)
            w = float(self._width_of(np.array([0.0]), _NORMAL)[0]) + 1.6
            pen = QPen(color, w)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            self._pen_cache[key] = pen
        return pen

    def _width_of(self, mag: np.ndarray, state: np.ndarray | int) -> np.ndarray:
        """Edge width in pixels from |θ|/range (0..1)."""
        if self._degraded:
            w_min, w_max = 0.6, 2.2
        else:
            w_min, w_max = 1.2, 6.0
        if self._high_contrast:
            w_min += 0.6
        w = w_min + (w_max - w_min) * mag
        return np.where(np.asarray(state) == _EMPH, w + 2.0, w)

    def _dimmed(self, rgba: np.ndarray, amount: float = 0.75) -> np.ndarray:
        bg = self._bg_rgba
        out = np.array(rgba, dtype=np.float64, copy=True)
        out[..., :3] = out[..., :3] * (1 - amount) + bg[:3] * amount
        return out

    def _restyle(self) -> None:
        """Colours, widths and draw buckets from the stored θ/δ and highlight state."""
        scale = self.theta_scale
        lev = scale.levels(self._edge_vals)
        self._edge_levels = lev
        state = self._edge_state
        # Edge colours, widths and buckets follow from the levels, the states, the
        # layout and the palette alone: unchanged (the usual case between two
        # snapshots), keep the ones drawn.
        key = (
            lev.tobytes(),
            state.tobytes(),
            self._layout_gen,
            self._sprite_gen,
            self._high_contrast,
            self._degraded,
            self._hl_neurons is None,
        )
        if key != self._edge_key:
            self._edge_key = key
            rgba = scale.rgba_of_levels(lev)
            dim = state == _DIM
            if np.any(dim):
                rgba[dim] = self._dimmed(rgba[dim])
            self._edge_rgba = rgba
            half = (scale.n_levels - 1) // 2
            mag = np.where(lev >= 0, np.abs(lev - half) / half, 0.0)
            self._edge_w = self._width_of(mag, state)
            # Buckets: dim first, then normal, then emphasised; weak before strong.
            rank = np.array([1, 0, 2])[state]
            dev = np.abs(lev - half)
            order_key = (rank * (half + 2) + np.where(lev >= 0, dev, 0)) * 2 + (lev > half)
            order_key = order_key * (scale.n_levels + 1) + (lev + 1)
            self._set_edge_groups(lev, state, rgba, order_key)
        # Neurons.
        dscale = self.delta_scale
        nrgba = dscale.rgba(self._node_vals)
        inputs = self._node_layer == 0
        nrgba[inputs] = self._input_rgba
        ndim = self._node_state == _DIM
        if np.any(ndim):
            nrgba[ndim] = self._dimmed(nrgba[ndim], 0.6)
        self._node_rgba = nrgba
        levels = np.where(inputs, -2, dscale.levels(self._node_vals))
        previous, self._node_levels = getattr(self, "_node_levels", None), levels
        self._update_overlay()
        self._update_nodes(previous, levels)

    def _update_nodes(self, previous: np.ndarray | None, levels: np.ndarray) -> None:
        """Ask for a repaint of the neurons whose colour level changed, or of all.

        Between two snapshots usually only the neurons' fill changes: repainting
        just the area round them saves blending the rest of the canvas (the
        edges' picture, the background) again. Anything else that changed
        (layout, highlight, selection, number labels, palette) repaints the
        whole layer.
        """
        key = (
            self._layout_gen,
            self._sprite_gen,
            self._node_state.tobytes(),
            self._hl_layer,
            self._hl_neurons is None,
            self._sel_neuron,
            self._high_contrast,
            self._values_fit and self._snapshot is not None,
        )
        same = key == self._nodes_key and previous is not None and len(previous) == len(levels)
        self._nodes_key = key
        if not same or self._values_fit:
            self._nodes.update()
            return
        changed = np.flatnonzero(previous != levels)
        if changed.size == 0:
            return
        # One rectangle round the changed neurons (Qt would merge several anyway).
        half = self._r + 5.0  # the sprite, and a pixel for antialiasing
        xs, ys = self._nx[changed], self._ny[changed]
        x0, y0 = float(xs.min()) - half, float(ys.min()) - half
        x1, y1 = float(xs.max()) + half, float(ys.max()) + half
        self._nodes.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _set_edge_groups(
        self, lev: np.ndarray, state: np.ndarray, rgba: np.ndarray, order_key: np.ndarray
    ) -> None:
        """Sort the edges into draw buckets (one pen each) for the edge layer."""
        order = np.argsort(order_key, kind="stable")
        sk = order_key[order]
        groups: list[tuple[QPen, list[QLineF]]] = []
        smooth: list[bool] = []
        rims = None
        pale = np.zeros(order.size, dtype=bool)
        if order.size and not self._degraded:
            # A pale rim under near-white edges keeps weights near 0 visible.
            lum = rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722])
            pale = lum > 0.72
            if np.any(pale):
                rims = (self._skeleton_pen(), self._line_array[pale].tolist())
        if order.size:
            cuts = np.flatnonzero(np.diff(sk)) + 1
            starts = np.concatenate([[0], cuts])
            ends = np.concatenate([cuts, [order.size]])
            ordered = self._line_array[order]  # NumPy picks the QLineF objects, not Python
            # A bucket is one colour and emphasis: its first edge speaks for all.
            firsts = order[starts]
            smooth_of = (~pale[firsts] | (state[firsts] == _EMPH)).tolist()
            for a, b, j, sm in zip(
                starts.tolist(), ends.tolist(), firsts.tolist(), smooth_of, strict=True
            ):
                pen = self._pen(int(lev[j]), int(state[j]))
                groups.append((pen, ordered[a:b].tolist()))
                smooth.append(sm)
        self._edges.set_groups(groups, rims, smooth)

    def _update_overlay(self) -> None:
        groups: list[tuple[QPen, list[QLineF]]] = []
        if self._sel_edge is not None:
            j = self._edge_lookup(self._sel_edge)
            if j is not None:
                w = float(self._edge_w[j])
                halo = QPen(self._fg, w + 6.0)
                halo.setCapStyle(Qt.PenCapStyle.RoundCap)
                gap = QPen(self._bg, w + 2.5)
                gap.setCapStyle(Qt.PenCapStyle.RoundCap)
                core = QPen(QColor.fromRgbF(*map(float, self._edge_rgba[j])), w)
                core.setCapStyle(Qt.PenCapStyle.RoundCap)
                line = [self._lines[j]]
                groups = [(halo, line), (gap, line), (core, line)]
        self._overlay.set_groups(groups)

    # ------------------------------------------------------------------
    # Painting neurons and labels
    # ------------------------------------------------------------------

    def _brush(self, rgba: np.ndarray) -> QBrush:
        key = tuple(np.round(rgba * 255).astype(int).tolist())
        br = self._brush_cache.get(key)
        if br is None:
            if len(self._brush_cache) > 4096:
                self._brush_cache.clear()
            br = self._brush_cache[key] = QBrush(QColor(*key))
        return br

    def _sprite(
        self,
        level: int,
        state: int,
        rgba: np.ndarray,
        pen: QPen,
        dpr: float,
        number: str | None = None,
    ) -> QPixmap:
        """A neuron disc of radius r, filled and outlined, cached by colour level.

        With ``number``, the neuron's number is written inside it (in black or
        white, whichever reads better on the fill): one pixmap per neuron and
        colour level then, but one draw call per neuron and frame.
        """
        r = self._r
        text_key = None if number is None else (number, self._index_font.pointSizeF())
        key = (level, state, round(r * 8), self._high_contrast, dpr, self._sprite_gen, text_key)
        pm = self._sprite_cache.get(key)
        if pm is None:
            if len(self._sprite_cache) > 4096:
                self._sprite_cache.clear()
            half = r + 4.0
            size = math.ceil(2 * half * dpr)
            pm = QPixmap(size, size)
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            q = QPainter(pm)
            q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            q.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            q.setPen(pen)
            q.setBrush(self._brush(rgba))
            q.drawEllipse(QPointF(half, half), r, r)
            if number is not None:
                q.setFont(self._index_font)
                q.setPen(self._text_on(rgba))
                q.drawText(QRectF(0, 0, 2 * half, 2 * half), Qt.AlignmentFlag.AlignCenter, number)
            q.end()
            self._sprite_cache[key] = pm
        return pm

    def _static(
        self, text: str, fm: QFontMetricsF, cache: dict | None = None
    ) -> tuple[QStaticText, float]:
        """A cached QStaticText and its width in the font of ``fm``."""
        if cache is None:
            cache = self._static_text
        hit = cache.get(text)
        if hit is None:
            if len(cache) > 4000:
                cache.clear()
            st = QStaticText(text)
            st.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
            hit = cache[text] = (st, fm.horizontalAdvance(text))
        return hit

    def _node_pens(self) -> dict[int, QPen]:
        """Outline pens by state (normal, dimmed, emphasised)."""
        key = ("nodes", self._high_contrast, self._degraded, self._sprite_gen)
        pens = self._pen_cache.get(key)
        if pens is None:
            hc = self._high_contrast
            outline_w = (2.0 if hc else 1.3) if not self._degraded else 0.8
            pens = {
                _NORMAL: QPen(self._outline, outline_w),
                _DIM: QPen(self._dimmed_outline, outline_w),
                _EMPH: QPen(self._fg, 4.0 if hc else 3.5),
            }
            self._pen_cache[key] = pens
        return pens

    def _paint_nodes(self, p: QPainter) -> None:
        # Qt draws while Python holds the GIL: few calls per frame. Every part
        # that does not change between snapshots is prepared in _relayout.
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        f_layer, f_small = self._font_layer, self._font_small
        r = self._r
        fg = self._fg
        pens = self._node_pens()
        xs, ys = self._nx_list, self._ny_list
        states = self._node_state.tolist()
        rgba = self._node_rgba
        # Bias squares.
        if self._bias_shown and self._bias_rects:
            bias_dim = self._hl_neurons is not None
            p.setPen(pens[_DIM] if bias_dim else pens[_NORMAL])
            p.setBrush(self._bias_brush)
            p.drawRects(self._bias_rects)
            if self._bias_label:
                p.setFont(self._bias_font)
                p.setPen(self._dimmed_outline if bias_dim else fg)
                one = self._bias_one
                for pos in self._bias_text_pos:
                    p.drawStaticText(pos, one)
        # Neurons: pre-rendered sprites (one per colour level, state and size,
        # with the number inside when it goes there) on a raster device that
        # is not scaled; vector drawing otherwise (exports).
        tr = p.transform()
        engine = p.paintEngine()
        device = p.device()
        sprites = (
            not (tr.isScaling() or tr.isRotating())
            and engine is not None
            and engine.type() == QPaintEngine.Type.Raster
            and device is not None
        )
        numbers_in_sprites = sprites and self._index_place == "inside"
        if sprites:
            dpr = device.devicePixelRatioF()
            levels = self._node_levels.tolist()
            labels = self._number_texts if numbers_in_sprites else [None] * len(xs)
            sprite, draw, corners = self._sprite, p.drawPixmap, self._sprite_corners
            for j in range(len(xs)):
                state = states[j]
                draw(corners[j], sprite(levels[j], state, rgba[j], pens[state], dpr, labels[j]))
        else:
            for j, (x, y) in enumerate(zip(xs, ys, strict=True)):
                p.setPen(pens[states[j]])
                p.setBrush(self._brush(rgba[j]))
                p.drawEllipse(QPointF(x, y), r, r)
        # Selection ring.
        if self._sel_neuron is not None:
            j = self._node_index.get(self._sel_neuron)
            if j is not None:
                c = QPointF(xs[j], ys[j])
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(self._bg, 3.0))
                p.drawEllipse(c, r + 3.0, r + 3.0)
                p.setPen(QPen(fg, 3.5))
                p.drawEllipse(c, r + 6.0, r + 6.0)
        # Neuron numbers (cached text layouts: the numbers never change).
        place = self._index_place
        if place is not None and not numbers_in_sprites:
            p.setFont(self._index_font)
            fm = QFontMetricsF(self._index_font)
            th = fm.height()
            numbers = self._number_texts
            dim_pen = QPen(self._dimmed_outline)
            # Under a neuron they are muted; beside it, smaller, in the text colour.
            plain_pen = QPen(self._fg if place == "beside" else self._muted)
            if place == "beside":  # on a background of their own, over the edges
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(self._label_brush)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                p.drawRects(self._index_boxes)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                corners = self._index_pos
            current = None
            for j in range(len(xs)):
                st, w = self._static(numbers[j], fm, self._index_static)
                if place == "inside":
                    pen = self._text_on(rgba[j])
                    corner = QPointF(xs[j] - w / 2, ys[j] - th / 2)
                else:
                    pen = dim_pen if states[j] == _DIM else plain_pen
                    if place == "beside":
                        corner = corners[j]
                    else:
                        corner = QPointF(xs[j] - w / 2, ys[j] + r + 6)
                if pen is not current:
                    p.setPen(pen)
                    current = pen
                p.drawStaticText(corner, st)
        p.setFont(f_small)
        # Value labels.
        if self._values_fit and self._snapshot is not None:
            self._paint_values(p, xs, ys)
        # "…+N" under truncated layers.
        for l, (s, n) in enumerate(zip(self._shown, self.sizes, strict=True)):
            if s < n:
                j = self._node_start[l] + s - 1
                rect = QRectF(xs[j] - 60, ys[j] + r + 2, 120, self._lh + 4)
                p.setPen(fg)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"…+{n - s}")
        # Layer labels at the top.
        p.setFont(f_layer)
        current = None
        for l, (text, pos) in enumerate(zip(self._layer_static, self._layer_pos, strict=True)):
            if text is None:
                continue
            active = self._hl_layer == l
            pen = fg if (self._hl_neurons is None or active) else self._muted
            if pen is not current:
                p.setPen(pen)
                current = pen
            p.drawStaticText(pos, text)

    def _paint_values(self, p: QPainter, xs: list[float], ys: list[float]) -> None:
        rects, texts = self._value_labels(xs, ys)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._label_brush)
        # Plain opaque rectangles: no antialiasing (which would make Qt fill each
        # one as a path) and no blending, which costs about a third of a
        # millisecond a frame on 2-8-8-8-8-1 (GIL held).
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.drawRects(rects)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        normal, muted = QPen(self._fg), QPen(self._muted)
        current = None
        # Plain drawText at the baseline: the values change with every snapshot,
        # so cached text layouts (QStaticText) would only be made to be dropped.
        for pos, t, dim in texts:
            pen = muted if dim else normal
            if pen is not current:
                p.setPen(pen)
                current = pen
            p.drawText(pos, t)

    def _value_labels(
        self, xs: list[float], ys: list[float]
    ) -> tuple[list[QRectF], list[tuple[QPointF, str, bool]]]:
        """Background rectangles and (baseline point, text, dimmed) of the u, o, δ labels.

        Made once per snapshot, sample, layout and highlight: a repaint for
        anything else (hover, selection, the window's frame timer) reuses them.
        """
        snap = self._snapshot
        key = (
            id(snap),
            self._sample,
            self._layout_gen,
            self._values_lines,
            self._node_state.tobytes(),
        )
        cached = self._labels_cache
        if cached is not None and cached[0] == key and cached[1] is snap:
            return cached[2], cached[3]
        r, lh = self._r, self._lh
        fm = QFontMetricsF(self._font_small)
        ascent = fm.ascent()
        # Widths from a table of character advances (the labels are digits and
        # a few symbols, without kerning): a third of the cost of asking Qt
        # for each text, and the same numbers.
        adv = self._char_advance
        if adv.get("") != self._font_small.key():
            adv.clear()
            adv[""] = self._font_small.key()

        def advance(t: str) -> float:
            total = 0.0
            for c in t:
                a = adv.get(c)
                if a is None:
                    a = adv[c] = fm.horizontalAdvance(c)
                total += a
            return total

        rects: list[QRectF] = []
        texts: list[tuple[QPointF, str, bool]] = []
        states = self._node_state.tolist()
        lines = self._values_lines
        # The sample's row of each layer's u, o and δ, formatted (None: not yet).
        text: dict[str, list[list[str]]] = {}
        for name in ("u", "o", "delta"):
            arrays = getattr(snap, name)
            per_layer = []
            for l, n in enumerate(self._shown):
                a = None if arrays is None or l >= len(arrays) else arrays[l]
                if a is None or a.shape[0] == 0:
                    per_layer.append([format_number(None, 3)] * n)
                else:
                    row = a[min(self._sample, a.shape[0] - 1), :n].tolist()
                    per_layer.append([format_number(v, 3) for v in row])
            text[name] = per_layer
        text_u, text_o, text_d = text["u"], text["o"], text["delta"]
        for j, (l, i) in enumerate(self._node_keys):
            o_t = text_o[l][i]
            if l == 0:
                parts = [f"o={o_t}"]
            else:
                u_t = text_u[l][i]
                d_t = text_d[l][i]
                if lines >= 3:
                    parts = [f"u={u_t}", f"o={o_t}", f"δ={d_t}"]
                elif lines == 2:
                    parts = [f"o={o_t}", f"δ={d_t}"]
                else:
                    parts = [f"o={o_t} δ={d_t}"]
            w = max(advance(t) for t in parts) + 6
            h = lh * len(parts) + 2
            x0, y0 = xs[j] + r + 5, ys[j] - h / 2
            rects.append(QRectF(x0, y0, w, h))
            dim = states[j] == _DIM
            for m, t in enumerate(parts):
                texts.append((QPointF(x0 + 3, y0 + 1 + m * lh + ascent), t, dim))
        self._labels_cache = (key, snap, rects, texts)
        return rects, texts

    def _value(self, arrays, l: int, i: int) -> float | None:
        if arrays is None or l >= len(arrays):
            return None
        a = arrays[l]
        if a is None or a.shape[0] == 0 or i >= a.shape[1]:
            return None
        return float(a[min(self._sample, a.shape[0] - 1), i])

    def _text_on(self, rgba: np.ndarray) -> QColor:
        lum = 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]
        return QColor(255, 255, 255) if lum < 0.5 else QColor(0, 0, 0)

    # ------------------------------------------------------------------
    # Palette, fonts, contrast
    # ------------------------------------------------------------------

    def _apply_palette(self) -> None:
        pal = self.palette()
        bg = pal.color(QPalette.ColorRole.Base)
        fg = pal.color(QPalette.ColorRole.Text)
        if self._high_contrast:
            dark = bg.lightnessF() < 0.5
            bg = QColor(0, 0, 0) if dark else QColor(255, 255, 255)
            fg = QColor(255, 255, 255) if dark else QColor(0, 0, 0)
        self._bg, self._fg = bg, fg
        self._bg_rgba = np.array(bg.getRgbF(), dtype=np.float64)
        self._muted = _mix(fg, bg, 0.35 if self._high_contrast else 0.55)
        self._outline = QColor(fg) if self._high_contrast else _mix(fg, bg, 0.25)
        self._dimmed_outline = _mix(fg, bg, 0.65)
        light = bg.lightnessF() >= 0.5
        self._input_rgba = np.array(
            (0.97, 0.97, 0.97, 1.0) if light else (0.25, 0.25, 0.25, 1.0), dtype=np.float64
        )
        self._bias_fill = QColor(255, 244, 200) if light else QColor(90, 80, 40)
        self._bias_brush = QBrush(self._bias_fill)
        self._label_brush = QBrush(bg)
        self.canvas.setBackground(bg)
        self._sync_edge_background()
        self._pen_cache.clear()
        self._brush_cache.clear()
        self._sprite_cache.clear()
        self._sprite_gen += 1
        self._static_text.clear()

    def changeEvent(self, event: QEvent) -> None:
        """Follow palette changes (light/dark)."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            if hasattr(self, "_lines"):
                self._restyle()
        super().changeEvent(event)

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale all text (presenter mode: e.g. 1.5 or 2)."""
        self._font_scale = max(float(f), 0.5)
        self._static_text.clear()
        self.theta_legend.set_font_scale(self._font_scale)
        self.delta_legend.set_font_scale(self._font_scale)
        self._editor.label.setFont(scaled_font(self._font_scale))
        self._editor.line_edit.setFont(scaled_font(self._font_scale))
        self._relayout()

    @Slot(bool)
    def set_high_contrast(self, on: bool) -> None:
        """Presenter mode: black/white, thicker outlines, colours saturate sooner."""
        self._high_contrast = bool(on)
        self.theta_scale.set_high_contrast(on)
        self.delta_scale.set_high_contrast(on)
        self.theta_legend.set_high_contrast(on)
        self.delta_legend.set_high_contrast(on)
        self.theta_legend.set_compact(on)  # a line fewer: the graph gets it
        self.delta_legend.set_compact(on)
        self._apply_palette()
        self._relayout()

    @Slot(bool)
    def set_show_values(self, on: bool) -> None:
        """Number labels u, o, δ beside each neuron (small networks only)."""
        self._show_values = bool(on)
        self._relayout()

    def values_visible(self) -> bool:
        """True when the number labels are drawn (asked for, and they fit)."""
        return bool(self._values_fit)

    # ------------------------------------------------------------------
    # Selection and highlight
    # ------------------------------------------------------------------

    def _edge_lookup(self, key: tuple[int, int, int]) -> int | None:
        if self._edge_index is None:
            self._edge_index = {k: j for j, k in enumerate(self._edge_keys)}
        return self._edge_index.get(tuple(int(v) for v in key))

    def set_selection(
        self,
        neuron: tuple[int, int] | None = None,
        edge: tuple[int, int, int] | None = None,
    ) -> None:
        """Draw a selection ring round ``neuron`` and a halo round ``edge`` (None clears)."""
        self._sel_neuron = None if neuron is None else (int(neuron[0]), int(neuron[1]))
        self._sel_edge = None if edge is None else tuple(int(v) for v in edge)
        self._update_overlay()
        self._nodes.update()

    def selection(self) -> tuple[tuple[int, int] | None, tuple[int, int, int] | None]:
        """The selected neuron and edge (None when nothing is selected)."""
        return self._sel_neuron, self._sel_edge

    def set_highlight(
        self,
        neurons: Iterable[tuple[int, int]],
        edges: Iterable[tuple[int, int, int]],
        layer: int | None = None,
    ) -> None:
        """Emphasise what the current phase uses; dim everything else.

        Highlighted neurons get a thick outline, highlighted edges are drawn
        wider and on top, the rest fades towards the background, and a
        translucent band marks ``layer``.
        """
        hl_neurons = {(int(a), int(b)) for a, b in neurons}
        hl_edges = {tuple(int(v) for v in e) for e in edges}
        hl_layer = None if layer is None else int(layer)
        if (hl_neurons, hl_edges, hl_layer) == (self._hl_neurons, self._hl_edges, self._hl_layer):
            return  # unchanged: the window calls this on every repaint
        self._hl_neurons, self._hl_edges, self._hl_layer = hl_neurons, hl_edges, hl_layer
        ns = np.full(len(self._node_keys), _DIM, dtype=np.intp)
        for key in self._hl_neurons:
            j = self._node_index.get(key)
            if j is not None:
                ns[j] = _EMPH
        self._node_state = ns
        es = np.full(len(self._edge_keys), _DIM, dtype=np.intp)
        for key in self._hl_edges:
            j = self._edge_lookup(key)
            if j is not None:
                es[j] = _EMPH
        self._edge_state = es
        self._update_band()
        self._restyle()

    @Slot()
    def clear_highlight(self) -> None:
        """Back to the plain picture."""
        if self._hl_neurons is None and self._hl_layer is None and not self._hl_edges:
            return
        self._hl_neurons, self._hl_edges, self._hl_layer = None, set(), None
        self._node_state = np.zeros(len(self._node_keys), dtype=np.intp)
        self._edge_state = np.zeros(len(self._edge_keys), dtype=np.intp)
        self._update_band()
        self._restyle()

    def highlight(self) -> tuple[set | None, set, int | None]:
        """The current highlight: (neurons or None, edges, layer)."""
        return self._hl_neurons, set(self._hl_edges), self._hl_layer

    def _update_band(self) -> None:
        l = self._hl_layer
        if l is None or not 0 <= l < len(self.sizes) or not hasattr(self, "_nx"):
            self._band.hide()
            self._sync_edge_background()
            return
        x = float(self._nx[self._node_start[l]])
        half = min(self._dx * 0.42, max(self._r * 3.0, 40.0)) if len(self.sizes) > 1 else 60
        self._band.setRect(QRectF(x - half, 0, 2 * half, self._H))
        light = self._bg.lightnessF() >= 0.5
        c = QColor(255, 196, 0, 70) if light else QColor(255, 210, 60, 60)
        self._band.setBrush(QBrush(c))
        self._band.show()
        self._sync_edge_background()

    def _sync_edge_background(self) -> None:
        # The edges' picture may hide what lies under it (the canvas background)
        # unless the band shows through.
        self._edges.set_background(None if self._band.isVisible() else self._bg)

    def band_visible(self) -> bool:
        """True when the active-layer band is drawn."""
        return self._band.isVisible()

    # ------------------------------------------------------------------
    # Read-back for tests
    # ------------------------------------------------------------------

    def neuron_keys(self) -> list[tuple[int, int]]:
        """(l, i) of every drawn neuron, in the order of :meth:`neuron_colors`."""
        return list(self._node_keys)

    def edge_keys(self) -> list[tuple[int, int, int]]:
        """(k, i, src) of every drawn edge (src = −1: bias), as :meth:`edge_colors`."""
        return list(self._edge_keys)

    def neuron_colors(self) -> np.ndarray:
        """(n_neurons, 4) RGBA floats: the fill of each neuron as drawn."""
        return self._node_rgba.copy()

    def edge_colors(self) -> np.ndarray:
        """(n_edges, 4) RGBA floats: the colour of each edge as drawn."""
        return self._edge_rgba.copy()

    def edge_widths(self) -> np.ndarray:
        """(n_edges,) pen widths in pixels."""
        return self._edge_w.copy()

    def neuron_outline_widths(self) -> np.ndarray:
        """(n_neurons,) outline widths: thicker for highlighted neurons."""
        hc = self._high_contrast
        base = (2.0 if hc else 1.3) if not self._degraded else 0.8
        return np.where(self._node_state == _EMPH, 4.0 if hc else 3.5, base)

    def edge_buckets(self) -> int:
        """Number of pen changes per repaint of the edges."""
        return len(self._edges.groups())

    def overlay_lines(self) -> int:
        """Number of lines in the selection overlay (0 when no edge is selected)."""
        return sum(len(lines) for _, lines in self._overlay.groups())

    def number_placement(self) -> str | None:
        """Where the neuron numbers are drawn: "below", "inside", "beside", or None (not at all)."""
        return self._index_place

    def text_boxes(self) -> list[tuple[str, str, QRectF, float]]:
        """Every text the picture draws: (kind, text, box in layout pixels, point size).

        Kinds: "layer" (names at the top), "number" (neuron numbers), "bias"
        (the "1" in a bias square) and "value" (u, o, δ beside a neuron; one
        box per neuron, its lines joined by newlines). Layout pixels are those
        of :meth:`shapes`.
        """
        out: list[tuple[str, str, QRectF, float]] = []
        pt_layer = self._font_layer.pointSizeF()
        for text, rect in zip(self._layer_text, self._layer_rects, strict=True):
            if text:
                out.append(("layer", text, QRectF(rect), pt_layer))
        place = self._index_place
        if place is not None:
            fm = QFontMetricsF(self._index_font)
            th, pt = fm.height(), self._index_font.pointSizeF()
            for j, text in enumerate(self._number_texts):
                x, y, w = self._nx_list[j], self._ny_list[j], fm.horizontalAdvance(text)
                if place == "beside":
                    box = QRectF(self._index_boxes[j])
                elif place == "inside":
                    box = QRectF(x - w / 2, y - th / 2, w, th)
                else:
                    box = QRectF(x - w / 2, y + self._r + 6, w, th)
                out.append(("number", text, box, pt))
        if self._bias_shown and self._bias_label:
            pt = self._bias_font.pointSizeF()
            out.extend(("bias", "1", QRectF(rect), pt) for rect in self._bias_rects)
        if self._values_fit and self._snapshot is not None:
            rects, texts = self._value_labels(self._nx_list, self._ny_list)
            pt = self._font_small.pointSizeF()
            for rect in rects:
                lines = [t for pos, t, _ in texts if rect.contains(pos)]
                out.append(("value", "\n".join(lines), QRectF(rect), pt))
        return out

    def shapes(self) -> tuple[list[tuple[float, float, float]], list[QRectF]]:
        """The neurons as (x, y, radius) and the bias squares, in layout pixels."""
        r = self._r
        discs = [(x, y, r) for x, y in zip(self._nx_list, self._ny_list, strict=True)]
        return discs, [QRectF(b) for b in self._bias_rects]

    def _to_viewport(self, x: float, y: float) -> QPoint:
        scene_pt = self._vb.mapViewToScene(QPointF(x, y))
        return self.canvas.mapFromScene(scene_pt)

    def neuron_position(self, l: int, i: int) -> QPoint:
        """Centre of a neuron in ``self.canvas.viewport()`` coordinates."""
        j = self._node_index[(int(l), int(i))]
        return self._to_viewport(float(self._nx[j]), float(self._ny[j]))

    def bias_position(self, k: int) -> QPoint:
        """Centre of the bias square feeding layer k + 1, viewport coordinates."""
        return self._to_viewport(float(self._bias_x[k]), float(self._bias_y[k]))

    def edge_position(self, k: int, i: int, src: int) -> QPoint:
        """A point on an edge (40 % of the way from its source), viewport coordinates."""
        j = self._edge_lookup((k, i, src))
        if j is None:
            raise KeyError((k, i, src))
        t = 0.4
        x = self._ex0[j] + t * (self._ex1[j] - self._ex0[j])
        y = self._ey0[j] + t * (self._ey1[j] - self._ey0[j])
        return self._to_viewport(float(x), float(y))

    # ------------------------------------------------------------------
    # Tooltips, hit testing, mouse
    # ------------------------------------------------------------------

    def neuron_tooltip(self, l: int, i: int) -> str:
        """ "layer l, neuron i: u=…, o=…, σ′(u)=…, δ=…" for the shown sample."""
        snap = self._snapshot
        where = f"layer {l}, neuron {neuron_number(self.sizes, l, i)}"
        if snap is None:
            return f"{where}: no data yet"
        if l == 0:
            o = self._value(snap.o, l, i)
            text = f"{where} (input): o = x = {format_number(o)}"
        else:
            u = self._value(snap.u, l, i)
            o = self._value(snap.o, l, i)
            ds = self._value(snap.dsigma, l, i)
            d = self._value(snap.delta, l, i)
            text = (
                f"{where}: u={format_number(u)}, o={format_number(o)}, "
                f"σ′(u)={format_number(ds)}, δ={format_number(d)}"
            )
        batch = self._batch_size()
        if batch > 1:
            text += f"  (sample {min(self._sample, batch - 1) + 1} of {batch})"
        return text

    def _batch_size(self) -> int:
        snap = self._snapshot
        if snap is None or snap.x is None:
            return 0
        return int(snap.x.shape[0])

    def edge_tooltip(self, k: int, i: int, src: int) -> str:
        """ "θ_iℓ = …, ∂Err/∂θ = …" for one edge (src = −1: the bias θ_i0)."""
        snap = self._snapshot
        name = theta_label(self.sizes, k, i, src)
        target = neuron_number(self.sizes, k + 1, i)
        if src < 0:
            where = f"bias of neuron {target}"
        else:
            where = f"neuron {neuron_number(self.sizes, k, src)} → neuron {target}"
        if snap is None:
            return f"{name} = –, ∂Err/∂θ = –  ({where})"
        if src < 0:
            theta = float(snap.biases[k][i])
            grad = None if snap.grad_biases is None else float(snap.grad_biases[k][i])
        else:
            theta = float(snap.weights[k][i, src])
            grad = None if snap.grad_weights is None else float(snap.grad_weights[k][i, src])
        return f"{name} = {format_number(theta)}, ∂Err/∂θ = {format_number(grad)}  ({where})"

    def hover_text(self) -> str:
        """The tooltip text for what is under the mouse ("" over empty space)."""
        return self._hover_text

    def _hit(self, x: float, y: float) -> tuple[str, tuple] | None:
        """The neuron or edge at layout point (x, y), neurons first."""
        if not len(self._node_keys):
            return None
        d2 = (self._nx - x) ** 2 + (self._ny - y) ** 2
        j = int(np.argmin(d2))
        if d2[j] <= (self._r + 4.0) ** 2:
            return "neuron", self._node_keys[j]
        if self._bias_shown and len(self._bias_x):
            half = max(self._r * 1.4, 8.0) / 2 + 3.0
            near = (np.abs(self._bias_x - x) <= half) & (np.abs(self._bias_y - y) <= half)
            if np.any(near):
                return "bias", (int(np.flatnonzero(near)[0]),)
        if not len(self._edge_keys):
            return None
        x0, y0, x1, y1 = self._ex0, self._ey0, self._ex1, self._ey1
        vx, vy = x1 - x0, y1 - y0
        length2 = vx * vx + vy * vy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(((x - x0) * vx + (y - y0) * vy) / length2, 0.0, 1.0)
        t = np.nan_to_num(t)
        dist2 = (x0 + t * vx - x) ** 2 + (y0 + t * vy - y) ** 2
        # Prefer emphasised edges, then the nearest.
        tol = np.maximum(self._edge_w / 2 + 3.0, 4.0)
        ok = dist2 <= tol * tol
        if not np.any(ok):
            return None
        cand = np.flatnonzero(ok)
        best = cand[np.argmin(dist2[cand] - 1e3 * (self._edge_state[cand] == _EMPH))]
        return "edge", self._edge_keys[int(best)]

    def _viewport_to_layout(self, pos: QPointF) -> QPointF:
        return self._vb.mapSceneToView(self.canvas.mapToScene(pos.toPoint()))

    def eventFilter(self, obj, event) -> bool:
        """Hover, click and double-click on the canvas (never consumed).

        Handled here rather than through pyqtgraph's scene signals, which
        drop mouse moves closer than 10 ms apart (the tooltip could then
        describe where the mouse was, not where it stopped).
        """
        if obj is self.canvas.viewport():
            kind = event.type()
            if kind == QEvent.Type.Paint:
                self._paint_started = time.perf_counter()
            elif kind == QEvent.Type.MouseMove:
                self._on_hover(event.position())
            elif kind == QEvent.Type.MouseButtonPress:
                if event.button() == Qt.MouseButton.LeftButton:
                    self._press_pos = event.position()
            elif kind == QEvent.Type.MouseButtonRelease:
                press, self._press_pos = self._press_pos, None
                if (
                    event.button() == Qt.MouseButton.LeftButton
                    and press is not None
                    and (event.position() - press).manhattanLength() <= 6
                ):
                    self._on_click(event.position(), double=False)
            elif kind == QEvent.Type.MouseButtonDblClick:
                if event.button() == Qt.MouseButton.LeftButton:
                    self._on_click(event.position(), double=True)
            elif kind == QEvent.Type.Leave:
                self._set_hover_text("", None)
            elif kind == QEvent.Type.ToolTip:
                # QGraphicsView would ask the scene's items (which have no
                # tooltips) and hide the tip: show the hovered item's text.
                self._on_hover(QPointF(event.pos()))
                if self._hover_text:
                    QToolTip.showText(event.globalPos(), self._hover_text, obj)
                else:
                    QToolTip.hideText()
                return True
        return super().eventFilter(obj, event)

    def _on_hover(self, pos: QPointF) -> None:
        pt = self._viewport_to_layout(pos)
        hit = self._hit(pt.x(), pt.y())
        if hit is None:
            text = ""
        elif hit[0] == "neuron":
            text = self.neuron_tooltip(*hit[1])
        elif hit[0] == "bias":
            k = hit[1][0]
            text = (
                f"bias unit o₀ = 1, feeding layer {k + 1}: each of its neurons i adds "
                "θᵢ₀·1 to its u"
            )
        else:
            text = self.edge_tooltip(*hit[1])
        self._set_hover_text(text, pos)

    def _set_hover_text(self, text: str, pos: QPointF | None) -> None:
        if text == self._hover_text:
            return
        self._hover_text = text
        vp = self.canvas.viewport()
        # The tooltip appears after Qt's usual hover delay (the ToolTip event in
        # eventFilter); one already on screen follows the mouse at once.
        if QToolTip.isVisible():
            if text and pos is not None:
                QToolTip.showText(vp.mapToGlobal(pos.toPoint()), text, vp)
            else:
                QToolTip.hideText()

    def _on_click(self, pos: QPointF, double: bool) -> None:
        pt = self._viewport_to_layout(pos)
        hit = self._hit(pt.x(), pt.y())
        if hit is None:
            return
        kind, key = hit
        if kind == "bias":
            return
        if kind == "neuron":
            if not double:
                self.set_selection(neuron=key)
                self.neuron_selected.emit(*key)
        elif double:
            self.edit_edge(*key)
        else:
            self.set_selection(edge=key)
            self.edge_selected.emit(*key)

    # ------------------------------------------------------------------
    # Editing θ
    # ------------------------------------------------------------------

    def edit_edge(self, k: int, i: int, src: int) -> QLineEdit:
        """Open the inline editor for θ of edge (k, i, src); returns its line edit.

        Enter emits :attr:`weight_edited` with the typed value; Esc cancels.
        Non-modal, so tests can type into it directly.
        """
        key = (int(k), int(i), int(src))
        ed = self._editor
        ed.key = key
        ed.label.setText(f"{theta_label(self.sizes, *key)} =")
        value = None
        snap = self._snapshot
        if snap is not None:
            value = float(snap.biases[k][i]) if src < 0 else float(snap.weights[k][i, src])
        le = ed.line_edit
        le.setText("" if value is None else f"{value:.6g}")
        le.selectAll()
        ed.adjustSize()
        try:
            pos = self.canvas.viewport().mapTo(self, self.edge_position(*key))
        except KeyError:
            pos = QPoint(self.width() // 2, self.height() // 2)
        x = min(max(pos.x() - ed.width() // 2, 0), max(self.width() - ed.width(), 0))
        y = min(max(pos.y() - ed.height() - 6, 0), max(self.height() - ed.height(), 0))
        ed.move(x, y)
        ed.show()
        ed.raise_()
        le.setFocus(Qt.FocusReason.PopupFocusReason)
        return le

    @Slot()
    def _commit_edit(self) -> None:
        ed = self._editor
        key = ed.key
        text = ed.line_edit.text().strip().replace("−", "-").replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return
        if key is None or not math.isfinite(value):
            return
        ed.key = None
        ed.hide()
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.weight_edited.emit(key[0], key[1], key[2], value)

    def editor_visible(self) -> bool:
        """True while the θ editor is open."""
        return self._editor.isVisible()

    # ------------------------------------------------------------------
    # Keys: use none, so window shortcuts (Space, arrows) keep working.
    # ------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Leave every key to the window's shortcuts."""
        event.ignore()
