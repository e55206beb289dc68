"""The inspector: the right explanation, the sample selector, fonts, colours, focus."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QPalette

from bpviz.engine import Network, Trainer, UpdateRule
from bpviz.views import formulas
from bpviz.views.formulas import NOT_YET, fmt
from bpviz.views.inspector import BASE_POINT_SIZE, Inspector


def make_trainer(batch: int, sizes=(2, 3, 1), seed: int = 0) -> Trainer:
    net = Network(list(sizes), activation="tanh", output_activation="sigmoid", seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(max(batch, 1) + 1, sizes[0]))
    Y = rng.uniform(size=(X.shape[0], sizes[-1]))
    return Trainer(net, X, Y, rule=UpdateRule(lr=0.1), batch_size=batch)


@pytest.fixture
def inspector(qtbot):
    w = Inspector()
    qtbot.addWidget(w)
    w.resize(700, 600)
    return w


def walk_to(trainer: Trainer, kind: str, layer: int | None = None):
    while True:
        phase = trainer.step_phase()
        if phase.kind == kind and (layer is None or phase.layer == layer):
            return trainer.snapshot()


def test_waits_for_a_network_and_a_snapshot(inspector):
    assert "Waiting for the network" in inspector.text()
    trainer = make_trainer(1)
    inspector.set_config(trainer.net.config())
    assert "Waiting for the snapshot" in inspector.text()
    inspector.show_snapshot(trainer.snapshot())
    assert "Between iterations" in inspector.text()
    assert inspector.header_text() == "Before the first iteration"


def test_shows_the_phase_then_the_selection(inspector):
    trainer = make_trainer(1)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "output_delta")
    inspector.show_snapshot(snap)
    assert inspector.text() == formulas.explain_phase(snap, cfg)
    assert inspector.header_text() == "Current phase (4 of 7)"

    inspector.set_selection(("neuron", 1, 2))
    assert inspector.text() == formulas.explain_neuron(snap, cfg, 1, 2)
    assert "Neuron 5" in inspector.header_text()
    assert NOT_YET in inspector.text()  # its δ comes in the next phase

    inspector.set_selection(("edge", 1, 0, -1))
    assert inspector.text() == formulas.explain_edge(snap, cfg, 1, 0, -1)
    assert "Bias θ<sub>60</sub>" in inspector.header_text()

    inspector.set_selection(None)
    assert inspector.text() == formulas.explain_phase(snap, cfg)


def test_the_label_shows_the_text(inspector):
    trainer = make_trainer(1)
    inspector.set_config(trainer.net.config())
    inspector.show_snapshot(walk_to(trainer, "forward", 1))
    label = inspector._label
    assert label.text() == inspector.text()
    assert label.textFormat() == Qt.TextFormat.RichText
    assert label.wordWrap()


def test_a_selection_from_another_network_is_dropped(inspector):
    trainer = make_trainer(1, sizes=(2, 3, 1))
    inspector.set_config(trainer.net.config())
    inspector.show_snapshot(walk_to(trainer, "forward", 1))
    inspector.set_selection(("neuron", 1, 2))
    small = make_trainer(1, sizes=(2, 2, 1))
    inspector.set_config(small.net.config())
    inspector.show_snapshot(walk_to(small, "forward", 1))
    assert "Neuron" not in inspector.header_text()
    assert inspector.text() == formulas.explain_phase(small.snapshot(), small.net.config())


def test_the_sample_selector_only_for_a_batch(inspector):
    one = make_trainer(1)
    inspector.set_config(one.net.config())
    inspector.show_snapshot(walk_to(one, "forward", 1))
    assert not inspector._sample_box.isVisibleTo(inspector)

    four = make_trainer(4)
    inspector.set_config(four.net.config())
    inspector.show_snapshot(walk_to(four, "forward", 1))
    assert inspector._sample_box.isVisibleTo(inspector)
    spin = inspector._sample_spin
    assert (spin.minimum(), spin.maximum(), spin.value()) == (1, 4, 1)
    assert "of 4" in inspector._sample_of.text()


def test_switching_sample_changes_the_numbers(inspector, qtbot):
    trainer = make_trainer(4)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "forward", 1)
    inspector.show_snapshot(snap)
    inspector.set_selection(("neuron", 1, 0))
    u0, u2 = fmt(snap.u[1][0, 0]), fmt(snap.u[1][2, 0])
    assert u0 != u2
    assert f">{u0}<" in inspector.text()
    with qtbot.waitSignal(inspector.sample_changed, timeout=1000) as blocker:
        inspector._sample_spin.setValue(3)
    assert blocker.args == [2]
    assert inspector.sample() == 2
    assert f">{u2}<" in inspector.text()
    assert f">{u0}<" not in inspector.text()
    assert inspector.text() == formulas.explain_neuron(snap, cfg, 1, 0, 2)
    assert "sample 3 of 4" in inspector.text()


def test_set_sample_updates_without_emitting(inspector, qtbot):
    trainer = make_trainer(4)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "error")
    inspector.show_snapshot(snap)
    with qtbot.assertNotEmitted(inspector.sample_changed):
        inspector.set_sample(1)
    assert inspector._sample_spin.value() == 2
    assert inspector.text() == formulas.explain_phase(snap, cfg, 1)
    inspector.set_sample(99)  # clamped into the batch
    assert inspector.sample() == 3


def test_font_scale_changes_the_font_and_back(inspector):
    trainer = make_trainer(1)
    inspector.set_config(trainer.net.config())
    inspector.show_snapshot(walk_to(trainer, "forward", 1))
    label = inspector._label
    assert label.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)
    inspector.set_font_scale(2.0)
    assert label.font().pointSizeF() == pytest.approx(2 * BASE_POINT_SIZE)
    assert inspector._header.font().pointSizeF() > BASE_POINT_SIZE
    assert inspector.font_scale() == 2.0
    inspector.set_font_scale(1.0)
    assert label.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)


def test_high_contrast_is_light_on_black_and_back(inspector):
    trainer = make_trainer(1)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "forward", 1)
    inspector.show_snapshot(snap)
    inspector.set_high_contrast(True)
    pal = inspector._label.palette()
    assert pal.color(QPalette.ColorRole.Window).name() == "#000000"
    assert pal.color(QPalette.ColorRole.WindowText).name() == "#ffffff"
    assert inspector.text() == formulas.explain_phase(snap, cfg, high_contrast=True)
    inspector.set_high_contrast(False)
    assert inspector._label.palette().color(QPalette.ColorRole.Window).name() == "#ffffff"
    assert inspector.text() == formulas.explain_phase(snap, cfg)


def test_takes_no_keyboard_focus(inspector):
    assert inspector._label.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert inspector._scroll.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert inspector._sample_spin.focusPolicy() == Qt.FocusPolicy.NoFocus
    assert inspector._header.focusPolicy() == Qt.FocusPolicy.NoFocus
    # Text stays selectable with the mouse.
    flags = inspector._label.textInteractionFlags()
    assert flags & Qt.TextInteractionFlag.TextSelectableByMouse


def test_narrow_layout_when_large_fonts_do_not_fit(inspector, qtbot):
    trainer = make_trainer(1)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "update")
    inspector.show()
    qtbot.waitExposed(inspector)
    inspector.show_snapshot(snap)
    assert inspector.text() == formulas.explain_phase(snap, cfg)  # wide at scale 1
    inspector.set_font_scale(2.0)
    inspector.resize(560, 600)
    qtbot.waitUntil(
        lambda: inspector.text() == formulas.explain_phase(snap, cfg, narrow=True), timeout=2000
    )
    # No horizontal scroll bar: everything fits the width.
    bar = inspector._scroll.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() == 0, timeout=2000)
    inspector.set_font_scale(1.0)
    inspector.resize(700, 600)
    qtbot.waitUntil(lambda: inspector.text() == formulas.explain_phase(snap, cfg), timeout=2000)


def test_scrolls_to_what_this_phase_computed(inspector, qtbot):
    trainer = make_trainer(1, sizes=(2, 3, 3, 1))
    inspector.set_config(trainer.net.config())
    inspector.set_font_scale(2.0)
    inspector.resize(500, 300)
    inspector.show()
    qtbot.waitExposed(inspector)
    inspector.set_selection(("neuron", 1, 1))
    inspector.show_snapshot(walk_to(trainer, "forward", 1))
    bar = inspector._scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() > 0, timeout=2000)
    forward = bar.value()  # the forward pass's heading, under the legend
    inspector.show_snapshot(walk_to(trainer, "hidden_delta", 1))
    qtbot.waitUntil(lambda: bar.value() > forward + 40, timeout=2000)
    # The same phase again (a repaint) leaves the user's scrolling alone.
    bar.setValue(0)
    inspector.show_snapshot(trainer.snapshot())
    # The inspector scrolls from a zero-time timer: let every such timer posted so far
    # run (ours fire after it), then look.
    for _ in range(3):
        fired: list[bool] = []
        QTimer.singleShot(0, lambda fired=fired: fired.append(True))
        qtbot.waitUntil(lambda fired=fired: bool(fired), timeout=2000)
    assert bar.value() == 0
    # Without a selection, the phase table starts at the top.
    inspector.set_selection(None)
    qtbot.waitUntil(lambda: bar.value() == 0, timeout=2000)


def test_between_iterations_after_a_fast_step(inspector):
    trainer = make_trainer(2)
    inspector.set_config(trainer.net.config())
    trainer.step()
    inspector.show_snapshot(trainer.snapshot())
    assert "Between iterations" in inspector.text()
    assert inspector.header_text() == "After iteration 1"


def test_follows_a_dark_desktop_theme_and_back(inspector, dark_theme):
    trainer = make_trainer(1)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "hidden_delta")
    inspector.show_snapshot(snap)
    dark_theme(True)
    pal = inspector._label.palette()
    assert pal.color(QPalette.ColorRole.Window).lightnessF() < 0.2
    assert pal.color(QPalette.ColorRole.WindowText).lightnessF() > 0.8
    assert inspector.text() == formulas.explain_phase(snap, cfg, dark=True)
    assert formulas.palette(dark=True).backward in inspector.text()
    # The panel as drawn is dark: no white formulas panel in a dark window.
    image = inspector.grab().toImage()
    corner = image.pixelColor(inspector._scroll.geometry().bottomRight() - QPoint(20, 20))
    assert corner.lightnessF() < 0.2
    dark_theme(False)
    assert inspector._label.palette().color(QPalette.ColorRole.Window).name() == "#ffffff"
    assert inspector.text() == formulas.explain_phase(snap, cfg)


def test_high_contrast_wins_over_a_dark_theme(inspector, dark_theme):
    trainer = make_trainer(1)
    cfg = trainer.net.config()
    inspector.set_config(cfg)
    snap = walk_to(trainer, "forward", 1)
    inspector.show_snapshot(snap)
    dark_theme(True)
    inspector.set_high_contrast(True)
    assert inspector._label.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    assert inspector.text() == formulas.explain_phase(snap, cfg, high_contrast=True)
