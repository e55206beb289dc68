"""Expressions of a worked iteration as plain data, and their printers.

An expression is a small tree (:class:`Num`, :class:`Sym`, :class:`Mul`, …).
Every number is a :class:`Num` that remembers where it comes from (a
:class:`Ref`: which array of the snapshot, which neuron, edge and sample).
Printers turn one tree into Qt rich text, LaTeX or plain text; they differ
only in small ``_print_<Node>`` methods (the way SymPy's printers do), and
they compute nothing. :func:`interval` evaluates a tree from its numbers as
they are *shown* (each rounded to the printed digits), so a test can check
that the arithmetic on the page checks out.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MINUS",
    "Call",
    "Cond",
    "Deriv",
    "Elided",
    "Exp",
    "Expr",
    "Frac",
    "HtmlPrinter",
    "LatexPrinter",
    "Mul",
    "Neg",
    "Notation",
    "Num",
    "Paren",
    "PlainPrinter",
    "Pow",
    "Printer",
    "Ref",
    "Rel",
    "Sub",
    "Sum",
    "SumOver",
    "Sym",
    "Text",
    "fmt",
    "interval",
    "notation_html",
    "refs",
]

#: The typographic minus used for every negative number and every subtraction.
MINUS = "−"


def fmt(x: object, digits: int = 4) -> str:
    """Format a number with ``digits`` significant digits, the way the UI shows it.

    Trailing zeros are dropped, negatives use the typographic minus "−",
    very small or large numbers use an exponent (``1.23e−05``), and the
    non-finite values read ``inf``, ``−inf`` and ``NaN``.

    >>> fmt(0.019134), fmt(-0.05), fmt(1.2345e-5, 3), fmt(float("nan"))
    ('0.01913', '−0.05', '1.23e−05', 'NaN')
    """
    v = float(x)  # type: ignore[arg-type]
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else MINUS + "inf"
    if v == 0.0:
        return "0"
    return f"{v:.{int(digits)}g}".replace("-", MINUS)


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ref:
    """Where a number comes from.

    ``name`` is the snapshot's quantity: ``"x"``, ``"y"``, ``"u"``, ``"o"``,
    ``"dsigma"``, ``"delta"``, ``"theta"`` (θ the iteration used),
    ``"theta_new"``, ``"grad"``, ``"lr"``, ``"err"``, ``"err_sample"`` (one
    sample's share, from the engine's loss function), ``"const"`` (a constant
    of the formula: 1, 2, N) or ``"derived"`` (arithmetic on shown numbers,
    done once in the model). ``layer`` is the neuron layer (for θ and
    gradients: k, the layer the edge leaves), ``index`` the neuron, ``src``
    the source neuron of an edge (−1 the bias) and ``sample`` the row of the
    batch.
    """

    name: str
    layer: int | None = None
    index: int | None = None
    src: int | None = None
    sample: int | None = None


CONST = Ref("const")
DERIVED = Ref("derived")


class Expr:
    """Base of every node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Num(Expr):
    """A number; ``text`` overrides how it is written (e.g. "½")."""

    value: float
    ref: Ref = CONST
    text: str | None = None
    latex: str | None = None


@dataclass(frozen=True, slots=True)
class Sym(Expr):
    """A symbol with subscripts: ``Sym("θ", (3, 1))`` is θ_31.

    ``base`` is one of θ, o, u, δ, y, ŷ, x, η, σ, Err, N, … ; ``sample``
    (1-based) is written as a superscript ⁽ˢ⁾ by printers that show samples.
    """

    base: str
    sub: tuple[int | str, ...] = ()
    sample: int | None = None


@dataclass(frozen=True, slots=True)
class Deriv(Expr):
    """∂Err/∂x."""

    of: Expr
    num: str = "Err"


@dataclass(frozen=True, slots=True)
class Mul(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Sum(Expr):
    """Terms joined by "+"; printers may elide the middle of a long sum."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Sub(Expr):
    a: Expr
    b: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    a: Expr


@dataclass(frozen=True, slots=True)
class Frac(Expr):
    num: Expr
    den: Expr


@dataclass(frozen=True, slots=True)
class Pow(Expr):
    base: Expr
    exp: int


@dataclass(frozen=True, slots=True)
class Exp(Expr):
    """e to the power ``arg``."""

    arg: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function: σ, σ′, tanh, max, ln."""

    fn: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Paren(Expr):
    """Explicit brackets: ``"()"`` or ``"[]"``."""

    a: Expr
    kind: str = "()"


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    """``[a > 0]`` (else 0), or ``1 if a > 0 else other``."""

    a: Expr
    other: float = 0.0


@dataclass(frozen=True, slots=True)
class SumOver(Expr):
    """Σ over a named index (ℓ, j, samples) of ``body``, in the notes' notation."""

    index: str
    body: Expr


@dataclass(frozen=True, slots=True)
class Rel(Expr):
    """``lhs = rhs`` (or another relation, e.g. "←") inside running text."""

    lhs: Expr
    rel: str
    rhs: Expr


@dataclass(frozen=True, slots=True)
class Notation(Expr):
    """A formula written as the engine writes it in plain text: ``σ(u) = 1/(1+e^(−u))``.

    ``x_k`` is a subscript and ``x^(…)`` a superscript; printers turn them
    into their own notation.
    """

    text: str


@dataclass(frozen=True, slots=True)
class Elided(Expr):
    """ "…" standing for terms left out (printers make these, never the model)."""


@dataclass(frozen=True, slots=True)
class Text(Expr):
    """Text with no structure (a formula the model cannot write out)."""

    text: str


def refs(e: Expr) -> list[Num]:
    """Every number of ``e``, left to right."""
    out: list[Num] = []

    def walk(x: object) -> None:
        if isinstance(x, Num):
            out.append(x)
        elif isinstance(x, Expr):
            for name in x.__slots__:  # type: ignore[attr-defined]
                walk(getattr(x, name))
        elif isinstance(x, tuple):
            for y in x:
                walk(y)

    walk(e)
    return out


# ---------------------------------------------------------------------------
# Evaluation from the shown numbers
# ---------------------------------------------------------------------------


def shown_interval(value: float, digits: int = 4) -> tuple[float, float]:
    """The numbers that print as ``fmt(value, digits)``: [shown − ½ ulp, shown + ½ ulp]."""
    v = float(value)
    if not math.isfinite(v) or v == 0.0:
        return v, v
    shown = float(f"{v:.{digits}g}")
    half = 0.5 * 10 ** (math.floor(math.log10(abs(shown))) - digits + 1)
    return shown - half, shown + half


def _mul(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return min(p), max(p)


def interval(e: Expr, digits: int = 4) -> tuple[float, float]:
    """The range of ``e`` evaluated from its numbers as printed with ``digits``.

    Constants of a formula (:data:`CONST`) are exact; every other number may
    be anything that rounds to what is shown. Raises ValueError for nodes
    that have no value (symbols, text).
    """

    def ev(x: Expr) -> tuple[float, float]:
        if isinstance(x, Num):
            if x.ref.name == "const":
                return x.value, x.value
            return shown_interval(x.value, digits)
        if isinstance(x, Mul):
            acc = (1.0, 1.0)
            for item in x.items:
                acc = _mul(acc, ev(item))
            return acc
        if isinstance(x, Sum):
            lo = hi = 0.0
            for t in x.terms:
                a, b = ev(t)
                lo, hi = lo + a, hi + b
            return lo, hi
        if isinstance(x, Sub):
            a, b = ev(x.a), ev(x.b)
            return a[0] - b[1], a[1] - b[0]
        if isinstance(x, Neg):
            a = ev(x.a)
            return -a[1], -a[0]
        if isinstance(x, Frac):
            n, d = ev(x.num), ev(x.den)
            if d[0] <= 0.0 <= d[1]:
                raise ValueError("division by an interval holding 0")
            return _mul(n, (1.0 / d[1], 1.0 / d[0]))
        if isinstance(x, Pow):
            a = ev(x.base)
            vals = [a[0] ** x.exp, a[1] ** x.exp]
            lo, hi = min(vals), max(vals)
            if x.exp % 2 == 0 and a[0] < 0.0 < a[1]:
                lo = 0.0
            return lo, hi
        if isinstance(x, Exp):
            a = ev(x.arg)
            return math.exp(a[0]), math.exp(a[1])
        if isinstance(x, Paren):
            return ev(x.a)
        if isinstance(x, Cond):
            a = ev(x.a)
            if a[0] > 0:
                return 1.0, 1.0
            if a[1] <= 0:
                return x.other, x.other
            return min(1.0, x.other), max(1.0, x.other)
        if isinstance(x, Call):
            args = [ev(a) for a in x.args]
            if x.fn == "tanh":
                return math.tanh(args[0][0]), math.tanh(args[0][1])
            if x.fn == "ln":
                lo, hi = args[0]
                return (math.log(lo) if lo > 0 else -math.inf), (
                    math.log(hi) if hi > 0 else -math.inf
                )
            if x.fn == "max":
                return max(a[0] for a in args), max(a[1] for a in args)
        raise ValueError(f"{type(x).__name__} has no value")

    return ev(e)


# ---------------------------------------------------------------------------
# Printers
# ---------------------------------------------------------------------------

_SUP = re.compile(r"\^\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_SUB = re.compile(r"_(\([^)]*\)|[0-9A-Za-zℓ]+)")


def _scripts(text: str, sub: Any, sup: Any) -> str:
    """``x_k`` and ``e^(−u)`` of a plain formula through ``sub`` and ``sup``."""

    def one_sub(m: re.Match[str]) -> str:
        inner = m.group(1)
        return sub(inner[1:-1] if inner.startswith("(") else inner)

    s = _SUP.sub(lambda m: sup(_SUB.sub(one_sub, m.group(1))), text)
    return _SUB.sub(one_sub, s)


def notation_html(text: str) -> str:
    """Turn the engine's plain formula strings into rich text.

    ``θ_iℓ`` becomes θ<sub>iℓ</sub>, ``e^(−u)`` becomes e<sup>−u</sup>;
    ``<``, ``>`` and ``&`` are escaped.

    >>> notation_html("δ_k = −2(y−ŷ)·σ′(u_k)")
    'δ<sub>k</sub> = −2(y−ŷ)·σ′(u<sub>k</sub>)'
    """
    return _scripts(
        html.escape(text, quote=False), lambda x: f"<sub>{x}</sub>", lambda x: f"<sup>{x}</sup>"
    )


class Printer:
    """Walks a tree; subclasses choose symbols and spacing.

    ``max_terms``: a longer sum is written as its first 3 terms, "…" and its
    last 2 (None: always in full). ``samples``: write a symbol's sample as a
    superscript. ``digits``: significant digits of numbers.
    """

    times = "·"
    minus = MINUS
    ellipsis = "…"

    def __init__(self, max_terms: int | None = None, samples: bool = False, digits: int = 4):
        self.max_terms = max_terms
        self.samples = samples
        self.digits = digits

    def doprint(self, e: Expr) -> str:
        return self._print(e)

    def _print(self, e: Expr) -> str:
        return getattr(self, "_print_" + type(e).__name__)(e)

    # -- helpers shared by all printers --
    def number(self, x: float) -> str:
        return fmt(x, self.digits).replace(MINUS, self.minus)

    def _print_Num(self, e: Num) -> str:
        return e.text if e.text is not None else self.number(e.value)

    def factor(self, e: Expr) -> str:
        """``e`` as a factor of a product: negatives and sums in parentheses."""
        s = self._print(e)
        if (isinstance(e, Num) and e.text is None and e.value < 0) or isinstance(e, Neg):
            return self.paren(s)
        if isinstance(e, (Sum, Sub)):
            return self.paren(s)
        return s

    def paren(self, s: str, kind: str = "()") -> str:
        return f"{kind[0]}{s}{kind[1]}"

    def _print_Mul(self, e: Mul) -> str:
        return self.times.join(self.factor(x) for x in e.items)

    def terms(self, e: Sum) -> list[Expr]:
        t = list(e.terms)
        if self.max_terms is not None and len(t) > self.max_terms:
            t = [*t[:3], Elided(), *t[-2:]]
        return t

    def _print_Sum(self, e: Sum) -> str:
        return " + ".join(self._print(t) for t in self.terms(e))

    def _print_Sub(self, e: Sub) -> str:
        b = self.factor(e.b) if not isinstance(e.b, Mul) else self._print(e.b)
        return f"{self._print(e.a)} {self.minus} {b}"

    def _print_Neg(self, e: Neg) -> str:
        if isinstance(e.a, Num) and e.a.text is None and e.a.value < 0:
            return self.number(-e.a.value)  # −(−x) is written x
        return self.minus + self.factor(e.a)

    def _print_Paren(self, e: Paren) -> str:
        return self.paren(self._print(e.a), e.kind)

    def relation(self, rel: str) -> str:
        return rel

    def _print_Rel(self, e: Rel) -> str:
        return f"{self._print(e.lhs)} {self.relation(e.rel)} {self._print(e.rhs)}"

    def _print_Elided(self, e: Elided) -> str:
        return self.ellipsis

    def _print_Call(self, e: Call) -> str:
        args = ", ".join(self._print(a) for a in e.args)
        if e.fn == "ln" and isinstance(e.args[0], (Num, Sym)):
            return f"{self.fn('ln')} {args}"
        if len(e.args) == 1 and isinstance(e.args[0], Paren):
            return f"{self.fn(e.fn)}{args}"
        return f"{self.fn(e.fn)}{self.paren(args)}"

    def fn(self, name: str) -> str:
        return name


class HtmlPrinter(Printer):
    """Qt rich text (and HTML): sub/superscripts as ``<sub>``/``<sup>``, text escaped."""

    def sub(self, s: str) -> str:
        return f"<sub>{s}</sub>"

    def sup(self, s: str) -> str:
        return f"<sup>{s}</sup>"

    def _print_Num(self, e: Num) -> str:
        return html.escape(super()._print_Num(e), quote=False)

    def _index(self, sub: Sequence[int | str]) -> str:
        parts = [str(n) for n in sub]
        sep = "," if any(len(p) > 1 and p.isdigit() for p in parts) else ""
        return sep.join(parts)

    def _print_Sym(self, e: Sym) -> str:
        s = html.escape(e.base, quote=False)
        if e.sub:
            s += self.sub(self._index(e.sub))
        if self.samples and e.sample is not None:
            s += self.sup(f"({e.sample})")
        return s

    def _print_Deriv(self, e: Deriv) -> str:
        return f"∂{e.num}/∂{self._print(e.of)}"

    def _print_Frac(self, e: Frac) -> str:
        den = self._print(e.den)
        if isinstance(e.den, (Sum, Sub, Mul)):
            den = self.paren(den)
        return f"{self.factor(e.num)}/{den}"

    def _print_Pow(self, e: Pow) -> str:
        return f"{self.factor(e.base)}{self.sup(str(e.exp))}"

    def _print_Exp(self, e: Exp) -> str:
        return f"e{self.sup(self._print(e.arg))}"

    def _print_Cond(self, e: Cond) -> str:
        a = self._print(e.a)
        if e.other == 0.0:
            return f"[{a} &gt; 0]"
        return f"1 if {a} &gt; 0 else {self.number(e.other)}"

    def _print_SumOver(self, e: SumOver) -> str:
        return f"Σ{self.sub(e.index)} {self._print(e.body)}"

    def _print_Text(self, e: Text) -> str:
        return html.escape(e.text, quote=False)

    def _print_Notation(self, e: Notation) -> str:
        return notation_html(e.text)


class PlainPrinter(HtmlPrinter):
    """Plain Unicode text: subscripts written _31, superscripts ^2."""

    def sub(self, s: str) -> str:
        return f"_{s}" if len(s) == 1 else f"_({s})"

    def sup(self, s: str) -> str:
        return f"^{s}" if len(s) == 1 else f"^({s})"

    def _print_Num(self, e: Num) -> str:
        return Printer._print_Num(self, e)

    def _print_Cond(self, e: Cond) -> str:
        return html.unescape(super()._print_Cond(e))

    def _print_Text(self, e: Text) -> str:
        return e.text

    def _print_Notation(self, e: Notation) -> str:
        return e.text


_LATEX_SYMBOLS = {
    "θ": r"\theta",
    "δ": r"\delta",
    "η": r"\eta",
    "σ": r"\sigma",
    "σ′": r"\sigma'",
    "ŷ": r"\hat{y}",
    "Err": r"\mathit{Err}",
    "ℓ": r"\ell",
    "½": r"\tfrac{1}{2}",
    "samples": r"\text{samples}",
    "sample": r"\text{sample}",
}


def latex_text(s: str) -> str:
    """A short plain label (a symbol's base or index) in LaTeX math."""
    if s in _LATEX_SYMBOLS:
        return _LATEX_SYMBOLS[s]
    out = []
    for ch in s:
        out.append(_LATEX_SYMBOLS.get(ch, ch))
    return " ".join(out) if len(out) > 1 and any(len(o) > 1 for o in out) else "".join(out)


class LatexPrinter(Printer):
    """LaTeX math (amsmath), for ``$…$`` in Markdown and for the .tex handout."""

    times = r" \cdot "
    minus = "-"
    ellipsis = r"\dots"

    def _print_Num(self, e: Num) -> str:
        if e.latex is not None:
            return e.latex
        if e.text is not None:
            return latex_text(e.text)
        s = self.number(e.value)
        if "e" in s and s not in ("inf", "-inf"):
            mant, ex = s.split("e")
            return rf"{mant} \times 10^{{{int(ex)}}}"
        return {"inf": r"\infty", "-inf": r"-\infty", "NaN": r"\mathrm{NaN}"}.get(s, s)

    def paren(self, s: str, kind: str = "()") -> str:
        return rf"\left{kind[0]}{s}\right{kind[1]}"

    def _print_Sym(self, e: Sym) -> str:
        s = latex_text(e.base)
        if e.sub:
            parts = [latex_text(str(n)) for n in e.sub]
            sep = "," if any(len(str(n)) > 1 and str(n).isdigit() for n in e.sub) else ""
            s += "_{" + sep.join(parts) + "}"
        if self.samples and e.sample is not None:
            s += "^{(" + str(e.sample) + ")}"
        return "{" + s + "}" if e.sub or (self.samples and e.sample is not None) else s

    def _print_Deriv(self, e: Deriv) -> str:
        return rf"\partial {latex_text(e.num)}/\partial {self._print(e.of)}"

    def relation(self, rel: str) -> str:
        return r"\leftarrow" if rel == "←" else rel

    def _print_Frac(self, e: Frac) -> str:
        return rf"\frac{{{self._print(e.num)}}}{{{self._print(e.den)}}}"

    def _print_Pow(self, e: Pow) -> str:
        return f"{{{self.factor(e.base)}}}^{{{e.exp}}}"

    def _print_Exp(self, e: Exp) -> str:
        return f"e^{{{self._print(e.arg)}}}"

    def _print_Cond(self, e: Cond) -> str:
        a = self._print(e.a)
        if e.other == 0.0:
            return f"[{a} > 0]"
        other = self.number(e.other)
        return rf"\begin{{cases}} 1 & {a} > 0 \\ {other} & \text{{else}}\end{{cases}}"

    def _print_SumOver(self, e: SumOver) -> str:
        return rf"\sum_{{{latex_text(e.index)}}} {self._print(e.body)}"

    def fn(self, name: str) -> str:
        return {"tanh": r"\tanh", "ln": r"\ln", "max": r"\max"}.get(name, latex_text(name))

    def _print_Text(self, e: Text) -> str:
        return r"\text{" + e.text.replace("\\", "") + "}"

    def _print_Notation(self, e: Notation) -> str:
        return latex_notation(e.text)


_LATEX_CHARS = {
    "θ": r"\theta ",
    "δ": r"\delta ",
    "η": r"\eta ",
    "σ": r"\sigma ",
    "ℓ": r"\ell ",
    "Σ": r"\sum ",
    "·": r"\cdot ",
    "−": "-",
    "′": "'",
    "²": "^{2}",
    "½": r"\tfrac{1}{2}",
    "ŷ": r"\hat{y}",
    "∂": r"\partial ",
    "←": r"\leftarrow ",
    "…": r"\dots ",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
}
_LATEX_WORDS = re.compile(r"\b(Err|tanh|max|ln|if|else|softmax)\b")


def latex_notation(text: str) -> str:
    """The engine's plain formula text as LaTeX math (subscripts, e^(…), Greek)."""
    marked = _scripts(text, lambda x: f"\x01{x}\x02", lambda x: f"\x03{x}\x04")
    words = {
        "Err": r"\mathit{Err}",
        "tanh": r"\tanh",
        "max": r"\max",
        "ln": r"\ln",
        "if": r"\text{ if }",
        "else": r"\text{ else }",
        "softmax": r"\mathrm{softmax}",
    }
    marked = _LATEX_WORDS.sub(lambda m: "\x05" + m.group(1) + "\x06", marked)
    out = []
    word = None
    for ch in marked:
        if ch == "\x05":
            word = []
        elif ch == "\x06":
            out.append(words["".join(word)] + " ")  # type: ignore[arg-type]
            word = None
        elif word is not None:
            word.append(ch)
        else:
            out.append(
                {"\x01": "_{", "\x02": "}", "\x03": "^{", "\x04": "}"}.get(ch)
                or _LATEX_CHARS.get(ch, ch)
            )
    return "".join(out).strip()
