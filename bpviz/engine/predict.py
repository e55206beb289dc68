"""Predictions from a snapshot's θ, without the live :class:`Network`.

The GUI draws the network's output over the input plane from the weights a
:class:`~bpviz.engine.state.Snapshot` carries; it must not touch the network
the worker is training. :func:`predict` rebuilds the forward pass from the
network's ``config()`` and those weights, reusing the engine's own
:func:`~bpviz.engine.network.forward_layer` and activations, so the picture
and the training can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .activations import get_activation
from .network import forward_layer

FloatArray = np.ndarray

__all__ = ["predict", "predict_layers"]


def _check(config: Mapping[str, Any], weights: Sequence[FloatArray], X: FloatArray) -> None:
    sizes = list(config["sizes"])
    if len(weights) != len(sizes) - 1:
        raise ValueError(f"{len(weights)} weight matrices do not fit a network of sizes {sizes}")
    for k, w in enumerate(weights):
        if tuple(np.shape(w)) != (sizes[k + 1], sizes[k]):
            raise ValueError(
                f"weights[{k}] has shape {tuple(np.shape(w))}, expected "
                f"{(sizes[k + 1], sizes[k])} for sizes {sizes}"
            )
    if X.ndim != 2 or X.shape[1] != sizes[0]:
        raise ValueError(f"X must have shape (n, {sizes[0]}), got {X.shape}")


def predict_layers(
    config: Mapping[str, Any],
    weights: Sequence[FloatArray],
    biases: Sequence[FloatArray] | None,
    X: FloatArray,
) -> list[FloatArray]:
    r"""Every layer's output o for inputs ``X``: ``[X, o_1, …, ŷ]``.

    .. math:: u_i = \theta_{i0} + \sum_\ell \theta_{i\ell}\, o_\ell, \qquad o_i = \sigma(u_i)

    Parameters
    ----------
    config : mapping
        ``Network.config()``: ``sizes``, ``activation``, ``output_activation``,
        ``bias`` (``dtype`` is honoured when present).
    weights : sequence of (n_{k+1}, n_k) arrays
        θ_iℓ, e.g. ``snapshot.weights``.
    biases : sequence of (n_{k+1},) arrays or None
        θ_i0, e.g. ``snapshot.biases``; ignored when ``config["bias"]`` is false.
    X : (n, n_0) array
        Inputs.

    Returns
    -------
    list of (n, n_l) arrays
        ``o[0]`` is X (as float), ``o[-1]`` is ŷ.
    """
    dtype = np.dtype(config.get("dtype", "float64"))
    X = np.asarray(X, dtype=dtype)
    _check(config, weights, X)
    use_bias = bool(config.get("bias", True)) and biases is not None
    hidden = get_activation(config.get("activation", "tanh"))
    output = get_activation(config.get("output_activation", "sigmoid"))
    n = X.shape[0]
    b = 1 if use_bias else 0
    o_ext = np.empty((n, X.shape[1] + b), dtype=dtype)
    if b:
        o_ext[:, 0] = 1.0
    o_ext[:, b:] = X
    outs = [o_ext[:, b:]]
    last = len(weights) - 1
    for k, w in enumerate(weights):
        w = np.asarray(w, dtype=dtype)
        if b:
            theta = np.empty((w.shape[0], w.shape[1] + 1), dtype=dtype)
            theta[:, 0] = np.asarray(biases[k], dtype=dtype)
            theta[:, 1:] = w
        else:
            theta = w
        # Feature-major (Fortran order), as forward_layer expects.
        u = np.empty((w.shape[0], n), dtype=dtype).T
        nxt = np.empty((w.shape[0] + b, n), dtype=dtype).T
        if b:
            nxt[:, 0] = 1.0
        o = nxt[:, b:]
        with np.errstate(over="ignore", invalid="ignore"):
            forward_layer(theta, o_ext, output if k == last else hidden, u, o)
        outs.append(o)
        o_ext = nxt
    return outs


def predict(
    config: Mapping[str, Any],
    weights: Sequence[FloatArray],
    biases: Sequence[FloatArray] | None,
    X: FloatArray,
) -> FloatArray:
    """The prediction ŷ for inputs ``X`` from θ alone (see :func:`predict_layers`).

    Returns
    -------
    (n, n_out) array
    """
    return predict_layers(config, weights, biases, X)[-1]
