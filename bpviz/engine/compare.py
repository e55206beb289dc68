"""Comparing runs: what differs between two setups, said in the notes' words.

Section 9 of the notes compares runs that differ in one setting (σ = sigmoid
against σ = ReLU, a large initialisation against Xavier, with and without
clipping). A kept run is labelled by what differs from the run it is drawn
beside, not by a number: :func:`difference_label` for a kept run against the
live one, :func:`run_labels` for several runs side by side (the CLI).
:class:`KeptRun` is the frozen record of a run kept for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .experiment import Setup
from .losses import get_loss
from .per_sample import per_sample

__all__ = [
    "MAX_KEPT",
    "KeptRun",
    "describe",
    "difference_label",
    "differing_fields",
    "replay_options",
    "run_labels",
]

#: Kept runs drawn at most (more would hide the live run).
MAX_KEPT = 4

_ACTIVATION_NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear"}


def _num(v: float) -> str:
    return f"{v:g}"


def _field_text(name: str, setup: Setup) -> str:
    """One setting of ``setup`` as a lecturer would say it."""
    v = getattr(setup, name)
    if name == "activation":
        return f"σ = {_ACTIVATION_NAMES.get(v, v)}"
    if name == "output_activation":
        return f"output σ = {_ACTIVATION_NAMES.get(v, v)}"
    if name == "lr":
        return f"η = {_num(v)}"
    if name == "init":
        return f"init: {v}"
    if name == "hidden":
        return "layers: " + ("-".join(str(n) for n in v) if v else "none")
    if name == "clip_value":
        return "no clipping of θ′" if v is None else f"clip |g| ≤ {_num(v)}"
    if name == "clip_norm":
        return "no clipping" if v is None else f"clip ‖g‖ ≤ {_num(v)}"
    if name == "momentum":
        return f"momentum {_num(v)}"
    if name in ("l1", "l2"):
        return f"{name.upper()} = {_num(v)}"
    if name == "batch_size":
        return f"batch {v}"
    if name == "bias":
        return "with bias" if v else "no bias"
    if name == "params":
        return "own start θ" if v is not None else "start θ from seed"
    if name == "csv_path":
        return f"data: {v}"
    if name == "n_samples":
        return f"{v} samples"
    if name == "test_fraction":
        return f"test {_num(v)}"
    if name in ("seed", "data_seed"):
        return f"{name.replace('_', ' ')} {v}"
    return f"{name.replace('_', ' ')}: {v}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)  # NaN equals NaN here
    return a == b


def differing_fields(setups: list[Setup]) -> list[str]:
    """The settings (Setup field names, in declaration order) not equal across ``setups``."""
    if not setups:
        return []
    first = setups[0]
    names = [
        f.name
        for f in fields(Setup)
        if any(not _same(getattr(first, f.name), getattr(s, f.name)) for s in setups[1:])
    ]
    if all(s.params is not None for s in setups):
        # Every run starts from given θ: no initialiser drew them, so it differs in name only.
        names = [n for n in names if n != "init"]
    return names


def describe(setup: Setup, names: list[str]) -> str:
    """``setup``'s values of the settings ``names``, e.g. "σ = sigmoid, η = 0.3"."""
    return ", ".join(_field_text(n, setup) for n in names)


def difference_label(kept: Setup, live: Setup) -> str:
    """What the kept run had that the live one has not, e.g. "σ = sigmoid".

    "same setup" when nothing differs (a replay, or kept and not yet changed).
    """
    names = differing_fields([kept, live])
    return describe(kept, names) if names else "same setup"


def run_labels(setups: list[Setup]) -> list[str]:
    """One label per run saying what sets it apart from the others; "run n" if identical."""
    names = differing_fields(setups)
    if not names:
        return [f"run {i + 1}" for i in range(len(setups))]
    labels = [describe(s, names) for s in setups]
    if len(set(labels)) < len(labels):  # e.g. only the file paths differ
        labels = [f"{lab} (run {i + 1})" for i, lab in enumerate(labels)]
    return labels


def replay_options(setup: Setup) -> list[tuple[str, dict[str, Any]]]:
    """The one-setting changes worth a replay for this setup: (menu text, changes).

    A saturating σ offers ReLU (vanishing gradients); a large initialisation
    offers clipping and Xavier (exploding gradients). "Same setup" is always
    there: it reproduces the run, which shows the comparison is fair.
    """
    out: list[tuple[str, dict[str, Any]]] = []
    if setup.activation in ("sigmoid", "tanh"):
        out.append(("Compare with &ReLU", {"activation": "relu"}))
    if setup.init == "large":
        if setup.clip_norm is None and setup.clip_value is None:
            out.append(("Compare with &clipping (‖g‖ ≤ 1)", {"clip_norm": 1.0}))
        out.append(("Compare with &Xavier init", {"init": "xavier"}))
    out.append(("Replay the &same setup", {}))
    return out


@dataclass(frozen=True, eq=False)
class KeptRun:
    """A run frozen for comparison: its setup and the curves the window had drawn.

    ``loss_x``/``loss_y``: iterations and Err, the engine's sums (training Err
    on the full set when it was evaluated, else the batch Err: ``loss_kind``
    says which); ``loss_n``: N of each, the samples it is a sum over (NaN:
    not known, e.g. a kept run of an old file trained on another CSV file).
    The ghost is drawn per sample (:meth:`loss_per_sample`), as the live
    curves are. ``delta_x`` (n,) and ``delta`` (n_layers, n): ‖δ_l‖ per
    neuron layer. ``diverged_at``: the iteration whose Err or θ became inf or
    NaN, which ended the run (the trainer kept the θ of the one before); None
    for a run that did not diverge.
    """

    setup: Setup
    loss_x: np.ndarray
    loss_y: np.ndarray
    delta_x: np.ndarray
    delta: np.ndarray
    loss_kind: str = "training Err"
    loss_n: np.ndarray | None = None
    diverged_at: int | None = None

    def __post_init__(self) -> None:
        if self.diverged_at is not None:
            at = self.diverged_at
            if isinstance(at, bool) or not float(at).is_integer() or at < 1:
                raise ValueError("a kept run diverges at an iteration ≥ 1")
            object.__setattr__(self, "diverged_at", int(at))
        if self.loss_n is None:
            object.__setattr__(self, "loss_n", np.full(np.shape(self.loss_x), np.nan))
        for name in ("loss_x", "loss_y", "loss_n", "delta_x", "delta"):
            a = np.array(getattr(self, name), dtype=np.float64)
            a.setflags(write=False)
            object.__setattr__(self, name, a)
        if self.loss_x.shape != self.loss_y.shape or self.loss_x.ndim != 1:
            raise ValueError("a kept run's loss needs as many iterations as Err values")
        if self.loss_n.shape != self.loss_x.shape:
            raise ValueError("a kept run's loss needs one N per Err value")
        if self.delta.ndim != 2 or self.delta.shape[1] != self.delta_x.size:
            raise ValueError("a kept run's ‖δ‖ needs one row per layer, one column per iteration")
        if self.diverged_at is not None and self.diverged_at <= self.last_iteration():
            raise ValueError("a kept run diverges after the last iteration it drew")

    def label(self, live: Setup) -> str:
        """What differs from the live run."""
        return difference_label(self.setup, live)

    def last_iteration(self) -> float:
        """The last iteration the run drew (Err or ‖δ‖; −1 when it drew none)."""
        return float(max(np.max(self.loss_x, initial=-1.0), np.max(self.delta_x, initial=-1.0)))

    def end_text(self) -> str | None:
        """How the run ended, e.g. "diverged at iteration 3" (None: it did not diverge)."""
        if self.diverged_at is None:
            return None
        return f"diverged at iteration {self.diverged_at:,}"

    @property
    def loss_mean(self) -> bool:
        """The run's loss is a mean over the samples already (drawn as it is)."""
        return get_loss(self.setup.loss).mean

    def loss_per_sample(self) -> np.ndarray:
        """Err/N of each point (Err for a loss that is a mean; NaN where N is not known)."""
        return np.asarray(per_sample(self.loss_y, self.loss_n, self.loss_mean), dtype=np.float64)

    def delta_polyline(self) -> tuple[np.ndarray, np.ndarray]:
        """All layers' ‖δ‖ as one line broken by NaN between layers (one plot item)."""
        n_layers, n = self.delta.shape
        if n == 0 or n_layers == 0:
            return np.empty(0), np.empty(0)
        x = np.full((n_layers, n + 1), np.nan)
        y = np.full((n_layers, n + 1), np.nan)
        x[:, :n] = self.delta_x
        y[:, :n] = self.delta
        return x.ravel()[:-1], y.ravel()[:-1]


def delta_norms(net: Any, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """RMS of δ_l over the samples and neurons of each neuron layer l ≥ 1 (NaN if not finite)."""
    with np.errstate(all="ignore"):
        grads = net.backward(net.forward(X), Y)
        out = np.array([float(np.sqrt(np.mean(np.square(d)))) for d in grads.delta[1:]])
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class RecordedRun:
    """A run trained for comparison: Err on the training set and ‖δ_l‖ at the same iterations.

    ``iterations`` (n,), ``err`` (n,), ``delta`` (n_layers, n); NaN after a divergence
    (``diverged`` then holds the engine's message). ``err`` is the engine's Err,
    a sum over the ``n`` training samples (a mean already when ``mean``).
    """

    iterations: np.ndarray
    err: np.ndarray
    delta: np.ndarray
    diverged: str | None = None
    n: int = 1
    mean: bool = False

    def per_sample(self) -> np.ndarray:
        """Err/N at each iteration (Err when the loss is a mean already)."""
        return np.asarray(per_sample(self.err, self.n, self.mean), dtype=np.float64)


def record_run(
    trainer: Any, X: np.ndarray, Y: np.ndarray, steps: int, points: int = 200
) -> RecordedRun:
    """Train ``steps`` iterations, measuring Err and ‖δ_l‖ on (X, Y) at about ``points`` + 1
    evenly spaced iterations (the first before any step)."""
    from .trainer import DivergenceError

    every = max(1, -(-steps // max(1, points)))
    marks = [*list(range(0, steps, every)), steps]
    n_layers = len(trainer.net.weights)
    err = np.full(len(marks), np.nan)
    delta = np.full((n_layers, len(marks)), np.nan)
    diverged = None
    start = trainer.iteration
    for j, m in enumerate(marks):
        try:
            need = m - (trainer.iteration - start)
            if need > 0:
                trainer.run(need)
        except DivergenceError as exc:
            diverged = str(exc)
            break
        err[j] = trainer.evaluate()[0]
        delta[:, j] = delta_norms(trainer.net, X, Y)
    return RecordedRun(
        np.asarray(marks, dtype=np.float64),
        err,
        delta,
        diverged,
        n=trainer.n_train,
        mean=trainer.net.loss.mean,
    )
