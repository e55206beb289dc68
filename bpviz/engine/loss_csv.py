"""The loss history as CSV (no Qt: the training process writes it).

Every value exactly, straight from the engine's history (pyqtgraph's CSV
exporter would write the plotted, possibly downsampled, curve instead),
written atomically.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any

import numpy as np

from .experiment_io import atomic_write_bytes

__all__ = ["CSV_COLUMNS", "ENVELOPE_CSV_COLUMNS", "envelope_rows", "export_csv", "history_rows"]


#: Columns of the loss CSV.
CSV_COLUMNS = ("iteration", "batch_err", "train_err", "test_err")
#: Columns of the loss CSV of a long run, whose older history is min/max envelopes.
ENVELOPE_CSV_COLUMNS = (
    "iteration_first",
    "iteration_last",
    "batch_err_min",
    "batch_err_max",
    "train_err_min",
    "train_err_max",
    "test_err_min",
    "test_err_max",
)


def _cell(x: float) -> str:
    return "" if math.isnan(x) else repr(float(x))


def history_rows(history: Any) -> list[tuple[int, float, float, float]]:
    """The loss history as rows (iteration, batch_err, train_err, test_err).

    ``history`` is a :class:`~bpviz.engine.trainer.LossHistory` (or anything
    with its four arrays). Row k is iteration k: its batch Err (measured
    before the iteration's update; NaN at k = 0, before any iteration) and
    the Err over the whole training and test sets if they were evaluated
    after k iterations (else NaN). Iteration 0 holds the initial evaluation.
    An iteration evaluated twice gets a second row.
    """
    batch = np.asarray(history.batch_err, dtype=np.float64)
    eval_it = np.asarray(history.eval_iteration, dtype=np.int64)
    train = np.asarray(history.train_err, dtype=np.float64)
    test = np.asarray(history.test_err, dtype=np.float64)
    n = batch.shape[0]
    if n == 0 and eval_it.size == 0:
        return []
    last = max(n, int(eval_it.max()) if eval_it.size else 0)
    first = 0 if (eval_it.size and eval_it.min() == 0) or n == 0 else 1
    rows: list[tuple[int, float, float, float]] = []
    e = 0
    nan = math.nan
    for k in range(first, last + 1):
        b = float(batch[k - 1]) if 1 <= k <= n else nan
        wrote = False
        while e < eval_it.size and eval_it[e] == k:
            rows.append((k, b if not wrote else nan, float(train[e]), float(test[e])))
            wrote = True
            e += 1
        if not wrote:
            rows.append((k, b, nan, nan))
    return rows


def _has_envelope(history: Any) -> bool:
    return any(
        len(getattr(history, name, ()) or ()) for name in ("batch_envelope", "eval_envelope")
    )


def envelope_rows(history: Any) -> list[tuple[int, int, float, float, float, float, float, float]]:
    """A long run's history as ranges: (first, last, batch min, max, train min, max, test min, max).

    The trainer keeps its newest iterations exactly and older ones as
    min/max buckets (:mod:`bpviz.engine.history`). One row per bucket of
    iterations ``first`` to ``last`` (its batch Err lies between min and max),
    then one row per exactly kept iteration (``first == last``, min == max).
    The training and test Err columns hold the min and max of the
    evaluations taken in the row's range (an evaluation bucket counts in the
    row holding its first iteration), empty if none. Iteration 0 (the
    initial evaluation) gets a row of its own.
    """
    benv = history.batch_envelope
    batch = np.asarray(history.batch_err, dtype=np.float64)
    start = int(benv.count.sum()) if len(benv) else 0
    exact_it = start + 1 + np.arange(batch.shape[0], dtype=np.int64)
    first = np.concatenate([[0], np.asarray(benv.first, np.int64), exact_it])
    last = np.concatenate([[0], np.asarray(benv.last, np.int64), exact_it])
    nan = math.nan
    b_lo = np.concatenate([[nan], np.asarray(benv.lo, float)[:, 0], batch])
    b_hi = np.concatenate([[nan], np.asarray(benv.hi, float)[:, 0], batch])
    eenv = history.eval_envelope
    e_x = np.concatenate([np.asarray(eenv.first, np.int64), history.eval_iteration])
    exact_e = np.column_stack([history.train_err, history.test_err]).astype(np.float64)
    e_lo = np.concatenate([np.asarray(eenv.lo, float).reshape(-1, 2), exact_e])
    e_hi = np.concatenate([np.asarray(eenv.hi, float).reshape(-1, 2), exact_e])
    a = np.searchsorted(e_x, first, side="left")
    b = np.searchsorted(e_x, last, side="right")
    lo = np.full((first.shape[0], 2), nan)
    hi = np.full((first.shape[0], 2), nan)
    has = b > a
    if has.any():
        # The rows cover iterations 0, 1, ... without gaps, so every evaluation
        # falls in one row and each segment runs up to the next row's start.
        idx = a[has]
        lo[has] = np.fmin.reduceat(e_lo, idx, axis=0)
        hi[has] = np.fmax.reduceat(e_hi, idx, axis=0)
    keep = np.ones(first.shape[0], dtype=bool)
    keep[0] = bool(has[0])  # no row 0 without an initial evaluation
    rows = []
    for r in np.flatnonzero(keep).tolist():
        rows.append(
            (
                int(first[r]),
                int(last[r]),
                float(b_lo[r]),
                float(b_hi[r]),
                float(lo[r, 0]),
                float(hi[r, 0]),
                float(lo[r, 1]),
                float(hi[r, 1]),
            )
        )
    return rows


def export_csv(history: Any, path: str | os.PathLike) -> int:
    """Write the loss history as CSV; returns the row count.

    A run kept exactly (every run shorter than a few hundred thousand
    iterations) gets the header :data:`CSV_COLUMNS`, one row per iteration
    (:func:`history_rows`). A longer run, whose older history the trainer
    keeps as min/max envelopes, gets the header :data:`ENVELOPE_CSV_COLUMNS`
    instead, which says so: one row per range of iterations with the min and
    max of each Err (:func:`envelope_rows`). Numbers are written with
    ``repr`` (they read back bit for bit); missing values (no evaluation,
    no test set) are empty cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if _has_envelope(history):
        rows = envelope_rows(history)
        writer.writerow(ENVELOPE_CSV_COLUMNS)
        for first, last, *values in rows:
            writer.writerow((first, last, *(_cell(v) for v in values)))
    else:
        rows = history_rows(history)
        writer.writerow(CSV_COLUMNS)
        for k, b, tr, te in rows:
            writer.writerow((k, _cell(b), _cell(tr), _cell(te)))
    atomic_write_bytes(path, out.getvalue().encode("utf-8"))
    return len(rows)
