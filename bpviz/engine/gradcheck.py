"""Finite-difference check of backprop's gradients, layer by layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

__all__ = ["GradCheck", "gradient_check"]


@dataclass(frozen=True, slots=True)
class GradCheck:
    """Result of :func:`gradient_check`.

    Attributes
    ----------
    max_rel_error : tuple of float
        Per weight layer k (joining layer k to k + 1): the largest relative
        error |g_bp − g_fd| / (|g_bp| + |g_fd|) over its θ. Gradients far
        below the layer's largest one (under 1e-4 of it) are compared on that
        scale instead, and all are compared with at least 1e-5·Err: a finite
        difference cannot resolve them better (its noise is about ulp(Err)/ε).
    backprop, numeric : tuple of arrays
        The two gradients, shaped like ``net.theta[k]``.
    """

    max_rel_error: tuple[float, ...]
    backprop: tuple[np.ndarray, ...]
    numeric: tuple[np.ndarray, ...]

    @property
    def worst(self) -> float:
        """The largest relative error over all layers."""
        return max(self.max_rel_error)


def gradient_check(
    net: Network, X: np.ndarray, Y: np.ndarray, eps: float = 1e-4, max_per_layer: int = 200
) -> GradCheck:
    r"""Compare backprop's ∂Err/∂θ with central differences.

    .. math:: \frac{\partial Err}{\partial\theta} \approx
              \frac{8[Err(\theta+\varepsilon) - Err(\theta-\varepsilon)]
                    - [Err(\theta+2\varepsilon) - Err(\theta-2\varepsilon)]}{12\varepsilon}

    A fourth-order central difference: its truncation error is O(ε⁴), so
    ε = 1e-4 leaves only rounding noise of about ulp(Err)/ε.

    Runs in float64 on a copy of the network, so the network itself is
    untouched. At most ``max_per_layer`` θ per layer are checked (chosen
    evenly), which keeps the check quick on wide layers. A diverged network
    gives inf/NaN errors without NumPy warnings.
    """
    with np.errstate(all="ignore"):  # a diverged net gives inf/NaN, not warnings
        return _gradient_check(net, X, Y, eps, max_per_layer)


def _gradient_check(
    net: Network, X: np.ndarray, Y: np.ndarray, eps: float, max_per_layer: int
) -> GradCheck:
    cfg = net.config()
    cfg["dtype"] = "float64"
    work = Network(**cfg)
    work.params[...] = net.params
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    grads = work.backward(work.forward(X), Y)
    err0 = work.error(X, Y)
    b = work.b
    bp, fd, rel = [], [], []
    for k, theta in enumerate(work.theta):
        g_bp = np.empty_like(theta)
        g_bp[:, b:] = grads.weights[k]
        if b:
            g_bp[:, 0] = grads.biases[k]
        g_fd = np.full_like(theta, np.nan)
        flat = theta.reshape(-1)
        picks = np.unique(np.linspace(0, flat.size - 1, min(flat.size, max_per_layer)).astype(int))
        worst = 0.0
        pending = []
        for idx in picks:
            saved = flat[idx]
            e = {}
            for m in (-2, -1, 1, 2):
                flat[idx] = saved + m * eps
                e[m] = work.error(X, Y)
            flat[idx] = saved
            num = (8.0 * (e[1] - e[-1]) - (e[2] - e[-2])) / (12.0 * eps)
            g_fd.reshape(-1)[idx] = num
            pending.append((g_bp.reshape(-1)[idx], num))
        scale = max((abs(a) + abs(n) for a, n in pending), default=0.0)
        floor = max(1e-4 * scale, 1e-5 * abs(err0), 1e-12)
        for ana, num in pending:
            worst = max(worst, abs(ana - num) / max(abs(ana) + abs(num), floor))
        bp.append(g_bp)
        fd.append(g_fd)
        rel.append(worst)
    return GradCheck(tuple(rel), tuple(bp), tuple(fd))
