"""Frozen records that the engine hands out: Trace, Grads, Phase, Snapshot.

Arrays are batch-first. ``l`` indexes neuron layers as in the lecture's
picture: layer 0 is the input, so ``o[0]`` is X and ``u[0]`` is None.
``weights[k]`` joins layer k to layer k + 1, shape ``(n_{k+1}, n_k)``:
``weights[k][i, src]`` is the lecture's θ_iℓ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .history import Envelope

FloatArray = np.ndarray
MaybeArrays = tuple[FloatArray | None, ...]

__all__ = [
    "STAGES",
    "Grads",
    "Phase",
    "Snapshot",
    "Trace",
]

#: The three boxes of the lecture notes' algorithm (section 6).
STAGES = ("FORWARD PASS", "BACKWARD PASS", "WEIGHT UPDATE")


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything a forward pass computed.

    Attributes
    ----------
    u : tuple of (batch, n_l) arrays
        Weighted sums u_i = Σ_ℓ θ_iℓ·o_ℓ; ``u[0]`` is None.
    o : tuple of (batch, n_l) arrays
        Outputs o_i = σ(u_i); ``o[0]`` is the input X.
    o_ext : tuple of (batch, n_l + b) arrays
        ``o`` with the constant o_0 = 1 in column 0 when the network has
        biases (b = 1); the same arrays as ``o`` when it has none (b = 0).
    """

    u: MaybeArrays
    o: tuple[FloatArray, ...]
    o_ext: tuple[FloatArray, ...]

    @property
    def y_hat(self) -> FloatArray:
        """The prediction ŷ, the output layer's o."""
        return self.o[-1]


@dataclass(frozen=True, slots=True)
class Grads:
    """Everything a backward pass computed.

    Attributes
    ----------
    delta : tuple of (batch, n_l) arrays
        δ_i = ∂Err/∂u_i per sample; ``delta[0]`` is None.
    weights : tuple of (n_{k+1}, n_k) arrays
        ∂Err/∂θ_iℓ = Σ_samples δ_i·o_ℓ, the shape of ``Network.weights[k]``.
    biases : tuple of (n_{k+1},) arrays
        ∂Err/∂θ_i0 = Σ_samples δ_i·1 (zeros when the network has no biases).
    """

    delta: MaybeArrays
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]


@dataclass(frozen=True, slots=True)
class Phase:
    """One step of the lecture's walk through an iteration.

    Attributes
    ----------
    index : int
        Position in the iteration, 0-based.
    count : int
        Number of phases in one iteration of this network.
    kind : str
        ``"forward"``, ``"error"``, ``"output_delta"``, ``"hidden_delta"``,
        ``"gradients"`` or ``"update"``.
    layer : int or None
        The neuron layer this phase computed (None for error/gradients/update).
    stage : str
        One of :data:`STAGES`.
    title : str
        A one-line description for the phase indicator.
    """

    index: int
    count: int
    kind: str
    layer: int | None
    stage: str
    title: str

    @property
    def is_last(self) -> bool:
        """True for the update, which ends the iteration."""
        return self.index == self.count - 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An immutable picture of training, safe to hand to another thread.

    Every array is a copy with ``flags.writeable = False``. Mid-iteration
    (``phase`` not None and not the last), quantities not yet computed are
    None: u/o beyond the active layer, δ not yet propagated, gradients before
    the gradients phase, ``err`` before the error phase.

    Attributes
    ----------
    iteration : int
        Iterations completed (updates applied).
    epoch : int
        Completed passes over the training set.
    phase : Phase or None
        The phase just computed, or None after a fast step.
    weights, biases : tuples of arrays
        θ now (after the update when the update has run).
    old_weights, old_biases : tuples of arrays or None
        θ before the update, only in the update phase's snapshot.
    x, y : arrays
        The batch the iteration used, (batch, n_0) and (batch, n_out).
    u, o, delta : tuples
        Per neuron layer, (batch, n_l), or None as above.
    dsigma : tuple
        σ′(u) per neuron layer, as the engine computed it for δ (None until
        that layer's δ phase).
    grad_weights, grad_biases : tuples or None
        ∂Err/∂θ for the batch (sum over its samples).
    err : float or None
        Err of the batch.
    lr : float
        η in force.
    losses_from : int
        How many batch Err values came before ``new_losses`` (a receiver that
        holds more drops its extra ones: that happens after a step back).
    new_losses : array
        Batch Err of every iteration since the last snapshot; entry m is the
        Err of iteration ``losses_from + m + 1`` (none dropped, none repeated).
    new_batch_sizes : array
        N of each of ``new_losses``: the samples in that iteration's batch
        (the last batch of an epoch may be smaller than the batch size).
    eval_from : int
        How many evaluations came before ``new_eval_iterations``.
    new_eval_iterations, new_train_err, new_test_err : arrays
        The full training and test Err evaluated since the last snapshot, and
        the iteration count at which each was taken.
    n_train, n_test : int
        N of the training and the test Err: the samples in each set.
    loss_mean : bool
        The loss is a mean over the samples already; else every Err is a sum
        and the loss curves draw Err/N (see :mod:`bpviz.engine.per_sample`).
    new_batch_envelope, new_eval_envelope : Envelope or None
        Normally None. The trainer keeps only the newest values exactly and
        folds older ones into min/max buckets (:mod:`bpviz.engine.history`);
        values folded before any snapshot took them (a restored long run, or
        no snapshot for :data:`~bpviz.engine.history.EXACT` iterations)
        arrive here instead, as the buckets holding them, all before
        ``losses_from`` (``eval_from``). The batch buckets have three
        columns: Err, N and Err per sample (see
        :attr:`~bpviz.engine.trainer.LossHistory.batch_envelope`). A
        receiver that already holds some of the first bucket's points (an
        earlier snapshot delivered them) keeps them and the bucket alike:
        both describe the same values.
        Each value thus arrives once, either exactly in ``new_losses`` or as
        part of a bucket.
    """

    iteration: int
    epoch: int
    phase: Phase | None
    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]
    old_weights: tuple[FloatArray, ...] | None
    old_biases: tuple[FloatArray, ...] | None
    x: FloatArray | None
    y: FloatArray | None
    u: MaybeArrays
    o: MaybeArrays
    delta: MaybeArrays
    dsigma: MaybeArrays
    grad_weights: tuple[FloatArray, ...] | None
    grad_biases: tuple[FloatArray, ...] | None
    err: float | None
    lr: float
    losses_from: int
    new_losses: FloatArray
    new_batch_sizes: FloatArray
    eval_from: int
    new_eval_iterations: FloatArray
    new_train_err: FloatArray
    new_test_err: FloatArray
    n_train: int
    n_test: int
    loss_mean: bool
    new_batch_envelope: Envelope | None = None
    new_eval_envelope: Envelope | None = None

    def _repr_svg_(self) -> str:
        """The network picture in a notebook (IPython rich display): θ and δ of this moment."""
        from bpviz.worked.figure import display_svg

        return display_svg(self)


def frozen_copy(a: FloatArray | None) -> FloatArray | None:
    """Return a read-only copy of ``a`` (None stays None)."""
    if a is None:
        return None
    c = np.array(a, copy=True)
    c.flags.writeable = False
    return c


def frozen_tuple(arrays) -> tuple | None:
    """Read-only copies of a sequence of arrays (None stays None)."""
    if arrays is None:
        return None
    return tuple(frozen_copy(a) for a in arrays)
