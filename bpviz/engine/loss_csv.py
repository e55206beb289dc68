"""The loss history as CSV (no Qt: the training process writes it).

Every value exactly, straight from the engine's history (pyqtgraph's CSV
exporter would write the plotted, possibly downsampled, curve instead),
written atomically. Each Err comes with its N and its value per sample, so
the columns say what the loss plot draws (see :mod:`.per_sample`).
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any

import numpy as np

from .experiment_io import atomic_write_bytes
from .per_sample import per_sample

__all__ = [
    "CSV_COLUMNS",
    "ENVELOPE_CSV_COLUMNS",
    "columns",
    "envelope_rows",
    "export_csv",
    "history_rows",
]


#: Columns of the loss CSV. Each Err is the engine's, a sum over N samples: the batch
#: (``batch_n``; the last batch of an epoch may be smaller), the whole training set,
#: the whole test set; ``*_per_sample`` is that Err / N (see :mod:`.per_sample`).
CSV_COLUMNS = (
    "iteration",
    "batch_n",
    "batch_err_sum",
    "batch_err_per_sample",
    "train_n",
    "train_err_sum",
    "train_err_per_sample",
    "test_n",
    "test_err_sum",
    "test_err_per_sample",
)
#: Columns of the loss CSV of a long run, whose older history is min/max envelopes.
ENVELOPE_CSV_COLUMNS = (
    "iteration_first",
    "iteration_last",
    "batch_n_min",
    "batch_n_max",
    "batch_err_sum_min",
    "batch_err_sum_max",
    "batch_err_per_sample_min",
    "batch_err_per_sample_max",
    "train_n",
    "train_err_sum_min",
    "train_err_sum_max",
    "train_err_per_sample_min",
    "train_err_per_sample_max",
    "test_n",
    "test_err_sum_min",
    "test_err_sum_max",
    "test_err_per_sample_min",
    "test_err_per_sample_max",
)


def columns(history: Any, envelope: bool = False) -> tuple[str, ...]:
    """The header for ``history``: ``_sum`` says "mean" instead for a loss that is a mean."""
    cols = ENVELOPE_CSV_COLUMNS if envelope else CSV_COLUMNS
    if getattr(history, "mean", False):
        cols = tuple(c.replace("_err_sum", "_err_mean") for c in cols)
    return cols


def _cell(x: float) -> str:
    return "" if math.isnan(x) else repr(float(x))


def _n_cell(n: float) -> str:
    return "" if math.isnan(n) else str(int(n))


def _counts(history: Any) -> tuple[float, float, bool]:
    """N of the training and the test Err (NaN: not known), and whether the loss is a mean."""
    n_train = getattr(history, "n_train", 0) or math.nan
    n_test = getattr(history, "n_test", math.nan)
    return float(n_train), float(n_test), bool(getattr(history, "mean", False))


def _batch_sizes(history: Any, n: int) -> np.ndarray:
    sizes = getattr(history, "batch_sizes", None)
    if sizes is None:
        return np.full(n, math.nan)
    return np.asarray(sizes, dtype=np.float64)


def history_rows(history: Any) -> list[tuple[float, ...]]:
    """The loss history as rows of :data:`CSV_COLUMNS`.

    ``history`` is a :class:`~bpviz.engine.trainer.LossHistory` (or anything
    with its arrays). Row k is iteration k: its batch's N, batch Err (a sum
    over the batch, measured before the iteration's update; NaN at k = 0,
    before any iteration) and Err per sample, then N, Err and Err per sample
    of the whole training and test sets if they were evaluated after k
    iterations (else NaN). Iteration 0 holds the initial evaluation. An
    iteration evaluated twice gets a second row. An N not known is NaN (a
    history without them), as is the test set's Err without a test set.
    """
    batch = np.asarray(history.batch_err, dtype=np.float64)
    eval_it = np.asarray(history.eval_iteration, dtype=np.int64)
    train = np.asarray(history.train_err, dtype=np.float64)
    test = np.asarray(history.test_err, dtype=np.float64)
    n = batch.shape[0]
    if n == 0 and eval_it.size == 0:
        return []
    sizes = _batch_sizes(history, n)
    n_train, n_test, mean = _counts(history)
    each = np.asarray(per_sample(batch, sizes, mean), dtype=np.float64).reshape(-1)
    last = max(n, int(eval_it.max()) if eval_it.size else 0)
    first = 0 if (eval_it.size and eval_it.min() == 0) or n == 0 else 1
    rows: list[tuple[float, ...]] = []
    e = 0
    nan = math.nan
    none = (nan, nan, nan)
    for k in range(first, last + 1):
        b = (float(sizes[k - 1]), float(batch[k - 1]), float(each[k - 1])) if 1 <= k <= n else none
        wrote = False
        while e < eval_it.size and eval_it[e] == k:
            tr, te = float(train[e]), float(test[e])
            rows.append(
                (
                    k,
                    *(b if not wrote else none),
                    n_train,
                    tr,
                    float(per_sample(tr, n_train, mean)),
                    n_test,
                    te,
                    float(per_sample(te, n_test, mean)),
                )
            )
            wrote = True
            e += 1
        if not wrote:
            rows.append((k, *b, *none, *none))
    return rows


def _has_envelope(history: Any) -> bool:
    return any(
        len(getattr(history, name, ()) or ()) for name in ("batch_envelope", "eval_envelope")
    )


def envelope_rows(history: Any) -> list[tuple[float, ...]]:
    """A long run's history as ranges: rows of :data:`ENVELOPE_CSV_COLUMNS`.

    The trainer keeps its newest iterations exactly and older ones as
    min/max buckets (:mod:`bpviz.engine.history`). One row per bucket of
    iterations ``first`` to ``last`` (its batches' N, batch Err and Err per
    sample each lie between min and max), then one row per exactly kept
    iteration (``first == last``, min == max). The training and test Err
    columns hold the min and max of the evaluations taken in the row's range
    (an evaluation bucket counts in the row holding its first iteration),
    empty if none, with their sets' N. Iteration 0 (the initial evaluation)
    gets a row of its own.
    """
    benv = history.batch_envelope
    batch = np.asarray(history.batch_err, dtype=np.float64)
    sizes = _batch_sizes(history, batch.shape[0])
    n_train, n_test, mean = _counts(history)
    each = np.asarray(per_sample(batch, sizes, mean), dtype=np.float64).reshape(-1)
    start = int(benv.count.sum()) if len(benv) else 0
    exact_it = start + 1 + np.arange(batch.shape[0], dtype=np.int64)
    first = np.concatenate([[0], np.asarray(benv.first, np.int64), exact_it])
    last = np.concatenate([[0], np.asarray(benv.last, np.int64), exact_it])
    nan = math.nan
    env_lo = np.asarray(benv.lo, float).reshape(len(benv), -1)
    env_hi = np.asarray(benv.hi, float).reshape(len(benv), -1)
    if env_lo.shape[1] < 3:  # Err only: N and Err per sample not known
        pad = np.full((len(benv), 3 - env_lo.shape[1]), nan)
        env_lo, env_hi = np.hstack([env_lo, pad]), np.hstack([env_hi, pad])
    exact_b = np.column_stack([sizes, batch, each])
    # Envelope columns are (Err, N, per sample); the CSV's order is N, Err, per sample.
    order = [1, 0, 2]
    b_lo = np.vstack([np.full((1, 3), nan), env_lo[:, order], exact_b])
    b_hi = np.vstack([np.full((1, 3), nan), env_hi[:, order], exact_b])
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
        row: list[float] = [int(first[r]), int(last[r])]
        for c in range(3):
            row += [float(b_lo[r, c]), float(b_hi[r, c])]
        for c, n_set in enumerate((n_train, n_test)):
            ev = has[r]
            row.append(n_set if ev else nan)
            row += [float(lo[r, c]), float(hi[r, c])]
            row += [
                float(per_sample(lo[r, c], n_set, mean)),
                float(per_sample(hi[r, c], n_set, mean)),
            ]
        rows.append(tuple(row))
    return rows


def export_csv(history: Any, path: str | os.PathLike) -> int:
    """Write the loss history as CSV; returns the row count.

    A run kept exactly (every run shorter than a few hundred thousand
    iterations) gets the header :data:`CSV_COLUMNS`, one row per iteration
    (:func:`history_rows`). A longer run, whose older history the trainer
    keeps as min/max envelopes, gets the header :data:`ENVELOPE_CSV_COLUMNS`
    instead, which says so: one row per range of iterations with the min and
    max of each Err (:func:`envelope_rows`). Each Err is the engine's sum,
    beside its N and its value per sample (the loss plot's curves); a loss
    that is a mean already has ``_err_mean`` columns instead of ``_err_sum``
    (:func:`columns`). Numbers are written with ``repr`` (they read back bit
    for bit); missing values (no evaluation, no test set) are empty cells.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    envelope = _has_envelope(history)
    header = columns(history, envelope)
    rows = envelope_rows(history) if envelope else history_rows(history)
    writer.writerow(header)
    cells = [
        str if c.startswith("iteration") else _n_cell if c.endswith(("_n", "_n_min", "_n_max"))
        else _cell
        for c in header
    ]  # fmt: skip
    for row in rows:
        writer.writerow([f(v) for f, v in zip(cells, row, strict=True)])
    atomic_write_bytes(path, out.getvalue().encode("utf-8"))
    return len(rows)
