"""Practice: ask the quantities of a walked iteration, check them, name the mistake.

Plain functions over the :class:`~bpviz.worked.model.Worked` equations (no
Qt), so a notebook can quiz a student as the app does:

- :func:`questions` lists what the current phase computes (a u, an o, Err,
  a δ, a ∂Err/∂θ, a new θ), filtered by the kinds asked;
- :func:`is_right` checks a typed number to 3 significant figures;
- :func:`alternatives` recomputes the quantity under each common mistake
  (and each pair of them) from the same numbers the equation is made of;
- :func:`diagnose` says whether a typed number is right and, if not, which
  mistake (or pair of mistakes) it matches;
- :class:`QuizSession` keeps the questions of the phase on show, the
  attempts and the score (right first time / after a hint / revealed).

The engine's value of each quantity is the answer; the recomputation under
no mistake equals it (the tests check that), so a mistake's number differs
from the answer only by the mistake.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpviz.engine.state import Snapshot

from .expr import Expr, Sym
from .model import Equation, Worked

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "MISTAKES",
    "Check",
    "Given",
    "Matrix",
    "Question",
    "QuizSession",
    "Score",
    "alternatives",
    "diagnose",
    "givens",
    "hide_results",
    "is_right",
    "parse_answer",
    "questions",
    "recompute",
]

#: The kinds of quantity a quiz can ask, in the notes' order.
KINDS = ("u", "o", "err", "delta", "grad", "update")
#: Menu labels of :data:`KINDS`.
KIND_LABELS = {
    "u": "u (weighted sums)",
    "o": "o (outputs)",
    "err": "Err",
    "delta": "δ",
    "grad": "∂Err/∂θ",
    "update": "new θ",
}
#: Significant figures a typed answer must get right.
DIGITS = 3

#: Every mistake the diagnosis knows: key → what the student did.
MISTAKES = {
    "sign": "the sign of (y − ŷ) flipped",
    "factor2": "the factor 2 of Σ(y − ŷ)² dropped (the ½ convention)",
    "no_dsigma": "σ′ left out",
    "dsigma_at_o": "σ′ taken at o instead of u",
    "dsigma_u_for_o": "u written where σ′'s formula has o (σ(u)(1 − σ(u)) with u in place of o)",
    "theta_transposed": "θ_ij read instead of θ_ji (the transposed weight)",
    "no_bias": "the bias term θ_i0·o_0 left out of u",
    "no_eta": "η not applied",
    "update_sign": "the update's sign reversed (θ + η·∂Err/∂θ)",
    "stale_theta": "the old θ (before the last update) used where the new one is due",
    "new_for_old": "the new θ used where the old one is due (the update applied twice)",
    "no_sigma": "σ not applied (o = u)",
    "dsigma_for_sigma": "σ′(u) computed instead of σ(u)",
    "err_half": "Err with a ½ in front (the ½ convention)",
    "err_not_squared": "(y − ŷ) not squared",
    "neg": "the sign reversed",
    "extra_dsigma": "σ′ multiplied in, though this loss cancels it",
    "grad_target_o": "o of the neuron the edge goes into (o_i) used instead of o_ℓ",
    "grad_with_eta": "η·∂Err/∂θ (the step) given instead of ∂Err/∂θ",
    "one_sample": "one sample's δ_i·o_ℓ only, not the sum over the batch",
    "step_only": "only the change −η·∂Err/∂θ, not the new θ",
}


# ---------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    """One quantity to compute: its equation (whose ``value`` is the answer)."""

    kind: str
    equation: Equation
    iteration: int
    phase: int

    @property
    def key(self) -> tuple:
        e = self.equation
        return (self.iteration, self.phase, e.kind, e.layer, e.index, e.src, e.sample)

    @property
    def answer(self) -> float:
        return float(self.equation.value)  # type: ignore[arg-type]


def questions(w: Worked, kinds: Iterable[str] = KINDS) -> list[Question]:
    """The quantities the snapshot's phase computed, of the kinds asked, in order.

    Forward into layer l: u and o of each neuron; error: Err (a batch: the
    sample's Err); output and hidden δ; gradients: every ∂Err/∂θ; update:
    every new θ. Per-sample quantities are asked for ``w.sample``.
    """
    ph = w.phase
    if ph is None or not w.has_data:
        return []
    asked = set(kinds)
    eqs: list[Equation] = []
    l = ph.layer
    if ph.kind == "forward" and l is not None:
        for i in range(w.sizes[l]):
            eqs += [w.forward_u(l, i), w.forward_o(l, i)]
    elif ph.kind == "error":
        eqs.append(w.err_sample())
    elif ph.kind == "output_delta":
        eqs += [w.delta_output(k) for k in range(w.sizes[-1])]
    elif ph.kind == "hidden_delta" and l is not None:
        eqs += [w.delta_hidden(l, i) for i in range(w.sizes[l])]
    elif ph.kind == "gradients":
        eqs += [w.grad(e) for e in w.edges()]
    elif ph.kind == "update":
        eqs += [w.update(e) for e in w.edges()]
    out = []
    for e in eqs:
        kind = "err" if e.kind in ("err", "err_sample") else e.kind
        if kind in asked and e.value is not None and math.isfinite(e.value):
            out.append(Question(kind, e, w.snap.iteration, ph.index))
    return out


# ---------------------------------------------------------------------------
# Checking
# ---------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$")


def parse_answer(text: str) -> float:
    """A typed number: "−0.0191", "-1.9e-2", "0,0191", "1.9·10^-2" …

    Raises ValueError with one sentence for anything else.
    """
    s = text.strip().replace("−", "-").replace("–", "-").replace(" ", "").lower()
    s = s.replace(",", ".").replace("×10^", "e").replace("·10^", "e").replace("*10^", "e")
    if not _NUMBER.match(s):
        raise ValueError(f"'{text.strip()}' is not a number; type e.g. −0.0191 or 1.9e−2")
    return float(s)


def tolerance(value: float, digits: int = DIGITS) -> float:
    """Half a unit in the ``digits``-th significant figure of ``value``."""
    v = abs(float(value))
    if v == 0.0 or not math.isfinite(v):
        return 1e-12
    return 0.5 * 10 ** (math.floor(math.log10(v)) - digits + 1) * (1 + 1e-9)


def is_right(typed: float, value: float, digits: int = DIGITS) -> bool:
    """True when ``typed`` equals ``value`` to ``digits`` significant figures.

    Right means within half a unit of the last of those figures, so both
    0.0191 and 0.01913 are right for 0.019134, and 0.0192 is not.
    """
    return abs(float(typed) - float(value)) <= tolerance(value, digits)


# ---------------------------------------------------------------------------
# Recomputing a quantity, with or without mistakes
# ---------------------------------------------------------------------------


def _df(act: Any, u: float, o: float) -> float:
    return float(act.df(np.array([u]), np.array([o]))[0])


def _f(act: Any, u: float) -> float:
    return float(act.f(np.array([u]))[0])


def _dsigma(act: Any, u: float, o: float, flags: frozenset[str]) -> float:
    """σ′(u) as the student computed it."""
    if "no_dsigma" in flags:
        return 1.0
    if "dsigma_at_o" in flags:
        return _df(act, o, _f(act, o))
    if "dsigma_u_for_o" in flags:
        return _df(act, u, u)
    return _df(act, u, o)


def _theta(w: Worked, k: int, flags: frozenset[str], stale: Any) -> tuple[np.ndarray, np.ndarray]:
    used = w.theta_used(k)
    assert used is not None
    if "stale_theta" in flags and stale is not None:
        return np.asarray(stale[0][k]), np.asarray(stale[1][k])
    return used


def recompute(w: Worked, q: Question, flags: Iterable[str] = (), stale: Any = None) -> float | None:
    """The question's quantity recomputed from the snapshot's numbers under ``flags``.

    ``flags`` are keys of :data:`MISTAKES` (none: the right computation);
    ``stale``: θ (weights, biases) before the last update, for
    ``"stale_theta"``. Returns None when a mistake does not apply here.
    """
    f = frozenset(flags)
    e, snap = q.equation, w.snap
    r = w.sample if e.sample is None else e.sample
    if q.kind == "u":
        l, i = e.layer, e.index
        W, b = _theta(w, l - 1, f, stale)  # type: ignore[operator]
        o_prev = w.o_prev(l - 1, r)  # type: ignore[operator]
        val = float(np.dot(W[i], o_prev))
        if w.bias and "no_bias" not in f:
            val += float(b[i])
        return val
    if q.kind == "o":
        u = float(snap.u[e.layer][r, e.index])  # type: ignore[index]
        act = w.activation(e.layer)  # type: ignore[arg-type]
        if not act.elementwise:
            return float(e.value) if not f else None  # type: ignore[arg-type]
        if "no_sigma" in f:
            return u
        if "dsigma_for_sigma" in f:
            return _df(act, u, _f(act, u))
        return _f(act, u)
    if q.kind == "err":
        y, yh = snap.y[r], snap.o[w.last][r]  # type: ignore[index]
        name = w.loss.name
        if name not in ("sse", "mse", "half_sse"):
            v = float(e.value)  # type: ignore[arg-type]
            return -v if "neg" in f else v
        d = y - yh
        s = float(np.sum(d if "err_not_squared" in f else d * d))
        if name == "mse":
            s /= float(snap.y.size)  # type: ignore[union-attr]
        if name == "half_sse" or "err_half" in f:
            s *= 0.5
        return s
    if q.kind == "delta":
        l, i = e.layer, e.index
        u = float(snap.u[l][r, i])  # type: ignore[index]
        o = float(snap.o[l][r, i])  # type: ignore[index]
        act = w.activation(l)  # type: ignore[arg-type]
        if l == w.last:
            y = float(snap.y[r, i])  # type: ignore[index]
            if w.fused:
                v = y - o if "sign" in f else o - y
                if "extra_dsigma" in f:
                    if not act.elementwise:
                        return None
                    v *= _df(act, u, o)
                return v
            name = w.loss.name
            c = {"sse": 2.0, "mse": 2.0 / float(snap.y.size), "half_sse": 1.0}[name]  # type: ignore[union-attr]
            if "factor2" in f:
                c /= 2.0
            sign = 1.0 if "sign" in f else -1.0
            return sign * c * (y - o) * _dsigma(act, u, o, f)
        W, _ = _theta(w, l, f, stale)  # type: ignore[arg-type]
        d_next = snap.delta[l + 1][r]  # type: ignore[index]
        n_next = w.sizes[l + 1]  # type: ignore[operator]
        if "theta_transposed" in f:
            if not (n_next <= W.shape[1] and i < W.shape[0]):  # type: ignore[operator]
                return None
            col = W[i, :n_next]  # type: ignore[index]
        else:
            col = W[:, i]
        v = _dsigma(act, u, o, f) * float(np.dot(d_next, col))
        return -v if "neg" in f else v
    if q.kind == "grad":
        k, i, src = e.layer, e.index, e.src
        rows = [w.sample] if "one_sample" in f else range(w.batch)
        total = 0.0
        for s in rows:
            d = float(snap.delta[k + 1][s, i])  # type: ignore[index,operator]
            if "grad_target_o" in f:
                o = float(snap.o[k + 1][s, i])  # type: ignore[index,operator]
            else:
                o = 1.0 if src < 0 else float(w.o_prev(k, s)[src])  # type: ignore[arg-type,index,operator]
            total += d * o
        if "grad_with_eta" in f:
            total *= snap.lr
        return -total if "neg" in f else total
    if q.kind == "update":
        edge = (e.layer, e.index, e.src)
        old = w.pick(snap.old_weights, snap.old_biases, edge)  # type: ignore[arg-type]
        new = w.pick(snap.weights, snap.biases, edge)
        g = w.pick(snap.grad_weights, snap.grad_biases, edge)  # type: ignore[arg-type]
        eta = 1.0 if "no_eta" in f else snap.lr
        sign = -1.0 if "update_sign" in f else 1.0
        base = new if "new_for_old" in f else old
        if "step_only" in f:
            base = 0.0
        return base - sign * eta * g
    return None


def _applicable(w: Worked, q: Question, stale: Any) -> list[str]:
    """The mistakes that can be made in this question's computation."""
    e = q.equation
    if q.kind == "u":
        keys = ["no_bias"] if w.bias else []
        if stale is not None:
            keys.append("stale_theta")
        return keys
    if q.kind == "o":
        return ["no_sigma", "dsigma_for_sigma"]
    if q.kind == "err":
        if w.loss.name in ("sse", "mse"):
            return ["err_half", "err_not_squared"]
        if w.loss.name == "half_sse":
            return ["err_not_squared"]
        return ["neg"]
    if q.kind == "delta":
        dsig = ["no_dsigma", "dsigma_at_o", "dsigma_u_for_o"]
        if e.layer == w.last:
            if w.fused:
                return ["sign", "extra_dsigma"]
            return ["sign", *(["factor2"] if w.loss.name != "half_sse" else []), *dsig]
        keys = [*dsig, "theta_transposed", "neg"]
        if stale is not None:
            keys.append("stale_theta")
        return keys
    if q.kind == "grad":
        keys = ["neg", "grad_with_eta"]
        if e.src is not None and e.src >= 0:
            keys.insert(0, "grad_target_o")
        if w.batch > 1:
            keys.append("one_sample")
        return keys
    if q.kind == "update":
        return ["no_eta", "update_sign", "new_for_old", "step_only"]
    return []


#: Mistakes that cannot be made together (one replaces the other's factor).
_EXCLUSIVE = [
    {"no_dsigma", "dsigma_at_o", "dsigma_u_for_o"},
    {"no_sigma", "dsigma_for_sigma"},
    {"err_half", "err_not_squared"},
    {"new_for_old", "step_only"},
    {"sign", "neg"},
]


def alternatives(
    w: Worked, q: Question, stale: Any = None, pairs: bool = True
) -> list[tuple[tuple[str, ...], float]]:
    """Each mistake (and each pair of them) with the number it gives.

    Only mistakes that apply here and change the result (beyond the
    3-figure tolerance of the answer) are listed; single mistakes come first.
    """
    keys = _applicable(w, q, stale)
    right = q.answer
    if q.kind == "update":  # momentum, regularisation or clipping: no plain rule to vary
        plain = recompute(w, q)
        if plain is None or not is_right(plain, right, 6):
            return []
    combos: list[tuple[str, ...]] = [(k,) for k in keys]
    if pairs:
        for a, b in itertools.combinations(keys, 2):
            if not any({a, b} <= ex for ex in _EXCLUSIVE):
                combos.append((a, b))
    out: list[tuple[tuple[str, ...], float]] = []
    for c in combos:
        v = recompute(w, q, c, stale)
        if v is None or not math.isfinite(v) or is_right(v, right):
            continue
        out.append((c, v))
    return out


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict on one typed answer.

    ``mistakes``: every mistake combination whose number matches the typed
    one (the likeliest first); ``close``: right to 2 figures but not 3.
    """

    right: bool
    typed: float
    answer: float
    mistakes: tuple[tuple[str, ...], ...] = ()
    close: bool = False

    @property
    def mistake(self) -> tuple[str, ...] | None:
        return self.mistakes[0] if self.mistakes else None

    def message(self) -> str:
        """One sentence for the student (the answer itself is not in it)."""
        if self.right:
            return "Right."
        if self.mistakes:
            names = " and ".join(MISTAKES[k] for k in self.mistakes[0])
            return f"Not quite: your number is what you get with {names}."
        if self.close:
            return "Close, but not right to 3 significant figures: check the rounding."
        return "Not right, and no common mistake gives this number."


def diagnose(w: Worked, q: Question, typed: float, stale: Any = None) -> Check:
    """Check ``typed`` against the question's answer; name the mistake it matches."""
    answer = q.answer
    if is_right(typed, answer):
        return Check(True, typed, answer)
    found = tuple(c for c, v in alternatives(w, q, stale) if is_right(typed, v))
    return Check(False, typed, answer, found, is_right(typed, answer, 2))


# ---------------------------------------------------------------------------
# What the student is given
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Matrix:
    """θ (or another table) with labelled rows and columns."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float, ...]], ...]


@dataclass(frozen=True, slots=True)
class Given:
    """The numbers a question needs: named values and matrices."""

    values: tuple[tuple[Expr, float], ...]
    matrices: tuple[Matrix, ...] = ()


def _theta_matrix(w: Worked, k: int) -> Matrix:
    W, b = w.theta_used(k)  # type: ignore[misc]
    cols = [str(w.n(k, s)) for s in range(w.sizes[k])] + (["0"] if w.bias else [])
    rows = []
    for i in range(w.sizes[k + 1]):
        vals = [float(x) for x in W[i]] + ([float(b[i])] if w.bias else [])
        rows.append((str(w.n(k + 1, i)), tuple(vals)))
    return Matrix(
        f"θ, layer {k} → {k + 1} (row i, column ℓ" + ("; ℓ = 0: the bias" if w.bias else "") + ")",
        tuple(cols),
        tuple(rows),
    )


def givens(w: Worked, q: Question) -> Given:
    """The numbers a student needs for ``q`` (more than it uses: choosing is the task)."""
    e, snap = q.equation, w.snap
    r = w.sample if e.sample is None else e.sample
    vals: list[tuple[Expr, float]] = []
    mats: list[Matrix] = []

    def layer_values(base: str, arrays: Any, l: int, s: int = r) -> None:
        for m in range(w.sizes[l]):
            a = w.o_prev(l, s) if base == "o" else arrays[l][s]
            vals.append((w.sym(base, l, m, s), float(a[m])))

    if q.kind == "u":
        layer_values("o", None, e.layer - 1)  # type: ignore[operator]
        mats.append(_theta_matrix(w, e.layer - 1))  # type: ignore[operator]
    elif q.kind == "o":
        vals.append((w.sym("u", e.layer, e.index, r), float(snap.u[e.layer][r, e.index])))  # type: ignore[arg-type,index]
    elif q.kind == "err":
        for k in range(w.sizes[-1]):
            sub = (w.n(w.last, k),) if w.sizes[-1] > 1 else ()
            vals.append((Sym("y", sub, w._smp(r)), float(snap.y[r, k])))  # type: ignore[index]
            vals.append((Sym("ŷ", sub, w._smp(r)), float(snap.o[w.last][r, k])))  # type: ignore[index]
    elif q.kind == "delta":
        l, i = e.layer, e.index
        if l == w.last:
            vals.append((w.sym("y", l, i, r), float(snap.y[r, i])))  # type: ignore[index]
        vals.append((w.sym("u", l, i, r), float(snap.u[l][r, i])))  # type: ignore[index]
        vals.append((w.sym("o", l, i, r), float(snap.o[l][r, i])))  # type: ignore[index]
        if l != w.last:
            layer_values("δ", snap.delta, l + 1)  # type: ignore[operator]
            mats.append(_theta_matrix(w, l))  # type: ignore[arg-type]
    elif q.kind == "grad":
        k = e.layer
        for s in range(w.batch):
            layer_values("δ", snap.delta, k + 1, s)  # type: ignore[operator]
            layer_values("o", None, k, s)  # type: ignore[arg-type]
            layer_values("o", None, k + 1, s)  # type: ignore[operator]
    elif q.kind == "update":
        edge = (e.layer, e.index, e.src)
        th = w.theta_sym(*edge)  # type: ignore[arg-type]
        vals.append((th, w.pick(snap.old_weights, snap.old_biases, edge)))  # type: ignore[arg-type]
        vals.append((Sym("η"), float(snap.lr)))
        g = w.pick(snap.grad_weights, snap.grad_biases, edge)  # type: ignore[arg-type]
        from .expr import Deriv

        vals.append((Deriv(th), g))
    return Given(tuple(vals), tuple(mats))


# ---------------------------------------------------------------------------
# Hiding what the phase computed
# ---------------------------------------------------------------------------


def _without(arrays: Any, l: int) -> Any:
    if arrays is None:
        return None
    return tuple(None if m == l else a for m, a in enumerate(arrays))


def hide_results(snap: Snapshot) -> Snapshot:
    """The snapshot with what its phase computed taken out (as if not computed yet).

    The forward pass into layer l loses u and o of l, an output or hidden δ
    phase its δ and σ′, the error phase Err, the gradients phase ∂Err/∂θ;
    the update phase shows θ before the update.
    """
    ph = snap.phase
    if ph is None:
        return snap
    rep: dict[str, Any] = {}
    if ph.kind == "forward" and ph.layer is not None:
        rep = {"u": _without(snap.u, ph.layer), "o": _without(snap.o, ph.layer)}
    elif ph.kind == "error":
        rep = {"err": None}
    elif ph.kind in ("output_delta", "hidden_delta") and ph.layer is not None:
        rep = {"delta": _without(snap.delta, ph.layer), "dsigma": _without(snap.dsigma, ph.layer)}
    elif ph.kind == "gradients":
        rep = {"grad_weights": None, "grad_biases": None}
    elif ph.kind == "update" and snap.old_weights is not None:
        rep = {"weights": snap.old_weights, "biases": snap.old_biases}
    return dataclasses.replace(snap, **rep)


# ---------------------------------------------------------------------------
# A session
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Score:
    """Questions answered right first time, right after a hint, and revealed."""

    first: int = 0
    hint: int = 0
    revealed: int = 0

    @property
    def total(self) -> int:
        return self.first + self.hint + self.revealed

    def text(self) -> str:
        return (
            f"{self.first} right first time · {self.hint} after a hint · {self.revealed} revealed"
        )


@dataclass(slots=True)
class Record:
    """What became of one question: ``outcome`` is "first", "hint" or "revealed"."""

    question: Question
    outcome: str
    tries: list[float] = field(default_factory=list)


class QuizSession:
    """The quiz over a walk through iterations: questions, attempts, score.

    Feed it every snapshot (:meth:`show`); it asks the current phase's
    questions one at a time. :meth:`answer` checks a typed text, :meth:`skip`
    reveals. A question already settled is not asked again (stepping back and
    forth), and questions left when the walk moves on are not scored.
    """

    def __init__(self, config: dict, kinds: Iterable[str] = KINDS, sample: int = 0) -> None:
        self.config = config
        self.kinds: set[str] = set(kinds)
        self.sample = sample
        self.score = Score()
        self.settled: dict[tuple, Record] = {}
        self.worked: Worked | None = None
        self.pending: list[Question] = []
        self.asked: list[Question] = []
        self.tries: list[float] = []
        self.last_check: Check | None = None
        self._stale: dict[int, Any] = {}  # iteration → θ before its update
        self._at: tuple | None = None

    # -- following the walk --
    def show(self, snap: Snapshot, sample: int | None = None) -> bool:
        """Take a snapshot; True when it starts a new set of questions."""
        if sample is not None:
            self.sample = sample
        if snap.phase is not None and snap.phase.kind == "update" and snap.old_weights is not None:
            self._stale[snap.iteration] = (snap.old_weights, snap.old_biases)
        at = (
            snap.iteration,
            None if snap.phase is None else snap.phase.index,
            self.sample,
            tuple(sorted(self.kinds)),
        )
        if at == self._at:
            return False
        self._at = at
        self.worked = Worked(snap, self.config, self.sample)
        self.asked = questions(self.worked, self.kinds)
        self.pending = [q for q in self.asked if q.key not in self.settled]
        self.tries = []
        self.last_check = None
        return True

    def set_kinds(self, kinds: Iterable[str]) -> None:
        self.kinds = set(kinds)
        if self.worked is not None:
            self._at = None
            self.show(self.worked.snap)

    @property
    def current(self) -> Question | None:
        return self.pending[0] if self.pending else None

    @property
    def done(self) -> bool:
        """No question of this phase is waiting."""
        return not self.pending

    def stale_theta(self) -> Any:
        """θ before the last update, when this is the iteration after it."""
        if self.worked is None:
            return None
        snap = self.worked.snap
        in_update = snap.phase is not None and snap.phase.kind == "update"
        return None if in_update else self._stale.get(snap.iteration)

    # -- answering --
    def answer(self, text: str) -> Check:
        """Check the typed text against the current question (ValueError: not a number)."""
        q = self.current
        if q is None or self.worked is None:
            raise ValueError("there is no question to answer; press → to walk on")
        typed = parse_answer(text)
        check = diagnose(self.worked, q, typed, self.stale_theta())
        self.tries.append(typed)
        self.last_check = check
        if check.right:
            self._settle(q, "first" if len(self.tries) == 1 else "hint")
        return check

    def skip(self) -> Question | None:
        """Reveal the current question's answer (scored as revealed)."""
        q = self.current
        if q is not None:
            self._settle(q, "revealed")
        return q

    def _settle(self, q: Question, outcome: str) -> None:
        self.settled[q.key] = Record(q, outcome, list(self.tries))
        setattr(self.score, outcome, getattr(self.score, outcome) + 1)
        self.pending.pop(0)
        self.tries = []

    def hidden(self, snap: Snapshot) -> Snapshot:
        """What the other views may show: the phase's results hidden while it is asked."""
        if self.pending and self.worked is not None and snap is self.worked.snap:
            return hide_results(snap)
        return snap

    def record_of(self, q: Question) -> str | None:
        """How ``q`` was settled ("first", "hint", "revealed"), or None."""
        rec = self.settled.get(q.key)
        return None if rec is None else rec.outcome

    def settled_in_phase(self) -> list[Record]:
        """The records of this phase's questions settled so far, in order."""
        return [self.settled[q.key] for q in self.asked if q.key in self.settled]


def answers(w: Worked, kinds: Sequence[str] = KINDS) -> list[tuple[Question, float]]:
    """Every question of the phase with its answer (for a key or a notebook)."""
    return [(q, q.answer) for q in questions(w, kinds)]
