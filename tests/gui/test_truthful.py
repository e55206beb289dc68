"""The window never disagrees with the engine (issue 22): a seeded walk of random changes.

The real window, its controls and its handlers, wired to a :class:`TrainingLoop`
driven in this process (the commands the window sends go straight to it, its
reports straight to the window's slots), so that after every change the test
can compare what each control shows with the trainer itself, and the Err in
the status bar with the engine's Err for the θ shown.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from bpviz.engine.experiment import Setup
from bpviz.training_process import TrainingLoop
from bpviz.views.controls import GIVEN_THETA
from bpviz.views.main_window import MainWindow

START = Setup(dataset="xor", n_samples=40, hidden=(3,), batch_size=8, lr=0.1)
STEPS = 300


class InProcess:
    """Routes the window's commands to a TrainingLoop here, and its reports to the window."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        w = window
        self.slots = {
            "rebuilt": w._on_rebuilt,
            "snapshot": w._on_snapshot,
            "setup_changed": w._on_setup_changed,
            "failed": w._on_failed,
            "diverged": w._on_diverged,
            "playing": w._on_playing_changed,
            "saved": w._on_saved,
            "gradcheck": w._on_gradcheck,
            "progress": w._on_progress,
        }
        self.failures: list[str] = []
        self.loop = TrainingLoop(self._send)
        s = w.session
        loop = self.loop
        s.configure = lambda **changes: loop.configure(changes)
        s.set_weight = lambda k, i, src, v: loop.set_weight(k, i, src, float(v))
        for name in ("step", "step_phase", "step_back", "reset", "pause", "set_start"):
            setattr(s, name, getattr(loop, name))
        w.network_view.weight_edited.disconnect()  # was: the (now stopped) process
        w.network_view.weight_edited.connect(s.set_weight)
        loop.start(w._setup)

    def _send(self, kind: str, payload) -> None:
        if kind == "failed":
            self.failures.append(payload)
        self.slots[kind](payload)


@pytest.fixture
def harness(qtbot):
    w = MainWindow(START, restore=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=20_000)
    assert w.session.shutdown()  # from here on the loop in this process answers
    h = InProcess(w)
    yield h
    w.close()


def check(h: InProcess) -> None:
    w, loop = h.w, h.loop
    tr, setup, data = loop._trainer, loop._setup, loop._dataset
    c = w.controls
    shown = c.shown_setup()
    # Data settings these data do not use (4 fixed points, a CSV file's rows) show the data.
    unused = {n for n in ("noise", "test_fraction", "n_samples", "data_seed") if not
              getattr(c, n).isEnabled()}  # fmt: skip
    given = setup.params is not None  # θ typed or made the start: drawn by no initialiser
    for name, value in shown.items():
        if name not in unused:
            want = GIVEN_THETA if name == "init" and given else getattr(setup, name)
            assert value == want, (name, value, want)
    n_all = len(data.X_train) + len(data.X_test)
    assert "n_samples" not in unused or shown["n_samples"] == n_all
    assert "test_fraction" not in unused or shown["test_fraction"] == 0 == len(data.X_test)
    assert "noise" not in unused or shown["noise"] == 0
    rule = tr.rule
    for name in ("lr", "momentum", "l1", "l2", "clip_value", "clip_norm"):
        assert shown[name] == getattr(rule, name), name
    assert tr.batch_size == min(shown["batch_size"], tr.n_train)  # larger = full batch ...
    if shown["batch_size"] > tr.n_train:  # ... and the panel says so
        assert not c.batch_note.isHidden() and f"all {tr.n_train:,}" in c.batch_note.text()
    else:
        assert c.batch_note.isHidden()
    cfg = tr.net.config()
    for name in ("activation", "output_activation", "loss", "bias", "seed"):
        assert shown[name] == cfg[name], name
    if given:
        np.testing.assert_array_equal(tr.start_params, setup.params)
    else:
        assert shown["init"] == cfg["init"]
    assert list(shown["hidden"]) == list(cfg["sizes"][1:-1])
    # The θ shown are the engine's, and so is the Err shown for them.
    snap = w._latest
    for a, b in zip(snap.weights, tr.net.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    w._update_status()
    text = w.status_label.text()
    if "both at iteration" not in text:  # else it names the (earlier) θ it was evaluated for
        err = tr.evaluate()[0]
        want = "–" if not math.isfinite(err) else f"{err:.4g}"
        shown = f"training Err = {want} (N = 1)" if tr.n_train == 1 else f"training Err/N = {want}/"
        assert shown in text, (text, err)


def _random_change(rng: random.Random, h: InProcess) -> None:
    w = h.w
    c = w.controls
    kind = rng.choice(
        [
            "lr",
            "lr",
            "number",
            "batch",
            "combo",
            "combo",
            "dataset",
            "hidden",
            "data",
            "bias_seed",
            "weight",
            "weight",
            "step",
            "step",
            "phase",
            "reset",
            "start",
        ]
    )
    if kind == "lr":
        c.lr.setValue(float(f"{10 ** rng.uniform(-9, 2):.3g}"))
    elif kind == "number":
        name = rng.choice(["momentum", "l1", "l2", "clip_value", "clip_norm"])
        values = {
            "momentum": [0, 0.5, 0.9],
            "l1": [0, 1e-4, 0.01],
            "l2": [0, 1e-3, 0.1],
            "clip_value": [0, 0.5, 5],
            "clip_norm": [0, 1, 10],
        }[name]
        getattr(c, name).setValue(rng.choice(values))
    elif kind == "batch":
        c.batch_size.setValue(rng.randint(1, 64))
    elif kind == "combo":
        combo = getattr(c, rng.choice(["activation", "output_activation", "loss", "init"]))
        combo.setCurrentIndex(rng.randrange(combo.count()))  # disabled items too
    elif kind == "dataset":
        names = ["xor", "circle", "gauss", "plane", "sine", "xor4", "lecture"]
        c.dataset.setCurrentIndex(c.dataset.findData(rng.choice(names)))
    elif kind == "hidden":
        ed = c.architecture
        op = rng.choice(["size", "size", "add", "remove"])
        if op == "add" and len(ed.hidden()) < 3:
            ed.add_layer.click()
        elif op == "remove" and len(ed.hidden()) > 0:
            ed.remove_layer.click()
        elif ed.hidden():
            ed._spins[rng.randrange(len(ed.hidden()))].setValue(rng.randint(1, 5))
    elif kind == "data":
        name = rng.choice(["noise", "test_fraction", "n_samples"])
        if name == "n_samples":
            c.n_samples.setValue(rng.randint(10, 80))
        else:
            getattr(c, name).setValue(rng.choice([0.0, 0.2, 0.5]))
    elif kind == "bias_seed":
        if rng.random() < 0.5:
            c.bias.toggle()
        else:
            c.seed.setValue(rng.randint(0, 5))
    elif kind == "weight":
        snap = w._latest
        k = rng.randrange(len(snap.weights))
        n_out, n_in = snap.weights[k].shape
        src = rng.randrange(-1 if w._config["bias"] else 0, n_in)
        w.network_view.weight_edited.emit(k, rng.randrange(n_out), src, rng.uniform(-2, 2))
    elif kind == "step":
        w.session.step()
    elif kind == "phase":
        w.session.step_phase()
    elif kind == "reset":
        w.acts.reset.trigger()
    else:
        w.acts.set_start.trigger()


@pytest.mark.parametrize("seed", [1, 2])
def test_every_control_and_the_err_shown_agree_with_the_engine_after_each_change(harness, seed):
    rng = random.Random(seed)
    check(harness)
    for _ in range(STEPS // 2):
        _random_change(rng, harness)
        check(harness)
    # Refused changes happened (softmax on one output, at least) and were undone whole.
    assert any("softmax needs at least 2 outputs" in f for f in harness.failures)
