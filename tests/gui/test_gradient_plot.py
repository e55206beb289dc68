"""GradientPlot: one point per whole iteration in NumPy buffers, drawn at a limited rate."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from bpviz.engine import Network, Trainer
from bpviz.engine.datasets import make_dataset
from bpviz.views.gradient_plot import MAX_POINTS, GradientPlot, layer_delta_norms


@pytest.fixture
def trainer():
    ds = make_dataset("circle", n_samples=40, seed=1)
    return Trainer(Network([2, 4, 3, 1], seed=0), ds.X_train, ds.Y_train, batch_size=8)


@pytest.fixture
def plot(qtbot):
    p = GradientPlot()
    qtbot.addWidget(p)
    p.resize(600, 400)
    p.set_layers(4)
    p.show()
    qtbot.waitExposed(p)
    return p


def curve_x(plot, k=0):
    x, _ = plot._curves[k].getOriginalDataset()
    return np.zeros(0) if x is None else x


def test_one_point_per_whole_iteration(plot, trainer):
    expected = []
    for _ in range(5):
        trainer.step()
        snap = trainer.snapshot()
        plot.show_snapshot(snap)
        plot.show_snapshot(snap)  # the same iteration again adds nothing
        expected.append(layer_delta_norms(snap))
    plot.flush()
    x, y = plot.data()
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(y.T, expected)
    np.testing.assert_array_equal(curve_x(plot), x)


def test_half_walked_iterations_are_skipped_and_a_step_back_truncates(plot, trainer):
    for _ in range(4):
        trainer.step()
        plot.show_snapshot(trainer.snapshot())
    trainer.step_phase()
    plot.show_snapshot(trainer.snapshot())  # phase 1 of iteration 5: not a point
    assert plot.point_count() == 4
    for _ in range(2):
        trainer.step_back()
    trainer.step_back()
    plot.show_snapshot(trainer.snapshot())
    assert plot.data()[0][-1] == trainer.snapshot().iteration
    plot.flush()
    assert len(curve_x(plot)) == plot.point_count()


def test_drawing_waits_for_the_timer_or_flush(plot, trainer, qtbot):
    trainer.step()
    plot.show_snapshot(trainer.snapshot())
    assert plot.is_dirty() and len(curve_x(plot)) == 0  # stored only
    qtbot.waitUntil(lambda: not plot.is_dirty(), timeout=2000)
    assert len(curve_x(plot)) == 1


def test_a_hidden_plot_draws_when_shown(plot, trainer, qtbot):
    plot.hide()
    trainer.step()
    plot.show_snapshot(trainer.snapshot())
    plot.flush()
    assert plot.is_dirty() and len(curve_x(plot)) == 0
    plot.show()
    qtbot.waitUntil(lambda: not plot.is_dirty(), timeout=2000)
    assert len(curve_x(plot)) == 1


def test_long_runs_are_thinned_not_slowed(plot):
    class Snap:
        phase = None

    for it in range(1, 3 * MAX_POINTS):
        s = Snap()
        s.iteration = it
        s.delta = [None, *(np.full((2, 3), 1.0 / it),) * 3]
        plot.show_snapshot(s)
    n = plot.point_count()
    assert MAX_POINTS // 2 <= n <= MAX_POINTS
    x, y = plot.data()
    assert np.all(np.diff(x) > 0) and x[-1] == 3 * MAX_POINTS - 1
    np.testing.assert_allclose(y[0], 1.0 / x)


def test_follows_a_dark_theme_and_the_text_size(plot, trainer, dark_theme):
    for _ in range(5):
        trainer.step()
        plot.show_snapshot(trainer.snapshot())
    plot.flush()

    def legend_color():
        return plot._legend.opts["labelTextColor"]

    def background():
        return plot.grab().toImage().pixelColor(plot.width() - 5, plot.height() // 2)

    first = plot._curves[0].opts["pen"].color()
    assert background().lightnessF() > 0.8
    dark_theme(True)
    assert background().lightnessF() < 0.3
    assert pg.mkColor(legend_color()).lightnessF() > 0.8
    # The darkest viridis colour would vanish on a dark background: the first layer's is lighter.
    assert plot._curves[0].opts["pen"].color().lightnessF() > first.lightnessF()
    dark_theme(False)
    assert background().lightnessF() > 0.8
    size = plot.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF()
    plot.set_font_scale(2.0)
    assert plot.font_scale() == 2.0
    assert plot.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF() == 2 * size


def test_the_title_is_shortened_rather_than_clipped(plot, qtbot):
    from PySide6.QtGui import QFont, QFontMetricsF

    from bpviz.views.gradient_plot import TITLE_PT, TITLES

    def fits() -> bool:
        font = QFont(plot.font())
        font.setPointSizeF(TITLE_PT * plot.font_scale())
        label = plot.plot.getPlotItem().titleLabel
        return QFontMetricsF(font).horizontalAdvance(plot.title()) <= label.width()

    assert plot.title() == TITLES[0] and fits()  # 600 px wide
    plot.resize(380, 400)
    plot.set_font_scale(1.32)
    qtbot.waitUntil(lambda: plot.plot.width() < 400)
    assert plot.title() == TITLES[1] and fits()
    plot.set_font_scale(1.0)
    plot.resize(700, 400)
    qtbot.waitUntil(lambda: plot.title() == TITLES[0])
    assert fits()


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def shown_tick_values(axis, length_px=400):
    """The numbers the axis' tick labels read, as a person would read them."""
    lo, hi = axis.range
    values = []
    for spacing, ticks in axis.tickValues(lo, hi, length_px):
        strings = axis.tickStrings(ticks, axis.autoSIPrefixScale * axis.scale, spacing)
        for text in strings:
            text = text.translate(_SUPERSCRIPT)
            mant, _, power = text.rpartition("·10") if "·" in text else ("", "", text)
            if text.startswith("10") and not mant:
                values.append(10.0 ** int(text[2:]) if len(text) > 2 else 10.0)
            elif mant:
                values.append(float(mant) * 10.0 ** int(power))
            else:
                values.append(float(text))
    return lo, hi, values


def test_log_axis_labels_read_the_true_values(plot, qtbot):
    # Exploding gradients: ‖δ‖ of about 1e7 must read as about 1e7, not 1e-19 (×1e27).
    from bpviz.engine.experiment import PRESETS, build

    trainer, _ = build(PRESETS["exploding"][1])
    plot.set_layers(trainer.net.n_layers)
    for _ in range(2):  # (the third iteration diverges)
        trainer.step()
        plot.show_snapshot(trainer.snapshot())
    plot.flush()
    _, ys = plot.data()
    qtbot.waitUntil(lambda: plot.plot.getPlotItem().getAxis("left").range[1] > 3)
    axis = plot.plot.getPlotItem().getAxis("left")
    assert "x1e" not in axis.labelString() and "×" not in axis.labelString()
    lo, hi, values = shown_tick_values(axis)
    assert values
    for v in values:
        assert 10.0**lo * 0.999 <= v <= 10.0**hi * 1.001, (v, lo, hi)
    assert 10.0**lo <= np.nanmax(ys) <= 10.0**hi


def test_a_low_plot_spends_fewer_rows_on_its_legend(plot, qtbot):
    from PySide6.QtCore import QRectF

    # The vanishing example's layers and output δ, and a kept run, in a 720p dock.
    plot.set_layers(7)
    item = plot.plot.getPlotItem()
    item.plot([0, 1], [1, 2], name="kept: same setup")
    legend = plot._legend

    def rows() -> int:
        return len({round(label.sceneBoundingRect().top()) for _s, label in legend.items})

    plot.resize(358, 326)
    qtbot.waitUntil(lambda: plot.plot.height() < 360)
    assert len(legend.items) == 7 and legend.items[-1][1].text == "kept: same setup"
    # Three rows, under the y axis too (under the view box alone it takes four), and
    # everything inside the widget: nothing pushed out past its right edge.
    qtbot.waitUntil(lambda: rows() == 3)
    shown = QRectF(0, 0, plot.plot.width(), plot.plot.height())
    assert shown.contains(item.vb.sceneBoundingRect())
    for _sample, label in legend.items:
        assert shown.contains(label.sceneBoundingRect()), label.text
