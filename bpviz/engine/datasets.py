"""Training data: built-in toy sets and user CSV files.

Everything here is pure NumPy and the standard library. A :class:`Dataset`
holds read-only ``float64`` arrays, already split into a training and a
test part, plus the ``params`` needed to rebuild it exactly.

Built-in sets (see :data:`DATASET_NAMES`)
-----------------------------------------
``lecture``
    One sample with round numbers, ``X = [[1.0, 0.5]]``, ``Y = [[1.0]]``,
    small enough to backpropagate by hand on the board. Marked as a
    regression task so the app uses squared error, as lectures usually do.
``xor4``
    The classic four-point XOR problem.
``circle``, ``xor``, ``gauss``, ``spiral``
    The classification sets of TensorFlow Playground (``dataset.ts`` in
    tensorflow/playground), inputs in about [-6, 6]. Playground's labels
    -1 / +1 become 0 / 1 here, so a sigmoid output unit fits them.
``plane``, ``multi_gauss``
    Playground's regression sets. Playground's targets lie in about
    [-1, 1]; here they are **scaled into [0, 1]** (and clipped there) so a
    sigmoid output unit can reach them.
``sine``
    One input, ``y = (sin(x) + 1) / 2`` on ``x`` in [-3, 3].

Noise
-----
``noise`` is a fraction in [0, 1]; 1.0 corresponds to the largest value of
Playground's noise slider (50, i.e. 0.5 inside Playground's generators).
As in Playground, noise moves the points for ``gauss`` and ``spiral`` but
for ``circle``, ``xor``, ``plane`` and ``multi_gauss`` it perturbs where
the *label* is looked up, so the inputs stay the same and some labels
become "wrong". For ``sine`` it is added to the target.

All randomness comes from ``np.random.default_rng(seed)`` and the random
draws do not depend on ``noise``, so equal arguments give bit-identical
arrays and changing only ``noise`` changes only what noise affects.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import operator
import os
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import FileRefused, read_regular_file
from .network import MAX_LAYER_SIZE

__all__ = [
    "DATASET_LABELS",
    "DATASET_NAMES",
    "DATASET_NOTES",
    "FIXED_DATASETS",
    "Dataset",
    "DatasetError",
    "finite_range",
    "load_csv",
    "make_dataset",
    "split_counts",
    "text_problem",
]

#: Largest ``n_samples`` :func:`make_dataset` accepts.
MAX_SAMPLES = 1_000_000
#: Longest text (a column name, a title, a path).
MAX_TEXT = 4096
#: Largest CSV file read.
MAX_CSV_BYTES = 256 * 2**20
#: Most columns a CSV header may name (inputs and outputs are each at most
#: ``MAX_LAYER_SIZE``, the largest layer; other columns are ignored).
MAX_CSV_COLUMNS = 2 * MAX_LAYER_SIZE
#: Largest ``test_fraction`` accepted; every split keeps a training sample.
MAX_TEST_FRACTION = 0.9

# Playground's noise slider goes up to 50 and its generators get slider/100.
_PLAYGROUND_MAX_NOISE = 0.5

TASKS = ("classification", "regression")


class DatasetError(ValueError):
    """Bad dataset arguments or a malformed CSV file.

    The message is a single line naming the file, the 1-based line number
    and the column where they apply. The same facts are also available as
    attributes so a GUI can point at them.

    Parameters
    ----------
    message : str
        The complete, human-readable message.
    path : str, optional
        File the error is about.
    line : int, optional
        1-based line number, as a text editor shows it.
    column : str, optional
        Name of the offending column.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset split into training and test parts.

    The arrays are copied to C-contiguous ``float64`` and made read-only
    when the object is created. Two datasets compare equal when all fields,
    including the array contents, are equal.

    Attributes
    ----------
    name : str
        Built-in name such as ``"spiral"``, or the CSV file's name.
    X_train, Y_train : numpy.ndarray
        Training inputs ``(n_train, n_in)`` and targets ``(n_train, n_out)``.
    X_test, Y_test : numpy.ndarray
        Test inputs ``(n_test, n_in)`` and targets ``(n_test, n_out)``;
        ``n_test`` may be 0.
    task : str
        ``"classification"`` (targets in {0, 1}) or ``"regression"``.
    input_names, output_names : tuple of str
        One name per input column and per output column.
    params : dict
        JSON-serialisable arguments that rebuild this dataset:
        ``make_dataset(**params)`` for built-ins (the dict includes
        ``"name"``), ``load_csv(**params)`` for CSV files (it includes
        ``"path"``).
    """

    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    task: str
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    params: dict

    def __post_init__(self) -> None:
        arrays = {}
        for field in ("X_train", "Y_train", "X_test", "Y_test"):
            arr = np.array(getattr(self, field), dtype=np.float64, order="C")
            if arr.ndim != 2:
                raise DatasetError(
                    f"Dataset {self.name!r}: {field} must be 2-D, got shape {arr.shape}"
                )
            arr.flags.writeable = False
            arrays[field] = arr
        x_tr, y_tr, x_te, y_te = arrays.values()
        if x_tr.shape[0] != y_tr.shape[0] or x_te.shape[0] != y_te.shape[0]:
            raise DatasetError(f"Dataset {self.name!r}: X and Y have different numbers of rows")
        if x_te.shape[1] != x_tr.shape[1] or y_te.shape[1] != y_tr.shape[1]:
            raise DatasetError(f"Dataset {self.name!r}: train and test have different columns")
        input_names = tuple(self.input_names)
        output_names = tuple(self.output_names)
        if len(input_names) != x_tr.shape[1] or len(output_names) != y_tr.shape[1]:
            raise DatasetError(f"Dataset {self.name!r}: column names do not match the array widths")
        if self.task not in TASKS:
            raise DatasetError(
                f"Dataset {self.name!r}: task must be one of {TASKS}, got {self.task!r}"
            )
        for field, arr in arrays.items():
            object.__setattr__(self, field, arr)
        object.__setattr__(self, "input_names", input_names)
        object.__setattr__(self, "output_names", output_names)
        object.__setattr__(self, "params", dict(self.params))

    @property
    def n_inputs(self) -> int:
        """Number of input columns."""
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Number of output columns."""
        return self.Y_train.shape[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return (
            self.name == other.name
            and self.task == other.task
            and self.input_names == other.input_names
            and self.output_names == other.output_names
            and self.params == other.params
            and all(
                np.array_equal(getattr(self, f), getattr(other, f))
                for f in ("X_train", "Y_train", "X_test", "Y_test")
            )
        )

    def __hash__(self) -> int:
        return hash(
            (
                self.name,
                self.task,
                self.input_names,
                self.output_names,
                self.X_train.shape,
                self.X_test.shape,
            )
        )


def finite_range(arrays: Sequence[np.ndarray], column: int) -> tuple[float, float] | None:
    """The smallest and largest finite value in one column of some 2-D arrays.

    None when the column holds no finite value. Each column is read once when
    it holds only finite numbers (the usual case; a few milliseconds for 10⁶
    rows, where ``X.min(axis=0)`` of a whole array takes ~30 ms); the
    non-finite values are filtered out only when there are any.
    """
    cols = [a[:, column] for a in arrays if a.shape[0]]
    if not cols:
        return None
    lo = min(float(c.min()) for c in cols)
    hi = max(float(c.max()) for c in cols)
    if math.isfinite(lo) and math.isfinite(hi):
        return lo, hi
    values = np.concatenate([c[np.isfinite(c)] for c in cols])
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


# ---------------------------------------------------------------------------
# Argument checks shared by make_dataset and load_csv
# ---------------------------------------------------------------------------


def _as_int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise DatasetError(f"{what} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise DatasetError(f"{what} must be an integer, got {value!r}") from None


def _as_float(value: object, what: str) -> float:
    if isinstance(value, bool):
        raise DatasetError(f"{what} must be a number, got {value!r}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DatasetError(f"{what} must be a number, got {value!r}") from None


def _check_split_args(test_fraction: object, seed: object) -> tuple[float, int]:
    fraction = _as_float(test_fraction, "test_fraction")
    if not 0.0 <= fraction <= MAX_TEST_FRACTION:
        raise DatasetError(
            f"test_fraction must be between 0 and {MAX_TEST_FRACTION}, got {fraction!r}"
        )
    seed_int = _as_int(seed, "seed")
    if seed_int < 0:
        raise DatasetError(f"seed must be >= 0, got {seed_int}")
    return fraction, seed_int


def _test_count(n: int, test_fraction: float) -> int:
    """Test rows of a split of ``n`` rows: rounded, and at least one training row stays."""
    return min(round(n * test_fraction), n - 1)


def _split(
    X: np.ndarray, Y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the rows and cut off ``round(n * test_fraction)`` test rows.

    At least one row always stays in the training part.
    """
    n = X.shape[0]
    n_test = _test_count(n, test_fraction)
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], Y[train], X[test], Y[test]


# ---------------------------------------------------------------------------
# Playground-style generators. Each takes (n, noise, rng), where noise is
# already in Playground's units (0 .. 0.5), and returns X (n, n_in), Y (n, 1).
# Noise arrays are drawn even when noise == 0 so the random stream, and with
# it every point, is the same for every noise level.
# ---------------------------------------------------------------------------


def _halves(n: int) -> tuple[int, int]:
    """Sizes of the positive and the negative class; they add up to ``n``."""
    return n - n // 2, n // 2


def _circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 5.0
    parts = []
    for count, (r_lo, r_hi) in zip(
        _halves(n), [(0.0, 0.5 * radius), (0.7 * radius, radius)], strict=True
    ):
        r = rng.uniform(r_lo, r_hi, count)
        angle = rng.uniform(0.0, 2.0 * np.pi, count)
        xy = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
        shift = rng.uniform(-radius, radius, (count, 2)) * noise
        label = np.hypot(*(xy + shift).T) < 0.5 * radius
        parts.append((xy, label))
    X = np.concatenate([p[0] for p in parts])
    Y = np.concatenate([p[1] for p in parts]).astype(np.float64)
    return X, Y[:, None]


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    padding = 0.3
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, padding, -padding)  # keep points off the axes
    shift = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    moved = X + shift
    Y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.float64)
    return X, Y[:, None]


def _gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # Playground maps noise 0 .. 0.5 linearly to a variance of 0.5 .. 4.
    variance = 0.5 + noise / _PLAYGROUND_MAX_NOISE * 3.5
    n_pos, n_neg = _halves(n)
    pos = rng.normal(2.0, math.sqrt(variance), (n_pos, 2))
    neg = rng.normal(-2.0, math.sqrt(variance), (n_neg, 2))
    Y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return np.concatenate([pos, neg]), Y[:, None]


def _spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    parts = []
    for count, delta in zip(_halves(n), [0.0, np.pi], strict=True):
        i = np.arange(count) / count
        r = 5.0 * i
        t = 1.75 * 2.0 * np.pi * i + delta
        jitter = rng.uniform(-1.0, 1.0, (count, 2)) * noise
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]) + jitter)
    n_pos, n_neg = _halves(n)
    Y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)])
    return np.concatenate(parts), Y[:, None]


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 6.0
    X = rng.uniform(-radius, radius, (n, 2))
    shift = rng.uniform(-radius, radius, (n, 2)) * noise
    s = (X + shift).sum(axis=1)
    # Playground: label = (x + y) / 10. Here x + y in [-12, 12] maps onto
    # [0, 1] exactly; noise can push past the ends, which are clipped.
    Y = np.clip((s + 2.0 * radius) / (4.0 * radius), 0.0, 1.0)
    return X, Y[:, None]


_MULTI_GAUSS_CENTRES = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]],
    dtype=np.float64,
)


def _multi_gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    radius = 6.0
    X = rng.uniform(-radius, radius, (n, 2))
    shift = rng.uniform(-radius, radius, (n, 2)) * noise
    moved = X + shift
    centres, signs = _MULTI_GAUSS_CENTRES[:, :2], _MULTI_GAUSS_CENTRES[:, 2]
    dist = np.linalg.norm(moved[:, None, :] - centres[None, :, :], axis=2)  # (n, 6)
    bumps = signs * np.clip(1.0 - dist / 2.0, 0.0, 1.0)  # Playground's label per centre
    # Playground keeps the bump of largest magnitude, in [-1, 1]; map to [0, 1].
    strongest = bumps[np.arange(n), np.argmax(np.abs(bumps), axis=1)]
    return X, ((strongest + 1.0) / 2.0)[:, None]


def _sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-3.0, 3.0, n)
    # noise = 1 (Playground 0.5) shifts targets by up to +-0.25, a quarter of
    # their range; the result is clipped to stay in [0, 1].
    jitter = rng.uniform(-0.5, 0.5, n) * noise
    y = np.clip((np.sin(x) + 1.0) / 2.0 + jitter, 0.0, 1.0)
    return x[:, None], y[:, None]


@dataclass(frozen=True, slots=True)
class _BuiltIn:
    label: str
    task: str
    input_names: tuple[str, ...]
    generate: Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = (
        None
    )
    fixed_X: tuple[tuple[float, ...], ...] = ()
    fixed_Y: tuple[tuple[float, ...], ...] = ()
    note: str = ""


_XY = ("x1", "x2")
_BUILT_INS: dict[str, _BuiltIn] = {
    "lecture": _BuiltIn(
        "Lecture example (by hand)",
        "regression",
        _XY,
        fixed_X=((1.0, 0.5),),
        fixed_Y=((1.0,),),
        note="one sample with round numbers, to check each phase by hand on the board",
    ),
    "xor4": _BuiltIn(
        "XOR, 4 points (classification)",
        "classification",
        _XY,
        fixed_X=((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
        fixed_Y=((0.0,), (1.0,), (1.0,), (0.0,)),
        note="the four corners of the unit square; the classic problem no single layer solves",
    ),
    "circle": _BuiltIn(
        "Circle (classification)", "classification", _XY, _circle,
        note="a disc of one class inside a ring of the other (TensorFlow Playground)",
    ),
    "xor": _BuiltIn(
        "XOR quadrants (classification)", "classification", _XY, _xor,
        note="the class is the sign of x1·x2 (TensorFlow Playground)",
    ),
    "gauss": _BuiltIn(
        "Two Gaussians (classification)", "classification", _XY, _gauss,
        note="two clouds of points, one per class (TensorFlow Playground)",
    ),
    "spiral": _BuiltIn(
        "Spiral (classification)", "classification", _XY, _spiral,
        note="two interleaved spirals, the hardest set (TensorFlow Playground)",
    ),
    "plane": _BuiltIn(
        "Plane (regression)", "regression", _XY, _plane,
        note="y grows linearly with x1 + x2 (TensorFlow Playground)",
    ),
    "multi_gauss": _BuiltIn(
        "Multi-Gaussian (regression)", "regression", _XY, _multi_gauss,
        note="y rises and falls over six bumps on the plane (TensorFlow Playground)",
    ),
    "sine": _BuiltIn(
        "Sine, 1 input (regression)", "regression", ("x",), _sine,
        note="y = (sin x + 1)/2 plus noise: one input, one output",
    ),
}  # fmt: skip

#: Every built-in dataset name, in menu order.
DATASET_NAMES: tuple[str, ...] = tuple(_BUILT_INS)
#: Human-readable label for each name in :data:`DATASET_NAMES`.
DATASET_LABELS: dict[str, str] = {name: spec.label for name, spec in _BUILT_INS.items()}
#: One line on what each built-in dataset is (the dataset menu's tooltips).
DATASET_NOTES: dict[str, str] = {name: spec.note for name, spec in _BUILT_INS.items()}
#: The built-in sets of fixed points, with how many: they use neither ``n_samples``,
#: ``noise``, ``test_fraction`` nor the seed (no test split).
FIXED_DATASETS: dict[str, int] = {
    name: len(spec.fixed_X) for name, spec in _BUILT_INS.items() if spec.generate is None
}


def make_dataset(
    name: str,
    *,
    n_samples: int = 200,
    noise: float = 0.0,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Build one of the built-in datasets.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES`.
    n_samples : int, default 200
        Total number of samples before the split, 2 .. 1 000 000.
        Ignored by ``"xor4"`` and ``"lecture"`` (but still checked).
    noise : float, default 0.0
        Noise level in [0, 1]; 1 is Playground's maximum. Ignored by
        ``"xor4"`` and ``"lecture"``.
    test_fraction : float, default 0.2
        Share of samples held out for testing, in [0, 0.9]. The count is
        rounded and at least one training sample is kept. ``"xor4"`` and
        ``"lecture"`` have no test split.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; equal arguments give
        bit-identical arrays.

    Returns
    -------
    Dataset
        Read-only arrays. Classification targets are 0 or 1, regression
        targets lie in [0, 1]. ``params`` holds all arguments, so
        ``make_dataset(**ds.params)`` rebuilds it.

    Raises
    ------
    DatasetError
        For an unknown name or an argument out of range.

    Examples
    --------
    >>> ds = make_dataset("spiral", n_samples=100, noise=0.2, seed=1)
    >>> ds.X_train.shape, ds.Y_test.shape
    ((80, 2), (20, 1))
    """
    if not isinstance(name, str) or name not in _BUILT_INS:
        raise DatasetError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")
    n = _as_int(n_samples, "n_samples")
    if not 2 <= n <= MAX_SAMPLES:
        raise DatasetError(f"n_samples must be between 2 and {MAX_SAMPLES:_}, got {n}")
    noise_f = _as_float(noise, "noise")
    if not 0.0 <= noise_f <= 1.0:
        raise DatasetError(f"noise must be between 0 and 1, got {noise_f!r}")
    fraction, seed_int = _check_split_args(test_fraction, seed)

    spec = _BUILT_INS[name]
    if spec.generate is None:
        X_train = np.array(spec.fixed_X, dtype=np.float64)
        Y_train = np.array(spec.fixed_Y, dtype=np.float64)
        X_test = np.empty((0, X_train.shape[1]))
        Y_test = np.empty((0, Y_train.shape[1]))
    else:
        rng = np.random.default_rng(seed_int)
        X, Y = spec.generate(n, noise_f * _PLAYGROUND_MAX_NOISE, rng)
        X_train, Y_train, X_test, Y_test = _split(X, Y, fraction, rng)

    return Dataset(
        name=name,
        X_train=X_train,
        Y_train=Y_train,
        X_test=X_test,
        Y_test=Y_test,
        task=spec.task,
        input_names=spec.input_names,
        output_names=("y",),
        params={
            "name": name,
            "n_samples": n,
            "noise": noise_f,
            "test_fraction": fraction,
            "seed": seed_int,
        },
    )


def split_counts(name: str, n_samples: int, test_fraction: float) -> tuple[int, int]:
    """(training, test) sample counts of :func:`make_dataset` with these arguments.

    Without generating the data (the N of a kept run's Err, say). Raises
    :class:`DatasetError` for an unknown name.
    """
    spec = _BUILT_INS.get(name)
    if spec is None:
        raise DatasetError(f"unknown dataset {name!r}; valid names: {', '.join(DATASET_NAMES)}")
    if spec.generate is None:
        return len(spec.fixed_X), 0
    n = int(n_samples)
    n_test = _test_count(n, float(test_fraction))
    return n - n_test, n_test


# ---------------------------------------------------------------------------
# CSV files
# ---------------------------------------------------------------------------


def _short(text: str, limit: int = 40) -> str:
    """``repr`` of a cell, shortened so error messages stay on one line."""
    if len(text) > limit:
        text = text[:limit] + "..."
    return repr(text)


def _read_text(path: str | os.PathLike) -> str:
    """The text of a CSV file: a regular file of at most MAX_CSV_BYTES, UTF-8."""
    where = str(path)
    if not isinstance(path, (str, os.PathLike)):
        raise DatasetError(f"path must be a str or os.PathLike, got {path!r}")
    try:
        raw = read_regular_file(path, MAX_CSV_BYTES)
    except FileNotFoundError:
        raise DatasetError(f"{where}: file not found", path=where) from None
    except FileRefused as exc:
        raise DatasetError(f"{where}: {exc.reason}", path=where) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"{where}: line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            path=where,
            line=line,
        ) from None


def _read_rows(
    reader, where: str, limit: int | None = None, offset: int = 0
) -> list[tuple[int, list[str]]]:
    """The rest of ``reader`` as ``(line_number, cells)`` pairs, blank lines dropped.

    Stops after ``limit`` rows. ``offset`` is added to the reader's line numbers
    (the lines of the file before the text the reader reads).
    """
    rows: list[tuple[int, list[str]]] = []
    last_line = reader.line_num
    try:
        for cells in reader:
            first_line, last_line = last_line + 1, reader.line_num
            if len(cells) <= 1 and not "".join(cells).strip():
                continue  # blank line
            rows.append((first_line + offset, [cell.strip() for cell in cells]))
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        line = reader.line_num + offset
        raise DatasetError(
            f"{where}: line {line}: malformed CSV ({exc})", path=where, line=line
        ) from None
    return rows


def text_problem(s: str) -> str | None:
    """Why ``s`` cannot be a name or other text field (None when it can).

    Text must be encodable as UTF-8 (no lone surrogates), hold no control
    characters (NUL, newline...) and be at most :data:`MAX_TEXT` characters.
    """
    if len(s) > MAX_TEXT:
        return f"text longer than {MAX_TEXT:_} characters ({len(s):_})"
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode (lone surrogate U+{ord(s[exc.start]):04X})"
    for ch in s:
        if unicodedata.category(ch) == "Cc":
            return f"contains a control character (U+{ord(ch):04X})"
    return None


def _too_many_rows(where: str) -> DatasetError:
    return DatasetError(
        f"{where}: more than {MAX_SAMPLES:_} data rows (the most samples bpviz trains on)",
        path=where,
    )


#: Lines per block of the chunked reader (:func:`_chunked_values`).
CSV_CHUNK_LINES = 2**16


def _check_row_count(text: str, skip: int, where: str) -> None:
    """Refuse more than MAX_SAMPLES data rows (before any cell is looked at)."""
    if text.count("\n") + text.count("\r") - skip > MAX_SAMPLES:
        # Possibly too many rows: count them (blank lines are not rows).
        lines = io.StringIO(text, newline="")
        for _ in range(skip):
            lines.readline()
        if sum(1 for line in lines if line.strip()) > MAX_SAMPLES:
            raise _too_many_rows(where)


def _fast_values(text: str, skip: int, n_columns: int) -> np.ndarray | None:
    """Every data row as numbers, read by NumPy's C reader; None if anything is unusual.

    ``skip`` is the number of lines before the data (the header and the lines
    before it). None (an empty cell, a word, a ragged row, a non-finite
    number...) sends the caller to the precise reader, which names the line,
    column and cell.
    """
    try:
        with warnings.catch_warnings():
            # Blank lines are not rows (NumPy >= 1.23 says so once per call, harmlessly);
            # no rows at all is the slow reader's message.
            warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
            values = np.loadtxt(
                io.StringIO(text),
                dtype=np.float64,
                delimiter=",",
                comments=None,
                quotechar='"',
                skiprows=skip,
                ndmin=2,
            )
    except ValueError:
        return None
    if values.shape[1] != n_columns or not np.isfinite(values).all():
        return None
    return values


def _too_few_rows(n: int, where: str) -> DatasetError:
    return DatasetError(
        f"{where}: only {n} data row(s) after the header, need at least 2", path=where
    )


def _slow_values(reader, header: list[str], wanted: list[int], where: str) -> np.ndarray:
    """The data rows cell by cell, naming the line, column and cell of the first bad one."""
    data_rows = _read_rows(reader, where, limit=MAX_SAMPLES + 1)
    if len(data_rows) > MAX_SAMPLES:
        raise _too_many_rows(where)
    if len(data_rows) < 2:
        raise _too_few_rows(len(data_rows), where)
    return _cell_values(data_rows, header, wanted, where)


def _chunked_values(
    text: str, skip: int, header: list[str], wanted: list[int], where: str
) -> np.ndarray:
    """The data rows in blocks of :data:`CSV_CHUNK_LINES` lines, each read by NumPy's C reader.

    A block NumPy refuses (or reads as something unusual: a non-finite number,
    another number of columns) is read again cell by cell by the precise
    reader, which names the line, column and cell of the first bad one. Only
    that block is read twice, so a huge file with a bad last cell is refused
    about as fast as a good one loads. Only for text without quotes, whose
    records are single lines (a block cannot cut a quoted field in two).
    """
    lines = io.StringIO(text, newline="")
    for _ in range(skip):
        lines.readline()
    parts: list[np.ndarray] = []
    n_rows = 0
    first_line = skip  # lines before this block
    while block_lines := list(itertools.islice(lines, CSV_CHUNK_LINES)):
        block = "".join(block_lines)
        values = _fast_values(block, 0, len(header))
        if values is not None:
            values = values[:, wanted]
        else:
            reader = csv.reader(io.StringIO(block, newline=""), skipinitialspace=True)
            rows = _read_rows(reader, where, offset=first_line)
            try:
                values = _cell_values(rows, header, wanted, where) if rows else None
            except DatasetError:
                # As the precise reader of the whole file: too few rows comes first.
                if n_rows + len(rows) < 2:
                    rest = sum(1 for line in lines if line.strip())
                    if n_rows + len(rows) + rest < 2:
                        raise _too_few_rows(n_rows + len(rows) + rest, where) from None
                raise
        if values is not None and len(values):
            parts.append(values)
            n_rows += len(values)
            if n_rows > MAX_SAMPLES:  # (counted before, by _check_row_count)
                raise _too_many_rows(where)
        first_line += len(block_lines)
    if n_rows < 2:
        raise _too_few_rows(n_rows, where)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _cell_values(
    data_rows: list[tuple[int, list[str]]], header: list[str], wanted: list[int], where: str
) -> np.ndarray:
    """The wanted cells of ``data_rows`` as numbers; the first bad one is named."""
    values = np.empty((len(data_rows), len(wanted)))
    for r, (line, cells) in enumerate(data_rows):
        if len(cells) != len(header):
            raise DatasetError(
                f"{where}: line {line} has {len(cells)} fields, header has {len(header)}",
                path=where,
                line=line,
            )
        for c, index in enumerate(wanted):
            cell, column = cells[index], header[index]
            prefix = f"{where}: line {line}, column {column!r}:"
            if not cell:
                raise DatasetError(f"{prefix} empty cell", path=where, line=line, column=column)
            number = _parse_number(cell)
            if number is None:
                raise DatasetError(
                    f"{prefix} {_short(cell)} is not a number", path=where, line=line, column=column
                )
            if not math.isfinite(number):
                raise DatasetError(
                    f"{prefix} {_short(cell)} is not a finite number",
                    path=where,
                    line=line,
                    column=column,
                )
            values[r, c] = number
    return values


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _resolve_columns(
    selection: object, header: list[str], what: str, where: str
) -> list[int] | None:
    """Turn names / 0-based indices into a list of distinct column indices."""
    if selection is None:
        return None
    items = [selection] if isinstance(selection, (str, int, np.integer)) else selection
    try:
        items = list(items)  # type: ignore[call-overload]
    except TypeError:
        raise DatasetError(
            f"{where}: {what} must be a list of column names or indices", path=where
        ) from None
    if not items:
        raise DatasetError(f"{where}: {what} is empty", path=where)
    indices: list[int] = []
    for item in items:
        if isinstance(item, str):
            if item.strip() not in header:
                raise DatasetError(
                    f"{where}: {what}: no column named {item!r}; "
                    f"columns are {', '.join(map(repr, header))}",
                    path=where,
                    column=item,
                )
            index = header.index(item.strip())
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            index = int(item)
            if not -len(header) <= index < len(header):
                raise DatasetError(
                    f"{where}: {what}: column index {index} out of range, the file has "
                    f"{len(header)} columns (0..{len(header) - 1})",
                    path=where,
                )
            index %= len(header)
        else:
            raise DatasetError(
                f"{where}: {what}: {item!r} is neither a column name nor an index", path=where
            )
        if index in indices:
            raise DatasetError(
                f"{where}: {what}: column {header[index]!r} is listed twice",
                path=where,
                column=header[index],
            )
        indices.append(index)
    return indices


def load_csv(
    path: str | os.PathLike,
    *,
    input_columns: Sequence[str | int] | None = None,
    output_columns: Sequence[str | int] | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load a dataset from a comma-separated UTF-8 file with a header row.

    Blank lines are skipped, cells are stripped of surrounding spaces and
    only the selected columns have to be numeric (other columns, such as an
    id or a comment, may hold anything).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file. Its first non-blank line names the columns.
    input_columns : sequence of str or int, optional
        Input columns, by header name or 0-based index. Default: every
        column that is not an output.
    output_columns : sequence of str or int, optional
        Output columns, by header name or 0-based index. Default: the last
        column.
    test_fraction : float, default 0.2
        Share of rows held out for testing, in [0, 0.9]; at least one row
        stays in the training part.
    seed : int, default 0
        Seed of the shuffle that precedes the split.

    Returns
    -------
    Dataset
        ``name`` is the file name; ``task`` is ``"classification"`` when
        every output value is 0 or 1, else ``"regression"``; ``params``
        (with ``"path"`` and the columns by name) rebuilds it via
        ``load_csv(**ds.params)``.

    Raises
    ------
    DatasetError
        With a one-line message naming the file, line and column, for an
        unreadable, empty or malformed file, a bad column selection, fewer
        than 2 data rows, or bad ``test_fraction`` / ``seed``.
    """
    where = str(path)
    fraction, seed_int = _check_split_args(test_fraction, seed)
    problem = text_problem(where)
    if problem is not None:  # it is stored as text with the data (and saved with a run)
        raise DatasetError(f"{where!r}: the path cannot be stored: {problem}", path=where)
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    rows = _read_rows(reader, where, limit=1)
    if not rows:
        raise DatasetError(f"{where}: file is empty", path=where)

    header_line, header = rows[0]
    header_end = reader.line_num
    if len(header) > MAX_CSV_COLUMNS:
        raise DatasetError(
            f"{where}: line {header_line}: {len(header):_} columns, at most "
            f"{MAX_CSV_COLUMNS:_} are allowed (inputs and outputs up to {MAX_LAYER_SIZE:_} each)",
            path=where,
            line=header_line,
        )
    if all(_parse_number(cell) is not None for cell in header):
        raise DatasetError(
            f"{where}: line {header_line}: missing header row; "
            "the first line must name the columns, e.g. 'x1,x2,y'",
            path=where,
            line=header_line,
        )
    seen: set[str] = set()
    for i, column in enumerate(header):
        if not column:
            raise DatasetError(
                f"{where}: line {header_line}: column {i} has an empty name",
                path=where,
                line=header_line,
            )
        problem = text_problem(column)
        if problem is not None:
            raise DatasetError(
                f"{where}: line {header_line}: the name of column {i}: {problem}",
                path=where,
                line=header_line,
            )
        if column in seen:
            raise DatasetError(
                f"{where}: line {header_line}: column name {column!r} appears twice",
                path=where,
                line=header_line,
                column=column,
            )
        seen.add(column)
    if len(header) < 2:
        raise DatasetError(
            f"{where}: line {header_line}: need at least 2 columns (inputs and an output), "
            f"header has {len(header)}",
            path=where,
            line=header_line,
        )

    outputs = _resolve_columns(output_columns, header, "output_columns", where)
    inputs = _resolve_columns(input_columns, header, "input_columns", where)
    if outputs is None:
        outputs = [len(header) - 1]
    if inputs is None:
        inputs = [i for i in range(len(header)) if i not in outputs]
        if not inputs:
            raise DatasetError(f"{where}: no columns left for the inputs", path=where)
    for index in inputs:
        if index in outputs:
            raise DatasetError(
                f"{where}: column {header[index]!r} is both an input and an output",
                path=where,
                column=header[index],
            )

    for what, chosen in (("inputs", inputs), ("outputs", outputs)):
        if len(chosen) > MAX_LAYER_SIZE:
            raise DatasetError(
                f"{where}: {len(chosen):_} {what}, at most {MAX_LAYER_SIZE:_} are allowed "
                "(the largest layer)",
                path=where,
            )

    wanted = inputs + outputs
    _check_row_count(text, header_end, where)
    if '"' not in text:
        values = _chunked_values(text, header_end, header, wanted, where)
    else:  # a quoted field may span lines: the whole file at once
        fast = _fast_values(text, header_end, len(header))
        if fast is not None and fast.shape[0] >= 2:
            values = fast[:, wanted]
        else:
            values = _slow_values(reader, header, wanted, where)
        del fast
    del text

    X, Y = values[:, : len(inputs)], values[:, len(inputs) :]
    task = "classification" if np.all((Y == 0.0) | (Y == 1.0)) else "regression"
    X_train, Y_train, X_test, Y_test = _split(X, Y, fraction, np.random.default_rng(seed_int))
    input_names = tuple(header[i] for i in inputs)
    output_names = tuple(header[i] for i in outputs)
    return Dataset(
        name=Path(path).name,
        X_train=X_train,
        Y_train=Y_train,
        X_test=X_test,
        Y_test=Y_test,
        task=task,
        input_names=input_names,
        output_names=output_names,
        params={
            "path": where,
            "input_columns": list(input_names),
            "output_columns": list(output_names),
            "test_fraction": fraction,
            "seed": seed_int,
        },
    )
