"""Err per sample: the one scale on which the loss curves can be compared.

The notes' Err = Σ(y−ŷ)² is a sum over the samples it is computed on: the
batch of an iteration (N = its batch size; the last batch of an epoch may be
smaller), the whole training set, the whole test set. Sums over different N
cannot share an axis: a test set a quarter the size of the training set
would look four times better. So the loss curves are drawn as Err/N, while
the engine's Err (what the formulas panel and the worked iteration show)
stays the sum. A loss that is a mean already (``Loss.mean``, e.g. mse) is
drawn as it is.

Plain Python: the loss plot, the status bar, exported figures, the CSV,
animation captions and the command line all word it through
:func:`err_text`, so they cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "CURVE_NAMES",
    "axis_label",
    "curve_label",
    "err_range_text",
    "err_text",
    "n_text",
    "per_sample",
]

#: What each loss curve is of, for legends: (full, compact). The compact names leave out
#: what the plot's title and axis already say, to fit a dock on a 720-pixel screen.
CURVE_NAMES = {
    "batch": ("batch (per iteration)", "batch"),
    "train": ("training set", "train"),
    "test": ("test set", "test"),
}


def per_sample(err, n, mean: bool = False):
    """Err/N (a float or an array); ``err`` itself when the loss is a mean already.

    N = 0 (no test set) gives NaN.
    """
    if mean:
        return err
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(err, np.where(np.asarray(n) > 0, n, np.nan))
    return float(out) if np.ndim(out) == 0 else out


def n_text(lo: float, hi: float | None = None) -> str:
    """ "N = 10", or "N = 6–10" for a range of batch sizes ("N = ?" if unknown)."""
    hi = lo if hi is None else hi
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "N = ?"
    a, b = int(lo), int(hi)
    return f"N = {a}" if a == b else f"N = {a}–{b}"


def _g4(x: float) -> str:
    return f"{x:.4g}"


def err_text(
    name: str, err: float, n: float, mean: bool = False, fmt: Callable[[float], str] = _g4
) -> str:
    """One Err with its N and its value per sample: "training Err/N = 19.7/160 = 0.1231".

    The engine's Err (a sum over N samples) over N is what the loss curves
    draw. ``name`` says what the Err is of ("batch", "training", "test"; ""
    for none). With N = 1 Err/N is Err: "batch Err = 0.52 (N = 1)". A loss
    that is a mean already: "batch Err = 0.05 (mean over N = 8)".
    """
    head = f"{name} Err" if name else "Err"
    if mean:
        return f"{head} = {fmt(err)} (mean over {n_text(n)})"
    if n == 1:
        return f"{head} = {fmt(err)} ({n_text(n)})"
    n_str = str(int(n)) if math.isfinite(n) else "?"
    return f"{head}/N = {fmt(err)}/{n_str} = {fmt(per_sample(err, n))}"


def err_range_text(
    name: str,
    err: tuple[float, float],
    n: tuple[float, float],
    each: tuple[float, float],
    mean: bool = False,
    fmt: Callable[[float], str] = _g4,
) -> str:
    """A range (an old stretch of a long run kept as its min and max), e.g. "batch Err/N from
    0.05 to 0.11 (Err from 0.4 to 0.9, N = 8)".

    ``err``, ``n`` and ``each`` are (min, max) of the sums, of N and per
    sample (each its own min and max: they need not come from one iteration).
    """
    head = f"{name} Err" if name else "Err"
    sums = f"from {fmt(err[0])} to {fmt(err[1])}"
    if mean:
        return f"{head} {sums} (mean over {n_text(*n)})"
    if n[0] == n[1] == 1:
        return f"{head} {sums} ({n_text(*n)})"
    return f"{head}/N from {fmt(each[0])} to {fmt(each[1])} (Err {sums}, {n_text(*n)})"


def curve_label(key: str, n: float | None, n_hi: float | None = None, compact: bool = False) -> str:
    """A loss curve's legend entry with its N: "training set, N = 160" (compact: "train
    N=160"); the batch's a range if its batches differ ("batch (per iteration), N = 4–32").
    Without a known N, the name alone."""
    base = CURVE_NAMES[key][1 if compact else 0]
    if n is None or not math.isfinite(n):
        return base
    text = n_text(n, n_hi)
    return f"{base} {text.replace(' ', '')}" if compact else f"{base}, {text}"


def axis_label(all_one: bool, mean: bool = False) -> str:
    """The Err axis: "Err / N (per sample)"; "Err" when every N is 1 (Err/N is Err)."""
    if mean:
        return "Err (a mean over the samples)"
    if all_one:
        return "Err"
    return "Err / N (per sample)"
