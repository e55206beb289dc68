"""The network picture of a handout as plain data, and its SVG and LaTeX renderers.

:func:`layout` computes once where every neuron and edge goes, what it says
and its colour; :func:`to_svg` and :func:`to_latex_picture` only draw that
(the PDF draws the same layout with QPainter in :mod:`bpviz.handout_pdf`).
Coordinates are in points, y downwards, origin top left.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from .expr import fmt
from .model import neuron_number

__all__ = ["EdgeArt", "Layout", "NodeArt", "layout", "to_latex_picture", "to_svg"]

#: Edge labels are written only when the network has at most this many θ.
MAX_LABELS = 24
POSITIVE = "#1558b0"
NEGATIVE = "#b3400a"
INK = "#1b1b1b"
BIAS_FILL = "#eeeeee"


@dataclass(frozen=True, slots=True)
class NodeArt:
    x: float
    y: float
    r: float
    label: str
    bias: bool = False


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


def layout(
    sizes: Sequence[int],
    weights: Sequence[object],
    biases: Sequence[object] | None,
    width: float = 440.0,
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
    labelled = count <= MAX_LABELS
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
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
        f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" '
        'font-family="DejaVu Sans, Arial, sans-serif">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for e in lay.edges:
        out.append(
            f'<line x1="{e.x1:.1f}" y1="{e.y1:.1f}" x2="{e.x2:.1f}" y2="{e.y2:.1f}" '
            f'stroke="{e.color}" stroke-width="{e.width:.2f}"/>'
        )
    for n in lay.nodes:
        fill = BIAS_FILL if n.bias else "#ffffff"
        out.append(
            f'<circle cx="{n.x:.1f}" cy="{n.y:.1f}" r="{n.r:.1f}" fill="{fill}" '
            f'stroke="{INK}" stroke-width="1"/>'
            f'<text x="{n.x:.1f}" y="{n.y + lay.font * 0.35:.1f}" font-size="{lay.font:.1f}" '
            'text-anchor="middle" '
            f'fill="{INK}">{html.escape(n.label)}</text>'
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
    out.append("</svg>")
    return "\n".join(out)


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
    """"#1558b0" as PDF colour operands "0.0824 0.3451 0.6902"."""
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
    colors = {"#1558b0": "bpforward", "#b3400a": "bpbackward"}
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
