"""The window's side of training: a worker on its own QThread, and the session handle.

The Trainer runs in a process of its own (:mod:`bpviz.training_process`):
painting in the GUI can never hold up the arithmetic, because the two run in
different interpreters with different GILs. The :class:`TrainingWorker`
lives on a QThread of the GUI process; the GUI sends it commands (queued slot
calls), it forwards them over a pipe in order, and it turns what comes back
into signals carrying immutable :class:`~bpviz.engine.Snapshot` objects.
Nothing mutable is shared and no lock is needed. While playing, the training
process runs about 10 ms of training per tick and sends one snapshot at most
every 1/60 s; the snapshots' loss cursor carries every loss value to the GUI
exactly once.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import (
    QCoreApplication,
    QMetaObject,
    QObject,
    QSocketNotifier,
    Qt,
    QThread,
    Signal,
    Slot,
)

from .engine import Snapshot
from .engine.experiment import Setup
from .training_process import Progress, Rebuilt, TrainingProcess, serve, training_context

__all__ = [
    "Progress",
    "Rebuilt",
    "TrainingSession",
    "TrainingWorker",
    "collect_garbage_in_gui_thread",
    "freeze",
    "training_context",
]

#: Seconds the training process gets to end when asked, and again when terminated.
STOP_TIMEOUT_S = 1.0
#: Seconds a barrier (:meth:`TrainingWorker.request_snapshot`) waits for its answer.
SYNC_TIMEOUT_S = 30.0
#: Reports read in one wake-up of the worker thread before queued commands get a turn.
MAX_READS_PER_WAKE = 64
#: A training process that ends by itself is started again, but at most this many
#: times within RESTART_WINDOW_S seconds (one that dies at once would loop for ever).
MAX_RESTARTS = 3
RESTART_WINDOW_S = 30.0


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


class TrainingWorker(QObject):
    """The window's side of training: lives on a QThread, talks to the training process.

    The Trainer itself runs in a process of its own (:mod:`bpviz.training_process`),
    so the GUI's painting can never hold up the arithmetic. This object forwards
    each command to that process over a pipe, in order, and turns what comes
    back into Qt signals, which reach the GUI thread as queued calls. A training
    process that dies (killed, out of memory) is reported and started again on
    the last settings.

    Signals
    -------
    snapshot_ready(Snapshot)
        At most about 60 a second while playing, and after every command.
    playing_changed(bool)
        Play/pause state.
    rebuilt(Rebuilt)
        After start, reset of the architecture or the dataset.
    diverged(str)
        Err or θ became inf/NaN; training paused and kept the last finite state.
    failed(str)
        An error on the training side (training paused; the training side lives on).
    gradcheck_ready(object)
        A :class:`~bpviz.engine.GradCheck` after :meth:`run_gradient_check`.
    setup_changed(Setup)
        After a live change of η, the batch size or the update rule.
    saved(str)
        A file was written (an experiment or the loss history as CSV).
    progress(object)
        A :class:`~bpviz.training_process.Progress` for each stage of reading
        and building an experiment, then None when that is over (also when
        the training process was lost meanwhile).
    """

    snapshot_ready = Signal(object)
    playing_changed = Signal(bool)
    rebuilt = Signal(object)
    diverged = Signal(str)
    failed = Signal(str)
    gradcheck_ready = Signal(object)
    setup_changed = Signal(object)
    saved = Signal(str)
    progress = Signal(object)

    def __init__(self, setup: Setup | None = None) -> None:
        super().__init__()
        self._setup = setup or Setup()
        self._process: Any = None
        self._conn: Any = None
        self._notifier: QSocketNotifier | None = None
        self._sync_token = 0
        self._synced = -1
        self._stopping = False
        self.restarts = 0  # training processes started again after an unexpected end
        self._restart_times: list[float] = []
        #: The training process's id (None before start and after stop); any thread may read it.
        self.pid: int | None = None

    # -- life cycle ---------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Start the training process; it builds the trainer and sends the first snapshot."""
        self._start_process(self._setup)

    @Slot()
    def stop(self) -> None:
        """End the training process (asked first, then forced), before the thread quits."""
        self._stopping = True
        self._send("stop")
        self._end_process()

    # -- commands -----------------------------------------------------------

    @Slot()
    def play(self) -> None:
        """Start training continuously."""
        self._send("play")

    @Slot()
    def pause(self) -> None:
        """Stop training; the last snapshot carries every loss so far."""
        self._send("pause")

    @Slot()
    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        self._send("toggle")

    @Slot()
    def step(self) -> None:
        """Pause, then run exactly one iteration (finishing a half-walked one)."""
        self._send("step")

    @Slot()
    def step_phase(self) -> None:
        """Pause, then compute exactly one phase of the current iteration."""
        self._send("step_phase")

    @Slot()
    def step_back(self) -> None:
        """Pause, then undo the last phase or iteration (bit for bit)."""
        self._send("step_back")

    @Slot()
    def reset(self) -> None:
        """Pause and go back to the initial weights, iteration 0 (live settings stay)."""
        self._send("reset")

    @Slot(float)
    def set_pace(self, iterations_per_second: float) -> None:
        """Iterations per second while playing; 0 (or less) = as fast as possible."""
        self._send("set_pace", float(iterations_per_second))

    @Slot(object)
    def configure(self, changes: dict[str, Any]) -> None:
        """Change settings (see :meth:`bpviz.training_process.TrainingLoop.configure`)."""
        self._send("configure", dict(changes))

    @Slot(object)
    def load_setup(self, setup: Setup) -> None:
        """Replace the whole experiment (a preset or a loaded file)."""
        self._send("load_setup", setup)

    @Slot(int, int, int, float)
    def set_weight(self, k: int, i: int, src: int, value: float) -> None:
        """Set one θ by hand (src = −1 is the bias θ_i0)."""
        self._send("set_weight", k, i, src, value)

    @Slot()
    def set_start(self) -> None:
        """Make the current θ the start θ (iteration 0; reset returns to it)."""
        self._send("set_start")

    @Slot()
    def run_gradient_check(self) -> None:
        """Compare backprop with finite differences on the current weights."""
        self._send("run_gradient_check")

    @Slot(str)
    def open_experiment(self, path: str) -> None:
        """Load an experiment file; on any error the current session stays as it is."""
        self._send("open_experiment", path)

    @Slot(str, object)
    def save_experiment(self, path: str, comparisons: tuple = ()) -> None:
        """Save settings, weights and loss history (atomically), and the kept runs."""
        self._send("save_experiment", path, tuple(comparisons))

    @Slot(str)
    def export_loss_csv(self, path: str) -> None:
        """Write the whole loss history (iteration, batch/train/test Err) as CSV."""
        self._send("export_loss_csv", path)

    @Slot()
    def request_snapshot(self) -> None:
        """A barrier: return once a snapshot taken after every earlier command was emitted.

        Every report the training process sent before it is emitted first, in
        order. Called through a blocking queued connection, the caller then
        holds all of them in its event queue.
        """
        if self._conn is None:
            return
        self._sync_token += 1
        token = self._sync_token
        self._send("sync", token)
        deadline = time.monotonic() + SYNC_TIMEOUT_S
        while self._conn is not None and self._synced < token:
            left = deadline - time.monotonic()
            if left <= 0:
                self.failed.emit("The training process did not answer in time.")
                return
            try:
                ready = self._conn.poll(left)
            except (OSError, ValueError):
                ready = True  # read below and handle the loss there
            if ready:
                self._read_one()

    # -- internals ----------------------------------------------------------

    def _start_process(self, setup: Setup) -> None:
        here, there = training_context().Pipe(duplex=True)
        process = TrainingProcess(
            target=serve, args=(there, setup), name="bpviz-training", daemon=True
        )
        try:
            process.start()
        except Exception as exc:  # no process (out of memory, too many processes …)
            here.close()
            there.close()
            self.failed.emit(f"Could not start the training process: {exc}")
            return
        there.close()  # the child's end: only the child holds it now (EOF when it goes)
        self._process, self._conn = process, here
        self.pid = process.pid
        self._notifier = QSocketNotifier(here.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)

    def _end_process(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        process, conn = self._process, self._conn
        self._process = self._conn = self.pid = None
        if process is not None:
            # Read (and drop) what is still on its way, so that a process blocked
            # sending a report can take its stop command and end.
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while conn is not None and process.is_alive() and time.monotonic() < deadline:
                try:
                    if conn.poll(0.005):
                        conn.recv()
                except (EOFError, OSError, ValueError):
                    break
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
        if conn is not None:
            conn.close()

    def _send(self, name: str, *args: Any) -> None:
        if self._conn is None:
            return
        try:
            self._conn.send((name, *args))
        except (OSError, ValueError):
            self._lost()

    @Slot()
    def _on_readable(self) -> None:
        # Everything that is there now; a long burst is cut after a batch, so
        # that queued commands get their turn.
        for _ in range(MAX_READS_PER_WAKE):
            if self._conn is None:
                return
            try:
                if not self._conn.poll():
                    return
            except (OSError, ValueError):
                self._lost()
                return
            self._read_one()

    def _read_one(self) -> None:
        try:
            kind, payload = self._conn.recv()
        except (EOFError, OSError, ValueError):
            self._lost()
            return
        if kind == "snapshot":
            self.snapshot_ready.emit(freeze(payload))
        elif kind == "sync":
            self._synced = payload
        elif kind == "playing":
            self.playing_changed.emit(payload)
        elif kind == "rebuilt":
            self._setup = payload.setup
            self.rebuilt.emit(payload)
        elif kind == "setup_changed":
            self._setup = payload
            self.setup_changed.emit(payload)
        elif kind == "gradcheck":
            self.gradcheck_ready.emit(payload)
        elif kind == "progress":
            self.progress.emit(payload)
        elif kind in ("diverged", "failed", "saved"):
            getattr(self, kind).emit(payload)

    def _lost(self) -> None:
        """The training process ended without being asked: report it, start a new one."""
        if self._stopping or self._process is None:
            return
        process = self._process
        process.join(STOP_TIMEOUT_S)
        code = process.exitcode
        self._end_process()
        self.playing_changed.emit(False)
        self.progress.emit(None)  # whatever it was building will not come
        how = (
            f"was killed by signal {-code}"
            if code is not None and code < 0
            else (f"ended with exit code {code}")
        )
        now = time.monotonic()
        self._restart_times = [t for t in self._restart_times if now - t < RESTART_WINDOW_S]
        if len(self._restart_times) >= MAX_RESTARTS:
            self.failed.emit(
                f"The training process {how} again, {MAX_RESTARTS + 1} times within "
                f"{RESTART_WINDOW_S:.0f} s; it was not started again (restart bpviz)."
            )
            return
        self._restart_times.append(now)
        self.restarts += 1
        self.failed.emit(
            f"The training process {how}; it was started again on the last settings "
            "(the weights trained since then are lost)."
        )
        self._start_process(self._setup)


def freeze(snap: Snapshot) -> Snapshot:
    """Make every array of a snapshot that came through a pipe read-only again.

    A snapshot promises read-only arrays; pickling does not carry the flag.
    """
    for name in Snapshot.__slots__:
        _freeze(getattr(snap, name))
    return snap


def _freeze(value: Any) -> None:
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _freeze(item)


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
    _set_start = Signal()
    _gradcheck = Signal()
    _snapshot = Signal()
    _open = Signal(str)
    _save = Signal(str, object)
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
            (self._set_start, w.set_start),
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

    def set_start(self) -> None:
        """Make the current θ the start θ (``worker.setup_changed`` follows, with params)."""
        self._set_start.emit()

    def run_gradient_check(self) -> None:
        """Ask for a finite-difference check of the gradients."""
        self._gradcheck.emit()

    def request_snapshot(self) -> None:
        """Ask for a snapshot now."""
        self._snapshot.emit()

    def open_experiment(self, path: str) -> None:
        """Load an experiment file (errors arrive as ``worker.failed``)."""
        self._open.emit(str(path))

    def save_experiment(self, path: str, comparisons: tuple = ()) -> None:
        """Save the experiment and ``comparisons`` (KeptRun records, plain data).

        ``worker.saved`` or ``worker.failed`` follows.
        """
        self._save.emit(str(path), tuple(comparisons))

    def export_loss_csv(self, path: str) -> None:
        """Write the loss history as CSV (``worker.saved`` or ``worker.failed`` follows)."""
        self._export_csv.emit(str(path))
