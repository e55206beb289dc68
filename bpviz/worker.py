"""The training worker: owns the Trainer on its own QThread.

The GUI sends commands (queued slot calls) and receives immutable
:class:`~bpviz.engine.Snapshot` objects; nothing mutable is shared and no
lock is needed. A tick runs about 10 ms of training, then the worker emits
one snapshot at most every 1/60 s; the snapshots' loss cursor carries every
loss value to the GUI exactly once.
"""

from __future__ import annotations

import gc
import math
import time
import traceback
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from .engine import DivergenceError, Snapshot, gradient_check
from .engine.datasets import Dataset
from .engine.experiment import Setup, build
from .engine.experiment_io import load_experiment, restore_trainer, save_experiment
from .engine.trainer import Trainer
from .export import export_csv

__all__ = ["Rebuilt", "TrainingSession", "TrainingWorker", "collect_garbage_in_gui_thread"]

#: Seconds of training per tick at full speed.
TICK_SECONDS = 0.010
#: Shortest time between two snapshots (about 60 per second).
SNAPSHOT_INTERVAL = 1 / 60
#: Timer interval (ms) while playing at a set pace.
PACE_TICK_MS = 10


_gui_garbage_collector: Any = None


def collect_garbage_in_gui_thread() -> None:
    """Let Python's cycle collector run only in the GUI thread, from now on.

    Left alone, the collector runs in whichever thread allocates when its
    threshold is crossed: often the training thread, which then destroys Qt
    widgets caught in reference cycles outside the GUI thread. That can
    deadlock: ``~QObject`` in the training thread holds a Qt mutex and waits
    for the GIL while the GUI thread, holding the GIL, waits for that mutex
    (seen when closing the window while training). pyqtgraph's
    ``GarbageCollector`` turns automatic collection off and collects on a
    one-second timer in the GUI thread instead, until the application goes.
    Call from the GUI thread of a running application (RuntimeError
    otherwise); later calls do nothing while the collector runs.
    """
    global _gui_garbage_collector
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() != app.thread():
        raise RuntimeError("collect_garbage_in_gui_thread() needs the GUI thread of a running app")
    current = _gui_garbage_collector
    if current is not None and shiboken6.isValid(current.timer):
        return
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)
    # The timer goes with the application; automatic collection then comes back
    # (and a later application installs a collector of its own).
    collector.timer.setParent(app)
    collector.timer.destroyed.connect(gc.enable)
    _gui_garbage_collector = collector


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """Sent after the worker (re)built its trainer: what the views must know."""

    setup: Setup
    config: dict[str, Any]
    dataset: Dataset


class TrainingWorker(QObject):
    """Drives a :class:`~bpviz.engine.Trainer`; move it to a QThread, then call :meth:`start`.

    Signals
    -------
    snapshot_ready(Snapshot)
        At most about 60 a second while playing, and after every command.
    playing_changed(bool)
        Play/pause state.
    rebuilt(Rebuilt)
        After start, reset of the architecture or the dataset.
    diverged(str)
        Err or θ became inf/NaN; the worker paused and kept the last finite state.
    failed(str)
        An error inside the worker (training paused; the thread lives on).
    gradcheck_ready(object)
        A :class:`~bpviz.engine.GradCheck` after :meth:`run_gradient_check`.
    setup_changed(Setup)
        After a live change of η, the batch size or the update rule.
    saved(str)
        A file was written (an experiment or the loss history as CSV).
    """

    snapshot_ready = Signal(object)
    playing_changed = Signal(bool)
    rebuilt = Signal(object)
    diverged = Signal(str)
    failed = Signal(str)
    gradcheck_ready = Signal(object)
    setup_changed = Signal(object)
    saved = Signal(str)

    def __init__(self, setup: Setup | None = None) -> None:
        super().__init__()
        self._setup = setup or Setup()
        self._trainer: Any = None
        self._dataset: Dataset | None = None
        self._timer: QTimer | None = None
        self._playing = False
        self._pace = 0.0  # iterations per second; 0 = as fast as possible
        self._pace_t0 = 0.0
        self._pace_done = 0
        self._last_emit = 0.0
        self._chunk = 1
        self.iterations_run = 0  # for benchmarks; read only in the worker's thread

    # -- life cycle ---------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Build the trainer and the timer in the worker's thread; emit the first snapshot."""
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)
        if not self._rebuild(self._setup):
            self._rebuild(Setup())

    @Slot()
    def stop(self) -> None:
        """Stop training for good (before the thread quits)."""
        self._set_playing(False)

    # -- commands -----------------------------------------------------------

    @Slot()
    def play(self) -> None:
        """Start training continuously."""
        if self._trainer is not None:
            self._set_playing(True)

    @Slot()
    def pause(self) -> None:
        """Stop training; the last snapshot carries every loss so far."""
        if self._playing:
            self._set_playing(False)
            self._emit()

    @Slot()
    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self._playing:
            self.pause()
        else:
            self.play()

    @Slot()
    def step(self) -> None:
        """Pause, then run exactly one iteration (finishing a half-walked one)."""
        self.pause()
        self._guarded(self._trainer.step)
        self._emit()

    @Slot()
    def step_phase(self) -> None:
        """Pause, then compute exactly one phase of the current iteration."""
        self.pause()
        self._guarded(self._trainer.step_phase)
        self._emit()

    @Slot()
    def step_back(self) -> None:
        """Pause, then undo the last phase or iteration (bit for bit)."""
        self.pause()
        self._guarded(self._trainer.step_back)
        self._emit()

    @Slot()
    def reset(self) -> None:
        """Pause and go back to the initial weights, iteration 0.

        η and the other live settings stay as they are now.
        """
        self.pause()
        self._guarded(self._trainer.reset)
        self._emit()

    @Slot(float)
    def set_pace(self, iterations_per_second: float) -> None:
        """Iterations per second while playing; 0 (or less) = as fast as possible."""
        self._pace = max(0.0, float(iterations_per_second))
        self._restart_pace()

    @Slot(object)
    def configure(self, changes: dict[str, Any]) -> None:
        """Change settings; those that change the network or the data rebuild it.

        η, batch size, momentum, regularisation and clipping apply live, from
        the next iteration on. Anything else (architecture, activations, loss,
        initialiser, seed, dataset) pauses and rebuilds.
        """
        live = {"lr", "momentum", "l1", "l2", "clip_value", "clip_norm", "batch_size"}
        try:
            new = self._setup.with_(**changes)
        except Exception as exc:  # reported; nothing changed
            self.failed.emit(f"Invalid setting: {exc}")
            return
        if set(changes) <= live and self._trainer is not None:
            tr = self._trainer
            try:
                # Both checks come before any change: a bad value changes nothing.
                rule = new.rule()
                tr.set_batch_size(new.batch_size)
                tr.set_rule(rule)
            except Exception as exc:  # reported; the old settings stay
                self.failed.emit(f"Invalid setting: {exc}")
                return
            self._setup = new
            self.setup_changed.emit(new)
            self._emit()
            return
        was_playing = self._playing
        self._set_playing(False)
        if self._rebuild(new) and was_playing:
            self._set_playing(True)

    @Slot(object)
    def load_setup(self, setup: Setup) -> None:
        """Replace the whole experiment (a preset or a loaded file)."""
        self._set_playing(False)
        self._rebuild(setup)

    @Slot(int, int, int, float)
    def set_weight(self, k: int, i: int, src: int, value: float) -> None:
        """Set one θ by hand (src = −1 is the bias θ_i0)."""
        net = self._trainer.net
        try:
            if not math.isfinite(value):
                raise ValueError(f"θ must be a finite number, got {value}")
            if not 0 <= k < len(net.weights):
                raise IndexError(f"there is no weight layer {k}")
            n_out, n_in = net.weights[k].shape
            if not 0 <= i < n_out or not -1 <= src < n_in:
                raise IndexError(f"there is no θ ({k}, {i}, {src})")
            if src < 0:
                if not net.bias:
                    raise ValueError("this network has no biases")
                net.biases[k][i] = value
            else:
                net.weights[k][i, src] = value
        except (IndexError, ValueError) as exc:
            self.failed.emit(f"Cannot set that weight: {exc}")
            return
        self._emit()

    @Slot()
    def run_gradient_check(self) -> None:
        """Compare backprop with finite differences on the current weights."""
        tr = self._trainer
        n = min(tr.n_train, 32)
        result = self._guarded(gradient_check, tr.net, tr.X_train[:n], tr.Y_train[:n])
        if result is not None:
            self.gradcheck_ready.emit(result)

    @Slot(str)
    def open_experiment(self, path: str) -> None:
        """Load an experiment file; on any error the current session stays as it is."""
        self._set_playing(False)
        try:
            experiment = load_experiment(path)
            trainer, dataset = restore_trainer(experiment)
        except Exception as exc:  # reported; nothing changed
            self.failed.emit(f"Could not open {path}: {exc}")
            return
        self._install(trainer, dataset, experiment.setup)

    @Slot(str)
    def save_experiment(self, path: str) -> None:
        """Save settings, weights and loss history (atomically)."""
        try:
            save_experiment(path, self._setup, self._trainer, self._dataset)
        except Exception as exc:  # reported; the old file is intact
            self.failed.emit(f"Could not save {path}: {exc}")
            return
        self.saved.emit(path)

    @Slot(str)
    def export_loss_csv(self, path: str) -> None:
        """Write the whole loss history (iteration, batch/train/test Err) as CSV."""
        try:
            export_csv(self._trainer.history, path)
        except Exception as exc:
            self.failed.emit(f"Could not write {path}: {exc}")
            return
        self.saved.emit(path)

    @Slot()
    def request_snapshot(self) -> None:
        """Emit a snapshot now."""
        self._emit()

    # -- internals ----------------------------------------------------------

    def _rebuild(self, setup: Setup) -> bool:
        try:
            trainer, dataset = build(setup)
        except Exception as exc:  # reported, the old trainer stays
            self.failed.emit(f"Could not build that network: {exc}")
            return False
        self._install(trainer, dataset, setup)
        return True

    def _install(self, trainer: Trainer, dataset: Dataset, setup: Setup) -> None:
        self._trainer, self._dataset, self._setup = trainer, dataset, setup
        self.rebuilt.emit(Rebuilt(setup, trainer.net.config(), dataset))
        self._emit()

    def _set_playing(self, playing: bool) -> None:
        if playing == self._playing or self._timer is None:
            return
        self._playing = playing
        if playing:
            self._restart_pace()
            self._timer.start()
        else:
            self._timer.stop()
        self.playing_changed.emit(playing)

    def _restart_pace(self) -> None:
        self._pace_t0 = time.perf_counter()
        self._pace_done = 0
        if self._timer is not None:
            # A set pace ticks every 10 ms and runs the iterations that are due (never
            # spinning on an idle timer); full speed ticks continuously.
            self._timer.setInterval(0 if self._pace == 0 else PACE_TICK_MS)

    def _guarded(self, fn, *args):
        """Call ``fn``; report divergence and errors as signals, pausing training."""
        try:
            return fn(*args)
        except DivergenceError as exc:
            self._set_playing(False)
            self._emit()
            self.diverged.emit(str(exc))
        except Exception as exc:  # the thread must survive anything
            self._set_playing(False)
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.failed.emit(f"Training stopped by an error: {detail}")
        return None

    def _emit(self) -> None:
        if self._trainer is None:
            return
        snap: Snapshot = self._trainer.snapshot()
        self._last_emit = time.perf_counter()
        self.snapshot_ready.emit(snap)

    def _train(self, limit: int | None, deadline: float) -> int:
        """Run up to ``limit`` iterations (None: no limit) until ``deadline``; return how many.

        Iterations run in chunks through :meth:`Trainer.run`, sized to take
        about 1 ms, so the clock is read rarely and the tick still ends on time.
        """
        run = self._trainer.run
        chunk = self._chunk
        done = 0
        try:
            while limit is None or done < limit:
                n = chunk if limit is None else min(chunk, limit - done)
                t = time.perf_counter()
                run(n)
                done += n
                now = time.perf_counter()
                if n == chunk:
                    if now - t < 0.0005:
                        chunk *= 2
                    elif now - t > 0.002 and chunk > 1:
                        chunk //= 2
                if now >= deadline:
                    break
        finally:
            self._chunk = chunk
            self.iterations_run += done
        return done

    @Slot()
    def _tick(self) -> None:
        if not self._playing or self._trainer is None:
            return
        start = time.perf_counter()
        deadline = start + TICK_SECONDS
        # End the tick when the next snapshot is due, so that snapshots go out
        # at the full 60 per second (not every second tick, 50 per second).
        due = self._last_emit + SNAPSHOT_INTERVAL
        if start < due < deadline:
            deadline = due
        try:
            if self._pace > 0:
                due = int((start - self._pace_t0) * self._pace) - self._pace_done
                # Catch up at most four ticks' worth after a slow tick.
                due = min(due, max(1, int(self._pace * TICK_SECONDS * 4)))
                if due <= 0:
                    return
                self._pace_done += self._train(due, deadline)
            else:
                self._train(None, deadline)
        except DivergenceError as exc:
            self._set_playing(False)
            self._emit()
            self.diverged.emit(str(exc))
            return
        except Exception as exc:  # the thread must survive anything
            self._set_playing(False)
            self._emit()
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.failed.emit(f"Training stopped by an error: {detail}")
            return
        if time.perf_counter() - self._last_emit >= SNAPSHOT_INTERVAL:
            self._emit()


class TrainingSession(QObject):
    """The GUI's handle on a worker and its thread.

    Lives in the GUI thread. Its methods emit signals that reach the worker's
    slots as queued calls, so they return at once and never touch the
    trainer. The worker's own signals (``session.worker.snapshot_ready`` …)
    arrive in the GUI thread as queued calls too.
    """

    _play = Signal()
    _pause = Signal()
    _toggle = Signal()
    _step = Signal()
    _step_phase = Signal()
    _step_back = Signal()
    _reset = Signal()
    _configure = Signal(object)
    _pace = Signal(float)
    _load_setup = Signal(object)
    _set_weight = Signal(int, int, int, float)
    _gradcheck = Signal()
    _snapshot = Signal()
    _open = Signal(str)
    _save = Signal(str)
    _export_csv = Signal(str)

    def __init__(self, setup: Setup | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("bpviz-training")
        self.worker = TrainingWorker(setup)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.start)
        self.thread.finished.connect(self.worker.deleteLater)
        w = self.worker
        for signal, slot in (
            (self._play, w.play),
            (self._pause, w.pause),
            (self._toggle, w.toggle),
            (self._step, w.step),
            (self._step_phase, w.step_phase),
            (self._step_back, w.step_back),
            (self._reset, w.reset),
            (self._configure, w.configure),
            (self._pace, w.set_pace),
            (self._load_setup, w.load_setup),
            (self._set_weight, w.set_weight),
            (self._gradcheck, w.run_gradient_check),
            (self._snapshot, w.request_snapshot),
            (self._open, w.open_experiment),
            (self._save, w.save_experiment),
            (self._export_csv, w.export_loss_csv),
        ):
            signal.connect(slot, Qt.ConnectionType.QueuedConnection)
        self._running = False

    def start(self) -> None:
        """Start the thread; the worker builds its trainer there."""
        collect_garbage_in_gui_thread()  # before a second thread runs Python
        self.thread.start()
        self._running = True

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Stop training, quit the thread and wait for it; True if it finished."""
        if not self._running:
            return True
        self._running = False
        if self.thread.isRunning():
            QMetaObject.invokeMethod(
                self.worker, "stop", Qt.ConnectionType.BlockingQueuedConnection
            )
        self.thread.quit()
        return self.thread.wait(timeout_ms)

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`shutdown`."""
        return self._running

    def play(self) -> None:
        """Start training continuously."""
        self._play.emit()

    def pause(self) -> None:
        """Pause training."""
        self._pause.emit()

    def toggle(self) -> None:
        """Play/pause."""
        self._toggle.emit()

    def step(self) -> None:
        """One iteration."""
        self._step.emit()

    def step_phase(self) -> None:
        """One phase of the current iteration."""
        self._step_phase.emit()

    def step_back(self) -> None:
        """Undo the last phase or iteration."""
        self._step_back.emit()

    def reset(self) -> None:
        """Back to the initial weights."""
        self._reset.emit()

    def configure(self, **changes: Any) -> None:
        """Change settings (see :meth:`TrainingWorker.configure`)."""
        self._configure.emit(changes)

    def set_pace(self, iterations_per_second: float) -> None:
        """Iterations per second while playing (0 = full speed)."""
        self._pace.emit(float(iterations_per_second))

    def load_setup(self, setup: Setup) -> None:
        """Replace the experiment."""
        self._load_setup.emit(setup)

    def set_weight(self, k: int, i: int, src: int, value: float) -> None:
        """Set one θ (src = −1: the bias)."""
        self._set_weight.emit(k, i, src, float(value))

    def run_gradient_check(self) -> None:
        """Ask for a finite-difference check of the gradients."""
        self._gradcheck.emit()

    def request_snapshot(self) -> None:
        """Ask for a snapshot now."""
        self._snapshot.emit()

    def open_experiment(self, path: str) -> None:
        """Load an experiment file (errors arrive as ``worker.failed``)."""
        self._open.emit(str(path))

    def save_experiment(self, path: str) -> None:
        """Save the experiment (``worker.saved`` or ``worker.failed`` follows)."""
        self._save.emit(str(path))

    def export_loss_csv(self, path: str) -> None:
        """Write the loss history as CSV (``worker.saved`` or ``worker.failed`` follows)."""
        self._export_csv.emit(str(path))
