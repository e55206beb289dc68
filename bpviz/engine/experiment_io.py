"""Experiment files: save and load a whole training run as JSON.

A file holds the :class:`~bpviz.engine.experiment.Setup` (architecture,
activations, loss, initialiser, seeds, hyperparameters, dataset by name and
parameters), the data itself for CSV datasets, and optionally the state of a
run: the current θ, the counters and the loss history. Pure Python and NumPy.

Format (version 2; 3 with a long run's envelopes, 4 with kept runs, 5 with
each batch's N or kept runs' N, 6 with a kept run that diverged)::

    {
      "format": "bpviz-experiment",
      "version": 2,
      "title": "optional menu label",
      "setup": { ...Setup.to_dict()... },
      "dataset": null | {"name", "task", "input_names", "output_names",
                         "X_train", "Y_train", "X_test", "Y_test", "params"},
      "state": null | {"iteration", "epoch", "params": [θ, flat],
                       "history": {"batch_err", "eval_iteration",
                                   "train_err", "test_err",
                                   "batch_sizes"},                (optional)
                       "shuffle": {"position", "order", "rng"},   (optional)
                       "velocity": [momentum's v, flat]}          (optional)
      "comparisons": [ {"setup": { ...Setup.to_dict()... },   (optional, at most 4)
                        "loss_kind": "training Err" | "batch Err",
                        "loss_iteration": [...], "loss_err": [...],
                        "loss_n": [N of each Err ...],              (optional)
                        "delta_iteration": [...], "delta": [[‖δ_l‖ ...] per layer],
                        "diverged_at": iteration} ]                 (optional)
    }

Every Err is the engine's, a sum over its samples (see
:mod:`bpviz.engine.per_sample`). ``batch_sizes`` gives each batch Err's N
(the last batch of an epoch may be smaller); it is written only when it is
not what the setup's batch size from the run's start gives (a run whose batch
size changed midway), which is also how a file without it is read. A long
run's ``batch_envelope`` has N and Err per sample beside Err from version 5
on (``batch_size_min``, ``batch_err_per_sample_max``, …).

``comparisons`` holds the runs kept for comparison (see
:class:`~bpviz.engine.compare.KeptRun`): each one's setup and the curves the
window drew, so a lecture prepared at home opens with its ghosts. Their labels
are not stored: they say what differs from the live run, worked out when shown.
Err and ‖δ‖ that are NaN or ±inf (a diverged run) are written as ``null`` and
read back as NaN (neither is drawn); iterations are finite and ≥ 0.
``loss_n`` is the N of each ``loss_err`` (``null``: not known); a version 4
file has none, and its kept runs' N is worked out from their setups.
``diverged_at`` is the iteration whose Err or θ became inf or NaN, which ended
a kept run (after every iteration it drew); written only for such a run, in a
version 6 file. At most
:data:`~bpviz.engine.compare.MAX_KEPT` runs of :data:`MAX_KEPT_POINTS` points
per curve.

``shuffle`` (where the run stands in this epoch's shuffled order of the
training samples, and the shuffling generator's state) and ``velocity``
let a restored run continue exactly as if it had never been saved. The
generator's 128-bit state is written as plain JSON integers: exact for
Python's ``json``; a tool that reads numbers as doubles would round them.
Version 1 files (written before these two existed) load too; such a run
continues from a fresh shuffle with v = 0.

Floats are written with ``repr``, so θ round-trips bit for bit. NaN (a
missing test Err) is written as ``null``; NaN and ±inf are never written as
numbers. Missing ``setup`` fields take :class:`Setup`'s defaults (so files
stay loadable when a setting is added); unknown fields are errors.

:func:`load_experiment` checks everything and raises :class:`ExperimentError`
(and nothing else) with a message naming the field, e.g.
``setup.hidden[1]: expected a positive integer, got 'x'``.
:func:`save_experiment` writes atomically: a crash mid-save leaves the
previous file as it was.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from .activations import ACTIVATIONS
from .compare import MAX_KEPT, KeptRun
from .datasets import (
    DATASET_NAMES,
    MAX_SAMPLES,
    MAX_TEST_FRACTION,
    TASKS,
    Dataset,
    DatasetError,
    load_csv,
    make_dataset,
    split_counts,
    text_problem,
)
from .experiment import Setup, build, check_memory
from .files import FileRefused, read_regular_file
from .history import Envelope
from .losses import LOSSES
from .network import INITIALIZERS, MAX_LAYER_SIZE
from .trainer import LossHistory, ResumeState, Trainer, epoch_batch_sizes

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MAX_KEPT_POINTS",
    "MAX_LISTED_ERRORS",
    "Experiment",
    "ExperimentError",
    "History",
    "atomic_write_bytes",
    "dumps_experiment",
    "load_experiment",
    "parse_experiment",
    "remove_stale_temp_files",
    "restore_trainer",
    "save_experiment",
]

FORMAT_NAME = "bpviz-experiment"
FORMAT_VERSION = 6

#: Bounds for integers read from files (seeds, counters, batch sizes).
#: Seeds up to 2³¹ − 1: what the window's seed boxes can hold (Qt spin boxes are 32-bit);
#: a file with a larger seed is refused, naming the field.
MAX_SEED = 2**31 - 1
MAX_COUNT = 2**63 - 1
MAX_BATCH = 2**31 - 1
MAX_HIDDEN_LAYERS = 100
#: The JSON number types (bool, although an int, is not one).
_PLAIN_NUMBERS = frozenset((float, int))
#: Largest experiment file read.
MAX_FILE_BYTES = 256 * 2**20
#: Deepest nesting of lists and objects inside ``dataset.params``.
MAX_DEPTH = 16
#: A damaged file's message lists at most this many bad fields (then "and n more").
MAX_LISTED_ERRORS = 8
#: Points per curve of a kept run (a window's loss plot holds about 340,000 at most).
MAX_KEPT_POINTS = 2**20
#: How a kept run's Err was measured (see :class:`~bpviz.engine.compare.KeptRun`).
_LOSS_KINDS = ("training Err", "batch Err")
#: Columns of a saved batch envelope: Err, N, Err per sample (before version 5: Err only).
_BATCH_COLUMNS = ("batch_err", "batch_size", "batch_err_per_sample")


class ExperimentError(ValueError):
    """A bad experiment file or setting, with a one-line message naming the field.

    Attributes
    ----------
    reason : str
        What is wrong, e.g. ``"expected a positive integer, got 'x'"``.
    field : str or None
        The field's path in the file, e.g. ``"setup.hidden[1]"``.
    file : str or None
        The file, when the error is about one.
    errors : tuple of ExperimentError
        Every bad field found (this error alone when it is about one field);
        the message lists up to :data:`MAX_LISTED_ERRORS` of them, the file once.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        file: str | None = None,
        errors: Sequence[ExperimentError] = (),
    ) -> None:
        self.reason = reason
        self.field = field
        self.file = file
        self.errors: tuple[ExperimentError, ...] = tuple(errors) or (self,)
        text = reason if field is None else f"{field}: {reason}"
        super().__init__(text if file is None else f"{file}: {text}")

    @classmethod
    def combine(cls, errors: Sequence[ExperimentError]) -> ExperimentError:
        """One error (one line) for several bad fields: "n bad fields: (1) a: …; (2) b: …"."""
        flat = [e for err in errors for e in err.errors]
        if len(flat) == 1:
            return flat[0]
        items = [f"({n}) {e}" for n, e in enumerate(flat[:MAX_LISTED_ERRORS], start=1)]
        more = len(flat) - MAX_LISTED_ERRORS
        if more > 0:
            items.append(f"… and {more} more")
        shown = f"{len(flat)} bad fields: " + "; ".join(items)
        return cls(shown, errors=flat)

    def with_file(self, file: str) -> ExperimentError:
        """The same error, naming ``file`` (once, however many fields are bad)."""
        return ExperimentError(
            self.reason,
            field=self.field,
            file=file,
            errors=(() if len(self.errors) == 1 else self.errors),
        )


class _Collect:
    """Collects the ExperimentErrors of independent checks, to report them all at once."""

    def __init__(self) -> None:
        self.errors: list[ExperimentError] = []

    @contextlib.contextmanager
    def check(self) -> Any:
        try:
            yield
        except ExperimentError as exc:
            self.errors.append(exc)

    def raise_any(self) -> None:
        if self.errors:
            raise ExperimentError.combine(self.errors)


@dataclass(frozen=True, eq=False)
class History:
    """A loss history as read-only arrays (see :class:`~bpviz.engine.trainer.LossHistory`).

    ``batch_err[m]`` is the batch Err of iteration ``batch_from + m + 1``,
    a sum over ``batch_sizes[m]`` samples; the evaluations of the whole sets
    happened after ``eval_iteration[k]`` iterations. NaN marks a missing
    value (no test set). A long run's older values are min/max buckets in
    ``batch_envelope`` and ``eval_envelope`` (see :mod:`bpviz.engine.history`);
    a short run has none.

    Files written before bpviz recorded each batch's N have neither
    ``batch_sizes`` (None) nor the N and per-sample columns of
    ``batch_envelope`` (one column, Err); :func:`restore_trainer` assumes the
    setup's batch size throughout for them (:func:`~bpviz.engine.trainer.epoch_batch_sizes`).
    """

    batch_err: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0)))
    eval_iteration: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0, dtype=np.int64)))
    train_err: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0)))
    test_err: np.ndarray = field(default_factory=lambda: _frozen(np.empty(0)))
    batch_envelope: Envelope = field(default_factory=lambda: Envelope.empty(3))
    eval_envelope: Envelope = field(default_factory=lambda: Envelope.empty(2))
    batch_sizes: np.ndarray | None = None

    @classmethod
    def of(cls, history: Any) -> History:
        """A frozen copy of a :class:`LossHistory` (or anything with its arrays)."""
        envelopes = [
            getattr(history, name, None) or Envelope.empty(k)
            for name, k in (("batch_envelope", 3), ("eval_envelope", 2))
        ]
        return cls(
            _frozen(np.array(history.batch_err, dtype=np.float64)),
            _frozen(np.array(history.eval_iteration, dtype=np.int64)),
            _frozen(np.array(history.train_err, dtype=np.float64)),
            _frozen(np.array(history.test_err, dtype=np.float64)),
            *(Envelope(*(_frozen(np.array(a)) for a in env)) for env in envelopes),
            _frozen(np.array(history.batch_sizes, dtype=np.float64)),
        )

    def __len__(self) -> int:
        return self.batch_from + int(self.batch_err.shape[0])

    @property
    def batch_from(self) -> int:
        """Iterations in the envelope."""
        return self.batch_envelope.n_points

    @property
    def n_eval(self) -> int:
        """Number of evaluations."""
        return self.eval_envelope.n_points + int(self.eval_iteration.shape[0])


@dataclass(frozen=True, eq=False)
class Experiment:
    """A loaded experiment file, checked.

    Attributes
    ----------
    setup : Setup
        The settings (``setup.params`` are the *initial* θ, if fixed).
    sizes : tuple of int
        Neurons per layer, input first, as the dataset and ``setup.hidden``
        imply.
    params : (n_params,) float64 array or None
        The current θ (flat, as ``Network.params``); None for a fresh start.
    iteration, epoch : int
        Counters of the saved run (0 for a fresh start).
    history : History
        The saved loss history (empty for a fresh start).
    dataset : Dataset or None
        The data of a CSV dataset, embedded in the file; None for built-ins.
    title : str or None
        Optional label (the built-in examples' menu text).
    resume : ResumeState or None
        Where the saved run stood in its shuffle, and momentum's v (None in a
        version 1 file or a fresh start).
    comparisons : tuple of KeptRun
        The runs kept for comparison, oldest first (none in most files).
    """

    setup: Setup
    sizes: tuple[int, ...]
    params: np.ndarray | None = None
    iteration: int = 0
    epoch: int = 0
    history: History = field(default_factory=History)
    dataset: Dataset | None = None
    title: str | None = None
    resume: ResumeState | None = None
    comparisons: tuple[KeptRun, ...] = ()

    @property
    def has_state(self) -> bool:
        """True when the file holds trained weights (not just settings)."""
        return self.params is not None


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------
# Checking values read from JSON
# ---------------------------------------------------------------------------


def _got(v: object) -> str:
    """How a JSON value is named in messages: ``'x'``, ``true``, ``null``, ``a list``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v if len(v) <= 40 else v[:40] + "...")
    if isinstance(v, (int, float)):
        text = repr(v)
        return text if len(text) <= 40 else text[:40] + "..."
    if isinstance(v, list):
        return f"a list of {len(v)} item{'s' if len(v) != 1 else ''}"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _fail(where: str, reason: str) -> ExperimentError:
    return ExperimentError(reason, field=where)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v: object, where: str, lo: int = 0, hi: int = MAX_COUNT) -> int:
    if not _is_int(v):
        what = "a positive integer" if lo == 1 else "an integer"
        raise _fail(where, f"expected {what}, got {_got(v)}")
    if not lo <= v <= hi:  # type: ignore[operator]
        raise _fail(where, f"expected an integer from {lo} to {hi:_}, got {v}")
    return int(v)  # type: ignore[call-overload]


def _finite(v: object, where: str) -> float:
    if not _is_number(v):
        raise _fail(where, f"expected a number, got {_got(v)}")
    try:
        x = float(v)  # type: ignore[arg-type]
    except OverflowError:
        raise _fail(where, f"expected a finite number, got {_got(v)}") from None
    if not math.isfinite(x):
        raise _fail(where, f"expected a finite number, got {x!r}")
    return x


def _float(
    v: object,
    where: str,
    lo: float = 0.0,
    hi: float = math.inf,
    hi_open: bool = False,
    lo_open: bool = False,
) -> float:
    x = _finite(v, where)
    too_low = x <= lo if lo_open else x < lo
    too_high = x >= hi if hi_open else x > hi
    if too_low or too_high:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        upper = "∞" if math.isinf(hi) else f"{hi:g}"
        raise _fail(where, f"expected a number in {left}{lo:g}, {upper}{right}, got {x!r}")
    return x


def _optional_positive(v: object, where: str) -> float | None:
    if v is None:
        return None
    return _float(v, where, 0.0, lo_open=True)


def _str(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise _fail(where, f"expected a string, got {_got(v)}")
    problem = text_problem(v)
    if problem is not None:
        raise _fail(where, problem)
    return v


def _check_tree(v: object, where: str, depth: int = 0) -> None:
    """Every key and string in ``v`` is a text field; lists and objects nest ≤ MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise _fail(where, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(v, str):
        _str(v, where)
    elif isinstance(v, dict):
        for key, item in v.items():
            if not isinstance(key, str) or text_problem(key) is not None:
                raise _fail(where, f"key {_got(key)}: {text_problem(key)}")
            _check_tree(item, _member(where, key), depth + 1)
    elif isinstance(v, list):
        for i, item in enumerate(v):
            _check_tree(item, f"{where}[{i}]", depth + 1)


def _bool(v: object, where: str) -> bool:
    if not isinstance(v, bool):
        raise _fail(where, f"expected true or false, got {_got(v)}")
    return v


def _obj(v: object, where: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(where, f"expected an object, got {_got(v)}")
    return v


def _list(v: object, where: str) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(where, f"expected a list, got {_got(v)}")
    return v


def _choice(v: object, where: str, names: Sequence[str], what: str) -> str:
    s = _str(v, where)
    if s not in names:
        raise _fail(where, f"unknown {what} {_got(s)}; choose one of {', '.join(names)}")
    return s


def _member(where: str, key: str) -> str:
    """The path of ``key`` inside ``where``: ``setup.lr``, or ``setup['odd key']``."""
    if key.isidentifier() and key.isascii():
        return f"{where}.{key}" if where else key
    return f"{where}[{key!r}]"


def _keys(
    d: dict[str, Any], where: str, required: Sequence[str], optional: Sequence[str] = ()
) -> None:
    """Check that ``d`` has every required key and no unknown one."""
    for key in required:
        if key not in d:
            raise _fail(_member(where, key), "missing")
    allowed = set(required) | set(optional)
    unknown = [k for k in d if k not in allowed]
    if unknown:
        raise _fail(
            _member(where, unknown[0]),
            f"unknown field; expected one of {', '.join(sorted(allowed))}",
        )


def _float_list(v: object, where: str, allow_null: bool = False) -> np.ndarray:
    """A list of finite numbers (null → NaN when allowed) as a float64 array."""
    items = _list(v, where)
    out = np.empty(len(items), dtype=np.float64)
    for i, x in enumerate(items):
        if type(x) is float and math.isfinite(x):  # the common case, fast
            out[i] = x
        elif x is None and allow_null:
            out[i] = math.nan
        else:
            if x is None:
                raise _fail(f"{where}[{i}]", "expected a number, got null")
            out[i] = _finite(x, f"{where}[{i}]")
    return out


def _matrix(v: object, where: str, n_cols: int) -> np.ndarray:
    """A list of rows of ``n_cols`` finite numbers as an (n, n_cols) array."""
    rows = _list(v, where)
    # Fast path: every row a list of n_cols floats or ints (not bools, which are
    # their own type), all finite; anything else goes the slow way, which names it.
    if all(type(row) is list and len(row) == n_cols for row in rows) and all(
        set(map(type, row)) <= _PLAIN_NUMBERS for row in rows
    ):
        try:
            out = np.array(rows, dtype=np.float64).reshape(len(rows), n_cols)
        except (OverflowError, ValueError):
            out = None
        if out is not None and np.isfinite(out).all():
            return out
    out = np.empty((len(rows), n_cols), dtype=np.float64)
    for r, row in enumerate(rows):
        items = _list(row, f"{where}[{r}]")
        if len(items) != n_cols:
            raise _fail(f"{where}[{r}]", f"expected {n_cols} numbers, got {len(items)}")
        for c, x in enumerate(items):
            out[r, c] = (
                x if type(x) is float and math.isfinite(x) else _finite(x, f"{where}[{r}][{c}]")
            )
    return out


# ---------------------------------------------------------------------------
# The setup
# ---------------------------------------------------------------------------


def _hidden(v: object, where: str) -> tuple[int, ...]:
    items = _list(v, where)
    if len(items) > MAX_HIDDEN_LAYERS:
        raise _fail(where, f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(items)}")
    sizes = []
    for i, n in enumerate(items):
        if not _is_int(n) or not 1 <= n <= MAX_LAYER_SIZE:
            raise _fail(
                f"{where}[{i}]",
                f"expected a positive integer up to {MAX_LAYER_SIZE:_}, got {_got(n)}",
            )
        sizes.append(int(n))
    return tuple(sizes)


def _params(v: object, where: str) -> tuple[float, ...] | None:
    if v is None:
        return None
    return tuple(_float_list(v, where).tolist())


_ELEMENTWISE = tuple(name for name, a in ACTIVATIONS.items() if a.elementwise)

#: One check per Setup field: value, field path -> normalised value.
_SETUP_CHECKS: dict[str, Callable[[object, str], Any]] = {
    "dataset": lambda v, w: _choice(v, w, (*DATASET_NAMES, "csv"), "dataset"),
    "n_samples": lambda v, w: _int(v, w, 2, MAX_SAMPLES),
    "noise": lambda v, w: _float(v, w, 0.0, 1.0),
    "test_fraction": lambda v, w: _float(v, w, 0.0, MAX_TEST_FRACTION),
    "data_seed": lambda v, w: _int(v, w, 0, MAX_SEED),
    "csv_path": lambda v, w: None if v is None else _str(v, w),
    "hidden": _hidden,
    "activation": lambda v, w: _choice(v, w, _ELEMENTWISE, "hidden activation"),
    "output_activation": lambda v, w: _choice(v, w, tuple(ACTIVATIONS), "activation"),
    "loss": lambda v, w: _choice(v, w, tuple(LOSSES), "loss"),
    "init": lambda v, w: _choice(v, w, tuple(INITIALIZERS), "initialiser"),
    "bias": _bool,
    "seed": lambda v, w: _int(v, w, 0, MAX_SEED),
    "batch_size": lambda v, w: _int(v, w, 1, MAX_BATCH),
    "lr": lambda v, w: _float(v, w, 0.0),
    "momentum": lambda v, w: _float(v, w, 0.0, 1.0, hi_open=True),
    "l1": lambda v, w: _float(v, w, 0.0),
    "l2": lambda v, w: _float(v, w, 0.0),
    "clip_value": _optional_positive,
    "clip_norm": _optional_positive,
    "params": _params,
}


def _generic_check(default: object) -> Callable[[object, str], Any]:
    """For a Setup field this module does not know yet: the default's JSON type."""

    def check(v: object, where: str) -> Any:
        if v is None or default is None:
            return v
        if isinstance(default, bool):
            return _bool(v, where)
        if isinstance(default, int):
            return _int(v, where, -MAX_COUNT, MAX_COUNT)
        if isinstance(default, float):
            return _finite(v, where)
        if isinstance(default, str):
            return _str(v, where)
        if isinstance(default, tuple):
            return tuple(_list(v, where))
        return v

    return check


def _parse_setup(v: object, where: str = "setup") -> Setup:
    d = _obj(v, where)
    defaults = Setup()
    names = [f.name for f in fields(Setup)]
    unknown = [k for k in d if k not in names]
    found = _Collect()
    for key in unknown:
        found.errors.append(_fail(_member(where, key), "unknown setting"))
    values: dict[str, Any] = {}
    for name in names:
        if name not in d:
            continue  # missing settings take Setup's defaults
        check = _SETUP_CHECKS.get(name) or _generic_check(getattr(defaults, name))
        with found.check():
            values[name] = check(d[name], f"{where}.{name}")
    found.raise_any()
    setup = Setup(**values)
    loss = LOSSES[setup.loss]
    if loss.requires_output is not None and setup.output_activation != loss.requires_output:
        raise _fail(
            f"{where}.output_activation",
            f"the {setup.loss} loss needs a {loss.requires_output} output, "
            f"got {_got(setup.output_activation)}",
        )
    if setup.output_activation == "softmax" and setup.loss != "softmax_ce":
        raise _fail(f"{where}.loss", "a softmax output needs the softmax_ce loss")
    return setup


# ---------------------------------------------------------------------------
# The embedded dataset
# ---------------------------------------------------------------------------

_DATASET_KEYS = (
    "name",
    "task",
    "input_names",
    "output_names",
    "X_train",
    "Y_train",
    "X_test",
    "Y_test",
    "params",
)


def _names(v: object, where: str) -> tuple[str, ...]:
    items = _list(v, where)
    if not items:
        raise _fail(where, "expected at least one column name")
    if len(items) > MAX_LAYER_SIZE:
        raise _fail(where, f"at most {MAX_LAYER_SIZE:_} columns, got {len(items)}")
    return tuple(_str(s, f"{where}[{i}]") for i, s in enumerate(items))


def _parse_dataset(v: object, where: str = "dataset") -> Dataset:
    d = _obj(v, where)
    _keys(d, where, _DATASET_KEYS)
    name = _str(d["name"], f"{where}.name")
    task = _choice(d["task"], f"{where}.task", TASKS, "task")
    inputs = _names(d["input_names"], f"{where}.input_names")
    outputs = _names(d["output_names"], f"{where}.output_names")
    arrays = {}
    for key, width in (
        ("X_train", len(inputs)),
        ("Y_train", len(outputs)),
        ("X_test", len(inputs)),
        ("Y_test", len(outputs)),
    ):
        arrays[key] = _matrix(d[key], f"{where}.{key}", width)
    for part in ("train", "test"):
        nx, ny = arrays[f"X_{part}"].shape[0], arrays[f"Y_{part}"].shape[0]
        if nx != ny:
            raise _fail(f"{where}.Y_{part}", f"expected {nx} rows (as X_{part} has), got {ny}")
    if arrays["X_train"].shape[0] < 1:
        raise _fail(f"{where}.X_train", "the training set is empty")
    params = _obj(d["params"], f"{where}.params")
    _check_tree(params, f"{where}.params")
    if task == "classification":
        for key in ("Y_train", "Y_test"):
            Y = arrays[key]
            bad = np.argwhere((Y != 0.0) & (Y != 1.0))
            if bad.size:
                r, c = (int(i) for i in bad[0])
                raise _fail(
                    f"{where}.{key}[{r}][{c}]",
                    "a classification target must be 0 or 1 (a class label), "
                    f"got {_got(d[key][r][c])}; "
                    'for other values use "task": "regression"',
                )
    try:
        return Dataset(
            name=name,
            task=task,
            input_names=inputs,
            output_names=outputs,
            params=params,
            **arrays,
        )
    except DatasetError as exc:  # pragma: no cover - all checked above
        raise _fail(where, str(exc)) from None


def _io_sizes(setup: Setup, dataset: Dataset | None) -> tuple[int, int, Dataset | None]:
    """Input and output sizes of the data a setup names (loading a CSV if needed)."""
    if dataset is not None:
        return dataset.n_inputs, dataset.n_outputs, dataset
    if setup.dataset == "csv":
        if not setup.csv_path:
            raise _fail("dataset", "a CSV dataset needs its data in the file or setup.csv_path")
        try:
            data = load_csv(setup.csv_path, test_fraction=setup.test_fraction, seed=setup.data_seed)
        except DatasetError as exc:
            raise _fail("setup.csv_path", str(exc)) from None
        return data.n_inputs, data.n_outputs, data
    probe = make_dataset(setup.dataset, n_samples=2, test_fraction=0.0)
    return probe.n_inputs, probe.n_outputs, None


def _n_params(sizes: Sequence[int], bias: bool) -> int:
    b = 1 if bias else 0
    return sum(n_out * (n_in + b) for n_in, n_out in itertools.pairwise(sizes))


# ---------------------------------------------------------------------------
# The state
# ---------------------------------------------------------------------------


def _parse_envelope(v: object, where: str, columns: Sequence[str], hi: int) -> Envelope:
    """Buckets ``{"first", "last", "count", <column>_min, <column>_max ...}``, in order."""
    d = _obj(v, where)
    keys = ["first", "last", "count"] + [f"{c}_{m}" for c in columns for m in ("min", "max")]
    _keys(d, where, keys)
    ints = {}
    for key in ("first", "last", "count"):
        items = _list(d[key], f"{where}.{key}")
        ints[key] = np.array(
            [
                _int(x, f"{where}.{key}[{i}]", 0 if key != "count" else 1, hi)
                for i, x in enumerate(items)
            ],
            dtype=np.int64,
        )
    n = ints["first"].shape[0]
    floats = {}
    for key in keys[3:]:
        floats[key] = _float_list(d[key], f"{where}.{key}", allow_null=True)
    for key, arr in (*ints.items(), *floats.items()):
        if arr.shape[0] != n:
            raise _fail(
                f"{where}.{key}", f"expected {n} values (one per bucket), got {arr.shape[0]}"
            )
    first, last = ints["first"], ints["last"]
    bad = np.flatnonzero(last < first)
    if bad.size:
        raise _fail(f"{where}.last[{bad[0]}]", f"before its bucket's first ({first[bad[0]]})")
    bad = np.flatnonzero(first[1:] <= last[:-1])
    if bad.size:
        raise _fail(f"{where}.first[{bad[0] + 1}]", "buckets must follow one another")
    lo = (
        np.column_stack([floats[f"{c}_min"] for c in columns]) if n else np.empty((0, len(columns)))
    )
    hi_ = (
        np.column_stack([floats[f"{c}_max"] for c in columns]) if n else np.empty((0, len(columns)))
    )
    with np.errstate(invalid="ignore"):
        bad = np.argwhere(lo > hi_)
    if bad.size:
        r, c = (int(i) for i in bad[0])
        raise _fail(f"{where}.{columns[c]}_min[{r}]", "greater than its bucket's max")
    return Envelope(*(_frozen(a) for a in (first, last, ints["count"], lo, hi_)))


def _widen_batch_envelope(env: Envelope, batch_size: int, n_train: int, mean: bool) -> Envelope:
    """A batch envelope of a file from before version 5 (Err only) with N and Err per sample.

    N as :func:`~bpviz.engine.trainer.epoch_batch_sizes` assumes it: each
    bucket's smallest and largest batch. Err per sample is bounded by the
    bucket's smallest Err over its largest N and its largest Err over its
    smallest N: exact when a bucket's batches are all of one size, else a
    range that holds the true one.
    """
    bs = max(1, min(int(batch_size), int(n_train)))
    per_epoch = -(-int(n_train) // bs)
    last_n = int(n_train) - (per_epoch - 1) * bs
    first = np.asarray(env.first, dtype=np.int64)
    width = np.asarray(env.last, dtype=np.int64) - first + 1
    j0 = (first - 1) % per_epoch
    has_last = j0 + width - 1 >= per_epoch - 1
    only_last = (width == 1) & (j0 == per_epoch - 1)
    n_lo = np.where(has_last, last_n, bs).astype(np.float64)
    n_hi = np.where(only_last, last_n, bs).astype(np.float64)
    err_lo, err_hi = env.lo[:, 0], env.hi[:, 0]
    if mean:
        each_lo, each_hi = err_lo, err_hi
    else:
        each_lo, each_hi = err_lo / n_hi, err_hi / n_lo
    lo = np.column_stack([err_lo, n_lo, each_lo])
    hi = np.column_stack([err_hi, n_hi, each_hi])
    return Envelope(env.first, env.last, env.count, lo, hi)


def _parse_history(v: object, iteration: int, where: str) -> History:
    d = _obj(v, where)
    _keys(
        d,
        where,
        ("batch_err", "eval_iteration", "train_err", "test_err"),
        ("batch_sizes", "batch_envelope", "eval_envelope"),
    )
    batch_env = Envelope.empty(3)
    if d.get("batch_envelope") is not None:
        w = f"{where}.batch_envelope"
        raw = _obj(d["batch_envelope"], w)
        # Version 5 on: N and Err per sample beside Err; before, Err only.
        columns = _BATCH_COLUMNS if "batch_size_min" in raw else _BATCH_COLUMNS[:1]
        batch_env = _parse_envelope(raw, w, columns, iteration)
        if not np.array_equal(batch_env.count, batch_env.last - batch_env.first + 1) or (
            len(batch_env) and batch_env.first[0] != 1
        ):
            raise _fail(w, "buckets must cover iterations 1, 2, ... without gaps")
        if len(columns) > 1:
            sizes = np.concatenate([batch_env.lo[:, 1], batch_env.hi[:, 1]])
            bad = np.flatnonzero(~((sizes >= 1) & (sizes <= MAX_BATCH) & (sizes % 1 == 0)))
            if bad.size:
                r, m = int(bad[0]) % len(batch_env), "min" if bad[0] < len(batch_env) else "max"
                raise _fail(
                    f"{w}.batch_size_{m}[{r}]", "expected a batch size (a whole number ≥ 1)"
                )
    eval_env = Envelope.empty(2)
    if d.get("eval_envelope") is not None:
        w = f"{where}.eval_envelope"
        eval_env = _parse_envelope(d["eval_envelope"], w, ("train_err", "test_err"), iteration)
    n_env = batch_env.n_points
    batch = _float_list(d["batch_err"], f"{where}.batch_err", allow_null=True)
    if n_env + batch.shape[0] != iteration:
        after = " after the envelope" if n_env else ""
        raise _fail(
            f"{where}.batch_err",
            f"expected one value per iteration{after} ({iteration - n_env}), got {batch.shape[0]}",
        )
    its = _list(d["eval_iteration"], f"{where}.eval_iteration")
    eval_it = np.empty(len(its), dtype=np.int64)
    previous = int(eval_env.last[-1]) if len(eval_env) else 0
    for i, k in enumerate(its):
        w = f"{where}.eval_iteration[{i}]"
        eval_it[i] = _int(k, w, 0, iteration)
        if eval_it[i] < previous:
            raise _fail(w, f"iterations must not decrease, got {k} after {previous}")
        previous = int(eval_it[i])
    out = [batch, eval_it]
    for key in ("train_err", "test_err"):
        arr = _float_list(d[key], f"{where}.{key}", allow_null=True)
        if arr.shape[0] != eval_it.shape[0]:
            raise _fail(
                f"{where}.{key}",
                f"expected {eval_it.shape[0]} values (one per evaluation), got {arr.shape[0]}",
            )
        out.append(arr)
    sizes = None
    if d.get("batch_sizes") is not None:
        w = f"{where}.batch_sizes"
        items = _list(d["batch_sizes"], w)
        if len(items) != batch.shape[0]:
            raise _fail(
                w, f"expected {batch.shape[0]} values (one per batch Err), got {len(items)}"
            )
        sizes = _frozen(
            np.array([_int(x, f"{w}[{i}]", 1, MAX_BATCH) for i, x in enumerate(items)], float)
        )
    return History(*(_frozen(a) for a in out), batch_env, eval_env, sizes)


# ---------------------------------------------------------------------------
# Kept runs
# ---------------------------------------------------------------------------


def _points(v: object, where: str, allow_null: bool) -> np.ndarray:
    """A curve's values: at most :data:`MAX_KEPT_POINTS` numbers (null → NaN if allowed)."""
    items = _list(v, where)
    if len(items) > MAX_KEPT_POINTS:
        raise _fail(where, f"at most {MAX_KEPT_POINTS:_} points, got {len(items)}")
    return _float_list(items, where, allow_null=allow_null)


def _iterations(v: object, where: str) -> np.ndarray:
    x = _points(v, where, allow_null=False)
    bad = np.flatnonzero((x < 0) | (x > MAX_COUNT))
    if bad.size:
        i = int(bad[0])
        raise _fail(f"{where}[{i}]", f"expected an iteration ≥ 0, got {_got(v[i])}")  # type: ignore[index]
    return x


def _parse_kept(v: object, where: str) -> KeptRun:
    d = _obj(v, where)
    _keys(
        d,
        where,
        ("setup", "loss_kind", "loss_iteration", "loss_err", "delta_iteration", "delta"),
        ("loss_n", "diverged_at"),
    )
    found = _Collect()
    setup = kind = None
    with found.check():
        setup = _parse_setup(d["setup"], f"{where}.setup")
    with found.check():
        kind = _choice(d["loss_kind"], f"{where}.loss_kind", _LOSS_KINDS, "kind of Err")
    loss_x = loss_y = delta_x = None
    with found.check():
        loss_x = _iterations(d["loss_iteration"], f"{where}.loss_iteration")
        loss_y = _points(d["loss_err"], f"{where}.loss_err", allow_null=True)
        if loss_y.shape != loss_x.shape:
            raise _fail(
                f"{where}.loss_err",
                f"expected {loss_x.size} values (one per iteration), got {loss_y.size}",
            )
    loss_n = None
    if d.get("loss_n") is not None:
        with found.check():
            w = f"{where}.loss_n"
            loss_n = _points(d["loss_n"], w, allow_null=True)  # null: not known
            if loss_x is not None and loss_n.shape != loss_x.shape:
                raise _fail(w, f"expected {loss_x.size} values (one per Err), got {loss_n.size}")
            with np.errstate(invalid="ignore"):
                bad = np.flatnonzero(~np.isnan(loss_n) & ~((loss_n >= 1) & (loss_n % 1 == 0)))
            if bad.size:
                raise _fail(f"{w}[{bad[0]}]", "expected a number of samples (a whole number ≥ 1)")
    rows: list[np.ndarray] = []
    with found.check():
        delta_x = _iterations(d["delta_iteration"], f"{where}.delta_iteration")
        layers = _list(d["delta"], f"{where}.delta")
        if len(layers) > MAX_HIDDEN_LAYERS + 1:
            raise _fail(
                f"{where}.delta", f"at most {MAX_HIDDEN_LAYERS + 1} layers, got {len(layers)}"
            )
        for l, row in enumerate(layers):
            y = _points(row, f"{where}.delta[{l}]", allow_null=True)
            if y.shape != delta_x.shape:
                raise _fail(
                    f"{where}.delta[{l}]",
                    f"expected {delta_x.size} values (one per iteration), got {y.size}",
                )
            rows.append(y)
    diverged_at = None
    if d.get("diverged_at") is not None:
        with found.check():
            w = f"{where}.diverged_at"
            diverged_at = _int(d["diverged_at"], w, lo=1)
            drawn = [a for a in (loss_x, delta_x) if a is not None and a.size]
            last = max((float(a.max()) for a in drawn), default=0.0)
            if diverged_at <= last:
                raise _fail(
                    w,
                    f"expected an iteration after the last one drawn ({last:g}), got {diverged_at}",
                )
    found.raise_any()
    delta = np.array(rows).reshape(len(rows), delta_x.size)
    return KeptRun(setup, loss_x, loss_y, delta_x, delta, kind, loss_n, diverged_at)


def _with_counts(run: KeptRun, live: Setup, live_data: Dataset | None) -> KeptRun:
    """A kept run of a file from before version 5 (no ``loss_n``) with the N of its Err.

    Training Err: the kept setup's training samples (the live data's when it
    names the same CSV file; not known for another CSV file). Batch Err: as
    :func:`~bpviz.engine.trainer.epoch_batch_sizes` assumes them for its batch size.
    """
    if not np.all(np.isnan(run.loss_n)) or run.loss_x.size == 0:
        return run
    kept = run.setup
    n_train = None
    if kept.dataset != "csv":
        with contextlib.suppress(DatasetError):
            n_train = split_counts(kept.dataset, kept.n_samples, kept.test_fraction)[0]
    elif (
        live_data is not None
        and live.dataset == "csv"
        and (kept.csv_path, kept.test_fraction) == (live.csv_path, live.test_fraction)
    ):
        n_train = int(live_data.X_train.shape[0])
    if n_train is None:
        return run
    if run.loss_kind == "batch Err":
        n = epoch_batch_sizes(np.maximum(run.loss_x, 1), kept.batch_size, n_train)
    else:
        n = np.full(run.loss_x.shape, n_train)
    return replace(run, loss_n=n)


def _parse_comparisons(v: object, found: _Collect) -> tuple[KeptRun, ...]:
    """The kept runs; bad fields go to ``found`` (the good runs are returned)."""
    items = _list(v, "comparisons")
    if len(items) > MAX_KEPT:
        raise _fail("comparisons", f"at most {MAX_KEPT} kept runs, got {len(items)}")
    runs = []
    for i, item in enumerate(items):
        with found.check():
            runs.append(_parse_kept(item, f"comparisons[{i}]"))
    return tuple(runs)


def _kept_dict(run: KeptRun) -> dict[str, Any]:
    out: dict[str, Any] = {
        "setup": run.setup.to_dict(),
        "loss_kind": run.loss_kind,
        "loss_iteration": run.loss_x.tolist(),
        "loss_err": _finite_or_none(run.loss_y),
        "loss_n": [None if math.isnan(n) else int(n) for n in run.loss_n.tolist()],
        "delta_iteration": run.delta_x.tolist(),
        "delta": [_finite_or_none(row) for row in run.delta],
    }
    if run.diverged_at is not None:
        out["diverged_at"] = run.diverged_at
    return out


# ---------------------------------------------------------------------------
# Whole documents
# ---------------------------------------------------------------------------


def parse_experiment(doc: object) -> Experiment:
    """Check a decoded JSON document and turn it into an :class:`Experiment`.

    Raises
    ------
    ExperimentError
        Naming every bad field (up to :data:`MAX_LISTED_ERRORS`; ``errors`` holds all).
    """
    try:
        return _parse(doc)
    except ExperimentError:
        raise
    except RecursionError:
        raise ExperimentError("the document is nested too deeply") from None


def _parse(doc: object) -> Experiment:
    if not isinstance(doc, dict):
        raise ExperimentError(f"not a bpviz experiment: expected a JSON object, got {_got(doc)}")
    if doc.get("format") != FORMAT_NAME:
        if "format" not in doc:
            raise _fail("format", f"missing; not a bpviz experiment (expected {FORMAT_NAME!r})")
        raise _fail("format", f"expected {FORMAT_NAME!r}, got {_got(doc['format'])}")
    if "version" not in doc:
        raise _fail("version", "missing")
    _check_tree(
        {
            k: v
            for k, v in doc.items()
            if k not in ("setup", "dataset", "state", "comparisons")  # checked field by field
        },
        "",
    )
    version = doc["version"]
    if not _is_int(version) or version < 1:
        raise _fail("version", f"expected a positive integer, got {_got(version)}")
    if version > FORMAT_VERSION:
        raise _fail(
            "version",
            f"the file has format version {version}, but this bpviz reads up to version "
            f"{FORMAT_VERSION}; update bpviz",
        )
    _keys(doc, "", ("format", "version", "setup"), ("title", "dataset", "state", "comparisons"))
    # Independent parts are all checked, so that a damaged file names every bad field.
    found = _Collect()
    title = doc.get("title")
    if title is not None:
        with found.check():
            _str(title, "title")
    setup: Setup | None = None
    with found.check():
        setup = _parse_setup(doc["setup"])
    network: tuple[tuple[int, ...], int, Dataset | None] | None = None
    if setup is not None:
        with found.check():
            network = _parse_network(setup, doc.get("dataset"))
    raw_state = doc.get("state")
    parsed = None
    if raw_state is not None:
        with found.check():
            parsed = _parse_state(raw_state, found, None if network is None else network[:2])
    comparisons: tuple[KeptRun, ...] = ()
    if doc.get("comparisons") is not None:
        with found.check():
            comparisons = _parse_comparisons(doc["comparisons"], found)
    found.raise_any()
    assert setup is not None and network is not None
    sizes, _, dataset = network
    comparisons = tuple(_with_counts(run, setup, dataset) for run in comparisons)
    if parsed is None:
        return Experiment(
            setup=setup, sizes=sizes, dataset=dataset, title=title, comparisons=comparisons
        )
    iteration, epoch, params, history, resume = parsed
    return Experiment(
        setup=setup,
        sizes=sizes,
        params=_frozen(params),
        iteration=iteration,
        epoch=epoch,
        history=history,
        dataset=dataset,
        title=title,
        resume=resume,
        comparisons=comparisons,
    )


def _parse_network(setup: Setup, raw_data: object) -> tuple[tuple[int, ...], int, Dataset | None]:
    """The network's sizes, its number of θ and the embedded dataset."""
    dataset = None
    if raw_data is not None:
        if setup.dataset != "csv":
            raise _fail(
                "dataset",
                f"must be null for the built-in dataset {setup.dataset!r} (only CSV data is "
                "stored in the file)",
            )
        dataset = _parse_dataset(raw_data)
    n_in, n_out, dataset = _io_sizes(setup, dataset)
    for w, n in (("inputs", n_in), ("outputs", n_out)):
        if n > MAX_LAYER_SIZE:
            raise _fail("dataset", f"at most {MAX_LAYER_SIZE:_} {w}, got {n}")
    sizes = (n_in, *setup.hidden, n_out)
    n_params = _n_params(sizes, setup.bias)
    if dataset is not None:
        n_samples = dataset.X_train.shape[0] + dataset.X_test.shape[0]
    else:
        n_samples = setup.n_samples
    try:
        check_memory(
            sizes, n_samples, setup.batch_size, bias=setup.bias, momentum=setup.momentum > 0
        )
    except ValueError as exc:
        raise _fail("setup.hidden", str(exc)) from None
    if setup.params is not None and len(setup.params) != n_params:
        raise _fail(
            "setup.params",
            f"expected {n_params} numbers for the network {list(sizes)}, got {len(setup.params)}",
        )
    if setup.output_activation == "softmax" and n_out < 2:
        raise _fail("setup.output_activation", "a softmax output needs at least 2 outputs")
    return sizes, n_params, dataset


def _parse_state(
    raw_state: object, found: _Collect, network: tuple[tuple[int, ...], int] | None
) -> tuple[int, int, np.ndarray, History, ResumeState | None] | None:
    """The run's state; bad fields go to ``found`` (None then).

    ``network`` is (sizes, number of θ), None when the setup is bad.
    """
    sizes, n_params = network if network is not None else ((), None)
    state = _obj(raw_state, "state")
    _keys(state, "state", ("iteration", "epoch", "params", "history"), ("shuffle", "velocity"))
    before = len(found.errors)
    iteration = epoch = 0
    params = np.zeros(0)
    history = None
    with found.check():
        iteration = _int(state["iteration"], "state.iteration")
    if len(found.errors) == before:
        with found.check():
            epoch = _int(state["epoch"], "state.epoch", 0, iteration)
        with found.check():
            history = _parse_history(state["history"], iteration, "state.history")
    with found.check():
        params = _float_list(state["params"], "state.params")
        if n_params is not None and params.shape[0] != n_params:
            raise _fail(
                "state.params",
                f"expected {n_params} numbers for the network {list(sizes)}, got {params.shape[0]}",
            )
    resume = None
    with found.check():
        if state.get("shuffle") is not None:
            resume = _parse_shuffle(state["shuffle"], "state.shuffle")
            velocity = None
            if state.get("velocity") is not None:
                # Kept even with μ = 0: v waits, as in the app, for momentum to come back.
                velocity = _float_list(state["velocity"], "state.velocity")
                if n_params is not None and velocity.shape[0] != n_params:
                    raise _fail(
                        "state.velocity",
                        f"expected {n_params} numbers (one per θ), got {velocity.shape[0]}",
                    )
                velocity = _frozen(velocity)
            resume = resume._replace(velocity=velocity)
        elif state.get("velocity") is not None:
            raise _fail("state.velocity", "needs state.shuffle beside it")
    if len(found.errors) != before or history is None:
        return None
    return iteration, epoch, params, history, resume


def _parse_shuffle(v: object, where: str) -> ResumeState:
    """``{"position", "order", "rng"}``; sizes are checked against the trainer later."""
    d = _obj(v, where)
    _keys(d, where, ("position", "order", "rng"))
    position = _int(d["position"], f"{where}.position", 0, MAX_SAMPLES)
    items = _list(d["order"], f"{where}.order")
    for i, k in enumerate(items):
        _int(k, f"{where}.order[{i}]", 0, MAX_SAMPLES - 1)
    order = np.array(items, dtype=np.int64)
    if position > order.shape[0]:
        raise _fail(f"{where}.position", f"expected 0 to {order.shape[0]}, got {position}")
    if not np.array_equal(np.sort(order), np.arange(order.shape[0])):
        raise _fail(f"{where}.order", f"expected each of 0 to {order.shape[0] - 1} once")
    rng = _parse_rng(d["rng"], f"{where}.rng")
    order.flags.writeable = False
    return ResumeState(position, order, rng)


def _parse_rng(v: object, where: str) -> dict[str, Any]:
    """The state of NumPy's default generator (PCG64), as ``bit_generator.state`` gives it."""
    d = _obj(v, where)
    if "bit_generator" in d and d["bit_generator"] != "PCG64":
        raise _fail(f"{where}.bit_generator", f"expected 'PCG64', got {_got(d['bit_generator'])}")
    _keys(d, where, ("bit_generator", "state", "has_uint32", "uinteger"))
    inner = _obj(d["state"], f"{where}.state")
    _keys(inner, f"{where}.state", ("state", "inc"))
    state = _int(inner["state"], f"{where}.state.state", 0, 2**128 - 1)
    inc = _int(inner["inc"], f"{where}.state.inc", 1, 2**128 - 1)
    if inc % 2 == 0:
        raise _fail(f"{where}.state.inc", f"expected an odd number, got {inc}")
    rng = {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": inc},
        "has_uint32": _int(d["has_uint32"], f"{where}.has_uint32", 0, 1),
        "uinteger": _int(d["uinteger"], f"{where}.uinteger", 0, 2**32 - 1),
    }
    try:
        np.random.default_rng().bit_generator.state = rng
    except (TypeError, ValueError, KeyError, OverflowError) as exc:  # pragma: no cover
        raise _fail(where, f"not a state of NumPy's default generator ({exc})") from None
    return rng


def _reject_constant(name: str) -> None:
    raise ExperimentError(f"not valid JSON: {name} is not allowed (write null for a missing value)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: an object naming a key twice is refused (which one would count?)."""
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ExperimentError(
                    f"invalid JSON: the key {_got(key)} appears twice in one object"
                )
            seen.add(key)
    return d


def load_experiment(path: str | os.PathLike) -> Experiment:
    """Read and check an experiment file.

    Nothing outside the returned object changes, so a failed load leaves the
    open session untouched.

    Raises
    ------
    ExperimentError
        And only that: for a missing or unreadable file, text that is not
        UTF-8, invalid JSON (with line and column), or any bad field (named
        by its path, e.g. ``setup.hidden[1]``).
    """
    where = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    if not isinstance(path, (str, os.PathLike)):
        raise ExperimentError("expected a file path", file=where)
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ExperimentError("file not found", file=where) from None
    except FileRefused as exc:
        raise ExperimentError(exc.reason, file=where) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ExperimentError(
            f"line {line}, column {col}: not UTF-8 text (byte 0x{raw[exc.start]:02x})", file=where
        ) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except ExperimentError as exc:
        raise exc.with_file(where) from None
    except json.JSONDecodeError as exc:
        raise ExperimentError(
            f"line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})", file=where
        ) from None
    except RecursionError:
        raise ExperimentError("invalid JSON (nested too deeply)", file=where) from None
    except ValueError as exc:  # e.g. an integer with too many digits
        raise ExperimentError(f"invalid JSON ({exc})", file=where) from None
    try:
        return parse_experiment(doc)
    except ExperimentError as exc:
        raise exc.with_file(where) from None


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def _nan_to_none(a: np.ndarray) -> list[float | None]:
    return [None if math.isnan(x) else x for x in np.asarray(a, dtype=np.float64).tolist()]


def _finite_or_none(a: np.ndarray) -> list[float | None]:
    """NaN and ±inf (a diverged run's Err) as null."""
    return [x if math.isfinite(x) else None for x in np.asarray(a, dtype=np.float64).tolist()]


def _dataset_dict(data: Dataset) -> dict[str, Any]:
    return {
        "name": data.name,
        "task": data.task,
        "input_names": list(data.input_names),
        "output_names": list(data.output_names),
        "X_train": data.X_train.tolist(),
        "Y_train": data.Y_train.tolist(),
        "X_test": data.X_test.tolist(),
        "Y_test": data.Y_test.tolist(),
        "params": dict(data.params),
    }


def _state_dict(trainer: Trainer, batch_size: int) -> dict[str, Any]:
    params = np.asarray(trainer.net.params, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(params))
    if bad.size:
        raise _fail(f"state.params[{bad[0]}]", f"cannot save a non-finite θ ({params[bad[0]]!r})")
    h = trainer.history
    resume = trainer.resume_state()
    velocity = None
    if resume.velocity is not None:
        velocity = np.asarray(resume.velocity, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(velocity))
        if bad.size:
            raise _fail(f"state.velocity[{bad[0]}]", "cannot save a non-finite momentum")
    return {
        "iteration": int(trainer.iteration),
        "epoch": int(trainer.epoch),
        "params": params.tolist(),
        "history": _history_dict(h, batch_size),
        "shuffle": {"position": resume.position, "order": resume.order.tolist(), "rng": resume.rng},
        "velocity": None if resume.velocity is None else velocity.tolist(),
    }


def _envelope_dict(env: Envelope, columns: Sequence[str]) -> dict[str, Any]:
    d: dict[str, Any] = {
        "first": env.first.tolist(),
        "last": env.last.tolist(),
        "count": env.count.tolist(),
    }
    for c, name in enumerate(columns):
        d[f"{name}_min"] = _nan_to_none(env.lo[:, c])
        d[f"{name}_max"] = _nan_to_none(env.hi[:, c])
    return d


def _history_dict(h: LossHistory, batch_size: int) -> dict[str, Any]:
    """The history; a long run's envelopes only when there are any.

    Each batch Err's N (``batch_sizes``, format version 5) only when it is not
    what ``batch_size`` (the setup's) from the run's start gives, which is
    what a file without them is read as: most files stay readable by older
    bpviz.
    """
    d: dict[str, Any] = {
        "batch_err": _nan_to_none(h.batch_err),
        "eval_iteration": [int(k) for k in h.eval_iteration],
        "train_err": _nan_to_none(h.train_err),
        "test_err": _nan_to_none(h.test_err),
    }
    sizes = np.asarray(h.batch_sizes)
    assumed = epoch_batch_sizes(h.batch_from + 1 + np.arange(sizes.shape[0]), batch_size, h.n_train)
    if len(h.batch_envelope) or not np.array_equal(sizes, assumed):
        d["batch_sizes"] = [int(n) for n in sizes]
    if len(h.batch_envelope):
        d["batch_envelope"] = _envelope_dict(h.batch_envelope, _BATCH_COLUMNS)
    if len(h.eval_envelope):
        d["eval_envelope"] = _envelope_dict(h.eval_envelope, ("train_err", "test_err"))
    return d


def _to_json(o: object) -> object:
    """``default`` hook of json.dumps: NumPy scalars and arrays."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")


def _dumps(doc: dict[str, Any]) -> str:
    """Indented JSON, but each list of plain values (θ, a data row) on one line."""
    token = uuid.uuid4().hex
    flat: list[str] = []

    def mark(o: object) -> object:
        if isinstance(o, dict):
            return {k: mark(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            if set(map(type, o)) <= _PLAIN_NUMBERS and all(map(math.isfinite, o)):
                # A row of numbers (θ, a data row): what json.dumps writes, 10× faster.
                flat.append(f"[{', '.join(map(repr, o))}]")
                return f"@{token}:{len(flat) - 1}@"
            if all(not isinstance(x, (list, tuple, dict)) for x in o):
                flat.append(
                    json.dumps(list(o), allow_nan=False, default=_to_json, ensure_ascii=False)
                )
                return f"@{token}:{len(flat) - 1}@"
            return [mark(x) for x in o]
        return o

    text = json.dumps(mark(doc), indent=1, allow_nan=False, default=_to_json, ensure_ascii=False)
    # One pass over the text (a replace per list rescanned it: quadratic for 10^6 rows).
    text = re.sub(f'"@{token}:(\\d+)@"', lambda m: flat[int(m.group(1))], text)
    return text + "\n"


def dumps_experiment(
    setup: Setup,
    trainer: Trainer | None = None,
    dataset: Dataset | None = None,
    *,
    title: str | None = None,
    comparisons: Sequence[KeptRun] = (),
) -> str:
    """The JSON text :func:`save_experiment` writes (checked by the loader's rules).

    Raises
    ------
    ExperimentError
        When the result would not load (e.g. the setup does not match the
        trainer's network, or θ is not finite).
    """
    if setup.dataset == "csv":
        if dataset is None:
            try:
                dataset = load_csv(
                    setup.csv_path or "", test_fraction=setup.test_fraction, seed=setup.data_seed
                )
            except DatasetError as exc:
                raise _fail("setup.csv_path", str(exc)) from None
        data_dict: dict[str, Any] | None = _dataset_dict(dataset)
    else:
        data_dict = None
    doc: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
    if title is not None:
        _str(title, "title")
        doc["title"] = title
    doc["setup"] = setup.to_dict()
    doc["dataset"] = data_dict
    doc["state"] = None if trainer is None else _state_dict(trainer, setup.batch_size)
    history = doc["state"]["history"] if doc["state"] is not None else {}
    if "batch_sizes" in history:
        doc["version"] = 5  # each batch's N (and envelopes with it): older bpviz cannot read it
    elif "eval_envelope" in history:
        doc["version"] = 3  # envelopes: older bpviz cannot read them
    else:
        doc["version"] = 2  # readable by every bpviz that reads version 2
    if comparisons:
        doc["comparisons"] = [_kept_dict(run) for run in comparisons]
        doc["version"] = 5  # kept runs with their N: older bpviz cannot read them
        if any(run.diverged_at is not None for run in comparisons):
            doc["version"] = 6  # where a kept run diverged: older bpviz cannot read it
    try:
        text = _dumps(doc)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ExperimentError(f"cannot be written as JSON ({exc})") from None
    # Never write a file that would not load: check the very text.
    parse_experiment(json.loads(text))
    return text


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # someone else's process, or cannot tell: leave its file alone
    return True


def remove_stale_temp_files(path: str | os.PathLike) -> list[str]:
    """Remove temporary files :func:`atomic_write_bytes` left next to ``path``.

    A save killed between creating its temporary file and the rename (kill
    -9, a power cut) leaves ``.NAME.PID.XXXXXXXX.tmp`` behind. Such a file is
    removed when the process PID no longer runs (a live one may be saving
    right now). Returns the names removed.
    """
    target = Path(path)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.[a-z0-9_]{{8}}\.tmp")
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        m = pattern.fullmatch(name)
        if m is None or _pid_alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(target.parent / name)
            removed.append(name)
    return removed


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash never leaves a half-written file.

    The bytes go to a temporary file ``.NAME.PID.XXXXXXXX.tmp`` in the same
    directory, which is flushed, fsync'ed and then renamed over ``path``
    (:func:`os.replace` is atomic). On any failure the temporary file is
    removed and ``path`` is unchanged. A temporary file stranded by a killed
    process is removed by the next save to the same path
    (:func:`remove_stale_temp_files`). An existing file's permissions are kept.
    """
    target = Path(path)
    directory = target.parent
    remove_stale_temp_files(target)
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable (POSIX); not possible everywhere.
    with contextlib.suppress(OSError, AttributeError):
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_experiment(
    path: str | os.PathLike,
    setup: Setup,
    trainer: Trainer | None = None,
    dataset: Dataset | None = None,
    *,
    title: str | None = None,
    comparisons: Sequence[KeptRun] = (),
) -> None:
    """Save an experiment: the setup, and the trainer's θ, counters and history.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced atomically).
    setup : Setup
        The settings of the run.
    trainer : Trainer, optional
        The run to save; without it the file holds the settings only and
        loads as a fresh start.
    dataset : Dataset, optional
        The data of a CSV dataset (read from ``setup.csv_path`` if not
        given); ignored for built-in datasets, which are stored by name and
        parameters.
    title : str, optional
        A label stored in the file.
    comparisons : sequence of KeptRun, optional
        Runs kept for comparison (at most :data:`~bpviz.engine.compare.MAX_KEPT`).

    Raises
    ------
    ExperimentError
        If the experiment cannot be saved (a non-finite θ, a setup that does
        not match the trainer) or the file cannot be written; the previous
        file is then unchanged.
    """
    text = dumps_experiment(setup, trainer, dataset, title=title, comparisons=comparisons)
    where = os.fspath(path)
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # pragma: no cover - dumps_experiment checked it
        raise ExperimentError(f"cannot be written as UTF-8 ({exc.reason})", file=where) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ExperimentError(f"cannot write the file ({reason})", file=where) from exc


# ---------------------------------------------------------------------------
# Back to a trainer
# ---------------------------------------------------------------------------


def restore_trainer(experiment: Experiment) -> tuple[Trainer, Dataset]:
    """Build the experiment's trainer and put back its θ, counters and history.

    The network, data and update rule come from ``experiment.setup`` (via
    :func:`~bpviz.engine.experiment.build`); then θ, ``iteration``,
    ``epoch``, the loss history, the position in the epoch's shuffle and
    momentum's velocity are restored, so the run continues bit for bit as if
    it had never been saved. (A version 1 file holds neither of the last two:
    that run continues from a fresh shuffle with v = 0.)

    Raises
    ------
    ExperimentError
        If the network or trainer cannot be built.
    """
    try:
        trainer, data = build(experiment.setup, experiment.dataset)
    except ValueError as exc:  # DatasetError is a ValueError
        raise ExperimentError(str(exc), field="setup") from None
    if experiment.params is None:
        return trainer, data
    if trainer.net.params.shape != experiment.params.shape:
        raise _fail(
            "state.params",
            f"expected {trainer.net.params.size} numbers, got {experiment.params.size}",
        )
    trainer.net.params[...] = experiment.params
    trainer.iteration = experiment.iteration
    trainer.epoch = experiment.epoch
    h = experiment.history
    sizes, batch_env = h.batch_sizes, h.batch_envelope
    if sizes is None:  # written before bpviz recorded them: the setup's batch size throughout
        first = h.batch_from + 1
        sizes = epoch_batch_sizes(
            np.arange(first, first + h.batch_err.shape[0]), trainer.batch_size, trainer.n_train
        )
    mean = trainer.net.loss.mean
    if batch_env.lo.shape[1] == 1:
        batch_env = _widen_batch_envelope(batch_env, trainer.batch_size, trainer.n_train, mean)
    trainer.history = LossHistory.from_arrays(
        h.batch_err,
        h.eval_iteration,
        h.train_err,
        h.test_err,
        batch_env,
        h.eval_envelope,
        batch_sizes=sizes,
        n_train=trainer.n_train,
        n_test=trainer.n_test,
        mean=mean,
    )
    if experiment.resume is not None:
        try:
            trainer.set_resume_state(experiment.resume)
        except ValueError as exc:  # "part: reason"
            part, _, reason = str(exc).partition(": ")
            where = "state.velocity" if part == "velocity" else f"state.shuffle.{part}"
            raise _fail(where, f"{reason} (does not fit the rebuilt run)") from None
    return trainer, data
