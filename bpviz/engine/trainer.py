"""Training: data, η and friends, counters, loss history, the phase walk.

:class:`Trainer` runs iterations fast (:meth:`Trainer.run`) or walks one
iteration phase by phase in the lecture's order (:meth:`Trainer.phases`,
:meth:`Trainer.step_phase`), and can step back through the last iterations
bit for bit (:meth:`Trainer.step_back`). It knows nothing about threads.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from .history import CHUNK, EXACT, MAX_BUCKETS, CompactSeries, Envelope
from .network import Network, UpdateRule, Workspace, run_ops, train_step
from .per_sample import per_sample
from .state import STAGES, Phase, Snapshot, frozen_copy, frozen_tuple

FloatArray = np.ndarray

__all__ = [
    "DivergenceError",
    "LossHistory",
    "ResumeState",
    "Trainer",
    "epoch_batch_sizes",
    "phase_plan",
]

#: Memory the step-back history may use at most (it keeps at least 2 iterations).
HISTORY_BYTES = 256 * 2**20
HISTORY_DEPTH = 128


class DivergenceError(ArithmeticError):
    """Err or θ became inf/NaN; the trainer has restored the last finite state."""


def phase_plan(n_layers: int) -> tuple[Phase, ...]:
    """The phases of one iteration for a network with ``n_layers`` neuron layers.

    Forward layer by layer, Err, output δ, hidden δ right to left, gradients,
    update: the order of the lecture notes' algorithm (section 6).
    """
    last = n_layers - 1
    steps: list[tuple[str, int | None, str, str]] = []
    for l in range(1, last + 1):
        steps.append(("forward", l, STAGES[0], f"Forward: u and o of layer {l}"))
    steps.append(("error", None, STAGES[0], "Err = Σ(y−ŷ)² for the batch"))
    steps.append(("output_delta", last, STAGES[1], f"Output δ_k (layer {last})"))
    for l in range(last - 1, 0, -1):
        steps.append(("hidden_delta", l, STAGES[1], f"Hidden δ_i of layer {l}"))
    steps.append(("gradients", None, STAGES[1], "Gradients ∂Err/∂θ_iℓ = δ_i·o_ℓ"))
    steps.append(("update", None, STAGES[2], "Update θ_iℓ ← θ_iℓ − η·δ_i·o_ℓ"))
    count = len(steps)
    return tuple(
        Phase(index=i, count=count, kind=k, layer=l, stage=s, title=t)
        for i, (k, l, s, t) in enumerate(steps)
    )


def epoch_batch_sizes(iterations: np.ndarray, batch_size: int, n_train: int) -> np.ndarray:
    """N of each iteration (1-based) of a run that kept one batch size from its start.

    Each epoch's batches are consecutive slices of ``min(batch_size, n_train)``
    samples; its last batch holds what is left, so it may be smaller (100
    samples in batches of 32: 32, 32, 32, 4). Used for the history of files
    written before bpviz recorded every batch's N.
    """
    bs = max(1, min(int(batch_size), int(n_train)))
    per_epoch = -(-int(n_train) // bs)
    j = (np.asarray(iterations, dtype=np.int64) - 1) % per_epoch
    return np.minimum(bs, int(n_train) - j * bs)


class LossHistory:
    """Every iteration's batch Err, and the full training/test Err when evaluated.

    Memory stays bounded (:mod:`bpviz.engine.history`): the newest
    :data:`~bpviz.engine.history.EXACT` values of each series are kept
    exactly, older ones as per-bucket min/max envelopes. ``batch_err[m]`` is
    the Err of iteration ``batch_from + m + 1`` (before its update), a sum
    over its batch of ``batch_sizes[m]`` samples (the last batch of an epoch
    may be smaller); ``batch_per_sample[m]`` is that Err per sample (see
    :mod:`bpviz.engine.per_sample`). The iterations before were folded into
    :attr:`batch_envelope` (columns: Err, N, Err per sample, each bucket's
    min and max of each). Likewise the evaluations: the exact ones in
    ``eval_iteration``, ``train_err`` and ``test_err`` (sums over the
    ``n_train`` and ``n_test`` samples of the whole sets), the older ones in
    :attr:`eval_envelope` (columns: training, test). A short run has no
    envelope and ``batch_from == 0``.

    Parameters
    ----------
    n_train, n_test : int
        Samples in the training and the test set (N of their Err).
    mean : bool
        The loss is a mean over the samples already (per sample = Err).
    """

    #: Memory the history takes at most (bytes): both series at their bounds.
    MAX_BYTES = (EXACT + CHUNK) * (32 + 24) + 2 * MAX_BUCKETS * (24 + 48 + 24 + 32)

    def __init__(self, n_train: int = 0, n_test: int = 0, mean: bool = False) -> None:
        self._batch = CompactSeries(3)
        self._eval = CompactSeries(2)
        self.n_train = int(n_train)
        self.n_test = int(n_test)
        self.mean = bool(mean)

    def __len__(self) -> int:
        """Iterations recorded (exact and in the envelope)."""
        return len(self._batch)

    @property
    def batch_from(self) -> int:
        """Iterations folded into the envelope (before ``batch_err``)."""
        return self._batch.n_compacted

    @property
    def batch_err(self) -> FloatArray:
        """Exact batch Err of iterations ``batch_from + 1`` on (a view; copy it to keep it)."""
        return self._batch.y(0)

    @property
    def batch_sizes(self) -> FloatArray:
        """N of each exact batch Err: the samples its batch held (a view, float)."""
        return self._batch.y(1)

    @property
    def batch_per_sample(self) -> FloatArray:
        """Each exact batch Err per sample, Err/N (Err when the loss is a mean; a view)."""
        return self._batch.y(2)

    @property
    def batch_envelope(self) -> Envelope:
        """Older batch Err as buckets (x: iterations; columns: Err, N, Err per sample)."""
        return self._batch.envelope()

    @property
    def eval_from(self) -> int:
        """Evaluations folded into the envelope."""
        return self._eval.n_compacted

    @property
    def eval_iteration(self) -> FloatArray:
        """The iteration count at each exact evaluation."""
        return self._eval.x

    @property
    def train_err(self) -> FloatArray:
        """Err over the whole training set at each exact evaluation."""
        return self._eval.y(0)

    @property
    def test_err(self) -> FloatArray:
        """Err over the whole test set at each exact evaluation (NaN without a test set)."""
        return self._eval.y(1)

    @property
    def eval_envelope(self) -> Envelope:
        """Older evaluations as buckets (columns: training Err, test Err)."""
        return self._eval.envelope()

    @property
    def n_eval(self) -> int:
        """Number of evaluations (exact and in the envelope)."""
        return len(self._eval)

    @property
    def at_bound(self) -> bool:
        """True once both series have merged buckets: the memory held grows no more."""
        return self._batch.at_bound and self._eval.at_bound

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self._batch.nbytes + self._eval.nbytes

    def append_batch(self, err: float, n: int) -> None:
        """Record the next iteration's batch Err, a sum over its ``n`` samples."""
        b = self._batch
        b.append3(b.n_compacted + b.n_exact + 1, err, n, err if self.mean else err / n)

    def append_eval(self, iteration: int, train: float, test: float) -> None:
        """Record an evaluation of the full sets."""
        self._eval.append(iteration, train, test)

    def truncate(self, n_batch: int, n_eval: int) -> None:
        """Forget everything after ``n_batch`` iterations and ``n_eval`` evaluations."""
        self._batch.truncate(n_batch)
        self._eval.truncate(n_eval)

    @classmethod
    def from_arrays(
        cls,
        batch_err: FloatArray,
        eval_iteration: FloatArray,
        train_err: FloatArray,
        test_err: FloatArray,
        batch_envelope: Envelope | None = None,
        eval_envelope: Envelope | None = None,
        *,
        batch_sizes: FloatArray,
        n_train: int,
        n_test: int,
        mean: bool = False,
    ) -> LossHistory:
        """A history holding these values (envelopes first, as :class:`LossHistory` keeps them).

        ``batch_sizes``: N of each value of ``batch_err``; ``batch_envelope``
        has the three columns of :attr:`batch_envelope`.
        """
        h = cls(n_train, n_test, mean)
        if batch_envelope is not None:
            h._batch.extend_envelope(batch_envelope)
        if eval_envelope is not None:
            h._eval.extend_envelope(eval_envelope)
        start = h._batch.n_compacted
        batch_err = np.asarray(batch_err, dtype=np.float64)
        sizes = np.asarray(batch_sizes, dtype=np.float64)
        if sizes.shape != batch_err.shape:
            raise ValueError(f"expected {batch_err.size} batch sizes, got {sizes.size}")
        h._batch.extend(
            start + 1 + np.arange(batch_err.shape[0]),
            np.column_stack([batch_err, sizes, per_sample(batch_err, sizes, mean)]),
        )
        h._eval.extend(
            np.asarray(eval_iteration, dtype=np.int64),
            np.column_stack([np.asarray(train_err, float), np.asarray(test_err, float)]),
        )
        return h

    def batch_since(self, n: int) -> tuple[Envelope, FloatArray, FloatArray, FloatArray]:
        """Batch Err after the first ``n`` iterations: buckets (if folded), then exact values.

        The buckets are those holding any iteration after ``n`` (the first
        may begin before it); the exact values (Err, N, Err per sample) start
        at iteration ``max(n, batch_from) + 1``.
        """
        b = self._batch
        k = max(0, n - b.n_compacted)
        return b.envelope_from(n), b.y(0)[k:], b.y(1)[k:], b.y(2)[k:]

    def eval_since(self, n: int) -> tuple[Envelope, FloatArray, FloatArray, FloatArray]:
        """Evaluations after the first ``n``: buckets, then exact iterations, training, test Err."""
        e = self._eval
        k = max(0, n - e.n_compacted)
        return e.envelope_from(n), e.x[k:], e.y(0)[k:], e.y(1)[k:]


class ResumeState(NamedTuple):
    """Where a run stands beyond θ and its counters (:meth:`Trainer.resume_state`).

    ``position`` is the next sample's index in this epoch's shuffled ``order``
    of the training samples; ``rng`` the shuffling generator's state after that
    shuffle (NumPy's ``bit_generator.state``); ``velocity`` momentum's v
    (kept while μ is switched off), or None when the run never had momentum.
    """

    position: int
    order: np.ndarray
    rng: dict
    velocity: np.ndarray | None = None


class _Mark(NamedTuple):
    """What, besides θ, restores the trainer to the start of an iteration."""

    iteration: int
    epoch: int
    pos: int
    order: FloatArray
    rng_state: dict
    n_batch: int
    n_eval: int
    walked: bool  # the iteration that followed was walked phase by phase


class Trainer:
    """Trains a :class:`Network` on a dataset with an :class:`UpdateRule`.

    Parameters
    ----------
    net : Network
    X_train, Y_train : arrays
        Training inputs (n, n_0) and targets (n, n_out).
    X_test, Y_test : arrays, optional
        Test set (may have 0 rows).
    rule : UpdateRule
        η, momentum, regularisation and clipping.
    batch_size : int or None
        1 for one-sample SGD, n for full batch (None means full batch).
    seed : int
        Seeds the shuffling of each epoch.
    """

    def __init__(
        self,
        net: Network,
        X_train: FloatArray,
        Y_train: FloatArray,
        X_test: FloatArray | None = None,
        Y_test: FloatArray | None = None,
        rule: UpdateRule | None = None,
        batch_size: int | None = None,
        seed: int = 0,
    ) -> None:
        self.net = net
        self.rule = rule or UpdateRule()
        self.seed = int(seed)
        dt = net.dtype
        X_train = np.asarray(X_train, dtype=dt)
        Y_train = np.asarray(Y_train, dtype=dt)
        if X_test is None or Y_test is None:
            X_test = np.empty((0, net.sizes[0]), dtype=dt)
            Y_test = np.empty((0, net.sizes[-1]), dtype=dt)
        X_test = np.asarray(X_test, dtype=dt)
        Y_test = np.asarray(Y_test, dtype=dt)
        for name, X, Y in (("training", X_train, Y_train), ("test", X_test, Y_test)):
            if X.ndim != 2 or X.shape[1] != net.sizes[0]:
                raise ValueError(
                    f"the network has {net.sizes[0]} inputs but the {name} data has shape {X.shape}"
                )
            if Y.ndim != 2 or Y.shape != (X.shape[0], net.sizes[-1]):
                raise ValueError(
                    f"the network has {net.sizes[-1]} outputs but the {name} targets "
                    f"have shape {Y.shape}"
                )
        if X_train.shape[0] < 1:
            raise ValueError("the training set is empty")
        self.X_train, self.Y_train = X_train, Y_train
        self._n_train = int(X_train.shape[0])
        self.X_test, self.Y_test = X_test, Y_test
        b = net.b
        self._X_ext = np.empty((X_train.shape[0], X_train.shape[1] + b), dtype=dt)
        if b:
            self._X_ext[:, 0] = 1.0
        self._X_ext[:, b:] = X_train
        self._eval_ws: dict[str, Workspace] = {}
        self.history = self.new_history()
        self._snap_batch = 0
        self._snap_eval = 0
        self._initial_params = net.params.copy()
        self.set_batch_size(batch_size)
        self._reset_state()

    # -- configuration --------------------------------------------------------

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return self._n_train

    @property
    def n_test(self) -> int:
        """Number of test samples (0 without a test set)."""
        return int(self.X_test.shape[0])

    def new_history(self) -> LossHistory:
        """An empty loss history for this trainer's data and loss (N of each Err)."""
        return LossHistory(self.n_train, self.n_test, self.net.loss.mean)

    def set_batch_size(self, batch_size: int | None) -> None:
        """1 = one-sample SGD, n_train (or None) = full batch; takes effect at once."""
        n = self.n_train
        bs = n if batch_size is None else int(batch_size)
        if bs < 1:
            raise ValueError(f"the batch size must be at least 1, got {bs}")
        self.batch_size = min(bs, n)
        self._batches_per_epoch = -(-n // self.batch_size)
        # Evaluate the full sets every iteration while that costs no more than
        # about two steps; otherwise once an epoch.
        n_all = n + self.X_test.shape[0]
        self.eval_every = 1 if n_all <= 2 * self.batch_size else self._batches_per_epoch
        self._ws: dict[int, Workspace] = {}
        if hasattr(self, "_order"):
            self._gather()

    def set_rule(self, rule: UpdateRule) -> None:
        """Change η, momentum, regularisation or clipping from the next update on."""
        self.rule = rule
        if rule.momentum and self._velocity is None:
            self._velocity = np.zeros_like(self.net.params)

    def set_lr(self, lr: float) -> None:
        """Change η only."""
        self.set_rule(replace(self.rule, lr=float(lr)))

    @property
    def start_params(self) -> FloatArray:
        """The θ (flat, as ``net.params``) that :meth:`reset` returns to (a copy)."""
        return self._initial_params.copy()

    def set_start(self) -> None:
        """Make the current θ the start: iteration 0, no history; :meth:`reset` returns here.

        A half-walked iteration is dropped (θ changes only at a walk's update).
        """
        self._initial_params = self.net.params.copy()
        self.reset()

    def set_weight(self, k: int, i: int, src: int, value: float) -> None:
        """Set one θ by hand: θ_i,src of weight layer ``k`` (``src = −1``: the bias θ_i0).

        Afterwards the Err over the full sets is evaluated again for the θ now
        in force (replacing an evaluation at this iteration), and the last
        iteration's u, o, δ are no longer offered as current. A half-walked
        iteration starts again from its first phase.

        Raises
        ------
        IndexError, ValueError
            For a θ the network does not have or a value that is not finite;
            nothing changes then.
        """
        net = self.net
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"θ must be a finite number, got {value}")
        if not 0 <= k < len(net.weights):
            raise IndexError(f"there is no weight layer {k}")
        n_out, n_in = net.weights[k].shape
        if not 0 <= i < n_out or not -1 <= src < n_in:
            raise IndexError(f"there is no θ ({k}, {i}, {src})")
        if src < 0 and not net.bias:
            raise ValueError("this network has no biases")
        if self._walk is not None and self._marks:
            self._restore(self._marks.pop())  # θ is unchanged until a walk's update
        if src < 0:
            net.biases[k][i] = value
        else:
            net.weights[k][i, src] = value
        self._theta_changed()

    def _theta_changed(self) -> None:
        """θ changed outside training: evaluate again, forget the last iteration's values."""
        self._last_ws = None
        self._last_phase = None
        self._walk_old = None
        h = self.history
        exact = h.eval_iteration
        if exact.size and int(exact[-1]) == self.iteration:
            h.truncate(len(h), h.n_eval - 1)
            self._snap_eval = min(self._snap_eval, h.n_eval)
        self._evaluate_if_due(force=True)

    def reset(self) -> None:
        """Back to the start θ (as the trainer was made, or :meth:`set_start`), iteration 0."""
        np.copyto(self.net.params, self._initial_params)
        self.history = self.new_history()
        self._snap_batch = 0
        self._snap_eval = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self.iteration = 0
        self.epoch = 0
        self._rng = np.random.default_rng(self.seed)
        self._velocity = np.zeros_like(self.net.params) if self.rule.momentum else None
        self._pos = 0
        self._new_epoch_order()
        n_params = self.net.params.size * self.net.params.itemsize
        depth = max(2, min(HISTORY_DEPTH, HISTORY_BYTES // max(1, 2 * n_params)))
        self._ring = np.empty((depth, self.net.params.size), dtype=self.net.dtype)
        self._vring: FloatArray | None = None
        self._marks: deque[_Mark] = deque(maxlen=depth)
        self._last_ws: Workspace | None = None
        self._walk: Iterator[Phase] | None = None
        self._walk_ws: Workspace | None = None
        self._walk_phase: Phase | None = None
        self._walk_old: tuple[FloatArray, ...] | None = None
        self._last_phase: Phase | None = None
        self._evaluate_if_due(force=True)

    def _new_epoch_order(self) -> None:
        """Shuffle for a new epoch: the batches are then contiguous slices."""
        self._order = self._rng.permutation(self.n_train)
        self._order_rng_state = self._rng.bit_generator.state
        self._gather()

    def _gather(self) -> None:
        if self.batch_size >= self.n_train and self._pos in (0, self.n_train):
            # Full batch from an epoch's start: the order does not change a sum.
            self._Xs, self._Ys = self._X_ext, self.Y_train
        else:
            self._Xs = self._X_ext[self._order]
            self._Ys = self.Y_train[self._order]

    def _next_batch(self) -> Workspace:
        """Copy the next batch into a workspace (reshuffling at each epoch).

        Batches are consecutive rows of this epoch's shuffled copy of the data,
        which already holds the constant o_0 = 1: one block copy per array.
        """
        a, n = self._pos, self._n_train
        if a >= n:
            a = self._pos = 0
            self._new_epoch_order()
        bs = min(self.batch_size, n - a)
        ws = self._ws.get(bs)
        if ws is None:
            ws = self._ws[bs] = self.net.workspace(bs)
        e = a + bs
        # Copied (a small block), not re-pointed: the workspace's calls are bound to it.
        np.copyto(ws.o_ext[0], self._Xs[a:e])
        np.copyto(ws.y, self._Ys[a:e])
        self._pos = e
        return ws

    def _fresh_batch_ws(self) -> Workspace:
        """A new workspace holding the next batch (for the phase walk)."""
        cached = self._next_batch()
        ws = self.net.workspace(cached.batch)
        np.copyto(ws.o_ext[0], cached.o_ext[0])
        np.copyto(ws.y, cached.y)
        return ws

    # -- continuing a saved run exactly ----------------------------------------

    def resume_state(self) -> ResumeState:
        """What continuing this run exactly needs, besides θ, the counters and the history.

        Mid-walk it is the state at the start of the half-walked iteration (θ
        and the counters are too: the walk changes them only in its last phase).
        """
        if self._walk is not None and self._marks:
            m = self._marks[-1]
            pos, order, rng = m.pos, m.order, m.rng_state
        else:
            pos, order, rng = self._pos, self._order, self._order_rng_state
        velocity = None if self._velocity is None else self._velocity.copy()
        return ResumeState(int(pos), np.array(order), copy.deepcopy(rng), velocity)

    def set_resume_state(self, state: ResumeState) -> None:
        """Continue as the run that gave ``state`` (from :meth:`resume_state`) would.

        Raises
        ------
        ValueError
            If ``state`` does not fit this trainer (another training set size
            or number of θ, or not a shuffling generator's state); the message
            names the part. Nothing changes then.
        """
        n = self.n_train
        order = np.asarray(state.order)
        if (
            order.shape != (n,)
            or order.dtype.kind not in "iu"
            or not np.array_equal(np.sort(order), np.arange(n))
        ):
            raise ValueError(f"order: expected an order of the {n} training samples (0 to {n - 1})")
        if not 0 <= state.position <= n:
            raise ValueError(f"position: expected 0 to {n}, got {state.position}")
        rng = np.random.default_rng()
        try:
            rng.bit_generator.state = state.rng
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"rng: not a state of NumPy's default generator ({exc})") from None
        velocity = state.velocity
        if velocity is not None:
            velocity = np.asarray(velocity, dtype=self.net.dtype)
            if velocity.shape != self.net.params.shape:
                raise ValueError(
                    f"velocity: expected {self.net.params.size} numbers, got {velocity.size}"
                )
        self._rng = rng
        self._order = order.astype(np.intp)
        self._order_rng_state = rng.bit_generator.state
        self._pos = int(state.position)
        self._gather()
        if velocity is not None:
            # Kept even while μ = 0 (set_rule keeps v too): momentum may come back.
            self._velocity = velocity.copy()
        elif self._velocity is not None:
            self._velocity.fill(0.0)

    # -- history for step back ---------------------------------------------

    def _mark(self, walked: bool) -> None:
        """Remember the start of the coming iteration."""
        depth = self._ring.shape[0]
        row = self.iteration % depth
        np.copyto(self._ring[row], self.net.params)
        if self._velocity is not None:
            if self._vring is None:
                self._vring = np.zeros_like(self._ring)
            np.copyto(self._vring[row], self._velocity)
        self._marks.append(
            _Mark(
                self.iteration,
                self.epoch,
                self._pos,
                self._order,
                self._order_rng_state,
                len(self.history),
                self.history.n_eval,
                walked,
            )
        )

    def _restore(self, mark: _Mark) -> None:
        row = mark.iteration % self._ring.shape[0]
        np.copyto(self.net.params, self._ring[row])
        if self._velocity is not None:
            if self._vring is not None:
                np.copyto(self._velocity, self._vring[row])
            else:
                self._velocity.fill(0.0)
        self.iteration, self.epoch, self._pos = mark.iteration, mark.epoch, mark.pos
        self._order = mark.order
        self._order_rng_state = mark.rng_state
        self._rng.bit_generator.state = mark.rng_state
        self._gather()
        self.history.truncate(mark.n_batch, mark.n_eval)
        self._snap_batch = min(self._snap_batch, mark.n_batch)
        self._snap_eval = min(self._snap_eval, mark.n_eval)
        self._last_ws = None
        self._walk = None
        self._walk_ws = None
        self._walk_phase = None
        self._last_phase = None

    @property
    def can_step_back(self) -> bool:
        """True when there is a phase or an iteration to undo."""
        return self._walk_phase is not None or bool(self._marks)

    # -- iterations ---------------------------------------------------------

    def _finish_iteration(self, ws: Workspace, err: float) -> None:
        """Check for divergence, then advance the counters and the history."""
        params = self.net.params
        if not (math.isfinite(err) and math.isfinite(params.dot(params))):
            mark = self._marks.pop()
            self._restore(mark)
            what = "Err" if not math.isfinite(err) else "a weight θ"
            raise DivergenceError(
                f"{what} became {'NaN' if math.isnan(err) else 'infinite'} at iteration "
                f"{mark.iteration + 1} (η = {self.rule.lr:g}): training diverged. "
                f"The weights of iteration {mark.iteration} have been kept; lower η, "
                "clip the gradients or choose a smaller initialisation."
            )
        self.iteration += 1
        if self._pos >= self._n_train:
            self.epoch += 1
        self.history.append_batch(err, ws.batch)
        self._last_ws = ws
        self._evaluate_if_due()

    def step(self) -> float:
        """One fast iteration on the next batch; finishes a half-walked one first.

        Returns
        -------
        float
            The batch Err before the update.

        Raises
        ------
        DivergenceError
            Err or θ became inf/NaN; the last finite state is kept.
        """
        return self.run(1)

    def run(self, n: int) -> float:
        """Run ``n`` fast iterations; returns the last batch Err.

        Overflow inside NumPy raises no warning here: divergence shows up as
        an inf/NaN Err and becomes a :class:`DivergenceError`.
        """
        err = float("nan")
        with np.errstate(all="ignore"):
            if self._walk is not None and n > 0:
                err = self.finish_walk()
                n -= 1
            net, rule, mark, next_batch, finish = (
                self.net,
                self.rule,
                self._mark,
                self._next_batch,
                self._finish_iteration,
            )
            for _ in range(int(n)):
                mark(False)
                ws = next_batch()
                err = train_step(net, ws, rule, self._velocity)
                self._last_phase = None
                finish(ws, err)
        return err

    def phases(self) -> Iterator[Phase]:
        """Walk the next iteration phase by phase, in the lecture's order.

        A plain generator: each ``next()`` computes one phase and yields its
        :class:`Phase`; after the last (the update) the iteration is complete
        and the counters have advanced. It uses the same per-layer functions
        as :func:`~bpviz.engine.network.train_step`, so walking all phases gives
        bit-identical θ to :meth:`step`.
        """
        net = self.net
        self._mark(walked=True)
        ws = self._fresh_batch_ws()
        self._walk_ws = ws
        plan = phase_plan(net.n_layers)
        err = float("nan")
        for phase in plan:
            with np.errstate(all="ignore"):
                err = self._compute_phase(phase, ws, err)
            if phase.kind == "update":
                self._walk = None
                self._walk_phase = None
                self._last_phase = phase
                with np.errstate(all="ignore"):
                    self._finish_iteration(ws, err)
                yield phase
                return
            self._walk_phase = phase
            self._last_phase = phase
            yield phase

    def _compute_phase(self, phase: Phase, ws: Workspace, err: float) -> float:
        """Compute one phase into ``ws``; returns Err (computed in the error phase).

        Runs the workspace's calls of that phase: the calls ``train_step`` runs
        back to back.
        """
        net = self.net
        if phase.kind == "error":
            err = net.error_into(ws)
        elif phase.kind == "update":
            self._walk_old = tuple(t.copy() for t in net.theta)
            net.update(ws, self.rule, self._velocity)
        else:
            run_ops(ws.ops[phase.kind, phase.layer])
        return err

    def step_phase(self) -> Phase:
        """Advance the walk by one phase (starting a new iteration if none is open)."""
        if self._walk is None:
            self._walk = self.phases()
        return next(self._walk)

    def finish_walk(self) -> float:
        """Run the remaining phases of a half-walked iteration; returns its Err."""
        while self._walk is not None:
            self.step_phase()
        return float(self.history.batch_err[-1])  # the newest is always exact

    @property
    def walk_phase(self) -> Phase | None:
        """The last phase computed of a half-walked iteration, or None."""
        return self._walk_phase

    def step_back(self) -> bool:
        """Undo the last phase (mid-walk) or the last iteration, bit for bit.

        After a walked iteration, stepping back lands on its last phase before
        the update. Returns False when there is nothing left to undo.
        """
        if self._walk_phase is not None:
            target = self._walk_phase.index  # phases to replay: 0 .. index − 1
            mark = self._marks.pop()
        elif self._marks:
            mark = self._marks.pop()
            target = phase_plan(self.net.n_layers)[-1].index if mark.walked else 0
        else:
            return False
        self._restore(mark)
        for _ in range(target):
            self.step_phase()
        return True

    # -- evaluation -----------------------------------------------------------

    def _err_on(self, key: str, X: FloatArray, Y: FloatArray) -> float:
        if X.shape[0] == 0:
            return float("nan")
        ws = self._eval_ws.get(key)
        net = self.net
        if ws is None or ws.batch != X.shape[0] or ws.o_ext[0].dtype != net.dtype:
            ws = self._eval_ws[key] = net.workspace(X.shape[0], forward_only=True)
            np.copyto(ws.o[0], X)
            np.copyto(ws.y, Y)
        net.forward_into(ws)
        return net.error_into(ws)

    def evaluate(self) -> tuple[float, float]:
        """Err over the whole training set and the whole test set (NaN if empty)."""
        with np.errstate(all="ignore"):
            return (
                self._err_on("train", self.X_train, self.Y_train),
                self._err_on("test", self.X_test, self.Y_test),
            )

    def _evaluate_if_due(self, force: bool = False) -> None:
        if force or self.iteration % self.eval_every == 0:
            train, test = self.evaluate()
            self.history.append_eval(self.iteration, train, test)

    # -- state for other threads --------------------------------------------------

    def _repr_svg_(self) -> str:
        """The network picture in a notebook (IPython rich display): θ, δ, iteration."""
        from bpviz.worked.figure import display_svg

        return display_svg(self)

    def snapshot(self, *, advance: bool = True) -> Snapshot:
        """An immutable copy of the current state, with the losses since the last one.

        Each call moves the loss cursor: the history reaches the receiver in
        batches, every value exactly once. ``advance=False`` leaves the
        cursor where it was (a look that takes nothing from the stream, e.g.
        a notebook's picture).
        """
        net = self.net
        h = self.history
        batch_env, batch_new, batch_sizes, _ = h.batch_since(self._snap_batch)
        eval_env, eval_it, train, test = h.eval_since(self._snap_eval)
        # Values folded into the envelope before any snapshot took them travel
        # as buckets; the exact values follow.
        losses_from = max(self._snap_batch, h.batch_from)
        eval_from = max(self._snap_eval, h.eval_from)
        new_losses = frozen_copy(batch_new)
        new_sizes = frozen_copy(batch_sizes)
        new_eval_it = frozen_copy(eval_it)
        new_train = frozen_copy(train)
        new_test = frozen_copy(test)
        if advance:
            self._snap_batch, self._snap_eval = len(h), h.n_eval
        phase = self._walk_phase or self._last_phase
        ws = self._walk_ws if phase is not None else self._last_ws
        u = o = delta = dsigma = gw = gb = None
        x = y = None
        err = None
        old_w = old_b = None
        if ws is not None:
            done = phase.index if phase is not None else 10**9
            plan = phase_plan(net.n_layers) if phase is not None else None
            last = net.n_layers - 1
            n_fwd = last  # forward phases are indices 0 .. last − 1
            x, y = frozen_copy(ws.o[0]), frozen_copy(ws.y)
            # Forward phase l − 1 computes layer l.
            computed = [True] + [l - 1 <= done for l in range(1, net.n_layers)]
            u = tuple(
                frozen_copy(ws.u[l]) if l and computed[l] else None for l in range(net.n_layers)
            )
            o = tuple(frozen_copy(ws.o[l]) if computed[l] else None for l in range(net.n_layers))
            if done >= n_fwd:
                err = float(ws.err)
            dl: list[FloatArray | None] = [None] * net.n_layers
            ds: list[FloatArray | None] = [None] * net.n_layers
            for l in range(1, net.n_layers):
                if plan is None or done >= plan[-2 - l].index:
                    dl[l] = frozen_copy(ws.delta[l])
                    ds[l] = frozen_copy(ws.dsigma[l])
            delta, dsigma = tuple(dl), tuple(ds)
            grads_done = plan is None or done >= plan[-2].index
            if grads_done:
                b = net.b
                gw = tuple(frozen_copy(g[:, b:]) for g in ws.grad_theta)
                gb = tuple(
                    frozen_copy(g[:, 0]) if b else frozen_copy(np.zeros(g.shape[0], net.dtype))
                    for g in ws.grad_theta
                )
            if phase is not None and phase.kind == "update" and self._walk_old is not None:
                old_w = tuple(frozen_copy(t[:, net.b :]) for t in self._walk_old)
                old_b = tuple(
                    frozen_copy(t[:, 0]) if net.b else frozen_copy(np.zeros(t.shape[0], net.dtype))
                    for t in self._walk_old
                )
        return Snapshot(
            iteration=self.iteration,
            epoch=self.epoch,
            phase=phase,
            weights=frozen_tuple(net.weights),
            biases=frozen_tuple(net.biases),
            old_weights=old_w,
            old_biases=old_b,
            x=x,
            y=y,
            u=u if u is not None else (None,) * net.n_layers,
            o=o if o is not None else (None,) * net.n_layers,
            delta=delta if delta is not None else (None,) * net.n_layers,
            dsigma=dsigma if dsigma is not None else (None,) * net.n_layers,
            grad_weights=gw,
            grad_biases=gb,
            err=err,
            lr=float(self.rule.lr),
            losses_from=losses_from,
            new_losses=new_losses,
            new_batch_sizes=new_sizes,
            eval_from=eval_from,
            new_eval_iterations=new_eval_it,
            new_train_err=new_train,
            new_test_err=new_test,
            n_train=h.n_train,
            n_test=h.n_test,
            loss_mean=h.mean,
            new_batch_envelope=_frozen_envelope(batch_env),
            new_eval_envelope=_frozen_envelope(eval_env),
        )


def _frozen_envelope(env: Envelope) -> Envelope | None:
    """None when empty, else read-only copies."""
    if not len(env):
        return None
    return Envelope(*(frozen_copy(a) for a in env))
