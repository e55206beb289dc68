"""The network: θ for every layer, and the per-layer functions of backprop.

The fast training step (:func:`train_step`) and the lecture's phase-by-phase
walk (:meth:`bpviz.engine.trainer.Trainer.phases`) are both built from the
per-layer functions below (:func:`forward_ops`, :func:`error_ops`,
:func:`output_delta_ops`, :func:`hidden_delta_ops`, :func:`gradient_ops`,
:func:`apply_update`): a :class:`Workspace` binds their NumPy calls to its
arrays once, the walk runs one phase's calls, the step all of them. The very
same calls, so their numbers cannot disagree.

Biases are the lecture's θ_i0 with a constant input o_0 = 1: each layer's
parameters live in one matrix ``theta[k]`` of shape ``(n_{k+1}, 1 + n_k)``
whose column 0 holds the biases. ``weights[k]`` and ``biases[k]`` are live
views of it, and all θ of the network share one flat buffer, so an update is
two NumPy calls whatever the depth.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from .activations import Activation, Ops, get_activation, run_ops
from .losses import Loss, get_loss
from .state import Grads, Trace

FloatArray = np.ndarray

# Quiet numerics for Network.step, cheaply. ``np.errstate`` builds its error
# state anew on every use (about 1.5 µs, a tenth of a small net's step); NumPy 2
# keeps that state in a context variable, which can be set to a prebuilt quiet
# state for 0.1 µs. Falls back to ``np.errstate`` if NumPy's internals move.
try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    _QUIET: Any = _make_extobj(all="ignore")
except (ImportError, TypeError):  # pragma: no cover - other NumPy versions
    _extobj_contextvar = _QUIET = None

__all__ = [
    "INITIALIZERS",
    "MAX_LAYER_SIZE",
    "MAX_PARAMETERS",
    "Network",
    "UpdateRule",
    "Workspace",
    "apply_update",
    "error_ops",
    "forward_layer",
    "forward_ops",
    "gradient_ops",
    "hidden_delta_ops",
    "output_delta_ops",
    "run_ops",
    "train_step",
]

#: Largest layer and parameter count accepted (bigger is refused with a message).
MAX_LAYER_SIZE = 100_000
MAX_PARAMETERS = 50_000_000

#: Initialisers: name -> "label: how θ is drawn".
INITIALIZERS: dict[str, str] = {
    "xavier": "Xavier/Glorot uniform: ±√(6/(n_in+n_out))",
    "he": "He normal: std √(2/n_in)",
    "small": "Small uniform: ±0.1",
    "large": "Too large: normal, std 3 (exploding gradients)",
}


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """How θ moves given ∂Err/∂θ: θ ← θ − η·∂Err/∂θ, with optional extras.

    Attributes
    ----------
    lr : float
        η, the learning rate.
    momentum : float
        μ in v ← μ·v − η·g; θ ← θ + v (0 turns momentum off).
    l1, l2 : float
        Regularisation strengths: g += l1·sign(θ) + l2·θ (weights only, not biases).
    clip_value : float or None
        Clip each gradient entry to [−c, c].
    clip_norm : float or None
        Rescale the whole gradient when its L2 norm exceeds this.
    """

    lr: float = 0.1
    momentum: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_value: float | None = None
    clip_norm: float | None = None
    #: True for plain gradient descent (no momentum, regularisation or clipping).
    is_plain: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate the numbers, with a message naming the bad one."""
        for name in ("lr", "momentum", "l1", "l2"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number ≥ 0, got {v!r}")
        if self.momentum >= 1:
            raise ValueError(f"momentum must be below 1, got {self.momentum!r}")
        for name in ("clip_value", "clip_norm"):
            v = getattr(self, name)
            if v is not None and (not np.isfinite(v) or v <= 0):
                raise ValueError(f"{name} must be a positive number or None, got {v!r}")
        plain = not (self.momentum or self.l1 or self.l2 or self.clip_value or self.clip_norm)
        object.__setattr__(self, "is_plain", plain)


# --------------------------------------------------------------------------
# Per-layer functions: the lecture's formulas, each a few NumPy calls.
#
# Each formula is written once, as an ``*_ops`` function that returns its NumPy
# calls with every operand bound (``functools.partial``): calling them in order
# computes it. A Workspace builds these calls once for its arrays; one phase of
# the lecture's walk runs the calls of that phase, the fast step runs all of
# them back to back — the very same call objects, so their numbers cannot
# disagree. (On a small net a step is ~40 calls of ~0.25 µs each; binding them
# once saves the Python around each call, which cost as much again.)
# The plain functions (``forward_layer`` …) build and run the calls at once.
# --------------------------------------------------------------------------


def forward_ops(
    theta: FloatArray,
    o_prev_ext: FloatArray,
    activation: Activation,
    u: FloatArray,
    o: FloatArray,
    s1: FloatArray,
    s2: FloatArray,
) -> Ops:
    r"""Forward pass through one layer.

    .. math:: u_i = \sum_\ell \theta_{i\ell}\, o_\ell, \qquad o_i = \sigma(u_i)

    Parameters
    ----------
    theta : (n_out, b + n_in) array
        θ of the layer; column 0 holds the biases when b = 1.
    o_prev_ext : (batch, b + n_in) array
        The previous layer's o, with o_0 = 1 in column 0 when b = 1.
    activation : Activation
        σ of this layer.
    u : (batch, n_out) array, Fortran order
        Written: the weighted sums.
    o : (batch, n_out) array
        Written: σ(u).
    s1, s2 : (batch, n_out) arrays
        Scratch.
    """
    # u is feature-major (Fortran order), as in a Workspace: uᵀ = θ·oᵀ (``dot``
    # writes only into C order).
    return (partial(theta.dot, o_prev_ext.T, u.T), *activation.forward_ops(u, o, s1, s2))


def error_ops(loss: Loss, y: FloatArray, u: FloatArray, o: FloatArray, resid, err) -> Ops:
    r"""Err over the batch, e.g. :math:`Err = \sum (y-\hat y)^2`, into the 0-d array ``err``.

    The squared-error losses leave the residual ŷ − y in ``resid`` for the output δ.
    """
    return loss.value_ops(y, u, o, resid, err)


def output_delta_ops(
    loss: Loss,
    activation: Activation,
    y: FloatArray,
    u: FloatArray,
    o: FloatArray,
    dsigma: FloatArray,
    delta: FloatArray,
    resid: FloatArray,
    s1: FloatArray,
) -> Ops:
    r"""δ at the output layer k, for every sample.

    .. math:: \delta_k = \frac{\partial Err}{\partial \hat y}\,\sigma'(u_k)
              \quad (= -2(y-\hat y)\,\sigma'(u_k) \text{ for } Err=\Sigma(y-\hat y)^2)

    Parameters
    ----------
    y, u, o : (batch, n_out) arrays
        Targets, weighted sums and outputs ŷ = o of the output layer.
    dsigma : (batch, n_out) array
        Written: σ′(u_k).
    delta : (batch, n_out) array
        Written: δ_k.
    resid : (batch, n_out) array
        The residual ŷ − y that the Err calls left there.
    s1 : (batch, n_out) array
        Scratch.
    """
    return (
        *activation.derivative_ops(u, o, dsigma, s1),
        *loss.delta_ops(y, u, o, dsigma, delta, resid, s1),
    )


def hidden_delta_ops(
    activation: Activation,
    u: FloatArray,
    o: FloatArray,
    delta_next: FloatArray,
    weights_next: FloatArray,
    dsigma: FloatArray,
    delta: FloatArray,
    backprop: FloatArray,
    s1: FloatArray,
) -> Ops:
    r"""δ of a hidden layer from the next layer's δ (the backward recursion).

    .. math:: \delta_i = \sigma'(u_i) \sum_j \delta_j\, \theta_{ji}

    Parameters
    ----------
    u, o : (batch, n_i) arrays
        This layer's weighted sums and outputs.
    delta_next : (batch, n_j) array
        δ_j of the next layer.
    weights_next : (n_j, n_i) array
        θ_ji, the weights from this layer into the next (biases excluded).
    dsigma : (batch, n_i) array
        Written: σ′(u_i).
    delta : (batch, n_i) array
        Written: δ_i.
    backprop, s1 : (batch, n_i) arrays, Fortran order
        Written: Σ_j δ_j θ_ji; scratch.
    """
    return (
        partial(weights_next.T.dot, delta_next.T, backprop.T),  # Σ_j δ_j θ_ji, feature-major
        *activation.derivative_ops(u, o, dsigma, s1),
        partial(np.multiply, backprop, dsigma, delta),
    )


def gradient_ops(delta: FloatArray, o_prev_ext: FloatArray, grad: FloatArray) -> Ops:
    r"""Gradient of Err with respect to one layer's θ, summed over the batch.

    .. math:: \frac{\partial Err}{\partial \theta_{i\ell}} = \delta_i \cdot o_\ell

    Parameters
    ----------
    delta : (batch, n_out) array
        δ_i of the layer.
    o_prev_ext : (batch, b + n_in) array
        o_ℓ of the previous layer (o_0 = 1 first when b = 1).
    grad : (n_out, b + n_in) array
        Written: ∂Err/∂θ, the shape of θ.
    """
    return (partial(delta.T.dot, o_prev_ext, grad),)


def forward_layer(
    theta: FloatArray,
    o_prev_ext: FloatArray,
    activation: Activation,
    u: FloatArray,
    o: FloatArray,
) -> None:
    """Run :func:`forward_ops` now (``u`` in Fortran order; scratch allocated here)."""
    s1, s2 = np.empty_like(u), np.empty_like(u)
    run_ops(forward_ops(theta, o_prev_ext, activation, u, o, s1, s2))


def apply_update(
    params: FloatArray,
    grad: FloatArray,
    rule: UpdateRule,
    step: FloatArray,
    velocity: FloatArray | None = None,
    weight_mask: FloatArray | None = None,
) -> None:
    r"""Move every θ of the network against its gradient.

    .. math:: \theta_{i\ell} \leftarrow \theta_{i\ell} - \eta\,\delta_i\, o_\ell

    Parameters
    ----------
    params : (n_params,) array
        All θ, flat; updated in place.
    grad : (n_params,) array
        ∂Err/∂θ, flat. Left unchanged (the views show it).
    rule : UpdateRule
        η and the optional momentum, regularisation and clipping.
    step : (n_params,) array
        Scratch: receives the change applied to θ.
    velocity : (n_params,) array, optional
        Momentum's v, updated in place (required when ``rule.momentum`` > 0).
    weight_mask : (n_params,) array, optional
        1 for weights, 0 for biases (required for l1/l2).
    """
    if rule.is_plain:
        np.multiply(grad, rule.lr, out=step)
        params -= step
        return
    g = step
    np.copyto(g, grad)
    if rule.l2:
        g += rule.l2 * params * weight_mask
    if rule.l1:
        g += rule.l1 * np.sign(params) * weight_mask
    if rule.clip_value is not None:
        np.clip(g, -rule.clip_value, rule.clip_value, out=g)
    if rule.clip_norm is not None:
        norm = float(np.sqrt(np.vdot(g, g)))
        if norm > rule.clip_norm:
            g *= rule.clip_norm / norm
    if rule.momentum:
        velocity *= rule.momentum
        g *= rule.lr
        velocity -= g
        params += velocity
    else:
        g *= rule.lr
        params -= g


# --------------------------------------------------------------------------
# Buffers for one batch size, and the calls of one iteration on them.
# --------------------------------------------------------------------------


@dataclass(slots=True)
class Workspace:
    """Preallocated arrays for one batch size, and the bound calls of an iteration.

    ``o_ext[l]`` holds o with the constant o_0 = 1 in column 0 when the network
    has biases; ``o[l]`` is a view of its other columns. ``grad`` is one flat
    buffer; ``grad_theta[k]`` are views shaped like ``theta[k]``. ``resid``
    holds ŷ − y from the Err phase, which the output δ reuses; ``err_buf`` the
    Err itself.

    ``ops[(kind, layer)]`` are the bound NumPy calls of each phase of the
    lecture's walk (see :func:`~bpviz.engine.trainer.phase_plan`) up to the
    gradients, and ``step_ops`` all of them in order: the walk and the fast
    step run the same calls. The input batch goes into ``o[0]`` and ``y``
    (copied, never re-pointed: the calls are bound to these arrays).

    Memory order, for speed: the batch (input ``o_ext[0]`` and target ``y``) is
    stored sample by sample, like the data it is copied from; every layer's
    u, o, σ′ and δ feature by feature (Fortran order), so that ``o[l]`` is one
    contiguous block beside o_0. NumPy needs about twice as long for a small
    strided array, or for operands of mixed orders, as for contiguous ones.
    """

    batch: int
    o_ext: list[FloatArray]
    o: list[FloatArray]
    u: list[FloatArray | None]
    dsigma: list[FloatArray | None]
    delta: list[FloatArray | None]
    y: FloatArray
    grad: FloatArray
    grad_theta: list[FloatArray]
    step: FloatArray
    resid: FloatArray
    err_buf: FloatArray
    lr_buf: FloatArray
    ops: dict[tuple[str, int | None], Ops]
    step_ops: Ops
    plain_update_ops: Ops
    err: float = field(default=float("nan"))
    lr: float = field(default=float("nan"))  # the η held by lr_buf

    def trace(self) -> Trace:
        """The forward quantities as a :class:`Trace` (views of the buffers)."""
        return Trace(u=tuple(self.u), o=tuple(self.o), o_ext=tuple(self.o_ext))


class Network:
    """A fully-connected feed-forward network.

    Parameters
    ----------
    sizes : sequence of int
        Neurons per layer, input first, e.g. ``[2, 4, 1]``.
    activation : str
        σ of the hidden layers: sigmoid, tanh, relu, leaky_relu, linear.
    output_activation : str
        σ of the output layer (softmax too, with the softmax cross-entropy).
    loss : str
        ``"sse"`` (the lecture's Err = Σ(y−ŷ)², default), ``"mse"``,
        ``"half_sse"``, ``"bce"`` or ``"softmax_ce"``.
    init : str
        One of :data:`INITIALIZERS`.
    bias : bool
        Biases θ_i0 on (default) or off (the notes' picture has none).
    seed : int
        Seeds the initial weights: the same seed gives the same θ.
    dtype : numpy dtype
        float64 (default) or float32.

    Attributes
    ----------
    weights : tuple of (n_{k+1}, n_k) arrays
        Live views: ``weights[k][i, src]`` is θ_iℓ; in-place edits change the net.
    biases : tuple of (n_{k+1},) arrays
        Live views of θ_i0 (read-only zeros when biases are off).
    theta : tuple of (n_{k+1}, b + n_k) arrays
        Live views, biases in column 0 when b = 1.
    params : (n_params,) array
        Every θ, flat.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> X, Y = np.array([[0.0, 1.0]]), np.array([[1.0]])
    >>> trace = net.forward(X)
    >>> grads = net.backward(trace, Y)
    >>> err = net.step(X, Y, lr=0.1)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "sigmoid",
        loss: str = "sse",
        init: str = "xavier",
        bias: bool = True,
        seed: int = 0,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        sizes = tuple(int(n) for n in sizes)
        if len(sizes) < 2:
            raise ValueError(f"a network needs at least 2 layers, got sizes {list(sizes)}")
        for n in sizes:
            if not 1 <= n <= MAX_LAYER_SIZE:
                raise ValueError(
                    f"each layer needs 1 to {MAX_LAYER_SIZE:,} neurons, got sizes {list(sizes)}"
                )
        b = 1 if bias else 0
        n_params = sum(n_out * (n_in + b) for n_in, n_out in itertools.pairwise(sizes))
        if n_params > MAX_PARAMETERS:
            raise ValueError(f"{n_params:,} parameters is too many (at most {MAX_PARAMETERS:,})")
        self.activation = get_activation(activation)
        self.output_activation = get_activation(output_activation)
        self.loss = get_loss(loss)
        if not self.activation.elementwise:
            raise ValueError("softmax can only be the output activation")
        need = self.loss.requires_output
        if need is not None and self.output_activation.name != need:
            raise ValueError(
                f"the {self.loss.label} loss needs a {need} output activation, "
                f"not {self.output_activation.name}"
            )
        if self.output_activation.name == "softmax" and self.loss.name != "softmax_ce":
            raise ValueError("a softmax output needs the softmax cross-entropy loss")
        if self.output_activation.name == "softmax" and sizes[-1] < 2:
            # softmax of one number is always 1: Err = −y·ln 1 = 0, and nothing learns.
            raise ValueError(
                f"softmax needs at least 2 outputs (one per class), this data has {sizes[-1]}; "
                "for two classes in one output use sigmoid with binary cross-entropy"
            )
        if init not in INITIALIZERS:
            raise ValueError(
                f"unknown initialiser {init!r}; choose one of {', '.join(INITIALIZERS)}"
            )
        self.sizes = sizes
        self.init = init
        self.bias = bool(bias)
        self.seed = int(seed)
        self.dtype = np.dtype(dtype)
        self.params = np.zeros(n_params, dtype=self.dtype)
        thetas, offset = [], 0
        for n_in, n_out in itertools.pairwise(sizes):
            size = n_out * (n_in + b)
            thetas.append(self.params[offset : offset + size].reshape(n_out, n_in + b))
            offset += size
        self.theta: tuple[FloatArray, ...] = tuple(thetas)
        self.weights: tuple[FloatArray, ...] = tuple(t[:, b:] for t in thetas)
        if b:
            self.biases: tuple[FloatArray, ...] = tuple(t[:, 0] for t in thetas)
        else:
            zeros = []
            for n_out in sizes[1:]:
                z = np.zeros(n_out, dtype=self.dtype)
                z.flags.writeable = False
                zeros.append(z)
            self.biases = tuple(zeros)
        mask = np.ones(n_params, dtype=self.dtype)
        if b:
            for t in self.theta_views(mask):
                t[:, 0] = 0.0
        self.weight_mask = mask
        self._workspaces: dict[int, Workspace] = {}
        self._step_rule = UpdateRule()
        self.initialize(seed)

    # -- structure --------------------------------------------------------

    @property
    def n_layers(self) -> int:
        """Number of neuron layers, input included."""
        return len(self.sizes)

    @property
    def b(self) -> int:
        """1 when the network has biases (column 0 of θ), else 0."""
        return 1 if self.bias else 0

    def layer_activation(self, l: int) -> Activation:
        """σ of neuron layer ``l`` (1 ≤ l < n_layers)."""
        return self.output_activation if l == self.n_layers - 1 else self.activation

    def theta_views(self, flat: FloatArray) -> tuple[FloatArray, ...]:
        """Views of a flat (n_params,) array shaped like ``theta``."""
        views, offset, b = [], 0, self.b
        for n_in, n_out in zip(self.sizes, self.sizes[1:], strict=False):
            size = n_out * (n_in + b)
            views.append(flat[offset : offset + size].reshape(n_out, n_in + b))
            offset += size
        return tuple(views)

    def _repr_svg_(self) -> str:
        """The network picture in a notebook (IPython rich display): edges by θ."""
        from bpviz.worked.figure import display_svg

        return display_svg(self)

    def config(self) -> dict:
        """The constructor's arguments, JSON-serialisable."""
        return {
            "sizes": list(self.sizes),
            "activation": self.activation.name,
            "output_activation": self.output_activation.name,
            "loss": self.loss.name,
            "init": self.init,
            "bias": self.bias,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    def initialize(self, seed: int | None = None) -> None:
        """Draw fresh weights from ``self.init`` (biases start at 0).

        The same seed always gives the same θ.
        """
        seed = self.seed if seed is None else int(seed)
        rng = np.random.default_rng(seed)
        for w, bias, (n_in, n_out) in zip(
            self.weights, self.biases, zip(self.sizes, self.sizes[1:], strict=False), strict=True
        ):
            if self.init == "xavier":
                limit = np.sqrt(6.0 / (n_in + n_out))
                w[...] = rng.uniform(-limit, limit, size=w.shape)
            elif self.init == "he":
                w[...] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=w.shape)
            elif self.init == "small":
                w[...] = rng.uniform(-0.1, 0.1, size=w.shape)
            else:  # "large"
                w[...] = rng.normal(0.0, 3.0, size=w.shape)
            if self.bias:
                bias[...] = 0.0

    # -- buffers ----------------------------------------------------------

    def workspace(self, batch: int, forward_only: bool = False) -> Workspace:
        """New buffers for batches of ``batch`` samples, with the calls bound to them.

        ``forward_only``: only the forward and Err phases (no σ′, δ or their
        calls), for evaluating Err over a whole data set.
        """
        b, dt = self.b, self.dtype
        last = self.n_layers - 1

        def feature_major(n: int) -> FloatArray:
            return np.empty((n, batch), dtype=dt).T

        # Two scratch arrays serve every layer: no calls of one phase leave
        # anything in them for another phase.
        widest = max(self.sizes[1:])
        flat1, flat2 = np.empty(batch * widest, dt), np.empty(batch * widest, dt)

        def scratch(flat: FloatArray, n: int) -> FloatArray:
            return flat[: batch * n].reshape(n, batch).T  # feature-major, contiguous

        o_ext, o, u, dsigma, delta = [], [], [None], [None], [None]
        s1, s2 = [None], [None]
        for l, n in enumerate(self.sizes):
            ext = np.empty((batch, n + b), dtype=dt) if l == 0 else feature_major(n + b)
            if b:
                ext[:, 0] = 1.0
            o_ext.append(ext)
            o.append(ext[:, b:])
            if l:
                u.append(feature_major(n))
                dsigma.append(None if forward_only else feature_major(n))
                delta.append(None if forward_only else feature_major(n))
                s1.append(scratch(flat1, n))
                s2.append(scratch(flat2, n))
        y = np.empty((batch, self.sizes[-1]), dtype=dt)
        grad = np.zeros_like(self.params)
        grad_theta = list(self.theta_views(grad))
        step = np.empty_like(self.params)
        resid = feature_major(self.sizes[-1])
        # Err in the network's dtype when the loss writes it with NumPy calls
        # (``dot`` wants its own dtype), else the float the loss returns.
        err_buf = np.zeros((), dtype=dt if self.loss.v_ops is not None else np.float64)
        lr_buf = np.zeros((), dtype=dt)

        loss, theta, weights = self.loss, self.theta, self.weights
        ops: dict[tuple[str, int | None], Ops] = {}
        for l in range(1, last + 1):
            act = self.layer_activation(l)
            ops["forward", l] = forward_ops(
                theta[l - 1], o_ext[l - 1], act, u[l], o[l], s1[l], s2[l]
            )
        ops["error", None] = error_ops(loss, y, u[last], o[last], resid, err_buf)
        plain_update: Ops = ()
        if not forward_only:
            ops["output_delta", last] = output_delta_ops(
                loss, self.output_activation, y, u[last], o[last], dsigma[last], delta[last],
                resid, s1[last],
            )  # fmt: skip
            for l in range(last - 1, 0, -1):
                ops["hidden_delta", l] = hidden_delta_ops(
                    self.activation, u[l], o[l], delta[l + 1], weights[l], dsigma[l], delta[l],
                    s2[l], s1[l],  # Σ_j δ_j θ_ji goes into s2: the forward phases are over
                )  # fmt: skip
            ops["gradients", None] = tuple(
                op
                for k in range(last)
                for op in gradient_ops(delta[k + 1], o_ext[k], grad_theta[k])
            )
            plain_update = (
                partial(np.multiply, grad, lr_buf, step),  # η·∂Err/∂θ
                partial(np.subtract, self.params, step, self.params),  # θ ← θ − η·∂Err/∂θ
            )
        return Workspace(
            batch=batch,
            o_ext=o_ext,
            o=o,
            u=u,
            dsigma=dsigma,
            delta=delta,
            y=y,
            grad=grad,
            grad_theta=grad_theta,
            step=step,
            resid=resid,
            err_buf=err_buf,
            lr_buf=lr_buf,
            ops=ops,
            step_ops=tuple(op for phase in ops.values() for op in phase),
            plain_update_ops=plain_update,
        )

    def _cached_workspace(self, batch: int) -> Workspace:
        ws = self._workspaces.get(batch)
        if ws is None:
            if len(self._workspaces) > 8:
                self._workspaces.clear()
            ws = self._workspaces[batch] = self.workspace(batch)
        return ws

    def _check_xy(self, X: FloatArray, Y: FloatArray | None = None) -> None:
        """Check the shapes of X and Y (arrays already)."""
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (batch, {self.sizes[0]}), got {X.shape}")
        if Y is not None and Y.shape != (X.shape[0], self.sizes[-1]):
            raise ValueError(f"Y must have shape ({X.shape[0]}, {self.sizes[-1]}), got {Y.shape}")

    # -- the public passes --------------------------------------------------

    def forward_into(self, ws: Workspace) -> None:
        """Forward pass over ``ws.o_ext[0]`` (already filled), layer by layer."""
        for l in range(1, self.n_layers):
            run_ops(ws.ops["forward", l])

    def error_into(self, ws: Workspace) -> float:
        """Err of a filled forward pass against ``ws.y`` (also leaves ŷ − y in ``ws.resid``)."""
        run_ops(ws.ops["error", None])
        ws.err = err = float(ws.err_buf)
        return err

    def backward_into(self, ws: Workspace) -> None:
        """δ for every layer and ∂Err/∂θ, from a filled forward pass and ``ws.y``.

        The Err phase must have run first: it leaves ŷ − y in ``ws.resid``.
        """
        last = self.n_layers - 1
        run_ops(ws.ops["output_delta", last])
        for l in range(last - 1, 0, -1):
            run_ops(ws.ops["hidden_delta", l])
        run_ops(ws.ops["gradients", None])

    def update(self, ws: Workspace, rule: UpdateRule, velocity: FloatArray | None = None) -> None:
        """θ ← θ − η·∂Err/∂θ from the gradient in ``ws`` (momentum etc. as ``rule`` says)."""
        if rule.is_plain:
            if ws.lr != rule.lr:  # the calls read η from ws.lr_buf
                ws.lr_buf[()] = ws.lr = rule.lr
            run_ops(ws.plain_update_ops)
        else:
            apply_update(self.params, ws.grad, rule, ws.step, velocity, self.weight_mask)

    def forward(self, X: FloatArray) -> Trace:
        """Forward pass, keeping u and o of every layer.

        Parameters
        ----------
        X : (batch, n_0) array

        Returns
        -------
        Trace
            Fresh arrays: ``trace.u[l]``, ``trace.o[l]``; ``o[0]`` is X.
        """
        X = np.asarray(X)
        self._check_xy(X)
        ws = self.workspace(X.shape[0], forward_only=True)
        ws.o[0][...] = X
        self.forward_into(ws)
        return ws.trace()

    def backward(self, trace: Trace, Y: FloatArray) -> Grads:
        """Backward pass: δ for every layer and ∂Err/∂θ = δ_i·o_ℓ.

        Parameters
        ----------
        trace : Trace
            From :meth:`forward` on the same weights.
        Y : (batch, n_out) array
            Targets y.

        Returns
        -------
        Grads
            ``delta[l]`` (None at l = 0), ``weights[k]`` and ``biases[k]``,
            the gradients shaped like ``self.weights`` and ``self.biases``.
        """
        batch = trace.o[0].shape[0]
        Y = np.asarray(Y)
        self._check_xy(trace.o[0], Y)
        ws = self.workspace(batch)
        # Copied in, not re-pointed: the workspace's calls are bound to its arrays.
        for l in range(self.n_layers):
            np.copyto(ws.o[l], trace.o[l])
            if l:
                np.copyto(ws.u[l], trace.u[l])
        ws.y[...] = Y
        self.error_into(ws)  # leaves ŷ − y for δ_k
        self.backward_into(ws)
        return self.grads_of(ws)

    def grads_of(self, ws: Workspace) -> Grads:
        """The gradients held by a workspace, as :class:`Grads` (views)."""
        b = self.b
        gw = tuple(g[:, b:] for g in ws.grad_theta)
        if b:
            gb = tuple(g[:, 0] for g in ws.grad_theta)
        else:
            gb = tuple(np.zeros(n, dtype=self.dtype) for n in self.sizes[1:])
        return Grads(delta=tuple(ws.delta), weights=gw, biases=gb)

    def error(self, X: FloatArray, Y: FloatArray) -> float:
        """Err of the network on (X, Y), without changing anything."""
        ws = self._batch_in(X, Y)
        self.forward_into(ws)
        return self.error_into(ws)

    def step(self, X: FloatArray, Y: FloatArray, lr: float = 0.1) -> float:
        """One full iteration: forward, backward, θ ← θ − η·∂Err/∂θ.

        Divergence (a too-large η) shows as an inf or NaN Err, quietly;
        :class:`~bpviz.engine.trainer.Trainer` turns it into a
        :class:`~bpviz.engine.trainer.DivergenceError`.

        Returns
        -------
        float
            Err on (X, Y) before the update.
        """
        if _QUIET is None:  # pragma: no cover - other NumPy versions
            with np.errstate(all="ignore"):
                return self._step(X, Y, lr)
        token = _extobj_contextvar.set(_QUIET)
        try:
            return self._step(X, Y, lr)
        finally:
            _extobj_contextvar.reset(token)

    def _batch_in(self, X: FloatArray, Y: FloatArray) -> Workspace:
        """The network's own workspace for this batch size, holding (X, Y)."""
        if type(X) is not np.ndarray:  # cheaper than np.asarray on an ndarray
            X = np.asarray(X)
        if type(Y) is not np.ndarray:
            Y = np.asarray(Y)
        self._check_xy(X, Y)
        ws = self._cached_workspace(X.shape[0])
        ws.o[0][...] = X
        ws.y[...] = Y
        return ws

    def _step(self, X: FloatArray, Y: FloatArray, lr: float) -> float:
        ws = self._batch_in(X, Y)
        rule = self._step_rule
        if rule.lr != lr:  # validating a new rule costs more than the step
            rule = self._step_rule = UpdateRule(lr=lr)
        return train_step(self, ws, rule)


def train_step(
    net: Network,
    ws: Workspace,
    rule: UpdateRule,
    velocity: FloatArray | None = None,
) -> float:
    """One iteration on the batch already in ``ws.o_ext[0]`` and ``ws.y``.

    Forward, Err, δ from the output back, ∂Err/∂θ (the workspace's calls of
    every phase, the very calls the phase walk runs one phase at a time), then
    the update. Returns Err before the update and stores it in ``ws.err``.
    """
    for op in ws.step_ops:
        op()
    ws.err = err = float(ws.err_buf)
    net.update(ws, rule, velocity)
    return err
