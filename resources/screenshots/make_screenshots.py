"""Render the README's screenshots from the real window (offscreen).

    python resources/screenshots/make_screenshots.py      # writes the PNGs next to this file

main-window.png: the circle example after a couple of seconds of training.
lecture-mode.png: the lecture example, stopped on a hidden δ with a neuron selected.
presenter-mode.png: the same in presenter mode (large fonts, side panels hidden) on a
    1280x720 projector, a second screen of the offscreen platform.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

# Two screens: the desk (1600x1000) for the window, a 720p projector for presenter mode.
SCREENS = {
    "screens": [
        {"name": "desk", "x": 0, "y": 0, "width": 1600, "height": 1000},
        {"name": "projector", "x": 1600, "y": 0, "width": 1280, "height": 720},
    ]
}
for screen in SCREENS["screens"]:
    screen.update(logicalDpiX=96, logicalDpiY=96, dpr=1)
_config = Path(tempfile.mkdtemp()) / "screens.json"
_config.write_text(json.dumps(SCREENS))
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={_config}")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)


def until(app: QApplication, pred, timeout: float = 20.0) -> None:
    end = time.perf_counter() + timeout
    while not pred():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not reach the expected state")
        app.processEvents()
        time.sleep(0.005)


def main(out: Path = HERE) -> list[Path]:
    app = QApplication.instance() or QApplication([])
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    from bpviz.engine.experiment import PRESETS
    from bpviz.views.main_window import MainWindow

    written = []
    w = MainWindow(PRESETS["circle"][1], restore=False)
    w.resize(1600, 1000)
    w.show()
    until(app, lambda: w._latest is not None)
    w.session.play()
    until(app, lambda: w._latest.iteration > 3000)
    w.session.pause()
    until(app, lambda: not w.session_playing)
    wait(app, 0.3)
    path = out / "main-window.png"
    w.grab().save(str(path))
    written.append(path)

    w.load_setup(PRESETS["xor4"][1])
    until(app, lambda: w._setup == PRESETS["xor4"][1])
    for _ in range(200):
        w.session.step()
    until(app, lambda: w._latest.iteration >= 200)
    wait(app, 0.5)  # iteration 200 on screen before the walk begins (its θ scale)
    for _ in range(5):  # forward 1, forward 2, Err, output δ, hidden δ of layer 1
        w.session.step_phase()
    until(app, lambda: w._latest.phase is not None and w._latest.phase.kind == "hidden_delta")
    w.select(("neuron", 1, 0))
    wait(app, 0.3)
    path = out / "lecture-mode.png"
    w.grab().save(str(path))
    written.append(path)

    w.setScreen(app.screens()[-1])  # the projector
    w.move(app.screens()[-1].geometry().topLeft())
    w.acts.presenter.trigger()
    until(app, lambda: w.isFullScreen() and w.width() == app.screens()[-1].geometry().width())
    wait(app, 0.8)
    path = out / "presenter-mode.png"
    w.grab().save(str(path))
    written.append(path)
    w.acts.presenter.trigger()
    w.close()
    return written


if __name__ == "__main__":
    for p in main():
        print(p)
