"""Colours that mean something: a diverging map centred on 0 for θ and δ.

The map comes from pyqtgraph's bundled colorcet maps (``CET-D1``: blue for
negative values, near-white for 0, red for positive values); the blue/red
pair stays distinguishable for the common red–green colour deficiencies.
Which end is which is *read from the map* (:func:`end_names`), so legends
never lie if the map changes.

:class:`SymmetricScale` maps values onto the map with a fixed ±range that
is chosen from the data but sticky: it grows at once (rounded up to a 1-2-5
step) and shrinks only after the data has stayed much smaller for a while,
so colours do not flicker from one snapshot to the next. While someone
compares pictures (a phase walk) it can be held: it then moves only when a
value would otherwise be clipped.

:class:`ColorBarLegend` is a small widget drawing the map with its current
±range, a title ("θ (weight)") and what the two ends mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QLinearGradient,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .auto_range import nice_ceil_fine

__all__ = [
    "BASE_FONT_PT",
    "DIVERGING_MAP",
    "HIGH_CONTRAST_GAMMA",
    "NEUTRAL",
    "ColorBarLegend",
    "SymmetricScale",
    "color_name",
    "dark_theme",
    "dark_theme_change",
    "diverging_map",
    "end_names",
    "format_number",
    "nice_ceil",
    "scaled_font",
    "style_legend",
]

#: Name of the diverging map in pyqtgraph's colour-map registry.
DIVERGING_MAP = "CET-D1"
#: Smallest font used anywhere in the views (points); readable from the back row.
BASE_FONT_PT = 11.0
#: Exponent applied to |value|/range in high-contrast mode (< 1 saturates sooner).
HIGH_CONTRAST_GAMMA = 0.55
#: Fill for quantities not computed yet (δ before its phase) and for NaN.
NEUTRAL = QColor(178, 178, 178)
_NEUTRAL_RGBA = np.array([178, 178, 178, 255], dtype=np.float64) / 255.0


def diverging_map(name: str = DIVERGING_MAP) -> pg.ColorMap:
    """The diverging colour map, from pyqtgraph's registry (never hand-written)."""
    return pg.colormap.get(name)


def color_name(rgb: Iterable[float]) -> str:
    """A plain English name for an RGB colour given as floats in 0..1."""
    r, g, b = (float(c) for c in list(rgb)[:3])
    c = QColor.fromRgbF(min(max(r, 0.0), 1.0), min(max(g, 0.0), 1.0), min(max(b, 0.0), 1.0))
    hue, sat, light = c.hslHueF(), c.hslSaturationF(), c.lightnessF()
    if sat < 0.2 or hue < 0:
        return "black" if light < 0.2 else "white" if light > 0.85 else "grey"
    deg = hue * 360.0
    for limit, name in (
        (15, "red"),
        (45, "orange"),
        (70, "yellow"),
        (165, "green"),
        (195, "cyan"),
        (255, "blue"),
        (290, "purple"),
        (335, "magenta"),
        (361, "red"),
    ):
        if deg < limit:
            return name
    return "red"  # pragma: no cover


def end_names(cmap: pg.ColorMap) -> tuple[str, str]:
    """Names of the colours at the negative (0.0) and positive (1.0) ends of ``cmap``."""
    ends = cmap.map(np.array([0.0, 1.0]), mode="float")
    return color_name(ends[0]), color_name(ends[1])


def nice_ceil(x: float) -> float:
    """The smallest 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, …) that is ≥ ``x``."""
    if not math.isfinite(x) or x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    for base in (1.0, 2.0, 5.0, 10.0):
        step = base * 10.0**exp
        if step >= x * (1 - 1e-12):
            return float(f"{step:.6g}")
    return float(f"{10.0 ** (exp + 1):.6g}")  # pragma: no cover


def format_number(v: float | None, digits: int = 4) -> str:
    """Short UI text for a number: ``−0.01234``, ``1.5e+03``, ``–`` for None."""
    if v is None:
        return "–"
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    text = f"{v:.{digits}g}"
    return text.replace("-", "−")


def dark_theme() -> bool:
    """True when the application's palette is dark (a dark desktop theme).

    Read from the application palette rather than a widget's, because the
    panels that follow it set their own palettes.
    """
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.5


def dark_theme_change(event: QEvent, dark: bool) -> bool | None:
    """After a palette event: the new :func:`dark_theme` if it differs from ``dark``, else None."""
    if event.type() in (QEvent.Type.ApplicationPaletteChange, QEvent.Type.PaletteChange):
        now = dark_theme()
        if now != dark:
            return now
    return None


def style_legend(legend: pg.LegendItem, bg: QColor, fg: QColor) -> None:
    """A plot legend in the text colour ``fg`` on a card of the background ``bg``.

    The card keeps the labels readable over the curves they name.
    """
    card = QColor(bg)
    card.setAlpha(220)
    legend.setBrush(pg.mkBrush(card))
    legend.setPen(pg.mkPen(QColor(fg.red(), fg.green(), fg.blue(), 90)))
    legend.setLabelTextColor(fg)


class _LaidOutLegend(pg.LegendItem):
    """A legend placed by its plot's layout (pyqtgraph's own moves itself to (0, 0)).

    pyqtgraph's legend ignores transformations (it floats over a zoomable
    view); one laid out with the axes scales with them instead, so that an
    exported image of any size draws it at the size (and the place) the
    layout gave it, rather than at screen size in the corner of its cell.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)

    def updateSize(self) -> None:
        """Let the plot's layout place and size it (from the legend's own grid)."""
        self.updateGeometry()


def legend_under_plot(item: pg.PlotItem, columns: int, **options: object) -> pg.LegendItem:
    """A legend under the plot's x axis, outside the data, entered by ``plot(name=…)``.

    A legend inside the view box covers curves: a comparison's runs fill every
    corner of it (sigmoid's output ‖δ‖ along the top, ReLU's layers lower down).
    Here the plot gives up a row of height instead. ``options`` go to
    :class:`pyqtgraph.LegendItem`.
    """
    from PySide6.QtWidgets import QSizePolicy

    legend = _LaidOutLegend(colCount=max(1, columns), **options)
    legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
    item.layout.addItem(legend, 4, 1)
    item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
    item.legend = legend
    return legend


def fit_legend_columns(legend: pg.LegendItem, width: float, most: int) -> None:
    """As many columns (up to ``most``) as fit ``width`` pixels; one if none fit."""
    for n in range(max(1, most), 0, -1):
        legend.setColumnCount(n)
        if n == 1 or legend.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).width() <= width:
            return


#: A plot lower than this (pixels; a dock on a 720-pixel screen) is "low": its legend
#: saves rows before it centres, and the loss plot's is compact.
LOW_PLOT_PX = 360


def place_legend(item: pg.PlotItem, width: float, most: int, low: bool) -> None:
    """Lay out the legend of :func:`legend_under_plot` in a plot ``width`` pixels wide.

    As many columns (up to ``most``) as fit under the view box, centred under
    it as the title is over it; under the y axis too (centred under both) when
    one column is wider than the view box, or, in a ``low`` plot, when that
    saves a row: in a 720p dock a row of legend is a fifth of the plot's height.
    """
    legend = item.legend
    under_box = width - item.getAxis("left").width()
    entries = max(1, len(legend.items))

    def fit(room: float) -> tuple[int, bool]:  # rows, and whether it fits
        fit_legend_columns(legend, room, most)
        hint = legend.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).width()
        return -(-entries // legend.columnCount), hint <= room

    rows_wide = fit(width)[0] if low else entries
    rows, fits = fit(under_box)
    span = 1 if fits and rows <= rows_wide else 2
    if span == 2:
        fit(width)
    if span != getattr(legend, "span", 1):
        item.layout.removeItem(legend)
        item.layout.addItem(legend, 4, 2 - span, 1, span)
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
        legend.span = span


def scaled_font(scale: float = 1.0, extra_pt: float = 0.0, bold: bool = False) -> QFont:
    """The views' base font (≥ 11 pt) times ``scale`` (presenter mode)."""
    font = QFont()
    font.setPointSizeF(max(BASE_FONT_PT, (BASE_FONT_PT + extra_pt)) * max(scale, 0.5))
    font.setBold(bold)
    return font


class SymmetricScale:
    """Maps values to colours of a diverging map, clamped to a sticky ±range.

    Parameters
    ----------
    cmap : pyqtgraph.ColorMap, optional
        Defaults to :func:`diverging_map`.
    levels : int
        Number of distinct colours (odd, so 0 has its own colour). Values are
        quantised to these levels, which lets the views batch drawing by
        colour.
    shrink_ratio : float
        The range shrinks only when the data's max |value| stays below
        ``shrink_ratio × range`` ...
    patience : int
        ... for this many consecutive :meth:`update` calls.
    headroom : float
        A new range leaves this factor of room above the data's max |value|
        (1.25: the data fills at most 80 % of it), so a value that grows a
        little does not move the scale at once.

    Notes
    -----
    Value v maps to position ``t = clip(v / range, −1, 1)`` on the map, or
    ``sign(t)·|t|^γ`` in high-contrast mode, then to map position
    ``(t + 1) / 2``: 0 is always the map's centre.
    """

    def __init__(
        self,
        cmap: pg.ColorMap | None = None,
        *,
        levels: int = 129,
        shrink_ratio: float = 0.25,
        patience: int = 20,
        initial: float = 1.0,
        headroom: float = 1.0,
        fine: bool = False,
    ) -> None:
        if levels < 3 or levels % 2 == 0:
            raise ValueError(f"levels must be odd and ≥ 3, got {levels}")
        self.cmap = cmap if cmap is not None else diverging_map()
        self.n_levels = int(levels)
        self.shrink_ratio = float(shrink_ratio)
        self.patience = int(patience)
        self._initial = float(initial)
        self.headroom = max(float(headroom), 1.0)
        self.fine = bool(fine)
        self._gamma = 1.0
        self._lut = self._make_lut()
        self.reset()

    # -- range ----------------------------------------------------------------

    @property
    def range(self) -> float:
        """The current half-range r: values are clamped to [−r, r]."""
        return self._range

    @property
    def fresh(self) -> bool:
        """True until the first data arrives (after construction or :meth:`reset`)."""
        return self._fresh

    @property
    def high_contrast(self) -> bool:
        """True when small values are pushed towards saturated colours."""
        return self._gamma != 1.0

    def set_high_contrast(self, on: bool) -> None:
        """Presenter mode: mid values saturate sooner (γ < 1); 0 stays the centre."""
        gamma = HIGH_CONTRAST_GAMMA if on else 1.0
        if gamma != self._gamma:
            self._gamma = gamma
            self._lut = self._make_lut()

    def reset(self) -> None:
        """Forget the data seen so far (e.g. for a new architecture)."""
        self._range = self._initial
        self._fresh = True
        self._small_count = 0
        self._recent_peak = 0.0
        self._held_peak = 0.0

    def set_range(self, r: float) -> None:
        """Fix the range by hand (it still adapts on later :meth:`update` calls)."""
        self._range = nice_ceil(r)
        self._fresh = False
        self._small_count = 0
        self._recent_peak = 0.0

    def _fit(self, peak: float) -> float:
        x = peak * self.headroom
        if self.fine and math.isfinite(x) and x > 0:
            fine = float(f"{nice_ceil_fine(x):.6g}")
            if fine > 0:  # a subnormal peak (θ decayed to ~5e-324) can round to 0
                return fine
        return nice_ceil(x)

    def update(
        self, values: Iterable[np.ndarray | None] | np.ndarray, *, hold: bool = False
    ) -> bool:
        """Adapt the range to new data; returns True when the range changed.

        ``values`` is an array or an iterable of arrays (None entries are
        skipped). Non-finite values are ignored.

        With ``hold`` (someone is comparing pictures, e.g. stepping through
        the phases of one iteration) the range changes only when a value
        would otherwise be clipped, never shrinks, and the largest value
        seen is kept for :meth:`release`.
        """
        peak = _abs_peak(values)
        old = self._range
        if peak <= 0.0:
            return False
        if hold:
            self._held_peak = max(self._held_peak, peak)
            if self._fresh or peak > self._range:
                self._range = self._fit(peak)
                self._fresh = False
                self._small_count = 0
                self._recent_peak = 0.0
            return self._range != old
        if self._fresh:
            self._range = self._fit(peak)
            self._fresh = False
        elif peak * self.headroom > self._range:
            self._range = self._fit(peak)
            self._small_count = 0
            self._recent_peak = 0.0
        elif peak < self._range * self.shrink_ratio:
            self._small_count += 1
            self._recent_peak = max(self._recent_peak, peak)
            if self._small_count >= self.patience:
                self._range = self._fit(self._recent_peak)
                self._small_count = 0
                self._recent_peak = 0.0
        else:
            self._small_count = 0
            self._recent_peak = 0.0
        return self._range != old

    def release(self) -> bool:
        """End a hold: adapt to the largest value seen while holding, as one update.

        Returns True when the range changed.
        """
        peak, self._held_peak = self._held_peak, 0.0
        if peak <= 0.0:
            return False
        return self.update(np.array([peak]))

    # -- mapping ----------------------------------------------------------------

    @property
    def lut(self) -> np.ndarray:
        """(levels, 4) RGBA floats: the colour of each level, negative end first."""
        return self._lut

    def _make_lut(self) -> np.ndarray:
        t = np.linspace(-1.0, 1.0, self.n_levels)
        if self._gamma != 1.0:
            t = np.sign(t) * np.abs(t) ** self._gamma
        lut = np.asarray(self.cmap.map((t + 1.0) * 0.5, mode="float"), dtype=np.float64)
        if lut.shape[1] == 3:
            lut = np.concatenate([lut, np.ones((lut.shape[0], 1))], axis=1)
        return lut

    def normalized(self, values: np.ndarray) -> np.ndarray:
        """t = clip(v / range, −1, 1); NaN stays NaN."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return np.clip(v / self._range, -1.0, 1.0)

    def levels(self, values: np.ndarray) -> np.ndarray:
        """Level index of each value (0 = most negative); −1 for NaN."""
        t = self.normalized(values)
        half = (self.n_levels - 1) // 2
        nan = np.isnan(t)
        t = np.where(nan, 0.0, t)
        idx = np.rint(t * half).astype(np.intp) + half
        idx[nan] = -1
        return idx

    def rgba_of_levels(self, idx: np.ndarray) -> np.ndarray:
        """(n, 4) RGBA floats for level indices (−1 gives :data:`NEUTRAL`)."""
        idx = np.asarray(idx, dtype=np.intp)
        out = self._lut[np.clip(idx, 0, self.n_levels - 1)]
        bad = idx < 0
        if np.any(bad):
            out = out.copy()
            out[bad] = _NEUTRAL_RGBA
        return out

    def rgba(self, values: np.ndarray) -> np.ndarray:
        """(n, 4) RGBA floats in 0..1 for ``values`` (NaN gives :data:`NEUTRAL`)."""
        return self.rgba_of_levels(self.levels(np.ravel(values)))

    def color(self, value: float | None) -> QColor:
        """One QColor (None and NaN give :data:`NEUTRAL`)."""
        if value is None:
            return QColor(NEUTRAL)
        r, g, b, a = self.rgba(np.array([value]))[0]
        return QColor.fromRgbF(r, g, b, a)

    def qcolors(self, values: np.ndarray) -> list[QColor]:
        """A QColor per value."""
        return [QColor.fromRgbF(*map(float, c)) for c in self.rgba(values)]

    def brushes(self, values: np.ndarray) -> list[QBrush]:
        """A QBrush per value."""
        return [QBrush(c) for c in self.qcolors(values)]

    def pens(self, values: np.ndarray, widths: np.ndarray | float = 1.0) -> list[QPen]:
        """A cosmetic QPen per value, with a width per value (pixels) or one width."""
        cols = self.qcolors(values)
        w = np.broadcast_to(np.asarray(widths, dtype=np.float64), (len(cols),))
        pens = []
        for c, wi in zip(cols, w, strict=True):
            pen = QPen(c, float(wi))
            pen.setCosmetic(True)
            pens.append(pen)
        return pens

    def end_names(self) -> tuple[str, str]:
        """Names of the negative and positive end colours, e.g. ("blue", "red")."""
        return end_names(self.cmap)


def _abs_peak(values: Iterable[np.ndarray | None] | np.ndarray) -> float:
    """Largest finite |value| over an array or an iterable of arrays (0 if none)."""
    arrays = [values] if isinstance(values, np.ndarray) else list(values)
    peak = 0.0
    for a in arrays:
        if a is None:
            continue
        a = np.asarray(a, dtype=np.float64)
        finite = np.isfinite(a)
        if not finite.all():
            a = a[finite]
        if a.size:
            peak = max(peak, float(np.abs(a).max()))
    return peak


class ColorBarLegend(QWidget):
    """A horizontal colour bar with a title, its ±range and what each end means.

    Parameters
    ----------
    scale : SymmetricScale
        The scale whose colours and range are shown (read at every paint).
    title : str
        E.g. ``"θ (weight)"`` or ``"δ = ∂Err/∂u"``.
    neutral_text : str, optional
        When given, a grey swatch with this caption is drawn too (e.g. "not
        computed yet").
    """

    def __init__(
        self,
        scale: SymmetricScale,
        title: str,
        neutral_text: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._scale = scale
        self._title = title
        self._neutral_text = neutral_text
        self._font_scale = 1.0
        self._high_contrast = False
        self._note = ""
        self._compact = False
        self._picture: QPixmap | None = None  # the legend as last drawn ...
        self._picture_key: tuple | None = None  # ... and what it showed
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._base_tooltip = f"grey: {neutral_text}" if neutral_text else ""
        self.setToolTip(self._base_tooltip)
        self._update_height()

    # -- public ----------------------------------------------------------------

    def title(self) -> str:
        """The title text."""
        return self._title

    def range_text(self) -> str:
        """The range as shown, e.g. ``"−0.5 … +0.5"``."""
        r = self._scale.range
        return f"{format_number(-r, 3)} … +{format_number(r, 3)}"

    def note(self) -> str:
        """The highlighted note beside the title ("" when none is shown)."""
        return self._note

    def set_note(self, text: str, tooltip: str = "") -> None:
        """Show ``text`` highlighted beside the title, e.g. that the range just changed."""
        text = str(text)
        if text != self._note:
            self._note = text
            self.update()
        tip = "\n".join(t for t in (tooltip if text else "", self._base_tooltip) if t)
        if tip != self.toolTip():
            self.setToolTip(tip)

    def end_texts(self) -> tuple[str, str]:
        """Captions of the two ends, e.g. ("blue = negative", "red = positive")."""
        neg, pos = self._scale.end_names()
        return f"{neg} = negative", f"{pos} = positive"

    def set_font_scale(self, f: float) -> None:
        """Scale all text (presenter mode)."""
        self._font_scale = float(f)
        self._update_height()
        self.update()

    def set_high_contrast(self, on: bool) -> None:
        """Black frame and bolder text."""
        self._high_contrast = bool(on)
        self.update()

    def set_compact(self, on: bool) -> None:
        """One line fewer (presenter mode): the end captions share the range's line,
        e.g. "−1.5 blue = negative … 0 … red = positive +1.5"."""
        self._compact = bool(on)
        self._update_height()
        self.update()

    def is_compact(self) -> bool:
        """Whether the end captions share the range's line."""
        return self._compact

    # -- Qt ----------------------------------------------------------------------

    def _fonts(self) -> tuple[QFont, QFont]:
        title = scaled_font(self._font_scale, 1.0, bold=True)
        small = scaled_font(self._font_scale, 0.0, bold=self._high_contrast)
        return title, small

    def _update_height(self) -> None:
        title, small = self._fonts()
        h = (
            QFontMetricsF(title).height()
            + 14 * self._font_scale
            + (1 if self._compact else 2) * QFontMetricsF(small).height()
            + 10
        )
        self.setFixedHeight(math.ceil(h))

    def sizeHint(self) -> QSize:
        """Wide enough for the captions."""
        _, small = self._fonts()
        fm = QFontMetricsF(small)
        neg, pos = self.end_texts()
        w = fm.horizontalAdvance(neg) + fm.horizontalAdvance(pos) + 60
        return QSize(math.ceil(w), self.height())

    def minimumSizeHint(self) -> QSize:
        """Room for the bar and the range."""
        return QSize(160, self.height())

    def paintEvent(self, event) -> None:
        """Title, gradient bar, tick values and end captions.

        The legend changes only when its scale's range, colours or the
        style change, so it is drawn once into a picture and copied after.
        """
        dpr = self.devicePixelRatioF()
        pal = self.palette()
        key = (
            self.width(),
            self.height(),
            dpr,
            self._scale.range,
            self._scale.high_contrast,
            id(self._scale.lut),
            self._font_scale,
            self._high_contrast,
            self._note,
            self._compact,
            self._title,
            pal.color(QPalette.ColorRole.WindowText).rgba(),
            pal.color(QPalette.ColorRole.Window).rgba(),
        )
        if key != self._picture_key or self._picture is None:
            pm = QPixmap(
                max(1, math.ceil(self.width() * dpr)), max(1, math.ceil(self.height() * dpr))
            )
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            q = QPainter(pm)
            self._paint(q)
            q.end()
            self._picture, self._picture_key = pm, key
        p = QPainter(self)
        p.drawPixmap(0, 0, self._picture)
        p.end()

    def _paint(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pal = self.palette()
        text_color = pal.color(QPalette.ColorRole.WindowText)
        title_font, small = self._fonts()
        fm_t, fm_s = QFontMetricsF(title_font), QFontMetricsF(small)
        pad = 6.0
        w = float(self.width())
        y = 2.0
        # Title; the neutral swatch goes at the right of the title line, or
        # between the end captions, or (when nothing fits) is left out.
        p.setFont(title_font)
        p.setPen(text_color)
        title_h = fm_t.height()
        title_w = fm_t.horizontalAdvance(self._title)
        p.drawText(QRectF(pad, y, w - 2 * pad, title_h), Qt.AlignmentFlag.AlignLeft, self._title)
        if self._note:
            # Highlighted, so that a change of scale is seen, not just read.
            x0 = pad + title_w + 10
            note = fm_s.elidedText(
                self._note, Qt.TextElideMode.ElideRight, max(w - pad - x0 - 8, 0)
            )
            box = QRectF(x0, y + 1, fm_s.horizontalAdvance(note) + 8, title_h - 2)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QBrush(QColor(255, 200, 40)))
            p.drawRoundedRect(box, 3, 3)
            p.setFont(small)
            p.setPen(QColor(0, 0, 0))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, note)
            p.setFont(title_font)
            p.setPen(text_color)
            title_w += 10 + box.width()
        neutral_at: tuple[float, float] | None = None  # (x of swatch, y of line)
        if self._neutral_text:
            tw = fm_s.horizontalAdvance(self._neutral_text)
            sw = fm_s.height() * 0.8
            need = sw + 5 + tw
            neg, pos = self.end_texts()
            ends_w = fm_s.horizontalAdvance(neg) + fm_s.horizontalAdvance(pos)
            if pad + title_w + 16 + need + pad <= w:
                neutral_at = (w - pad - need, y)
            elif not self._compact and ends_w + need + 32 + 2 * pad <= w:
                neutral_at = (-1.0, -1.0)  # placed on the captions line below
        y += title_h + 2
        # The bar.
        bar_h = 14.0 * self._font_scale
        bar = QRectF(pad, y, w - 2 * pad, bar_h)
        grad = QLinearGradient(bar.left(), 0.0, bar.right(), 0.0)
        lut = self._scale.lut
        n = lut.shape[0]
        for j in range(0, n, max(1, n // 32)):
            grad.setColorAt(j / (n - 1), QColor.fromRgbF(*map(float, lut[j])))
        grad.setColorAt(1.0, QColor.fromRgbF(*map(float, lut[-1])))
        p.setBrush(QBrush(grad))
        frame = QColor(0, 0, 0) if self._high_contrast else QColor(100, 100, 100)
        p.setPen(QPen(frame, 1.5 if self._high_contrast else 1.0))
        p.drawRect(bar)
        # Ticks at −r, 0, +r.
        p.setPen(QPen(text_color, 1.0))
        for fx in (0.0, 0.5, 1.0):
            x = bar.left() + fx * bar.width()
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 4))
        y = bar.bottom() + 4
        r = self._scale.range
        p.setFont(small)
        line_h = fm_s.height()
        left = format_number(-r, 3)
        right = "+" + format_number(r, 3)
        neg, pos = self.end_texts()
        neg_name, pos_name = self._scale.end_names()
        if self._compact:
            # The captions share the range's line, on the sides away from the 0.
            zero_w = fm_s.horizontalAdvance("0")
            room = (w - 2 * pad - zero_w) / 2 - 12
            neg, pos = f"{left}  {neg}", f"{pos}  {right}"
            if max(fm_s.horizontalAdvance(neg), fm_s.horizontalAdvance(pos)) > room:
                neg, pos = f"{left}  {neg_name} < 0", f"{pos_name} > 0  {right}"
            if max(fm_s.horizontalAdvance(neg), fm_s.horizontalAdvance(pos)) > room:
                neg, pos = left, right
            p.drawText(QRectF(w / 3, y, w / 3, line_h), Qt.AlignmentFlag.AlignHCenter, "0")
        else:
            p.drawText(QRectF(pad, y, w / 3, line_h), Qt.AlignmentFlag.AlignLeft, left)
            p.drawText(QRectF(w / 3, y, w / 3, line_h), Qt.AlignmentFlag.AlignHCenter, "0")
            p.drawText(
                QRectF(2 * w / 3 - pad, y, w / 3, line_h), Qt.AlignmentFlag.AlignRight, right
            )
            y += line_h
            if fm_s.horizontalAdvance(neg) + fm_s.horizontalAdvance(pos) + 16 > w - 2 * pad:
                neg, pos = f"{neg_name} < 0", f"{pos_name} > 0"
        p.drawText(QRectF(pad, y, w / 2, line_h), Qt.AlignmentFlag.AlignLeft, neg)
        p.drawText(QRectF(w / 2 - pad, y, w / 2, line_h), Qt.AlignmentFlag.AlignRight, pos)
        if neutral_at is not None:
            tw = fm_s.horizontalAdvance(self._neutral_text)
            sw = fm_s.height() * 0.8
            if neutral_at[0] < 0:  # centred between the end captions
                left_end = pad + fm_s.horizontalAdvance(neg)
                right_end = w - pad - fm_s.horizontalAdvance(pos)
                neutral_at = ((left_end + right_end - (sw + 5 + tw)) / 2, y)
                h = line_h
            else:
                h = title_h
            x0, y0 = neutral_at
            p.setBrush(QBrush(NEUTRAL))
            p.setPen(QPen(QColor(90, 90, 90), 1.0))
            p.drawRect(QRectF(x0, y0 + (h - sw) / 2, sw, sw))
            p.setPen(text_color)
            p.drawText(
                QRectF(x0 + sw + 5, y0, tw + 2, h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self._neutral_text,
            )
