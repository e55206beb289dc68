"""The network picture of a handout as plain data, and its SVG and LaTeX renderers.

:func:`layout` computes once where every neuron and edge goes, what it says
and its colour; :func:`to_svg` and :func:`to_latex_picture` only draw that
(the PDF draws the same layout with QPainter in :mod:`bpviz.handout_pdf`).
Coordinates are in points, y downwards, origin top left.

:func:`network_picture` colours the same layout as the app's network view
does (edges by θ, neurons by δ, on the diverging colorcet map ``CET-D1`` with
a symmetric ±range rounded up to a nice number, grey where δ is not computed
yet): it is what a :class:`~bpviz.engine.Network`, ``Trainer`` or
``Snapshot`` shows in a notebook (:func:`display_svg`). No Qt: the map's
table is read from the file pyqtgraph ships, without importing pyqtgraph.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .expr import fmt
from .model import neuron_number

__all__ = [
    "EdgeArt",
    "Layout",
    "Legend",
    "NodeArt",
    "display_svg",
    "diverging_lut",
    "layout",
    "network_picture",
    "to_latex_picture",
    "to_svg",
    "value_colors",
]

#: Edge labels are written only when the network has at most this many θ.
MAX_LABELS = 24
#: θ ≥ 0 and θ < 0 in a handout's picture: the two ends of the app's diverging map (red
#: positive, blue negative, as the network view and its legend show them).
POSITIVE = "#c00206"
NEGATIVE = "#2151db"
#: What the two colours mean, for captions.
SIGN_KEY = "red θ ≥ 0, blue θ < 0, as in the app"
INK = "#1b1b1b"
BIAS_FILL = "#eeeeee"


@dataclass(frozen=True, slots=True)
class NodeArt:
    x: float
    y: float
    r: float
    label: str
    bias: bool = False
    fill: str = "#ffffff"
    ink: str = INK


@dataclass(frozen=True, slots=True)
class EdgeArt:
    x1: float
    y1: float
    x2: float
    y2: float
    color: str
    width: float
    label: str  # "" when the picture is too busy for labels
    lx: float
    ly: float


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    font: float  # the neuron labels' size
    nodes: tuple[NodeArt, ...]
    edges: tuple[EdgeArt, ...]
    labelled: bool
    layer_names: tuple[tuple[float, str], ...]
    caption: str = ""
    legends: tuple[Legend, ...] = ()


@dataclass(frozen=True, slots=True)
class Legend:
    """A colour bar under the picture: title, ±range and the map's colours."""

    title: str
    range: float
    stops: tuple[str, ...]  # evenly spaced colours from −range to +range
    note: str = ""  # e.g. "grey: not computed yet"


def layout(
    sizes: Sequence[int],
    weights: Sequence[object],
    biases: Sequence[object] | None,
    width: float = 440.0,
    labels: bool = True,
) -> Layout:
    """Place the neurons layer by layer, the bias inputs o_0 = 1 on top (grey, labelled 0).

    ``weights[k][i, src]`` and ``biases[k][i]`` label the edges (θ before the
    update); with more than :data:`MAX_LABELS` θ the edges only show the
    sign (colour) and size (width) of θ.
    """
    sizes = [int(n) for n in sizes]
    n_layers = len(sizes)
    bias = biases is not None
    tallest = max(sizes) + (1 if bias else 0)
    step_y = 46.0 if tallest <= 4 else max(24.0, 200.0 / tallest)
    r = min(13.0, step_y * 0.36)
    top = 26.0
    height = top + step_y * tallest + 10.0
    margin = 34.0
    step_x = (width - 2 * margin) / max(1, n_layers - 1)
    pos: dict[tuple[int, int], tuple[float, float]] = {}
    nodes: list[NodeArt] = []
    for l, n in enumerate(sizes):
        x = margin + l * step_x
        extra = 1 if bias and l < n_layers - 1 else 0
        y0 = top + step_y * (tallest - n - extra) / 2 + step_y / 2
        if extra:
            pos[(l, -1)] = (x, y0)
            nodes.append(NodeArt(x, y0, r * 0.8, "0", bias=True))
            y0 += step_y
        for i in range(n):
            pos[(l, i)] = (x, y0 + i * step_y)
            nodes.append(NodeArt(x, y0 + i * step_y, r, str(neuron_number(sizes, l, i))))
    count = sum((sizes[k] + (1 if bias else 0)) * sizes[k + 1] for k in range(n_layers - 1))
    labelled = labels and count <= MAX_LABELS
    values = []
    for k in range(n_layers - 1):
        w = weights[k]
        for i in range(sizes[k + 1]):
            for s in range(sizes[k]):
                values.append(float(w[i, s]))  # type: ignore[index]
            if bias:
                values.append(float(biases[k][i]))  # type: ignore[index]
    biggest = max((abs(v) for v in values), default=1.0) or 1.0
    edges: list[EdgeArt] = []
    m = 0
    for k in range(n_layers - 1):
        srcs = list(range(sizes[k])) + ([-1] if bias else [])
        for i in range(sizes[k + 1]):
            for order, s in enumerate(srcs):
                v = values[m]
                m += 1
                x1, y1 = pos[(k, s)]
                x2, y2 = pos[(k + 1, i)]
                t = 0.28 + 0.16 * (order % 3)  # stagger labels of edges that meet
                label = ""
                if labelled:
                    a = neuron_number(sizes, k + 1, i)
                    b = 0 if s < 0 else neuron_number(sizes, k, s)
                    sub = f"{a}{b}" if a < 10 and b < 10 else f"{a},{b}"
                    label = f"θ{sub} = {fmt(v)}"
                edges.append(
                    EdgeArt(
                        x1,
                        y1,
                        x2,
                        y2,
                        POSITIVE if v >= 0 else NEGATIVE,
                        0.6 + 2.4 * min(1.0, abs(v) / biggest),
                        label,
                        x2 + (x1 - x2) * (1 - t),
                        y2 + (y1 - y2) * (1 - t),
                    )
                )
    names = []
    for l in range(n_layers):
        name = "input" if l == 0 else "output" if l == n_layers - 1 else f"hidden {l}"
        names.append((margin + l * step_x, name))
    digits = len(str(sum(sizes)))
    font = min(10.0, 2.2 * r / max(1, digits) * 1.25)
    return Layout(width, height, font, tuple(nodes), tuple(edges), labelled, tuple(names))


def to_svg(lay: Layout) -> str:
    """A standalone SVG (no external references)."""
    height = lay.height + (LEGEND_HEIGHT if lay.legends else 0.0)
    height += CAPTION_HEIGHT if lay.caption else 0.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {lay.width:.1f} {height:.1f}" '
        'font-family="DejaVu Sans, Arial, sans-serif">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for e in lay.edges:
        out.append(
            f'<line x1="{e.x1:.1f}" y1="{e.y1:.1f}" x2="{e.x2:.1f}" y2="{e.y2:.1f}" '
            f'stroke="{e.color}" stroke-width="{e.width:.2f}"/>'
        )
    for n in lay.nodes:
        fill = BIAS_FILL if n.bias else n.fill
        out.append(
            f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{n.r:.1f}" fill="{fill}" '
            f'stroke="{INK}" stroke-width="1"/>'
            f'<text x="{n.x:.1f}" y="{n.y + lay.font * 0.35:.1f}" font-size="{lay.font:.1f}" '
            'text-anchor="middle" '
            f'fill="{n.ink}">{html.escape(n.label)}</text>'
        )
    for e in lay.edges:
        if e.label:
            w = 5.0 * len(e.label)  # DejaVu Sans at 8.5: about 5 units a character
            out.append(
                f'<rect x="{e.lx - w / 2:.1f}" y="{e.ly - 10:.1f}" width="{w:.1f}" height="10" '
                'fill="#ffffff" fill-opacity="0.85"/>'
                f'<text x="{e.lx:.1f}" y="{e.ly - 2:.1f}" font-size="8.5" text-anchor="middle" '
                f'fill="{e.color}">{_svg_label(e.label)}</text>'
            )
    for x, name in lay.layer_names:
        out.append(
            f'<text x="{x:.1f}" y="12" font-size="9" text-anchor="middle" '
            f'fill="#7a7a7a">{html.escape(name)}</text>'
        )
    y = lay.height
    if lay.legends:
        out += _svg_legends(lay.legends, lay.width, y)
        y += LEGEND_HEIGHT
    if lay.caption:
        out.append(
            f'<text x="{lay.width / 2:.1f}" y="{y + 14:.1f}" font-size="11" '
            f'text-anchor="middle" fill="{INK}">{html.escape(lay.caption)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


#: Height of the colour bars under a picture, and of its caption line.
LEGEND_HEIGHT = 46.0
CAPTION_HEIGHT = 20.0


def _svg_legends(legends: Sequence[Legend], width: float, top: float) -> list[str]:
    out = []
    slot = width / len(legends)
    for m, leg in enumerate(legends):
        x0, w = m * slot + 14.0, slot - 28.0
        gid = f"bpviz-legend-{m}-{zlib.crc32(','.join(leg.stops).encode()):08x}"
        stops = "".join(
            f'<stop offset="{j / max(len(leg.stops) - 1, 1):.3f}" stop-color="{c}"/>'
            for j, c in enumerate(leg.stops)
        )
        r = _short(leg.range)
        out.append(
            f'<defs><linearGradient id="{gid}">{stops}</linearGradient></defs>'
            f'<text x="{x0:.1f}" y="{top + 11:.1f}" font-size="10" font-weight="bold" '
            f'fill="{INK}">{html.escape(leg.title)}</text>'
            f'<rect x="{x0:.1f}" y="{top + 15:.1f}" width="{w:.1f}" height="9" '
            f'fill="url(#{gid})" stroke="#999999" stroke-width="0.5"/>'
            f'<text x="{x0:.1f}" y="{top + 35:.1f}" font-size="9" fill="{INK}">'
            f"−{r}</text>"
            f'<text x="{x0 + w / 2:.1f}" y="{top + 35:.1f}" font-size="9" text-anchor="middle" '
            f'fill="{INK}">0</text>'
            f'<text x="{x0 + w:.1f}" y="{top + 35:.1f}" font-size="9" text-anchor="end" '
            f'fill="{INK}">+{r}</text>'
        )
        if leg.note:
            out.append(
                f'<text x="{x0 + w:.1f}" y="{top + 11:.1f}" font-size="9" text-anchor="end" '
                f'fill="#7a7a7a">{html.escape(leg.note)}</text>'
            )
    return out


def _short(v: float) -> str:
    return f"{v:g}"


def _svg_label(text: str) -> str:
    """θ31 = −0.5 with the indices as a subscript (tspan)."""
    name, _, value = text.partition(" = ")
    return (
        f'θ<tspan font-size="6.5" dy="2">{html.escape(name[1:])}</tspan>'
        f'<tspan dy="-2">\u00a0= {html.escape(value)}</tspan>'
    )


def _tex_label(text: str) -> str:
    """θ31 = −0.5 as LaTeX."""
    name, _, value = text.partition(" = ")
    sub = name[1:]
    value = value.replace("−", "-")
    if "e" in value:
        mant, ex = value.split("e")
        value = rf"{mant}\times 10^{{{int(ex)}}}"
    return rf"$\theta_{{{sub}}} = {value}$"


def _rgb(color: str) -> str:
    """ "#1558b0" as PDF colour operands "0.0824 0.3451 0.6902"."""
    return " ".join(f"{int(color[m : m + 2], 16) / 255:.4f}" for m in (1, 3, 5))


def _pdf_circle(x: float, y: float, r: float) -> str:
    """A circle as four Bézier curves (PDF path operators)."""
    k = 0.5523 * r
    return (
        f"{x + r:.2f} {y:.2f} m "
        f"{x + r:.2f} {y + k:.2f} {x + k:.2f} {y + r:.2f} {x:.2f} {y + r:.2f} c "
        f"{x - k:.2f} {y + r:.2f} {x - r:.2f} {y + k:.2f} {x - r:.2f} {y:.2f} c "
        f"{x - r:.2f} {y - k:.2f} {x - k:.2f} {y - r:.2f} {x:.2f} {y - r:.2f} c "
        f"{x + k:.2f} {y - r:.2f} {x + r:.2f} {y - k:.2f} {x + r:.2f} {y:.2f} c"
    )


def to_latex_picture(lay: Layout) -> str:
    """A LaTeX ``picture``: lines and circles as PDF drawing operators, labels as text.

    The drawing goes through pdfTeX's ``\\pdfliteral`` (vector, any slope, no
    limit on the number of lines), so the document needs pdflatex.
    """
    h = lay.height
    ops = ["q 0.99626 0 0 0.99626 0 0 cm"]  # bp → pt: \unitlength is 1pt
    for e in lay.edges:
        ops.append(
            f"{_rgb(e.color)} RG {e.width:.2f} w "
            f"{e.x1:.2f} {h - e.y1:.2f} m {e.x2:.2f} {h - e.y2:.2f} l S"
        )
    ink = _rgb(INK)
    for n in lay.nodes:
        fill = _rgb(BIAS_FILL if n.bias else "#ffffff")
        ops.append(f"{fill} rg {ink} RG 0.8 w {_pdf_circle(n.x, h - n.y, n.r)} B")
    ops.append("Q")
    out = [
        r"\setlength{\unitlength}{1pt}",
        rf"\begin{{picture}}({lay.width:.0f},{lay.height:.0f})",
        r"\put(0,0){\pdfliteral{" + "\n".join(ops) + "}}",
    ]
    colors = {POSITIVE: "bppositive", NEGATIVE: "bpnegative"}
    for n in lay.nodes:
        size = rf"\fontsize{{{lay.font:.1f}}}{{{lay.font + 1:.1f}}}\selectfont"
        out.append(rf"\put({n.x:.1f},{h - n.y:.1f}){{\makebox(0,0){{{size} {n.label}}}}}")
    for e in lay.edges:
        if e.label:
            c = colors.get(e.color, "black")
            out.append(
                rf"\put({e.lx:.1f},{h - e.ly + 3:.1f}){{\makebox(0,0){{\colorbox{{white}}"
                rf"{{\color{{{c}}}\tiny {_tex_label(e.label)}}}}}}}"
            )
    for x, name in lay.layer_names:
        out.append(
            rf"\put({x:.1f},{h - 10:.1f}){{\makebox(0,0){{\scriptsize\color{{gray}} {name}}}}}"
        )
    out.append(r"\end{picture}")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# The app's colours without Qt: the notebook picture
# ---------------------------------------------------------------------------

#: The diverging map the app uses (:data:`bpviz.views.colors.DIVERGING_MAP`).
DIVERGING_MAP = "CET-D1"
#: Distinct colours of the app's symmetric scale (``SymmetricScale(levels=129)``).
LEVELS = 129
#: Fill for δ not computed yet (:data:`bpviz.views.colors.NEUTRAL`).
NEUTRAL = (178, 178, 178)


@functools.cache
def diverging_lut(levels: int = LEVELS) -> np.ndarray:
    """(levels, 3) RGB floats in 0..1: the map's colour of each level, negative end first.

    The table is pyqtgraph's ``colors/maps/CET-D1.csv``, read as pyqtgraph
    reads it (each channel rounded to 0..255) and interpolated linearly at
    evenly spaced levels, as ``ColorMap.map`` does.
    """
    spec = importlib.util.find_spec("pyqtgraph")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise RuntimeError("pyqtgraph (a bpviz dependency) is not installed")
    table = Path(spec.origin).parent / "colors" / "maps" / f"{DIVERGING_MAP}.csv"
    rows = []
    for line in table.read_text().splitlines():
        line = line.split(";", 1)[0].strip()
        parts = line.split(",")
        if len(parts) >= 3:
            rows.append([int(255 * float(c) + 0.5) for c in parts[:3]])
    colors = np.array(rows, dtype=np.float64) / 255.0
    stops = np.linspace(0.0, 1.0, len(colors))
    t = np.linspace(0.0, 1.0, levels)
    return np.stack([np.interp(t, stops, colors[:, c]) for c in range(3)], axis=1)


#: The app's θ and δ scales leave this factor of room above the largest |value|
#: (``SymmetricScale(headroom=1.25, fine=True)`` in :mod:`bpviz.views.network_view`) ...
HEADROOM = 1.25
#: ... and round the range up to one of these × 10ᵏ (:data:`bpviz.views.auto_range.NICE_MANTISSAS`).
NICE_MANTISSAS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil_fine(v: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ᵏ that is ≥ ``v`` > 0."""
    p = 10.0 ** math.floor(math.log10(v))
    for m in NICE_MANTISSAS:
        if m * p >= v * (1 - 1e-12):
            return float(f"{m * p:.6g}")
    return float(f"{10.0 * p:.6g}")  # pragma: no cover


def symmetric_range(values: np.ndarray) -> float:
    """±range for ``values`` as the app's view picks it for a first snapshot (1 if none).

    The largest finite |value| times :data:`HEADROOM`, rounded up to a nice
    number; a test holds this to the network view's own scale.
    """
    v = np.asarray(values, dtype=np.float64)
    v = np.abs(v[np.isfinite(v)])
    if not v.size or v.max() <= 0:
        return 1.0
    r = nice_ceil_fine(float(v.max()) * HEADROOM)
    # Subnormal values (a vanished δ, ~1e-320) round to 0 as powers of ten: keep a range > 0.
    return r if r > 0 and math.isfinite(r) else max(float(v.max()), math.ulp(0.0))


def value_colors(values: np.ndarray, rng: float) -> np.ndarray:
    """(n, 3) RGB floats: each value's level on the map at ±``rng``; NaN → :data:`NEUTRAL`."""
    lut = diverging_lut()
    half = (LEVELS - 1) // 2
    v = np.ravel(np.asarray(values, dtype=np.float64))
    nan = np.isnan(v)
    with np.errstate(invalid="ignore", over="ignore"):
        t = np.clip(np.where(nan, 0.0, v) / rng, -1.0, 1.0)
    out = lut[np.rint(t * half).astype(np.intp) + half].copy()
    out[nan] = np.array(NEUTRAL, dtype=np.float64) / 255.0
    return out


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(float(c) * 255):02x}" for c in rgb)


def network_picture(
    sizes: Sequence[int],
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray] | None,
    delta: Sequence[np.ndarray | None] | None = None,
    *,
    sample: int = 0,
    width: float = 480.0,
    caption: str = "",
) -> Layout:
    """The network coloured as the app colours it: edges by θ, neurons by δ.

    Positions come from :func:`layout` (the handout's picture); colours from
    the app's map and scale: θ on ±(1.25 × max |θ| rounded up to a nice number), δ of batch
    row ``sample`` likewise, grey where δ is None (not computed yet, or no
    iteration). Edge width grows with |θ| as in the app.
    """
    sizes = [int(n) for n in sizes]
    base = layout(sizes, weights, biases, width=width, labels=False)
    theta = []
    for k in range(len(sizes) - 1):
        for i in range(sizes[k + 1]):
            theta.extend(float(x) for x in np.asarray(weights[k])[i, :])
            if biases is not None:
                theta.append(float(np.asarray(biases[k])[i]))
    theta_arr = np.array(theta, dtype=np.float64)
    t_range = symmetric_range(theta_arr)
    t_rgb = value_colors(theta_arr, t_range)
    mag = np.clip(np.abs(np.nan_to_num(theta_arr)) / t_range, 0.0, 1.0)
    edges = tuple(
        replace(e, color=_hex(t_rgb[m]), width=0.8 + 3.2 * float(mag[m]))
        for m, e in enumerate(base.edges)
    )
    d_vals = []
    for l in range(1, len(sizes)):
        d = None if delta is None else delta[l]
        if d is None or np.asarray(d).shape[0] == 0:
            d_vals.extend([math.nan] * sizes[l])
        else:
            d = np.asarray(d)
            d_vals.extend(float(x) for x in d[min(sample, d.shape[0] - 1)])
    d_arr = np.array(d_vals, dtype=np.float64)
    d_range = symmetric_range(d_arr)
    d_rgb = value_colors(d_arr, d_range)
    nodes = []
    m = 0
    for n in base.nodes:
        if n.bias or int(n.label) <= sizes[0]:
            nodes.append(n)  # bias inputs and the input layer carry no δ
            continue
        rgb = d_rgb[m]
        m += 1
        light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        nodes.append(replace(n, fill=_hex(rgb), ink="#ffffff" if light < 0.5 else INK))
    lut = diverging_lut()
    stops = tuple(_hex(lut[j]) for j in range(0, LEVELS, 16))
    missing = bool(np.isnan(d_arr).any())
    legends = (
        Legend("θ (weight)", t_range, stops),
        Legend(
            "δ = ∂Err/∂u",
            d_range,
            stops,
            "grey: not computed yet" if missing else "",
        ),
    )
    return replace(base, nodes=tuple(nodes), edges=edges, caption=caption, legends=legends)


def display_svg(thing: Any) -> str:
    """The notebook picture of a Network, Trainer or Snapshot, as SVG text.

    A Trainer shows its latest state (δ of the last iteration, if any) and
    iteration count without moving its snapshot cursor; a Network has no δ
    (grey neurons).
    """
    from bpviz.engine import Network, Snapshot, Trainer

    if isinstance(thing, Trainer):
        snap = thing.snapshot(advance=False)
        caption = f"iteration {snap.iteration:,}"
        if snap.err is not None:
            caption += f" · Err = {fmt(snap.err)} (last batch)"
        net = thing.net
        return to_svg(
            network_picture(
                net.sizes,
                snap.weights,
                snap.biases if net.bias else None,
                snap.delta,
                caption=caption,
            )
        )
    if isinstance(thing, Snapshot):
        sizes = [int(thing.weights[0].shape[1])] + [int(w.shape[0]) for w in thing.weights]
        caption = f"iteration {thing.iteration:,}"
        if thing.phase is not None:
            phase = thing.phase
            caption += f" · phase {phase.index + 1} of {phase.count}: {phase.title}"
        return to_svg(
            network_picture(sizes, thing.weights, thing.biases, thing.delta, caption=caption)
        )
    if isinstance(thing, Network):
        return to_svg(
            network_picture(
                thing.sizes,
                thing.weights,
                thing.biases if thing.bias else None,
                None,
                caption=f"{'–'.join(str(n) for n in thing.sizes)} network · "
                f"{thing.activation.name}, output {thing.output_activation.name}",
            )
        )
    raise TypeError(f"no picture for {type(thing).__name__}")
