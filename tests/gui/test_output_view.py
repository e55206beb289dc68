"""OutputView and bpviz.engine.predict: ŷ over the input plane from a snapshot's θ."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPalette

from bpviz.engine import Network, Trainer
from bpviz.engine.datasets import make_dataset
from bpviz.engine.predict import predict, predict_layers
from bpviz.views.colors import DIVERGING_MAP
from bpviz.views.output_view import GRID, REGION_STRENGTH, OutputView


@pytest.fixture
def view(qtbot):
    v = OutputView()
    qtbot.addWidget(v)
    v.resize(700, 600)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def xor():
    ds = make_dataset("xor4")
    net = Network([2, 4, 1], seed=0)
    trainer = Trainer(net, ds.X_train, ds.Y_train, batch_size=4)
    trainer.run(1500)
    return ds, net, trainer.snapshot()


def shown(view, xor):
    """Show the trained XOR net and its data in ``view``, drawn; returns ``xor``."""
    ds, net, snap = xor
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(snap)
    view.flush()
    return xor


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("act", "out", "loss"),
    [("tanh", "sigmoid", "sse"), ("relu", "softmax", "softmax_ce"), ("sigmoid", "linear", "mse")],
)
def test_predict_equals_the_network_forward_pass(bias, act, out, loss):
    net = Network([2, 5, 3, 3], activation=act, output_activation=out, loss=loss, bias=bias, seed=2)
    if bias:
        net.biases[0][:] = 0.25
    X = np.random.default_rng(0).normal(size=(9, 2))
    np.testing.assert_array_equal(
        predict(net.config(), net.weights, net.biases, X), net.forward(X).o[-1]
    )
    layers = predict_layers(net.config(), net.weights, net.biases, X)
    for a, b in zip(layers, net.forward(X).o, strict=True):
        np.testing.assert_array_equal(a, b)


def test_predict_checks_shapes():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="shape"):
        predict(net.config(), net.weights, net.biases, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="weight matrices"):
        predict(net.config(), net.weights[:1], net.biases, np.zeros((4, 2)))


def test_trained_xor_gives_a_non_uniform_map(view, xor):
    shown(view, xor)
    heat = view.heatmap()
    assert heat.shape == (GRID, GRID)
    assert heat.max() - heat.min() > 0.5
    # Corners: rows follow x2, columns x1. XOR is 1 at (0, 1) and (1, 0).
    x0, x1, y0, y1 = view.extent()
    assert x0 < 0 < 1 < x1 and y0 < 0 < 1 < y1

    def at(a, b):
        col = int((a - x0) / (x1 - x0) * GRID)
        row = int((b - y0) / (y1 - y0) * GRID)
        return heat[row, col]

    assert at(0, 1) > 0.5 and at(1, 0) > 0.5
    assert at(0, 0) < 0.5 and at(1, 1) < 0.5
    assert not view.message_visible()
    assert not view.grab().isNull()


def test_heatmap_equals_predict_on_the_grid(view, xor):
    _, net, snap = shown(view, xor)
    x0, x1, y0, y1 = view.extent()
    cx = x0 + (np.arange(GRID) + 0.5) * (x1 - x0) / GRID
    cy = y0 + (np.arange(GRID) + 0.5) * (y1 - y0) / GRID
    gx, gy = np.meshgrid(cx, cy)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    want = predict(net.config(), snap.weights, snap.biases, grid)
    np.testing.assert_allclose(view.heatmap(), want[:, 0].reshape(GRID, GRID))


def test_three_inputs_show_a_message_instead(view):
    view.set_network(Network([3, 4, 1]).config())
    assert view.message_visible()
    assert "2 inputs" in view.message_text() and "has 3" in view.message_text()
    trainer = Trainer(Network([3, 4, 1]), np.ones((2, 3)), np.zeros((2, 1)))
    view.show_snapshot(trainer.snapshot())
    view.flush()
    assert view.heatmap() is None
    view.set_network(Network([2, 4, 1]).config())
    assert not view.message_visible()


def test_snapshots_are_coalesced(view, xor, qtbot):
    ds, net, snap = xor
    view.set_network(net.config())
    view.set_data(ds)
    before = view.render_count
    for _ in range(100):
        view.show_snapshot(snap)
    assert view.render_count - before <= 1  # at most the first one at once
    qtbot.waitUntil(lambda: view.render_count - before >= 2 or view._pending is None)
    assert view.render_count - before <= 2


def test_regression_uses_a_sequential_map_with_data_levels(view):
    ds = make_dataset("plane", n_samples=80, seed=0)
    net = Network([2, 3, 1], output_activation="linear", seed=0)
    trainer = Trainer(net, ds.X_train, ds.Y_train, ds.X_test, ds.Y_test, batch_size=16)
    trainer.run(20)
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(trainer.snapshot())
    view.flush()
    lo, hi = view._levels()
    y = np.concatenate([ds.Y_train[:, 0], ds.Y_test[:, 0]])
    assert (lo, hi) == (pytest.approx(y.min()), pytest.approx(y.max()))
    assert view.heatmap().std() > 0
    assert not view.grab().isNull()


@pytest.mark.parametrize(("out_act", "expected"), [("sigmoid", (0.0, 1.0)), ("tanh", (-1.0, 1.0))])
def test_a_bounded_output_sigma_keeps_its_whole_range_on_the_colour_bar(view, out_act, expected):
    """The lecture example: one target y = 1, a sigmoid output. ŷ = 0.48 must not be drawn
    as the bottom of a 0.5 … 1.5 bar (a sigmoid never reaches 1.5)."""
    from bpviz.engine.datasets import Dataset

    X = np.array([[1.0, 0.5]])
    Y = np.array([[1.0]])
    ds = Dataset("one", X, Y, X[:0], Y[:0], "regression", ("x1", "x2"), ("y",), {})
    net = Network([2, 2, 1], output_activation=out_act, seed=0)
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(Trainer(net, X, Y, batch_size=1).snapshot())
    view.flush()
    assert view._levels() == expected


def test_presenter_font_scale(view, xor):
    ds, net, snap = xor
    view.set_network(net.config())
    view.set_data(ds)
    view.set_font_scale(2.0)
    view.show_snapshot(snap)
    view.flush()
    assert not view.grab().isNull()


def test_first_hidden_layer_maps_show_each_neurons_output(view, xor):
    _, net, snap = shown(view, xor)
    maps = view.hidden_maps()
    assert len(maps) == 4
    x0, x1, y0, y1 = view.extent()
    cx = x0 + (np.arange(GRID) + 0.5) * (x1 - x0) / GRID
    cy = y0 + (np.arange(GRID) + 0.5) * (y1 - y0) / GRID
    gx, gy = np.meshgrid(cx, cy)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    hidden = predict_layers(net.config(), snap.weights, snap.biases, grid)[1]
    for i, m in enumerate(maps):
        np.testing.assert_allclose(m, hidden[:, i].reshape(GRID, GRID))
    view.set_show_hidden(False)
    assert view.hidden_maps() == []


def test_hidden_maps_give_way_in_a_short_view(view, xor):
    ds, net, snap = xor
    view.set_network(net.config())
    view.set_data(ds)
    view.resize(700, 250)
    view.show_snapshot(snap)
    view.flush()
    assert view.hidden_maps() == []
    assert view.heatmap() is not None


def _bilinear(z, x, y):
    """z at (x, y) in grid units (x along columns), interpolated bilinearly."""
    j = np.minimum(np.floor(x).astype(int), z.shape[1] - 2)
    i = np.minimum(np.floor(y).astype(int), z.shape[0] - 2)
    fx, fy = x - j, y - i
    return (
        z[i, j] * (1 - fx) * (1 - fy)
        + z[i, j + 1] * fx * (1 - fy)
        + z[i + 1, j] * (1 - fx) * fy
        + z[i + 1, j + 1] * fx * fy
    )


def test_level_segments_trace_the_level_line():
    from bpviz.views.output_view import level_segments

    g = np.linspace(-2, 2, 40)
    gx, gy = np.meshgrid(g, g)
    z = 1 / (1 + np.exp(-(gx**2 + gy**2 - 1.5)))  # ŷ = 0.5 on a circle of radius √1.5
    x, y = level_segments(z, 0.5)
    assert len(x) == len(y) and len(x) % 2 == 0 and len(x) > 40
    np.testing.assert_allclose(_bilinear(z, x, y), 0.5, atol=1e-12)  # on the line
    # Every crossed cell edge gives a point shared by two segments: the circle is closed.
    pts = np.round(np.column_stack([x, y]), 9)
    _, counts = np.unique(pts, axis=0, return_counts=True)
    assert np.all(counts == 2)
    radius = np.hypot(np.interp(x, np.arange(40), g), np.interp(y, np.arange(40), g))
    np.testing.assert_allclose(radius, np.sqrt(1.5), atol=0.05)
    assert level_segments(np.zeros((5, 5)), 0.5)[0].size == 0  # no crossing: no line


def test_level_segments_split_a_saddle_by_its_centre():
    from bpviz.views.output_view import level_segments

    z = np.array([[1.0, 0.0], [0.0, 1.0]])  # a saddle cell, 0.5 at its centre

    def segments(level):
        x, y = level_segments(z, level)
        pairs = np.round(np.stack([x, y], 1), 6).reshape(-1, 2, 2).tolist()
        return {tuple(sorted(map(tuple, p))) for p in pairs}

    # Centre above the level: the high corners join, the low ones are cut off.
    assert segments(0.4) == {((0.6, 0.0), (1.0, 0.4)), ((0.0, 0.6), (0.4, 1.0))}
    # Centre below it: the high corners (top-left, bottom-right) are cut off.
    assert segments(0.6) == {((0.0, 0.4), (0.4, 0.0)), ((0.6, 1.0), (1.0, 0.6))}


def test_the_decision_boundary_is_drawn_where_the_map_crosses_one_half(view, xor):
    shown(view, xor)
    x, y = view.contour_segments()
    assert x.size > 0
    # In grid cells: [−0.5, GRID − 0.5] covers the map, cell centres at whole numbers.
    assert x.min() >= -0.5 and x.max() <= GRID - 0.5
    inside = (x > 0) & (x < GRID - 1) & (y > 0) & (y < GRID - 1)
    np.testing.assert_allclose(_bilinear(view.heatmap(), x[inside], y[inside]), 0.5, atol=1e-9)


def _pixel_at(view, x: float, y: float) -> QColor:
    """The colour the view shows at data point (x, y)."""
    scene = view.plot_item.vb.mapViewToScene(QPointF(x, y))
    widget = view._widget
    pos = widget.mapTo(view, widget.mapFromScene(scene))
    return view.grab().toImage().pixelColor(pos)


def _close(a: QColor, b: QColor, tol: int = 8) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


def test_points_show_their_label_in_full_colour_on_a_pale_region(view, xor):
    shown(view, xor)
    full = pg.colormap.get(DIVERGING_MAP)
    pale = view.region_cmap()
    white = view.palette().color(QPalette.ColorRole.Base)
    for t in (0.0, 1.0):  # the region keeps half of the map's colour
        f, p = full.map(t, mode="qcolor"), pale.map(t, mode="qcolor")
        for fc, pc, wc in zip(f.getRgb()[:3], p.getRgb()[:3], white.getRgb()[:3], strict=True):
            assert abs(pc - (wc + (fc - wc) * REGION_STRENGTH)) <= 1
    # The trained XOR map is ≈ 1 at (0, 1): there the region is pale red and the
    # class-1 training point on it full red, so the point's label reads.
    x0, x1, y0, y1 = view.extent()
    heat = view.heatmap()
    near = heat[int((1 - y0) / (y1 - y0) * GRID), int((0 - x0) / (x1 - x0) * GRID)]
    assert near > 0.8
    point = _pixel_at(view, 0.0, 1.0)
    assert _close(point, full.map(1.0, mode="qcolor"), tol=40), point.getRgb()
    # Beside it, away from any point, the region shows ŷ in the pale map.
    region_x, region_y = 0.0, 1.0 + 0.35 * (y1 - 1.0)
    h = heat[int((region_y - y0) / (y1 - y0) * GRID), int((region_x - x0) / (x1 - x0) * GRID)]
    lo, hi = 0.0, 1.0
    want = pale.map((h - lo) / (hi - lo), mode="qcolor")
    assert _close(_pixel_at(view, region_x, region_y), want), (h, want.getRgb())
    assert point.saturationF() > _pixel_at(view, region_x, region_y).saturationF() + 0.3


def test_the_pale_region_follows_a_dark_theme(view, xor, dark_theme):
    shown(view, xor)
    red = pg.colormap.get(DIVERGING_MAP).map(1.0, mode="qcolor")
    assert view.region_cmap().map(1.0, mode="qcolor").lightnessF() > red.lightnessF()
    dark_theme(True)
    # Mixed with the dark background: darker than the full colour, and the
    # colour bar shows the same map as the region.
    region_red = view.region_cmap().map(1.0, mode="qcolor")
    assert region_red.lightnessF() < red.lightnessF()
    bar = view._colorbar.colorMap().map(1.0, mode="qcolor")
    assert bar.getRgb() == region_red.getRgb()


# -- hostile numbers: no NumPy warning reaches stderr (issue 16) ------------------------------


def test_an_all_nan_map_draws_no_boundary_and_warns_nothing(view, xor):
    import dataclasses

    ds, net, snap = xor
    nan_snap = dataclasses.replace(
        snap, weights=tuple(np.full_like(w, np.nan) for w in snap.weights)
    )
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(nan_snap)
    view.flush()  # (warnings are errors in this suite: an "All-NaN slice" would fail here)
    assert np.isnan(view.heatmap()).all()
    x, _ = view._contour.getData()
    assert x is None or len(x) == 0


def test_a_million_samples_are_drawn_as_a_stated_sample(view, qtbot):
    from bpviz.views.output_view import MAX_DRAWN_POINTS

    ds = make_dataset("circle", n_samples=1_000_000, test_fraction=0.2, seed=3)
    net = Network([2, 4, 1], seed=0)
    trainer = Trainer(net, ds.X_train[:100], ds.Y_train[:100], batch_size=10)
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(trainer.snapshot())
    view.flush()
    assert view.drawn_point_count() == 2 * MAX_DRAWN_POINTS
    title = view._pi.titleLabel
    assert title.isVisible() and title.text == "random 10,000 of 1,000,000 shown"
    x, _ = view._train_points.getData()
    assert len(x) == MAX_DRAWN_POINTS
    # The sample is the data's own points, the same each time.
    picked = set(map(tuple, np.column_stack(view._train_points.getData())[:50]))
    assert picked <= set(map(tuple, ds.X_train))
    view.set_data(ds)
    assert np.array_equal(view._train_points.getData()[0], x)
    # A small set is drawn whole, with no title.
    small = make_dataset("xor4")
    view.set_data(small)
    assert view.drawn_point_count() == 4 and not view._pi.titleLabel.isVisible()


def test_input_axes_show_true_values_without_si_scaling(qtbot):
    from bpviz.engine.experiment import PRESETS, build

    trainer, dataset = build(PRESETS["lecture"][1])  # one sample at x2 = 0.5
    view = OutputView()
    qtbot.addWidget(view)
    view.resize(400, 320)
    view.show()
    view.set_network(trainer.net.config())
    view.set_data(dataset)
    view.show_snapshot(trainer.snapshot())
    view.flush()
    view.grab()
    for name in ("left", "bottom"):
        axis = view._pi.getAxis(name)
        assert axis.autoSIPrefixScale == 1.0
        assert "(x" not in axis.labelString()


@pytest.mark.parametrize(
    "targets",
    [
        (-1.7976931348623157e308, 1.7976931348623157e308),
        (-1e308, 1e308),
        (1e308, 1e308),  # one value: a bar of width 1 around it
        (-1.7976931348623157e308, -1e308),
    ],
)
def test_regression_targets_near_the_largest_float_draw_a_colour_bar_quietly(view, targets):
    """(Warnings are errors in this suite.) The bar's range, ticks and the points' colours
    come out of targets near ±1e308 without an overflow in NumPy or pyqtgraph."""
    from bpviz.engine.datasets import Dataset

    lo_t, hi_t = targets
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    Y = np.array([[lo_t], [hi_t], [lo_t / 2 + hi_t / 2], [hi_t]])
    ds = Dataset("huge", X, Y, X[:0], Y[:0], "regression", ("x1", "x2"), ("y",), {})
    net = Network([2, 3, 1], output_activation="linear", seed=0)
    trainer = Trainer(net, X, np.zeros_like(Y), batch_size=4)
    view.set_network(net.config())
    view.set_data(ds)
    view.show_snapshot(trainer.snapshot())
    view.flush()
    assert not view.grab().isNull()  # painting the bar and its ticks warns nothing either
    lo, hi = view._colorbar.levels()  # in the bar's units (true values ÷ a power of two)
    assert np.isfinite(lo) and np.isfinite(hi) and lo < hi
    true_lo, true_hi = view._levels()
    if lo_t < hi_t:
        assert (true_lo, true_hi) == (lo_t, hi_t)  # the bar spans the targets themselves
    else:
        assert true_lo < lo_t < true_hi
    assert true_lo / lo == true_hi / hi  # one exact scale for both ends
    ticks = view._colorbar.axis._tickLevels[0]
    assert len(ticks) == 5 and all(np.isfinite(v) for v, _ in ticks)
    assert (ticks[0][0], ticks[-1][0]) == (lo, hi)
    # The labels read the true values.
    assert (ticks[0][1], ticks[-1][1]) == (f"{true_lo:.3g}", f"{true_hi:.3g}")
    assert np.isfinite(view.heatmap()).all()
