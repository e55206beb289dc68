"""Quiz mode in the window: real key presses into the answer field, the named mistake, the score."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from bpviz.engine.experiment import Setup
from bpviz.engine.experiment_io import load_experiment, restore_trainer
from bpviz.views.main_window import MainWindow

# Two hidden layers of 2: the hidden δ of layer 1 can be computed with the transposed θ.
SETUP = Setup(
    dataset="xor4",
    hidden=(2, 2),
    activation="sigmoid",
    batch_size=1,
    lr=0.5,
    test_fraction=0.0,
    seed=4,
)
TIMEOUT = 20_000


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window(SETUP)


def step_to(qtbot, w, kind, layer=None):
    """Step phases until the quiz panel shows the phase ``kind`` (of ``layer``)."""

    def there():
        s = w.quiz_panel.session
        ph = None if s is None or s.worked is None else s.worked.snap.phase
        return ph is not None and ph.kind == kind and (layer is None or ph.layer == layer)

    for _ in range(12):
        if there():
            return w.quiz_panel.session.worked.snap
        before = w._latest
        w.acts.step_phase.trigger()
        qtbot.waitUntil(
            lambda b=before: (
                w._latest is not b
                and w.quiz_panel.session.worked is not None
                and w.quiz_panel.session.worked.snap is w._latest
            ),
            timeout=TIMEOUT,
        )
    raise AssertionError(f"never reached {kind}")


def type_answer(qtbot, field, value):
    field.clear()
    qtbot.keyClicks(field, f"{value:.4g}")
    qtbot.keyClick(field, Qt.Key.Key_Return)


def shown(label) -> str:
    """A rich-text label's text as it reads (tags dropped)."""
    return re.sub(r"<[^>]+>", "", label.text())


def override_accepted(widget, key, text=""):
    event = QKeyEvent(QEvent.Type.ShortcutOverride, key, Qt.KeyboardModifier.NoModifier, text)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_quiz_names_the_transposed_weight_and_the_walk_goes_on(window, qtbot):
    w = window
    panel = w.quiz_panel
    assert [s.toString() for s in w.acts.quiz.shortcuts()] == ["Q"]
    w.acts.quiz.trigger()
    assert w.formula_stack.currentWidget() is panel
    panel.set_kinds(["delta"])
    field = panel.field

    # Output δ: typed right first time.
    snap = step_to(qtbot, w, "output_delta")
    q = panel.session.current
    assert q is not None and q.kind == "delta"
    # the other views do not give the answer away while it is asked
    assert w.network_view._snapshot.delta[3] is None
    type_answer(qtbot, field, q.answer)
    assert panel.session.score.first == 1
    assert "right first time" in panel.feedback.text()
    qtbot.waitUntil(lambda: w.network_view._snapshot.delta[3] is not None, timeout=TIMEOUT)

    # Hidden δ of layer 2: σ′ left out is named; then Esc reveals.
    snap = step_to(qtbot, w, "hidden_delta", 2)
    q = panel.session.current
    sum_only = float(snap.delta[3][0] @ snap.weights[2][:, 0])
    type_answer(qtbot, field, sum_only)
    assert "what you get with σ′ left out" in shown(panel.feedback)
    assert panel.session.current is q  # asked again
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert panel.session.score.revealed == 1
    assert "Revealed" in panel.feedback.text()
    type_answer(qtbot, field, panel.session.current.answer)
    assert panel.session.done

    # Hidden δ of layer 1: the transposed weight θ_ij for θ_ji.
    snap = step_to(qtbot, w, "hidden_delta", 1)
    q = panel.session.current
    o = snap.o[1][0, 0]
    W = snap.weights[1]
    transposed = o * (1 - o) * float(snap.delta[2][0] @ W[0, :2])
    assert not np.isclose(transposed, q.answer, rtol=1e-2)
    type_answer(qtbot, field, transposed)
    assert panel.session.last_check.mistake == ("theta_transposed",)
    assert "θij read instead of θji (the transposed weight)" in shown(panel.feedback)
    assert "= ?" in panel.feedback.text()  # the working, without the result
    assert panel.session.current is q

    # While a question waits the field keeps the cursor keys, not Space or Page Down.
    assert field.answering and not field.isReadOnly()
    assert override_accepted(field, Qt.Key.Key_Right)
    assert override_accepted(field, Qt.Key.Key_5, "5")
    assert not override_accepted(field, Qt.Key.Key_Space, " ")
    assert not override_accepted(field, Qt.Key.Key_PageDown)

    type_answer(qtbot, field, q.answer)
    assert panel.session.score.hint == 1
    type_answer(qtbot, field, panel.session.current.answer)
    assert panel.session.done
    assert (panel.session.score.first, panel.session.score.hint, panel.session.score.revealed) == (
        3,
        1,
        1,
    )
    assert "1 after a hint" in panel.score_label.text()

    # Once checked, the stepping keys belong to the walk again.
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Space):
        assert not override_accepted(field, key)
    before = w._latest
    w.acts.step_phase.trigger()
    qtbot.waitUntil(
        lambda: w._latest is not before and w._latest.phase.kind == "gradients", timeout=TIMEOUT
    )


def test_a_non_number_gets_one_sentence_and_counts_nothing(window, qtbot):
    w = window
    w.acts.quiz.trigger()
    step_to(qtbot, w, "forward", 1)
    field = w.quiz_panel.field
    qtbot.keyClicks(field, "1..2")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert "is not a number" in w.quiz_panel.feedback.text()
    assert w.quiz_panel.session.score.total == 0


def test_forward_u_without_the_bias_is_named_and_u_is_hidden_in_the_graph(window, qtbot):
    w = window
    w.acts.step_iteration.trigger()  # the initial biases are 0; after an update they are not
    qtbot.waitUntil(lambda: w._latest.iteration == 1, timeout=TIMEOUT)
    w.acts.quiz.trigger()
    snap = step_to(qtbot, w, "forward", 1)
    q = w.quiz_panel.session.current
    assert q.kind == "u" and snap.biases[0][0] != 0
    assert w.network_view._snapshot.u[1] is None
    no_bias = float(snap.weights[0][0] @ snap.x[0])
    type_answer(qtbot, w.quiz_panel.field, no_bias)
    assert "the bias term θi0·o0 left out of u" in shown(w.quiz_panel.feedback)


def test_quiz_works_in_presenter_mode_and_q_turns_it_off(window, qtbot):
    w = window
    w.acts.presenter.trigger()
    w.acts.quiz.trigger()
    assert w.inspector_dock.isVisible() and w.quiz_panel.isVisible()
    assert w.quiz_panel.field.font().pointSizeF() > 13
    w.acts.quiz.trigger()
    assert w.formula_stack.currentWidget() is w.inspector
    w.acts.presenter.trigger()


def test_file_export_exercise_sheets_writes_pdf_sheets_keys_and_experiments(
    window, qtbot, tmp_path
):
    w = window
    assert w.acts.export_exercises in w.export_menu.actions()
    w.export_exercises(str(tmp_path), count=2, seed=3)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "key-01.pdf",
        "key-02.pdf",
        "sheet-01.json",
        "sheet-01.pdf",
        "sheet-02.json",
        "sheet-02.pdf",
    ]
    assert not w._banner_row.isVisible()
    # the sheet's experiment opens in the window, on the sheet's θ and sample
    trainer, _ = restore_trainer(load_experiment(tmp_path / "sheet-02.json"))
    w.open_experiment(str(tmp_path / "sheet-02.json"))
    qtbot.waitUntil(lambda: w._setup.dataset == "csv", timeout=TIMEOUT)
    w.acts.step_phase.trigger()
    qtbot.waitUntil(lambda: w._latest.phase is not None, timeout=TIMEOUT)
    np.testing.assert_array_equal(w._latest.weights[1], trainer.net.weights[1])
    data = load_experiment(tmp_path / "sheet-02.json").dataset
    np.testing.assert_array_equal(w._latest.x, data.X_train)


@pytest.mark.skipif(
    (shutil.which("xvfb-run") is None or shutil.which("xdotool") is None)
    and not os.environ.get("CI"),
    reason="needs xvfb-run and xdotool (apt-get install xvfb xauth xdotool)",
)
def test_a_whole_lecture_iteration_in_quiz_mode_from_the_keyboard():
    here = Path(__file__).resolve().parent
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(here.parents[1])}
    proc = subprocess.run(
        [
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1280x720x24",
            sys.executable,
            str(here / "quiz_keyboard_smoke.py"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    assert lines, proc.stderr[-2000:]
    results = json.loads(lines[-1])
    failed = [k for k, ok in results.items() if not ok]
    assert not failed, (results, proc.stderr[-2000:])
    assert proc.returncode == 0, proc.stderr[-2000:]
