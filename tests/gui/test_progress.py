"""Progress while the training side reads and builds an experiment (issue 16).

The training process reports each stage (reading the file, making the data, building
the network with its first forward pass, handing it over) and then ``None``; the window
shows the stage in its status bar, disables what cannot act on the network meanwhile,
and takes both back when the work is over. Driven by the real process's reports.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from bpviz.engine.experiment import Setup
from bpviz.engine.experiment_io import FORMAT_NAME, FORMAT_VERSION
from bpviz.training_process import Progress, TrainingLoop
from bpviz.views.main_window import MainWindow

SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)
TIMEOUT = 20_000


def write_experiment(path, setup: Setup) -> str:
    doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "setup": setup.to_dict()}
    path.write_text(json.dumps(doc))
    return str(path)


class ProgressSeen(QObject):
    """What the window showed right after each progress report reached it.

    Connected after the window's own slot, in the GUI thread: each report is
    queued to the window first, then here.
    """

    over = Signal()

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.w = window
        self.seen: list[dict] = []
        window.session.worker.progress.connect(self.on_progress)

    @Slot(object)
    def on_progress(self, report: Progress | None) -> None:
        w = self.w
        self.seen.append(
            {
                "report": report,
                "busy": w.is_busy(),
                "bar": w.progress_bar.isVisible(),
                "value": (w.progress_bar.value(), w.progress_bar.maximum()),
                "text": w.progress_label.text(),
                "tip": w.progress_label.toolTip(),
                "status": w.status_label.isVisible(),
                "play": w.acts.play_pause.isEnabled(),
                "step": w.acts.step_phase.isEnabled(),
                "save": w.acts.save_experiment.isEnabled(),
                "controls": w.controls.isEnabled(),
                "focus": w.network_view.hasFocus(),
            }
        )
        if report is None:
            self.over.emit()


@pytest.fixture
def window(qtbot):
    w = MainWindow(SMALL, restore=False)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not w.is_busy(), timeout=TIMEOUT)
    yield w
    w.close()
    assert not w.session.thread.isRunning()


def test_opening_an_experiment_shows_each_stage_then_gives_the_controls_back(
    window, qtbot, tmp_path
):
    w = window
    w.PROGRESS_DELAY_MS = 0  # show at once: every stage is then visible when it arrives
    w.activateWindow()
    qtbot.waitUntil(w.network_view.hasFocus, timeout=TIMEOUT)  # where Space plays/pauses
    path = write_experiment(tmp_path / "big.json", Setup(dataset="xor", n_samples=400, hidden=(5,)))
    seen = ProgressSeen(w)
    with qtbot.waitSignal(seen.over, timeout=TIMEOUT):
        w.open_experiment(path)
    stages = seen.seen[:-1]
    assert [s["report"].step for s in stages] == [1, 2, 3, 4]
    assert all(s["report"].total == 4 for s in stages)
    expected = [
        "reading the file",
        "generating the xor data (400 samples)",
        "building 2-5-1, first forward pass over 400 samples",
        "handing the network and data to the window",
    ]
    for k, (s, text) in enumerate(zip(stages, expected, strict=True), start=1):
        assert s["report"].text == text
        assert s["busy"] and s["bar"] and not s["status"]
        assert s["value"] == (k - 1, 4)
        assert s["text"].startswith(f"Opening big.json, step {k} of 4: {text}…")
        assert s["text"].endswith("Training controls wait until it is ready.")
        # What would act on the network being replaced says it cannot, by being disabled.
        assert not (s["play"] or s["step"] or s["save"] or s["controls"])
    end = seen.seen[-1]
    assert end["report"] is None and not end["busy"] and not end["bar"] and end["status"]
    assert end["play"] and end["step"] and end["save"] and end["controls"]
    # Disabled meanwhile, the network view lost the focus; it has it back.
    assert not stages[0]["focus"] and end["focus"]
    # The new experiment is the one shown, and training works again.
    assert tuple(w._config["sizes"]) == (2, 5, 1)
    w.acts.step_iteration.trigger()
    qtbot.waitUntil(lambda: w._latest.iteration == 1, timeout=TIMEOUT)


def test_a_long_file_name_is_shortened_in_the_middle(window, qtbot, tmp_path):
    w = window
    w.PROGRESS_DELAY_MS = 0
    name = "a lecture experiment with a rather long descriptive name for the spiral.json"
    path = write_experiment(tmp_path / name, Setup(dataset="xor", n_samples=40, hidden=(3,)))
    seen = ProgressSeen(w)
    with qtbot.waitSignal(seen.over, timeout=TIMEOUT):
        w.open_experiment(path)
    text = seen.seen[0]["text"]
    assert text.startswith(
        "Opening a lecture exper… the spiral.json, step 1 of 4: reading the file…"
    )
    assert name in seen.seen[0]["tip"]  # the whole name in the tooltip


def test_a_refused_file_ends_the_progress_too(window, qtbot, tmp_path):
    w = window
    w.PROGRESS_DELAY_MS = 0
    path = tmp_path / "bad.json"
    path.write_text('{"format": "bpviz-experiment", "version": 3, "setup": {"hidden": [0]}}')
    seen = ProgressSeen(w)
    with qtbot.waitSignal(seen.over, timeout=TIMEOUT):
        w.open_experiment(str(path))
    assert [s["report"].step for s in seen.seen[:-1]] == [1]
    assert seen.seen[0]["busy"]
    assert not w.is_busy() and not w.progress_bar.isVisible()
    assert w.acts.play_pause.isEnabled() and w.controls.isEnabled()
    assert "bad.json" in w.banner.text()
    assert tuple(w._config["sizes"]) == (2, 3, 1)  # the session stayed as it was


def test_quick_work_shows_no_progress(window, qtbot):
    """Work that ends before the delay never shows the bar (no flicker on every change)."""
    w = window
    w.PROGRESS_DELAY_MS = 60_000  # longer than the work can take
    seen = ProgressSeen(w)
    with qtbot.waitSignal(seen.over, timeout=TIMEOUT):
        w.session.configure(hidden=(4,))
    assert [s["report"].step for s in seen.seen[:-1]] == [1, 2, 3]
    assert not any(s["busy"] or s["bar"] for s in seen.seen)
    assert w.acts.play_pause.isEnabled() and w.status_label.isVisible()


def test_the_training_loop_reports_stages_then_none():
    sent: list[tuple[str, object]] = []
    loop = TrainingLoop(lambda kind, payload: sent.append((kind, payload)))
    loop.start(SMALL)
    kinds = [k if k != "progress" else ("progress", p and p.step) for k, p in sent]
    assert kinds == [
        ("progress", 1),
        ("progress", 2),
        ("progress", 3),
        "rebuilt",
        "snapshot",
        ("progress", None),
    ]
    sent.clear()
    loop.configure({"dataset": "csv", "csv_path": "/nonexistent/data.csv"})
    kinds = [k if k != "progress" else ("progress", p and p.step) for k, p in sent]
    assert kinds == [("progress", 1), "failed", ("progress", None)]
    assert sent[0][1].text == "reading the data from data.csv"
