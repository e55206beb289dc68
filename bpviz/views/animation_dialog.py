"""File ▸ Export ▸ Animation…: the options dialog, and the export with a progress bar.

The window's training runs in another process, so the export asks it for a
copy of the experiment (θ, data order, counters, loss history: the same file
*Save experiment* writes), restores a :class:`~bpviz.engine.trainer.Trainer`
from it here and lets :func:`bpviz.animation.write_animation` drive that
trainer and draw the frames. The window's own training is paused and not
touched: after the export it goes on from where it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..animation import AnimationOptions, Cancelled, check_output, pyav_available

__all__ = ["SIZES", "AnimationDialog", "export_animation"]

#: Frame sizes offered (16:9, for slides and projectors).
SIZES = ((1280, 720), (1920, 1080), (960, 540), (640, 360))
#: How long to wait for the training process to save its copy of the experiment.
SAVE_TIMEOUT_MS = 20_000


class AnimationDialog(QDialog):
    """Training (N iterations) or the walk; size, fps, length; the file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self.train = QRadioButton("Training over")
        self.walk = QRadioButton("The lecture walk: the next iteration, phase by phase")
        self.train.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.train)
        group.addButton(self.walk)
        self.steps = QSpinBox()
        self.steps.setRange(1, 10_000_000)
        self.steps.setValue(5000)
        self.steps.setSuffix(" iterations")
        self.steps.setGroupSeparatorShown(True)
        train_row = QHBoxLayout()
        train_row.addWidget(self.train)
        train_row.addWidget(self.steps)
        train_row.addStretch(1)
        self.size = QComboBox()
        for w, h in SIZES:
            self.size.addItem(f"{w} × {h}", (w, h))
        self.fps = QSpinBox()
        self.fps.setRange(1, 60)
        self.fps.setValue(30)
        self.fps.setSuffix(" frames/s")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.5, 600.0)
        self.seconds.setDecimals(1)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(10.0)
        self.path = QLineEdit()
        self.path.setPlaceholderText("animation.mp4, .gif or .apng")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        self.note = QLabel()
        self.note.setWordWrap(True)
        if not pyav_available():
            self.note.setText("MP4 needs PyAV: pip install 'bpviz[video]'. GIF and APNG work.")
        self.walk.toggled.connect(self._on_mode)
        form = QFormLayout()
        form.addRow("Frame size", self.size)
        form.addRow("Frame rate", self.fps)
        form.addRow("Length", self.seconds)
        form.addRow("File", file_row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(train_row)
        lay.addWidget(self.walk)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(buttons)

    def _on_mode(self, walk: bool) -> None:
        self.steps.setEnabled(not walk)
        # The walk: one second per picture (shown at the minimum, 0) unless the user sets a length.
        self.seconds.setSpecialValueText("1 s per phase" if walk else "")
        self.seconds.setMinimum(0.0 if walk else 0.5)
        self.seconds.setValue(0.0 if walk else 10.0)

    def _browse(self) -> None:
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export animation", "", "MP4 video (*.mp4);;GIF (*.gif);;Animated PNG (*.apng)"
        )
        if path:
            if not Path(path).suffix and "*." in chosen:
                path += "." + chosen.split("*.")[-1].rstrip(")")
            self.path.setText(path)

    def options(self) -> AnimationOptions:
        """The options as chosen."""
        w, h = self.size.currentData()
        return AnimationOptions(
            steps=None if self.walk.isChecked() else self.steps.value(),
            walk=self.walk.isChecked(),
            width=w,
            height=h,
            fps=self.fps.value(),
            seconds=self.seconds.value() or None,
        )

    def accept(self) -> None:
        """Keep the dialog open on a bad file name, saying why."""
        try:
            self.options().check(check_output(self.path.text().strip()))
        except ValueError as exc:
            self.note.setText(f"<b>Cannot export:</b> {exc}")
            return
        super().accept()


class _SaveWaiter(QObject):
    """Waits for the worker's answer to one save, in the GUI thread.

    The worker's signals come from its own thread; connected to this QObject's
    slots (it lives in the GUI thread) they are queued here, so the event loop
    is quit from the thread that runs it.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.ok: bool | None = None
        self.loop = QEventLoop()
        self.timer = QTimer(self)  # dies with the waiter: no late call into a gone loop
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.loop.quit)

    @Slot(str)
    def on_saved(self, path: str) -> None:
        if path == self.path:
            self.ok = True
            self.loop.quit()

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self.ok = False
        self.loop.quit()


def _experiment_copy(window: Any) -> str | None:
    """Ask the training process to save a copy of the experiment; its path, or None."""
    fd, tmp = tempfile.mkstemp(prefix="bpviz-animation-", suffix=".json")
    os.close(fd)
    waiter = _SaveWaiter(tmp)
    worker = window.session.worker
    worker.saved.connect(waiter.on_saved)
    worker.failed.connect(waiter.on_failed)
    waiter.timer.start(SAVE_TIMEOUT_MS)
    try:
        window.session.save_experiment(tmp)
        if waiter.ok is None:
            waiter.loop.exec()
    finally:
        worker.saved.disconnect(waiter.on_saved)
        worker.failed.disconnect(waiter.on_failed)
    if not waiter.ok:
        Path(tmp).unlink(missing_ok=True)
        return None
    return tmp


def export_animation(
    window: Any, path: str | None = None, options: AnimationOptions | None = None
) -> Path | None:
    """Export an animation of the window's experiment, with a progress bar and Cancel.

    Without ``path`` and ``options`` the dialog asks for them. Returns the
    file written, or None (cancelled, or an error shown in the window's
    banner); a cancelled or failed export leaves no file.
    """
    from ..animation import write_animation
    from ..engine.experiment_io import load_experiment, restore_trainer

    if path is None or options is None:
        dialog = AnimationDialog(window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        path, options = dialog.path.text().strip(), dialog.options()
    try:
        options.check(check_output(path))
    except ValueError as exc:
        window.show_banner(f"<b>Could not export:</b> {exc}")
        return None
    window.session.pause()
    tmp = _experiment_copy(window)
    if tmp is None:
        window.show_banner("<b>Could not export:</b> the training process did not save its state.")
        return None
    progress = QProgressDialog("Drawing the animation…", "Cancel", 0, 100, window)
    progress.setWindowTitle("Export animation")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(0)
    progress.setAutoClose(False)
    progress.setAutoReset(False)
    progress.setValue(0)

    def step(done: int, total: int) -> bool:
        progress.setMaximum(total)
        progress.setValue(done)
        progress.setLabelText(f"Drawing the animation… frame {done} of {total}")
        QApplication.processEvents()
        return not progress.wasCanceled()

    try:
        experiment = load_experiment(tmp)
        trainer, dataset = restore_trainer(experiment)
        written = write_animation(
            trainer, dataset, path, options, title=experiment.title or "", progress=step
        )
    except Cancelled:
        window.statusBar().showMessage("Animation cancelled; no file written", 5000)
        return None
    except Exception as exc:
        window.show_banner(f"<b>Could not write {path}:</b> {exc}")
        return None
    finally:
        progress.close()
        progress.deleteLater()
        Path(tmp).unlink(missing_ok=True)
    window.statusBar().showMessage(
        f"Saved {written.path} ({written.frames} frames, {written.seconds:g} s)", 8000
    )
    return written.path
