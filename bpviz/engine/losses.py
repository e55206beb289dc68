"""Loss functions Err(y, ŷ) with the δ they give at the output layer.

The lecture's loss is the sum of squares, Err = Σ(y − ŷ)², whose output δ is
δ_k = −2(y − ŷ)·σ′(u_k). Every loss here turns the output layer's u, o = ŷ
and σ′(u) into δ_k = ∂Err/∂u_k for each sample of the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .activations import TWO, Ops, run_ops

FloatArray = np.ndarray

__all__ = ["LOSSES", "Loss", "get_loss"]


@dataclass(frozen=True, slots=True)
class Loss:
    """A loss with its value and its output δ.

    Attributes
    ----------
    name : str
        Lookup key, e.g. ``"sse"``.
    label : str
        Human name for menus.
    value : callable
        ``value(y, u, o, r=None) -> float``: Err over the whole batch. Given a
        scratch array ``r`` shaped like ``o``, the squared-error losses leave
        the residual ŷ − y in it for ``output_delta`` to reuse.
    output_delta : callable
        ``output_delta(y, u, o, dsigma, out, r=None) -> out``: δ_k = ∂Err/∂u_k,
        shape (batch, n_out). ``dsigma`` is σ′(u_k) (ignored by the fused
        cross-entropy forms); ``r`` is the residual ``value`` left (computed
        afresh when None).
    formula : str
        Err in the lecture's notation.
    delta_formula : str
        δ_k in the lecture's notation.
    requires_output : str or None
        The output activation this loss needs (cross-entropies), else None.
    v_ops, d_ops : callable or None
        The same computations as ``value`` and ``output_delta``, call for call,
        as bound NumPy calls into preallocated arrays (see :meth:`value_ops`
        and :meth:`delta_ops`). None: one call of ``value`` or ``output_delta``.
    mean : bool
        True when Err is a mean over the samples already (mse), False when it
        is a sum over them (the loss curves then draw Err/N, see
        :mod:`bpviz.engine.per_sample`).
    """

    name: str
    label: str
    value: Callable[..., float]
    output_delta: Callable[..., FloatArray]
    formula: str
    delta_formula: str
    requires_output: str | None = None
    v_ops: Callable[..., Ops] | None = None
    d_ops: Callable[..., Ops] | None = None
    mean: bool = False

    def value_ops(self, y, u, o, r: FloatArray, err: FloatArray) -> Ops:
        """Bound calls writing Err into the 0-d array ``err`` (and ŷ − y into ``r``).

        ``err`` has the network's dtype when the loss has ``v_ops``, else float64.
        """
        if self.v_ops is not None:
            return self.v_ops(y, u, o, r, err)
        return (partial(_store, err, self.value, y, u, o, r),)

    def delta_ops(self, y, u, o, dsigma, delta, r: FloatArray, s1: FloatArray) -> Ops:
        """Bound calls writing δ_k into ``delta`` (``r`` as left by the Err calls)."""
        if self.d_ops is not None:
            return self.d_ops(y, u, o, dsigma, delta, r, s1)
        return (partial(self.output_delta, y, u, o, dsigma, delta, r),)


def _store(err: FloatArray, value: Callable[..., float], *args) -> None:
    err[()] = value(*args)


# Sum of squares, written once as bound calls (see :class:`Loss`); the plain
# functions run the same calls. Every call writes into its own array: on a
# small net's arrays a ufunc writing over its own input is twice as slow.


def _sse_value_ops(y, u, o, r, err) -> Ops:
    """Err = Σ (y − ŷ)² into ``err``, leaving ŷ − y in ``r`` (feature-major, contiguous)."""
    flat = r.T.reshape(-1)  # r is feature-major: its transpose is C-contiguous
    if not np.shares_memory(flat, r):
        raise ValueError("the residual buffer must be a contiguous feature-major array")
    # ndarray.dot: no Python-level dispatch, unlike np.vdot.
    return (partial(np.subtract, o, y, r), partial(flat.dot, flat, err))


def _sse_delta_ops(y, u, o, dsigma, delta, r, s1) -> Ops:
    """δ_k = −2(y − ŷ)·σ′(u_k), from r = ŷ − y (``s1``: scratch)."""
    return (partial(np.multiply, r, TWO[o.dtype], s1), partial(np.multiply, s1, dsigma, delta))


def _sse_value(y: FloatArray, u: FloatArray, o: FloatArray, r: FloatArray | None = None) -> float:
    """Err = Σ (y − ŷ)² over samples and outputs; leaves ŷ − y in ``r`` when given."""
    if r is None:
        r = np.empty((o.shape[1], o.shape[0]), dtype=np.result_type(o, y)).T
    err = np.zeros((), dtype=r.dtype)
    run_ops(_sse_value_ops(y, u, o, r, err))
    return float(err)


def _sse_delta(y, u, o, dsigma, out, r=None):
    """δ_k = −2(y − ŷ)·σ′(u_k)."""
    if r is None:
        r = np.subtract(o, y)  # ŷ − y
    run_ops(_sse_delta_ops(y, u, o, dsigma, out, r, np.empty_like(r)))
    return out


def _mse_value(y, u, o, r=None):
    """Err = (1/(N·K)) Σ (y − ŷ)², the mean over samples and outputs."""
    return _sse_value(y, u, o, r) / y.size


def _mse_delta(y, u, o, dsigma, out, r=None):
    """δ_k = −(2/(N·K))(y − ŷ)·σ′(u_k)."""
    if r is None:
        r = np.subtract(o, y)
    scaled = np.multiply(r, 2.0 / y.size)
    return np.multiply(scaled, dsigma, out=out)


def _half_value(y, u, o, r=None):
    """Err = ½ Σ (y − ŷ)²."""
    return 0.5 * _sse_value(y, u, o, r)


def _half_delta(y, u, o, dsigma, out, r=None):
    """δ_k = −(y − ŷ)·σ′(u_k)."""
    if r is None:
        r = np.subtract(o, y)
    return np.multiply(r, dsigma, out=out)


def _bce_value(y, u, o, r=None):
    """Err = −Σ [y·ln ŷ + (1 − y)·ln(1 − ŷ)], with ŷ = σ(u), computed from u.

    Uses ln(1 + e^u) − y·u, which never takes the log of 0.
    """
    return float(np.sum(np.logaddexp(0.0, u) - y * u))


def _ce_delta(y, u, o, dsigma, out, r=None):
    """δ_k = ŷ_k − y_k (the sigmoid's or softmax's σ′ cancels with the loss)."""
    np.subtract(o, y, out=out)
    return out


def _softmax_ce_value(y, u, o, r=None):
    """Err = −Σ y_k·ln ŷ_k with ŷ = softmax(u), via log-sum-exp."""
    m = u.max(axis=1, keepdims=True)
    log_z = m + np.log(np.exp(u - m).sum(axis=1, keepdims=True))
    return float(-np.sum(y * (u - log_z)))


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss(
            "sse",
            "Sum of squares Σ(y−ŷ)²",
            _sse_value,
            _sse_delta,
            "Err = Σ(y−ŷ)²",
            "δ_k = −2(y−ŷ)·σ′(u_k)",
            v_ops=_sse_value_ops,
            d_ops=_sse_delta_ops,
        ),
        Loss(
            "mse",
            "Mean squared error",
            _mse_value,
            _mse_delta,
            "Err = (1/N)·Σ(y−ŷ)²",
            "δ_k = −(2/N)(y−ŷ)·σ′(u_k)",
            mean=True,
        ),
        Loss(
            "half_sse",
            "Half sum of squares ½Σ(y−ŷ)²",
            _half_value,
            _half_delta,
            "Err = ½·Σ(y−ŷ)²",
            "δ_k = −(y−ŷ)·σ′(u_k)",
        ),
        Loss(
            "bce",
            "Binary cross-entropy",
            _bce_value,
            _ce_delta,
            "Err = −Σ[y·ln ŷ + (1−y)·ln(1−ŷ)]",
            "δ_k = ŷ_k − y_k",
            requires_output="sigmoid",
        ),
        Loss(
            "softmax_ce",
            "Softmax cross-entropy",
            _softmax_ce_value,
            _ce_delta,
            "Err = −Σ y_k·ln ŷ_k",
            "δ_k = ŷ_k − y_k",
            requires_output="softmax",
        ),
    )
}


def get_loss(name: str | Loss) -> Loss:
    """Return the loss called ``name``.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(name, Loss):
        return name
    try:
        return LOSSES[name]
    except KeyError:
        valid = ", ".join(LOSSES)
        raise ValueError(f"unknown loss {name!r}; choose one of {valid}") from None
