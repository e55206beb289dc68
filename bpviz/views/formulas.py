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

Numbers. The equations come from the worked-iteration model
(:class:`bpviz.worked.Worked`): this module only lays them out and colours
them, printing each expression with :class:`bpviz.worked.HtmlPrinter`. A
result shown after the last "=" is the engine's own value read from the
snapshot; intermediate products and sums are the model's, computed from the
factors that are displayed. Every number goes through :func:`fmt`. Parts the
current phase has not computed yet (None in the snapshot) read "not yet
computed in this iteration", in grey.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bpviz.engine.state import STAGES, Phase, Snapshot
from bpviz.worked.expr import MINUS, HtmlPrinter, Text, fmt, notation_html
from bpviz.worked.model import Worked, neuron_number, theta_label

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


def _factor(x: Any) -> str:
    """A number as a factor of a product: negatives in parentheses."""
    s = fmt(x)
    return f"({s})" if s.startswith(MINUS) else s


def _sub(index: Any) -> str:
    return f"<sub>{index}</sub>"


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

    def __init__(
        self, high_contrast: bool, narrow: bool = False, dark: bool = False, hints: bool = True
    ) -> None:
        self.p = palette(high_contrast, dark)
        self.narrow = narrow
        self.hints = hints
        self.parts: list[str] = []

    def hint(self, text: str) -> None:
        """What to press or click next: on screen only, not in a picture of it."""
        if self.hints:
            self.para(self.muted(text))

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
# Reading a snapshot: the worked-iteration model
# ---------------------------------------------------------------------------

#: The printer of the panel: Qt rich text, long sums elided in the middle.
_Q = HtmlPrinter(max_terms=MAX_TERMS)


def _q(e: Any) -> str:
    """An expression of the model as the panel writes it."""
    return _Q.doprint(e)


def _view(snapshot: Snapshot, config: dict, sample: int) -> Worked:
    return Worked(snapshot, config, sample)


def _layer_name(v: Worked, l: int) -> str:
    if l == 0:
        return "input layer 0"
    if l == v.last:
        return f"output layer {l}"
    return f"hidden layer {l}"


def _numbers(v: Worked, l: int) -> str:
    """The neuron numbers of layer ``l``: "3, 4" or "3 … 10"."""
    first, n = v.n(l, 0), v.sizes[l]
    if n == 1:
        return str(first)
    if n <= 3:
        return ", ".join(str(first + m) for m in range(n))
    return f"{first} … {first + n - 1}"


def _sample_suffix(v: Worked) -> str:
    """ " · sample 2 of 4" for a batch, else nothing."""
    return f" · sample {v.sample + 1} of {v.batch}" if v.batch > 1 else ""


def _sample_note(v: Worked) -> str:
    if v.batch > 1:
        return f"sample {v.sample + 1} of the batch of {v.batch}"
    return ""


def _dsigma_rows(v: Worked, l: int, i: int, color: str) -> list[tuple]:
    """Rows for σ′(u_i) = (formula) = numbers = value (the engine's σ′)."""
    eq = v.dsigma(l, i)
    val = f"<b>{_color(fmt(eq.value), color)}</b>"
    if isinstance(eq.general, Text):
        return [(_q(eq.quantity), f"{notation_html(eq.general.text)} &nbsp;→&nbsp; {val}")]
    rhs = _q(eq.symbolic if eq.symbolic is not None else eq.general)
    if eq.substituted is not None:
        rhs = f"{rhs} = {_q(eq.substituted)}"
    return [(_q(eq.quantity), f"{rhs} = {val}")]


def _loss_line(h: _Html, loss: Any) -> None:
    # A narrow panel wraps between the two formulas, never inside one. Qt's nowrap only
    # makes the spaces non-breaking: a word joiner holds σ′ to its "(u" (a line may
    # otherwise break between a prime and a parenthesis).
    def whole(html: str) -> str:
        html = html.replace("′(", "′\u2060(")
        return f'<span style="white-space:nowrap">{html}</span>'

    h.para(
        h.muted("Loss in use: ")
        + whole(notation_html(loss.formula))
        + h.muted(" &nbsp;·&nbsp; its output δ: ")
        + whole(notation_html(loss.delta_formula))
    )


# ---------------------------------------------------------------------------
# explain_neuron
# ---------------------------------------------------------------------------


#: Anchor name on the heading of the part the current phase computed (the
#: inspector scrolls to it).
NOW_ANCHOR = "now"


def _this_phase_tag(color: str) -> str:
    return f'<a name="{NOW_ANCHOR}"></a>' + _color("◀ this phase", color)


def _neuron_forward(h: _Html, v: Worked, l: int, i: int) -> None:
    p = h.p
    I = _sub(v.n(l, i))
    ph = v.phase
    tag = ""
    if ph is not None and ph.kind == "forward" and ph.layer == l:
        tag = _this_phase_tag(p.forward)
    eu, eo = v.forward_u(l, i), v.forward_o(l, i)
    act = v.activation(l)
    general = _q(eu.general)
    if eu.value is None or eo.value is None:
        h.heading("Forward pass", p.forward, tag)
        h.formula([(f"u{I}", h.muted(general)), (f"o{I}", h.muted(f"σ(u{I})"))])
        h.para(h.not_yet(f"u{I} and o{I}"))
        return
    if ph is not None and ph.kind in ("output_delta", "hidden_delta") and ph.layer == l:
        # This phase computes the neuron's δ: its u and o are old news, keep them short.
        h.heading("Forward pass", p.forward, h.muted("(an earlier phase)"))
        h.formula(
            [
                (f"u{I}", h.value(eu.value, p.forward)),
                (f"o{I}", f"σ(u{I}) = {h.value(eo.value, p.forward)}"),
            ]
        )
        return
    h.heading("Forward pass", p.forward, tag)
    rows: list[tuple[str, str]] = [(f"u{I}", h.muted(general.replace("iℓ", f"{v.n(l, i)}ℓ")))]
    rows.append(("", _q(eu.symbolic)))
    if eu.substituted is not None:
        rows.append(("", _q(eu.substituted)))
    rows.append(("", h.value(eu.value, p.forward)))
    h.formula(rows)
    if eu.substituted is None:
        h.para(h.muted("(the last iteration's u and o, computed with θ before its update)"))
    o_rows = [(f"o{I}", f"{_q(eo.symbolic)} = {_q(eo.substituted)}")]
    o_rows += [("", _q(step)) for step in eo.steps]
    o_rows.append(("", h.value(eo.value, p.forward)))
    h.formula(o_rows)
    h.para(h.muted(f"with {notation_html(act.formula)}"))


def _neuron_backward(h: _Html, v: Worked, l: int, i: int) -> None:
    p = h.p
    ph = v.phase
    I = _sub(v.n(l, i))
    tag = ""
    if ph is not None and ph.kind in ("output_delta", "hidden_delta") and ph.layer == l:
        tag = _this_phase_tag(p.backward)
    h.heading("Backward pass", p.backward, tag)
    eq = v.delta(l, i)
    lhs_general = "δ<sub>k</sub>" if l == v.last else "δ<sub>i</sub>"
    h.formula([(lhs_general, h.muted(_q(eq.general)))])
    if eq.value is None or v.row(v.snap.u, l) is None or v.row(v.snap.o, l) is None:
        h.para(h.not_yet(f"δ{I}"))
        return
    if l == v.last:
        y = v.snap.y[v.sample, i]
        yh = v.snap.o[l][v.sample, i]
        h.formula([(f"y{I}", f"{fmt(y)} {h.muted('(target)')}"), (f"ŷ{I}", f"o{I} = {fmt(yh)}")])
        if not v.fused:
            h.formula(_dsigma_rows(v, l, i, p.backward))
    else:
        h.formula(_dsigma_rows(v, l, i, p.backward))
    rows = [(f"δ{I}", _q(eq.symbolic))]
    if eq.substituted is not None:
        rows.append(("", _q(eq.substituted)))
    rows += [("", _q(step)) for step in eq.steps]
    rows.append(("", h.value(eq.value, p.backward)))
    h.formula(rows)
    if l == v.last and v.fused:
        h.para(h.muted(f"(with this loss σ′ of the {v.activation(l).name} output cancels out)"))
    if l < v.last and eq.substituted is None:
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


def _theta_name(v: Worked, k: int, i: int, src: int) -> str:
    """θ of ``weights[k][i, src]`` with the neurons' numbers (src = −1: the bias θ_i0)."""
    return _q(v.theta_sym(k, i, src))


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
    e = (k, i, src)
    I = v.n(k + 1, i)
    L = 0 if src < 0 else v.n(k, src)
    th = _q(v.theta_sym(k, i, src))
    d_sym = f"δ{_sub(I)}"
    if src < 0:
        h.para(h.muted(f"bias of neuron {I} (layer {k + 1}); its input is o<sub>0</sub> = 1"))
    else:
        h.para(h.muted(f"from neuron ℓ = {L} (layer {k}) to neuron i = {I} (layer {k + 1})"))
    if _sample_note(v):
        h.para(h.muted(_sample_note(v)))

    ph = v.phase
    in_update = v.in_update()
    up = v.update(e)
    now = v.pick(snap.weights, snap.biases, e)
    used = v.pick(snap.old_weights, snap.old_biases, e) if in_update else now  # type: ignore[arg-type]
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
    g = v.grad(e)
    one = v.grad_sample(e)  # this sample's δ_i·o_ℓ
    general = (_q(g.quantity), _q(one.quantity))
    grad = g.value
    if one.substituted is None:
        h.formula([general])
        h.para(h.not_yet(f"{d_sym}, so ∂Err/∂{th}"))
    else:
        product = _q(one.substituted)
        if v.batch > 1:
            share = _color(_q(one.steps[-1]), p.backward)
            h.formula([general, ("", product), ("", share)])
            h.para(h.muted(f"for {_sample_note(v)}; summed over the batch of {v.batch} samples:"))
            if grad is None:
                h.para(h.not_yet("the sum (the Gradients phase computes it)"))
            else:
                h.formula([(_q(g.quantity), _q(g.symbolic)), ("", h.value(grad, p.backward))])
        elif grad is None:
            h.formula([general, ("", product)])
            h.para(h.not_yet("the product (the Gradients phase computes it)"))
        else:
            h.formula([general, ("", product), ("", h.value(grad, p.backward))])

    # -- the update: θ_iℓ ← θ_iℓ − η·∂Err/∂θ_iℓ --
    tag = _this_phase_tag(p.update) if in_update else ""
    h.heading("Update", p.update, tag)
    eta = snap.lr
    rule = (th, "←", _q(up.symbolic))
    if grad is None:
        h.formula([rule])
        h.para(h.not_yet(f"∂Err/∂{th}, so the new {th}"))
    elif up.substituted is None:  # after a fast step
        h.formula([rule])
        h.para(
            h.muted(
                f"The last iteration (run fast) applied ∂Err/∂{th} = {fmt(grad)} "
                f"with η = {fmt(eta)}."
            )
        )
    elif up.value is not None:
        h.formula([rule, ("", _q(up.substituted)), ("", h.value(up.value, p.update))])
        h.para(h.muted(f"η = {fmt(eta)}"))
        if "rule" in up.notes:
            h.para(
                h.muted(
                    "(the update rule in force adds momentum, regularisation or clipping: "
                    f"θ moved by {fmt(now - used)})"
                )
            )
    else:
        pending = _color(_q(up.steps[-1]), p.update)
        h.formula([rule, ("", _q(up.substituted)), ("", pending)])
        h.para(h.muted(f"η = {fmt(eta)} · pending: the Weight update phase applies it"))
    return h.html()


# ---------------------------------------------------------------------------
# explain_phase
# ---------------------------------------------------------------------------


def _phase_forward(h: _Html, v: Worked, l: int) -> None:
    p = h.p
    act = v.activation(l)
    eu0, eo0 = v.forward_u(l, 0), v.forward_o(l, 0)
    h.formula([("u<sub>i</sub>", f"{_q(eu0.general)}, &nbsp; o<sub>i</sub> = {_q(eo0.general)}")])
    legend = f"with {notation_html(act.formula)} · ℓ = {_numbers(v, l - 1)}"
    if v.bias:
        legend += ", 0 (o<sub>0</sub> = 1)"
    h.para(h.muted(legend + _sample_suffix(v)))
    if eu0.value is None or eo0.value is None:
        h.para(h.not_yet())
        return
    n_in = v.sizes[l - 1] + (1 if v.bias else 0)
    rows = []
    for i in range(v.sizes[l]):
        I = _sub(v.n(l, i))
        eu, eo = v.forward_u(l, i), v.forward_o(l, i)
        show_sum = n_in <= PHASE_TERMS and eu.substituted is not None
        calc = _q(eu.substituted) if show_sum else ""
        rows.append([f"u{I} =", calc, "=" if calc else "", h.value(eu.value, p.forward)])
        rows.append([f"o{I} =", _q(eo.substituted), "=", h.value(eo.value, p.forward)])
    h.lines(_elide_rows(rows, "neurons", per_item=2))
    h.hint("Click a neuron to see its sum term by term.")


def _phase_error(h: _Html, v: Worked) -> None:
    p = h.p
    eq = v.err_sample()
    h.formula([("Err", _q(eq.general))])
    if eq.value is None:
        h.para(h.not_yet("Err"))
        return
    parts = [_q(eq.symbolic), _q(eq.substituted)] if eq.substituted is not None else [""]
    if v.batch > 1:
        h.para(h.muted(f"for {_sample_note(v)}:"))
        rows: list[tuple[str, ...]] = [(_q(eq.quantity), parts[0])]
        rows += [("", x) for x in parts[1:]]
        rows.append(("", _color(fmt(eq.value), p.forward)))
        h.formula(rows)
        h.para(h.muted(f"over the batch of {v.batch} samples:"))
        total = v.err_batch()
        h.formula([("Err", _q(total.general)), ("", h.value(total.value, p.forward))])
    else:
        rows = [("Err", parts[0])] + [("", x) for x in parts[1:]]
        rows.append(("", h.value(eq.value, p.forward)))
        h.formula(rows)
    h.para(h.muted("ŷ = o of the output layer, y = the target"))


def _phase_output_delta(h: _Html, v: Worked) -> None:
    p = h.p
    l = v.last
    eqs = [v.delta_output(k) for k in range(v.sizes[l])]
    h.formula([("δ<sub>k</sub>", _q(eqs[0].general))])
    if v.fused:
        legend = f"σ′ of the {v.out_act.name} output cancels out with this loss"
    else:
        legend = f"with {notation_html(v.out_act.dformula)} · ŷ<sub>k</sub> = o<sub>k</sub>"
    h.para(h.muted(legend + _sample_suffix(v)))
    if any(eq.value is None for eq in eqs):
        h.para(h.not_yet())
        return
    rows = []
    for eq in eqs:
        calc = _q(eq.substituted) if eq.substituted is not None else ""
        rows.append(
            [f"{_q(eq.quantity)} =", calc, "=" if calc else "", h.value(eq.value, p.backward)]
        )
    h.lines(_elide_rows(rows, "outputs"))


def _phase_hidden_delta(h: _Html, v: Worked, l: int) -> None:
    p = h.p
    eqs = [v.delta_hidden(l, i) for i in range(v.sizes[l])]
    h.formula([("δ<sub>i</sub>", _q(eqs[0].general))])
    h.para(
        h.muted(
            f"with {notation_html(v.act.dformula)} · i = {_numbers(v, l)} (layer {l}), "
            f"j = {_numbers(v, l + 1)} (layer {l + 1})" + _sample_suffix(v)
        )
    )
    if any(eq.value is None for eq in eqs):
        h.para(h.not_yet())
        return
    rows = []
    for eq in eqs:
        calc = ""
        if eq.substituted is not None:
            few = v.sizes[l + 1] <= PHASE_TERMS or not eq.steps
            calc = _q(eq.substituted if few else eq.steps[-1])
        rows.append(
            [f"{_q(eq.quantity)} =", calc, "=" if calc else "", h.value(eq.value, p.backward)]
        )
    h.lines(_elide_rows(rows, "neurons"))
    h.hint("Click a neuron of this layer to see its sum term by term.")


def _largest(entries: list[tuple[int, int, int]], size: dict) -> list[tuple[int, int, int]]:
    """The TOP_N entries of largest |size| (inf and NaN first: they matter most)."""

    def key(e: tuple[int, int, int]) -> float:
        x = abs(size[e])
        return -math.inf if not math.isfinite(x) else -x

    return sorted(entries, key=key)[:TOP_N]


def _phase_gradients(h: _Html, v: Worked) -> None:
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
    entries = v.edges()
    top = _largest(entries, {e: v.pick(snap.grad_weights, snap.grad_biases, e) for e in entries})
    rows = []
    for e in top:
        eq = v.grad(e)
        calc = _q(eq.symbolic) if v.batch > 1 else _q(eq.substituted or Text(""))
        rows.append(
            [f"{_q(eq.quantity)} =", calc, "=" if calc else "", h.value(eq.value, p.backward)]
        )
    which = f"The {len(top)} largest of {len(entries)}" if len(top) < len(entries) else "All"
    h.para(h.muted(f"{which}:"))
    h.lines(rows)
    h.hint("Click an edge to see its gradient and its update.")


def _phase_update(h: _Html, v: Worked) -> None:
    p = h.p
    snap = v.snap
    h.formula([("θ<sub>iℓ</sub>", "←", _q(v.update((0, 0, 0)).general))])
    h.para(h.muted(f"η = {fmt(snap.lr)}"))
    if snap.old_weights is None or snap.old_biases is None or snap.grad_weights is None:
        h.para(h.not_yet())
        return
    entries = v.edges()
    old = {e: v.pick(snap.old_weights, snap.old_biases, e) for e in entries}
    top = _largest(entries, {e: v.pick(snap.weights, snap.biases, e) - old[e] for e in entries})
    rows = []
    for e in top:
        eq = v.update(e)
        rows.append([f"{_q(eq.quantity)} ←", _q(eq.substituted), "=", h.value(eq.value, p.update)])
    which = (
        f"The {len(top)} largest changes of {len(entries)}" if len(top) < len(entries) else "All"
    )
    h.para(h.muted(f"{which}:"))
    h.lines(rows)
    h.hint("Click an edge to see its update.")


def explain_phase(
    snapshot: Snapshot,
    config: dict,
    sample: int = 0,
    *,
    high_contrast: bool = False,
    narrow: bool = False,
    dark: bool = False,
    hints: bool = True,
) -> str:
    """Rich text: what the current phase (``snapshot.phase``) computed, as a compact table.

    Forward: u and o of each neuron of the layer; error: Err for the sample
    and for the batch; output and hidden δ; gradients: the largest ∂Err/∂θ;
    update: the largest changes of θ. Ends with the loss formula in use.

    ``narrow`` puts each result on its own line under its calculation (for
    large fonts in a narrow panel); ``high_contrast`` uses the light-on-black
    palette, ``dark`` the one for a dark desktop theme. ``hints=False`` leaves out
    what to press or click (a picture of the panel: an animation's frames).
    """
    v = _view(snapshot, config, sample)
    h = _Html(high_contrast, narrow, dark, hints)
    ph = v.phase
    if ph is None:
        h.heading("Between iterations", h.p.text)
        if h.hints:
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
