"""The main window: docks, menus, wiring, orderly shutdown.

Views never talk to each other or to the trainer: the window feeds them
snapshots from the worker and turns their signals into worker commands.
"""

from __future__ import annotations

import html
import math
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QCursor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from .. import __version__, settings
from ..actions import Actions
from ..desktop import first_geometry, onto_screens
from ..engine import get_loss
from ..engine.experiment import Setup
from ..examples import example_paths, example_titles
from ..export import export_png, export_svg, phase_png_path, render_widget_png
from ..files import CSV_SUFFIX, EXPERIMENT_SUFFIX, file_kind
from ..worker import Progress, Rebuilt, TrainingSession
from .animation_dialog import export_animation
from .colors import scaled_font
from .comparison import Comparisons
from .controls import ControlPanel
from .formulas import highlight_for, phase_label
from .frame_budget import FrameBudget
from .gradient_plot import GradientPlot
from .hidden_maps import HiddenMaps
from .inspector import Inspector
from .loss_plot import LossPlot
from .network_view import NetworkView
from .output_view import OutputView
from .phase_indicator import PhaseIndicator
from .quiz_panel import QuizPanel
from .start_weights import StartWeightsDialog

__all__ = ["MainWindow"]

#: The window's title when no file was opened; with one, "lecture.json — bpviz".
APP_TITLE = "bpviz — backpropagation, phase by phase"
#: The first window's size on a large screen (smaller screens: see :func:`first_geometry`).
PREFERRED_SIZE = QSize(1600, 1000)

#: A longer file name is shortened (in its middle) in the status bar's progress.
PROGRESS_NAME_CHARS = 32
#: Repaint rate of the views (snapshots may arrive faster; only the latest is drawn).
FRAME_MS = 16
#: Each Larger/Smaller text step scales the text by this factor ...
TEXT_STEP = 1.15
#: ... within these bounds (the scale shown).
MIN_TEXT_SCALE, MAX_TEXT_SCALE = 0.6, 4.0


def _clamp_text_scale(value: float) -> float:
    return min(max(value, MIN_TEXT_SCALE), MAX_TEXT_SCALE)


#: "Could not open P: P: reason": the worker names the file, and so does the error.
_PATH_TWICE = re.compile(r"^(Could not (?:open|save|write) )(.+?): \2: ", re.DOTALL)


def _banner_text(message: str) -> str:
    """A worker's message as banner HTML: the path once, one line per bad field."""
    message = html.escape(_PATH_TWICE.sub(r"\1\2: ", message))
    return re.sub(r"(?:: |; )(\(\d+\) |… and \d+ more)", r"<br>\1", message)


class _ShortcutGuard(QObject):
    """Lets the window's keyboard shortcuts win over a focused spin box or combo box.

    Qt first offers a key to the focused widget as a ShortcutOverride event; a
    spin box claims Space and the arrows, so Space would never play. For the
    keys of our transport actions we decline the override on the widget's
    behalf, and Qt triggers the window's shortcut instead. The other way round
    for Up and Down (scrolling the formulas): a focused box keeps them, so we
    claim the override on its behalf.

    The guard filters only the window's input widgets, not the whole
    application: every event a Python filter sees needs the GIL, which the
    training thread holds most of the time. The window calls
    :meth:`guard_inputs` again whenever the controls may have made new ones
    (the architecture editor's spin boxes).
    """

    #: Widgets that claim keys through ShortcutOverride.
    INPUTS = (QAbstractSpinBox, QComboBox, QLineEdit)

    def __init__(self, window: QMainWindow, actions: Actions) -> None:
        super().__init__(window)
        self._window = window
        self._keys = {seq.toString() for a in actions.keyboard() for seq in a.shortcuts()}
        self._yield = {seq.toString() for a in actions.yielding() for seq in a.shortcuts()}
        self.guard_inputs()

    def guard_inputs(self) -> None:
        """Filter every input widget of the window (installing twice is harmless)."""
        for w in self._window.findChildren(QWidget):
            if isinstance(w, self.INPUTS):
                w.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(obj, QWidget)
            and obj.window() is self._window
            and not obj.property("bpviz_owns_keys")
        ):
            combo = QKeySequence(event.keyCombination()).toString()  # type: ignore[attr-defined]
            if combo in self._keys:
                event.ignore()
                return True
            if combo in self._yield:
                event.accept()  # the box gets the key press, not the window's shortcut
                return True
        return False


class _VerticalScrollArea(QScrollArea):
    """Scrolls its widget vertically only, and is never narrower than the widget needs."""

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        widget = self.widget()
        if widget is None:
            return hint
        width = (
            widget.minimumSizeHint().width()
            + self.verticalScrollBar().sizeHint().width()
            + 2 * self.frameWidth()
        )
        return QSize(max(hint.width(), width), hint.height())


class MainWindow(QMainWindow):
    """bpviz's window. Starts its training thread at once."""

    def __init__(self, setup: Setup | None = None, restore: bool = True) -> None:
        super().__init__()
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        if setup is None and restore:
            setup = settings.read_setup()
        self._setup = setup or Setup()
        self._config: dict[str, Any] = {}
        self._latest = None
        #: (temporary experiment file, handout path) while a worked iteration is exported
        self._handout: tuple[str, str] | None = None
        self._dirty = False
        self._selection: tuple | None = None
        self._sample = 0
        self._rate_mark: tuple[float, int] | None = None
        self._rate = 0.0
        self._closing = False
        # The file whose open is under way, and the file the session came from
        # (kind, path): the window title names it.
        self._opening: tuple[str, str] | None = None
        self._title_file: tuple[str, str] | None = None
        # The worker's first "rebuilt" (or "failed") answers its start, not an open.
        self._starting = True

        self.acts = Actions.create(self)
        for a in self.acts.all():
            self.addAction(a)

        # -- views --------------------------------------------------------------
        self.network_view = NetworkView((2, 4, 4, 1), bias=True)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel { background: #fff3cd; color: #5c4400; padding: 8px; font-size: 12pt; }"
        )
        self.banner_close = QPushButton("Dismiss")
        self.banner_close.clicked.connect(self.hide_banner)
        banner_row = QWidget()
        bl = QHBoxLayout(banner_row)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.banner, 1)
        bl.addWidget(self.banner_close)
        self._banner_row = banner_row
        banner_row.hide()
        self.phase_indicator = PhaseIndicator()
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(4, 4, 4, 4)
        cl.addWidget(banner_row)
        cl.addWidget(self.phase_indicator)
        cl.addWidget(self.network_view, 1)
        self.setCentralWidget(central)

        self.controls = ControlPanel(
            (
                self.acts.play_pause,
                self.acts.step_back,
                self.acts.step_phase,
                self.acts.step_iteration,
                self.acts.reset,
            )
        )
        scroll = _VerticalScrollArea()
        scroll.setWidget(self.controls)
        self.controls_dock = self._dock("Controls", scroll, Qt.DockWidgetArea.LeftDockWidgetArea)
        # The controls and the plots run the window's full height; the formulas sit under
        # the network, so a 720-pixel screen still leaves the loss plot room.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.loss_plot = LossPlot()
        self.loss_dock = self._dock("Loss", self.loss_plot, Qt.DockWidgetArea.RightDockWidgetArea)
        self.output_view = OutputView()
        self.output_dock = self._dock(
            "Output", self.output_view, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.gradient_plot = GradientPlot()
        self.gradient_dock = self._dock("Gradients", self.gradient_plot, None)
        self.tabifyDockWidget(self.loss_dock, self.gradient_dock)
        self.loss_dock.raise_()
        self.inspector = Inspector()
        # Quiz mode (Q) shows the quiz panel in the formulas' place.
        self.quiz_panel = QuizPanel()
        self.formula_stack = QStackedWidget()
        self.formula_stack.addWidget(self.inspector)
        self.formula_stack.addWidget(self.quiz_panel)
        self.inspector_dock = self._dock(
            "Formulas", self.formula_stack, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.gradcheck_label = QLabel(self.GRADCHECK_PROMPT)
        self.gradcheck_label.setWordWrap(True)
        self.gradcheck_label.setTextFormat(Qt.TextFormat.RichText)
        self.gradcheck_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        # One tab group only: a second one leaves a stale tab bar painted (Qt 6.11).
        self.gradcheck_dock = self._dock("Gradient check", self.gradcheck_label, None)
        self.tabifyDockWidget(self.loss_dock, self.gradcheck_dock)
        self.loss_dock.raise_()
        # Every hidden layer's per-neuron maps (View ▸ Hidden neuron maps), beside the
        # formulas (rows of maps need width); the output view's own row of first-layer
        # maps gives way to it.
        self.output_view.set_show_hidden(False)
        self.hidden_maps = HiddenMaps()
        self.hidden_dock = self._dock("Hidden neurons", self.hidden_maps, None)
        self.splitDockWidget(self.inspector_dock, self.hidden_dock, Qt.Orientation.Horizontal)
        self.hidden_dock.hide()

        # -- status bar ------------------------------------------------------------
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        # While the training side reads and builds an experiment (issue 16): the stage, and
        # step k of n; shown only when that takes longer than PROGRESS_DELAY_MS.
        self.progress_label = QLabel()
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedWidth(140)
        self._progress_box = QWidget()
        pl = QHBoxLayout(self._progress_box)
        pl.setContentsMargins(4, 0, 4, 0)
        pl.addWidget(self.progress_bar)
        pl.addWidget(self.progress_label, 1)
        self.statusBar().addWidget(self._progress_box, 1)
        self._progress_box.hide()
        self._busy = False
        self._progress_delay = QTimer(self)
        self._progress_delay.setSingleShot(True)
        self._progress_delay.timeout.connect(lambda: self._set_busy(True))

        # Kept runs as ghosts in the Loss and Gradients plots (issue 21).
        self.comparisons = Comparisons(self.loss_plot, self.gradient_plot, self)
        self.comparisons.set_live(self._setup)
        self.comparisons.replay = self.replay_with
        self.comparisons.message.connect(lambda text: self.show_banner(html.escape(text)))
        self.comparisons.changed.connect(self._present_comparison)
        for x in self.comparisons.window_actions():
            self.addAction(x)

        self._build_menus()

        # -- worker ----------------------------------------------------------------
        self.session = TrainingSession(self._setup)
        w = self.session.worker
        w.snapshot_ready.connect(self._on_snapshot)
        w.rebuilt.connect(self._on_rebuilt)
        w.playing_changed.connect(self._on_playing_changed)
        w.diverged.connect(self._on_diverged)
        w.failed.connect(self._on_failed)
        w.gradcheck_ready.connect(self._on_gradcheck)
        w.setup_changed.connect(self._on_setup_changed)
        w.saved.connect(self._on_saved)
        w.progress.connect(self._on_progress)

        a = self.acts
        a.play_pause.triggered.connect(self.session.toggle)
        a.play_pause.triggered.connect(lambda: self.set_auto_advance(False))
        a.step_phase.triggered.connect(self.session.step_phase)
        a.step_iteration.triggered.connect(self.session.step)
        a.step_back.triggered.connect(self.session.step_back)
        a.reset.triggered.connect(self._reset)
        a.quit.triggered.connect(self.close)
        a.presenter.toggled.connect(self.set_presenter_mode)
        a.text_larger.triggered.connect(lambda: self.change_text_size(TEXT_STEP))
        a.text_smaller.triggered.connect(lambda: self.change_text_size(1 / TEXT_STEP))
        a.text_reset.triggered.connect(lambda: self.change_text_size(None))
        self._advance = QTimer(self)
        self._advance.timeout.connect(self.session.step_phase)
        a.auto_advance.toggled.connect(self.set_auto_advance)
        a.auto_advance_interval.triggered.connect(self._ask_auto_advance_interval)
        a.formulas_down.triggered.connect(
            lambda: self.formula_stack.currentWidget().scroll_lines(3)
        )
        a.formulas_up.triggered.connect(lambda: self.formula_stack.currentWidget().scroll_lines(-3))
        self.inspector.formulas_changed.connect(self._fit_formulas)
        a.show_values.toggled.connect(self.network_view.set_show_values)
        a.log_y.toggled.connect(self.loss_plot.set_log_y)
        a.log_y.triggered.connect(self.loss_plot.choose_log_y)  # L or the menu: the user's
        self.loss_plot.log_y_changed.connect(a.log_y.setChecked)  # also its own switch
        a.gradient_check.triggered.connect(self.session.run_gradient_check)
        a.quiz.toggled.connect(self.set_quiz_mode)
        a.presenter.toggled.connect(lambda _on: self._fit_quiz())  # after presenter's layout
        self.quiz_panel.changed.connect(self._on_quiz_changed)
        a.export_exercises.triggered.connect(lambda: self.export_exercises())
        a.set_start.triggered.connect(self.set_start)
        a.hidden_maps.toggled.connect(self.set_hidden_maps)
        self.hidden_dock.toggleViewAction().toggled.connect(a.hidden_maps.setChecked)
        a.edit_start.triggered.connect(lambda: self.edit_start_weights())
        a.shortcuts_help.triggered.connect(self.show_shortcuts)
        a.about.triggered.connect(self.show_about)
        a.load_csv.triggered.connect(lambda: self.load_csv())
        a.open_experiment.triggered.connect(lambda: self.open_experiment())
        a.save_experiment.triggered.connect(lambda: self.save_experiment())
        a.export_loss_png.triggered.connect(lambda: self.export_loss_png())
        a.export_loss_svg.triggered.connect(lambda: self.export_loss_svg())
        a.export_loss_csv.triggered.connect(lambda: self.export_loss_csv())
        a.export_network_png.triggered.connect(lambda: self.export_network_png())
        a.export_network_svg.triggered.connect(lambda: self.export_network_svg())
        a.export_phases.triggered.connect(lambda: self.export_phases())
        a.export_worked.triggered.connect(lambda: self.export_worked())
        a.export_animation.triggered.connect(lambda: export_animation(self))
        menu = self.loss_plot.plot_item.getViewBox().menu
        menu.addSeparator()
        for x in (a.export_loss_png, a.export_loss_svg, a.export_loss_csv):
            menu.addAction(x)

        self.controls.changed.connect(self._on_controls_changed)
        self.controls.pace_changed.connect(self._on_pace_changed)
        self.controls.message.connect(lambda text: self.show_banner(html.escape(text)))
        self.network_view.neuron_selected.connect(lambda l, i: self.select(("neuron", l, i)))
        self.network_view.edge_selected.connect(lambda k, i, s: self.select(("edge", k, i, s)))
        self.network_view.weight_edited.connect(self.session.set_weight)
        # θ edited by hand: the run standing at a divergence is another run now.
        self.network_view.weight_edited.connect(lambda *_: self.comparisons.set_live_diverged(None))
        self.inspector.sample_changed.connect(self._on_sample_changed)

        self._guard = _ShortcutGuard(self, a)

        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._repaint)
        # Frames take at most about a quarter of the GUI thread's time (fewer on a slow machine).
        self.frame_budget = FrameBudget(FRAME_MS)
        self._frame.start()

        self._fit_first_window()
        if restore:
            self._restore_settings()
        self._apply_font_scale()
        self.controls.set_setup(self._setup)
        self.network_view.setFocus()
        self.session.start()

    # -- construction helpers -------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea | None) -> QDockWidget:
        """A dock holding ``widget``, added to ``area`` (None: the caller tabifies it)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        if area is not None:
            self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        a = self.acts
        mb = self.menuBar()
        file = mb.addMenu("&File")
        file.addAction(a.open_experiment)
        file.addAction(a.save_experiment)
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.examples_menu = file.addMenu("&Examples")
        titles = example_titles()
        for name, path in example_paths().items():
            act = self.examples_menu.addAction(titles.get(name, name))
            act.setData(name)
            act.triggered.connect(lambda _c=False, p=str(path): self.open_experiment(p))
        file.addAction(a.load_csv)
        file.addSeparator()
        self.export_menu = file.addMenu("&Export")
        self.export_menu.addAction(a.export_worked)
        self.export_menu.addAction(a.export_animation)
        self.export_menu.addAction(a.export_exercises)
        self.export_menu.addSeparator()
        for x in (
            a.export_loss_png,
            a.export_loss_svg,
            a.export_loss_csv,
            a.export_network_png,
            a.export_network_svg,
            a.export_phases,
        ):
            self.export_menu.addAction(x)
        file.addSeparator()
        file.addAction(a.quit)
        train = mb.addMenu("&Train")
        for x in (a.play_pause, a.step_phase, a.step_iteration, a.step_back, a.reset):
            train.addAction(x)
        train.addSeparator()
        train.addAction(a.gradient_check)
        train.addAction(a.quiz)
        train.addMenu(self.quiz_panel.kinds_menu)
        train.addSeparator()
        train.addAction(a.set_start)
        train.addAction(a.edit_start)
        train.addSeparator()
        train.addMenu(self.comparisons.menu)
        view = mb.addMenu("&View")
        view.addAction(a.presenter)
        view.addAction(a.text_larger)
        view.addAction(a.text_smaller)
        view.addAction(a.text_reset)
        view.addAction(a.auto_advance)
        view.addAction(a.auto_advance_interval)
        view.addAction(a.formulas_down)
        view.addAction(a.formulas_up)
        view.addAction(a.show_values)
        view.addAction(a.log_y)
        view.addAction(a.hidden_maps)
        view.addSeparator()
        for dock in (
            self.controls_dock,
            self.loss_dock,
            self.gradient_dock,
            self.output_dock,
            self.inspector_dock,
            self.gradcheck_dock,
        ):
            view.addAction(dock.toggleViewAction())
        help_ = mb.addMenu("&Help")
        help_.addAction(a.shortcuts_help)
        help_.addAction(a.about)

    # -- settings -------------------------------------------------------------------

    def _fit_first_window(self) -> None:
        """At most ~90 % of the screen it opens on (under the mouse); docks in proportion."""
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(PREFERRED_SIZE)
        else:
            self.setGeometry(first_geometry(screen.availableGeometry(), PREFERRED_SIZE))
        # Dock sizes follow once the views hold the first experiment (before that, the
        # first layout pass after showing undoes them), unless a remembered layout is restored.
        self._docks_to_size = True

    #: True once the first window's docks have their proportions (tests wait for it).
    first_layout_done = False

    def _size_first_docks(self) -> None:
        """Give the first window's docks their proportions, at the size it was shown at."""
        shown = getattr(self, "_shown_size", None)
        if self.isMaximized() or self.isFullScreen():
            shown = None

        def done() -> None:
            self.first_layout_done = True

        self._settle_layout(
            shown, lambda: self._size_docks(shown.width() if shown is not None else None), done
        )

    def _settle_layout(self, size: QSize | None, apply, done=None, tries: int = 20) -> None:
        """Window ``size`` and dock sizes (``apply()`` sets them, returns [(getter, size)]).

        The layout passes after showing and after the views' first experiment may undo
        :meth:`resizeDocks` and widen the window to the docks' size hints. So: set the
        window's size, apply, let the layout run, check; a few times at most.
        """
        if size is not None and self.size() != size:
            self.resize(size)
        wanted = apply()

        def check() -> None:
            kept = (size is None or self.size() == size) and all(
                abs(have() - want) <= 8 for have, want in wanted
            )
            if kept or tries <= 1:
                if done is not None:
                    done()
            else:
                self._settle_layout(size, apply, done, tries - 1)

        QTimer.singleShot(0, self, check)  # (not after the window is gone)

    def _size_docks(self, width: int | None = None) -> list[tuple[Any, int]]:
        """Dock sizes in proportion to the window (at 1600 × 1000: the designed layout).

        Returns (a function giving the size now, the size asked for) per dock resized.
        """
        width, height = width or self.width(), self.height()
        # Wide enough for the combo boxes' whole labels (370 px) where there is room.
        controls = max(min(370, round(width * 0.3)), self.controls_dock.minimumSizeHint().width())
        middle = max(
            self.centralWidget().minimumSizeHint().width(),
            self.inspector_dock.minimumSizeHint().width(),
        )
        separators = 2 * self.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
        plots = min(420, round(width * 0.28), width - controls - middle - separators)
        plots = max(plots, self.output_dock.minimumSizeHint().width())
        self.resizeDocks(
            [self.controls_dock, self.output_dock], [controls, plots], Qt.Orientation.Horizontal
        )
        # The formulas are what a lecture is about: give them room from the start.
        formulas = min(330, round(height * 0.3))
        self.resizeDocks([self.inspector_dock], [formulas], Qt.Orientation.Vertical)
        column = height - self.menuBar().height() - self.statusBar().height()
        self.resizeDocks(
            [self.loss_dock, self.output_dock],
            [round(column * 0.55), round(column * 0.45)],
            Qt.Orientation.Vertical,
        )
        return [
            (self.controls_dock.width, controls),
            (self.output_dock.width, plots),
            (self.inspector_dock.height, formulas),
        ]

    def _restore_settings(self) -> None:
        geometry = settings.read("window/geometry")
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
            if not (self.isMaximized() or self.isFullScreen()):
                # Onto a screen that exists now (last week's projector is gone).
                screens = [s.availableGeometry() for s in QGuiApplication.screens()]
                placed = onto_screens(self.geometry(), screens)
                if placed != self.geometry():
                    self.setGeometry(placed)
        state = settings.read("window/state")
        if not state.isEmpty() and self.restoreState(state):
            self._docks_to_size = False
            # Dock sizes are pixels: for a window of another size (last week's laptop,
            # today's projector) they are given proportions again once it is shown.
            w, _, h = settings.read("window/state_size").partition("x")
            self._state_size = QSize(int(w), int(h)) if w.isdigit() and h.isdigit() else None
        pace = settings.read("pace")
        self.controls.set_pace(pace)
        self.session.set_pace(pace)
        self.acts.show_values.setChecked(settings.read("show_values"))
        self.network_view.set_show_values(settings.read("show_values"))

    def save_settings(self) -> None:
        """Remember layout, the experiment and view options."""
        presenting = self.acts.presenter.isChecked()
        if presenting:
            self.set_presenter_mode(False)
        settings.write("window/geometry", self.saveGeometry())
        settings.write("window/state", self.saveState())
        settings.write("window/state_size", f"{self.width()}x{self.height()}")
        settings.write_setup(self._setup)
        settings.write("show_values", self.acts.show_values.isChecked())

    # -- worker → views ---------------------------------------------------------------

    @Slot(object)
    def _on_rebuilt(self, info: Rebuilt) -> None:
        if self._closing:  # already queued when the window closed: nothing to show it on
            return
        self._setup = info.setup
        self._config = info.config
        self._stopped_by_divergence = False
        self.comparisons.set_live_diverged(None)  # a new run
        self._selection = None
        self._sample = 0
        self.controls.set_data(info.dataset)
        self._clear_gradcheck()  # it was about another network or other data
        self.controls.set_setup(info.setup)
        self._guard.guard_inputs()  # the architecture editor made new spin boxes
        sizes = info.config["sizes"]
        self.network_view.set_architecture(sizes, info.config["bias"])
        self.network_view.set_selection(None, None)
        self.inspector.set_config(info.config)
        self.quiz_panel.set_config(info.config)
        self.inspector.set_selection(None)
        self.output_view.set_network(info.config)
        self.output_view.set_data(info.dataset)
        self.hidden_maps.set_network(info.config)
        self.hidden_maps.set_data(info.dataset)
        self.loss_plot.clear()
        self.gradient_plot.set_layers(len(sizes))
        self.loss_plot.set_loss_formula(get_loss(info.config["loss"]).formula)
        self._rate_mark = None
        self.comparisons.set_live(info.setup)  # relabel; legends were rebuilt
        if info.comparisons:  # an experiment file with kept runs: its comparison
            self.comparisons.set_runs(info.comparisons)
        if self._starting:
            self._starting = False
        elif self._opening is not None:  # the file asked for has opened
            self._title_file, self._opening = self._opening, None
        elif (
            self._title_file is not None
            and self._title_file[0] == "csv"
            and (info.setup.dataset != "csv" or info.setup.csv_path != self._title_file[1])
        ):
            self._title_file = None  # no longer trained on that CSV file
        self._update_title()
        if self.isVisible() and (self._docks_to_size or self._restored_for_another_size()):
            self._docks_to_size = False
            QTimer.singleShot(0, self, self._size_first_docks)

    _state_size: QSize | None = None

    def _restored_for_another_size(self) -> bool:
        """True once, if the restored dock sizes were saved for a window 10 % larger or smaller."""
        saved, self._state_size = self._state_size, None
        if saved is None or saved.isEmpty():
            return False
        return (
            abs(self.width() - saved.width()) > 0.1 * saved.width()
            or abs(self.height() - saved.height()) > 0.1 * saved.height()
        )

    def _update_title(self) -> None:
        """The window title names the file the session came from."""
        if self._title_file is None:
            self.setWindowTitle(APP_TITLE)
        else:
            self.setWindowTitle(f"{Path(self._title_file[1]).name} — bpviz")

    @Slot(object)
    def _on_snapshot(self, snap: Any) -> None:
        if self._closing:  # already queued when the window closed: nothing to show it on
            return
        self._check_gradcheck_stale(snap)
        self.loss_plot.show_snapshot(snap)
        self.gradient_plot.show_snapshot(snap)
        self.comparisons.follow_iteration(snap.iteration)  # (a step back: no longer diverged)
        self._latest = snap
        self._dirty = True
        now = self._clock()
        if self._rate_mark is None or snap.iteration < self._rate_mark[1]:
            self._rate_mark = (now, snap.iteration)
        elif now - self._rate_mark[0] >= 0.5:
            self._rate = (snap.iteration - self._rate_mark[1]) / (now - self._rate_mark[0])
            self._rate_mark = (now, snap.iteration)

    #: While training plays, these panels follow the snapshots at most this often
    #: (seconds), one panel per frame; the network view (and the loss plot, on its
    #: own timer) follow every frame. Paused or stepping, every panel follows at once.
    _PANEL_PERIODS: ClassVar[dict[str, float]] = {
        "output": 0.2,
        "phase": 0.2,
        "inspector": 0.25,
        "status": 0.25,
    }
    #: Counts the frames that had something new to show (a snapshot, a selection …).
    _view_generation = 0
    #: The clock (seconds) the panels' periods and the it/s readout follow; tests give
    #: the window a fake one.
    _clock = staticmethod(time.perf_counter)

    def _repaint(self) -> None:
        self.frame_budget.begin()
        if self._update_views():
            # Runs after the paint events this frame posted: the frame's whole cost.
            QTimer.singleShot(0, self._frame_painted)

    def _update_views(self) -> bool:
        """Bring the views up to date with the latest snapshot; False if nothing changed."""
        snap = self._latest
        if snap is None:
            return False
        worked = self._dirty
        if self._dirty:
            self._dirty = False
            self._view_generation += 1
            batch = 0 if snap.x is None else snap.x.shape[0]
            if self._sample >= max(batch, 1):
                self._sample = 0
            shown = self.quiz_panel.follow(snap, self._sample)  # results hidden while asked
            self.network_view.show_snapshot(shown, self._sample)
            self._update_highlight()
            self.loss_plot.redraw()  # in this frame, not on a timer of its own
        shown = self._panels_shown()
        generation = self._view_generation
        stale = [name for name, (gen, _) in shown.items() if gen != generation]
        if not stale:
            return worked
        if not self.session_playing:
            for name in stale:
                self._show_panel(name, snap)
            # Nor wait for the plots' own redraw timers.
            self.loss_plot.flush()
            self.gradient_plot.flush()
            return True
        now = self._clock()
        periods = self._PANEL_PERIODS
        lateness = {name: now - shown[name][1] - periods[name] for name in stale}
        name = max(lateness, key=lateness.__getitem__)
        if lateness[name] >= 0:
            self._show_panel(name, snap)
            return True
        return worked

    def _frame_painted(self) -> None:
        interval = self.frame_budget.end()
        if interval != self._frame.interval():
            self._frame.setInterval(interval)

    def _panels_shown(self) -> dict[str, list]:
        """Per slow panel: [view generation it shows, the time (``_clock``) it was updated]."""
        shown = getattr(self, "_panel_shown", None)
        if shown is None:
            shown = {name: [-1, float("-inf")] for name in self._PANEL_PERIODS}
            self._panel_shown = shown
        return shown

    def _show_panel(self, name: str, snap: Any) -> None:
        """Bring one of the slower panels up to date with ``snap``."""
        if name == "output":
            self.output_view.show_snapshot(snap)
            self.hidden_maps.show_snapshot(snap)
            if not self.session_playing:
                self.output_view.flush()  # stepping: draw now, not coalesced
                self.hidden_maps.flush()
        elif name == "phase":
            self.phase_indicator.show_snapshot(snap)
        elif name == "inspector":
            self.inspector.show_snapshot(snap)
        else:
            self._update_status()
        self._panels_shown()[name] = [self._view_generation, self._clock()]

    def _update_highlight(self) -> None:
        snap = self._latest
        if snap is None or snap.phase is None or not self._config:
            self.network_view.clear_highlight()
            return
        neurons, edges, layer = highlight_for(
            snap.phase, self._selection, self._config["sizes"], self._config["bias"]
        )
        self.network_view.set_highlight(neurons, edges, layer)

    def _update_status(self) -> None:
        snap = self._latest
        if snap is None:
            return

        def f(x: float) -> str:
            return "–" if not np.isfinite(x) else f"{x:.4g}"

        # The loss plot's newest evaluation (one source: after a step back, the status bar
        # cannot keep an Err of an iteration undone that the plot has already dropped),
        # worded as its readout: the engine's Err with its N and its value per sample.
        # The iteration as the phase indicator counts it: while a walk is in an
        # iteration's phases, the one being walked (the update's snapshot already
        # counts it as completed); between iterations, the last one completed.
        ph = snap.phase
        shown = snap.iteration if ph is None or ph.is_last else snap.iteration + 1
        at = (self.loss_plot.latest_eval() or (-1,))[0]
        errs = self.loss_plot.latest_eval_text(f) or "training Err –"
        if 0 <= at != shown:
            # Evaluated once an epoch on larger sets: say for which θ these are.
            both = "both " if self.loss_plot.sample_counts()[1] > 0 else ""
            errs += f", {both}at iteration {at:,}"
        parts = [
            f"iteration {shown:,}",
            f"epoch {snap.epoch:,}",
            errs,
            f"{self._rate:,.0f} it/s" if self.session_playing else "paused",
        ]
        if snap.phase is not None:
            parts.insert(0, phase_label(snap.phase))
        self.status_label.setText(self._fit_status(parts))

    def _fit_status(self, parts: list[str]) -> str:
        """The status parts as one line that fits the status bar (a 720p window's too).

        When the whole line is too wide, first the separators narrow, then the epoch and
        the phase (which the phase indicator names) are left out; the tooltip keeps all.
        """
        full = "   ·   ".join(parts)
        self.status_label.setToolTip(full)
        fm = self.status_label.fontMetrics()
        room = self.statusBar().width() - 24
        if fm.horizontalAdvance(full) <= room:
            return full
        parts = list(parts)
        for drop in ("epoch ", "Phase "):
            text = " · ".join(parts)
            if fm.horizontalAdvance(text) <= room:
                return text
            parts = [p for p in parts if not p.startswith(drop)]
        return " · ".join(parts)

    session_playing = False
    #: The run diverged (until it plays again or another run is built): a replay plays.
    _stopped_by_divergence = False

    @Slot(bool)
    def _on_playing_changed(self, playing: bool) -> None:
        self.session_playing = playing
        if playing:
            self._stopped_by_divergence = False
            self.comparisons.set_live_diverged(None)
        self.acts.play_pause.setText("&Pause" if playing else "&Play")
        if playing:
            self._rate_mark = None
        else:
            self._rate = 0.0
        self._dirty = True

    #: Reading and building that takes less than this (ms) shows no progress: no flicker.
    PROGRESS_DELAY_MS = 300

    @Slot(object)
    def _on_progress(self, report: Progress | None) -> None:
        """A stage of reading or building an experiment began (None: that work is over)."""
        if self._closing:
            return
        if report is None:
            self._progress_delay.stop()
            self._set_busy(False)
            return
        self.progress_bar.setRange(0, report.total)
        self.progress_bar.setValue(report.step - 1)  # the stages already done
        what = "Preparing the experiment"
        if report.file:
            name = Path(report.file).name
            if len(name) > PROGRESS_NAME_CHARS:  # the stage is what matters: keep it in view
                half = PROGRESS_NAME_CHARS // 2
                name = f"{name[: half - 1]}…{name[-half:]}"
            what = f"Opening {name}"
        text = f"{what}, step {report.step} of {report.total}: {report.text}…"
        self.progress_label.setText(f"{text}   Training controls wait until it is ready.")
        whole = f"Opening {report.file}" if report.file else what
        self.progress_label.setToolTip(
            f"{whole}\nStep {report.step} of {report.total}: {report.text}…\n"
            "Play, Step, Reset, Save and the controls wait until it is ready."
        )
        if self._busy:
            return
        if self.PROGRESS_DELAY_MS <= 0:
            self._set_busy(True)
        elif not self._progress_delay.isActive():
            self._progress_delay.start(self.PROGRESS_DELAY_MS)

    def _busy_actions(self) -> tuple:
        """The actions that act on the trained network: they wait while another is built."""
        a = self.acts
        return (
            a.play_pause,
            a.step_back,
            a.step_phase,
            a.step_iteration,
            a.reset,
            a.set_start,
            a.edit_start,
            a.auto_advance,
            a.gradient_check,
            a.save_experiment,
            a.export_loss_csv,
            a.export_phases,
            a.export_worked,
        )

    def _set_busy(self, busy: bool) -> None:
        """Show the progress, and disable what cannot act until the new network is there."""
        if busy == self._busy:
            return
        self._busy = busy
        before = QApplication.focusWidget()
        self._progress_box.setVisible(busy)
        self.status_label.setVisible(not busy)  # its numbers are about the network going away
        for action in self._busy_actions():
            action.setEnabled(not busy)
        self.controls.setEnabled(not busy)
        self.network_view.setEnabled(not busy)  # no θ edits meant for the old network
        if busy:
            # Disabling moved the focus (from the network view, say, which keeps Space for
            # play/pause): it goes back afterwards unless the user put it elsewhere meanwhile.
            self._focus_back = (before, QApplication.focusWidget())
            return
        was, moved_to = getattr(self, "_focus_back", (None, None))
        self._focus_back = (None, None)
        if (
            was is not None
            and shiboken6.isValid(was)
            and was.isEnabled()
            and QApplication.focusWidget() in (moved_to, None)
        ):
            was.setFocus()

    def is_busy(self) -> bool:
        """True while the window shows the progress of reading or building an experiment."""
        return self._busy

    @Slot(str)
    def _on_diverged(self, message: str) -> None:
        self._stopped_by_divergence = True
        # The training process sent the snapshot of the θ it kept (iteration n − 1) just
        # before this message about iteration n: a run kept now says where it ended.
        if self._latest is not None:
            self.comparisons.set_live_diverged(self._latest.iteration + 1)
        self.show_banner(f"<b>Training diverged.</b> {message}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._handout is not None and self._handout[0] in message:
            Path(self._handout[0]).unlink(missing_ok=True)
            self._handout = None
        if not self._starting:
            self._opening = None  # (if a file was being opened, it did not)
        self.show_banner(f"<b>Problem:</b> {_banner_text(message)}")
        # A refused change leaves the engine as it was: so must the controls be.
        self.controls.revert()

    #: Shown in the Gradient check tab until a check has run on the θ in force.
    GRADCHECK_PROMPT = (
        "Press G (Train ▸ Gradient check) to compare backprop with finite differences."
    )

    @Slot(object)
    def _on_gradcheck(self, result: Any) -> None:
        rows = "".join(
            f"<tr><td>θ layer {k} → {k + 1}&nbsp;&nbsp;</td><td>{err:.2e}</td>"
            f"<td>&nbsp;{'✔' if err < 1e-5 else '✘'}</td></tr>"
            for k, err in enumerate(result.max_rel_error)
        )
        if result.worst < 1e-5:
            verdict = "backprop agrees with the finite differences"
        elif "relu" in (self._config.get("activation"), self._config.get("output_activation")):
            verdict = "backprop and finite differences disagree here (kinks of ReLU can do that)"
        else:
            verdict = "backprop and finite differences disagree here"
        self._gradcheck_html = (
            "<p><b>Gradient check</b>: ∂Err/∂θ by backprop vs. a central finite difference"
            " of Err</p>"
            f"<table><tr><th align=left>layer</th><th align=left>max relative error</th></tr>"
            f"{rows}</table><p>{verdict}.</p>"
        )
        # The check ran on the θ of the latest snapshot (reports arrive in order).
        snap = self._latest
        self._gradcheck_for = None if snap is None else (snap.weights, snap.biases, snap.iteration)
        self.gradcheck_label.setText(self._gradcheck_html)
        self.gradcheck_dock.show()
        self.gradcheck_dock.raise_()

    def _check_gradcheck_stale(self, snap: Any) -> None:
        """Mark a gradient check result once θ is no longer the one it was made for."""
        made_for = getattr(self, "_gradcheck_for", None)
        if made_for is None:
            return
        weights, biases, iteration = made_for
        same = snap.weights is weights or all(
            np.array_equal(a, b)
            for a, b in zip((*snap.weights, *snap.biases), (*weights, *biases), strict=True)
        )
        if not same:
            self._gradcheck_for = None
            self.gradcheck_label.setText(
                f"<p><i>This check was made for the θ of iteration {iteration:,}; θ has changed"
                " since. Press G to check again.</i></p>" + self._gradcheck_html
            )

    def _clear_gradcheck(self) -> None:
        self._gradcheck_for = None
        self.gradcheck_label.setText(self.GRADCHECK_PROMPT)

    @Slot(object)
    def _on_setup_changed(self, setup: Setup) -> None:
        self._setup = setup
        self.controls.set_setup(setup)
        self.comparisons.set_live(setup)

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        if self._handout is not None and path == self._handout[0]:
            self._finish_worked_export()
            return
        if file_kind(path) == "experiment":
            self._title_file = ("experiment", path)
            self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- files ---------------------------------------------------------------------------

    def _ask_save(self, title: str, filt: str, suffix: str, name: str) -> str | None:
        """Ask for a file to write; the dialog proposes ``name`` + ``suffix``, which is added
        when the name typed lacks it."""
        path, _ = QFileDialog.getSaveFileName(self, title, name + suffix, filt)
        if not path:
            return None
        if not path.lower().endswith(suffix) and not (
            suffix == EXPERIMENT_SUFFIX and file_kind(path) == "experiment"
        ):
            path += suffix
        return path

    def _proposed_name(self) -> str:
        """A file name (without suffix) for what the session came from, e.g. "lecture"."""
        if self._title_file is None:
            return "experiment"
        name = Path(self._title_file[1]).name
        for suffix in (EXPERIMENT_SUFFIX, ".json", CSV_SUFFIX):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)] or "experiment"
        return name

    def _remember(self, path: str) -> None:
        recent = [p for p in settings.read("recent_files") if p != path]
        settings.write("recent_files", [path, *recent][:8])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.read("recent_files")
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _c=False, p=path: self.open_experiment(p))

    def open_file(self, path: str) -> bool:
        """Open an experiment (.json) or train on data (.csv), as the File menu does.

        Returns False, saying why in the banner, for another kind of file; a
        damaged file is reported by the worker and leaves the session as it is.
        """
        kind = file_kind(path)
        if kind == "experiment":
            self.open_experiment(path)
        elif kind == "csv":
            self.load_csv(path)
        else:
            self.show_banner(
                f"<b>Not opened:</b> {html.escape(Path(path).name)} is neither an experiment "
                "(.json) nor data (.csv)."
            )
            return False
        return True

    def open_experiment(self, path: str | None = None) -> None:
        """Open an experiment file; a bad file leaves the session as it is."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Open experiment", "", "bpviz experiments (*.json)"
            )
            if not path:
                return
        self.hide_banner()
        if "examples" not in path.replace("\\", "/").split("/")[-2:-1]:
            self._remember(path)
        self._opening = ("experiment", path)
        self.session.open_experiment(path)

    def save_experiment(self, path: str | None = None) -> None:
        """Save settings, weights and the loss history as JSON."""
        path = path or self._ask_save(
            "Save experiment",
            f"bpviz experiments (*{EXPERIMENT_SUFFIX} *.json)",
            EXPERIMENT_SUFFIX,
            self._proposed_name(),
        )
        if path:
            self._remember(path)
            self.session.save_experiment(path, tuple(self.comparisons.runs()))

    def export_loss_png(
        self, path: str | None = None, width: int | None = None, height: int | None = None
    ) -> None:
        """The loss plot as a PNG of a chosen size."""
        if path is None:
            path = self._ask_save("Export loss plot as PNG", "PNG images (*.png)", ".png", "loss")
            if not path:
                return
        if width is None:
            width, ok = QInputDialog.getInt(self, "PNG size", "Width in pixels", 1600, 100, 10000)
            if not ok:
                return
        height = height or round(width * 0.6)
        self.loss_plot.flush()
        self._guard_file(lambda: export_png(self.loss_plot.plot_item, path, width, height), path)

    def export_loss_svg(self, path: str | None = None) -> None:
        """The loss plot as SVG (vector)."""
        path = path or self._ask_save(
            "Export loss plot as SVG", "SVG images (*.svg)", ".svg", "loss"
        )
        if path:
            self.loss_plot.flush()
            self._guard_file(lambda: export_svg(self.loss_plot.plot_item, path), path)

    def export_loss_csv(self, path: str | None = None) -> None:
        """Every iteration's Err, and the evaluations, as CSV."""
        path = path or self._ask_save(
            "Export loss history as CSV", "CSV files (*.csv)", ".csv", "loss"
        )
        if path:
            self.session.export_loss_csv(path)

    def export_network_png(self, path: str | None = None, scale: float = 2.0) -> None:
        """The network picture with its colour legends, at ``scale`` × screen resolution."""
        path = path or self._ask_save(
            "Export network as PNG", "PNG images (*.png)", ".png", "network"
        )
        if path:
            self._guard_file(lambda: render_widget_png(self.network_view, path, scale), path)

    def export_network_svg(self, path: str | None = None) -> None:
        """The network graph as SVG (vector; the legends are not part of it)."""
        path = path or self._ask_save(
            "Export network as SVG", "SVG images (*.svg)", ".svg", "network"
        )
        if path:
            self._guard_file(lambda: export_svg(self.network_view.canvas.scene(), path), path)

    def export_phases(self, directory: str | None = None, scale: float = 1.5) -> list[str]:
        """Walk one iteration and save one PNG per phase (phase_01.png …), for slides."""
        if directory is None:
            directory = QFileDialog.getExistingDirectory(self, "Folder for the phase PNGs")
            if not directory:
                return []
        self.session.pause()
        current = self._latest
        if current is not None and current.phase is not None and not current.phase.is_last:
            # Finish the half-walked iteration first, so the series starts at phase 1.
            self.session.step()
            if self._wait_for(lambda s: s.iteration == current.iteration + 1) is None:
                self.show_banner("<b>Problem:</b> the worker did not answer in time.")
                return []
        target = self.centralWidget()
        paths: list[str] = []
        i, count = 0, 1
        while i < count:
            self.session.step_phase()
            snap = self._wait_for(lambda s, i=i: s.phase is not None and s.phase.index == i)
            if snap is None:
                self.show_banner("<b>Problem:</b> the worker did not answer in time.")
                return paths
            count = snap.phase.count
            self._repaint()
            path = str(phase_png_path(directory, i, count))
            render_widget_png(target, path, scale)
            paths.append(path)
            i += 1
        self.statusBar().showMessage(f"Saved {len(paths)} PNGs in {directory}", 5000)
        return paths

    def export_worked(self, path: str | None = None) -> None:
        """File ▸ Export ▸ Worked iteration…: the next iteration as a handout.

        The worker saves a copy of the experiment (θ, data order, counters);
        the handout is made from that copy here, so training is not disturbed:
        it is the iteration the next step will compute. The format follows the
        suffix (.pdf, .md, .tex, .html).
        """
        from ..worked.handout import check_suffix

        if path is None:
            path, chosen = QFileDialog.getSaveFileName(
                self,
                "Export worked iteration",
                "",
                "PDF (*.pdf);;Markdown (*.md);;LaTeX (*.tex);;HTML (*.html)",
            )
            if not path:
                return
            if not Path(path).suffix:
                path += "." + chosen.split("*.")[-1].rstrip(")") if "*." in chosen else ".pdf"
        try:
            check_suffix(path)
        except ValueError as exc:
            self.show_banner(f"<b>Could not export:</b> {exc}")
            return
        self.session.pause()
        fd, tmp = tempfile.mkstemp(prefix="bpviz-handout-", suffix=".json")
        os.close(fd)
        self._handout = (tmp, path)
        self.session.save_experiment(tmp)

    def _finish_worked_export(self) -> None:
        from ..engine.experiment_io import load_experiment, restore_trainer
        from ..worked import handout

        assert self._handout is not None
        tmp, path = self._handout
        self._handout = None

        def write() -> None:
            try:
                experiment = load_experiment(tmp)
                trainer, _ = restore_trainer(experiment)
                title = experiment.title or "the experiment in bpviz"
                handout.write(handout.make(trainer, title=title), path)
            finally:
                Path(tmp).unlink(missing_ok=True)

        self._guard_file(write, path)

    def _wait_for(self, pred, timeout_s: float = 10.0):
        """Process events until a new snapshot satisfying ``pred`` arrives (or time runs out)."""
        start = time.perf_counter()
        before = self._latest
        while time.perf_counter() - start < timeout_s:
            QApplication.processEvents()
            snap = self._latest
            if snap is not None and snap is not before and pred(snap):
                return snap
            time.sleep(0.002)
        return None

    def _guard_file(self, fn, path: str) -> None:
        try:
            fn()
        except Exception as exc:
            self.show_banner(f"<b>Could not write {path}:</b> {exc}")
            return
        self.statusBar().showMessage(f"Saved {path}", 5000)

    # -- user → worker ------------------------------------------------------------------

    def _on_controls_changed(self, change: dict) -> None:
        self._guard.guard_inputs()  # "+ layer" made a spin box
        self.hide_banner()
        self.session.configure(**change)

    def _on_pace_changed(self, pace: float) -> None:
        settings.write("pace", pace)
        self.session.set_pace(pace)

    def _on_sample_changed(self, sample: int) -> None:
        self._sample = int(sample)
        self._dirty = True

    def _reset(self) -> None:
        self.hide_banner()
        self.comparisons.set_live_diverged(None)
        self.loss_plot.clear()
        self.gradient_plot.clear()
        self.session.reset()

    def set_hidden_maps(self, on: bool) -> None:
        """Show or hide the per-neuron maps of every hidden layer (View menu, H)."""
        if self.acts.hidden_maps.isChecked() != on:
            self.acts.hidden_maps.setChecked(on)
            return
        if on == self.hidden_dock.isVisible():
            return
        self.hidden_dock.setVisible(on)
        if on:
            # Beside the formulas, with room for a row of maps per hidden layer.
            w = self.inspector_dock.width() + self.hidden_dock.width()
            self.resizeDocks(
                [self.inspector_dock, self.hidden_dock],
                [w - w * 2 // 5, w * 2 // 5],
                Qt.Orientation.Horizontal,
            )
            if self._latest is not None:
                self.hidden_maps.show_snapshot(self._latest)
                self.hidden_maps.flush()

    def set_start(self) -> None:
        """Make the θ in force the start θ (iteration 0; Reset returns here)."""
        self.hide_banner()
        self.loss_plot.clear()
        self.gradient_plot.clear()
        self.session.set_start()
        self.statusBar().showMessage("These θ are now the start: Reset returns here", 5000)

    def edit_start_weights(self) -> StartWeightsDialog | None:
        """Open the table for typing start θ layer by layer (applied on OK)."""
        snap = self._latest
        if snap is None or not self._config:
            return None
        self.session.pause()
        dialog = StartWeightsDialog(snap.weights, snap.biases, self._config["bias"], self)
        dialog.setModal(True)

        def apply() -> None:
            for k, i, src, value in dialog.changes():
                self.session.set_weight(k, i, src, value)
            self.set_start()

        dialog.accepted.connect(apply)
        dialog.open()
        self._start_dialog = dialog
        return dialog

    def select(self, selection: tuple | None) -> None:
        """Explain a neuron ("neuron", l, i) or an edge ("edge", k, i, src) in the panel."""
        self._selection = selection
        if selection is None:
            self.network_view.set_selection(None, None)
        elif selection[0] == "neuron":
            self.network_view.set_selection((selection[1], selection[2]), None)
        else:
            self.network_view.set_selection(None, tuple(selection[1:]))
        self.inspector.set_selection(selection)
        self._dirty = True

    def load_setup(self, setup: Setup) -> None:
        """Switch to another experiment (a preset or a file)."""
        self.hide_banner()
        self.session.load_setup(setup)

    def replay_with(self, changes: dict[str, Any]) -> None:
        """Train again from the same start θ and data with ``changes`` (one setting).

        Same seeds; the start θ is kept unless the initialiser or the
        architecture changes, so the comparison with the kept run is fair.
        A run that was playing goes on playing from its new start, so the
        comparison draws itself beside the ghost; so does a run that diverged
        (it cannot be walked on, and the exploding example's remedy is meant to
        be seen training).
        """
        net = {"hidden", "bias", "init", "seed", "dataset", "csv_path", "output_activation"}
        keep = {} if net & changes.keys() else {"params": self._setup.params}
        was_playing = self.session_playing or self._stopped_by_divergence
        self.set_auto_advance(False)
        self.load_setup(self._setup.with_(**changes, **keep))
        if was_playing:
            self.session.play()

    def load_csv(self, path: str | None = None) -> None:
        """Train on a CSV file (None: ask for one)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Load CSV data", "", "CSV files (*.csv)")
        if path:
            self.hide_banner()
            self._opening = ("csv", path)
            self.session.configure(dataset="csv", csv_path=path)

    # -- drag and drop -----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Files may be dropped (the drop says which ones are opened)."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:
        """Over any part of the window (children that take no drops pass them here)."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """One dropped .json or .csv file opens as from the File menu; anything else is refused."""
        urls = event.mimeData().urls()
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if len(urls) != 1 or len(paths) != 1:
            self.show_banner(
                "<b>Not opened:</b> drop one experiment (.json) or one data file (.csv)."
            )
            event.ignore()
            return
        if self.open_file(paths[0]):
            event.acceptProposedAction()
        else:
            event.ignore()

    # -- presenter mode ---------------------------------------------------------------

    def set_presenter_mode(self, on: bool) -> None:
        """Full screen with large fonts: only the graph, the formulas and the phase."""
        if self.acts.presenter.isChecked() != on:
            self.acts.presenter.setChecked(on)
            return
        if on:
            self._pre_presenter_state = self.saveState()
            self._pre_presenter_full = self.isFullScreen()
            for dock in (
                self.controls_dock,
                self.loss_dock,
                self.output_dock,
                self.gradient_dock,
                self.gradcheck_dock,
                self.hidden_dock,
            ):
                dock.hide()
            self.inspector_dock.show()
            # No title bar: the panel's own header says what it shows.
            self.inspector_dock.setTitleBarWidget(QWidget())
            self.showFullScreen()
            # The graph on top, the formulas below: a fair share of the screen each,
            # then as much as this phase's formulas need (_fit_formulas).
            screen = self.screen().availableGeometry() if self.screen() else self.geometry()
            self.resizeDocks(
                [self.inspector_dock], [int(screen.height() * 0.36)], Qt.Orientation.Vertical
            )
            self._presenting_comparison = False
            self._present_comparison()
            QTimer.singleShot(0, self, self._fit_formulas)  # once full screen is laid out
        else:
            self.inspector_dock.setTitleBarWidget(None)
            self.loss_plot.readout.show()
            state = getattr(self, "_pre_presenter_state", None)
            if state is not None:
                self.restoreState(state)
            if not getattr(self, "_pre_presenter_full", False):
                self.showNormal()
        self._apply_font_scale()
        self.network_view.set_high_contrast(on)
        self.inspector.set_high_contrast(on)
        self.quiz_panel.set_high_contrast(on)
        self.network_view.setFocus()

    #: Presenter mode: the graph (with its colour bars) keeps at least this share of the
    #: window's height when the formulas grow.
    GRAPH_MIN_SHARE = 1 / 3

    @Slot()
    def _fit_formulas(self) -> None:
        """Presenter mode: make the formulas dock as tall as its formulas need.

        It grows into the graph's height down to :attr:`GRAPH_MIN_SHARE` of the
        window, and only grows while presenting, so the graph does not jump at
        every phase (a walk settles after its longest phase, the gradients or
        the update). Longer formulas scroll, with the Up and Down keys too.
        """
        if not self.acts.presenter.isChecked() or not self.inspector_dock.isVisible():
            return
        dock = self.inspector_dock
        panel = self.formula_stack.currentWidget()
        need = panel.wanted_height() + dock.height() - self.formula_stack.height()
        spare = self.network_view.height() - round(self.height() * self.GRAPH_MIN_SHARE)
        want = min(need, dock.height() + max(0, spare))
        if want > dock.height():
            self.resizeDocks([dock], [want], Qt.Orientation.Vertical)

    def _present_comparison(self) -> None:
        """In presenter mode, kept runs bring the Err and ‖δ‖ plots, one above the other.

        Presenter mode shows only the graph and the formulas; a comparison is
        told by the plots, so while runs are kept (K, C …) they stand beside the
        graph, and go again when the comparisons are cleared. Leaving presenter
        mode restores the window's own layout.
        """
        if not self.acts.presenter.isChecked():
            return
        want = bool(self.comparisons.runs())
        if want == getattr(self, "_presenting_comparison", False):
            return
        self._presenting_comparison = want
        # The latest-values readout would take half the loss plot's height on a projector.
        self.loss_plot.readout.setVisible(not want)
        if not want:
            self.loss_dock.hide()
            self.gradient_dock.hide()
            return
        # Out of their tab group (a split of a tabbed dock only adds a tab); leaving
        # presenter mode restores the group with the rest of the layout.
        for dock in (self.gradient_dock, self.gradcheck_dock):
            self.removeDockWidget(dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.loss_dock)
        self.splitDockWidget(self.loss_dock, self.gradient_dock, Qt.Orientation.Vertical)
        self.loss_dock.show()
        self.gradient_dock.show()
        # ‖δ‖ per layer tells section 9's story: it gets the larger share.
        screen = self.screen().availableGeometry() if self.screen() else self.geometry()
        self.resizeDocks([self.loss_dock], [int(screen.width() * 0.4)], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.loss_dock, self.gradient_dock],
            [int(screen.height() * 0.42), int(screen.height() * 0.58)],
            Qt.Orientation.Vertical,
        )

    # -- quiz mode --------------------------------------------------------------------

    def set_quiz_mode(self, on: bool) -> None:
        """Train ▸ Quiz (Q): the formula panel asks for each result instead of showing it."""
        if self.acts.quiz.isChecked() != on:
            self.acts.quiz.setChecked(on)
            return
        if on:
            self.session.pause()
            self.set_auto_advance(False)
            self.inspector_dock.show()
            self.inspector_dock.raise_()
        self.formula_stack.setCurrentWidget(self.quiz_panel if on else self.inspector)
        self.quiz_panel.set_active(on)
        self._fit_quiz()
        if not on:
            self.network_view.setFocus()

    def _fit_quiz(self) -> None:
        """In quiz mode, give the formula panel room for a question and its numbers."""
        if not self.acts.quiz.isChecked():
            return
        height = max(self.inspector_dock.height(), int(self.height() * 0.42))
        self.resizeDocks([self.inspector_dock], [height], Qt.Orientation.Vertical)

    def _on_quiz_changed(self) -> None:
        self._dirty = True
        if self.quiz_panel.session is not None and self.quiz_panel.session.done:
            self.network_view.setFocus()  # the stepping keys belong to the walk again

    def export_exercises(
        self, directory: str | None = None, count: int | None = None, seed: int | None = None
    ) -> None:
        """File ▸ Export ▸ Exercise sheets…: PDF sheets of this architecture, with keys."""
        from ..worked.sheets import write_sheets

        if directory is None:
            directory = QFileDialog.getExistingDirectory(self, "Folder for the exercise sheets")
            if not directory:
                return
        if count is None:
            count, ok = QInputDialog.getInt(self, "Exercise sheets", "How many sheets", 30, 1, 500)
            if not ok:
                return
        if seed is None:
            seed, ok = QInputDialog.getInt(
                self, "Exercise sheets", "Seed (the same seed gives the same sheets)", 0, 0, 10**9
            )
            if not ok:
                return
        sizes = tuple(self._config["sizes"])
        busy = QProgressDialog("Writing exercise sheets and keys…", "", 0, count, self)
        busy.setCancelButton(None)
        busy.setWindowModality(Qt.WindowModality.WindowModal)
        busy.setMinimumDuration(300)

        def progress(done: int, _total: int) -> None:
            busy.setValue(done)
            QApplication.processEvents()

        try:
            self._guard_file(
                lambda: write_sheets(
                    self._setup, directory, count, seed=seed, sizes=sizes, progress=progress
                ),
                directory,
            )
        finally:
            busy.close()

    # -- text size --------------------------------------------------------------------

    def font_scale(self) -> float:
        """The views' text scale now.

        Presenter mode: the stored scale (for a 1080-pixel-high screen) times
        the screen's height / 1080, so the text takes the same share of a 720p
        projector as of a 1080p one. Otherwise the stored normal-view scale.
        Both within :data:`MIN_TEXT_SCALE` … :data:`MAX_TEXT_SCALE`.
        """
        if not self.acts.presenter.isChecked():
            return self._stored_text_scale("font_scale")
        return _clamp_text_scale(self._stored_text_scale("presenter_scale") * self._screen_factor())

    def _screen_factor(self) -> float:
        """The screen's height / 1080 (presenter mode's scale is for 1080 pixels)."""
        screen = self.screen()
        height = screen.geometry().height() if screen is not None else 1080
        return min(max(height / 1080.0, 0.5), 2.0)

    @staticmethod
    def _stored_text_scale(key: str) -> float:
        """A stored text scale, within bounds (a damaged setting gives the default)."""
        value = float(settings.read(key))
        return _clamp_text_scale(value) if math.isfinite(value) else settings.DEFAULTS[key]

    def change_text_size(self, factor: float | None) -> None:
        """Scale the current mode's text by ``factor`` (None: back to the default); remembered."""
        presenting = self.acts.presenter.isChecked()
        key = "presenter_scale" if presenting else "font_scale"
        if factor is None:
            value = settings.DEFAULTS[key]
        else:
            # Bounded as shown: presenter mode's stored scale is divided by the screen factor.
            shown = _clamp_text_scale(self.font_scale() * factor)
            value = round(shown / self._screen_factor() if presenting else shown, 4)
        settings.write(key, value)
        self._apply_font_scale()
        self.statusBar().showMessage(f"Text size {self.font_scale():.0%}", 3000)

    def _apply_font_scale(self) -> None:
        scale = self.font_scale()
        for view in self._scaled_views():
            view.set_font_scale(scale)
        self.comparisons.set_font_scale(scale)  # its "diverged at" labels in the plots
        self.gradcheck_label.setFont(scaled_font(scale))

    def _scaled_views(self) -> tuple[QWidget, ...]:
        """The views whose text follows the window's text size."""
        return (
            self.network_view,
            self.inspector,
            self.quiz_panel,
            self.phase_indicator,
            self.loss_plot,
            self.output_view,
            self.gradient_plot,
            self.hidden_maps,
        )

    def resizeEvent(self, event) -> None:
        """The status line is fitted to the window's width again."""
        super().resizeEvent(event)
        if getattr(self, "_latest", None) is not None:
            self._update_status()

    def showEvent(self, event: QShowEvent) -> None:
        """Once shown: presenter text follows the window to another screen."""
        super().showEvent(event)
        if not hasattr(self, "_shown_size"):
            self._shown_size = self.size()
        handle = self.windowHandle()
        if handle is not None and not getattr(self, "_screen_hooked", False):
            self._screen_hooked = True
            handle.screenChanged.connect(lambda _screen: self._apply_font_scale())

    def set_auto_advance(self, on: bool) -> None:
        """Step one phase every ``auto_advance_seconds`` (pauses training first)."""
        if self.acts.auto_advance.isChecked() != on:
            self.acts.auto_advance.setChecked(on)
            return
        if on:
            self.session.pause()
            self._advance.start(int(settings.read("auto_advance_seconds") * 1000))
        else:
            self._advance.stop()

    def _ask_auto_advance_interval(self) -> None:
        seconds, ok = QInputDialog.getDouble(
            self,
            "Auto-advance",
            "Seconds per phase",
            settings.read("auto_advance_seconds"),
            0.5,
            60.0,
            1,
        )
        if ok:
            settings.write("auto_advance_seconds", float(seconds))
            if self._advance.isActive():
                self._advance.start(int(seconds * 1000))

    # -- messages -----------------------------------------------------------------------

    def show_banner(self, html: str) -> None:
        """Show a message above the graph until dismissed (never modal)."""
        self.banner.setText(html)
        self._banner_row.show()

    def hide_banner(self) -> None:
        """Hide the message banner."""
        self._banner_row.hide()

    def show_shortcuts(self) -> None:
        """List every keyboard shortcut."""
        rows = "".join(
            f"<tr><td><b>{' or '.join(s.toString() for s in a.shortcuts())}</b>&nbsp;&nbsp;</td>"
            f"<td>{a.text().replace('&', '')}</td></tr>"
            for a in (*self.acts.all(), *self.comparisons.window_actions())
            if a.shortcuts()
        )
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table>{rows}</table>")
        box.setModal(False)
        box.show()
        self._shortcuts_box = box

    def show_about(self) -> None:
        """The About box."""
        QMessageBox.about(
            self,
            "About bpviz",
            f"<h3>bpviz {__version__}</h3><p>Backpropagation, made visible: step through one "
            "iteration phase by phase, with the lecture's formulas filled in with live "
            "numbers.</p>",
        )

    # -- shutdown ---------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save settings, stop the worker thread, then close."""
        if not self._closing:
            self._closing = True
            self._frame.stop()
            self._advance.stop()
            QApplication.instance().removeEventFilter(self._guard)
            self.save_settings()
            self.session.shutdown()
        event.accept()
