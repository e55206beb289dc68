"""NetworkView: colours read back against the colour map, tooltips, editing, selection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QApplication

from bpviz.engine import Network, Trainer
from bpviz.engine.datasets import make_dataset
from bpviz.views.colors import HIGH_CONTRAST_GAMMA, NEUTRAL, format_number
from bpviz.views.network_view import NetworkView

#: Colours are quantised to the scale's 129 levels: half a level of the map.
ATOL = 0.03


@pytest.fixture
def xor_trainer():
    ds = make_dataset("xor4")
    return Trainer(Network([2, 4, 1], seed=0), ds.X_train, ds.Y_train, batch_size=4)


@pytest.fixture
def snap(xor_trainer):
    xor_trainer.run(50)
    return xor_trainer.snapshot()


@pytest.fixture
def view(qtbot):
    v = NetworkView([2, 4, 1])
    qtbot.addWidget(v)
    v.resize(1000, 650)
    v.show()
    qtbot.waitExposed(v)
    return v


def theta_of(snapshot, key):
    k, i, src = key
    return snapshot.biases[k][i] if src < 0 else snapshot.weights[k][i, src]


def test_edge_colours_are_the_colour_map_applied_to_theta(view, snap):
    view.show_snapshot(snap)
    keys = view.edge_keys()
    theta = np.array([theta_of(snap, key) for key in keys])
    r = view.theta_scale.range
    assert r >= np.abs(theta).max()  # the range covers every θ
    cmap = view.theta_scale.cmap
    want = np.asarray(cmap.map((np.clip(theta / r, -1, 1) + 1) / 2, mode="float"))
    got = view.edge_colors()
    assert got.shape == (len(keys), 4)
    np.testing.assert_allclose(got[:, :3], want[:, :3], atol=ATOL)


def test_every_weight_and_bias_has_one_edge(view, snap):
    view.show_snapshot(snap)
    keys = view.edge_keys()
    assert len(keys) == len(set(keys)) == 2 * 4 + 4 * 1 + 4 + 1
    assert (0, 3, -1) in keys and (1, 0, -1) in keys  # biases θ_i0


def test_edge_width_grows_with_abs_theta(view, snap):
    view.show_snapshot(snap)
    theta = np.abs([theta_of(snap, key) for key in view.edge_keys()])
    widths = view.edge_widths()
    step = view.theta_scale.range / 64  # one colour level
    for a in range(len(theta)):
        for b in range(len(theta)):
            if theta[a] > theta[b] + step:
                assert widths[a] > widths[b]
    assert widths.max() > 2 * widths.min()


def test_neuron_colours_are_delta_of_the_sample_on_its_own_scale(view, snap):
    for sample in (0, 3):
        view.show_snapshot(snap, sample=sample)
        keys = view.neuron_keys()
        colors = view.neuron_colors()
        r = view.delta_scale.range
        assert r != view.theta_scale.range  # δ has its own, much smaller, scale
        cmap = view.delta_scale.cmap
        for (l, i), rgba in zip(keys, colors, strict=True):
            if l == 0:
                continue
            d = snap.delta[l][sample, i]
            want = cmap.map((np.clip(d / r, -1, 1) + 1) / 2, mode="float")
            np.testing.assert_allclose(rgba[:3], np.asarray(want)[:3], atol=ATOL)


def test_neurons_without_delta_are_neutral_grey(view, xor_trainer):
    xor_trainer.run(3)
    xor_trainer.step_phase()  # forward, layer 1
    xor_trainer.step_phase()  # forward, layer 2
    mid = xor_trainer.snapshot()
    assert mid.delta[1] is None and mid.delta[2] is None
    view.show_snapshot(mid)
    grey = np.array(NEUTRAL.getRgbF())
    for (l, _), rgba in zip(view.neuron_keys(), view.neuron_colors(), strict=True):
        if l > 0:
            np.testing.assert_allclose(rgba, grey, atol=1e-6)
    xor_trainer.step_phase()  # error
    xor_trainer.step_phase()  # output δ
    view.show_snapshot(xor_trainer.snapshot())
    colors = dict(zip(view.neuron_keys(), map(tuple, view.neuron_colors()), strict=True))
    assert colors[(1, 0)] == pytest.approx(tuple(grey))  # hidden δ still to come
    assert colors[(2, 0)] != pytest.approx(tuple(grey))  # output δ computed


def test_a_fresh_view_and_an_initial_snapshot_draw(view, xor_trainer):
    assert not view.grab().isNull()
    view.show_snapshot(xor_trainer.snapshot())  # iteration 0: no u, o, δ at all
    assert not view.grab().isNull()
    assert "no data" not in view.neuron_tooltip(1, 0)
    assert "u=–" in view.neuron_tooltip(1, 0)


@pytest.mark.parametrize("sizes", [[2, 8, 8, 8, 8, 1], [3, 1], [2, 4, 4, 1], [5, 16, 16, 16, 3]])
def test_set_architecture_to_bigger_and_smaller_nets(view, sizes):
    view.set_architecture(sizes, bias=True)
    n = len(sizes)
    assert len(view.neuron_keys()) == sum(sizes)
    n_weights = sum(a * b for a, b in itertools.pairwise(sizes))
    assert len(view.edge_keys()) == n_weights + sum(sizes[1:])
    assert len(view.edge_colors()) == len(view.edge_keys())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4, sizes[0]))
    Y = rng.uniform(size=(4, sizes[-1]))
    trainer = Trainer(Network(sizes, seed=1), X, Y, batch_size=4)
    trainer.step()
    view.show_snapshot(trainer.snapshot())
    assert view.neuron_keys()[-1] == (n - 1, sizes[-1] - 1)
    assert not view.grab().isNull()


def test_without_bias_there_are_no_bias_edges(view):
    view.set_architecture([2, 3, 1], bias=False)
    assert all(src >= 0 for _, _, src in view.edge_keys())


def test_snapshot_of_another_architecture_rebuilds_the_picture(view):
    trainer = Trainer(Network([3, 5, 2], seed=0), np.ones((2, 3)), np.zeros((2, 2)))
    trainer.step()
    view.show_snapshot(trainer.snapshot())
    assert view.sizes == [3, 5, 2]
    assert len(view.neuron_keys()) == 10


def test_huge_networks_do_not_crash_and_stay_bounded(view):
    for sizes in ([128, 128, 128, 128], [784, 128, 10]):
        rng = np.random.default_rng(0)
        trainer = Trainer(
            Network(sizes, seed=0),
            rng.normal(size=(8, sizes[0])),
            rng.uniform(size=(8, sizes[-1])),
            batch_size=8,
        )
        trainer.step()
        view.show_snapshot(trainer.snapshot())
        assert len(view.neuron_keys()) <= 64 * len(sizes)
        assert len(view.edge_keys()) <= 8000
        assert not view.values_visible()
        assert not view.grab().isNull()
        view.set_highlight({(1, 0)}, {(0, 0, 0)}, layer=1)
        view.set_selection(neuron=(1, 0))
        assert not view.grab().isNull()


def test_absurd_layer_sizes_are_capped(view):
    view.set_architecture([5000, 3000, 2000, 10], bias=True)
    assert len(view.edge_keys()) <= 8000
    assert not view.grab().isNull()


def test_neuron_tooltip_has_u_o_dsigma_and_delta(view, snap):
    view.show_snapshot(snap, sample=1)
    text = view.neuron_tooltip(1, 2)
    assert text.startswith("layer 1, neuron 5:")  # global numbering, as the formulas
    for name, arr in (("u", snap.u), ("o", snap.o), ("σ′(u)", snap.dsigma), ("δ", snap.delta)):
        assert f"{name}={format_number(arr[1][1, 2])}" in text
    assert "sample 2 of 4" in text


def test_edge_tooltip_has_theta_and_its_gradient(view, snap):
    view.show_snapshot(snap)
    text = view.edge_tooltip(0, 1, 0)
    assert text.startswith(f"θ₄₁ = {format_number(snap.weights[0][1, 0])}")
    assert f"∂Err/∂θ = {format_number(snap.grad_weights[0][1, 0])}" in text
    bias = view.edge_tooltip(1, 0, -1)
    assert bias.startswith(f"θ₇₀ = {format_number(snap.biases[1][0])}")
    assert format_number(snap.grad_biases[1][0]) in bias


def test_edge_tooltip_without_gradient_shows_a_dash(view, xor_trainer):
    xor_trainer.step_phase()
    view.show_snapshot(xor_trainer.snapshot())
    assert "∂Err/∂θ = –" in view.edge_tooltip(0, 0, 0)


def test_hovering_shows_the_tooltip_of_what_is_under_the_mouse(view, snap, qtbot):
    view.show_snapshot(snap)
    vp = view.canvas.viewport()
    qtbot.mouseMove(vp, view.neuron_position(1, 2))
    qtbot.waitUntil(lambda: view.hover_text() == view.neuron_tooltip(1, 2))
    qtbot.mouseMove(vp, view.edge_position(1, 0, 3))
    qtbot.waitUntil(lambda: view.hover_text() == view.edge_tooltip(1, 0, 3))
    qtbot.mouseMove(vp, view.bias_position(0))
    qtbot.waitUntil(lambda: "o₀ = 1" in view.hover_text())
    assert "layer 1" in view.hover_text()


def test_clicking_a_neuron_selects_it(view, snap, qtbot):
    view.show_snapshot(snap)
    with qtbot.waitSignal(view.neuron_selected) as blocker:
        qtbot.mouseClick(
            view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=view.neuron_position(1, 3)
        )
    assert blocker.args == [1, 3]
    assert view.selection() == ((1, 3), None)


def test_clicking_an_edge_selects_it(view, snap, qtbot):
    view.show_snapshot(snap)
    with qtbot.waitSignal(view.edge_selected) as blocker:
        qtbot.mouseClick(
            view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=view.edge_position(0, 2, 1)
        )
    assert blocker.args == [0, 2, 1]
    assert view.overlay_lines() > 0


def test_double_clicking_an_edge_opens_the_editor(view, snap, qtbot):
    view.show_snapshot(snap)
    qtbot.mouseDClick(
        view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=view.edge_position(1, 0, 2)
    )
    qtbot.waitUntil(view.editor_visible)


def test_editing_an_edge_emits_the_typed_weight(view, snap, qtbot):
    view.show_snapshot(snap)
    editor = view.edit_edge(0, 1, 0)
    assert view.editor_visible()
    assert float(editor.text()) == pytest.approx(snap.weights[0][1, 0], rel=1e-5)
    editor.clear()
    qtbot.keyClicks(editor, "-0.75")
    with qtbot.waitSignal(view.weight_edited) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args == [0, 1, 0, -0.75]
    assert not view.editor_visible()


def test_editing_a_bias_emits_src_minus_one(view, snap, qtbot):
    view.show_snapshot(snap)
    editor = view.edit_edge(1, 0, -1)
    editor.setText("2.5")
    with qtbot.waitSignal(view.weight_edited) as blocker:
        editor.returnPressed.emit()
    assert blocker.args == [1, 0, -1, 2.5]


def test_escape_cancels_the_edit(view, snap, qtbot):
    view.show_snapshot(snap)
    editor = view.edit_edge(0, 0, 0)
    editor.setText("9")
    with qtbot.assertNotEmitted(view.weight_edited):
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not view.editor_visible()


def test_selection_draws_a_ring_and_a_halo(view, snap):
    view.show_snapshot(snap)
    before = view.grab().toImage()
    view.set_selection(neuron=(1, 1))
    ring = view.grab().toImage()
    assert ring != before
    assert view.overlay_lines() == 0
    view.set_selection(edge=(0, 1, -1))
    assert view.selection() == (None, (0, 1, -1))
    assert view.overlay_lines() > 0
    view.set_selection(None, None)
    assert view.overlay_lines() == 0
    assert view.grab().toImage() == before


def test_highlight_emphasises_what_the_phase_uses_and_dims_the_rest(view, snap):
    view.show_snapshot(snap)
    plain_colors = view.edge_colors()
    plain_widths = view.edge_widths()
    plain_outline = view.neuron_outline_widths()
    used = {(1, 0, i) for i in range(4)} | {(1, 0, -1)}
    view.set_highlight({(2, 0)}, used, layer=2)
    keys = view.edge_keys()
    on = np.array([k in used for k in keys])
    assert np.all(view.edge_widths()[on] > plain_widths[on])
    np.testing.assert_allclose(view.edge_colors()[on], plain_colors[on])
    bg = np.array(QColor(view.palette().color(view.palette().ColorRole.Base)).getRgbF())
    dist_plain = np.abs(plain_colors[~on, :3] - bg[:3]).sum(axis=1)
    dist_dim = np.abs(view.edge_colors()[~on, :3] - bg[:3]).sum(axis=1)
    assert np.all(dist_dim <= dist_plain + 1e-9)  # faded towards the background
    outline = view.neuron_outline_widths()
    j = view.neuron_keys().index((2, 0))
    assert outline[j] > plain_outline[j]
    assert view.band_visible()
    assert view.highlight() == ({(2, 0)}, used, 2)
    view.clear_highlight()
    np.testing.assert_allclose(view.edge_colors(), plain_colors)
    np.testing.assert_allclose(view.edge_widths(), plain_widths)
    assert not view.band_visible()


def test_number_labels_show_for_small_nets_and_hide_for_big_ones(view, snap):
    view.show_snapshot(snap)
    assert view.values_visible()
    view.set_show_values(False)
    assert not view.values_visible()
    view.set_show_values(True)
    view.set_architecture([2, 16, 16, 16, 1])  # 51 neurons
    assert not view.values_visible()


def test_presenter_mode_scales_fonts_and_keeps_working(view, snap):
    view.show_snapshot(snap)
    h = view.theta_legend.height()
    view.set_font_scale(2.0)
    view.set_high_contrast(True)
    assert view.theta_legend.height() > h
    assert view.theta_scale.high_contrast and view.delta_scale.high_contrast
    assert not view.grab().isNull()
    view.set_high_contrast(False)
    view.set_font_scale(1.0)
    assert not view.theta_scale.high_contrast


def _ink_rows(legend) -> list[int]:
    """The rows of the legend's picture where anything differs from its background."""
    img = legend.grab().toImage()
    bg = img.pixelColor(img.width() - 1, img.height() - 1)
    return [
        y
        for y in range(img.height())
        if any(img.pixelColor(x, y) != bg for x in range(0, img.width(), 2))
    ]


def test_presenter_legends_give_a_line_to_the_graph_and_clip_nothing(view, snap):
    # In presenter mode the end captions share the range's line ("−1.5  blue = negative
    # … 0 … red = positive  +1.5"): a line less for the colour bars, more for the graph.
    view.resize(1280, 330)
    view.show_snapshot(snap)
    view.set_font_scale(1.8)
    tall = view.theta_legend.height()
    view.show()
    QApplication.processEvents()
    graph = view.canvas.height()
    view.set_high_contrast(True)
    for legend in (view.theta_legend, view.delta_legend):
        assert legend.is_compact()
        assert legend.height() < tall - 15
        rows = _ink_rows(legend)
        assert rows and rows[-1] < legend.height() - 2, (rows[-1], legend.height())  # not cut
    QApplication.processEvents()
    assert view.canvas.height() > graph + 15
    view.set_high_contrast(False)
    assert not view.theta_legend.is_compact() and view.theta_legend.height() == tall


def test_keys_are_left_to_the_window_shortcuts(view):
    assert view.focusPolicy() == Qt.FocusPolicy.StrongFocus
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left):
        event = QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view, event)
        assert not event.isAccepted()


def test_nan_weights_are_drawn_neutral_without_crashing(view, snap):
    w0 = snap.weights[0].copy()
    w0[0, 0] = np.nan
    w0[1, 1] = np.inf
    fields = {f: getattr(snap, f) for f in snap.__slots__}
    broken = type(snap)(**(fields | {"weights": (w0, snap.weights[1])}))
    view.show_snapshot(broken)
    j = view.edge_keys().index((0, 0, 0))
    np.testing.assert_allclose(view.edge_colors()[j], NEUTRAL.getRgbF(), atol=1e-6)
    assert not view.grab().isNull()


def _image_diff(a, b) -> float:
    """Mean absolute difference of two same-sized images, 0..255."""
    from PySide6.QtGui import QImage

    def arr(img):
        img = img.convertToFormat(QImage.Format.Format_RGBA8888)
        ptr = img.constBits()
        return (
            np.frombuffer(ptr, np.uint8)
            .reshape(img.height(), img.bytesPerLine())[:, : img.width() * 4]
            .astype(float)
        )

    return float(np.abs(arr(a) - arr(b)).mean())


def test_edges_are_drawn_again_only_when_their_colours_change(view, xor_trainer):
    xor_trainer.run(50)
    first = xor_trainer.snapshot()
    for _ in range(2):  # lines that change with every paint are drawn directly ...
        view.show_snapshot(first)
        image = view.grab().toImage()
    renders = view._edges.renders  # ... and kept as a picture once they stay
    view.show_snapshot(first)  # the same θ: the same picture, from the cache
    assert view.grab().toImage() == image
    assert view._edges.renders == renders
    xor_trainer.run(500)
    view.show_snapshot(xor_trainer.snapshot())  # θ moved: drawn again
    view.grab()
    assert view._edges.renders == renders + 1


def test_cached_edges_look_like_edges_drawn_directly(view, snap):
    view.show_snapshot(snap)
    view.grab()
    renders = view._edges.renders
    cached = view.grab().toImage()  # nothing new: from the picture kept
    assert view._edges.renders == renders + 1 or view._edges._pixmap is not None
    view._edges._cached = False
    view._edges.update()
    direct = view.grab().toImage()
    assert _image_diff(cached, direct) < 0.5


def test_the_highlight_band_shows_through_the_cached_edges(view, snap):
    view.show_snapshot(snap)
    plain = view.grab().toImage()
    view.set_highlight({(1, 0)}, set(), layer=1)
    assert view.band_visible()
    banded = view.grab().toImage()
    centre = view.canvas.mapTo(view, view.neuron_position(1, 0))
    x, h = centre.x() - 30, view.canvas.height()
    changed = sum(banded.pixel(x, y) != plain.pixel(x, y) for y in range(10, h - 10))
    assert changed > 0.5 * (h - 20)  # the band is seen beside the neurons, edges or not
    view.clear_highlight()
    assert _image_diff(view.grab().toImage(), plain) < 0.5


def test_numbers_inside_small_neurons_are_part_of_their_pictures(view, snap):
    view.resize(500, 220)  # small neurons: the numbers go inside
    QApplication.processEvents()
    view.show_snapshot(snap)
    view.grab()
    assert view.number_placement() == "inside"
    texts = {key[-1][0] for key in view._sprite_cache if key[-1] is not None}
    assert {"1", "2", "3"} <= texts


def test_repainting_only_changed_neurons_leaves_no_stale_pixels(view, xor_trainer, qtbot):
    def on_screen():
        for _ in range(3):
            QApplication.processEvents()
        return QApplication.primaryScreen().grabWindow(view.winId()).toImage()

    xor_trainer.run(50)
    view.show_snapshot(xor_trainer.snapshot())
    before = on_screen()
    for sample in (1, 2, 3, 0):
        xor_trainer.step()
        view.show_snapshot(xor_trainer.snapshot(), sample)
        partly = on_screen()
        view._edges._pixmap = None  # everything, from scratch
        view._edges.update()
        view._nodes.update()
        assert on_screen() == partly
    assert partly != before


# ----------------------------------------------------------------------
# Colour scales that hold still while a person compares (issue 22, item 8)
# ----------------------------------------------------------------------


@pytest.fixture
def lecture_view(qtbot):
    """The lecture example (2-2-1, θ_53 = 1) in presenter mode, and its trainer."""
    from bpviz.engine.experiment import PRESETS, build

    trainer, _ = build(PRESETS["lecture"][1])
    v = NetworkView([2, 2, 1], bias=False)
    qtbot.addWidget(v)
    v.set_font_scale(1.5)
    v.set_high_contrast(True)
    v.resize(1000, 650)
    v.show()
    qtbot.waitExposed(v)
    v.show_snapshot(trainer.snapshot())
    return v, trainer


def walk_id(snapshot) -> int:
    """The iteration whose phases a snapshot shows (the update counts to its own)."""
    return snapshot.iteration - (1 if snapshot.phase.is_last else 0)


def legend_range(legend) -> float:
    """The +r end of a legend as drawn (its text, not the scale behind it)."""
    return float(legend.range_text().split("+")[-1].replace("−", "-"))


def assert_edges_match_the_legend(view, snapshot):
    r = legend_range(view.theta_legend)
    theta = np.array([theta_of(snapshot, key) for key in view.edge_keys()])
    t = np.clip(theta / r, -1, 1)
    t = np.sign(t) * np.abs(t) ** (HIGH_CONTRAST_GAMMA if view.theta_scale.high_contrast else 1.0)
    want = np.asarray(view.theta_scale.cmap.map((t + 1) / 2, mode="float"))
    np.testing.assert_allclose(view.edge_colors()[:, :3], want[:, :3], atol=ATOL)


def test_theta_colours_hold_still_through_a_phase_walk(lecture_view):
    view, trainer = lecture_view
    centre = view.theta_scale.lut[view.theta_scale.n_levels // 2, :3]
    j = view.edge_keys().index((1, 0, 0))  # θ_53, 1 before the first update
    legends, strength = [], []
    while True:  # → through one iteration, phase by phase
        trainer.step_phase()
        snap = trainer.snapshot()
        view.show_snapshot(snap)
        legends.append(view.theta_legend.range_text())
        strength.append(float(np.abs(view.edge_colors()[j, :3] - centre).sum()))
        assert_edges_match_the_legend(view, snap)
        assert view.theta_legend.note() == ""
        if snap.phase.is_last:
            break
    assert len(legends) == 7 and snap.weights[1][0, 0] > 1.07  # the update made θ_53 grow
    assert len(set(legends)) == 1, legends  # the scale held still through the walk
    assert strength[-1] > strength[-2]  # so the grown weight looks stronger, not paler


def test_a_value_that_would_clip_mid_walk_widens_the_scale_visibly(lecture_view):
    import dataclasses

    view, trainer = lecture_view
    trainer.step_phase()
    view.show_snapshot(trainer.snapshot())
    before = view.theta_scale.range
    trainer.step_phase()
    snap = trainer.snapshot()
    w = snap.weights[1].copy()
    w[0, 0] = 3 * before  # e.g. typed by hand: it would clip at the old end
    snap = dataclasses.replace(snap, weights=(snap.weights[0], w))
    view.show_snapshot(snap)
    assert view.theta_scale.range >= 3 * before  # not clipped ...
    assert_edges_match_the_legend(view, snap)
    note = view.theta_legend.note()
    assert note and format_number(before, 3) in note  # ... and said so in the legend
    for _ in range(20):  # the rest of this walk keeps the note, the next one drops it
        trainer.step_phase()
        nxt = trainer.snapshot()
        if walk_id(nxt) != walk_id(snap):
            break
        view.show_snapshot(nxt)
        assert view.theta_legend.note() == note
    view.show_snapshot(nxt)
    assert view.theta_legend.note() in ("", note) and "clip" not in view.theta_legend.note()


@pytest.mark.parametrize("which", ["theta", "delta"])
def test_scales_change_only_between_iterations_of_a_walk(lecture_view, which):
    view, trainer = lecture_view
    scale = view.theta_scale if which == "theta" else view.delta_scale
    legend = view.theta_legend if which == "theta" else view.delta_legend
    scale.set_range(50.0)  # far too wide: it will shrink after a while
    legend.update()
    last = None
    shrunk_at = []
    for _ in range(40 * 7):
        trainer.step_phase()
        snap = trainer.snapshot()
        view.show_snapshot(snap)
        now = (walk_id(snap), legend.range_text())
        if last is not None and now[1] != last[1]:
            assert now[0] != last[0], f"{which} scale changed mid-walk: {last} → {now}"
            assert snap.phase.index == 0
            shrunk_at.append(now[0])
        last = now
    assert shrunk_at and legend_range(legend) < 50  # it did adapt, between iterations


def test_showing_the_same_snapshot_again_asks_for_no_repaint(view, snap):
    changes = []
    view.canvas.scene().changed.connect(changes.append)
    view.show_snapshot(snap)
    QApplication.processEvents()
    assert changes  # the first time, the picture changed
    assert view.is_showing(snap) and not view.is_showing(snap, sample=1)
    changes.clear()
    view.show_snapshot(snap)  # e.g. the window's frame timer, nothing new
    QApplication.processEvents()
    assert changes == []
    view.show_snapshot(snap, sample=1)
    QApplication.processEvents()
    assert changes  # another sample: other δ and labels


def test_the_paint_cost_of_the_picture_is_measured(qtbot, snap):
    view = NetworkView([2, 4, 1])
    qtbot.addWidget(view)
    assert np.isnan(view.paint_cost_ms())  # never painted
    view.show_snapshot(snap)
    view.grab()
    assert 0 < view.paint_cost_ms() < float("inf")


@pytest.mark.parametrize("width", [330, 420, 490, 560, 700, 900])
def test_layer_names_never_overlap_their_neighbours(qtbot, width):
    v = NetworkView([2, 8, 8, 8, 8, 1])
    qtbot.addWidget(v)
    v.resize(width, 300)
    v.show()
    qtbot.waitExposed(v)
    qtbot.waitUntil(lambda: v.canvas.width() > 0, timeout=5000)
    v.set_architecture([2, 8, 8, 8, 8, 1])
    rects = [r for r, text in zip(v._layer_rects, v._layer_text, strict=True) if text]
    assert rects, "no layer is named at all"
    for a, b in itertools.pairwise(rects):
        assert a.right() <= b.left(), (width, v._layer_text)
    assert v._layer_text[-1] in ("output ŷ", "ŷ")
