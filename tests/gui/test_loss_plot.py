"""LossPlot: exact point bookkeeping, step-back truncation, inf/NaN, log-y, throttling."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from bpviz.engine import Network, Trainer
from bpviz.engine.datasets import make_dataset
from bpviz.views.colors import format_number
from bpviz.views.loss_plot import LossPlot


@dataclass
class LossSnap:
    """Just the loss fields of a Snapshot (by default every N is 1: Err per sample is Err)."""

    losses_from: int
    new_losses: np.ndarray
    eval_from: int = 0
    new_eval_iterations: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_train_err: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_test_err: np.ndarray = field(default_factory=lambda: np.zeros(0))
    new_batch_sizes: np.ndarray | None = None
    n_train: int = 1
    n_test: int = 1
    loss_mean: bool = False

    def __post_init__(self) -> None:
        if self.new_batch_sizes is None:
            self.new_batch_sizes = np.ones(len(self.new_losses))


@pytest.fixture
def plot(qtbot):
    p = LossPlot()
    qtbot.addWidget(p)
    p.resize(900, 500)
    p.show()
    qtbot.waitExposed(p)
    return p


@pytest.fixture
def trainer():
    ds = make_dataset("circle", n_samples=60, seed=1)
    net = Network([2, 4, 1], seed=0)
    return Trainer(net, ds.X_train, ds.Y_train, ds.X_test, ds.Y_test, batch_size=8)


def curve_points(item):
    x, _ = item.getData()
    return 0 if x is None else len(x)


def test_holds_exactly_the_losses_appended(plot, trainer):
    total = 0
    for n in (1, 7, 0, 30, 2):
        trainer.run(n)
        total += n
        plot.show_snapshot(trainer.snapshot())
    assert plot.point_count() == total == len(trainer.history)
    x, y = plot.data()
    np.testing.assert_array_equal(x, np.arange(1, total + 1))  # Err m at losses_from + m + 1
    h = trainer.history
    np.testing.assert_array_equal(y, h.batch_per_sample)  # drawn: Err/N
    err, n = plot.batch_sums()
    np.testing.assert_array_equal(err, h.batch_err)  # the engine's sums, kept beside
    np.testing.assert_array_equal(n, h.batch_sizes)
    plot.flush()
    assert curve_points(plot._batch_curve) == total


def test_eval_points_follow_eval_from(plot, trainer):
    trainer.run(20)
    plot.show_snapshot(trainer.snapshot())
    its, train, test = plot.eval_data()
    h = trainer.history
    np.testing.assert_array_equal(its, h.eval_iteration)
    np.testing.assert_array_equal(train, h.train_err / trainer.n_train)
    np.testing.assert_array_equal(test, h.test_err / trainer.n_test)
    sums = plot.eval_sums()
    np.testing.assert_array_equal(sums[0], h.train_err)
    np.testing.assert_array_equal(sums[1], h.test_err)
    assert plot.sample_counts() == (trainer.n_train, trainer.n_test) == (48, 12)
    assert plot.eval_count() == trainer.history.n_eval


def test_step_back_truncates_to_losses_from(plot, trainer):
    trainer.run(10)
    plot.show_snapshot(trainer.snapshot())
    assert plot.point_count() == 10
    trainer.step_back()
    trainer.step_back()
    back = trainer.snapshot()
    assert back.losses_from == 8
    plot.show_snapshot(back)
    assert plot.point_count() == 8
    trainer.run(3)
    plot.show_snapshot(trainer.snapshot())
    assert plot.point_count() == 11
    np.testing.assert_array_equal(plot.data()[1], trainer.history.batch_per_sample)
    np.testing.assert_array_equal(plot.batch_sums()[1], trainer.history.batch_sizes)
    np.testing.assert_array_equal(plot.eval_data()[0], trainer.history.eval_iteration)


def test_buffers_grow_past_their_first_capacity(plot):
    for start in range(0, 5000, 1000):
        plot.show_snapshot(LossSnap(start, np.linspace(1, 2, 1000)))
    assert plot.point_count() == 5000
    assert plot.data()[0][-1] == 5000


def test_redraws_are_throttled_to_the_timer(plot, qtbot):
    for m in range(200):
        plot.show_snapshot(LossSnap(m, np.array([1.0 / (m + 1)])))
    assert plot.point_count() == 200
    assert plot.is_dirty()
    assert curve_points(plot._batch_curve) == 0  # nothing drawn yet: only stored
    qtbot.waitUntil(lambda: not plot.is_dirty())
    assert curve_points(plot._batch_curve) == 200


def test_flush_applies_pending_data_at_once(plot):
    plot.show_snapshot(LossSnap(0, np.array([3.0, 2.0, 1.0])))
    plot.flush()
    assert not plot.is_dirty()
    assert curve_points(plot._batch_curve) == 3


def test_inf_and_nan_survive_linear_and_log_axes(plot):
    values = np.array([1.0, np.inf, np.nan, 0.0, -1.0, 1e-12, 1e300, 0.5])
    plot.show_snapshot(
        LossSnap(
            0,
            values,
            0,
            np.array([0.0, 4.0]),
            np.array([np.inf, 0.0]),
            np.array([np.nan, -2.0]),
        )
    )
    plot.flush()
    assert not plot.grab().isNull()
    plot.set_log_y(True)
    assert plot.log_y()
    plot.flush()
    assert not plot.grab().isNull()
    plot.hover_at(2.0)
    assert "NaN" in plot.readout_text()
    plot.set_log_y(False)
    assert not plot.grab().isNull()


def test_log_toggle_syncs_with_its_check_box(plot, qtbot):
    with qtbot.waitSignal(plot.log_y_changed) as blocker:
        plot._log_box.setChecked(True)
    assert blocker.args == [True]
    assert plot.log_y()
    plot.set_log_y(False)
    assert not plot._log_box.isChecked()


def test_the_readout_gives_batch_err_then_the_full_set_errs(plot, trainer):
    trainer.run(30)
    plot.show_snapshot(trainer.snapshot())
    plot.flush()
    lines = plot.readout_text().split("\n")
    assert len(lines) == 2
    # The engine's Err (a sum), its N and its value per sample (what the curve shows).
    h = trainer.history
    f = format_number
    err, n = h.batch_err[-1], int(h.batch_sizes[-1])
    assert lines[0] == f"latest: iteration 30: batch Err/N = {f(err)}/{n} = {f(err / n)}"
    train, test = h.train_err[-1], h.test_err[-1]
    assert lines[1] == (
        f"training Err/N = {f(train)}/48 = {f(train / 48)}, "
        f"test Err/N = {f(test)}/12 = {f(test / 12)}"
    )
    # On screen: which iteration beside the log box, then a line per curve, so worded.
    assert plot.readout.text() == "latest: iteration 30"
    table = plot.readout.table.text()
    assert f"Err/N = {f(err)}/{n} = {f(err / n)}" in table
    assert f"Err/N = {f(test)}/12 = {f(test / 12)}" in table
    # In a narrow dock the lines keep to the plot's width, the check box level with the first.
    plot.resize(300, 400)
    plot.layout().activate()
    assert plot.readout.table.sizeHint().width() <= plot.width()
    assert abs(plot._log_box.geometry().top() - plot.readout.geometry().top()) <= 4
    assert plot.readout.table.geometry().top() > plot._log_box.geometry().bottom() - 4


def test_clear_forgets_everything(plot, trainer):
    trainer.run(5)
    plot.show_snapshot(trainer.snapshot())
    plot.clear()
    assert plot.point_count() == 0 and plot.eval_count() == 0
    assert curve_points(plot._batch_curve) == 0


def test_test_curve_appears_only_with_a_test_set(plot, qtbot):
    plot.show_snapshot(LossSnap(0, np.ones(3), 0, np.array([0.0]), np.ones(1), np.full(1, np.nan)))
    plot.flush()
    assert not plot._test_curve.isVisible()
    plot.show_snapshot(LossSnap(3, np.ones(3), 1, np.array([3.0]), np.ones(1), np.ones(1)))
    plot.flush()
    assert plot._test_curve.isVisible()
    names = [label.text for _, label in plot.plot_item.legend.items]
    assert any("test" in n for n in names)


def test_hover_readout_names_iteration_and_err(plot, trainer):
    trainer.run(12)
    plot.show_snapshot(trainer.snapshot())
    plot.flush()
    text = plot.hover_at(5.2)
    assert text.startswith("iteration 5: batch Err/N = ")
    err5 = trainer.history.batch_err[4]
    assert f"batch Err/N = {format_number(err5)}/8 = {format_number(err5 / 8)}" in text
    assert "training Err/N = " in text and "test Err/N = " in text
    # Evaluated once an epoch (6 batches of 8): the readout says for which θ.
    assert text.endswith(" (training and test at iteration 6)")
    assert "(training and test at iteration 6)" in plot.readout.table.text()
    latest = plot.hover_at(None)
    assert latest.startswith("latest: iteration 12")


def test_mouse_moves_update_the_readout(plot, trainer, qtbot):
    trainer.run(30)
    plot.show_snapshot(trainer.snapshot())
    plot.flush()
    vb = plot.plot_item.vb
    scene_pos = vb.mapViewToScene(vb.viewRect().center())
    plot.plot_item.scene().sigMouseMoved.emit(scene_pos)
    qtbot.waitUntil(lambda: not plot.readout_text().startswith("latest"))
    assert plot.readout_text().startswith("iteration ")


def test_title_is_the_loss_formula(plot):
    plot.set_loss_formula("Err = Σ(y−ŷ)²")
    assert plot.loss_formula() == "Err = Σ(y−ŷ)²"
    assert "Σ(y−ŷ)²" in plot.plot_item.titleLabel.text


def test_presenter_font_scale(plot, trainer):
    trainer.run(3)
    plot.show_snapshot(trainer.snapshot())
    plot.set_font_scale(2.0)
    assert plot.readout.font().pointSizeF() >= 22
    assert not plot.grab().isNull()


def test_plot_item_is_exposed_for_exporters(plot):
    import pyqtgraph as pg

    assert isinstance(plot.plot_item, pg.PlotItem)


def test_long_histories_are_drawn_as_settled_blocks_plus_a_live_tail(plot):
    from bpviz.views.loss_plot import BLOCK

    n = 3 * BLOCK + 123
    step = 10_000
    for start in range(0, n, step):
        m = min(step, n - start)
        plot.show_snapshot(LossSnap(start, np.full(m, 0.5)))
        plot.flush()
        assert plot.drawn_batch_points() == plot.point_count() == start + m
    head_x, _ = plot._batch_head.getData()
    tail_x, _ = plot._batch_curve.getData()
    assert len(head_x) == 3 * BLOCK
    assert tail_x[0] == head_x[-1]  # the line is unbroken
    assert tail_x[-1] == n
    # A step back below a block boundary re-cuts the head.
    plot.show_snapshot(LossSnap(BLOCK + 5, np.array([0.25])))
    plot.flush()
    assert plot.point_count() == plot.drawn_batch_points() == BLOCK + 6
    assert len(plot._batch_head.getData()[0]) == BLOCK
    plot.clear()
    assert plot.drawn_batch_points() == 0
    assert not plot.grab().isNull()


def _settle(qtbot, plot):
    plot.flush()
    plot.grab()  # a paint applies a pending auto-range
    QCoreApplication.processEvents()  # and what it posted (axes resized …): no fixed wait


def test_the_view_range_changes_only_when_data_leave_its_rounded_bounds(plot, qtbot):
    vb = plot.plot_item.vb
    plot.show_snapshot(LossSnap(0, np.linspace(5.0, 1.0, 900)))
    _settle(qtbot, plot)
    _settle(qtbot, plot)  # axes sized for their labels
    before = vb.viewRange()
    (x0, x1), (y0, y1) = before
    assert x0 <= 1 and x1 >= 900 and y0 <= 1.0 and y1 >= 5.0
    changes = []
    vb.sigRangeChanged.connect(lambda *_: changes.append(vb.viewRange()))
    for start in range(900, 1000, 10):  # new points inside the rounded bounds (x ≤ 1000)
        plot.show_snapshot(LossSnap(start, np.full(10, 1.5)))
        _settle(qtbot, plot)
    assert not changes, (before, changes)
    assert vb.viewRange() == before
    plot.show_snapshot(LossSnap(1000, np.full(5000, 9.0)))  # beyond them
    _settle(qtbot, plot)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert changes and x1 >= 6000 and y1 >= 9.0 and y0 <= 1.0


def test_log_y_range_covers_the_data(plot, qtbot):
    plot.show_snapshot(LossSnap(0, np.geomspace(10.0, 1e-4, 500)))
    plot.set_log_y(True)
    _settle(qtbot, plot)
    (_, _), (y0, y1) = plot.plot_item.vb.viewRange()
    assert y0 <= -4 and y1 >= 1


def test_training_and_test_err_may_follow_later_but_flush_applies_them(plot, qtbot):
    def snap(start):
        its = np.array([start + 10.0])
        return LossSnap(start, np.ones(10), start // 10, its, np.ones(1), np.ones(1))

    def eval_points():
        x, _ = plot._train_curve.getOriginalDataset()
        return 0 if x is None else len(x)

    plot.show_snapshot(snap(0))
    plot.redraw()  # what the timer does
    assert eval_points() == 1
    plot.show_snapshot(snap(10))
    plot.redraw()  # too soon for training/test Err: batch Err only
    assert plot.drawn_batch_points() == 20
    assert eval_points() == 1 and plot.is_dirty()
    qtbot.waitUntil(lambda: not plot.is_dirty(), timeout=2000)  # a little later
    assert eval_points() == 2
    plot.show_snapshot(snap(20))
    plot.flush()  # at once
    assert eval_points() == 3 and not plot.is_dirty()


def test_visible_data_only_auto_range_is_left_to_the_curves(plot, qtbot):
    plot.show_snapshot(LossSnap(0, np.concatenate([np.full(500, 100.0), np.linspace(1, 2, 500)])))
    _settle(qtbot, plot)
    vb = plot.plot_item.vb
    vb.setAutoVisible(y=True)
    vb.setXRange(600, 1000, padding=0)
    vb.enableAutoRange(y=True)
    _settle(qtbot, plot)
    (_, _), (_, y1) = vb.viewRange()
    assert y1 < 50  # only the visible part (1 ≤ Err ≤ 2) counts


# -- long sessions: bounded memory, envelopes drawn as every point (issue 16) ---------------


@pytest.fixture
def small_bounds(monkeypatch):
    """Tiny history bounds (engine and plot), so a few thousand iterations fold and merge."""
    from bpviz.engine import history

    monkeypatch.setattr(history, "EXACT", 64)
    monkeypatch.setattr(history, "CHUNK", 16)
    monkeypatch.setattr(history, "MAX_BUCKETS", 8)


def xor_trainer():
    ds = make_dataset("xor4")
    net = Network([2, 3, 1], seed=2)
    return Trainer(net, ds.X_train, ds.Y_train, batch_size=4)


def test_a_long_stream_is_held_in_bounded_memory_and_drawn_as_every_point(small_bounds, qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    trainer = xor_trainer()
    every = []
    sizes = set()
    for i in range(400):
        trainer.run(13)
        snap = trainer.snapshot()
        every.extend((snap.new_losses / snap.new_batch_sizes).tolist())  # drawn per sample
        plot.show_snapshot(snap)
        if i >= 200:
            sizes.add(plot._batch.x.shape[0])
    every = np.array(every)
    assert plot.point_count() == len(every) == 5200 and plot.folded_count() > 0
    assert len(sizes) == 1  # the buffers stopped growing
    x, y = plot.data()
    assert x.size < 200
    # Per pixel column as wide as the widest bucket: the drawn min/max are those of every value.
    width = int(plot._batch.bucket_counts().max())
    for a in range(1, len(every) + 1, width):
        drawn = y[(x >= a) & (x < a + width)]
        assert drawn.min() == every[a - 1 : a - 1 + width].min()
        assert drawn.max() == every[a - 1 : a - 1 + width].max()
    # The newest values are exact, and stepping back truncates them.
    np.testing.assert_array_equal(y[-50:], every[-50:])
    trainer.step_back()
    plot.show_snapshot(trainer.snapshot())
    assert plot.point_count() == 5199
    plot.flush()
    # Hovering over the oldest stretch names its range and its min and max.
    text = plot.hover_at(2.0)
    assert text.startswith("iterations 1–") and "batch Err/N from " in text
    assert ", N = 4)" in text  # xor4 in batches of 4
    # (xor4 is evaluated every iteration: its old evaluations are buckets too.)
    assert "\ntraining Err/N from " in text and "(evaluations at iterations 0–" in text
    lines = text.split("\n")
    each = lines[0].split("Err/N from ")[1].split(" (")[0]
    lo, hi = (float(v.replace("−", "-")) for v in each.split(" to "))
    first = every[: int(plot._batch.bucket_counts()[0])]  # the first bucket's values
    assert (lo, hi) == (float(format_number(first.min())), float(format_number(first.max())))


def test_a_restored_long_run_arrives_as_buckets_then_exact_values(small_bounds, qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    trainer = xor_trainer()
    trainer.run(3000)  # no snapshot taken: most values are folded before delivery
    snap = trainer.snapshot()
    assert snap.new_batch_envelope is not None and snap.new_eval_envelope is not None
    plot.show_snapshot(snap)
    h = trainer.history
    assert plot.point_count() == 3000 and plot.eval_count() == h.n_eval
    x, y = plot.data()
    ex, ey = h.batch_envelope.pairs(2)  # the engine's own range of Err per sample
    np.testing.assert_array_equal(x, np.concatenate([ex, np.arange(h.batch_from + 1, 3001)]))
    np.testing.assert_array_equal(y, np.concatenate([ey, h.batch_per_sample]))
    _, esum = h.batch_envelope.pairs(0)
    np.testing.assert_array_equal(plot.batch_sums()[0], np.concatenate([esum, h.batch_err]))
    # Training goes on: exact values append after the buckets.
    trainer.run(5)
    plot.show_snapshot(trainer.snapshot())
    assert plot.point_count() == 3005
    assert plot.data()[1][-5:].tolist() == h.batch_per_sample[-5:].tolist()


def test_a_million_losses_are_held_in_bounded_buffers(plot):
    from bpviz.engine import history

    losses = np.linspace(1.0, 0.0, 1_000_000)
    plot.show_snapshot(LossSnap(0, losses))
    plot.flush()
    assert plot.point_count() == 1_000_000
    x, y = plot.data()
    assert x.size <= history.EXACT + history.CHUNK + 2 * history.MAX_BUCKETS
    assert y.max() == 1.0 and y.min() == 0.0
    np.testing.assert_array_equal(y[-history.EXACT :], losses[-history.EXACT :])


def test_log_axis_labels_read_the_true_values(plot, qtbot):
    from tests.gui.test_gradient_plot import shown_tick_values

    plot.show_snapshot(LossSnap(0, np.geomspace(3e27, 1e25, 50)))
    plot.set_log_y(True)
    _settle(qtbot, plot)
    axis = plot.plot_item.getAxis("left")
    assert "x1e" not in axis.labelString()
    lo, hi, values = shown_tick_values(axis)
    assert values
    assert all(10.0**lo * 0.999 <= v <= 10.0**hi * 1.001 for v in values), (values, lo, hi)


def test_log_scale_turns_on_by_itself_once_err_spans_more_than_two_decades(plot, qtbot):
    plot.append_losses(0, np.geomspace(1.0, 0.011, 50))  # max / min < 100
    assert not plot.log_y()
    assert not plot._log_box.isChecked()
    with qtbot.waitSignal(plot.log_y_changed) as blocker:
        plot.append_losses(50, np.array([0.009]))  # 1 / 0.009 > 100
    assert blocker.args == [True]
    assert plot.log_y()
    assert plot._log_box.isChecked()  # the check box shows what the axis does
    assert plot.plot_item.getAxis("left").logMode
    assert not plot.log_y_chosen()


def test_err_that_is_not_finite_and_positive_does_not_switch_the_axis(plot):
    plot.append_losses(0, np.array([1.0, 0.0, -3.0, np.inf, np.nan, 0.5]))
    assert not plot.log_y()


def test_the_users_choice_of_axis_holds_until_the_next_reset(plot):
    plot.append_losses(0, np.array([1.0, 0.5]))
    plot._log_box.click()  # on
    plot._log_box.click()  # and off again: the user wants a linear axis
    assert plot.log_y_chosen()
    assert not plot.log_y()
    plot.append_losses(2, np.geomspace(0.5, 1e-6, 20))
    assert not plot.log_y()
    plot.clear()  # a reset: automatic again, from a linear axis
    assert not plot.log_y_chosen()
    plot.append_losses(0, np.geomspace(1.0, 1e-4, 20))
    assert plot.log_y()


def test_a_chosen_log_axis_stays_when_the_err_span_is_small(plot):
    plot.choose_log_y(True)
    plot.append_losses(0, np.array([1.0, 0.9]))
    assert plot.log_y()
    plot.clear()
    assert not plot.log_y()


# -- Err per sample: sums over different N on one axis would lie ----------------------------


def test_the_same_error_per_sample_on_160_and_on_40_samples_is_drawn_at_one_height(plot):
    # Every sample's squared error 0.1: Err = 16 over the 160 training samples, 4 over
    # the 40 test samples, 1 over a batch of 10. Drawn as sums, the test curve would sit
    # at a quarter of the training curve and the batch curve far below both.
    its = np.array([0.0, 16.0])
    plot.show_snapshot(
        LossSnap(
            0,
            np.full(16, 1.0),
            0,
            its,
            np.full(2, 16.0),
            np.full(2, 4.0),
            new_batch_sizes=np.full(16, 10.0),
            n_train=160,
            n_test=40,
        )
    )
    plot.flush()
    _, train, test = plot.eval_data()
    _, batch = plot.data()
    assert train.tolist() == test.tolist() == [0.1, 0.1]
    assert set(batch.tolist()) == {0.1}
    # And the curves as drawn, not just the data held.
    for item in (plot._train_curve, plot._test_curve, plot._batch_curve):
        assert set(item.getOriginalDataset()[1].tolist()) == {0.1}
    assert plot.axis_text() == "Err / N (per sample)"
    assert plot.plot_item.getAxis("left").labelText == "Err / N (per sample)"
    assert plot.legend_labels() == [
        "batch (per iteration), N = 10",
        "training set, N = 160",
        "test set, N = 40",
    ]
    assert plot.hover_at(16.0).split("\n") == [
        "iteration 16: batch Err/N = 1/10 = 0.1",
        "training Err/N = 16/160 = 0.1, test Err/N = 4/40 = 0.1",
    ]
    assert plot.latest_eval() == (16, 16.0, 4.0)  # the engine's Err
    assert plot.latest_eval_text() == "training Err/N = 16/160 = 0.1, test Err/N = 4/40 = 0.1"


def test_the_batch_mean_divides_by_the_smaller_last_batch(plot):
    # 100 training samples in batches of 32: each epoch ends with a batch of 4.
    ds = make_dataset("circle", n_samples=125, seed=1)
    trainer = Trainer(Network([2, 4, 1], seed=0), ds.X_train, ds.Y_train, batch_size=32)
    trainer.run(8)
    plot.show_snapshot(trainer.snapshot())
    plot.flush()
    err = trainer.history.batch_err
    _, drawn = plot.data()
    np.testing.assert_array_equal(drawn, err / np.array([32, 32, 32, 4] * 2))
    assert drawn[3] != err[3] / 32
    text = plot.hover_at(4.0)
    assert f"batch Err/N = {format_number(err[3])}/4 = {format_number(err[3] / 4)}" in text
    assert plot.legend_labels()[0] == "batch (per iteration), N = 4–32"


def test_one_sample_everywhere_reads_err_as_it_is(plot):
    # The lecture's example: one training sample, no test set. Err/N is Err.
    plot.show_snapshot(
        LossSnap(0, np.array([0.5, 0.25]), 0, np.array([0.0, 1.0, 2.0]), np.array([0.6, 0.5, 0.2]),
                 np.full(3, np.nan), n_train=1, n_test=0)
    )  # fmt: skip
    plot.flush()
    assert plot.axis_text() == "Err"
    assert plot.legend_labels() == ["batch (per iteration), N = 1", "training set, N = 1"]
    assert plot.hover_at(2.0).split("\n") == [
        "iteration 2: batch Err = 0.25 (N = 1)",
        "training Err = 0.2 (N = 1)",
    ]


def test_a_loss_that_is_a_mean_already_is_drawn_as_it_is(plot):
    plot.show_snapshot(
        LossSnap(0, np.array([0.5]), 0, np.array([1.0]), np.array([0.4]), np.array([0.3]),
                 new_batch_sizes=np.array([8.0]), n_train=160, n_test=40, loss_mean=True)
    )  # fmt: skip
    plot.flush()
    assert plot.data()[1].tolist() == [0.5] and plot.eval_data()[1].tolist() == [0.4]
    assert plot.axis_text() == "Err (a mean over the samples)"
    assert plot.hover_at(1.0).startswith("iteration 1: batch Err = 0.5 (mean over N = 8)")


def test_the_compact_legend_still_names_each_n(plot, qtbot):
    plot.show_snapshot(
        LossSnap(0, np.ones(3), 0, np.array([3.0]), np.ones(1), np.ones(1),
                 new_batch_sizes=np.full(3, 10.0), n_train=160, n_test=40)
    )  # fmt: skip
    plot.flush()
    plot.resize(600, 300)  # a dock on a 720-pixel screen
    qtbot.waitUntil(lambda: plot._compact_legend)
    assert plot.legend_labels() == ["batch N=10", "train N=160", "test N=40"]
    assert plot.axis_text() == "Err / N"  # no room for "(per sample)"


def test_a_low_plot_gives_its_curves_the_height_a_title_and_legend_would_waste(plot, qtbot):
    # The Loss dock of a 1280×720 window: 358 × 326 with the readout over the plot.
    plot.show_snapshot(
        LossSnap(0, np.ones(3), 0, np.array([3.0]), np.ones(1), np.ones(1),
                 new_batch_sizes=np.full(3, 10.0), n_train=160, n_test=40)
    )  # fmt: skip
    plot.flush()
    plot.resize(358, 326)
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.waitUntil(lambda: plot._compact_legend)
    pi = plot.plot_item
    legend = pi.legend

    # Three entries in one row, under the y axis too (centred under the view box they
    # would take two); every entry whole inside the plot.
    def rows() -> int:
        return len({round(label.sceneBoundingRect().top()) for _s, label in legend.items})

    assert len(plot.legend_labels()) == 3
    qtbot.waitUntil(lambda: rows() == 1)
    scene = pi.scene().sceneRect()
    for _sample, label in legend.items:
        assert scene.contains(label.sceneBoundingRect()), label.text
    # The title takes its line, not pyqtgraph's 30 px row; the curves get the rest.
    assert pi.titleLabel.sceneBoundingRect().height() <= 24
    assert pi.vb.sceneBoundingRect().height() >= 0.5 * plot.plot_widget.height()
    # A high plot keeps its legend centred under the view box (as the title is over it).
    plot.resize(900, 700)
    qtbot.waitUntil(lambda: not plot._compact_legend)
    qtbot.waitUntil(
        lambda: (
            abs(legend.sceneBoundingRect().center().x() - pi.vb.sceneBoundingRect().center().x())
            < 3
        )
    )
    assert legend.sceneBoundingRect().left() >= pi.vb.sceneBoundingRect().left() - 1


def test_the_readout_groups_iterations_as_the_status_bar_does(plot):
    # Iterations 12,341 … 12,350 of a long run, the full sets evaluated at 12,344.
    plot.show_snapshot(
        LossSnap(12_340, np.full(10, 0.5), 0, np.array([12_344.0]), np.ones(1), np.ones(1))
    )
    plot.flush()
    assert plot.hover_at(None).startswith("latest: iteration 12,350: batch Err")
    assert plot.hover_at(None).endswith("(training and test at iteration 12,344)")
    assert plot.hover_at(12_341.0).startswith("iteration 12,341: ")
