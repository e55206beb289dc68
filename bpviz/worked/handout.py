"""A handout of one backprop iteration: a document tree and its writers.

:func:`walk_next` lets the engine compute the next iteration of a trainer
phase by phase and returns the snapshot after the update; :func:`build`
turns it into a :class:`Doc` — headings, paragraphs, equation groups,
tables and the network figure, all plain data over the
:class:`~bpviz.worked.model.Worked` equations. :func:`to_markdown`,
:func:`to_latex` and :func:`to_html` write that one tree (the PDF is drawn
from it with Qt in :mod:`bpviz.handout_pdf`). No Qt here.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bpviz.engine.state import Snapshot

from . import figure
from .expr import (
    Deriv,
    Expr,
    HtmlPrinter,
    LatexPrinter,
    Mul,
    Notation,
    Num,
    PlainPrinter,
    Printer,
    Ref,
    Rel,
    Sum,
    Sym,
    fmt,
)
from .model import Equation, Worked

__all__ = [
    "Doc",
    "EqGroup",
    "Figure",
    "Heading",
    "Para",
    "Table",
    "build",
    "to_html",
    "to_latex",
    "to_markdown",
    "walk_next",
]

#: Networks with more θ than this get the equations of their first neurons only.
MAX_PARAMS = 60
#: How many neurons of each layer get their equations in a large network.
FIRST_NEURONS = 2
#: Batches up to this size are written out sample by sample.
MAX_SAMPLES = 4
#: A long sum is broken onto lines of this many terms (LaTeX, Markdown).
TERMS_PER_LINE = 3

Inline = str | Expr


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Para:
    parts: tuple[Inline, ...]
    muted: bool = False


@dataclass(frozen=True, slots=True)
class EqGroup:
    """Equations that belong together (never split across a page)."""

    equations: tuple[Equation, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of cells; a cell is one inline piece or a tuple of them."""

    header: tuple[Inline, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class Figure:
    layout: figure.Layout
    caption: str


Block = Heading | Para | EqGroup | Table | Figure


@dataclass(frozen=True, slots=True)
class Doc:
    title: str
    blocks: tuple[Block, ...]
    samples: bool = field(default=False)  # write symbols' sample superscripts

    def _repr_html_(self) -> str:
        """The handout in a notebook (IPython rich display): HTML, figure inline."""
        return to_notebook_html(self)

    def _repr_markdown_(self) -> str:
        """The handout as Markdown with ``$…$`` math, the figure as an inline SVG image."""
        return to_markdown(self, figure_data_uri(self))


# ---------------------------------------------------------------------------
# Running the engine
# ---------------------------------------------------------------------------


def walk_next(trainer: Any, iteration: int | None = None) -> tuple[Snapshot, float]:
    """Walk iteration ``iteration`` (1-based; default the next one) phase by phase.

    Runs the iterations before it fast, then every phase of it, and returns
    the update phase's snapshot and the engine's Err of the same batch with
    θ after the update. Raises ValueError for an iteration already done.
    """
    done = int(trainer.iteration)
    target = done + 1 if iteration is None else int(iteration)
    if target <= done:
        raise ValueError(
            f"the experiment is already at iteration {done}; choose --iteration {done + 1} or later"
        )
    if target - done - 1 > 0:
        trainer.run(target - done - 1)
    if trainer.walk_phase is not None:
        trainer.finish_walk()
    while True:
        phase = trainer.step_phase()
        if phase.is_last:
            break
    snap = trainer.snapshot()
    err_after = float(trainer.net.error(snap.x, snap.y))
    return snap, err_after


# ---------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------


def _theta_rows(w: Worked, snap: Snapshot, edges: Sequence[tuple[int, int, int]]) -> list:
    rows = []
    for e in edges:
        k, i, s = e
        old = w.pick(snap.old_weights, snap.old_biases, e)  # type: ignore[arg-type]
        grad = w.pick(snap.grad_weights, snap.grad_biases, e)  # type: ignore[arg-type]
        new = w.pick(snap.weights, snap.biases, e)
        rows.append(
            (
                w.theta_sym(k, i, s),
                Num(old, Ref("theta", k, i, s)),
                Num(grad, Ref("grad", k, i, s)),
                Num(new, Ref("theta_new", k, i, s)),
            )
        )
    return rows


def _theta_matrices(w: Worked, which: str, what: Inline, after: str = "") -> list[Block]:
    """θ (or its gradient) layer by layer as matrices: rows i, columns ℓ, the bias last."""
    snap = w.snap
    ws, bs = {
        "theta": (snap.old_weights, snap.old_biases),
        "grad": (snap.grad_weights, snap.grad_biases),
        "theta_new": (snap.weights, snap.biases),
    }[which]
    out: list[Block] = []
    for k in range(w.last):
        srcs = list(range(w.sizes[k])) + ([-1] if w.bias else [])
        head = ("i \\ ℓ", *[str(0 if s < 0 else w.n(k, s)) for s in srcs])
        rows = []
        for i in range(w.sizes[k + 1]):
            cells: list[Any] = [str(w.n(k + 1, i))]
            for s in srcs:
                v = float(bs[k][i] if s < 0 else ws[k][i, s])  # type: ignore[index]
                cells.append(Num(v, Ref(which, k, i, s)))
            rows.append(tuple(cells))
        out.append(
            Para(
                (
                    what,
                    f"{after} from layer {k} to layer {k + 1} (row i, column ℓ"
                    + ("; column 0 is the bias" if w.bias else "")
                    + "):",
                )
            )
        )
        out.append(Table(head, tuple(rows)))
    return out


def build(
    snap: Snapshot,
    config: dict,
    err_after: float,
    *,
    title: str = "",
    sample: int | None = None,
    rule: dict | None = None,
    epoch_note: str = "",
) -> Doc:
    """The handout of the iteration ``snap`` (an update-phase snapshot) shows.

    ``sample`` (0-based) writes that sample of a batch out in full; by
    default a batch of up to :data:`MAX_SAMPLES` is written out sample by
    sample and a larger one shows its first sample. ``rule``: the update
    rule's settings (momentum, l1, l2, clipping) to mention.
    """
    if snap.phase is None or snap.phase.kind != "update" or snap.old_weights is None:
        raise ValueError("a handout needs the snapshot of a walked iteration's update phase")
    w = Worked(snap, config, 0 if sample is None else sample)
    sizes = w.sizes
    batch = w.batch
    if sample is not None:
        rows = [w.sample]
    elif batch <= MAX_SAMPLES:
        rows = list(range(batch))
    else:
        rows = [0]
    big = w.n_params > MAX_PARAMS
    neurons = (
        {l: range(min(FIRST_NEURONS, sizes[l])) for l in range(1, len(sizes))} if big else None
    )
    B: list[Block] = []
    name = title or "A worked iteration"
    it = snap.iteration
    B.append(
        Para(
            (
                f"Iteration {it}, step by step in the notation of the lecture notes. Every "
                "number was computed by bpviz's engine; the arithmetic is shown with the "
                "numbers rounded to 4 significant digits.",
            )
        )
    )

    # -- setup --
    B.append(Heading(2, "Setup"))
    act, out_act, loss = w.act, w.out_act, w.loss
    layers = "–".join(str(n) for n in sizes)

    def name_formulas(thing: Any, *formulas: str) -> tuple[Inline, ...]:
        parts: list[Inline] = [f"{thing.name}: "]
        for n, f in enumerate(formulas):
            parts += [", " if n else "", Notation(f)]
        return tuple(parts)

    o0 = Rel(Sym("o", (0,)), "=", Num(1.0))
    setup: list[tuple[Inline | tuple[Inline, ...], ...]] = [
        (
            "Layers",
            f"{layers} (inputs, hidden layers, outputs); neurons numbered 1 … "
            f"{sum(sizes)} through the layers",
        ),
        ("Bias", (Sym("θ", ("i", 0)), " with the constant input ", o0) if w.bias else "none"),
        ("σ, hidden layers", name_formulas(act, act.formula, act.dformula)),
        ("σ, output layer", name_formulas(out_act, out_act.formula, out_act.dformula)),
        ("Loss", name_formulas(loss, loss.formula, loss.delta_formula)),
        ("Learning rate η", fmt(snap.lr)),
        ("Batch", f"{batch} sample{'s' if batch != 1 else ''}"),
    ]
    extra = []
    if rule:
        for key, label in (
            ("momentum", "momentum"),
            ("l1", "L1"),
            ("l2", "L2"),
            ("clip_value", "clip value"),
            ("clip_norm", "clip norm"),
        ):
            v = rule.get(key)
            if v:
                extra.append(f"{label} {fmt(v)}")
    if extra:
        setup.append(
            (
                "Update rule",
                "θ ← θ − η·∂Err/∂θ, plus "
                + ", ".join(extra)
                + " (the new θ below are the engine's)",
            )
        )
    if epoch_note:
        setup.append(("Data", epoch_note))
    B.append(Table(("", ""), tuple(setup)))
    x_syms = [Sym("x", (w.n(0, m),)) for m in range(sizes[0])]
    y_syms = [Sym("y", (w.n(w.last, k),) if sizes[-1] > 1 else ()) for k in range(sizes[-1])]
    data_rows = []
    for s in range(batch):
        data_rows.append(
            (
                str(s + 1),
                *[Num(float(snap.x[s, m]), Ref("x", 0, m, None, s)) for m in range(sizes[0])],
                *[Num(float(snap.y[s, k]), Ref("y", w.last, k, None, s)) for k in range(sizes[-1])],
            )
        )
    B.append(
        Para(
            (
                "The batch: inputs ",
                Sym("x"),
                " = ",
                Sym("o"),
                " of the input neurons, targets ",
                Sym("y"),
                ".",
            )
        )
    )
    B.append(Table(("sample", *x_syms, *y_syms), tuple(data_rows)))

    # -- the network and θ before --
    lay = figure.layout(sizes, snap.old_weights, snap.old_biases if w.bias else None)
    cap = f"The network with θ before the update on its edges ({figure.SIGN_KEY})."
    if not lay.labelled:
        cap = (
            f"The network before the update: {figure.SIGN_KEY}, width ∝ |θ| "
            "(the values are in the table)."
        )
    if w.bias:
        cap += " The grey nodes 0 are the bias inputs, constant 1."
    B.append(Heading(2, "The network"))
    B.append(Figure(lay, cap))
    edges = w.edges()
    trows = _theta_rows(w, snap, edges)
    B.append(Heading(2, "θ before the update"))
    if big:
        B.extend(_theta_matrices(w, "theta", Sym("θ", ("i", "ℓ"))))
    else:
        B.append(Table((Sym("θ"), "before"), tuple((r[0], r[1]) for r in trows)))

    # -- the phases --
    if big:
        B.append(
            Para(
                (
                    f"This network has {w.n_params} parameters: every equation is written "
                    f"out for the first {FIRST_NEURONS} neurons of each layer and the θ "
                    "into them; the tables give u, o, σ′, δ and θ of all the others.",
                ),
                muted=True,
            )
        )
    if batch > 1 and len(rows) < batch:
        B.append(
            Para(
                (
                    f"The batch has {batch} samples: sample {rows[0] + 1} is written out "
                    "in full; the tables give u, o and δ of every sample.",
                ),
                muted=True,
            )
        )
    titles = {
        "forward": "Forward pass: layer {l}",
        "error": "Error",
        "output_delta": "Backward pass: output δ (layer {l})",
        "hidden_delta": "Backward pass: hidden δ (layer {l})",
        "gradients": "Gradients",
        "update": "Weight update",
    }
    every = list(range(batch)) if batch <= MAX_SAMPLES else None
    for kind, l, eqs in _phases(w, rows, neurons, every):
        B.append(Heading(2, titles[kind].format(l=l)))
        B.extend(_intro(w, kind, l))
        groups = _group(eqs)
        B.extend(EqGroup(tuple(g)) for g in groups)
        if kind in ("forward", "hidden_delta", "output_delta") and (big or len(rows) < batch):
            B.append(_layer_table(w, kind, l))
        if kind == "gradients" and big:
            B.extend(_theta_matrices(w, "grad", Deriv(Sym("θ", ("i", "ℓ")))))
        if kind == "gradients" and batch > MAX_SAMPLES:
            d_o = Mul((Sym("δ", ("i",)), Sym("o", ("ℓ",))))
            B.append(
                Para(
                    (
                        "Each ",
                        Deriv(Sym("θ", ("i", "ℓ"))),
                        " is the sum of ",
                        d_o,
                        f" over the {batch} samples of the batch (the engine's sum).",
                    ),
                    muted=True,
                )
            )
    B.append(Heading(2, "θ after the update"))
    if big:
        B.extend(_theta_matrices(w, "theta_new", Sym("θ", ("i", "ℓ")), " after the update"))
    else:
        B.append(Table((Sym("θ"), "before", "∂Err/∂θ", "after"), tuple(trows)))
    B.append(Heading(2, "Err before and after"))
    B.append(
        Table(
            ("", "Err of this batch"),
            (
                ("with θ before the update", Num(float(snap.err), Ref("err"))),  # type: ignore[arg-type]
                ("with θ after the update", Num(err_after, Ref("err"))),
            ),
        )
    )
    change = err_after - float(snap.err)  # type: ignore[arg-type]
    verdict = "fell" if change < 0 else "rose" if change > 0 else "stayed the same"
    B.append(Para((f"Err of this batch {verdict} by {fmt(abs(change))} in this iteration.",)))
    B.append(
        Para(
            (
                "Numbers are shown with 4 significant digits; each result is the engine's "
                "own value, so arithmetic redone with the rounded numbers shown may differ "
                "in the last digit.",
            ),
            muted=True,
        )
    )
    return Doc(title=f"{name}: iteration {it}", blocks=tuple(B), samples=batch > 1)


def _phases(w: Worked, rows: list[int], neurons: Any, every: list[int] | None):
    for kind, l, eqs in w.iteration(rows, neurons):
        if kind == "gradients":
            eqs = [w.grad((e.layer, e.index, e.src), every) for e in eqs]  # type: ignore[arg-type]
        yield kind, l, eqs


def _group(eqs: list[Equation]) -> list[list[Equation]]:
    """u with o, σ′ with δ: the equations of one neuron and sample stay together."""
    groups: list[list[Equation]] = []
    for e in eqs:
        if groups and (
            (e.kind == "o" and groups[-1][-1].kind == "u")
            or (e.kind == "delta" and groups[-1][-1].kind == "dsigma")
        ):
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


def _intro(w: Worked, kind: str, l: int | None) -> list[Block]:
    """The general formula of a phase, once, before its equations."""
    i_l = Sym("θ", ("i", "ℓ"))
    bias_note: tuple[Inline, ...] = (
        (" (", Rel(Sym("o", (0,)), "=", Num(1.0)), " for a bias).") if w.bias else (".",)
    )
    if kind == "forward":
        u, o = w.forward_u(l, 0), w.forward_o(l, 0)  # type: ignore[arg-type]
        act = w.activation(l)  # type: ignore[arg-type]
        return [
            Para(
                (
                    "Each neuron i sums its weighted inputs and applies σ: ",
                    Rel(Sym("u", ("i",)), "=", u.general),
                    " and ",
                    Rel(Sym("o", ("i",)), "=", o.general),
                    f", with σ = {act.name}",
                    *bias_note,
                )
            )
        ]
    if kind == "error":
        e = w.err_sample()
        text = ". ŷ = o of the output layer, y is the target"
        if w.batch > 1:
            text += "; Err of the batch is the sum over its samples"
        return [Para((f"The loss {w.loss.name}: ", Rel(Sym("Err"), "=", e.general), text + "."))]
    if kind == "output_delta":
        d = w.delta_output(0)
        lead = (
            f"With this loss σ′ of the {w.out_act.name} output cancels: "
            if w.fused
            else "At each output k: "
        )
        return [Para((lead, Rel(Sym("δ", ("k",)), "=", d.general), "."))]
    if kind == "hidden_delta":
        d = w.delta_hidden(l, 0)  # type: ignore[arg-type]
        return [
            Para(
                (
                    "Right to left: ",
                    Rel(Sym("δ", ("i",)), "=", d.general),
                    f", where j runs over the neurons of layer {(l or 0) + 1}.",
                )
            )
        ]
    if kind == "gradients":
        lead = "For every θ" + (", summed over the samples of the batch: " if w.batch > 1 else ": ")
        return [
            Para(
                (
                    lead,
                    Rel(Deriv(i_l), "=", w.grad((0, 0, 0)).general),
                    *bias_note,
                )
            )
        ]
    return [
        Para(
            (
                "Every θ moves against its gradient: ",
                Rel(i_l, "←", w.update((0, 0, 0)).general),
                f", with η = {fmt(w.snap.lr)}.",
            )
        )
    ]


def _layer_table(w: Worked, kind: str, l: int) -> Table:
    """u, o (forward) or σ′, δ (backward) of every neuron of layer ``l`` and every sample."""
    snap = w.snap
    rows = []
    names = ("u", "o") if kind == "forward" else ("σ′", "δ")
    arrays = (snap.u, snap.o) if kind == "forward" else (snap.dsigma, snap.delta)
    for s in range(w.batch):
        for i in range(w.sizes[l]):
            cells: list[Inline] = [str(s + 1)] if w.batch > 1 else []
            cells.append(str(w.n(l, i)))
            for name, arr in zip(names, arrays, strict=True):
                cells.append(Num(float(arr[l][s, i]), Ref(name, l, i, None, s)))
            rows.append(tuple(cells))
    head: tuple[Inline, ...] = (("sample",) if w.batch > 1 else ()) + ("neuron", *names)
    return Table(head, tuple(rows))


# ---------------------------------------------------------------------------
# Equation lines, shared by the writers
# ---------------------------------------------------------------------------


def _split(e: Expr, p: Printer, n: int = TERMS_PER_LINE) -> list[str]:
    """``e`` printed on several lines when it is a long sum (or a factor times one)."""

    def chunks(terms: Sequence[Expr]) -> list[str]:
        parts = [
            " + ".join(p.doprint(t) for t in terms[m : m + n]) for m in range(0, len(terms), n)
        ]
        return [parts[0]] + ["+ " + x for x in parts[1:]]

    if isinstance(e, Sum) and len(e.terms) > n + 1:
        return chunks(e.terms)
    if (
        isinstance(e, Mul)
        and len(e.items) == 2
        and isinstance(e.items[1], Sum)
        and len(e.items[1].terms) > n + 1
    ):
        lines = chunks(e.items[1].terms)
        lines[0] = f"{p.factor(e.items[0])}{p.times}({lines[0]}"
        lines[-1] += ")"
        return lines
    return [p.doprint(e)]


def equation_lines(
    eq: Equation, p: Printer, width: int = 64, general: bool = False
) -> list[tuple[str, str, str]]:
    """(lhs, relation, rhs) lines of one equation, packed up to ``width`` characters.

    The forms follow each other joined by "=": (the general formula,) the
    symbolic one, the substituted one, the steps and the engine's value. A
    long sum gets lines of its own (:data:`TERMS_PER_LINE` terms each).
    """
    plain = PlainPrinter(samples=p.samples)
    forms = ([eq.general] if general or eq.symbolic is None else []) + [
        f for f in (eq.symbolic, eq.substituted, *eq.steps) if f is not None
    ]
    if eq.value is not None:
        forms.append(Num(eq.value, eq.ref))
    lines: list[tuple[str, str, str]] = []
    rel = eq.relation
    current: list[str] = []
    used = len(plain.doprint(eq.quantity)) + 3
    sep = f" {p.relation('=')} "
    for f in forms:
        text = plain.doprint(f)
        parts = _split(f, p) if len(text) > width else [p.doprint(f)]
        if len(parts) > 1 or (current and used + len(text) + 3 > width):
            if current:
                lines.append(("", rel, sep.join(current)))
                rel, current, used = "=", [], 3
            if len(parts) > 1:
                lines += [("", rel if n == 0 else "", part) for n, part in enumerate(parts)]
                rel = "="
                continue
        current.append(parts[0])
        used += len(text) + 3
    if current:
        lines.append(("", rel, sep.join(current)))
    lines[0] = (p.doprint(eq.quantity), *lines[0][1:])
    return lines


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


class _MdLatex(LatexPrinter):
    """LaTeX for Markdown viewers: plain brackets (no \\left, which breaks in tables)."""

    def paren(self, s: str, kind: str = "()") -> str:
        return f"{kind[0]}{s}{kind[1]}" if kind == "()" else rf"\lbrack {s}\rbrack "


def _cell(c: Any) -> tuple:
    """A table cell's parts (a cell is one inline piece or a tuple of them)."""
    return c if isinstance(c, tuple) else (c,)


def _md_inline(parts: Sequence[Inline], p: Printer) -> str:
    out = []
    for x in parts:
        out.append(f"${p.doprint(x)}$" if isinstance(x, Expr) else _md_text(x))
    return "".join(out)


def _md_text(s: str) -> str:
    for ch in "\\*_|`[]<>#":
        s = s.replace(ch, "\\" + ch)
    return s


def to_markdown(doc: Doc, figure_file: str) -> str:
    """Markdown with ``$…$`` / ``$$…$$`` math; the figure is ``figure_file`` (an SVG beside it)."""
    p = _MdLatex(samples=doc.samples)
    out = [f"# {_md_text(doc.title)}", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _md_text(b.text), ""]
        elif isinstance(b, Para):
            text = _md_inline(b.parts, p)
            out += [f"*{text}*" if b.muted else text, ""]
        elif isinstance(b, Table):
            head = [_md_inline(_cell(c), p) or " " for c in b.header]
            out.append("| " + " | ".join(head) + " |")
            out.append("|" + "|".join("---" for _ in head) + "|")
            for r in b.rows:
                out.append("| " + " | ".join(_md_inline(_cell(c), p) for c in r) + " |")
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{_md_text(b.caption)}]({figure_file})", "", f"*{_md_text(b.caption)}*", ""]
        elif isinstance(b, EqGroup):
            rows = []
            for eq in b.equations:
                for lhs, rel, rhs in equation_lines(eq, p):
                    rows.append(f"{lhs} &{p.relation(rel)} {rhs}")
            out += ["$$", r"\begin{aligned}", (" \\\\\n").join(rows), r"\end{aligned}", "$$", ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------
# LaTeX
# ---------------------------------------------------------------------------

_TEX_TEXT = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_UNICODE = {
    "θ": r"$\theta$",
    "δ": r"$\delta$",
    "σ": r"$\sigma$",
    "η": r"$\eta$",
    "ℓ": r"$\ell$",
    "′": r"$'$",
    "ŷ": r"$\hat{y}$",
    "Σ": r"$\Sigma$",
    "∂": r"$\partial$",
    "·": r"$\cdot$",
    "−": "-",
    "←": r"$\leftarrow$",
    "²": r"$^2$",
    "≥": r"$\geq$",
    "∝": r"$\propto$",
    "…": r"\dots{}",
    "–": "--",
    "½": r"$\frac12$",
    "→": r"$\to$",
    "ₖ": r"$_k$",
}


def tex_text(s: str) -> str:
    """Plain text (with the notes' Unicode symbols) as LaTeX text."""
    out = []
    for ch in s:
        out.append(_TEX_TEXT.get(ch) or _TEX_UNICODE.get(ch) or ch)
    return "".join(out).replace("$$", "")


def _tex_inline(parts: Sequence[Inline], p: Printer) -> str:
    return "".join(f"${p.doprint(x)}$" if isinstance(x, Expr) else tex_text(x) for x in parts)


#: A wide table of at most this many rows fits on a page and is scaled to the line if needed.
_FIT_ROWS = 40


def to_latex(doc: Doc) -> str:
    """A standalone LaTeX document (article, amsmath, xcolor, booktabs, longtable)."""
    p = LatexPrinter(samples=doc.samples)
    out = [
        r"\documentclass[10pt,a4paper]{article}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath,amssymb}",
        r"\usepackage{xcolor,booktabs,longtable,graphicx}",
        # \bpfit{…}: a box wider than the line is scaled down to the line (a θ matrix of
        # many columns written in full), a narrower one is left as it is.
        r"\newsavebox{\bpbox}",
        r"\newcommand{\bpfit}[1]{\sbox{\bpbox}{#1}\ifdim\wd\bpbox>\linewidth"
        r"\resizebox{\linewidth}{!}{\usebox{\bpbox}}\else\usebox{\bpbox}\fi}",
        r"\definecolor{bpforward}{HTML}{1558B0}",
        r"\definecolor{bpbackward}{HTML}{B3400A}",
        rf"\definecolor{{bppositive}}{{HTML}}{{{figure.POSITIVE[1:].upper()}}}",
        rf"\definecolor{{bpnegative}}{{HTML}}{{{figure.NEGATIVE[1:].upper()}}}",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{4pt}",
        r"\allowdisplaybreaks[0]",
        rf"\title{{{tex_text(doc.title)}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out.append(rf"\section*{{{tex_text(b.text)}}}")
        elif isinstance(b, Para):
            text = _tex_inline(b.parts, p)
            out += [rf"{{\color{{gray}}{text}}}" if b.muted else text, ""]
        elif isinstance(b, Table):
            cols = "l" * len(b.header)
            if len(b.header) == 2 and any(len(str(r[1])) > 60 for r in b.rows):  # wrap text
                cols = r"l p{0.72\linewidth}"
            wide = len(b.header) > 6
            # A θ matrix that fits on a page is a tabular scaled to the line if it is
            # wider; a longer table breaks across pages (longtable) and is not scaled.
            env = "tabular" if wide and len(b.rows) <= _FIT_ROWS else "longtable"
            if wide:  # a θ matrix: smaller type, closer columns
                size = r"\scriptsize" if len(b.header) > 9 else r"\footnotesize"
                out.append(rf"{{{size}\setlength{{\tabcolsep}}{{2.5pt}}")
            if env == "tabular":  # centred, as a longtable is
                out += ["", r"\smallskip\centering\bpfit{%"]
            out.append(rf"\begin{{{env}}}{{{cols}}}")
            out.append(r"\toprule")
            out.append(" & ".join(_tex_inline(_cell(c), p) for c in b.header) + r" \\")
            out.append(r"\midrule")
            for r in b.rows:
                out.append(" & ".join(_tex_inline(_cell(c), p) for c in r) + r" \\")
            out.append(r"\bottomrule")
            out.append(rf"\end{{{env}}}")
            if env == "tabular":
                out += ["}", "", r"\smallskip"]
            if wide:
                out.append("}")
        elif isinstance(b, Figure):
            out += [
                r"\begin{center}",
                figure.to_latex_picture(b.layout),
                "",
                rf"{{\small {tex_text(b.caption)}}}",
                r"\end{center}",
            ]
        elif isinstance(b, EqGroup):
            rows = []
            for eq in b.equations:
                for lhs, rel, rhs in equation_lines(eq, p):
                    rows.append(f"{lhs} &{p.relation(rel)} {rhs}")
            out += [r"\begin{align*}", (" \\\\\n").join(rows), r"\end{align*}"]
    out.append(r"\end{document}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

_CSS = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; color: #1b1b1b; max-width: 52em;
       margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; color: #1558b0; }
table.eq { margin: 0.4em 0 0.6em 1.2em; border-collapse: collapse; }
table.eq td { padding: 1px 4px; vertical-align: baseline; }
table.eq td.l { text-align: right; white-space: nowrap; }
table.eq td.r { text-align: center; }
table.data { border-collapse: collapse; margin: 0.4em 0 0.8em 0; }
table.data th, table.data td { border-bottom: 1px solid #d0d0d0; padding: 2px 10px;
       text-align: left; }
.muted { color: #6a6a6a; }
.value { font-weight: bold; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #6a6a6a; }
"""


def _html_inline(parts: Sequence[Inline], p: Printer) -> str:
    return "".join(p.doprint(x) if isinstance(x, Expr) else html.escape(x) for x in parts)


def html_blocks(doc: Doc, p: HtmlPrinter | None = None) -> list[tuple[Block, str]]:
    """Every block as an HTML fragment (also what the PDF lays out, block by block)."""
    p = p or HtmlPrinter(samples=doc.samples)
    out: list[tuple[Block, str]] = []
    for b in doc.blocks:
        if isinstance(b, Heading):
            s = f"<h{b.level}>{html.escape(b.text)}</h{b.level}>"
        elif isinstance(b, Para):
            cls = ' class="muted"' if b.muted else ""
            s = f"<p{cls}>{_html_inline(b.parts, p)}</p>"
        elif isinstance(b, Table):
            head = "".join(f"<th>{_html_inline(_cell(c), p)}</th>" for c in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{_html_inline(_cell(c), p)}</td>" for c in r) + "</tr>"
                for r in b.rows
            )
            s = f'<table class="data"><tr>{head}</tr>{body}</table>'
        elif isinstance(b, Figure):
            s = ""  # drawn by the writer (inline SVG in HTML, QPainter in the PDF)
        else:
            rows = []
            for eq in b.equations:
                for lhs, rel, rhs in equation_lines(eq, p, width=90):
                    rows.append(
                        f'<tr><td class="l">{lhs}</td><td class="r">{rel}</td><td>{rhs}</td></tr>'
                    )
            s = '<table class="eq">' + "".join(rows) + "</table>"
        out.append((b, s))
    return out


def _html_body(doc: Doc) -> list[str]:
    """The blocks as HTML, each figure as inline SVG with its caption."""
    body = []
    for b, s in html_blocks(doc):
        if isinstance(b, Figure):
            s = (
                f"<figure>{figure.to_svg(b.layout)}<figcaption>{html.escape(b.caption)}"
                "</figcaption></figure>"
            )
        body.append(s)
    return body


def to_html(doc: Doc) -> str:
    """One self-contained HTML file: inline CSS and SVG, no script, nothing fetched."""
    body = _html_body(doc)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(doc.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(doc.title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


#: The handout's CSS for a notebook cell: scoped to the handout, no page margins.
_NOTEBOOK_CSS = """
.bpviz-handout { font-family: 'DejaVu Sans', Arial, sans-serif; line-height: 1.4; }
.bpviz-handout h2 { font-size: 1.15em; margin-top: 1.2em; color: #1558b0; }
.bpviz-handout table.eq { margin: 0.4em 0 0.6em 1.2em; border-collapse: collapse; }
.bpviz-handout table.eq td { padding: 1px 4px; vertical-align: baseline; border: none; }
.bpviz-handout table.eq td.l { text-align: right; white-space: nowrap; }
.bpviz-handout table.eq td.r { text-align: center; }
.bpviz-handout table.data th, .bpviz-handout table.data td { padding: 2px 10px;
       text-align: left; }
.bpviz-handout .muted { color: #6a6a6a; }
.bpviz-handout .value { font-weight: bold; }
.bpviz-handout figcaption { font-size: 0.9em; color: #6a6a6a; }
"""


def to_notebook_html(doc: Doc) -> str:
    """The handout as one HTML fragment for a notebook cell (scoped CSS, inline SVG)."""
    body = _html_body(doc)
    return (
        f'<div class="bpviz-handout"><style>{_NOTEBOOK_CSS}</style>'
        f"<h2>{html.escape(doc.title)}</h2>\n" + "\n".join(body) + "</div>"
    )


def figure_data_uri(doc: Doc) -> str:
    """The handout's figure as a ``data:image/svg+xml;base64,…`` URI (for Markdown)."""
    import base64

    fig = next(b for b in doc.blocks if isinstance(b, Figure))
    data = base64.b64encode(figure.to_svg(fig.layout).encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


# ---------------------------------------------------------------------------
# Making and writing a handout
# ---------------------------------------------------------------------------

#: The formats, by file suffix.
SUFFIXES = (".md", ".tex", ".html", ".pdf")


def check_suffix(path: str | os.PathLike) -> str:
    """The format of ``path`` (its suffix, lower case); ValueError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        got = f"'{suffix}'" if suffix else "no suffix"
        raise ValueError(
            f"{Path(path).name}: unknown handout format ({got}); "
            "the file name must end in .md, .tex, .html or .pdf"
        )
    return suffix


def make(
    trainer: Any,
    *,
    iteration: int | None = None,
    sample: int | None = None,
    title: str = "",
) -> Doc:
    """Walk the trainer's next iteration (or ``iteration``) and build its handout.

    ``sample`` is 1-based, as the command line and the window count samples.
    The trainer is advanced (use a copy of the experiment, not the one a
    window is training).
    """
    snap, err_after = walk_next(trainer, iteration)
    batch = int(snap.x.shape[0])  # type: ignore[union-attr]
    if sample is not None and not 1 <= sample <= batch:
        raise ValueError(f"--sample {sample}: the batch of this iteration has {batch} samples")
    rule = trainer.rule
    return build(
        snap,
        trainer.net.config(),
        err_after,
        title=title,
        sample=None if sample is None else sample - 1,
        rule={
            "momentum": rule.momentum,
            "l1": rule.l1,
            "l2": rule.l2,
            "clip_value": rule.clip_value,
            "clip_norm": rule.clip_norm,
        },
        epoch_note=_epoch_note(trainer.n_train, trainer.epoch),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _epoch_note(n_train: int, epochs_after: int) -> str:
    """Where the batch came from; the trainer has already walked the iteration, so its
    epoch count is the one after it."""
    return (
        f"the batch the engine drew for this iteration ({_plural(n_train, 'training sample')}; "
        f"{_plural(epochs_after, 'epoch')} completed after this iteration)"
    )


def figure_path(path: str | os.PathLike) -> Path:
    """Where the Markdown handout's figure goes: ``NAME-network.svg`` beside it."""
    p = Path(path)
    return p.with_name(p.stem + "-network.svg")


def write(doc: Doc, path: str | os.PathLike) -> list[Path]:
    """Write ``doc`` in the format of ``path``'s suffix; returns the files written.

    Every file is written atomically (a temporary file renamed over the
    target), so a failure leaves no half-written file; the Markdown's figure
    is removed again if the Markdown itself cannot be written.
    """
    from bpviz.engine.experiment_io import atomic_write_bytes

    target = Path(path)
    suffix = check_suffix(target)
    if suffix == ".pdf":
        from bpviz.handout_pdf import write_pdf

        write_pdf(doc, target)
        return [target]
    if suffix == ".md":
        svg = figure_path(target)
        existed = svg.exists()
        fig = next(b for b in doc.blocks if isinstance(b, Figure))
        atomic_write_bytes(svg, figure.to_svg(fig.layout).encode("utf-8"))
        try:
            atomic_write_bytes(target, to_markdown(doc, svg.name).encode("utf-8"))
        except BaseException:
            if not existed:
                svg.unlink(missing_ok=True)
            raise
        return [target, svg]
    text = to_latex(doc) if suffix == ".tex" else to_html(doc)
    atomic_write_bytes(target, text.encode("utf-8"))
    return [target]
