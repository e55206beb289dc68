"""The main window: actions, shortcuts, controls → engine, settings, shutdown, monkey test."""

from __future__ import annotations

import dataclasses
import itertools
import os
import random

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QSettings, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QMenu, QSpinBox

from bpviz import settings
from bpviz.engine.experiment import PRESETS, Setup, build
from bpviz.views.main_window import MainWindow

SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)
TIMEOUT = 20_000


def wait_snapshot(qtbot, w: MainWindow, pred, timeout=TIMEOUT):
    qtbot.waitUntil(lambda: w._latest is not None and pred(w._latest), timeout=timeout)
    return w._latest


def test_window_shows_the_built_in_example_without_files(make_window, qtbot):
    w = make_window(setup=None)
    assert w._config["sizes"][0] == 2
    assert w.isVisible()
    assert w.network_view.neuron_keys()


def test_play_pause_action_starts_and_stops_training(window, qtbot):
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: window.session_playing, timeout=TIMEOUT)
    wait_snapshot(qtbot, window, lambda s: s.iteration > 50)
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: not window.session_playing, timeout=TIMEOUT)
    # Barriers (snapshots sent after every command so far), not waits: training has
    # stopped when two of them, one after the other, show the same iteration.
    it = _latest_after_commands(window, qtbot).iteration
    assert _latest_after_commands(window, qtbot).iteration == it


def test_step_phase_action_advances_exactly_one_phase_in_lecture_order(window, qtbot):
    kinds = []
    for n in range(5):
        window.acts.step_phase.trigger()
        snap = wait_snapshot(
            qtbot, window, lambda s, n=n: s.phase is not None and s.phase.index == n
        )
        kinds.append(snap.phase.kind)
    assert kinds == ["forward", "forward", "error", "output_delta", "hidden_delta"]
    assert window._latest.iteration == 0


def test_step_iteration_and_step_back_actions(window, qtbot):
    w0 = window._latest.weights
    window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    window.acts.step_back.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 0)
    for a, b in zip(w0, snap.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_reset_action_restores_initial_weights(window, qtbot):
    w0 = window._latest.weights
    window.acts.play_pause.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration > 100)
    window.acts.reset.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 0)
    for a, b in zip(w0, snap.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_shortcuts_are_the_documented_keys(window):
    a = window.acts
    expected = {
        a.play_pause: ["Space"],
        a.step_phase: ["Right", "PgDown"],
        a.step_iteration: ["Shift+Right"],
        a.step_back: ["Left", "PgUp"],
        a.reset: ["R", "Ctrl+R"],
        a.quit: ["Ctrl+Q"],
        a.presenter: ["F5", "F11"],
    }
    for action, keys in expected.items():
        assert [s.toString() for s in action.shortcuts()] == keys
        assert keys[0] in action.toolTip()


@pytest.mark.parametrize("cls", [QDoubleSpinBox, QSpinBox, QComboBox])
@pytest.mark.parametrize("key", [Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left])
def test_focused_input_widget_does_not_swallow_transport_shortcuts(window, cls, key):
    widget = window.controls.findChild(cls)
    widget.setFocus()
    event = QKeyEvent(QEvent.Type.ShortcutOverride, key, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    # Not accepted: Qt then triggers the window's shortcut instead of the widget's key.
    assert not event.isAccepted()


def test_plain_typing_in_a_spin_box_is_left_alone(window):
    spin = window.controls.lr
    event = QKeyEvent(
        QEvent.Type.ShortcutOverride, Qt.Key.Key_5, Qt.KeyboardModifier.NoModifier, "5"
    )
    QApplication.sendEvent(spin.lineEdit(), event)
    assert event.isAccepted()


def test_learning_rate_spin_box_changes_eta_live(window, qtbot):
    window.controls.lr.setValue(0.125)
    wait_snapshot(qtbot, window, lambda s: s.lr == 0.125)
    # The training process's update uses it: θ_new = θ_old − η·∂Err/∂θ with η = 0.125.
    window.session.step()
    first = wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    while True:
        window.session.step_phase()
        snap = wait_snapshot(qtbot, window, lambda s, prev=first: s is not prev)
        first = snap
        if snap.phase is not None and snap.phase.kind == "update":
            break
    for new, old, grad in zip(snap.weights, snap.old_weights, snap.grad_weights, strict=True):
        np.testing.assert_allclose(new, old - 0.125 * grad, rtol=1e-12, atol=1e-15)


def test_batch_size_spin_box_changes_the_batch(window, qtbot):
    window.controls.batch_size.setValue(2)
    window.acts.step_iteration.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    assert snap.x.shape[0] == 2


@pytest.mark.parametrize(
    ("name", "value", "key"),
    [
        ("activation", "relu", "activation"),
        ("output_activation", "linear", "output_activation"),
        ("init", "he", "init"),
    ],
)
def test_combo_boxes_rebuild_the_network_as_labelled(window, qtbot, name, value, key):
    combo = getattr(window.controls, name)
    combo.setCurrentIndex(combo.findData(value))
    qtbot.waitUntil(lambda: window._config.get(key) == value, timeout=TIMEOUT)


def test_every_combo_box_shows_its_whole_label(window):
    # A clipped "Xavier/Glorot uniform, ±√(6/(n_i" on a projector reads as a bug.
    from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox

    combos = window.controls.findChildren(QComboBox)
    assert window.controls.init in combos
    for combo in combos:
        opt = QStyleOptionComboBox()
        combo.initStyleOption(opt)
        text_rect = combo.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, combo
        )
        for i in range(combo.count()):
            width = combo.fontMetrics().horizontalAdvance(combo.itemText(i))
            assert width <= text_rect.width(), (combo.itemText(i), width, text_rect.width())
    init = window.controls.init
    init.setCurrentIndex(init.findData("xavier"))
    assert "√(6/(n_in+n_out))" in init.toolTip()


def test_loss_combo_picks_the_output_the_loss_needs(window, qtbot):
    combo = window.controls.loss
    combo.setCurrentIndex(combo.findData("bce"))
    qtbot.waitUntil(lambda: window._config.get("loss") == "bce", timeout=TIMEOUT)
    assert window._config["output_activation"] == "sigmoid"
    assert "ln" in window.loss_plot.loss_formula()


def test_architecture_editor_adds_and_removes_layers_and_neurons(window, qtbot):
    ed = window.controls.architecture
    ed.add_layer.click()
    qtbot.waitUntil(lambda: window._config["sizes"] == [2, 3, 3, 1], timeout=TIMEOUT)
    ed._spins[1].setValue(5)
    qtbot.waitUntil(lambda: window._config["sizes"] == [2, 3, 5, 1], timeout=TIMEOUT)
    ed.remove_layer.click()
    ed.remove_layer.click()
    qtbot.waitUntil(lambda: window._config["sizes"] == [2, 1], timeout=TIMEOUT)
    # The picture follows once the training process has rebuilt the network.
    qtbot.waitUntil(lambda: len(window.network_view.neuron_keys()) == 3, timeout=TIMEOUT)
    assert window.network_view.neuron_keys() == [(0, 0), (0, 1), (1, 0)]


def test_dataset_combo_and_noise_change_the_data(window, qtbot):
    combo = window.controls.dataset
    combo.setCurrentIndex(combo.findData("spiral"))
    qtbot.waitUntil(lambda: window._setup.dataset == "spiral", timeout=TIMEOUT)
    window.controls.noise.setValue(0.3)
    qtbot.waitUntil(lambda: window._setup.noise == 0.3, timeout=TIMEOUT)


def test_invalid_setting_shows_a_message_and_keeps_training(window, qtbot):
    window.session.configure(hidden=(0,))
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    assert "neurons" in window.banner.text()
    window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 1)


def test_divergence_shows_a_banner_and_pauses(make_window, qtbot):
    w = make_window(PRESETS["exploding"][1])
    w.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: w._banner_row.isVisible(), timeout=TIMEOUT)
    assert "diverged" in w.banner.text()
    qtbot.waitUntil(lambda: not w.session_playing, timeout=TIMEOUT)
    assert all(np.isfinite(a).all() for a in w._latest.weights)


def test_loss_plot_holds_exactly_as_many_points_as_steps(window, qtbot):
    for _ in range(7):
        window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 7)
    window.acts.play_pause.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration > 500)
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: not window.session_playing, timeout=TIMEOUT)
    n = _latest_after_commands(window, qtbot).iteration
    window.loss_plot.flush()
    assert window.loss_plot.point_count() == n


def test_selecting_a_neuron_explains_it(window, qtbot):
    window.acts.step_phase.trigger()
    wait_snapshot(qtbot, window, lambda s: s.phase is not None)
    window.network_view.neuron_selected.emit(1, 0)
    qtbot.waitUntil(lambda: "u<sub>3</sub>" in window.inspector.text(), timeout=TIMEOUT)


def test_presenter_mode_hides_side_panels_and_scales_fonts(window, qtbot):
    before = window.inspector.font_scale()
    window.acts.presenter.trigger()
    assert window.acts.presenter.isChecked()
    assert not window.controls_dock.isVisible()
    assert window.inspector.font_scale() > before
    window.acts.presenter.trigger()
    assert window.controls_dock.isVisible()
    assert window.inspector.font_scale() == before


def test_text_size_keys_scale_every_view_and_are_remembered_per_mode(make_window, qtbot):
    w = make_window()
    views = (w.network_view, w.inspector, w.phase_indicator, w.loss_plot)
    assert all(v.font_scale() == pytest.approx(1.0) for v in views if hasattr(v, "font_scale"))
    size = w.inspector._label.font().pointSizeF()
    check_size = w.gradcheck_label.font().pointSizeF()
    for key in ("Ctrl++", "Ctrl+="):  # both spellings of Zoom In work
        assert any(
            s.matches(QKeySequence(key)) == QKeySequence.SequenceMatch.ExactMatch
            for s in w.acts.text_larger.shortcuts()
        )
    w.acts.text_larger.trigger()
    w.acts.text_larger.trigger()
    assert w.font_scale() == pytest.approx(1.15**2, rel=1e-3)
    # Every view with text follows.
    shown = {
        "network": w.network_view._font_scale,
        "formulas": w.inspector.font_scale(),
        "phase boxes": w.phase_indicator._scale,
        "loss plot": w.loss_plot._font_scale,
        "output map": w.output_view._font_scale,
        "gradient plot": w.gradient_plot.font_scale(),
    }
    assert shown == pytest.approx(dict.fromkeys(shown, w.font_scale()))
    assert w.gradcheck_label.font().pointSizeF() == pytest.approx(check_size * 1.15**2, rel=0.02)
    assert w.inspector._label.font().pointSizeF() > size * 1.2
    assert "Text size 132%" in w.statusBar().currentMessage()
    # Presenter mode keeps its own size, scaled to the screen's height.
    w.acts.presenter.trigger()
    screen_h = w.screen().geometry().height()
    want = 1.8 * min(max(screen_h / 1080, 0.5), 2.0)
    assert w.inspector.font_scale() == pytest.approx(want)
    # Each step changes what is shown, down to the bound and straight back up.
    sizes = [w.inspector.font_scale()]
    for _ in range(12):
        w.acts.text_smaller.trigger()
        sizes.append(w.inspector.font_scale())
    assert sizes[1] == pytest.approx(want / 1.15, rel=1e-3)
    assert sizes[-1] == pytest.approx(0.6)
    assert all(b < a for a, b in itertools.pairwise(sizes) if a > 0.6)
    w.acts.text_larger.trigger()
    assert w.inspector.font_scale() == pytest.approx(0.6 * 1.15, rel=1e-3)
    w.acts.text_reset.trigger()
    assert w.inspector.font_scale() == pytest.approx(want)
    w.acts.presenter.trigger()
    assert w.inspector.font_scale() == pytest.approx(1.15**2, rel=1e-3)
    # A new window starts with the remembered size; Ctrl+0 goes back to normal.
    w2 = make_window(restore=True)
    assert w2.inspector.font_scale() == pytest.approx(1.15**2, rel=1e-3)
    w2.acts.text_reset.trigger()
    assert w2.inspector.font_scale() == pytest.approx(1.0)
    for _ in range(30):  # bounded
        w2.acts.text_smaller.trigger()
    assert w2.font_scale() == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("stored", "shown"), [("nan", 1.0), ("inf", 1.0), ("1e6", 4.0), ("0", 0.6)]
)
def test_a_damaged_text_size_setting_still_starts_the_window(make_window, stored, shown):
    QSettings("bpviz", "bpviz").setValue("font_scale", stored)
    w = make_window(restore=True)
    assert w.font_scale() == pytest.approx(shown)
    assert w.inspector.font_scale() == pytest.approx(shown)


def test_window_state_round_trips_through_qsettings(make_window, qtbot):
    w = make_window(restore=True)
    w.controls.lr.setValue(0.25)
    qtbot.waitUntil(lambda: w._setup.lr == 0.25, timeout=TIMEOUT)
    w.output_dock.hide()
    geometry = w.saveGeometry()
    w.close()
    # (The offscreen screen is 800×800 px, so Qt clamps a restored size; compare the bytes.)
    assert settings.read("window/geometry") == geometry
    w2 = make_window(setup=None, restore=True)
    assert w2._setup.lr == 0.25
    assert not w2.output_dock.isVisible()
    assert w2.loss_dock.isVisible() or w2.gradient_dock.isVisible()


def test_close_while_playing_stops_the_thread(make_window, qtbot):
    w = make_window()
    w.acts.play_pause.trigger()
    wait_snapshot(qtbot, w, lambda s: s.iteration > 10)
    w.close()
    assert w.session.thread.isFinished()


def test_window_renders_to_png(window, qtbot, tmp_path):
    window.acts.play_pause.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration > 200)
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: not window.session_playing, timeout=TIMEOUT)
    _latest_after_commands(window, qtbot)
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    assert img.width() >= 1000
    colors = {
        img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 37)
    }
    assert len(colors) > 20  # not blank


#: Random actions in the monkey test: 400 by default (about 12 s); a soak run takes more,
#: e.g. ``BPVIZ_MONKEY_ACTIONS=20000 python -m pytest -k monkey``.
MONKEY_ACTIONS = int(os.environ.get("BPVIZ_MONKEY_ACTIONS", "400"))


def test_monkey_random_actions_while_training(make_window, qtbot):
    w = make_window()
    rng = random.Random(1234)
    c = w.controls
    a = w.acts
    failures = []
    w.session.worker.failed.connect(failures.append)

    def spin(box):
        lo, hi = box.minimum(), box.maximum()
        hi = min(hi, lo + 20 if isinstance(box, QSpinBox) else 2.0)
        v = rng.uniform(lo, hi)
        box.setValue(int(v) if isinstance(box, QSpinBox) else v)

    def combo(box):
        box.setCurrentIndex(rng.randrange(box.count()))

    def arch():
        rng.choice([c.architecture.add_layer, c.architecture.remove_layer]).click()
        if c.architecture._spins:
            rng.choice(c.architecture._spins).setValue(rng.randint(1, 6))

    def shortcut_key():
        key = rng.choice([Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_R])
        seq = QKeySequence(key).toString()
        for act in a.keyboard():
            if seq in [s.toString() for s in act.shortcuts()]:
                act.trigger()

    choices = [
        a.play_pause.trigger,
        a.step_phase.trigger,
        a.step_iteration.trigger,
        a.step_back.trigger,
        a.reset.trigger,
        a.show_values.trigger,
        a.log_y.trigger,
        lambda: spin(c.lr),
        lambda: spin(c.batch_size),
        lambda: spin(c.momentum),
        lambda: spin(c.l2),
        lambda: spin(c.clip_norm),
        lambda: spin(c.noise),
        lambda: combo(c.activation),
        lambda: combo(c.output_activation),
        lambda: combo(c.loss),
        lambda: combo(c.init),
        lambda: combo(c.dataset),
        lambda: combo(c.pace),
        lambda: c.bias.toggle(),
        arch,
        shortcut_key,
        lambda: w.network_view.neuron_selected.emit(0, 0),
    ]
    for n in range(MONKEY_ACTIONS):
        rng.choice(choices)()
        if n % 50 == 0:
            qtbot.wait(5)
    # The window still trains.
    w.load_setup(SMALL)
    qtbot.waitUntil(lambda: w._setup == SMALL, timeout=TIMEOUT)
    # The random walk may have left a lecture pace (1 / s): train at full speed to see it train.
    w.controls.pace.setCurrentText("as fast as possible")
    w.session.play()
    start = w._latest.iteration
    qtbot.waitUntil(lambda: w._latest.iteration > start + 50, timeout=TIMEOUT)
    w.session.pause()
    # Only rejections of settings the random walk made invalid may be reported.
    assert all(f.startswith(("Invalid setting", "Could not build")) for f in failures), failures


# -- files and exports (File menu) -----------------------------------------------------


def test_export_loss_plot_png_svg_and_csv(window, qtbot, tmp_path):
    from PySide6.QtGui import QImage

    for _ in range(20):
        window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 20)
    window.export_loss_png(str(tmp_path / "loss.png"), 800, 500)
    img = QImage(str(tmp_path / "loss.png"))
    assert (img.width(), img.height()) == (800, 500)
    window.export_loss_svg(str(tmp_path / "loss.svg"))
    import xml.etree.ElementTree as ET

    ET.parse(tmp_path / "loss.svg")
    saved = []
    window.session.worker.saved.connect(saved.append)
    window.export_loss_csv(str(tmp_path / "loss.csv"))
    qtbot.waitUntil(lambda: (tmp_path / "loss.csv").exists(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "loss.csv" in window.statusBar().currentMessage(), timeout=TIMEOUT)
    rows = (tmp_path / "loss.csv").read_text().splitlines()
    assert rows[0].startswith("iteration")
    assert len(rows) == 1 + 21  # header, the initial evaluation, 20 iterations


def test_export_network_png_and_svg(window, tmp_path):
    from PySide6.QtGui import QImage

    window.export_network_png(str(tmp_path / "net.png"), scale=1.0)
    assert not QImage(str(tmp_path / "net.png")).isNull()
    window.export_network_svg(str(tmp_path / "net.svg"))
    assert "<svg" in (tmp_path / "net.svg").read_text()


def test_export_lecture_walk_writes_one_png_per_phase(window, qtbot, tmp_path):
    window.acts.step_phase.trigger()  # a walk already open is finished first
    wait_snapshot(qtbot, window, lambda s: s.phase is not None)
    paths = window.export_phases(str(tmp_path))
    n_phases = window._latest.phase.count
    assert len(paths) == n_phases == 7  # 2 forward, Err, output δ, 1 hidden δ, grads, update
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"phase_{i:02d}.png" for i in range(1, 8)]


def test_save_then_open_restores_weights_bit_for_bit(window, qtbot, tmp_path):
    for _ in range(5):
        window.acts.step_iteration.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 5)
    path = tmp_path / "exp.json"
    window.save_experiment(str(path))
    qtbot.waitUntil(path.exists, timeout=TIMEOUT)
    window.acts.reset.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 0)
    window.open_experiment(str(path))
    loaded = wait_snapshot(qtbot, window, lambda s: s.iteration == 5)
    for a, b in zip(snap.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert str(path) in settings.read("recent_files")


def test_opening_a_corrupt_file_reports_it_and_keeps_the_session(window, qtbot, tmp_path):
    window.acts.step_iteration.trigger()
    before = wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "bpviz-experiment", "version": 1, "setup": {"hidden": ["x"]}}')
    window.open_experiment(str(bad))
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    assert "hidden" in window.banner.text()
    window.session.request_snapshot()
    after = wait_snapshot(qtbot, window, lambda s: s is not before)
    assert after.iteration == 1
    for a, b in zip(before.weights, after.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_examples_menu_opens_every_built_in_example(window, qtbot):
    actions = window.examples_menu.actions()
    assert len(actions) == len(PRESETS)
    for act in actions:
        name = act.data()
        act.trigger()
        qtbot.waitUntil(lambda name=name: window._setup == PRESETS[name][1], timeout=TIMEOUT)


def test_auto_advance_steps_phases_by_itself(window, qtbot):
    settings.write("auto_advance_seconds", 0.5)
    window.acts.auto_advance.trigger()
    assert window._advance.isActive()
    wait_snapshot(qtbot, window, lambda s: s.phase is not None and s.phase.index >= 2)
    window.acts.auto_advance.trigger()
    assert not window._advance.isActive()
    window.acts.play_pause.trigger()  # playing turns auto-advance off too
    assert not window.acts.auto_advance.isChecked()


def test_application_icon_loads(qapp):
    from bpviz.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert not icon.pixmap(64, 64).isNull()


def test_launching_as_a_process_shows_the_window_and_quits_with_code_0(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "BPVIZ_SMOKE_TEST_QUIT_MS": "1500",
        "XDG_CONFIG_HOME": str(tmp_path),
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "QThread" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gradient_check_action_reports_agreement_per_layer(window, qtbot):
    window.acts.gradient_check.trigger()
    qtbot.waitUntil(lambda: "max relative error" in window.gradcheck_label.text(), timeout=TIMEOUT)
    text = window.gradcheck_label.text()
    assert text.count("θ layer") == 2  # 2-3-1: two weight layers
    assert "agrees" in text


def test_only_one_dock_tab_bar_is_painted(window):
    from PySide6.QtWidgets import QTabBar

    bars = [tb for tb in window.findChildren(QTabBar) if tb.isVisible()]
    assert len(bars) == 1


# -- Drawing while training plays (issue #4): slow panels follow at a lower rate ------


def _record_calls(monkeypatch, obj, name: str, clock) -> list[float]:
    """Wrap ``obj.name`` so that each call appends ``clock()`` to the list."""
    times: list[float] = []
    original = getattr(obj, name)

    def recorded(*args, **kwargs):
        times.append(clock())
        return original(*args, **kwargs)

    monkeypatch.setattr(obj, name, recorded)
    return times


def _latest_after_commands(window, qtbot):
    """A snapshot sent after every command so far (and handled by the window)."""
    before = window._latest
    window.session.request_snapshot()
    return wait_snapshot(qtbot, window, lambda s: s is not before)


def _assert_all_panels_show(window, snap):
    n = snap.iteration
    assert window.network_view._snapshot is snap
    assert window.inspector._snapshot is snap
    assert window.output_view._last_snapshot is snap
    assert f"{n:,}" in window.status_label.text()
    current = n if snap.phase is None or snap.phase.is_last else n + 1
    assert window.phase_indicator.count_text().endswith(f"iteration {current:,}")
    assert window.loss_plot.point_count() == window.loss_plot.drawn_batch_points() == n


def _record_panels(monkeypatch, window, clock) -> tuple[list[float], dict[str, list[float]]]:
    """When the network view and each slow panel are shown, read from ``clock``."""
    net = _record_calls(monkeypatch, window.network_view, "show_snapshot", clock)
    panels = {
        "inspector": _record_calls(monkeypatch, window.inspector, "show_snapshot", clock),
        "phase": _record_calls(monkeypatch, window.phase_indicator, "show_snapshot", clock),
        "output": _record_calls(monkeypatch, window.output_view, "show_snapshot", clock),
        "status": _record_calls(monkeypatch, window, "_update_status", clock),
    }
    return net, panels


def test_slow_panels_follow_less_often_than_the_network_while_playing(window, qtbot, monkeypatch):
    # The real session plays and the window's frame timer draws; the calls are only put
    # in order (their periods are checked on a fake clock in the next test).
    order = itertools.count()
    net, panels = _record_panels(monkeypatch, window, lambda: next(order))
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: window.session_playing, timeout=TIMEOUT)
    start = len(net), {k: len(v) for k, v in panels.items()}
    # Until the network view has followed 30 frames and every panel at least twice (on a
    # slow machine frames come less often: the frame budget), not for a fixed time.
    qtbot.waitUntil(
        lambda: (
            len(net) - start[0] >= 30 and all(len(v) - start[1][k] >= 3 for k, v in panels.items())
        ),
        timeout=TIMEOUT,
    )
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: not window.session_playing, timeout=TIMEOUT)
    frames = len(net) - start[0]
    for name, calls in panels.items():
        seen = calls[start[1][name] :]
        playing = [t for t in seen if t <= net[-1]][: max(0, len(seen) - 1)]
        assert len(seen) >= 2, name  # it does follow, though
        assert len(playing) < frames, name


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_slow_panels_keep_their_periods_on_the_window_clock(window, monkeypatch):
    """Two seconds of frames at 60 a second, each with a new snapshot, on a fake clock."""
    clock = FakeClock()
    # The fake clock goes on from the last time the window read its real one.
    clock.t = max(t for _, t in window._panels_shown().values()) + 1.0
    monkeypatch.setattr(window, "_clock", clock)
    monkeypatch.setattr(window, "session_playing", True)
    net, panels = _record_panels(monkeypatch, window, clock)
    trainer = build(SMALL)[0]  # trains as the window's session would
    frame = 1 / 60
    # No events are processed in this loop: the window's own frame timer and the real
    # session (paused) cannot come in between.
    for _ in range(120):
        clock.t += frame
        trainer.step()
        window._on_snapshot(trainer.snapshot())
        window._update_views()
    assert len(net) == 120  # the network view follows every frame
    periods = window._PANEL_PERIODS
    for name, times in panels.items():
        gaps = np.diff(times)
        period = periods[name]
        # Never sooner than its period; later by at most the frames other panels took
        # (one panel per frame).
        assert gaps.min() >= period - 1e-9, (name, gaps)
        assert gaps.max() <= period + len(periods) * frame + 1e-9, (name, gaps)
        assert len(times) >= int(2.0 / (period + len(periods) * frame)), name
    # The status bar's rate follows the same clock: 60 iterations a (fake) second.
    assert window._rate == pytest.approx(60)


def test_every_panel_shows_the_last_snapshot_once_paused(window, qtbot):
    window.acts.play_pause.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration > 300)
    window.acts.play_pause.trigger()
    qtbot.waitUntil(lambda: not window.session_playing, timeout=TIMEOUT)
    snap = _latest_after_commands(window, qtbot)
    window._repaint()  # one frame
    _assert_all_panels_show(window, snap)
    assert window.gradient_plot.data()[0][-1] == snap.iteration
    assert "paused" in window.status_label.text()


def test_lecture_steps_reach_every_panel_in_the_next_frame(window, qtbot):
    for k in range(4):
        window.acts.step_phase.trigger()
        snap = wait_snapshot(
            qtbot, window, lambda s, k=k: s.phase is not None and s.phase.index == k
        )
        window._repaint()
        _assert_all_panels_show(window, snap)
        assert window.phase_indicator.count_text().startswith(f"phase {k + 1} of ")
        assert window.phase_indicator.active_stage() == snap.phase.stage


def test_slow_panels_catch_up_while_playing_without_new_snapshots(window, qtbot, monkeypatch):
    # A slow pace sends few snapshots: a panel skipped for one must still show it.
    window.acts.step_iteration.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    window._repaint()
    monkeypatch.setattr(window, "session_playing", True)
    window.acts.step_iteration.trigger()
    snap = wait_snapshot(qtbot, window, lambda s: s.iteration == 2)
    qtbot.waitUntil(lambda: window.inspector._snapshot is snap, timeout=2000)
    qtbot.waitUntil(lambda: window.output_view._last_snapshot is snap, timeout=2000)
    qtbot.waitUntil(lambda: "iteration 2 " in window.status_label.text() + " ", timeout=2000)
    assert window.phase_indicator.count_text() == "between iterations · iteration 2"


def test_the_gradient_plot_draws_when_its_tab_comes_to_the_front(window, qtbot):
    for _ in range(3):
        window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 3)
    window._repaint()
    plot = window.gradient_plot
    assert plot.point_count() == 3

    def drawn():
        x, _ = plot._curves[0].getOriginalDataset()
        return 0 if x is None else len(x)

    window.gradient_dock.raise_()
    qtbot.waitUntil(lambda: drawn() == 3, timeout=TIMEOUT)
    assert not plot.is_dirty()


def test_spin_boxes_made_after_start_do_not_swallow_transport_shortcuts(window, qtbot):
    # The architecture editor makes its spin boxes when the network is (re)built,
    # after the window's shortcut guard was set up.
    editor = window.controls.architecture
    before = set(editor._spins)
    editor.add_layer.click()
    # "+ layer" makes a new spin box; the rebuild keeps the boxes when the sizes are
    # those shown (a box being typed in keeps its focus).
    n = len(before) + 1
    qtbot.waitUntil(
        lambda: len(editor._spins) == n and len(window._config["sizes"]) == n + 2,
        timeout=TIMEOUT,
    )
    (spin,) = set(editor._spins) - before
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Right, Qt.Key.Key_Left):
        event = QKeyEvent(QEvent.Type.ShortcutOverride, key, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(spin, event)
        assert not event.isAccepted()
    # Digits still reach it.
    no_mod = Qt.KeyboardModifier.NoModifier
    event = QKeyEvent(QEvent.Type.ShortcutOverride, Qt.Key.Key_5, no_mod, "5")
    QApplication.sendEvent(spin, event)
    assert event.isAccepted()


def test_the_window_repaints_less_often_when_its_frames_are_costly(make_window, qtbot):
    w = make_window()
    qtbot.waitUntil(lambda: w._latest is not None, timeout=TIMEOUT)
    clock = [0.0]
    real_begin = w.frame_budget.begin
    w.frame_budget.clock = lambda: clock[0]

    def costly_begin() -> None:
        real_begin()
        clock[0] += 0.030  # every frame's work "takes" 30 ms

    w.frame_budget.begin = costly_begin
    w.session.play()
    qtbot.waitUntil(lambda: w._frame.interval() >= 100, timeout=TIMEOUT)
    assert w._frame.interval() <= 250
    # Cheap frames again: back to the screen's rate.
    w.frame_budget.begin = real_begin
    qtbot.waitUntil(lambda: w._frame.interval() == 16, timeout=TIMEOUT)
    w.session.pause()


def test_a_snapshot_arriving_after_close_is_ignored(make_window, qtbot):
    w = make_window()
    w.session.step()
    snap = wait_snapshot(qtbot, w, lambda s: s.iteration == 1)
    losses = len(w.loss_plot.data()[0])
    w.close()
    assert not w.session.running
    # A snapshot (and a rebuild) still queued when the window closed are delivered later,
    # as Qt delivers queued signals: by calling the window's slots.
    late = dataclasses.replace(
        snap, iteration=2, losses_from=1, new_losses=np.array([0.25]), phase=None
    )
    w._on_snapshot(late)
    w._on_rebuilt(None)
    w._repaint()
    assert w._latest is snap
    assert len(w.loss_plot.data()[0]) == losses


def test_a_damaged_file_names_every_bad_field_and_the_path_once(window, qtbot, tmp_path):
    bad = tmp_path / "two_bad.json"
    bad.write_text(
        '{"format": "bpviz-experiment", "version": 2, '
        '"setup": {"hidden": ["x"], "lr": "fast", "loss": "nope"}}'
    )
    window.open_experiment(str(bad))
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    text = window.banner.text()
    for field in ("setup.hidden[0]", "setup.lr", "setup.loss"):
        assert field in text, text
    assert text.count(str(bad)) == 1, text


# -- issue 22: what the window shows is what trains ----------------------------------------


def test_softmax_on_two_class_data_is_refused_whole_with_the_reason(make_window, qtbot):
    w = make_window(Setup(hidden=(3,), n_samples=40))  # the circle: one output column
    combo = w.controls.output_activation
    item = combo.model().item(combo.findData("softmax"))
    assert not item.isEnabled()  # prevented in the menu, the tooltip saying why
    assert "2 outputs" in combo.itemData(combo.findData("softmax"), Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(combo.findData("softmax"))  # forced anyway (as a script could)
    qtbot.waitUntil(lambda: w._banner_row.isVisible(), timeout=TIMEOUT)
    assert "softmax needs at least 2 outputs" in w.banner.text()
    # Refused: the engine and every control stay as they were.
    qtbot.waitUntil(lambda: combo.currentData() == "sigmoid", timeout=TIMEOUT)
    assert w.controls.loss.currentData() == "sse"
    assert w._config["output_activation"] == "sigmoid" and w._config["loss"] == "sse"
    # Sigmoid can be chosen again at once (before, the box said sigmoid while the net was softmax).
    w.controls.loss.setCurrentIndex(w.controls.loss.findData("bce"))
    qtbot.waitUntil(lambda: w._config.get("loss") == "bce", timeout=TIMEOUT)
    assert combo.currentData() == "sigmoid"


def test_the_exploding_example_shows_its_eta_and_touching_the_box_keeps_it_near(make_window, qtbot):
    w = make_window(PRESETS["exploding"][1])
    assert w.controls.lr.text() == "0.0001" and w.controls.lr.value() == 1e-4
    w.controls.lr.stepBy(1)
    wait_snapshot(qtbot, w, lambda s: s.lr == 2e-4)
    assert w.controls.lr.text() == "0.0002"


def test_an_eta_typed_out_of_range_is_reported_and_not_applied(window, qtbot):
    box = window.controls.lr
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box, "5000")
    QTest.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    assert "η must be between 0 and 1000; 5000 was not applied" in window.banner.text()
    window.session.request_snapshot()
    assert wait_snapshot(qtbot, window, lambda s: True).lr == 0.5 and box.value() == 0.5


def engine_train_err(setup: Setup, snap) -> float:
    """The engine's Err over the training set for the θ a snapshot shows."""
    from bpviz.engine.experiment import build

    trainer, _ = build(setup)
    for k, (w, b) in enumerate(zip(snap.weights, snap.biases, strict=True)):
        trainer.net.weights[k][...] = w
        if trainer.net.bias:
            trainer.net.biases[k][...] = b
    return trainer.evaluate()[0]


def test_a_hand_typed_weight_updates_every_err_readout(window, qtbot):
    from bpviz.views.colors import format_number

    for _ in range(3):
        window.acts.step_iteration.trigger()
    old = wait_snapshot(qtbot, window, lambda s: s.iteration == 3)
    window.select(("neuron", 1, 0))
    old_err = engine_train_err(SMALL, old)
    window.network_view.weight_edited.emit(0, 0, 0, 3.0)  # as the edge's editor does
    snap = wait_snapshot(qtbot, window, lambda s: s.weights[0][0, 0] == 3.0)
    err = engine_train_err(SMALL, snap)
    assert err != old_err
    shown = f"training Err/N = {format_number(err)}/"
    qtbot.waitUntil(lambda: shown in window.loss_plot.readout_text(), timeout=TIMEOUT)
    status = f"training Err/N = {err:.4g}/"  # worded as the readout: over its N, per sample
    qtbot.waitUntil(lambda: status in window.status_label.text(), timeout=TIMEOUT)
    # The inspector offers no u, o, δ of the iteration before the edit as current.
    assert format_number(float(old.u[1][0, 0])) not in window.inspector.text()


def test_the_gradient_check_result_goes_when_the_network_or_theta_changes(window, qtbot):
    window.acts.gradient_check.trigger()
    qtbot.waitUntil(lambda: "max relative error" in window.gradcheck_label.text(), timeout=TIMEOUT)
    assert "ReLU" not in window.gradcheck_label.text()  # this network has no ReLU
    window.network_view.weight_edited.emit(0, 0, 0, 3.0)
    qtbot.waitUntil(lambda: "θ has changed since" in window.gradcheck_label.text(), timeout=TIMEOUT)
    combo = window.controls.dataset
    combo.setCurrentIndex(combo.findData("circle"))
    qtbot.waitUntil(lambda: window._setup.dataset == "circle", timeout=TIMEOUT)
    assert "max relative error" not in window.gradcheck_label.text()


def test_a_bad_csv_file_is_reported_as_a_data_error(window, qtbot, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,y\n1,2,0\n3,oops,1\n")
    window.load_csv(str(bad))
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    text = window.banner.text()
    assert "Could not build that network" not in text
    assert "Could not load the data" in text and "oops" in text


def test_set_these_theta_as_the_start_then_reset_returns_to_them(window, qtbot):
    window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    window.network_view.weight_edited.emit(0, 1, 0, 1.5)
    typed = wait_snapshot(qtbot, window, lambda s: s.weights[0][1, 0] == 1.5)
    window.acts.set_start.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 0 and s.weights[0][1, 0] == 1.5)
    for _ in range(3):
        window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 3)
    window.acts.reset.trigger()
    back = wait_snapshot(qtbot, window, lambda s: s.iteration == 0)
    for a, b in zip(typed.weights, back.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_start_weights_typed_in_a_table_are_kept_by_reset_and_a_saved_file(window, qtbot, tmp_path):
    import json

    window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 1)
    dialog = window.edit_start_weights()
    assert dialog.table.rowCount() == 3 and dialog.table.columnCount() == 3  # bias + 2 inputs
    dialog.set_cell(0, 0, "0.5")
    dialog.set_cell(2, -1, "-1")
    dialog.layer.setCurrentIndex(1)
    dialog.set_cell(0, 1, "x")
    dialog.accept()  # refused: "x" is not a number
    assert dialog.isVisible() and "not a number" in dialog.error.text()
    dialog.set_cell(0, 1, "2")
    dialog.accept()

    def typed(s):
        return (
            s.iteration == 0
            and s.weights[0][0, 0] == 0.5
            and s.biases[0][2] == -1
            and s.weights[1][0, 1] == 2
        )

    wait_snapshot(qtbot, window, typed)
    for _ in range(2):
        window.acts.step_iteration.trigger()
    wait_snapshot(qtbot, window, lambda s: s.iteration == 2)
    path = tmp_path / "exam.json"
    window.save_experiment(str(path))
    qtbot.waitUntil(path.exists, timeout=TIMEOUT)
    window.acts.reset.trigger()
    wait_snapshot(qtbot, window, typed)
    params = json.loads(path.read_text())["setup"]["params"]
    assert 0.5 in params and -1 in params and 2 in params
    window.open_experiment(str(path))
    wait_snapshot(qtbot, window, lambda s: s.iteration == 2)
    window.acts.reset.trigger()
    wait_snapshot(qtbot, window, typed)


def test_hidden_neuron_maps_for_every_hidden_layer_from_the_view_menu(make_window, qtbot):
    from bpviz.engine import Network
    from bpviz.views.hidden_maps import GRID

    w = make_window(Setup(hidden=(4, 3), n_samples=40))  # the circle, two hidden layers
    w.resize(1600, 1000)  # the default size
    view_menu = next(m for m in w.menuBar().findChildren(QMenu) if m.title() == "&View")
    assert w.acts.hidden_maps in view_menu.actions()
    assert not w.hidden_dock.isVisible()
    w.acts.hidden_maps.trigger()
    qtbot.waitUntil(
        lambda: w.hidden_dock.isVisible() and len(w.hidden_maps.maps()) == 2, timeout=TIMEOUT
    )
    maps = w.hidden_maps.maps()
    assert [len(layer) for layer in maps] == [4, 3]
    assert w.hidden_maps.map_size_px() >= 48  # readable, in the default layout
    # Each map is the engine's o_i for the θ shown.
    snap = w._latest
    cfg = w._config
    net = Network(
        cfg["sizes"],
        activation=cfg["activation"],
        output_activation=cfg["output_activation"],
        loss=cfg["loss"],
        bias=cfg["bias"],
    )
    for k, (wt, b) in enumerate(zip(snap.weights, snap.biases, strict=True)):
        net.weights[k][...] = wt
        net.biases[k][...] = b
    trace = net.forward(w.hidden_maps.grid_inputs())
    for l, layer in enumerate(maps, start=1):
        for i, m in enumerate(layer):
            np.testing.assert_allclose(m, trace.o[l][:, i].reshape(GRID, GRID), rtol=1e-12)
    assert "−1 (blue) … +1 (red)" in w.hidden_maps.titles()[0]  # tanh's own range
    w.acts.hidden_maps.trigger()
    qtbot.waitUntil(lambda: not w.hidden_dock.isVisible(), timeout=TIMEOUT)


def test_status_bar_err_after_a_step_back_is_the_newest_evaluation_left(make_window, qtbot):
    """Step back past an evaluation: the status bar drops its Err as the loss plot does."""
    w = make_window(Setup(dataset="circle", n_samples=200, hidden=(4,), batch_size=10))
    wait_snapshot(qtbot, w, lambda s: s.iteration == 0)
    qtbot.waitUntil(lambda: w.loss_plot.eval_count() == 1, timeout=TIMEOUT)
    first = w.loss_plot.latest_eval()
    for i in range(1, 21):  # 160 training samples, batch 10: evaluated again after 16
        w.acts.step_iteration.trigger()
        wait_snapshot(qtbot, w, lambda s, i=i: s.iteration == i)
    assert w.loss_plot.latest_eval()[0] == 16
    qtbot.waitUntil(lambda: "both at iteration 16" in w.status_label.text(), timeout=TIMEOUT)
    for i in range(19, 14, -1):
        w.acts.step_back.trigger()
        wait_snapshot(qtbot, w, lambda s, i=i: s.iteration == i and s.phase is None)
    assert w.loss_plot.eval_count() == 1  # iteration 16's evaluation was undone
    assert w.loss_plot.latest_eval() == first
    qtbot.waitUntil(lambda: "iteration 15 " in w.status_label.text(), timeout=TIMEOUT)
    text = w.status_label.text()
    # The engine's Err over the 160 training samples, and per sample as the plot draws it.
    train = f"training Err/N = {first[1]:.4g}/160 = {first[1] / 160:.4g}"
    assert train in text and "both at iteration 0" in text, text
    assert w.loss_plot.latest_eval_text(lambda v: f"{v:.4g}") in text


def _walk_to(qtbot, w: MainWindow, title: str) -> None:
    """Step phases until the lecture walk stands on the phase called ``title``."""
    for _ in range(20):
        if w._latest.phase is not None and w._latest.phase.title.startswith(title):
            return
        n = w._latest.phase.index if w._latest.phase is not None else -1
        w.acts.step_phase.trigger()
        wait_snapshot(qtbot, w, lambda s, n=n: s.phase is not None and s.phase.index != n)
    raise AssertionError(f"no phase {title!r}")


def test_presenter_mode_fits_the_formulas_of_the_longest_phase(make_window, qtbot):
    # On the lecture example the gradients and the update list six θ each: in presenter
    # mode every line shows, the graph keeps the rest, and the panel does not shrink again.
    from bpviz.examples import example_paths

    w = make_window()
    w.open_experiment(str(example_paths()["lecture"]))
    wait_snapshot(qtbot, w, lambda s: w._config.get("bias") is False)
    w.acts.presenter.trigger()
    qtbot.waitUntil(w.isFullScreen, timeout=TIMEOUT)
    assert w.inspector_dock.titleBarWidget() is not None  # the header names the panel
    # The test's screen is 800 × 800: one step smaller gives the text the size it has
    # on a 1280 × 720 projector (presenter text follows the screen's height).
    w.acts.text_smaller.trigger()
    assert w.font_scale() == pytest.approx(1.8 * 720 / 1080, rel=0.15)
    bar = w.inspector._scroll.verticalScrollBar()
    for title in ("Gradients", "Update"):
        _walk_to(qtbot, w, title)
        with qtbot.waitSignal(w.inspector.formulas_changed, timeout=TIMEOUT):
            pass
        qtbot.waitUntil(lambda: bar.maximum() == 0, timeout=TIMEOUT)
        assert "θ<sub>42</sub>" in w.inspector.text()
        assert w.network_view.height() >= w.height() / 3 - 6  # (a dock separator or so)
    tall = w.inspector_dock.height()
    w.acts.step_phase.trigger()  # the next iteration's forward pass: fewer lines
    wait_snapshot(qtbot, w, lambda s: s.phase is not None and s.phase.index == 0)
    assert w.inspector_dock.height() == tall
    w.acts.presenter.trigger()
    assert w.inspector_dock.titleBarWidget() is None


def test_presenter_mode_keeps_a_third_of_the_screen_for_the_graph(make_window, qtbot):
    # The spiral's hidden δ list eight neurons per layer, its gradients hundreds of θ: the
    # formulas grow only down to the graph's third of the screen, then scroll.
    from bpviz.examples import example_paths

    w = make_window()
    w.open_experiment(str(example_paths()["spiral"]))
    wait_snapshot(qtbot, w, lambda s: len(w._config["sizes"]) == 6)
    w.acts.presenter.trigger()
    qtbot.waitUntil(w.isFullScreen, timeout=TIMEOUT)
    bar = w.inspector._scroll.verticalScrollBar()
    _walk_to(qtbot, w, "Gradients")
    snap = w._latest
    # The formulas of that phase are shown (a signal for it may come before a wait could start).
    qtbot.waitUntil(
        lambda: w.inspector._scrolled_for[0] == (snap.iteration, snap.phase.index), timeout=TIMEOUT
    )
    qtbot.waitUntil(
        lambda: w.network_view.height() < w.height() / 3 + 40 and bar.maximum() > 0,  # scrolls
        timeout=TIMEOUT,
    )
    assert w.network_view.height() >= w.height() / 3 - 6  # (a dock separator or so)


def test_up_and_down_scroll_the_formulas_but_a_focused_box_keeps_them(make_window, qtbot):
    from bpviz.examples import example_paths

    w = make_window()
    w.open_experiment(str(example_paths()["lecture"]))
    wait_snapshot(qtbot, w, lambda s: w._config.get("bias") is False)
    w.resizeDocks([w.inspector_dock], [120], Qt.Orientation.Vertical)
    _walk_to(qtbot, w, "Gradients")
    bar = w.inspector._scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=TIMEOUT)
    bar.setValue(0)
    assert [s.toString() for s in w.acts.formulas_down.shortcuts()] == ["Down"]
    w.acts.formulas_down.trigger()
    assert bar.value() > 0
    w.acts.formulas_up.trigger()
    assert bar.value() == 0
    # A focused spin box or combo box keeps its own Up and Down.
    for widget in (w.controls.lr, w.controls.findChild(QComboBox)):
        for key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            event = QKeyEvent(QEvent.Type.ShortcutOverride, key, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(widget, event)
            assert event.isAccepted()


def test_status_bar_counts_the_iteration_the_way_the_phase_indicator_does(make_window, qtbot):
    # Walking iteration 1 of the lecture example, both say "iteration 1"; after the update
    # (phase 7 of 7) too; between iterations both name the last one completed.
    import re

    from bpviz.examples import example_paths

    w = make_window()
    w.open_experiment(str(example_paths()["lecture"]))
    wait_snapshot(qtbot, w, lambda s: w._config.get("bias") is False)

    def numbers() -> tuple[int, int]:
        status = re.search(r"iteration ([\d,]+)", w.status_label.text())
        shown = re.search(r"iteration ([\d,]+)", w.phase_indicator.count_text())
        return int(status.group(1).replace(",", "")), int(shown.group(1).replace(",", ""))

    seen = []
    for _ in range(8):  # the seven phases of iteration 1, then the forward pass of iteration 2
        n = w._latest.phase.index if w._latest.phase is not None else -1
        w.acts.step_phase.trigger()
        wait_snapshot(qtbot, w, lambda s, n=n: s.phase is not None and s.phase.index != n)
        k = f"Phase {w._latest.phase.index + 1}/"
        qtbot.waitUntil(lambda k=k: w.status_label.text().startswith(k), timeout=TIMEOUT)
        assert w.phase_indicator.count_text().startswith(k.lower().replace("/", " of"))
        status, shown = numbers()
        assert status == shown, (w.status_label.text(), w.phase_indicator.count_text())
        seen.append(status)
    assert seen == [1] * 7 + [2]
    # Walking iteration 2, the Err shown is the one taken before it: the status bar says so.
    assert "at iteration 1" in w.status_label.text()


def test_the_status_line_fits_a_720p_window_and_keeps_all_in_its_tooltip(make_window, qtbot):
    # The default example's status while walking: phase, iteration, epoch, two Err with
    # their N and the iteration they were taken at. In a 1280-px window it is one line
    # that fits; narrower, the epoch and the phase go first, the numbers stay.
    from bpviz.engine.experiment import PRESETS

    w = make_window()
    w.resize(1920, 1000)
    w.load_setup(PRESETS["circle"][1])
    wait_snapshot(qtbot, w, lambda s: w._setup == PRESETS["circle"][1])
    w.acts.step_phase.trigger()
    wait_snapshot(qtbot, w, lambda s: s.phase is not None)
    qtbot.waitUntil(lambda: w.status_label.text().startswith("Phase 1/"), timeout=TIMEOUT)
    full = w.status_label.text()
    assert "epoch" in full and w.status_label.toolTip() == full
    for width, kept in ((1280, ("iteration 1", "Err")), (1000, ("iteration 1", "test Err"))):
        w.resize(width, 720)
        qtbot.waitUntil(lambda width=width: w.statusBar().width() <= width, timeout=TIMEOUT)
        text = w.status_label.text()
        fm = w.status_label.fontMetrics()
        assert fm.horizontalAdvance(text) <= w.statusBar().width() - 24, text
        assert all(k in text for k in kept), text
        assert w.status_label.toolTip() == full
    assert "epoch" not in text and not text.startswith("Phase")
