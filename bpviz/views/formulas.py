"""The lecture's formulas as Qt rich text, filled with a snapshot's live numbers.

Pure functions: no widgets, importable without a QApplication (this module
imports no Qt at all). Each returns an HTML fragment for a rich-text
``QLabel`` (the inspector) or a plain string for a status line.

Notation is the lecture notes' (``/work/shared/lecture-notes.md``): u, o,
θ_iℓ, σ, σ′, Err, δ. In a formula about neuron i of layer l, the previous
layer's neurons are ℓ and the next layer's are j.

Numbering. As in the notes' picture, where ℓ, i and j name neurons of
different layers, every neuron of the network has its own number, counted
from 1 through the layers (:func:`neuron_number`): a [2, 2, 1] network has
inputs 1 and 2, hidden neurons 3 and 4 and output 5, so u_3 = θ_31·o_1 +
θ_32·o_2 and δ_3 = σ′(u_3)·δ_5·θ_53 can never mix up two neurons. Number 0
is the bias input: θ_i0 is the bias of neuron i, with o_0 = 1.

Numbers. Every number goes through :func:`fmt`. A result shown after the
last "=" is the engine's own value read from the snapshot; intermediate
products and sums are computed here from the factors that are displayed.
Parts the current phase has not computed yet (None in the snapshot) read
"not yet computed in this iteration", in grey.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bpviz.engine.activations import get_activation
from bpviz.engine.losses import get_loss
from bpviz.engine.state import STAGES, Phase, Snapshot

__all__ = [
    "MINUS",
    "NOT_YET",
    "NOW_ANCHOR",
    "Palette",
    "explain_edge",
    "explain_neuron",
    "explain_phase",
    "fmt",
    "highlight_for",
    "neuron_number",
    "notation_html",
    "palette",
    "phase_label",
    "stage_color",
    "subject_label",
    "theta_label",
]

#: The typographic minus used for every negative number and every subtraction.
MINUS = "−"
#: What a part not yet computed in the current phase says instead of numbers.
NOT_YET = "not yet computed in this iteration"
#: A sum with more terms than this is elided in the middle ("+ … +").
MAX_TERMS = 6
#: A phase table with more lines than this is elided in the middle.
MAX_ROWS = 16
#: How many gradients / updates the gradients and update tables list.
TOP_N = 6
#: Phase tables write sums out term by term up to this many terms (a click
#: on a neuron shows any sum in full).
PHASE_TERMS = 4


# ---------------------------------------------------------------------------
# Numbers and notation
# ---------------------------------------------------------------------------


def fmt(x: Any, digits: int = 4) -> str:
    """Format a number with ``digits`` significant digits, the way the UI shows it.

    Trailing zeros are dropped, negatives use the typographic minus "−",
    very small or large numbers use an exponent (``1.23e−05``), and the
    non-finite values read ``inf``, ``−inf`` and ``NaN``.

    >>> fmt(0.019134), fmt(-0.05), fmt(1.2345e-5, 3), fmt(float("nan"))
    ('0.01913', '−0.05', '1.23e−05', 'NaN')
    """
    v = float(x)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else MINUS + "inf"
    if v == 0.0:
        return "0"
    return f"{v:.{int(digits)}g}".replace("-", MINUS)


def _factor(x: Any) -> str:
    """A number as a factor of a product: negatives in parentheses."""
    s = fmt(x)
    return f"({s})" if s.startswith(MINUS) else s


def neuron_number(sizes: Sequence[int], layer: int, i: int) -> int:
    """The number that names neuron ``i`` of ``layer`` in the formulas (1-based, global).

    Neurons are counted through the layers, input first: in a [2, 2, 1]
    network the output neuron is 5. Number 0 is reserved for the bias input
    o_0 = 1.
    """
    return int(sum(int(n) for n in sizes[:layer])) + int(i) + 1


_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def theta_label(sizes: Sequence[int], k: int, i: int, src: int) -> str:
    """Plain-text θ_iℓ of ``weights[k][i, src]`` as the formulas name it, e.g. ``θ₃₁``.

    Uses :func:`neuron_number`; ``src = -1`` is the bias θ_i0. With a
    two-digit number the subscripts are written ``θ(12,3)``.
    """
    a = neuron_number(sizes, k + 1, i)
    b = 0 if src < 0 else neuron_number(sizes, k, src)
    if a < 10 and b < 10:
        return f"θ{a}{b}".translate(_SUBSCRIPT_DIGITS)
    return f"θ({a},{b})"


def _sub(index: Any) -> str:
    return f"<sub>{index}</sub>"


def _idx(*numbers: int | str) -> str:
    """Subscript of several indices: ``31``, or ``3,12`` when one has two digits."""
    parts = [str(n) for n in numbers]
    sep = "," if any(len(p) > 1 and p.isdigit() for p in parts) else ""
    return _sub(sep.join(parts))


_SUP = re.compile(r"\^\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_SUB = re.compile(r"_(\([^)]*\)|[0-9A-Za-zℓ]+)")


def notation_html(text: str) -> str:
    """Turn the engine's plain formula strings into rich text.

    ``θ_iℓ`` becomes θ<sub>iℓ</sub>, ``e^(−u)`` becomes e<sup>−u</sup>;
    ``<``, ``>`` and ``&`` are escaped.

    >>> notation_html("δ_k = −2(y−ŷ)·σ′(u_k)")
    'δ<sub>k</sub> = −2(y−ŷ)·σ′(u<sub>k</sub>)'
    """
    s = html.escape(text, quote=False)

    def sub(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner.startswith("("):
            inner = inner[1:-1]
        return _sub(inner)

    def sup(m: re.Match[str]) -> str:
        return f"<sup>{_SUB.sub(sub, m.group(1))}</sup>"

    s = _SUP.sub(sup, s)
    return _SUB.sub(sub, s)


# ---------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of the formula text (CSS colour strings).

    ``forward``, ``backward`` and ``update`` are the three stages of the
    notes' algorithm (u and o; δ and ∂Err/∂θ; new θ); ``muted`` is for
    the general formulas and what is not computed yet.
    """

    text: str
    background: str
    muted: str
    forward: str
    backward: str
    update: str
    rule: str


_NORMAL = Palette(
    text="#1b1b1b",
    background="#ffffff",
    muted="#7a7a7a",
    forward="#1558b0",
    backward="#b3400a",
    update="#17803a",
    rule="#d0d0d0",
)
#: For a dark desktop theme: light text on a dark panel, brighter stage colours.
_DARK = Palette(
    text="#e8e8e8",
    background="#1e1e1e",
    muted="#a3a3a3",
    forward="#6cb4ff",
    backward="#ff9a57",
    update="#5cd17f",
    rule="#555555",
)
_HIGH_CONTRAST = Palette(
    text="#ffffff",
    background="#000000",
    muted="#c4c4c4",
    forward="#7cc8ff",
    backward="#ffad5c",
    update="#6dfa8e",
    rule="#808080",
)


def palette(high_contrast: bool = False, dark: bool = False) -> Palette:
    """The colours of the formulas.

    Dark on white by default; light on dark grey with ``dark`` (a dark desktop
    theme); white on black with ``high_contrast`` (which wins over ``dark``).
    """
    if high_contrast:
        return _HIGH_CONTRAST
    return _DARK if dark else _NORMAL


def stage_color(stage: str | None, high_contrast: bool = False, dark: bool = False) -> str:
    """The colour of one of :data:`~bpviz.engine.state.STAGES` (text colour for None)."""
    p = palette(high_contrast, dark)
    return {STAGES[0]: p.forward, STAGES[1]: p.backward, STAGES[2]: p.update}.get(
        stage or "", p.text
    )


# ---------------------------------------------------------------------------
# Small HTML builders
# ---------------------------------------------------------------------------


def _color(text: str, color: str) -> str:
    return f'<span style="color:{color}">{text}</span>'


class _Html:
    """Builds one explanation with a palette."""

    def __init__(self, high_contrast: bool, narrow: bool = False, dark: bool = False) -> None:
        self.p = palette(high_contrast, dark)
        self.narrow = narrow
        self.parts: list[str] = []

    # -- pieces --
    def muted(self, text: str) -> str:
        return _color(text, self.p.muted)

    def not_yet(self, what: str = "") -> str:
        lead = f"{what}: " if what else ""
        return self.muted(f"{lead}<i>{NOT_YET}</i>")

    def value(self, x: Any, color: str) -> str:
        """A result: bold and in its stage colour."""
        return f"<b>{_color(fmt(x), color)}</b>"

    # -- blocks --
    def heading(self, text: str, color: str | None = None, tag: str = "") -> None:
        c = color or self.p.text
        extra = f" &nbsp;{tag}" if tag else ""
        self.parts.append(
            f'<p style="margin-top:10px; margin-bottom:2px"><b>{_color(text, c)}</b>{extra}</p>'
        )

    def para(self, text: str) -> None:
        self.parts.append(f'<p style="margin-top:2px; margin-bottom:2px">{text}</p>')

    def formula(self, rows: Sequence[tuple[str, ...]]) -> None:
        """Aligned lines ``lhs = rhs``; an empty lhs continues the previous line.

        A row may be ``(lhs, relation, rhs)`` for another relation than "=".
        """
        out = ['<table cellspacing="0" cellpadding="1" style="margin-left:12px">']
        for row in rows:
            if len(row) == 3:
                lhs, eq, rhs = row
            else:
                lhs, rhs = row
                eq = "=" if rhs else ""
            out.append(
                f'<tr><td align="right" style="white-space:nowrap">{lhs}</td>'
                f'<td align="center" style="white-space:nowrap">&nbsp;{eq}&nbsp;</td>'
                f"<td>{rhs}</td></tr>"
            )
        out.append("</table>")
        self.parts.append("".join(out))

    def lines(self, rows: Sequence[Sequence[str]]) -> None:
        """One line per row ``[lhs, calculation, "=", result]`` (lhs with its relation).

        Wide: everything on one line, results aligned in a column. Narrow: the
        result goes on a continuation line under the calculation.
        """
        out = ['<table cellspacing="0" cellpadding="1" style="margin-left:12px">']
        nowrap = ' style="white-space:nowrap"'
        for lhs, calc, eq, value in rows:
            if not self.narrow:
                out.append(
                    f'<tr><td align="right"{nowrap}>{lhs}&nbsp;</td><td{nowrap}>{calc}</td>'
                    f'<td align="center"{nowrap}>&nbsp;{eq}&nbsp;</td>'
                    f'<td align="right"{nowrap}>{value}</td></tr>'
                )
            elif calc and eq:
                out.append(f'<tr><td align="right"{nowrap}>{lhs}&nbsp;</td><td>{calc}</td></tr>')
                out.append(f"<tr><td></td><td{nowrap}>{eq} {value}</td></tr>")
            else:
                out.append(
                    f'<tr><td align="right"{nowrap}>{lhs}&nbsp;</td><td>{calc} {value}</td></tr>'
                )
        out.append("</table>")
        self.parts.append("".join(out))

    def html(self) -> str:
        return "".join(self.parts)


def _sum(terms: Sequence[str]) -> str:
    """Join terms with " + ", elided in the middle when there are many."""
    if len(terms) > MAX_TERMS:
        terms = [*terms[:3], "…", *terms[-2:]]
    return " + ".join(terms)


def _elide_rows(rows: list[Any], noun: str, per_item: int = 1) -> list[Any]:
    """Keep the first and last lines of a long table, with "⋮ N more" between.

    ``per_item`` lines belong together (u and o of one neuron) and stay together.
    """
    items = [rows[m : m + per_item] for m in range(0, len(rows), per_item)]
    limit = max(3, MAX_ROWS // per_item)
    if len(items) <= limit:
        return rows
    head, tail = items[: limit - 3], items[-2:]
    hidden = len(items) - len(head) - len(tail)
    filler = [["⋮", f"{hidden} more {noun}", "", ""]]
    return [r for item in [*head, filler, *tail] for r in item]


# ---------------------------------------------------------------------------
# Reading a snapshot
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _View:
    """What one explanation needs from a snapshot and the network's config."""

    snap: Snapshot
    sizes: tuple[int, ...]
    bias: bool
    act: Any
    out_act: Any
    loss: Any
    sample: int
    batch: int

    @property
    def last(self) -> int:
        return len(self.sizes) - 1

    @property
    def phase(self) -> Phase | None:
        return self.snap.phase

    @property
    def has_data(self) -> bool:
        return self.snap.x is not None

    def n(self, l: int, i: int) -> int:
        """The global number of neuron ``i`` of layer ``l`` (see :func:`neuron_number`)."""
        return neuron_number(self.sizes, l, i)

    def activation(self, l: int) -> Any:
        return self.out_act if l == self.last else self.act

    def theta_used(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """θ (weights, biases) of ``k`` the iteration's u and δ were computed with.

        In the update phase those are the old θ; after a fast step they are
        gone (θ has been updated since), hence None.
        """
        s = self.snap
        if s.phase is None:
            return None
        if s.phase.kind == "update" and s.old_weights is not None and s.old_biases is not None:
            return s.old_weights[k], s.old_biases[k]
        return s.weights[k], s.biases[k]

    def row(self, arrays: Sequence[np.ndarray | None] | None, l: int) -> np.ndarray | None:
        """This sample's row of ``arrays[l]``, or None when not computed."""
        if arrays is None:
            return None
        a = arrays[l]
        return None if a is None else a[self.sample]

    def o_prev(self, l: int) -> np.ndarray | None:
        """o_ℓ of layer ``l`` for this sample (layer 0: the inputs x)."""
        if l == 0:
            return None if self.snap.x is None else self.snap.x[self.sample]
        return self.row(self.snap.o, l)


def _view(snapshot: Snapshot, config: dict, sample: int) -> _View:
    batch = 0 if snapshot.x is None else int(snapshot.x.shape[0])
    s = min(max(int(sample), 0), max(batch - 1, 0))
    return _View(
        snap=snapshot,
        sizes=tuple(int(n) for n in config["sizes"]),
        bias=bool(config.get("bias", True)),
        act=get_activation(config.get("activation", "tanh")),
        out_act=get_activation(config.get("output_activation", "sigmoid")),
        loss=get_loss(config.get("loss", "sse")),
        sample=s,
        batch=batch,
    )


def _layer_name(v: _View, l: int) -> str:
    if l == 0:
        return "input layer 0"
    if l == v.last:
        return f"output layer {l}"
    return f"hidden layer {l}"


def _numbers(v: _View, l: int) -> str:
    """The neuron numbers of layer ``l``: "3, 4" or "3 … 10"."""
    first, n = v.n(l, 0), v.sizes[l]
    if n == 1:
        return str(first)
    if n <= 3:
        return ", ".join(str(first + m) for m in range(n))
    return f"{first} … {first + n - 1}"


def _sample_suffix(v: _View) -> str:
    """ " · sample 2 of 4" for a batch, else nothing."""
    return f" · sample {v.sample + 1} of {v.batch}" if v.batch > 1 else ""


def _sample_note(v: _View) -> str:
    if v.batch > 1:
        return f"sample {v.sample + 1} of the batch of {v.batch}"
    return ""


# ---------------------------------------------------------------------------
# σ and σ′ with numbers substituted
# ---------------------------------------------------------------------------


def _sigma_numbers(act: Any, u: float, u_row: np.ndarray | None, k: int) -> str | None:
    """σ(u) written out with the number u substituted, or None if unknown."""
    name = act.name
    if name == "sigmoid":
        e = fmt(-u) if u < 0 else f"{MINUS}{fmt(u)}"
        if fmt(u) == "0":
            e = f"{MINUS}0"
        return f"1/(1 + e<sup>{e}</sup>)"
    if name == "tanh":
        return f"tanh({fmt(u)})"
    if name == "relu":
        return f"max(0, {fmt(u)})"
    if name == "leaky_relu":
        return f"max(0.01·{_factor(u)}, {fmt(u)})"
    if name == "linear":
        return fmt(u)
    if name == "softmax" and u_row is not None:
        terms = [f"e<sup>{fmt(x)}</sup>" for x in u_row]
        return f"e<sup>{fmt(u)}</sup>/({_sum(terms)})"
    return None


def _dsigma_rows(act: Any, idx: str, u: float, o: float, ds: float, color: str) -> list[tuple]:
    """Rows for σ′(u_i) = (formula) = numbers = value (the engine's σ′)."""
    name = act.name
    sym = {
        "sigmoid": (f"o{idx}·(1 {MINUS} o{idx})", f"{_factor(o)}·(1 {MINUS} {fmt(o)})"),
        "tanh": (f"1 {MINUS} o{idx}<sup>2</sup>", f"1 {MINUS} {_factor(o)}<sup>2</sup>"),
        "relu": (f"[u{idx} &gt; 0]", f"[{fmt(u)} &gt; 0]"),
        "leaky_relu": (f"1 if u{idx} &gt; 0 else 0.01", f"1 if {fmt(u)} &gt; 0 else 0.01"),
        "linear": ("1", ""),
    }.get(name)
    lhs = f"σ′(u{idx})"
    val = f"<b>{_color(fmt(ds), color)}</b>"
    if sym is None:
        return [(lhs, f"{notation_html(act.dformula)} &nbsp;→&nbsp; {val}")]
    rhs = sym[0]
    if sym[1]:
        rhs = f"{rhs} = {sym[1]}"
    return [(lhs, f"{rhs} = {val}")]


# ---------------------------------------------------------------------------
# The loss: δ_k and the Err of one sample, with numbers
# ---------------------------------------------------------------------------


def _delta_k_parts(
    loss: Any, K: str, y: float, yh: float, ds: float, n: int
) -> tuple[str, str] | None:
    """(symbols, numbers) of δ_k for the loss, or None for an unknown loss."""
    name = loss.name
    if name == "sse":
        return (
            f"{MINUS}2·(y{K} {MINUS} ŷ{K})·σ′(u{K})",
            f"{MINUS}2·({fmt(y)} {MINUS} {fmt(yh)})·{_factor(ds)}",
        )
    if name == "mse":
        return (
            f"{MINUS}(2/N)·(y{K} {MINUS} ŷ{K})·σ′(u{K})",
            f"{MINUS}(2/{n})·({fmt(y)} {MINUS} {fmt(yh)})·{_factor(ds)}",
        )
    if name == "half_sse":
        return (
            f"{MINUS}(y{K} {MINUS} ŷ{K})·σ′(u{K})",
            f"{MINUS}({fmt(y)} {MINUS} {fmt(yh)})·{_factor(ds)}",
        )
    if name in ("bce", "softmax_ce"):
        return (f"ŷ{K} {MINUS} y{K}", f"{fmt(yh)} {MINUS} {fmt(y)}")
    return None


def _sample_err_parts(
    loss: Any, y: np.ndarray, yh: np.ndarray, n: int, first: int
) -> tuple[str, str] | None:
    """(symbols, numbers) of one sample's Err, or None for an unknown loss.

    ``first`` is the number of the first output neuron (subscripts of y, ŷ).
    """
    K = len(y)
    ks = range(K)

    def idx(k: int) -> str:
        return _sub(first + k) if K > 1 else ""

    sq_sym = [f"(y{idx(k)} {MINUS} ŷ{idx(k)})<sup>2</sup>" for k in ks]
    sq_num = [f"({fmt(y[k])} {MINUS} {fmt(yh[k])})<sup>2</sup>" for k in ks]
    name = loss.name
    if name == "sse":
        return _sum(sq_sym), _sum(sq_num)
    if name == "mse":
        return f"(1/N)·[{_sum(sq_sym)}]", f"(1/{n})·[{_sum(sq_num)}]"
    if name == "half_sse":
        return f"½·[{_sum(sq_sym)}]", f"½·[{_sum(sq_num)}]"
    if name == "bce":
        sym = [
            f"y{idx(k)}·ln ŷ{idx(k)} + (1 {MINUS} y{idx(k)})·ln(1 {MINUS} ŷ{idx(k)})" for k in ks
        ]
        num = [
            f"{_factor(y[k])}·ln {fmt(yh[k])} + (1 {MINUS} {fmt(y[k])})·ln(1 {MINUS} {fmt(yh[k])})"
            for k in ks
        ]
        return f"{MINUS}[{_sum(sym)}]", f"{MINUS}[{_sum(num)}]"
    if name == "softmax_ce":
        sym = [f"y{idx(k)}·ln ŷ{idx(k)}" for k in ks]
        num = [f"{_factor(y[k])}·ln {fmt(yh[k])}" for k in ks]
        return f"{MINUS}({_sum(sym)})", f"{MINUS}({_sum(num)})"
    return None


def _sample_err(v: _View) -> float:
    """One sample's share of the batch Err, from the engine's own loss function."""
    s = v.sample
    snap = v.snap
    y = snap.y[s : s + 1]
    u = snap.u[v.last][s : s + 1]
    o = snap.o[v.last][s : s + 1]
    err = float(v.loss.value(y, u, o))
    if v.loss.name == "mse":  # the mean is over the whole batch, not one row
        err *= y.size / snap.y.size
    return err


def _loss_line(h: _Html, loss: Any) -> None:
    h.para(
        h.muted("Loss in use: ")
        + notation_html(loss.formula)
        + h.muted(" &nbsp;·&nbsp; its output δ: ")
        + notation_html(loss.delta_formula)
    )


# ---------------------------------------------------------------------------
# explain_neuron
# ---------------------------------------------------------------------------


#: Anchor name on the heading of the part the current phase computed (the
#: inspector scrolls to it).
NOW_ANCHOR = "now"


def _this_phase_tag(color: str) -> str:
    return f'<a name="{NOW_ANCHOR}"></a>' + _color("◀ this phase", color)


def _forward_terms(
    v: _View, l: int, i: int, theta: tuple[np.ndarray, np.ndarray] | None, o_prev: np.ndarray | None
) -> tuple[list[str], list[str]]:
    """(symbol terms, number terms) of u_i = Σ_ℓ θ_iℓ·o_ℓ, bias last."""
    I = v.n(l, i)
    n_prev = v.sizes[l - 1]
    sym = [f"θ{_idx(I, v.n(l - 1, s))}·o{_sub(v.n(l - 1, s))}" for s in range(n_prev)]
    if v.bias:
        sym.append(f"θ{_idx(I, 0)}·1")
    num: list[str] = []
    if theta is not None and o_prev is not None:
        w, b = theta
        num = [f"{_factor(w[i, s])}·{_factor(o_prev[s])}" for s in range(n_prev)]
        if v.bias:
            num.append(f"{_factor(b[i])}·1")
    return sym, num


def _neuron_forward(h: _Html, v: _View, l: int, i: int) -> None:
    p = h.p
    I = _sub(v.n(l, i))
    ph = v.phase
    tag = ""
    if ph is not None and ph.kind == "forward" and ph.layer == l:
        tag = _this_phase_tag(p.forward)
    u = v.row(v.snap.u, l)
    o = v.row(v.snap.o, l)
    act = v.activation(l)
    general = f"Σ<sub>ℓ</sub> θ{_sub('iℓ')}·o<sub>ℓ</sub>"
    if u is None or o is None:
        h.heading("Forward pass", p.forward, tag)
        h.formula([(f"u{I}", h.muted(general)), (f"o{I}", h.muted(f"σ(u{I})"))])
        h.para(h.not_yet(f"u{I} and o{I}"))
        return
    if ph is not None and ph.kind in ("output_delta", "hidden_delta") and ph.layer == l:
        # This phase computes the neuron's δ: its u and o are old news, keep them short.
        h.heading("Forward pass", p.forward, h.muted("(an earlier phase)"))
        h.formula(
            [
                (f"u{I}", h.value(u[i], p.forward)),
                (f"o{I}", f"σ(u{I}) = {h.value(o[i], p.forward)}"),
            ]
        )
        return
    h.heading("Forward pass", p.forward, tag)
    theta = v.theta_used(l - 1)
    o_prev = v.o_prev(l - 1)
    sym, num = _forward_terms(v, l, i, theta, o_prev)
    rows: list[tuple[str, str]] = [(f"u{I}", h.muted(general.replace("iℓ", f"{v.n(l, i)}ℓ")))]
    rows.append(("", _sum(sym)))
    if num:
        rows.append(("", _sum(num)))
    rows.append(("", h.value(u[i], p.forward)))
    h.formula(rows)
    if not num:
        h.para(h.muted("(the last iteration's u and o, computed with θ before its update)"))
    uu = float(u[i])
    o_rows = [(f"o{I}", f"σ(u{I}) = σ({fmt(uu)})")]
    numbers = _sigma_numbers(act, uu, u, i)
    if numbers is not None and numbers != fmt(uu):
        o_rows.append(("", numbers))
    o_rows.append(("", h.value(o[i], p.forward)))
    h.formula(o_rows)
    h.para(h.muted(f"with {notation_html(act.formula)}"))


def _neuron_backward(h: _Html, v: _View, l: int, i: int) -> None:
    p = h.p
    ph = v.phase
    I = _sub(v.n(l, i))
    tag = ""
    if ph is not None and ph.kind in ("output_delta", "hidden_delta") and ph.layer == l:
        tag = _this_phase_tag(p.backward)
    h.heading("Backward pass", p.backward, tag)
    delta = v.row(v.snap.delta, l)
    ds = v.row(v.snap.dsigma, l)
    u = v.row(v.snap.u, l)
    o = v.row(v.snap.o, l)
    act = v.activation(l)
    if l == v.last:
        general = notation_html(v.loss.delta_formula.split("=", 1)[-1].strip())
        lhs_general = "δ<sub>k</sub>"
        if delta is None or ds is None or u is None or o is None:
            h.formula([(lhs_general, h.muted(general))])
            h.para(h.not_yet(f"δ{I}"))
            return
        y = v.snap.y[v.sample, i]
        yh = o[i]
        n = int(v.snap.y.size)
        h.formula([(lhs_general, h.muted(general))])
        h.formula([(f"y{I}", f"{fmt(y)} {h.muted('(target)')}"), (f"ŷ{I}", f"o{I} = {fmt(yh)}")])
        fused = v.loss.name in ("bce", "softmax_ce")
        if not fused:
            h.formula(_dsigma_rows(act, I, float(u[i]), float(yh), float(ds[i]), p.backward))
        parts = _delta_k_parts(v.loss, I, float(y), float(yh), float(ds[i]), n)
        rows = [(f"δ{I}", parts[0]), ("", parts[1])] if parts else [(f"δ{I}", "")]
        rows.append(("", h.value(delta[i], p.backward)))
        h.formula(rows)
        if fused:
            h.para(h.muted(f"(with this loss σ′ of the {act.name} output cancels out)"))
        return
    # hidden layer: δ_i = σ′(u_i)·Σ_j δ_j·θ_ji
    general = f"σ′(u<sub>i</sub>)·Σ<sub>j</sub> δ<sub>j</sub>·θ{_sub('ji')}"
    if delta is None or ds is None or u is None or o is None:
        h.formula([("δ<sub>i</sub>", h.muted(general))])
        h.para(h.not_yet(f"δ{I}"))
        return
    h.formula([("δ<sub>i</sub>", h.muted(general))])
    h.formula(_dsigma_rows(act, I, float(u[i]), float(o[i]), float(ds[i]), p.backward))
    n_next = v.sizes[l + 1]
    sym = [f"δ{_sub(v.n(l + 1, j))}·θ{_idx(v.n(l + 1, j), v.n(l, i))}" for j in range(n_next)]
    one = n_next == 1  # a single term needs no parentheses and no partial sum
    rows = [(f"δ{I}", f"σ′(u{I})·{sym[0]}" if one else f"σ′(u{I})·({_sum(sym)})")]
    theta = v.theta_used(l)
    d_next = v.row(v.snap.delta, l + 1)
    if theta is not None and d_next is not None:
        w = theta[0]
        num = [f"{_factor(d_next[j])}·{_factor(w[j, i])}" for j in range(n_next)]
        rows.append(
            ("", f"{_factor(ds[i])}·{num[0]}" if one else f"{_factor(ds[i])}·({_sum(num)})")
        )
        if not one:
            total = float(np.dot(d_next, w[:, i]))
            rows.append(("", f"{_factor(ds[i])}·{_factor(total)}"))
    rows.append(("", h.value(delta[i], p.backward)))
    h.formula(rows)
    if theta is None:
        h.para(h.muted("(the last iteration's δ, computed with θ before its update)"))


def explain_neuron(
    snapshot: Snapshot,
    config: dict,
    layer: int,
    i: int,
    sample: int = 0,
    *,
    high_contrast: bool = False,
    narrow: bool = False,
    dark: bool = False,
) -> str:
    """Rich text: how neuron ``i`` of ``layer`` got its u, o and δ in this iteration.

    Parameters
    ----------
    snapshot : Snapshot
        Any snapshot (mid-iteration parts that are None read "not yet computed").
    config : dict
        ``Network.config()``: sizes, activation, output_activation, loss, bias, ...
    layer, i : int
        Neuron layer (0 = input) and the neuron's 0-based index in it.
    sample : int
        Which sample of the batch (0-based; clamped into the batch).
    high_contrast : bool
        Use the light-on-black palette.
    dark : bool
        Use the palette for a dark desktop theme (light text on dark grey).
    narrow : bool
        Accepted for symmetry with :func:`explain_phase`; these formulas are
        already one quantity per line and wrap on their own.
    """
    v = _view(snapshot, config, sample)
    if not 0 <= layer < len(v.sizes) or not 0 <= i < v.sizes[layer]:
        raise ValueError(f"no neuron {i} in layer {layer} of a {list(v.sizes)} network")
    h = _Html(high_contrast, narrow, dark)
    p = h.p
    I = v.n(layer, i)
    sample_note = f" · sample {v.sample + 1} of {v.batch}" if v.batch > 1 else ""
    if layer == 0:
        h.para(h.muted(f"neuron {I} · {_layer_name(v, layer)}{sample_note}"))
        h.heading("Input", p.forward)
        x = v.o_prev(0)
        if x is None:
            h.formula([(f"o{_sub(I)}", f"x{_sub(I)}")])
            h.para(h.muted("<i>no iteration yet: press → to walk the first one</i>"))
        else:
            h.formula([(f"o{_sub(I)}", f"x{_sub(I)} = {h.value(x[i], p.forward)}")])
        h.para(h.muted("Inputs have no u and no δ: no θ feeds them."))
        return h.html()
    legend = f"ℓ = {_numbers(v, layer - 1)}"
    if v.bias:
        legend += ", 0 (o<sub>0</sub> = 1)"
    if layer < v.last:
        legend += f" · j = {_numbers(v, layer + 1)}"
    h.para(h.muted(legend + sample_note))
    if not v.has_data:
        h.para(h.muted("<i>No iteration yet: press → to walk the first one phase by phase.</i>"))
    _neuron_forward(h, v, layer, i)
    _neuron_backward(h, v, layer, i)
    return h.html()


# ---------------------------------------------------------------------------
# explain_edge
# ---------------------------------------------------------------------------


def _theta_name(v: _View, k: int, i: int, src: int) -> str:
    """θ of ``weights[k][i, src]`` with the neurons' numbers (src = −1: the bias θ_i0)."""
    return f"θ{_idx(v.n(k + 1, i), 0 if src < 0 else v.n(k, src))}"


def explain_edge(
    snapshot: Snapshot,
    config: dict,
    k: int,
    i: int,
    src: int,
    sample: int = 0,
    *,
    high_contrast: bool = False,
    narrow: bool = False,
    dark: bool = False,
) -> str:
    """Rich text: θ_iℓ = ``weights[k][i, src]``, its gradient δ_i·o_ℓ and its update.

    Neuron i is in layer k + 1 and neuron ℓ = ``src`` in layer k;
    ``src = -1`` is the bias θ_i0, whose input is o_0 = 1. With a batch of
    more than one sample, the gradient is shown for ``sample`` and then as
    the engine's sum over the batch. Before the update phase the new θ is
    shown as pending (θ − η·∂Err/∂θ, computed here); in the update phase it
    is the engine's θ. ``high_contrast``, ``dark`` and ``narrow`` as for
    :func:`explain_neuron`.
    """
    v = _view(snapshot, config, sample)
    n_layers = len(v.sizes)
    if (
        not 0 <= k < n_layers - 1
        or not 0 <= i < v.sizes[k + 1]
        or not -1 <= src < v.sizes[k]
        or (src == -1 and not v.bias)
    ):
        raise ValueError(f"no θ[{k}][{i}, {src}] in a {list(v.sizes)} network")
    h = _Html(high_contrast, narrow, dark)
    p = h.p
    snap = v.snap
    I = v.n(k + 1, i)
    L = 0 if src < 0 else v.n(k, src)
    th = _theta_name(v, k, i, src)
    d_sym = f"δ{_sub(I)}"
    o_sym = f"o{_sub(L)}"
    if src < 0:
        h.para(h.muted(f"bias of neuron {I} (layer {k + 1}); its input is o<sub>0</sub> = 1"))
    else:
        h.para(h.muted(f"from neuron ℓ = {L} (layer {k}) to neuron i = {I} (layer {k + 1})"))
    if _sample_note(v):
        h.para(h.muted(_sample_note(v)))

    def pick(ws: Sequence[np.ndarray], bs: Sequence[np.ndarray]) -> float:
        return float(bs[k][i] if src < 0 else ws[k][i, src])

    ph = v.phase
    in_update = (
        ph is not None
        and ph.kind == "update"
        and snap.old_weights is not None
        and snap.old_biases is not None
    )
    now = pick(snap.weights, snap.biases)
    used = pick(snap.old_weights, snap.old_biases) if in_update else now  # type: ignore[arg-type]
    h.heading("Weight", p.text)
    if ph is None and v.has_data:
        h.formula([(th, f"{h.value(now, p.text)} {h.muted('(after the last update)')}")])
    elif in_update:
        h.formula([(th, f"{h.value(used, p.text)} {h.muted('(before this update)')}")])
    else:
        h.formula([(th, h.value(used, p.text))])

    # -- the gradient: ∂Err/∂θ_iℓ = δ_i·o_ℓ --
    tag = ""
    if ph is not None and ph.kind == "gradients":
        tag = _this_phase_tag(p.backward)
    h.heading("Gradient", p.backward, tag)
    general = (f"∂Err/∂{th}", f"{d_sym}·{o_sym}")
    delta = v.row(snap.delta, k + 1)
    o_val: float | None
    if src < 0:
        o_val = 1.0 if v.has_data else None
    else:
        o_prev = v.o_prev(k)
        o_val = None if o_prev is None else float(o_prev[src])
    grad = None
    if snap.grad_weights is not None and snap.grad_biases is not None:
        grad = pick(snap.grad_weights, snap.grad_biases)
    if delta is None or o_val is None:
        h.formula([general])
        h.para(h.not_yet(f"{d_sym}, so ∂Err/∂{th}"))
    else:
        d = float(delta[i])
        product = f"{_factor(d)}·{_factor(o_val)}"
        if v.batch > 1:
            h.formula([general, ("", product), ("", _color(fmt(d * o_val), p.backward))])
            h.para(h.muted(f"for {_sample_note(v)}; summed over the batch of {v.batch} samples:"))
            if grad is None:
                h.para(h.not_yet("the sum (the Gradients phase computes it)"))
            else:
                h.formula(
                    [
                        (f"∂Err/∂{th}", f"Σ<sub>samples</sub> {d_sym}·{o_sym}"),
                        ("", h.value(grad, p.backward)),
                    ]
                )
        elif grad is None:
            h.formula([general, ("", product)])
            h.para(h.not_yet("the product (the Gradients phase computes it)"))
        else:
            h.formula([general, ("", product), ("", h.value(grad, p.backward))])

    # -- the update: θ_iℓ ← θ_iℓ − η·∂Err/∂θ_iℓ --
    tag = _this_phase_tag(p.update) if in_update else ""
    h.heading("Update", p.update, tag)
    eta = snap.lr
    rule = (th, "←", f"{th} {MINUS} η·∂Err/∂{th}")
    if grad is None:
        h.formula([rule])
        h.para(h.not_yet(f"∂Err/∂{th}, so the new {th}"))
    elif in_update:
        h.formula(
            [
                rule,
                ("", f"{fmt(used)} {MINUS} {fmt(eta)}·{_factor(grad)}"),
                ("", h.value(now, p.update)),
            ]
        )
        h.para(h.muted(f"η = {fmt(eta)}"))
        if not math.isclose(used - eta * grad, now, rel_tol=1e-6, abs_tol=1e-12):
            h.para(
                h.muted(
                    "(the update rule in force adds momentum, regularisation or clipping: "
                    f"θ moved by {fmt(now - used)})"
                )
            )
    elif ph is None:
        h.formula([rule])
        h.para(
            h.muted(
                f"The last iteration (run fast) applied ∂Err/∂{th} = {fmt(grad)} "
                f"with η = {fmt(eta)}."
            )
        )
    else:
        h.formula(
            [
                rule,
                ("", f"{fmt(used)} {MINUS} {fmt(eta)}·{_factor(grad)}"),
                ("", _color(fmt(used - eta * grad), p.update)),
            ]
        )
        h.para(h.muted(f"η = {fmt(eta)} · pending: the Weight update phase applies it"))
    return h.html()


# ---------------------------------------------------------------------------
# explain_phase
# ---------------------------------------------------------------------------


def _phase_forward(h: _Html, v: _View, l: int) -> None:
    p = h.p
    act = v.activation(l)
    both = "Σ<sub>ℓ</sub> θ<sub>iℓ</sub>·o<sub>ℓ</sub>, &nbsp; o<sub>i</sub> = σ(u<sub>i</sub>)"
    h.formula([("u<sub>i</sub>", both)])
    legend = f"with {notation_html(act.formula)} · ℓ = {_numbers(v, l - 1)}"
    if v.bias:
        legend += ", 0 (o<sub>0</sub> = 1)"
    h.para(h.muted(legend + _sample_suffix(v)))
    u = v.row(v.snap.u, l)
    o = v.row(v.snap.o, l)
    if u is None or o is None:
        h.para(h.not_yet())
        return
    theta = v.theta_used(l - 1)
    o_prev = v.o_prev(l - 1)
    n_in = v.sizes[l - 1] + (1 if v.bias else 0)
    show_sum = n_in <= PHASE_TERMS and theta is not None and o_prev is not None
    rows = []
    for i in range(v.sizes[l]):
        I = _sub(v.n(l, i))
        calc = _sum(_forward_terms(v, l, i, theta, o_prev)[1]) if show_sum else ""
        rows.append([f"u{I} =", calc, "=" if calc else "", h.value(u[i], p.forward)])
        rows.append([f"o{I} =", f"σ({fmt(u[i])})", "=", h.value(o[i], p.forward)])
    h.lines(_elide_rows(rows, "neurons", per_item=2))
    h.para(h.muted("Click a neuron to see its sum term by term."))


def _phase_error(h: _Html, v: _View) -> None:
    p = h.p
    snap = v.snap
    h.formula([("Err", notation_html(v.loss.formula.split("=", 1)[-1].strip()))])
    if snap.err is None or snap.y is None or snap.o[v.last] is None:
        h.para(h.not_yet("Err"))
        return
    y = snap.y[v.sample]
    yh = snap.o[v.last][v.sample]
    parts = _sample_err_parts(v.loss, y, yh, int(snap.y.size), v.n(v.last, 0))
    if v.batch > 1:
        h.para(h.muted(f"for {_sample_note(v)}:"))
        rows: list[tuple[str, ...]] = [("Err<sub>sample</sub>", "")]
        if parts is not None:
            rows = [("Err<sub>sample</sub>", parts[0]), ("", parts[1])]
        rows.append(("", _color(fmt(_sample_err(v)), p.forward)))
        h.formula(rows)
        h.para(h.muted(f"over the batch of {v.batch} samples:"))
        h.formula(
            [
                ("Err", "Σ<sub>samples</sub> Err<sub>sample</sub>"),
                ("", h.value(snap.err, p.forward)),
            ]
        )
    else:
        rows = [("Err", "")] if parts is None else [("Err", parts[0]), ("", parts[1])]
        rows.append(("", h.value(snap.err, p.forward)))
        h.formula(rows)
    h.para(h.muted("ŷ = o of the output layer, y = the target"))


def _phase_output_delta(h: _Html, v: _View) -> None:
    p = h.p
    l = v.last
    snap = v.snap
    h.formula([("δ<sub>k</sub>", notation_html(v.loss.delta_formula.split("=", 1)[-1].strip()))])
    fused = v.loss.name in ("bce", "softmax_ce")
    if fused:
        legend = f"σ′ of the {v.out_act.name} output cancels out with this loss"
    else:
        legend = f"with {notation_html(v.out_act.dformula)} · ŷ<sub>k</sub> = o<sub>k</sub>"
    h.para(h.muted(legend + _sample_suffix(v)))
    delta = v.row(snap.delta, l)
    ds = v.row(snap.dsigma, l)
    o = v.row(snap.o, l)
    if delta is None or ds is None or o is None or snap.y is None:
        h.para(h.not_yet())
        return
    y = snap.y[v.sample]
    rows = []
    for k in range(v.sizes[l]):
        K = _sub(v.n(l, k))
        parts = _delta_k_parts(v.loss, K, float(y[k]), float(o[k]), float(ds[k]), snap.y.size)
        calc = parts[1] if parts is not None else ""
        rows.append([f"δ{K} =", calc, "=" if calc else "", h.value(delta[k], p.backward)])
    h.lines(_elide_rows(rows, "outputs"))


def _phase_hidden_delta(h: _Html, v: _View, l: int) -> None:
    p = h.p
    snap = v.snap
    h.formula([("δ<sub>i</sub>", "σ′(u<sub>i</sub>)·Σ<sub>j</sub> δ<sub>j</sub>·θ<sub>ji</sub>")])
    h.para(
        h.muted(
            f"with {notation_html(v.act.dformula)} · i = {_numbers(v, l)} (layer {l}), "
            f"j = {_numbers(v, l + 1)} (layer {l + 1})" + _sample_suffix(v)
        )
    )
    delta = v.row(snap.delta, l)
    ds = v.row(snap.dsigma, l)
    d_next = v.row(snap.delta, l + 1)
    theta = v.theta_used(l)
    if delta is None or ds is None:
        h.para(h.not_yet())
        return
    n_next = v.sizes[l + 1]
    rows = []
    for i in range(v.sizes[l]):
        I = _sub(v.n(l, i))
        calc = ""
        if theta is not None and d_next is not None:
            w = theta[0]
            if n_next == 1:
                calc = f"{_factor(ds[i])}·{_factor(d_next[0])}·{_factor(w[0, i])}"
            elif n_next <= PHASE_TERMS:
                num = [f"{_factor(d_next[j])}·{_factor(w[j, i])}" for j in range(n_next)]
                calc = f"{_factor(ds[i])}·({_sum(num)})"
            else:
                total = float(np.dot(d_next, w[:, i]))
                calc = f"{_factor(ds[i])}·{_factor(total)}"
        rows.append([f"δ{I} =", calc, "=" if calc else "", h.value(delta[i], p.backward)])
    h.lines(_elide_rows(rows, "neurons"))
    h.para(h.muted("Click a neuron of this layer to see its sum term by term."))


def _all_edges(v: _View) -> list[tuple[int, int, int]]:
    out = []
    for k in range(len(v.sizes) - 1):
        for i in range(v.sizes[k + 1]):
            for s in range(v.sizes[k]):
                out.append((k, i, s))
            if v.bias:
                out.append((k, i, -1))
    return out


def _pick(ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], e: tuple[int, int, int]) -> float:
    k, i, s = e
    return float(bs[k][i] if s < 0 else ws[k][i, s])


def _largest(entries: list[tuple[int, int, int]], size: dict) -> list[tuple[int, int, int]]:
    """The TOP_N entries of largest |size| (inf and NaN first: they matter most)."""

    def key(e: tuple[int, int, int]) -> float:
        x = abs(size[e])
        return -math.inf if not math.isfinite(x) else -x

    return sorted(entries, key=key)[:TOP_N]


def _phase_gradients(h: _Html, v: _View) -> None:
    p = h.p
    snap = v.snap
    h.formula([("∂Err/∂θ<sub>iℓ</sub>", "δ<sub>i</sub>·o<sub>ℓ</sub>")])
    note = "o<sub>0</sub> = 1 for the biases θ<sub>i0</sub>" if v.bias else ""
    if v.batch > 1:
        note = f"summed over the batch of {v.batch} samples" + (f" · {note}" if note else "")
    if note:
        h.para(h.muted(note))
    if snap.grad_weights is None or snap.grad_biases is None:
        h.para(h.not_yet())
        return
    entries = _all_edges(v)
    grads = {e: _pick(snap.grad_weights, snap.grad_biases, e) for e in entries}
    top = _largest(entries, grads)
    rows = []
    for e in top:
        k, i, s = e
        I, L = v.n(k + 1, i), (0 if s < 0 else v.n(k, s))
        if v.batch > 1:
            calc = f"Σ δ{_sub(I)}·o{_sub(L)}"
        else:
            d = v.row(snap.delta, k + 1)
            o_prev = v.o_prev(k)
            o_val = 1.0 if s < 0 else (None if o_prev is None else float(o_prev[s]))
            calc = "" if d is None or o_val is None else f"{_factor(d[i])}·{_factor(o_val)}"
        name = f"∂Err/∂{_theta_name(v, k, i, s)} ="
        rows.append([name, calc, "=" if calc else "", h.value(grads[e], p.backward)])
    which = f"The {len(top)} largest of {len(entries)}" if len(top) < len(entries) else "All"
    h.para(h.muted(f"{which}:"))
    h.lines(rows)
    h.para(h.muted("Click an edge to see its gradient and its update."))


def _phase_update(h: _Html, v: _View) -> None:
    p = h.p
    snap = v.snap
    h.formula([("θ<sub>iℓ</sub>", "←", f"θ<sub>iℓ</sub> {MINUS} η·∂Err/∂θ<sub>iℓ</sub>")])
    h.para(h.muted(f"η = {fmt(snap.lr)}"))
    if snap.old_weights is None or snap.old_biases is None or snap.grad_weights is None:
        h.para(h.not_yet())
        return
    assert snap.grad_biases is not None
    entries = _all_edges(v)
    old = {e: _pick(snap.old_weights, snap.old_biases, e) for e in entries}
    new = {e: _pick(snap.weights, snap.biases, e) for e in entries}
    grads = {e: _pick(snap.grad_weights, snap.grad_biases, e) for e in entries}
    top = _largest(entries, {e: new[e] - old[e] for e in entries})
    rows = []
    for e in top:
        k, i, s = e
        calc = f"{fmt(old[e])} {MINUS} {fmt(snap.lr)}·{_factor(grads[e])}"
        rows.append([f"{_theta_name(v, k, i, s)} ←", calc, "=", h.value(new[e], p.update)])
    which = (
        f"The {len(top)} largest changes of {len(entries)}" if len(top) < len(entries) else "All"
    )
    h.para(h.muted(f"{which}:"))
    h.lines(rows)
    h.para(h.muted("Click an edge to see its update."))


def explain_phase(
    snapshot: Snapshot,
    config: dict,
    sample: int = 0,
    *,
    high_contrast: bool = False,
    narrow: bool = False,
    dark: bool = False,
) -> str:
    """Rich text: what the current phase (``snapshot.phase``) computed, as a compact table.

    Forward: u and o of each neuron of the layer; error: Err for the sample
    and for the batch; output and hidden δ; gradients: the largest ∂Err/∂θ;
    update: the largest changes of θ. Ends with the loss formula in use.

    ``narrow`` puts each result on its own line under its calculation (for
    large fonts in a narrow panel); ``high_contrast`` uses the light-on-black
    palette, ``dark`` the one for a dark desktop theme.
    """
    v = _view(snapshot, config, sample)
    h = _Html(high_contrast, narrow, dark)
    ph = v.phase
    if ph is None:
        h.heading("Between iterations", h.p.text)
        h.para("Press → to walk the next iteration phase by phase.")
        if v.has_data and snapshot.err is not None:
            h.para(h.muted(f"Err of the last iteration's batch: {fmt(snapshot.err)}"))
        _loss_line(h, v.loss)
        return h.html()
    color = stage_color(ph.stage, high_contrast, dark)
    h.heading(notation_html(ph.title), color)
    if ph.kind == "forward" and ph.layer is not None:
        _phase_forward(h, v, ph.layer)
    elif ph.kind == "error":
        _phase_error(h, v)
    elif ph.kind == "output_delta":
        _phase_output_delta(h, v)
    elif ph.kind == "hidden_delta" and ph.layer is not None:
        _phase_hidden_delta(h, v, ph.layer)
    elif ph.kind == "gradients":
        _phase_gradients(h, v)
    elif ph.kind == "update":
        _phase_update(h, v)
    _loss_line(h, v.loss)
    return h.html()


# ---------------------------------------------------------------------------
# What to emphasise, and labels
# ---------------------------------------------------------------------------

Neuron = tuple[int, int]
Edge = tuple[int, int, int]


def _edges_into(l: int, sizes: Sequence[int], bias: bool) -> set[Edge]:
    k = l - 1
    srcs = list(range(sizes[k])) + ([-1] if bias else [])
    return {(k, i, s) for i in range(sizes[l]) for s in srcs}


def highlight_for(
    phase: Phase | None,
    selection: tuple | None,
    sizes: Sequence[int],
    bias: bool,
) -> tuple[set[Neuron], set[Edge], int | None]:
    """What the network view should emphasise in ``phase``.

    Returns ``(neurons, edges, layer)``: neurons as ``(l, i)``, edges as
    ``(k, i, src)`` (``src = -1`` the bias edge), and the active layer.

    - forward into layer l: the neurons of l and every edge into l (biases too);
    - error and output δ: the output neurons (layer: the output layer);
    - hidden δ of layer l: the neurons of l and l + 1 and the θ_ji between them;
      with a neuron ``("neuron", l, i)`` of that layer selected, only neuron i,
      the δ_j of layer l + 1 and the θ_ji that feed its sum;
    - gradients, update: every edge (layer None);
    - no phase: nothing.
    """
    sizes = [int(n) for n in sizes]
    last = len(sizes) - 1
    if phase is None:
        return set(), set(), None
    kind, l = phase.kind, phase.layer
    if kind == "forward" and l is not None:
        return {(l, i) for i in range(sizes[l])}, _edges_into(l, sizes, bias), l
    if kind in ("error", "output_delta"):
        return {(last, i) for i in range(sizes[last])}, set(), last
    if kind == "hidden_delta" and l is not None:
        nxt = {(l + 1, j) for j in range(sizes[l + 1])}
        if (
            selection is not None
            and len(selection) == 3
            and selection[0] == "neuron"
            and selection[1] == l
            and 0 <= selection[2] < sizes[l]
        ):
            i = int(selection[2])
            return {(l, i)} | nxt, {(l, j, i) for j in range(sizes[l + 1])}, l
        neurons = {(l, i) for i in range(sizes[l])} | nxt
        edges = {(l, j, i) for j in range(sizes[l + 1]) for i in range(sizes[l])}
        return neurons, edges, l
    if kind in ("gradients", "update"):
        edges: set[Edge] = set()
        for m in range(1, last + 1):
            edges |= _edges_into(m, sizes, bias)
        return set(), edges, None
    return set(), set(), None


def phase_label(phase: Phase | None) -> str:
    """A plain one-line status, e.g. ``Phase 4/9 · BACKWARD PASS · Output δ_k (layer 3)``."""
    if phase is None:
        return "Between iterations"
    return f"Phase {phase.index + 1}/{phase.count} · {phase.stage} · {phase.title}"


def subject_label(
    selection: tuple | None, phase: Phase | None, sizes: Sequence[int] | None = None
) -> str:
    """A short plain-text header naming what an explanation is about.

    With ``sizes`` neurons are named by their numbers in the formulas.
    """

    def num(l: int, i: int) -> int:
        return neuron_number(sizes, l, i) if sizes is not None else i + 1

    if selection is not None and selection[0] == "neuron":
        _, l, i = selection
        kind = ""
        if sizes is not None:
            kind = "input " if l == 0 else "output " if l == len(sizes) - 1 else "hidden "
        return f"Neuron {num(l, i)} · {kind}layer {l}"
    if selection is not None and selection[0] == "edge":
        _, k, i, src = selection
        a = num(k + 1, i)
        b = 0 if src < 0 else num(k, src)
        sub = f"({a},{b})" if a > 9 or b > 9 else f"{a}{b}"
        if src < 0:
            return f"Bias θ_{sub} of neuron {a}"
        return f"Weight θ_{sub} · neuron {b} → {a}"
    if phase is None:
        return "Between iterations"
    return f"Current phase ({phase.index + 1} of {phase.count})"
