"""Desktop manners of the window: ending when the system asks, fitting the screen it opens on.

Imported by :mod:`bpviz.app` and the main window only (it imports Qt).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator, Sequence

from PySide6.QtCore import QRect, QSize, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QWidget

__all__ = ["FIRST_WINDOW_SHARE", "close_on_signals", "first_geometry", "onto_screens"]

#: The first window takes at most this share of its screen's available width and height.
FIRST_WINDOW_SHARE = 0.9
#: After a first SIGTERM/SIGINT, repeats are ignored for this long (a double Ctrl+C still
#: ends cleanly); a repeat after that ends the process at once (the default action).
FORCE_AFTER_S = 3.0


@contextlib.contextmanager
def close_on_signals(
    window: QWidget, signums: Sequence[int] = (signal.SIGINT, signal.SIGTERM)
) -> Iterator[None]:
    """While inside, SIGINT (Ctrl+C in the terminal) and SIGTERM close ``window`` as Ctrl+Q does.

    Python runs signal handlers only when the main thread runs Python code,
    and inside Qt's event loop it may not for a long time. So the signal's
    number is also written to a socket (``signal.set_wakeup_fd``), a
    QSocketNotifier wakes the event loop, and its Python slot lets the
    handler run at once. The handler does not close anything itself (it may
    interrupt any code of the GUI thread): it queues the close, which first
    closes any modal dialog and then the window, through ``closeEvent`` and
    its orderly shutdown; the application then ends with exit code 0.
    Outside the main thread this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    first: list[float] = []

    def close_all() -> None:
        for _ in range(8):  # nested dialogs, each with its own event loop
            modal = QApplication.activeModalWidget()
            if modal is None or modal is window:
                break
            modal.close()
        window.close()

    def handler(signum: int, frame: object) -> None:
        now = time.monotonic()
        if not first:
            first.append(now)
            QTimer.singleShot(0, window, close_all)
        elif now - first[0] > FORCE_AFTER_S:  # the close is stuck: end now
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def drain() -> None:
        # Running this Python slot is what lets the pending handler run.
        with contextlib.suppress(OSError):
            while reader.recv(256):
                pass

    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(drain)
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    old_handlers = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, old in old_handlers.items():
            signal.signal(s, old)
        signal.set_wakeup_fd(old_fd)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()


def first_geometry(available: QRect, preferred: QSize, share: float = FIRST_WINDOW_SHARE) -> QRect:
    """A first window's geometry: ``preferred``, at most ``share`` of ``available``, centred."""
    width = min(preferred.width(), int(available.width() * share))
    height = min(preferred.height(), int(available.height() * share))
    rect = QRect(0, 0, width, height)
    rect.moveCenter(available.center())
    return rect


def _area(r: QRect) -> int:
    return max(r.width(), 0) * max(r.height(), 0)


def onto_screens(rect: QRect, screens: Sequence[QRect]) -> QRect:
    """``rect`` moved (and shrunk if need be) into one of the ``screens``' available geometries.

    A rect inside a screen stays as it is. Otherwise it goes onto the screen
    it overlaps most, or onto the first (primary) screen when it overlaps none
    (last week's projector is gone).
    """
    if not screens or any(s.contains(rect) for s in screens):
        return QRect(rect)
    best = max(screens, key=lambda s: _area(s.intersected(rect)))
    if _area(best.intersected(rect)) == 0:
        best = screens[0]
    width = min(rect.width(), best.width())
    height = min(rect.height(), best.height())
    x = min(max(rect.x(), best.x()), best.x() + best.width() - width)
    y = min(max(rect.y(), best.y()), best.y() + best.height() - height)
    return QRect(x, y, width, height)
