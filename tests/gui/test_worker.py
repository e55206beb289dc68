"""The training worker on its QThread, driven through TrainingSession.

Each test talks to a real worker thread. A twin :class:`~bpviz.engine.Trainer`
built from the same :class:`Setup` runs in the test's thread and gets the same
commands, so what the worker reports is compared with the engine bit for bit.
``settle`` is the barrier: it returns once every command sent so far has been
handled and every signal it caused has arrived (see ``conftest.py``).
"""

from __future__ import annotations

import gc
import math
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject

from bpviz.engine import GradCheck, Snapshot, Trainer, phase_plan
from bpviz.engine.experiment import PRESETS, Setup, build
from bpviz.training_process import TrainingLoop
from bpviz.worker import MAX_RESTARTS

TIMEOUT_MS = 20_000
ROOT = Path(__file__).resolve().parents[2]

#: Regression with a linear output, huge initial θ and a huge η: diverges in ~30 iterations.
DIVERGING = Setup(dataset="plane", output_activation="linear", init="large", lr=1e3)


# -- helpers ------------------------------------------------------------------------


def twin(setup: Setup) -> Trainer:
    """An engine trainer built exactly as the worker builds its own."""
    return build(setup)[0]


def _same_array(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _same_arrays(a: tuple | None, b: tuple | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and all(_same_array(x, y) for x, y in zip(a, b, strict=True))


def assert_same_weights(snap: Snapshot, trainer: Trainer) -> None:
    """θ (weights and biases) in the snapshot equal the trainer's, bit for bit."""
    assert _same_arrays(snap.weights, tuple(trainer.net.weights))
    assert _same_arrays(snap.biases, tuple(trainer.net.biases))


def assert_same_state(got: Snapshot, want: Snapshot) -> None:
    """Everything two snapshots show, bit for bit, except the loss cursor."""
    assert (got.iteration, got.epoch, got.phase) == (want.iteration, want.epoch, want.phase)
    assert got.lr == want.lr
    assert (got.err is None) == (want.err is None)
    if got.err is not None:
        assert got.err == want.err or (math.isnan(got.err) and math.isnan(want.err))
    assert _same_array(got.x, want.x)
    assert _same_array(got.y, want.y)
    for name in (
        "weights",
        "biases",
        "old_weights",
        "old_biases",
        "u",
        "o",
        "delta",
        "dsigma",
        "grad_weights",
        "grad_biases",
    ):
        assert _same_arrays(getattr(got, name), getattr(want, name)), name


def apply(session, trainer: Trainer, command: str) -> None:
    """Send one command to the worker and apply it to the twin."""
    getattr(session, command)()
    getattr(trainer, command)()


def all_finite(snap: Snapshot) -> bool:
    return all(np.isfinite(a).all() for a in (*snap.weights, *snap.biases))


# -- start, play, pause ---------------------------------------------------------------


def test_start_reports_the_setup_and_the_initial_state(session, rec, settle, small_setup):
    snap = settle(session, rec)
    assert len(rec.rebuilds) == 1
    info = rec.rebuilds[0]
    assert info.setup == small_setup
    assert info.config["sizes"] == [2, 3, 1]
    assert snap.iteration == 0
    assert snap.losses_from == 0
    assert len(snap.new_losses) == 0
    assert_same_weights(snap, twin(small_setup))
    assert rec.playing == []
    assert snap.weights[0].flags.writeable is False


def test_play_delivers_snapshots_and_pause_stops_them(session, rec, settle, qtbot):
    start = settle(session, rec).iteration
    n = len(rec.snapshots)
    session.play()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= n + 5, timeout=TIMEOUT_MS)
    assert rec.playing == [True]
    received = [s.iteration for s in rec.snapshots[n:]]
    assert received == sorted(received)
    assert received[-1] > start

    with qtbot.waitSignal(rec.playing_changed, timeout=TIMEOUT_MS) as blocker:
        session.pause()
    assert blocker.args == [False]
    # Nothing more comes while paused: two barriers in a row show the same iteration
    # (that a paused loop trains nothing however long it waits is checked on a fake
    # clock in tests/test_training_process.py) …
    stopped = settle(session, rec)
    again = settle(session, rec)
    assert again.iteration == stopped.iteration
    assert len(again.new_losses) == 0
    assert rec.playing == [True, False]
    # … and the losses received so far are the whole history.
    assert len(rec.losses) == stopped.iteration
    assert rec.gaps == rec.length_errors == rec.err_errors == 0


def test_toggle_plays_and_pauses(session, rec, settle, qtbot):
    with qtbot.waitSignal(rec.playing_changed, timeout=TIMEOUT_MS) as on:
        session.toggle()
    assert on.args == [True]
    with qtbot.waitSignal(rec.playing_changed, timeout=TIMEOUT_MS) as off:
        session.toggle()
    assert off.args == [False]
    settle(session, rec)
    assert rec.playing == [True, False]


# -- stepping ---------------------------------------------------------------------------


def test_step_runs_exactly_one_iteration(session, rec, settle, small_setup):
    trainer = twin(small_setup)
    for expected in range(1, 6):
        n = len(rec.snapshots)
        session.step()
        err = trainer.step()
        snap = settle(session, rec)
        step_snap = rec.snapshots[n]  # the snapshot the step itself sent
        assert step_snap.iteration == expected
        assert step_snap.phase is None
        assert step_snap.losses_from == expected - 1
        assert step_snap.new_losses.tolist() == [err]
        assert_same_state(snap, trainer.snapshot())
    assert rec.losses == trainer.history.batch_err.tolist()


def test_step_while_playing_pauses_first(session, rec, settle, qtbot):
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration > 0, timeout=TIMEOUT_MS)
    session.step()
    snap = settle(session, rec)
    assert rec.playing == [True, False]
    assert len(rec.losses) == snap.iteration
    session.step()
    assert settle(session, rec).iteration == snap.iteration + 1


def test_step_phase_advances_exactly_one_phase_in_lecture_order(make_session, settle):
    setup = Setup(dataset="xor4", hidden=(3, 2), batch_size=4, lr=0.5, test_fraction=0.0)
    session, rec = make_session(setup)
    trainer = twin(setup)
    expected = [
        ("forward", 1),
        ("forward", 2),
        ("forward", 3),
        ("error", None),
        ("output_delta", 3),
        ("hidden_delta", 2),  # hidden δ from right to left
        ("hidden_delta", 1),
        ("gradients", None),
        ("update", None),
    ]
    initial = settle(session, rec)
    for iteration in range(2):
        for index, (kind, layer) in enumerate(expected):
            session.step_phase()
            phase = trainer.step_phase()
            snap = settle(session, rec)
            assert snap.phase == phase
            assert (snap.phase.index, snap.phase.kind, snap.phase.layer) == (index, kind, layer)
            assert snap.phase.count == len(expected)
            last = kind == "update"
            assert snap.iteration == iteration + (1 if last else 0)
            if iteration == 0 and not last:
                assert _same_arrays(snap.weights, initial.weights)  # θ change only at the update
            if kind == "forward":  # layers beyond the one just computed are not there yet
                assert all(u is None for u in snap.u[layer + 1 :])
                assert snap.u[layer] is not None
            assert_same_state(snap, trainer.snapshot())
    assert rec.losses == trainer.history.batch_err.tolist()


def test_step_finishes_a_half_walked_iteration(session, rec, settle, small_setup):
    trainer = twin(small_setup)
    for command in ("step_phase", "step_phase", "step", "step"):
        apply(session, trainer, command)
        assert_same_state(settle(session, rec), trainer.snapshot())
    assert rec.last.iteration == 2
    assert rec.losses == trainer.history.batch_err.tolist()


def test_step_back_matches_the_engine_through_phases_and_iterations(
    session, rec, settle, small_setup
):
    trainer = twin(small_setup)
    count = len(phase_plan(3))
    commands = (
        ["step"] * 2
        + ["step_phase"] * (count + 3)  # one whole walked iteration, then three phases
        + ["step_back"] * 2
        + ["step_phase"]
        + ["step"]  # finishes the walk
        + ["step_back"] * (count + 4)  # through the walked iterations, into the fast ones
        + ["step"] * 3
        + ["step_back"]
    )
    for command in commands:
        apply(session, trainer, command)
        assert_same_state(settle(session, rec), trainer.snapshot())
    assert rec.losses == trainer.history.batch_err.tolist()
    assert rec.truncations > 0
    assert rec.gaps == rec.length_errors == rec.err_errors == 0


def test_step_back_restores_each_of_the_last_100_iterations_bit_for_bit(
    session, rec, settle, small_setup
):
    trainer = twin(small_setup)
    states = [(trainer.net.params.copy(), trainer.history.batch_err.copy())]
    for _ in range(150):
        trainer.step()
        states.append((trainer.net.params.copy(), trainer.history.batch_err.copy()))
    for _ in range(150):
        session.step()
    assert_same_weights(settle(session, rec), trainer)

    for back in range(1, 101):
        session.step_back()
        snap = settle(session, rec)
        assert snap.iteration == 150 - back
        params, losses = states[150 - back]
        trainer.net.params[...] = params  # the twin shows what the worker must show
        assert_same_weights(snap, trainer)
        assert np.array_equal(np.asarray(rec.losses), losses)
    # Going forward again retraces the same path.
    session.step()
    snap = settle(session, rec)
    assert snap.iteration == 51
    assert np.array_equal(np.asarray(rec.losses), states[51][1])
    trainer.net.params[...] = states[51][0]
    assert_same_weights(snap, trainer)


def test_step_back_at_the_start_does_nothing(session, rec, settle, small_setup):
    session.step_back()
    snap = settle(session, rec)
    assert snap.iteration == 0
    assert_same_weights(snap, twin(small_setup))
    assert rec.failures == []


# -- reset --------------------------------------------------------------------------------


def test_reset_reproduces_the_initial_weights(session, rec, settle, qtbot, small_setup):
    initial = rec.snapshots[0]
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration >= 50, timeout=TIMEOUT_MS)
    session.reset()  # while playing: pauses first
    snap = settle(session, rec)
    assert rec.playing == [True, False]
    assert snap.iteration == 0
    assert snap.epoch == 0
    assert _same_arrays(snap.weights, initial.weights)
    assert _same_arrays(snap.biases, initial.biases)
    assert rec.losses == []
    # Training again from there retraces the first run.
    trainer = twin(small_setup)
    for _ in range(5):
        apply(session, trainer, "step")
    assert_same_state(settle(session, rec), trainer.snapshot())


def test_reset_restores_hand_set_initial_weights(make_session, settle):
    """The lecture preset starts from round numbers; reset must bring them back."""
    setup = PRESETS["lecture"][1]
    session, rec = make_session(setup)
    initial = settle(session, rec)
    session.step()
    session.step()
    session.reset()
    snap = settle(session, rec)
    assert snap.iteration == 0
    assert _same_arrays(snap.weights, initial.weights)
    assert snap.weights[0].ravel().tolist() == [0.5, -0.5, 0.25, 0.75]


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"lr": 0.1},
        {"batch_size": 2},
        {"momentum": 0.9},
        {"l2": 1e-3},
        {"l1": 1e-3},
        {"clip_value": 0.05},
        {"clip_norm": 0.1},
        {"lr": 2.0, "batch_size": 1, "momentum": 0.5},
    ],
)
def test_hyperparameters_apply_live_from_the_next_iteration(
    session, rec, settle, small_setup, changes
):
    trainer = twin(small_setup)
    for _ in range(3):
        apply(session, trainer, "step")
    session.configure(**changes)
    new = small_setup.with_(**changes)
    trainer.set_batch_size(new.batch_size)
    trainer.set_rule(new.rule())
    snap = settle(session, rec)
    assert snap.iteration == 3  # no rebuild
    assert len(rec.rebuilds) == 1
    assert snap.lr == new.lr
    for _ in range(5):
        apply(session, trainer, "step")
    assert_same_state(settle(session, rec), trainer.snapshot())
    assert rec.losses == trainer.history.batch_err.tolist()
    assert rec.failures == []


def test_live_settings_keep_playing(session, rec, settle, qtbot):
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration > 0, timeout=TIMEOUT_MS)
    session.configure(lr=0.2, batch_size=2)
    mark = settle(session, rec).iteration
    qtbot.waitUntil(lambda: rec.last.iteration > mark, timeout=TIMEOUT_MS)
    assert rec.playing == [True]
    assert rec.last.lr == 0.2
    assert len(rec.rebuilds) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"hidden": (5, 2)},
        {"activation": "relu"},
        {"output_activation": "linear", "loss": "mse"},
        {"init": "he", "seed": 7},
        {"dataset": "circle", "n_samples": 40, "test_fraction": 0.25, "batch_size": 8},
    ],
)
def test_architecture_or_data_change_pauses_rebuilds_and_reports(
    session, rec, settle, qtbot, small_setup, changes
):
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration > 0, timeout=TIMEOUT_MS)
    n = len(rec.snapshots)
    with qtbot.waitSignal(rec.rebuilt, timeout=TIMEOUT_MS):
        session.configure(**changes)
    snap = settle(session, rec)
    new = small_setup.with_(**changes)
    info = rec.rebuilds[-1]
    assert info.setup == new
    trainer, dataset = build(new)
    assert info.config == trainer.net.config()
    assert info.dataset == dataset
    # The worker paused for the rebuild, then reported the new network from iteration 0.
    events = [e for e in rec.events if e[0] in ("playing", "rebuilt")]
    events = events[events.index(("playing", True)) :]
    assert events[:3] == [("playing", True), ("playing", False), ("rebuilt", info)]
    first_new = next(s for s in rec.snapshots[n:] if s.iteration == 0)
    assert_same_weights(first_new, trainer)
    assert snap.losses_from + len(snap.new_losses) == snap.iteration == len(rec.losses)
    session.pause()
    settle(session, rec)
    assert rec.failures == []


def test_load_setup_replaces_the_experiment(session, rec, settle, qtbot):
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration > 0, timeout=TIMEOUT_MS)
    setup = PRESETS["circle"][1]
    session.load_setup(setup)
    snap = settle(session, rec)
    assert rec.playing == [True, False]
    assert rec.rebuilds[-1].setup == setup
    assert snap.iteration == 0
    assert rec.losses == []
    assert_same_weights(snap, twin(setup))


# -- pace and snapshot rate --------------------------------------------------------------
# How many iterations a second a pace gives, and how many snapshots a second full speed
# sends, are checked exactly on a fake clock (tests/test_training_process.py) and measured
# for real in benchmarks/pace.py. Here: the real process gets the pace and keeps to it.


def test_a_set_pace_trains_one_iteration_at_a_time(session, rec, settle, qtbot):
    session.set_pace(20)
    start = settle(session, rec).iteration
    n = len(rec.snapshots)
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration >= start + 20, timeout=TIMEOUT_MS)
    jumps = np.diff([start] + [s.iteration for s in rec.snapshots[n:]])
    # One iteration at a time, not in bursts (two when a snapshot was held back by the
    # 60 / s limit after a late tick); full speed would send hundreds per snapshot.
    assert jumps.max() <= 2
    session.pause()
    settle(session, rec)


def test_slow_pace_for_a_lecture(session, rec, settle, qtbot):
    session.set_pace(4)
    start = settle(session, rec).iteration
    n = len(rec.snapshots)
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration >= start + 2, timeout=TIMEOUT_MS)
    # Each iteration arrives on its own snapshot.
    assert [s.iteration for s in rec.snapshots[n:]][:2] == [start + 1, start + 2]
    session.set_pace(0)  # back to full speed while playing
    qtbot.waitUntil(lambda: rec.last.iteration >= start + 200, timeout=TIMEOUT_MS)
    session.pause()
    settle(session, rec)


def test_full_speed_sends_many_iterations_per_snapshot(session, rec, settle, qtbot):
    settle(session, rec)
    n = len(rec.snapshots)
    session.play()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= n + 41, timeout=TIMEOUT_MS)
    iterations = rec.snapshots[n + 40].iteration - rec.snapshots[n + 1].iteration
    assert iterations > 5 * 39  # many iterations per snapshot: snapshots do not pace training
    session.pause()
    settle(session, rec)


# -- the loss history ----------------------------------------------------------------------


def test_every_loss_reaches_the_gui_exactly_once_after_10000_iterations(
    session, rec, settle, qtbot, small_setup
):
    session.play()
    qtbot.waitUntil(lambda: rec.last.iteration >= 10_000, timeout=60_000)
    session.pause()
    snap = settle(session, rec)
    n = snap.iteration
    assert n >= 10_000
    trainer = twin(small_setup)
    trainer.run(n)
    assert len(rec.losses) == n
    assert np.array_equal(np.asarray(rec.losses), trainer.history.batch_err)
    assert rec.gaps == rec.truncations == rec.length_errors == rec.err_errors == 0
    assert sum(len(s.new_losses) for s in rec.snapshots) == n  # none repeated
    assert_same_weights(snap, trainer)


# -- divergence and errors -------------------------------------------------------------------


def test_divergence_pauses_with_a_message_and_keeps_the_last_finite_state(
    make_session, settle, qtbot
):
    session, rec = make_session(DIVERGING)
    with qtbot.waitSignal(rec.diverged, timeout=TIMEOUT_MS) as blocker:
        session.play()
    message = blocker.args[0]
    assert "η" in message and "diverged" in message
    snap = settle(session, rec)
    assert rec.playing == [True, False]
    assert rec.failures == []
    assert rec.divergences == [message]
    assert all_finite(snap)
    assert np.isfinite(rec.losses).all()
    assert len(rec.losses) == snap.iteration
    # The engine twin diverges at the same iteration and keeps the same θ.
    trainer = twin(DIVERGING)
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ArithmeticError):
        trainer.run(10_000)
    assert snap.iteration == trainer.iteration
    assert_same_weights(snap, trainer)
    assert rec.losses == trainer.history.batch_err.tolist()
    # Stepping on reports it again and still keeps the finite state.
    with qtbot.waitSignal(rec.diverged, timeout=TIMEOUT_MS):
        session.step()
    again = settle(session, rec)
    assert again.iteration == snap.iteration
    assert all_finite(again)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"hidden": (0,)}, "Could not build"),
        ({"lr": -1}, "Invalid setting"),
        ({"batch_size": 0}, "Invalid setting"),
        ({"lr": 0.1, "batch_size": 0}, "Invalid setting"),
        ({"no_such_setting": 1}, "Invalid setting"),
        ({"lr": "fast"}, "Invalid setting"),
        ({"hidden": 5}, "Invalid setting"),
        ({"activation": "nope"}, "Could not build"),
        ({"dataset": "csv", "csv_path": "/nonexistent/bpviz-data.csv"}, "Could not load the data"),
    ],
)
def test_invalid_settings_fail_and_keep_the_old_trainer(
    session, rec, settle, qtbot, small_setup, changes, words
):
    trainer = twin(small_setup)
    apply(session, trainer, "step")
    with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS) as blocker:
        session.configure(**changes)
    assert words in blocker.args[0]
    snap = settle(session, rec)
    assert snap.lr == small_setup.lr
    for _ in range(3):
        apply(session, trainer, "step")
    assert_same_state(settle(session, rec), trainer.snapshot())
    assert len(rec.rebuilds) == 1
    assert rec.failures == [blocker.args[0]]


def test_an_error_inside_a_tick_is_reported_and_training_survives(monkeypatch, small_setup):
    """The training process's loop, driven directly: an error pauses and is reported."""
    sent: list[tuple[str, object]] = []
    loop = TrainingLoop(lambda kind, payload: sent.append((kind, payload)))
    loop.start(small_setup)

    def broken_step() -> float:
        raise RuntimeError("boom")

    trainer = loop._trainer
    monkeypatch.setattr(trainer, "step", broken_step)
    monkeypatch.setattr(trainer, "run", lambda n: broken_step())
    loop.play()
    assert loop.wait_time() == 0.0
    loop.tick()
    failures = [payload for kind, payload in sent if kind == "failed"]
    assert len(failures) == 1 and "boom" in failures[0]
    assert [payload for kind, payload in sent if kind == "playing"] == [True, False]
    assert not loop.playing and loop.wait_time() is None
    # Commands that fail report it too, and the loop goes on.
    loop.step()
    assert sum(kind == "failed" for kind, _ in sent) == 2
    monkeypatch.undo()
    before = trainer.iteration
    loop.step()
    assert trainer.iteration == before + 1
    assert sent[-1][0] == "snapshot" and sent[-1][1].iteration == before + 1


def test_a_failing_command_leaves_the_training_process_running(
    session, rec, settle, qtbot, tmp_path
):
    settle(session, rec)
    pid = session.worker.pid
    with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS) as blocker:
        session.save_experiment(str(tmp_path))  # a folder: cannot be written as a file
    assert str(tmp_path) in blocker.args[0]
    session.step()
    snap = settle(session, rec)
    assert snap.iteration == 1
    assert session.worker.pid == pid  # the same process, still serving


def test_a_killed_training_process_is_reported_and_started_again(
    session, rec, settle, qtbot, small_setup
):
    settle(session, rec)
    session.step()
    settle(session, rec)
    pid = session.worker.pid
    assert pid is not None and pid != os.getpid()
    with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS) as blocker:
        os.kill(pid, signal.SIGKILL)
    assert "killed by signal 9" in blocker.args[0] and "started again" in blocker.args[0]
    qtbot.waitUntil(lambda: len(rec.rebuilds) == 2, timeout=TIMEOUT_MS)
    assert rec.rebuilds[-1].setup == small_setup
    assert session.worker.restarts == 1
    assert session.worker.pid not in (None, pid)
    session.step()
    assert settle(session, rec).iteration == 1  # the new process trains from the start


def test_a_training_process_that_keeps_dying_is_not_restarted_for_ever(session, rec, settle, qtbot):
    settle(session, rec)
    for n in range(1, MAX_RESTARTS + 2):
        pid = session.worker.pid
        assert pid is not None
        with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS):
            os.kill(pid, signal.SIGKILL)
        if n <= MAX_RESTARTS:
            qtbot.waitUntil(lambda n=n: len(rec.rebuilds) == n + 1, timeout=TIMEOUT_MS)
    assert "was not started again" in rec.failures[-1]
    assert session.worker.pid is None and session.worker.restarts == MAX_RESTARTS
    session.step()  # commands now go nowhere, quietly; the window keeps running


def test_snapshots_that_came_through_the_pipe_are_read_only(session, rec, settle):
    session.step_phase()
    snap = settle(session, rec)
    arrays = [
        a for a in (*snap.weights, *snap.biases, *snap.u, *snap.o, snap.x, snap.y) if a is not None
    ]
    assert arrays
    for a in arrays:
        assert not a.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            a[...] = 0


def test_set_weight_by_hand(session, rec, settle, qtbot, small_setup):
    trainer = twin(small_setup)
    session.set_weight(0, 1, 0, 0.25)
    session.set_weight(1, 0, -1, -0.5)  # the bias θ_i0
    trainer.net.weights[0][1, 0] = 0.25
    trainer.net.biases[1][0] = -0.5
    snap = settle(session, rec)
    assert snap.weights[0][1, 0] == 0.25
    assert_same_weights(snap, trainer)
    for args in ((5, 0, 0, 1.0), (0, 9, 0, 1.0), (0, 0, 0, math.nan), (0, 0, 0, math.inf)):
        with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS):
            session.set_weight(*args)
    assert_same_weights(settle(session, rec), trainer)
    for _ in range(3):
        apply(session, trainer, "step")
    assert_same_state(settle(session, rec), trainer.snapshot())


def test_set_start_makes_typed_weights_what_reset_returns_to(session, rec, settle, tmp_path):
    from bpviz.engine.experiment_io import load_experiment, restore_trainer

    for _ in range(3):
        session.step()
    session.set_weight(0, 1, 0, 0.25)
    typed = settle(session, rec)
    session.set_start()
    start = settle(session, rec)
    assert start.iteration == 0
    for a, b in zip(typed.weights, start.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    for _ in range(2):
        session.step()
    path = tmp_path / "start.json"
    session.save_experiment(str(path))
    session.reset()
    back = settle(session, rec)
    assert back.iteration == 0
    for a, b in zip(typed.weights, back.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # A saved experiment keeps the start θ: reset after opening it returns there too.
    trainer, _ = restore_trainer(load_experiment(path))
    assert trainer.iteration == 2
    trainer.reset()
    np.testing.assert_array_equal(trainer.net.weights[0], typed.weights[0])


def test_a_hand_edit_sends_the_err_of_the_new_weights(session, rec, settle):
    session.step()
    before = settle(session, rec)
    n = len(rec.snapshots)
    session.set_weight(0, 0, 0, 3.0)
    after = settle(session, rec)
    assert after.err is None and after.u[1] is None  # the old iteration's values are gone
    assert after.iteration == before.iteration
    new = [s for s in rec.snapshots[n:] if len(s.new_train_err)]
    assert len(new) == 1 and new[0].new_eval_iterations[-1] == before.iteration


def test_gradient_check_reports_agreement(session, rec, qtbot):
    with qtbot.waitSignal(rec.gradcheck_ready, timeout=TIMEOUT_MS) as blocker:
        session.run_gradient_check()
    result = blocker.args[0]
    assert isinstance(result, GradCheck)
    assert result.worst < 1e-5


# -- shutdown ---------------------------------------------------------------------------------


def test_shutdown_while_playing_stops_the_thread_and_the_process(make_session, qtbot):
    # How long it takes: benchmarks/pace.py (a tick lasts at most ~10 ms, so the stop
    # command is taken at once: tests/test_training_process.py).
    session, rec = make_session(PRESETS["spiral"][1])
    session.play()
    qtbot.waitUntil(lambda: len(rec.snapshots) >= 5 and rec.last.iteration > 0, timeout=TIMEOUT_MS)
    assert session.worker.pid is not None
    assert session.shutdown()
    assert session.thread.isFinished()
    assert session.worker.pid is None  # the training process was joined, not left running
    assert not session.running
    assert session.shutdown()  # twice is harmless


CLOSE_WHILE_PLAYING = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtWidgets import QApplication
    from bpviz.engine.experiment import PRESETS
    from bpviz.worker import TrainingSession

    class Counter(QObject):
        iteration = 0
        @Slot(object)
        def on_snapshot(self, snap):
            self.iteration = snap.iteration
            if snap.iteration > 0:  # really playing: quit now, in mid-training
                QApplication.quit()

    # No "if __name__ == '__main__'" guard on purpose: the training process must not
    # run this script again.
    app = QApplication(sys.argv)
    session = TrainingSession(PRESETS["spiral"][1])
    counter = Counter()
    session.worker.snapshot_ready.connect(counter.on_snapshot)
    session.start()
    session.play()
    code = app.exec()
    finished = session.shutdown()
    print(f"iteration={counter.iteration} finished={finished}")
    sys.exit(code if finished else 3)
    """
)


def test_quitting_the_app_while_playing_exits_cleanly(tmp_path):
    script = tmp_path / "close_while_playing.py"
    script.write_text(CLOSE_WHILE_PLAYING, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "QThread" not in proc.stderr
    assert "Destroyed while" not in proc.stderr
    assert proc.stderr.strip() == ""
    fields = dict(item.split("=") for item in proc.stdout.split())
    assert fields["finished"] == "True"
    assert int(fields["iteration"]) > 0  # it was really playing


KILLED_WHILE_PLAYING = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtWidgets import QApplication
    from bpviz.engine.experiment import PRESETS
    from bpviz.worker import TrainingSession

    class Reporter(QObject):
        told = False
        @Slot(object)
        def on_snapshot(self, snap):
            # Playing: once training really runs. Paused: the process waits for commands.
            if (snap.iteration > 0 or not PLAY) and not self.told:
                self.told = True
                print("ready", flush=True)

    PLAY = sys.argv[1] == "play"
    if __name__ == "__main__":
        app = QApplication(sys.argv)
        session = TrainingSession(PRESETS["spiral"][1])
        reporter = Reporter()
        session.worker.snapshot_ready.connect(reporter.on_snapshot)
        session.start()
        if PLAY:
            session.play()
        app.exec()
    """
)


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("state", ["play", "pause"])
def test_killing_the_gui_process_leaves_no_training_process_behind(tmp_path, state):
    script = tmp_path / "killed_while_playing.py"
    script.write_text(KILLED_WHILE_PLAYING, encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(script), state],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        line = proc.stdout.readline()  # blocks until the session is ready (or the script dies)
        assert line.strip() == "ready", f"the script ended: {proc.wait()}"
        helpers = _descendants(proc.pid)
        assert helpers, "no training process was found"
        proc.kill()  # SIGKILL: no Python code of the GUI runs any more
        proc.wait()
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.02)  # polling for the event, with a deadline
        assert not [pid for pid in helpers if _alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


# -- a storm of commands ------------------------------------------------------------------------


def test_1000_random_commands_leave_a_consistent_state(make_session, settle, qtbot, small_setup):
    session, rec = make_session()
    rng = random.Random(20_261_103)
    playing = False  # what the worker must be doing, by the rules of each command
    lr, batch_size = small_setup.lr, small_setup.batch_size
    commands = [
        "play",
        "pause",
        "toggle",
        "step",
        "step_phase",
        "step_back",
        "reset",
        "lr",
        "batch_size",
        "pace",
    ]
    for _ in range(1000):
        command = rng.choice(commands)
        if command == "lr":
            lr = rng.choice([0.0, 0.01, 0.3, 1.0, rng.uniform(0.0, 2.0)])
            session.configure(lr=lr)
        elif command == "batch_size":
            batch_size = rng.randint(1, 8)
            session.configure(batch_size=batch_size)
        elif command == "pace":
            session.set_pace(rng.choice([0, 0, 0, 3, 30, 300, 5000, rng.uniform(0, 1000)]))
        else:
            getattr(session, command)()
            if command == "play":
                playing = True
            elif command == "toggle":
                playing = not playing
            else:
                playing = False
        if playing and rng.random() < 0.05:  # let it train a little
            n = len(rec.snapshots)
            qtbot.waitUntil(lambda n=n: len(rec.snapshots) > n, timeout=TIMEOUT_MS)

    settle(session, rec)
    assert (rec.playing[-1] if rec.playing else False) is playing
    assert all(a != b for a, b in zip(rec.playing, rec.playing[1:], strict=False))
    session.pause()
    snap = settle(session, rec)
    assert rec.failures == []
    assert rec.divergences == []
    assert snap.iteration >= 0
    assert all_finite(snap)
    assert snap.lr == lr
    # The loss cursor: every value once, truncated only where the history was.
    assert rec.gaps == rec.length_errors == rec.err_errors == 0
    assert snap.losses_from + len(snap.new_losses) == len(rec.losses) == snap.iteration
    assert np.isfinite(rec.losses).all()

    # The worker still answers exactly like the engine.
    trainer = twin(small_setup.with_(lr=lr, batch_size=batch_size))
    session.reset()
    for command in ["step"] * 5 + ["step_phase"] * 4 + ["step_back"] * 3 + ["step"] * 5:
        apply(session, trainer, command)
        assert_same_state(settle(session, rec), trainer.snapshot())
    assert rec.losses == trainer.history.batch_err.tolist()


def test_garbage_cycles_are_collected_in_the_gui_thread_only(session, rec, qtbot):
    # Left to itself, Python's cycle collector runs in whichever thread crosses
    # its threshold: the training thread too, which then destroyed Qt objects
    # caught in cycles and deadlocked against the GUI thread.
    assert not gc.isenabled()
    in_gui_thread: list[bool] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self
            self.obj = QObject()

        def __del__(self) -> None:
            in_gui_thread.append(threading.current_thread() is threading.main_thread())

    session.play()
    qtbot.waitUntil(lambda: len(rec.snapshots) > 3, timeout=TIMEOUT_MS)
    n = len(rec.snapshots)

    def pile_up() -> bool:  # cycles pile up while the worker trains (90 snapshots, ~1.5 s)
        for _ in range(100):
            Cycle()
        return len(rec.snapshots) >= n + 90

    qtbot.waitUntil(pile_up, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(in_gui_thread) > 1000, timeout=TIMEOUT_MS)
    session.pause()
    assert all(in_gui_thread), f"{in_gui_thread.count(False)} cycles collected in the worker"


def test_the_garbage_collector_needs_the_gui_thread_and_belongs_to_the_app(session, qapp):
    from bpviz import worker

    timer = worker._gui_garbage_collector.timer
    assert timer.parent() is qapp and timer.thread() is qapp.thread()
    assert timer.isActive() and not gc.isenabled()
    worker.collect_garbage_in_gui_thread()  # again: nothing changes
    assert worker._gui_garbage_collector.timer is timer
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            worker.collect_garbage_in_gui_thread()
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=elsewhere)
    t.start()
    t.join()
    assert len(errors) == 1 and "GUI thread" in str(errors[0])


def test_a_command_that_fails_unexpectedly_is_reported_and_the_process_goes_on(
    session, rec, settle, qtbot
):
    settle(session, rec)
    pid = session.worker.pid
    with qtbot.waitSignal(rec.failed, timeout=TIMEOUT_MS) as blocker:
        # Straight onto the pipe (the worker is idle after settle): float("fast") fails there.
        session.worker._send("set_pace", "fast")
    assert "set pace" in blocker.args[0] and "fast" in blocker.args[0]
    session.step()
    assert settle(session, rec).iteration == 1
    assert session.worker.pid == pid and session.worker.restarts == 0
