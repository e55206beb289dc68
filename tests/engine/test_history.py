"""The bounded loss history: exact newest values, min/max envelopes of older ones (issue 16)."""

from __future__ import annotations

import csv
import io
import itertools

import numpy as np
import pytest

from bpviz.engine import history as history_module
from bpviz.engine.experiment import PRESETS, build
from bpviz.engine.experiment_io import (
    dumps_experiment,
    load_experiment,
    restore_trainer,
    save_experiment,
)
from bpviz.engine.history import CompactSeries, Envelope


@pytest.fixture
def small(monkeypatch):
    """Tiny bounds, so a few thousand iterations fold and merge."""
    monkeypatch.setattr(history_module, "EXACT", 64)
    monkeypatch.setattr(history_module, "CHUNK", 16)
    monkeypatch.setattr(history_module, "MAX_BUCKETS", 8)


def filled(n: int, k: int = 1, seed: int = 0) -> tuple[CompactSeries, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.integers(1, 4, size=n))
    y = rng.normal(size=(n, k))
    y[rng.random(n) < 0.05, k - 1] = np.nan  # a missing test Err now and then
    s = CompactSeries(k, exact=64, chunk=16, max_buckets=8)
    for i in range(n):
        s.append(int(x[i]), *y[i])
    return s, x, y


@pytest.mark.parametrize("n", [0, 1, 63, 64, 80, 81, 500, 5000])
def test_every_point_is_exact_or_in_exactly_one_bucket_with_its_true_min_and_max(n):
    s, x, y = filled(n, k=2)
    env = s.envelope()
    assert len(s) == n == env.n_points + s.n_exact
    assert len(env) <= 8 + 1 and s.n_exact <= 64 + 16
    # The exact tail is the newest points, untouched.
    assert np.array_equal(s.x, x[n - s.n_exact :])
    assert np.array_equal(s.y(0), y[n - s.n_exact :, 0], equal_nan=True)
    # Buckets: consecutive, in order, each with the min and max of its own points.
    start = 0
    for j in range(len(env)):
        pts = slice(start, start + int(env.count[j]))
        assert env.first[j] == x[pts][0] and env.last[j] == x[pts][-1]
        for c in range(2):
            col = y[pts, c]
            want_lo = np.nan if np.isnan(col).all() else np.nanmin(col)
            want_hi = np.nan if np.isnan(col).all() else np.nanmax(col)
            assert np.array_equal([env.lo[j, c], env.hi[j, c]], [want_lo, want_hi], equal_nan=True)
        start = pts.stop
    assert start == n - s.n_exact


def test_memory_stays_flat():
    s = CompactSeries(1, exact=64, chunk=16, max_buckets=8)
    sizes = []
    for i in range(200_000):
        s.append(i + 1, float(i % 7))
        if i % 20_000 == 0:
            sizes.append(s.nbytes)
    assert len(set(sizes[1:])) == 1
    assert s.n_buckets <= 9 and s.width >= 200_000 // 64


def test_an_envelope_draws_as_every_point_when_a_pixel_spans_whole_buckets():
    """Per pixel column, the drawn min and max equal those of every point it covers."""
    n = 3000
    rng = np.random.default_rng(1)
    y = rng.normal(size=n).cumsum()
    s = CompactSeries(1, exact=64, chunk=16, max_buckets=8)
    for i in range(n):
        s.append(i + 1, y[i])
    env = s.envelope()
    ex, ey = env.pairs()
    x_all = np.concatenate([ex, s.x.astype(float)])
    y_all = np.concatenate([ey, s.y(0)])
    width = int(env.count.max())
    # Pixel columns as wide as the widest bucket, aligned to the buckets (which start at 1).
    edges = np.arange(1, n + width + 1, width)
    for a, b in itertools.pairwise(edges):
        drawn = y_all[(x_all >= a) & (x_all < b)]
        every = y[a - 1 : b - 1]
        if every.size:
            assert drawn.min() == every.min() and drawn.max() == every.max()


def test_truncate_inside_the_exact_part_and_inside_the_envelope():
    s, _, _ = filled(1000)
    n_env = s.n_compacted
    s.truncate(len(s) - 5)
    assert len(s) == 995 and s.n_compacted == n_env
    s.truncate(n_env - 1)  # inside the envelope: whole buckets only
    assert len(s) <= n_env - 1 and s.n_exact == 0
    assert len(s) == s.envelope().n_points


def test_trainer_history_folds_and_keeps_the_newest_exactly(small):
    trainer, _ = build(PRESETS["xor4"][1])
    trainer.run(3000)
    h = trainer.history
    assert len(h) == 3000 and h.batch_from > 0 and len(h.batch_envelope) <= 9
    assert len(h.batch_err) + h.batch_from == 3000
    # Same values as a run whose history is never folded (bounds back to default).
    history_module.EXACT = 10**6  # (the fixture puts the small bound back afterwards)
    reference, _ = build(PRESETS["xor4"][1])
    reference.run(3000)
    ref = reference.history.batch_err
    assert np.array_equal(h.batch_err, ref[h.batch_from :])
    env = h.batch_envelope
    assert env.first[0] == 1 and env.last[-1] == h.batch_from
    ends = np.cumsum(env.count)
    starts = ends - env.count
    for j in range(len(env)):
        seg = ref[starts[j] : ends[j]]
        assert env.lo[j, 0] == seg.min() and env.hi[j, 0] == seg.max()
    # Step back still works bit for bit at the newest iterations.
    before = trainer.history.batch_err[-2]
    assert trainer.step_back()
    assert len(trainer.history) == 2999 and trainer.history.batch_err[-1] == before


def test_snapshots_deliver_every_value_once_and_folded_ones_as_buckets(small):
    trainer, _ = build(PRESETS["xor4"][1])
    got: list[float] = []
    for _ in range(300):
        trainer.run(7)
        snap = trainer.snapshot()
        assert snap.new_batch_envelope is None and snap.losses_from == len(got)
        got.extend(snap.new_losses.tolist())
    assert len(got) == 2100 and trainer.history.batch_from > 0
    assert got[trainer.history.batch_from :] == trainer.history.batch_err.tolist()
    # No snapshot for longer than the exact bound: the folded values arrive as buckets.
    trainer.run(500)
    snap = trainer.snapshot()
    env = snap.new_batch_envelope
    assert env is not None and not env.first.flags.writeable
    assert env.first[0] <= 2101 <= env.last[-1] + 1
    assert snap.losses_from == trainer.history.batch_from == env.last[-1]
    assert snap.losses_from + len(snap.new_losses) == trainer.iteration == 2600


def test_a_long_run_round_trips_through_a_file_with_its_envelopes(small, tmp_path):
    setup = PRESETS["xor4"][1]
    trainer, _ = build(setup)
    trainer.run(2500)
    path = tmp_path / "long.json"
    save_experiment(path, setup, trainer)
    text = path.read_text(encoding="utf-8")
    assert '"version": 5' in text and "batch_envelope" in text and "batch_size_min" in text
    exp = load_experiment(path)
    restored, _ = restore_trainer(exp)
    for name in ("batch_err", "batch_sizes", "eval_iteration", "train_err", "test_err"):
        a, b = getattr(trainer.history, name), getattr(restored.history, name)
        assert np.array_equal(a, b, equal_nan=True), name
    for name in ("batch_envelope", "eval_envelope"):
        a, b = getattr(trainer.history, name), getattr(restored.history, name)
        assert all(np.array_equal(p, q, equal_nan=True) for p, q in zip(a, b, strict=True))
    trainer.run(100)
    restored.run(100)
    assert np.array_equal(trainer.net.params, restored.net.params)
    assert dumps_experiment(setup, trainer) == dumps_experiment(setup, restored)


def test_the_csv_of_a_long_run_says_it_holds_ranges(small, tmp_path):
    pytest.importorskip("PySide6")
    from bpviz.export import ENVELOPE_CSV_COLUMNS, export_csv

    trainer, _ = build(PRESETS["xor4"][1])
    trainer.run(2500)
    path = tmp_path / "loss.csv"
    n = export_csv(trainer.history, path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == ENVELOPE_CSV_COLUMNS and len(rows) == n + 1
    first = [int(r[0]) for r in rows[1:]]
    last = [int(r[1]) for r in rows[1:]]
    assert first[0] == last[0] == 0  # the initial evaluation
    assert all(b + 1 == a for a, b in zip(first[1:], last[:-1], strict=True))  # no gaps
    assert last[-1] == 2500
    h = trainer.history
    col = {c: i for i, c in enumerate(rows[0])}
    tail = rows[-len(h.batch_err) :]
    lo, hi = col["batch_err_sum_min"], col["batch_err_sum_max"]
    assert [float(r[lo]) for r in tail] == h.batch_err.tolist() == [float(r[hi]) for r in tail]
    assert [int(r[col["batch_n_min"]]) for r in tail] == h.batch_sizes.tolist()
    # xor4 is evaluated every iteration: each exact row holds its own training Err.
    lo, hi = col["train_err_sum_min"], col["train_err_sum_max"]
    assert float(tail[-1][lo]) == float(tail[-1][hi]) == h.train_err[-1]
    each = float(tail[-1][col["train_err_per_sample_max"]])
    assert each == h.train_err[-1] / 4 and tail[-1][col["train_n"]] == "4"
    # The folded rows: the batch's range of N and of Err per sample.
    env = h.batch_envelope
    row = rows[2]  # the first bucket (row 1 is the initial evaluation)
    assert int(row[col["iteration_first"]]) == env.first[0]
    assert float(row[col["batch_err_per_sample_min"]]) == env.lo[0, 2]
    assert int(row[col["batch_n_max"]]) == env.hi[0, 1]


def test_envelope_pairs_follow_peak_order():
    env = Envelope(
        np.array([1, 5]), np.array([4, 8]), np.array([4, 4]),
        np.array([[0.5], [0.1]]), np.array([[2.0], [0.9]]),
    )  # fmt: skip
    x, y = env.pairs()
    assert x.tolist() == [1, 1, 5, 5] and y.tolist() == [2.0, 0.5, 0.9, 0.1]


def test_the_trainer_history_stops_growing_once_at_its_bound(small):
    trainer, _ = build(PRESETS["xor4"][1])
    while not trainer.history.at_bound:
        trainer.run(100)
    size = trainer.history.nbytes
    for _ in range(20):
        trainer.run(997)
        assert trainer.history.nbytes == size
    assert len(trainer.history) == trainer.iteration


# -- N of every Err: the batch's samples (the last batch of an epoch may be smaller) --------


def circle_trainer(batch_size: int):
    """100 training samples (125 with a 20% test split): batches of 32 end an epoch with 4."""
    from bpviz.engine.experiment import Setup

    setup = Setup(dataset="circle", n_samples=125, hidden=(3,), batch_size=batch_size)
    return setup, build(setup)[0]


def test_the_history_records_each_batchs_n_and_err_per_sample():
    _, trainer = circle_trainer(32)
    trainer.run(9)
    h = trainer.history
    assert (h.n_train, h.n_test) == (trainer.n_train, trainer.n_test) == (100, 25)
    assert h.batch_sizes.tolist() == [32, 32, 32, 4] * 2 + [32]
    np.testing.assert_array_equal(h.batch_per_sample, h.batch_err / h.batch_sizes)
    trainer.set_batch_size(50)  # takes effect at once, mid-epoch
    trainer.run(3)
    assert h.batch_sizes[-3:].tolist() == [50, 18, 50]


def test_folded_batch_buckets_keep_the_range_of_n_and_of_err_per_sample(small):
    _, trainer = circle_trainer(32)
    err, n = [], []
    for _ in range(100):
        trainer.run(5)
        snap = trainer.snapshot()  # every value once, exactly, before it is folded
        err += snap.new_losses.tolist()
        n += snap.new_batch_sizes.tolist()
    each = np.array(err) / np.array(n)
    env = trainer.history.batch_envelope
    assert len(env) and env.lo.shape[1] == 3
    for first, last, lo, hi in zip(env.first, env.last, env.lo, env.hi, strict=True):
        part = slice(first - 1, last)
        assert (lo[1], hi[1]) == (min(n[part]), max(n[part]))
        assert (lo[2], hi[2]) == (each[part].min(), each[part].max())
    # Not the bucket's Err over its N: a bucket of 32s and a 4 has its own per-sample range.
    assert np.any(env.lo[:, 2] != env.lo[:, 0] / env.hi[:, 1])


def test_a_run_whose_batch_size_changed_saves_its_batch_sizes(tmp_path):
    setup, trainer = circle_trainer(32)
    trainer.run(5)
    plain = dumps_experiment(setup, trainer)
    assert '"version": 2' in plain and "batch_sizes" not in plain  # the setup says it all
    trainer.set_batch_size(50)
    trainer.run(2)
    path = tmp_path / "changed.json"
    save_experiment(path, setup.with_(batch_size=50), trainer)
    text = path.read_text(encoding="utf-8")
    assert '"version": 5' in text and "batch_sizes" in text
    restored, _ = restore_trainer(load_experiment(path))
    assert restored.history.batch_sizes.tolist() == [32, 32, 32, 4, 32, 50, 18]
    each = restored.history.batch_per_sample
    np.testing.assert_array_equal(each, trainer.history.batch_per_sample)


def test_a_file_without_batch_sizes_is_read_with_the_setups_batch_size(tmp_path):
    import json

    setup, trainer = circle_trainer(32)
    trainer.run(6)
    doc = json.loads(dumps_experiment(setup, trainer))
    assert "batch_sizes" not in doc["state"]["history"]
    restored, _ = restore_trainer(load_experiment(_write(tmp_path, doc)))
    assert restored.history.batch_sizes.tolist() == [32, 32, 32, 4, 32, 32]
    assert (restored.history.n_train, restored.history.n_test) == (100, 25)


def test_an_old_long_runs_envelope_gets_a_range_of_n_and_bounds_per_sample(small, tmp_path):
    import json

    setup, trainer = circle_trainer(32)
    trainer.run(600)
    doc = json.loads(dumps_experiment(setup, trainer))
    h = doc["state"]["history"]
    env = h["batch_envelope"]
    for c in ("batch_size", "batch_err_per_sample"):  # what a version 3 file holds
        del env[f"{c}_min"], env[f"{c}_max"]
    del h["batch_sizes"]
    doc["version"] = 3
    restored, _ = restore_trainer(load_experiment(_write(tmp_path, doc)))
    new, old = trainer.history.batch_envelope, restored.history.batch_envelope
    np.testing.assert_array_equal(old.lo[:, :2], new.lo[:, :2])  # Err, and N as it was
    np.testing.assert_array_equal(old.hi[:, :2], new.hi[:, :2])
    assert np.all(old.lo[:, 2] <= new.lo[:, 2]) and np.all(old.hi[:, 2] >= new.hi[:, 2])
    np.testing.assert_array_equal(restored.history.batch_sizes, trainer.history.batch_sizes)


def _write(tmp_path, doc):
    import json

    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
