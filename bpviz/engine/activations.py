"""Activation functions σ, each beside its derivative σ′.

Every function writes into ``out`` when given one (the fast training step
reuses preallocated buffers) and never warns at large ``|u|``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

FloatArray = np.ndarray

__all__ = ["ACTIVATIONS", "Activation", "Ops", "get_activation", "run_ops"]

#: A computation written out as NumPy calls with every operand bound: calling
#: each in order computes it (see :mod:`bpviz.engine.network`).
Ops = tuple[Callable[[], object], ...]


def run_ops(ops: Ops) -> None:
    """Run bound NumPy calls in order."""
    for op in ops:
        op()


class _Constant(dict):
    """A number as a 0-d array of each float dtype it meets: ``ONE[u.dtype]``.

    Speed: NumPy converts a Python float operand on every call (0.1–0.2 µs,
    close to the cost of the call itself on a small net's arrays); a 0-d array
    of the array's own dtype costs nothing extra and keeps float32 in float32.
    """

    __slots__ = ("value",)

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> FloatArray | float:
        const = np.array(self.value, dtype=dtype) if dtype.kind == "f" else self.value
        self[dtype] = const
        return const


ZERO, HALF, ONE, TWO = _Constant(0.0), _Constant(0.5), _Constant(1.0), _Constant(2.0)

# Speed, on the small arrays of a small net: a ufunc that writes over one of
# its own inputs costs about twice as much as one that writes elsewhere, so
# the formulas below take fresh temporaries (cheap: NumPy caches small
# blocks) rather than updating ``out`` step by step.


@dataclass(frozen=True, slots=True)
class Activation:
    """One nonlinearity σ with its derivative σ′.

    Attributes
    ----------
    name : str
        Lookup key, e.g. ``"sigmoid"``.
    f : callable
        ``f(u, out=None) -> o``, o = σ(u), elementwise.
    df : callable
        ``df(u, o, out=None) -> σ′(u)``. Both u and o = σ(u) are passed so
        that σ′ can use whichever is cheaper (sigmoid: o·(1 − o)).
    formula : str
        σ in the lecture's notation, for the formula panel.
    dformula : str
        σ′ in the lecture's notation.
    elementwise : bool
        False only for softmax, whose δ comes fused with its loss.
    f_ops, df_ops : callable or None
        ``f_ops(u, o, s1, s2) -> Ops`` and ``df_ops(u, o, dsigma, s1) -> Ops``:
        the same computation as ``f`` and ``df``, call for call, written out
        as bound NumPy calls into preallocated arrays (``s1``, ``s2`` are
        scratch arrays shaped like u). None: one call of ``f`` or ``df``.
    """

    name: str
    f: Callable[..., FloatArray]
    df: Callable[..., FloatArray]
    formula: str
    dformula: str
    elementwise: bool = True
    f_ops: Callable[..., Ops] | None = None
    df_ops: Callable[..., Ops] | None = None

    def forward_ops(self, u: FloatArray, o: FloatArray, s1: FloatArray, s2: FloatArray) -> Ops:
        """Bound calls writing o = σ(u) (scratch ``s1``, ``s2`` shaped like u)."""
        if self.f_ops is not None:
            return self.f_ops(u, o, s1, s2)
        return (partial(self.f, u, out=o),)

    def derivative_ops(
        self, u: FloatArray, o: FloatArray, dsigma: FloatArray, s1: FloatArray
    ) -> Ops:
        """Bound calls writing dsigma = σ′(u) (scratch ``s1`` shaped like u)."""
        if self.df_ops is not None:
            return self.df_ops(u, o, dsigma, s1)
        return (partial(self.df, u, o, out=dsigma),)


# The formulas are written once, as bound calls (see :class:`Activation`); each
# call writes into its own array, never over one of its inputs, which costs
# NumPy twice as long on small arrays. The plain functions run the same calls.


def _sigmoid_ops(u, o, s1, s2) -> Ops:
    """σ(u) = 1 / (1 + e^(−u)), computed as ½(1 + tanh(u/2)): never overflows."""
    half, one = HALF[u.dtype], ONE[u.dtype]
    return (
        partial(np.multiply, u, half, s1),  # u/2
        partial(np.tanh, s1, s2),  # tanh(u/2)
        partial(np.add, s2, one, s1),  # 1 + tanh(u/2)
        partial(np.multiply, s1, half, o),  # ½(1 + tanh(u/2))
    )


def _dsigmoid_ops(u, o, dsigma, s1) -> Ops:
    """σ′(u) = σ(u)·(1 − σ(u)) = o·(1 − o)."""
    return (partial(np.subtract, ONE[o.dtype], o, s1), partial(np.multiply, s1, o, dsigma))


def _tanh_ops(u, o, s1, s2) -> Ops:
    """σ(u) = tanh(u)."""
    return (partial(np.tanh, u, o),)


def _dtanh_ops(u, o, dsigma, s1) -> Ops:
    """σ′(u) = 1 − tanh²(u) = 1 − o²."""
    return (partial(np.square, o, s1), partial(np.subtract, ONE[o.dtype], s1, dsigma))


def _relu_ops(u, o, s1, s2) -> Ops:
    """σ(u) = max(0, u)."""
    return (partial(np.maximum, u, ZERO[u.dtype], out=o),)


def _drelu_ops(u, o, dsigma, s1) -> Ops:
    """σ′(u) = 1 if u > 0 else 0."""
    return (partial(np.greater, u, 0.0, dsigma, casting="unsafe"),)


def _function(f_ops: Callable[..., Ops]) -> Callable[..., FloatArray]:
    """``f(u, out=None)`` running the calls of ``f_ops`` (scratch allocated per call)."""

    def f(u: FloatArray, out: FloatArray | None = None) -> FloatArray:
        if out is None:
            out = np.empty_like(u)
        run_ops(f_ops(u, out, np.empty_like(u), np.empty_like(u)))
        return out

    f.__doc__ = f_ops.__doc__
    return f


def _derivative(df_ops: Callable[..., Ops]) -> Callable[..., FloatArray]:
    """``df(u, o, out=None)`` running the calls of ``df_ops`` (scratch allocated per call)."""

    def df(u: FloatArray, o: FloatArray, out: FloatArray | None = None) -> FloatArray:
        if out is None:
            out = np.empty_like(o)
        run_ops(df_ops(u, o, out, np.empty_like(o)))
        return out

    df.__doc__ = df_ops.__doc__
    return df


LEAK = 0.01


def _leaky_relu(u: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """σ(u) = max(0.01·u, u)."""
    tmp = np.multiply(u, LEAK)
    return np.maximum(u, tmp, out=out)


def _dleaky_relu(u: FloatArray, o: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """σ′(u) = 1 if u > 0 else 0.01."""
    res = np.where(u > 0, 1.0, LEAK).astype(u.dtype, copy=False)
    if out is None:
        return res
    out[...] = res
    return out


def _linear(u: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """σ(u) = u."""
    if out is None:
        return u.copy()
    np.copyto(out, u)
    return out


def _dlinear(u: FloatArray, o: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """σ′(u) = 1."""
    if out is None:
        return np.ones_like(u)
    out.fill(1.0)
    return out


def _softmax(u: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """σ(u)_k = e^(u_k) / Σ_m e^(u_m), row by row, shifted by the row maximum."""
    shifted = u - u.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    if out is None:
        return shifted
    np.copyto(out, shifted)
    return out


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            "sigmoid",
            _function(_sigmoid_ops),
            _derivative(_dsigmoid_ops),
            "σ(u) = 1/(1+e^(−u))",
            "σ′(u) = o·(1−o)",
            f_ops=_sigmoid_ops,
            df_ops=_dsigmoid_ops,
        ),
        # σ(u) = tanh(u) is NumPy's ufunc itself: one Python call less per layer.
        Activation(
            "tanh",
            np.tanh,
            _derivative(_dtanh_ops),
            "σ(u) = tanh(u)",
            "σ′(u) = 1−o²",
            f_ops=_tanh_ops,
            df_ops=_dtanh_ops,
        ),
        Activation(
            "relu",
            _function(_relu_ops),
            _derivative(_drelu_ops),
            "σ(u) = max(0, u)",
            "σ′(u) = [u > 0]",
            f_ops=_relu_ops,
            df_ops=_drelu_ops,
        ),
        Activation(
            "leaky_relu",
            _leaky_relu,
            _dleaky_relu,
            "σ(u) = max(0.01u, u)",
            "σ′(u) = 1 if u > 0 else 0.01",
        ),
        Activation("linear", _linear, _dlinear, "σ(u) = u", "σ′(u) = 1"),
        Activation(
            "softmax",
            _softmax,
            # σ′ shown for softmax is the diagonal of its Jacobian, o·(1 − o);
            # the full δ comes fused with the softmax cross-entropy.
            _derivative(_dsigmoid_ops),
            "σ(u)_k = e^(u_k)/Σ_m e^(u_m)",
            "(fused with the loss)",
            elementwise=False,
            df_ops=_dsigmoid_ops,
        ),
    )
}


def get_activation(name: str | Activation) -> Activation:
    """Return the activation called ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        valid = ", ".join(ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; choose one of {valid}") from None
