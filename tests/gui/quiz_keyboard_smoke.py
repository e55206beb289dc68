"""A whole iteration of the lecture example in quiz mode, from the keyboard only (xdotool).

Run by tests/gui/test_quiz_panel.py under ``xvfb-run`` with QT_QPA_PLATFORM=xcb. Prints
one JSON line with what each key did; Ctrl+Q must quit with 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from bpviz.engine.experiment import PRESETS
from bpviz.views.main_window import MainWindow

results: dict[str, object] = {}


def key(*names: str) -> None:
    subprocess.run(["xdotool", "key", "--clearmodifiers", *names], check=True)


def type_text(text: str) -> None:
    if text.startswith("-"):  # xdotool would read "-0.5" as an option
        key("minus")
        text = text[1:]
    subprocess.run(["xdotool", "type", "--delay", "20", text], check=True)


def settle(seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def wait_until(pred, seconds: float = 60.0) -> bool:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        if pred():
            return True
        time.sleep(0.005)
    return False


def barrier() -> None:
    """Until a snapshot sent after every command so far has reached the window."""
    before = window._latest
    window.session.request_snapshot()
    wait_until(lambda: window._latest is not before)


def run() -> None:
    results["window_ready"] = wait_until(
        lambda: window._latest is not None and bool(window._config)
    )
    settle(0.5)
    panel = window.quiz_panel
    key("q")
    settle()
    results["q_turns_the_quiz_on"] = window.acts.quiz.isChecked()
    phases = []
    wrong_named = left_kept = esc_revealed = False
    for _ in range(7):
        key("Right")
        settle(0.5)
        s = panel.session
        phases.append(s.worked.snap.phase.kind)
        for _attempt in range(30):  # bounded: a key that goes astray must not hang the test
            q = s.current
            if q is None:
                break
            if q.kind == "o" and not wrong_named:
                # σ forgotten: o = u; the message names it, the question stays
                u = s.worked.snap.u[q.equation.layer][0, q.equation.index]
                type_text(f"{u:.4g}")
                key("Return")
                settle()
                wrong_named = s.last_check.mistake == ("no_sigma",) and s.current is q
                # the cursor keys stay in the field while the question waits
                index = window._latest.phase.index
                key("End", "Left")
                settle()
                barrier()  # a step back the keys caused would have arrived by now
                left_kept = window._latest.phase.index == index and panel.field.cursorPosition() > 0
                key("ctrl+a", "BackSpace")
            if q.kind == "grad" and not esc_revealed:
                key("Escape")
                settle()
                esc_revealed = s.score.revealed == 1
                continue
            type_text(f"{q.answer:.4g}")
            key("Return")
            settle(0.15)
        settle(0.2)
    results["walked_every_phase"] = phases == [
        "forward",
        "forward",
        "error",
        "output_delta",
        "hidden_delta",
        "gradients",
        "update",
    ]
    results["wrong_o_named"] = wrong_named
    results["left_kept_by_the_field"] = left_kept
    results["esc_reveals"] = esc_revealed
    score = panel.session.score
    results["score"] = (score.first, score.hint, score.revealed) == (20, 1, 1)
    key("Right")
    settle(0.5)
    results["right_steps_on_after_the_last_answer"] = window._latest.iteration == 1
    key("ctrl+q")


def guarded() -> None:
    try:
        run()
    except Exception as exc:  # report, and never leave the window open
        results["error"] = False
        print(f"smoke failed: {exc!r}", file=sys.stderr)
        window.close()
        app.exit(1)


if __name__ == "__main__":  # the training process's fork server imports this file too
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv)
    window = MainWindow(PRESETS["lecture"][1], restore=False)
    window.resize(1280, 720)
    window.show()
    window.activateWindow()
    QTimer.singleShot(0, guarded)
    code = app.exec()
    print(json.dumps(results))
    sys.exit(code)
