"""Fixtures for the training worker (a started session, a recorder and a barrier) and for
the main window (:func:`make_window`).

The worker's signals are emitted in its own thread. A plain Python callable
connected to them runs *in that thread*, so the :class:`Recorder` is a QObject
living in the GUI thread: Qt then queues each signal to it, as it does for the
app's views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QMetaObject, QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPalette

from bpviz.engine import Snapshot
from bpviz.engine.experiment import Setup
from bpviz.worker import TrainingSession

if TYPE_CHECKING:
    from bpviz.views.main_window import MainWindow

#: A tiny, fast experiment: XOR's four points, 2-3-1.
SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)

#: XOR one sample a batch, 2-2-1 sigmoid: the exports work out its iterations by hand.
ONE_SAMPLE = Setup(
    dataset="xor4",
    hidden=(2,),
    activation="sigmoid",
    batch_size=1,
    lr=0.5,
    seed=3,
    test_fraction=0.0,
)

#: Generous, because the two cores are shared with other processes.
TIMEOUT_MS = 20_000


class Recorder(QObject):
    """Collects what a worker reports, in the GUI thread, and relays its signals.

    Wait on the recorder's signals, not the worker's: pytest-qt's ``waitSignal``
    connects a plain callable, which PySide6 runs in the emitting (worker)
    thread, where it stops its timeout timer ("QObject::killTimer: Timers
    cannot be stopped from another thread"). The recorder's signals are
    emitted in the GUI thread, after the recorder has stored what came.

    ``losses`` is the receiver's copy of the loss history, kept as the GUI
    must keep it: drop what lies beyond ``losses_from`` (a step back or a
    rebuild), then append ``new_losses``. ``gaps`` counts snapshots whose
    ``losses_from`` lies beyond what was received (a value was dropped);
    ``length_errors`` those after which the copy's length differs from the
    snapshot's iteration; ``err_errors`` those whose ``err`` (after a whole
    iteration) differs from the copy's last value.
    """

    snapshot_ready = Signal(object)
    playing_changed = Signal(bool)
    rebuilt = Signal(object)
    diverged = Signal(str)
    failed = Signal(str)
    gradcheck_ready = Signal(object)

    def __init__(self, worker: QObject) -> None:
        super().__init__()
        self.snapshots: list[Snapshot] = []
        self.events: list[tuple[str, object]] = []  # every signal, in arrival order
        self.losses: list[float] = []
        self.truncations = 0
        self.gaps = 0
        self.length_errors = 0
        self.err_errors = 0
        self.playing: list[bool] = []
        self.divergences: list[str] = []
        self.failures: list[str] = []
        self.rebuilds: list[object] = []
        worker.snapshot_ready.connect(self._on_snapshot)
        worker.playing_changed.connect(self._on_playing)
        worker.diverged.connect(self._on_diverged)
        worker.failed.connect(self._on_failed)
        worker.rebuilt.connect(self._on_rebuilt)
        worker.gradcheck_ready.connect(self.gradcheck_ready)

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    @Slot(object)
    def _on_snapshot(self, snap: Snapshot) -> None:
        held = len(self.losses)
        if snap.losses_from > held:
            self.gaps += 1
        elif snap.losses_from < held:
            self.truncations += 1
            del self.losses[snap.losses_from :]
        self.losses.extend(snap.new_losses.tolist())
        if len(self.losses) != snap.iteration:
            self.length_errors += 1
        whole = snap.phase is None or snap.phase.is_last
        if whole and snap.err is not None and snap.iteration > 0:
            same = self.losses[snap.iteration - 1] == snap.err
            nan_both = np.isnan(snap.err) and np.isnan(self.losses[snap.iteration - 1])
            if not (same or nan_both):
                self.err_errors += 1
        self.snapshots.append(snap)
        self.events.append(("snapshot", snap.iteration))
        self.snapshot_ready.emit(snap)

    @Slot(bool)
    def _on_playing(self, playing: bool) -> None:
        self.playing.append(playing)
        self.events.append(("playing", playing))
        self.playing_changed.emit(playing)

    @Slot(str)
    def _on_diverged(self, message: str) -> None:
        self.divergences.append(message)
        self.events.append(("diverged", message))
        self.diverged.emit(message)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failures.append(message)
        self.events.append(("failed", message))
        self.failed.emit(message)

    @Slot(object)
    def _on_rebuilt(self, info: object) -> None:
        self.rebuilds.append(info)
        self.events.append(("rebuilt", info))
        self.rebuilt.emit(info)


def _settle(session: TrainingSession, rec: Recorder) -> Snapshot:
    """Return a snapshot taken after every command sent so far, once all have arrived.

    A blocking queued call waits until the worker has handled every earlier
    command (and emitted a fresh snapshot); the worker's signals are then
    already posted to this thread, and ``sendPostedEvents`` delivers them in
    order. No sleeping, no guessing how many snapshots are on the way.
    """
    assert session.thread.isRunning(), "the worker thread is not running"
    n = len(rec.snapshots)
    QMetaObject.invokeMethod(
        session.worker, "request_snapshot", Qt.ConnectionType.BlockingQueuedConnection
    )
    QCoreApplication.sendPostedEvents(None, 0)
    assert len(rec.snapshots) > n, "the requested snapshot did not arrive"
    return rec.last


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path) -> Iterator[None]:
    """Point QSettings at a temporary folder: GUI tests never touch real settings."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings("bpviz", "bpviz").clear()
    yield


@pytest.fixture
def make_session(qtbot) -> Iterator[Callable[..., tuple[TrainingSession, Recorder]]]:
    """Start sessions; each is shut down at teardown and its thread must have finished."""
    made: list[TrainingSession] = []

    def make(setup: Setup = SMALL) -> tuple[TrainingSession, Recorder]:
        session = TrainingSession(setup)
        made.append(session)
        rec = Recorder(session.worker)
        with qtbot.waitSignal(rec.snapshot_ready, timeout=TIMEOUT_MS):
            session.start()
        return session, rec

    yield make
    for session in made:
        finished = session.shutdown(timeout_ms=5000)
        if not finished:  # never leave a thread running: it would abort pytest
            session.thread.terminate()
            session.thread.wait()
        assert finished, "the worker thread did not finish"
        assert session.thread.isFinished()


@pytest.fixture
def session_and_recorder(make_session) -> tuple[TrainingSession, Recorder]:
    return make_session()


@pytest.fixture
def session(session_and_recorder) -> TrainingSession:
    """A started session on :data:`SMALL`, its first snapshot received."""
    return session_and_recorder[0]


@pytest.fixture
def rec(session_and_recorder) -> Recorder:
    """The recorder attached to ``session`` before it started."""
    return session_and_recorder[1]


@pytest.fixture
def small_setup() -> Setup:
    """The setup ``session`` trains (build a twin trainer from it)."""
    return SMALL


@pytest.fixture
def settle() -> Callable[[TrainingSession, Recorder], Snapshot]:
    """The barrier: ``settle(session, rec)`` → a snapshot after every command sent so far."""
    return _settle


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., MainWindow]]:
    """Open main windows: ``make_window(setup=SMALL, restore=False, size=(1400, 900))``.

    Each is shown (resized to ``size`` unless ``size`` is None or it restores its saved
    geometry) and has its network and first snapshot. At teardown each is closed and its
    training thread must have stopped.
    """
    from bpviz.views.main_window import MainWindow

    windows: list[MainWindow] = []

    def make(
        setup: Setup | None = SMALL,
        restore: bool = False,
        size: tuple[int, int] | None = (1400, 900),
    ) -> MainWindow:
        w = MainWindow(setup, restore=restore)
        qtbot.addWidget(w)
        if size is not None and not restore:
            w.resize(*size)
        w.show()
        qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT_MS)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        assert not w.session.thread.isRunning()


@pytest.fixture
def window(make_window) -> MainWindow:
    """A window on :data:`SMALL`, 1400 × 900."""
    return make_window()


@pytest.fixture
def one_sample_window(make_window) -> MainWindow:
    """A window on :data:`ONE_SAMPLE` at the size it opens with."""
    return make_window(ONE_SAMPLE, size=None)


def _dark_palette() -> QPalette:
    """A dark desktop theme's palette: light text on dark grey."""
    pal = QPalette()
    for role, rgb in (
        (QPalette.ColorRole.Window, (53, 53, 53)),
        (QPalette.ColorRole.WindowText, (230, 230, 230)),
        (QPalette.ColorRole.Base, (35, 35, 35)),
        (QPalette.ColorRole.Text, (230, 230, 230)),
        (QPalette.ColorRole.Button, (53, 53, 53)),
        (QPalette.ColorRole.ButtonText, (230, 230, 230)),
    ):
        pal.setColor(role, QColor(*rgb))
    return pal


@pytest.fixture
def dark_theme(qapp) -> Iterator[Callable[[bool], None]]:
    """Switch the application palette between a dark theme and the original.

    Yields ``switch(dark)``; the original palette is back after the test.
    """
    original = QPalette(qapp.palette())

    def switch(dark: bool) -> None:
        qapp.setPalette(_dark_palette() if dark else original)
        QCoreApplication.processEvents()

    yield switch
    switch(False)
