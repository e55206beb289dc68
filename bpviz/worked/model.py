"""One backprop iteration as data: every equation of the notes with its numbers.

:class:`Worked` reads a :class:`~bpviz.engine.state.Snapshot` (and the
network's ``config()``) and hands out :class:`Equation` records, one per
quantity, in the notes' notation:

- forward, layer by layer: u_i = Σ_ℓ θ_iℓ·o_ℓ and o_i = σ(u_i);
- Err (per sample and for the batch);
- δ_k of every output, σ′(u_i) and δ_i = σ′(u_i)·Σ_j δ_j·θ_ji right to left;
- ∂Err/∂θ_iℓ = δ_i·o_ℓ (summed over the samples of a batch);
- θ_iℓ ← θ_iℓ − η·∂Err/∂θ_iℓ.

Each record holds the quantity, the general formula, the formula with this
neuron's numbers in place of i, ℓ, j, the substituted expression whose every
number (:class:`~bpviz.worked.expr.Num`) says where it comes from, the
intermediate forms computed here from the shown factors (``steps``), and the
result — the engine's own value, read from the snapshot and never recomputed.
Renderers (the formula panel, the handout) choose symbols and layout only.

Neuron numbers are global, counted from 1 through the layers
(:func:`neuron_number`); 0 is the bias input o_0 = 1. No Qt here.

Made to be reused: a quiz can show ``general`` and ``substituted`` and hide
``value`` (or recompute a result from the tagged numbers with a common
mistake, e.g. θ_ij for θ_ji, by swapping the tags, :class:`~bpviz.worked.expr.Ref`);
a notebook can print the same records with the LaTeX printer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpviz.engine.activations import get_activation
from bpviz.engine.losses import get_loss
from bpviz.engine.state import Phase, Snapshot

from .expr import (
    CONST,
    DERIVED,
    Call,
    Cond,
    Deriv,
    Exp,
    Expr,
    Frac,
    Mul,
    Neg,
    Num,
    Paren,
    Pow,
    Ref,
    Sub,
    Sum,
    SumOver,
    Sym,
    Text,
)

__all__ = ["Equation", "Worked", "neuron_number", "theta_label"]

Edge = tuple[int, int, int]


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

    ``src = -1`` is the bias θ_i0. With a two-digit number the subscripts
    are written ``θ(12,3)``.
    """
    a = neuron_number(sizes, k + 1, i)
    b = 0 if src < 0 else neuron_number(sizes, k, src)
    if a < 10 and b < 10:
        return f"θ{a}{b}".translate(_SUBSCRIPT_DIGITS)
    return f"θ({a},{b})"


@dataclass(frozen=True, slots=True)
class Equation:
    """One quantity of the iteration, from its general formula to its value.

    Attributes
    ----------
    kind : str
        ``"u"``, ``"o"``, ``"err_sample"``, ``"err"``, ``"dsigma"``,
        ``"delta"``, ``"grad_sample"``, ``"grad"`` or ``"update"``.
    quantity : Expr
        What is computed (u_3, δ_5, ∂Err/∂θ_31, θ_31).
    relation : str
        ``"="``, or ``"←"`` for an update.
    general : Expr
        The notes' formula with their index letters (i, ℓ, j, k).
    symbolic : Expr or None
        The formula with this neuron's numbers (None when it adds nothing).
    substituted : Expr or None
        The formula with the numbers; None when a factor is not computed yet.
    steps : tuple of Expr
        Intermediate forms, each computed here from the shown factors of the
        previous one (a partial sum, σ written out, a pending new θ).
    value : float or None
        The engine's own result; None when not computed yet, or when the
        engine keeps no such number (a per-sample product, a pending update).
    ref : Ref
        Where ``value`` was read.
    layer, index, src, sample : int or None
        The neuron (layer, index), the edge's source for θ (−1: the bias;
        ``layer`` is then k, the layer the edge leaves) and the batch row.
    """

    kind: str
    quantity: Expr
    general: Expr
    symbolic: Expr | None
    substituted: Expr | None
    value: float | None
    ref: Ref
    relation: str = "="
    steps: tuple[Expr, ...] = ()
    layer: int | None = None
    index: int | None = None
    src: int | None = None
    sample: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def result(self) -> Expr | None:
        """The last shown form: the engine's value, else the last step (None if neither)."""
        if self.value is not None:
            return Num(self.value, self.ref)
        return self.steps[-1] if self.steps else None


#: Losses whose δ_k = ŷ_k − y_k: the output's σ′ cancels.
FUSED_LOSSES = ("bce", "softmax_ce")


class Worked:
    """The equations of the iteration a snapshot shows.

    Parameters
    ----------
    snapshot : Snapshot
        Any snapshot; parts the current phase has not computed are None and
        give equations without numbers.
    config : dict
        ``Network.config()``: sizes, activation, output_activation, loss, bias.
    sample : int
        The batch row the per-sample equations are about (clamped).
    """

    def __init__(self, snapshot: Snapshot, config: dict, sample: int = 0) -> None:
        self.snap = snapshot
        self.config = config
        self.sizes = tuple(int(n) for n in config["sizes"])
        self.bias = bool(config.get("bias", True))
        self.act = get_activation(config.get("activation", "tanh"))
        self.out_act = get_activation(config.get("output_activation", "sigmoid"))
        self.loss = get_loss(config.get("loss", "sse"))
        self.batch = 0 if snapshot.x is None else int(snapshot.x.shape[0])
        self.sample = min(max(int(sample), 0), max(self.batch - 1, 0))
        self._first = [neuron_number(self.sizes, l, 0) for l in range(len(self.sizes))]

    # -- reading the snapshot --------------------------------------------------

    @property
    def last(self) -> int:
        return len(self.sizes) - 1

    @property
    def phase(self) -> Phase | None:
        return self.snap.phase

    @property
    def has_data(self) -> bool:
        return self.snap.x is not None

    @property
    def fused(self) -> bool:
        """True when the loss cancels the output's σ′ (δ_k = ŷ_k − y_k)."""
        return self.loss.name in FUSED_LOSSES

    @property
    def n_params(self) -> int:
        b = 1 if self.bias else 0
        return sum((self.sizes[k] + b) * self.sizes[k + 1] for k in range(self.last))

    def n(self, l: int, i: int) -> int:
        """The global number of neuron ``i`` of layer ``l`` (see :func:`neuron_number`)."""
        return self._first[l] + int(i)

    def activation(self, l: int) -> Any:
        return self.out_act if l == self.last else self.act

    def in_update(self) -> bool:
        s = self.snap
        return (
            s.phase is not None
            and s.phase.kind == "update"
            and s.old_weights is not None
            and s.old_biases is not None
        )

    def theta_used(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """θ (weights, biases) of ``k`` the iteration's u and δ were computed with.

        In the update phase those are the old θ; after a fast step they are
        gone (θ has been updated since), hence None.
        """
        s = self.snap
        if s.phase is None:
            return None
        if self.in_update():
            return s.old_weights[k], s.old_biases[k]  # type: ignore[index]
        return s.weights[k], s.biases[k]

    def row(self, arrays: Sequence[np.ndarray | None] | None, l: int, s: int | None = None):
        """Row ``s`` (default: this sample) of ``arrays[l]``, or None when not computed."""
        if arrays is None:
            return None
        a = arrays[l]
        return None if a is None else a[self.sample if s is None else s]

    def o_prev(self, l: int, s: int | None = None) -> np.ndarray | None:
        """o of layer ``l`` for a sample (layer 0: the inputs x)."""
        if l == 0:
            x = self.snap.x
            return None if x is None else x[self.sample if s is None else s]
        return self.row(self.snap.o, l, s)

    def edges(self) -> list[Edge]:
        """Every θ as (k, i, src), layer by layer, the bias (src −1) last of each neuron."""
        out = []
        for k in range(self.last):
            for i in range(self.sizes[k + 1]):
                out.extend((k, i, s) for s in range(self.sizes[k]))
                if self.bias:
                    out.append((k, i, -1))
        return out

    @staticmethod
    def pick(ws: Sequence[np.ndarray], bs: Sequence[np.ndarray], e: Edge) -> float:
        k, i, s = e
        return float(bs[k][i] if s < 0 else ws[k][i, s])

    # -- symbols ---------------------------------------------------------------

    def _smp(self, s: int | None) -> int | None:
        """The sample superscript (1-based) for a batch, None for one sample."""
        if self.batch <= 1:
            return None
        return (self.sample if s is None else s) + 1

    def sym(self, base: str, l: int, i: int, s: int | None = None) -> Sym:
        return Sym(base, (self.n(l, i),), self._smp(s) if base not in ("θ",) else None)

    def theta_sym(self, k: int, i: int, src: int) -> Sym:
        return Sym("θ", (self.n(k + 1, i), 0 if src < 0 else self.n(k, src)))

    def o_sym(self, k: int, src: int, s: int | None = None) -> Expr:
        """o_ℓ of the source of an edge (the bias: o_0)."""
        if src < 0:
            return Sym("o", (0,))
        return self.sym("o", k, src, s)

    # -- forward ---------------------------------------------------------------

    def forward_u(self, l: int, i: int, s: int | None = None) -> Equation:
        """u_i = Σ_ℓ θ_iℓ·o_ℓ for neuron ``i`` of layer ``l``, bias term last."""
        k = l - 1
        sym_terms: list[Expr] = [
            Mul((self.theta_sym(k, i, m), self.sym("o", k, m, s))) for m in range(self.sizes[k])
        ]
        if self.bias:
            sym_terms.append(Mul((self.theta_sym(k, i, -1), Num(1.0))))
        theta = self.theta_used(k)
        o_prev = self.o_prev(k, s)
        sub = None
        if theta is not None and o_prev is not None:
            w, b = theta
            r = self._row(s)
            oname = "x" if k == 0 else "o"
            terms: list[Expr] = [
                Mul(
                    (
                        Num(float(w[i, m]), Ref("theta", k, i, m)),
                        Num(float(o_prev[m]), Ref(oname, k, m, None, r)),
                    )
                )
                for m in range(self.sizes[k])
            ]
            if self.bias:
                terms.append(Mul((Num(float(b[i]), Ref("theta", k, i, -1)), Num(1.0))))
            sub = Sum(tuple(terms))
        u = self.row(self.snap.u, l, s)
        return Equation(
            kind="u",
            quantity=self.sym("u", l, i, s),
            general=SumOver("ℓ", Mul((Sym("θ", ("i", "ℓ")), Sym("o", ("ℓ",))))),
            symbolic=Sum(tuple(sym_terms)),
            substituted=sub,
            value=None if u is None else float(u[i]),
            ref=Ref("u", l, i, None, self._row(s)),
            layer=l,
            index=i,
            sample=self._row(s),
        )

    def _row(self, s: int | None) -> int:
        return self.sample if s is None else s

    def _sigma_numbers(self, l: int, i: int, u_row: np.ndarray, s: int | None) -> Expr | None:
        """σ(u) written out with the number u, or None for a linear σ / unknown σ."""
        act = self.activation(l)
        uu = float(u_row[i])
        r = self._row(s)
        U = Num(uu, Ref("u", l, i, None, r))
        name = act.name
        if name == "sigmoid":
            return Frac(Num(1.0), Sum((Num(1.0), Exp(Neg(U)))))
        if name == "tanh":
            return Call("tanh", (U,))
        if name == "relu":
            return Call("max", (Num(0.0), U))
        if name == "leaky_relu":
            return Call("max", (Mul((Num(0.01), U)), U))
        if name == "softmax":
            den = tuple(Exp(Num(float(x), Ref("u", l, m, None, r))) for m, x in enumerate(u_row))
            return Frac(Exp(U), Sum(den))
        return None

    def forward_o(self, l: int, i: int, s: int | None = None) -> Equation:
        """o_i = σ(u_i), with σ written out."""
        u = self.row(self.snap.u, l, s)
        o = self.row(self.snap.o, l, s)
        r = self._row(s)
        sub = steps = None
        if u is not None:
            sub = Call("σ", (Num(float(u[i]), Ref("u", l, i, None, r)),))
            numbers = self._sigma_numbers(l, i, u, s)
            steps = (numbers,) if numbers is not None else ()
        return Equation(
            kind="o",
            quantity=self.sym("o", l, i, s),
            general=Call("σ", (Sym("u", ("i",)),)),
            symbolic=Call("σ", (self.sym("u", l, i, s),)),
            substituted=sub,
            steps=steps or (),
            value=None if o is None else float(o[i]),
            ref=Ref("o", l, i, None, r),
            layer=l,
            index=i,
            sample=r,
        )

    # -- Err ---------------------------------------------------------------------

    def _err_parts(self, y: np.ndarray | None, yh: np.ndarray | None, s: int) -> tuple:
        """(general, symbolic, numbers) of one sample's Err for the loss in use."""
        K = self.sizes[-1]
        first = self.n(self.last, 0)
        name = self.loss.name
        ks = range(K)
        smp = self._smp(s)

        def ysym(base: str, k: int | str) -> Sym:
            if isinstance(k, str):
                return Sym(base, (k,))
            return Sym(base, (first + k,) if K > 1 else (), smp)

        def ynum(k: int) -> Num:
            return Num(float(y[k]), Ref("y", self.last, k, None, s))  # type: ignore[index]

        def yhnum(k: int) -> Num:
            return Num(float(yh[k]), Ref("o", self.last, k, None, s))  # type: ignore[index]

        have = y is not None and yh is not None
        N = Num(float(self.snap.y.size), CONST) if self.snap.y is not None else Sym("N")

        def shape(fn: Any) -> tuple[Expr, Expr, Expr | None]:
            gen = fn(lambda b, k: Sym(b, ("k",)), Sym("N"), True)
            sym = fn(lambda b, k: ysym(b, k), Sym("N"), False)
            num = fn(lambda b, k: ynum(k) if b == "y" else yhnum(k), N, False) if have else None
            return gen, sym, num

        def sse(pick: Any, over: Any, general: bool) -> Expr:
            if general:
                return SumOver("k", Pow(Paren(Sub(pick("y", "k"), pick("ŷ", "k"))), 2))
            return Sum(tuple(Pow(Paren(Sub(pick("y", k), pick("ŷ", k))), 2) for k in ks))

        if name == "sse":
            return shape(sse)
        if name == "mse":

            def mse(pick: Any, over: Any, general: bool) -> Expr:
                return Mul((Paren(Frac(Num(1.0), over)), Paren(sse(pick, over, general), "[]")))

            return shape(mse)
        if name == "half_sse":

            def half(pick: Any, over: Any, general: bool) -> Expr:
                return Mul((Num(0.5, text="½"), Paren(sse(pick, over, general), "[]")))

            return shape(half)
        if name == "bce":

            def bce(pick: Any, over: Any, general: bool) -> Expr:
                def term(k: Any) -> Expr:
                    return Sum(
                        (
                            Mul((pick("y", k), Call("ln", (pick("ŷ", k),)))),
                            Mul(
                                (
                                    Paren(Sub(Num(1.0), pick("y", k))),
                                    Call("ln", (Paren(Sub(Num(1.0), pick("ŷ", k))),)),
                                )
                            ),
                        )
                    )

                if general:
                    return Neg(SumOver("k", Paren(term("k"), "[]")))
                return Neg(Paren(Sum(tuple(term(k) for k in ks)), "[]"))

            return shape(bce)
        if name == "softmax_ce":

            def ce(pick: Any, over: Any, general: bool) -> Expr:
                if general:
                    return Neg(SumOver("k", Mul((pick("y", "k"), Call("ln", (pick("ŷ", "k"),))))))
                return Neg(
                    Paren(Sum(tuple(Mul((pick("y", k), Call("ln", (pick("ŷ", k),)))) for k in ks)))
                )

            return shape(ce)
        return Text(self.loss.formula), Text(self.loss.formula), None

    def err_sample(self, s: int | None = None) -> Equation:
        """One sample's Err (the whole Err for a batch of one)."""
        r = self._row(s)
        snap = self.snap
        yh = self.row(snap.o, self.last, r) if snap.err is not None else None
        y = None if snap.y is None else snap.y[r]
        gen, sym, num = self._err_parts(y, yh, r)
        value = None
        if snap.err is not None and y is not None and yh is not None:
            value = snap.err if self.batch <= 1 else self._sample_err(r)
        one = self.batch <= 1
        return Equation(
            kind="err" if one else "err_sample",
            quantity=Sym("Err") if one else Sym("Err", ("sample",), self._smp(r)),
            general=gen,
            symbolic=sym,
            substituted=num if value is not None else None,
            value=value,
            ref=Ref("err") if one else Ref("err_sample", sample=r),
            sample=r,
        )

    def _sample_err(self, s: int) -> float:
        """One sample's share of the batch Err, from the engine's own loss function."""
        snap = self.snap
        y = snap.y[s : s + 1]  # type: ignore[index]
        u = snap.u[self.last][s : s + 1]  # type: ignore[index]
        o = snap.o[self.last][s : s + 1]  # type: ignore[index]
        err = float(self.loss.value(y, u, o))
        if self.loss.name == "mse":  # the mean is over the whole batch, not one row
            err *= y.size / snap.y.size  # type: ignore[union-attr]
        return err

    def err_batch(self, samples: Sequence[int] | None = None) -> Equation:
        """Err = Σ_samples Err_sample (with ``samples`` = every row: written out)."""
        snap = self.snap
        sub = None
        if samples is not None and snap.err is not None:
            sub = Sum(tuple(Num(self._sample_err(s), Ref("err_sample", sample=s)) for s in samples))
        return Equation(
            kind="err",
            quantity=Sym("Err"),
            general=SumOver("samples", Sym("Err", ("sample",))),
            symbolic=None,
            substituted=sub,
            value=snap.err,
            ref=Ref("err"),
        )

    # -- backward ------------------------------------------------------------------

    def dsigma(self, l: int, i: int, s: int | None = None) -> Equation:
        """σ′(u_i) written with o (or u), and the engine's σ′."""
        act = self.activation(l)
        r = self._row(s)
        u = self.row(self.snap.u, l, s)
        o = self.row(self.snap.o, l, s)
        ds = self.row(self.snap.dsigma, l, s)
        I = (self.n(l, i),)
        smp = self._smp(s)
        oS, uS = Sym("o", I, smp), Sym("u", I, smp)
        oG, uG = Sym("o", ("i",)), Sym("u", ("i",))
        have = u is not None and o is not None
        O = Num(float(o[i]), Ref("o", l, i, None, r)) if have else None  # type: ignore[index]
        U = Num(float(u[i]), Ref("u", l, i, None, r)) if have else None  # type: ignore[index]
        forms: dict[str, tuple] = {
            "sigmoid": (lambda a: Mul((a, Paren(Sub(Num(1.0), a)))), "o"),
            "tanh": (lambda a: Sub(Num(1.0), Pow(a, 2)), "o"),
            "relu": (lambda a: Cond(a), "u"),
            "leaky_relu": (lambda a: Cond(a, 0.01), "u"),
        }
        if act.name in forms:
            f, var = forms[act.name]
            general = f(oG if var == "o" else uG)
            symbolic = f(oS if var == "o" else uS)
            sub = f(O if var == "o" else U) if have else None
        elif act.name == "linear":
            general, symbolic, sub = Num(1.0), None, None
        else:
            general, symbolic, sub = Text(act.dformula.split("=", 1)[-1].strip()), None, None
        return Equation(
            kind="dsigma",
            quantity=Call("σ′", (uS,)),
            general=general,
            symbolic=symbolic,
            substituted=sub if ds is not None else None,
            value=None if ds is None else float(ds[i]),
            ref=Ref("dsigma", l, i, None, r),
            layer=l,
            index=i,
            sample=r,
        )

    def _delta_k_form(self, pick: Any, N: Expr) -> Expr:
        name = self.loss.name
        resid = Paren(Sub(pick("y"), pick("ŷ")))
        if name == "sse":
            return Neg(Mul((Num(2.0), resid, pick("σ′"))))
        if name == "mse":
            return Neg(Mul((Paren(Frac(Num(2.0), N)), resid, pick("σ′"))))
        if name == "half_sse":
            return Neg(Mul((resid, pick("σ′"))))
        if name in FUSED_LOSSES:
            return Sub(pick("ŷ"), pick("y"))
        return Text(self.loss.delta_formula.split("=", 1)[-1].strip())

    def delta_output(self, k: int, s: int | None = None) -> Equation:
        """δ_k of output ``k`` for the loss in use."""
        l, r, snap = self.last, self._row(s), self.snap
        smp = self._smp(s)
        K = self.n(l, k)
        delta = self.row(snap.delta, l, s)
        ds = self.row(snap.dsigma, l, s)
        o = self.row(snap.o, l, s)
        general = self._delta_k_form(
            lambda b: Call("σ′", (Sym("u", ("k",)),)) if b == "σ′" else Sym(b, ("k",)), Sym("N")
        )
        symbolic = self._delta_k_form(
            lambda b: Call("σ′", (Sym("u", (K,), smp),)) if b == "σ′" else Sym(b, (K,), smp),
            Sym("N"),
        )
        sub = None
        if delta is not None and ds is not None and o is not None and snap.y is not None:
            nums = {
                "y": Num(float(snap.y[r, k]), Ref("y", l, k, None, r)),
                "ŷ": Num(float(o[k]), Ref("o", l, k, None, r)),
                "σ′": Num(float(ds[k]), Ref("dsigma", l, k, None, r)),
            }
            sub = self._delta_k_form(nums.__getitem__, Num(float(snap.y.size)))
            if isinstance(sub, Text):
                sub = None
        return Equation(
            kind="delta",
            quantity=Sym("δ", (K,), smp),
            general=general,
            symbolic=symbolic,
            substituted=sub,
            value=None if delta is None else float(delta[k]),
            ref=Ref("delta", l, k, None, r),
            layer=l,
            index=k,
            sample=r,
        )

    def delta_hidden(self, l: int, i: int, s: int | None = None) -> Equation:
        """δ_i = σ′(u_i)·Σ_j δ_j·θ_ji; a sum of several terms gets a partial step."""
        r, snap, smp = self._row(s), self.snap, self._smp(s)
        I = self.n(l, i)
        n_next = self.sizes[l + 1]
        terms = [
            Mul((Sym("δ", (self.n(l + 1, j),), smp), self.theta_sym(l, j, i)))
            for j in range(n_next)
        ]
        dsS = Call("σ′", (Sym("u", (I,), smp),))
        one = n_next == 1
        symbolic = Mul((dsS, *terms[0].items)) if one else Mul((dsS, Sum(tuple(terms))))
        delta = self.row(snap.delta, l, s)
        ds = self.row(snap.dsigma, l, s)
        d_next = self.row(snap.delta, l + 1, s)
        theta = self.theta_used(l)
        sub = None
        steps: tuple[Expr, ...] = ()
        if delta is not None and ds is not None and theta is not None and d_next is not None:
            w = theta[0]
            DS = Num(float(ds[i]), Ref("dsigma", l, i, None, r))
            nums = [
                Mul(
                    (
                        Num(float(d_next[j]), Ref("delta", l + 1, j, None, r)),
                        Num(float(w[j, i]), Ref("theta", l, j, i)),
                    )
                )
                for j in range(n_next)
            ]
            sub = Mul((DS, *nums[0].items)) if one else Mul((DS, Sum(tuple(nums))))
            if not one:
                total = float(np.dot(d_next, w[:, i]))
                steps = (Mul((DS, Num(total, DERIVED))),)
        return Equation(
            kind="delta",
            quantity=Sym("δ", (I,), smp),
            general=Mul(
                (
                    Call("σ′", (Sym("u", ("i",)),)),
                    SumOver("j", Mul((Sym("δ", ("j",)), Sym("θ", ("j", "i"))))),
                )
            ),
            symbolic=symbolic,
            substituted=sub,
            steps=steps,
            value=None if delta is None else float(delta[i]),
            ref=Ref("delta", l, i, None, r),
            layer=l,
            index=i,
            sample=r,
        )

    def delta(self, l: int, i: int, s: int | None = None) -> Equation:
        return self.delta_output(i, s) if l == self.last else self.delta_hidden(l, i, s)

    # -- gradients and update ----------------------------------------------------------

    def _grad_factors(self, e: Edge, s: int) -> tuple[Num, Num] | None:
        k, i, src = e
        d = self.row(self.snap.delta, k + 1, s)
        if d is None or not self.has_data:
            return None
        D = Num(float(d[i]), Ref("delta", k + 1, i, None, s))
        if src < 0:
            return D, Num(1.0)
        o_prev = self.o_prev(k, s)
        if o_prev is None:
            return None
        return D, Num(float(o_prev[src]), Ref("x" if k == 0 else "o", k, src, None, s))

    def grad_sample(self, e: Edge, s: int | None = None) -> Equation:
        """δ_i·o_ℓ of one sample (for a batch; the engine keeps only the sum)."""
        k, i, src = e
        r = self._row(s)
        f = self._grad_factors(e, r)
        smp = self._smp(r)
        return Equation(
            kind="grad_sample",
            quantity=Mul((Sym("δ", (self.n(k + 1, i),), smp), self.o_sym(k, src, r))),
            general=Mul((Sym("δ", ("i",)), Sym("o", ("ℓ",)))),
            symbolic=None,
            substituted=None if f is None else Mul(f),
            steps=() if f is None else (Num(f[0].value * f[1].value, DERIVED),),
            value=None,
            ref=DERIVED,
            layer=k,
            index=i,
            src=src,
            sample=r,
        )

    def grad(self, e: Edge, samples: Sequence[int] | None = None) -> Equation:
        """∂Err/∂θ_iℓ = δ_i·o_ℓ, summed over the batch; the engine's gradient.

        For a batch, ``samples`` (every row) writes the sum out term by term.
        """
        k, i, src = e
        snap = self.snap
        th = self.theta_sym(k, i, src)
        d_sym = Sym("δ", (self.n(k + 1, i),))
        o_sym = Sym("o", (0 if src < 0 else self.n(k, src),))
        grad = None
        if snap.grad_weights is not None and snap.grad_biases is not None:
            grad = self.pick(snap.grad_weights, snap.grad_biases, e)
        sub: Expr | None = None
        if self.batch > 1:
            symbolic: Expr = SumOver("samples", Mul((d_sym, o_sym)))
            if samples is not None and grad is not None:
                fs = [self._grad_factors(e, s) for s in samples]
                if all(f is not None for f in fs):
                    sub = Sum(tuple(Mul(f) for f in fs))  # type: ignore[arg-type]
        else:
            symbolic = Mul((d_sym, o_sym))
            f = self._grad_factors(e, self.sample)
            sub = None if f is None else Mul(f)
        return Equation(
            kind="grad",
            quantity=Deriv(th),
            general=Mul((Sym("δ", ("i",)), Sym("o", ("ℓ",)))),
            symbolic=symbolic,
            substituted=sub,
            value=grad,
            ref=Ref("grad", k, i, src),
            layer=k,
            index=i,
            src=src,
        )

    def update(self, e: Edge) -> Equation:
        """θ_iℓ ← θ_iℓ − η·∂Err/∂θ_iℓ: the engine's new θ in the update phase, else pending."""
        k, i, src = e
        snap = self.snap
        th = self.theta_sym(k, i, src)
        grad = None
        if snap.grad_weights is not None and snap.grad_biases is not None:
            grad = self.pick(snap.grad_weights, snap.grad_biases, e)
        now = self.pick(snap.weights, snap.biases, e)
        in_update = self.in_update()
        used = self.pick(snap.old_weights, snap.old_biases, e) if in_update else now  # type: ignore[arg-type]
        sub = None
        steps: tuple[Expr, ...] = ()
        value = None
        notes: tuple[str, ...] = ()
        eta = snap.lr
        if grad is not None and snap.phase is not None:
            sub = Sub(
                Num(used, Ref("theta", k, i, src)),
                Mul((Num(eta, Ref("lr")), Num(grad, Ref("grad", k, i, src)))),
            )
            if in_update:
                value = now
                if not math.isclose(used - eta * grad, now, rel_tol=1e-6, abs_tol=1e-12):
                    notes = ("rule",)
            else:
                steps = (Num(used - eta * grad, DERIVED),)
                notes = ("pending",)
        return Equation(
            kind="update",
            quantity=th,
            relation="←",
            general=Sub(Sym("θ", ("i", "ℓ")), Mul((Sym("η"), Deriv(Sym("θ", ("i", "ℓ")))))),
            symbolic=Sub(th, Mul((Sym("η"), Deriv(th)))),
            substituted=sub,
            steps=steps,
            value=value,
            ref=Ref("theta_new", k, i, src),
            layer=k,
            index=i,
            src=src,
            notes=notes,
        )

    # -- the whole iteration ---------------------------------------------------------

    def iteration(
        self,
        samples: Sequence[int] | None = None,
        neurons: dict[int, Sequence[int]] | None = None,
    ) -> Iterator[tuple[str, int | None, list[Equation]]]:
        """Every equation in the notes' order, grouped by phase.

        Yields ``(phase kind, layer, equations)``: forward per layer, error,
        output δ, hidden δ right to left, gradients, update. ``samples``: the
        batch rows written out (default: every row); ``neurons``: per layer,
        which neurons get their equations (default: all; edges follow their
        target neuron).
        """
        rows = list(range(self.batch)) if samples is None else list(samples)

        def keep(l: int) -> Sequence[int]:
            if neurons is None or l not in neurons:
                return range(self.sizes[l])
            return neurons[l]

        for l in range(1, self.last + 1):
            eqs = []
            for s in rows:
                for i in keep(l):
                    eqs += [self.forward_u(l, i, s), self.forward_o(l, i, s)]
            yield "forward", l, eqs
        errs = [self.err_sample(s) for s in rows]
        if self.batch > 1:
            errs.append(self.err_batch(list(range(self.batch))))
        yield "error", None, errs
        l = self.last
        eqs = []
        for s in rows:
            for k in keep(l):
                if not self.fused:
                    eqs.append(self.dsigma(l, k, s))
                eqs.append(self.delta_output(k, s))
        yield "output_delta", l, eqs
        for l in range(self.last - 1, 0, -1):
            eqs = []
            for s in rows:
                for i in keep(l):
                    eqs += [self.dsigma(l, i, s), self.delta_hidden(l, i, s)]
            yield "hidden_delta", l, eqs
        edges = [e for e in self.edges() if e[1] in keep(e[0] + 1)]
        every = list(range(self.batch))
        yield "gradients", None, [self.grad(e, every) for e in edges]
        yield "update", None, [self.update(e) for e in edges]
