"""Every QAction of the window, with its text, shortcuts and tooltip.

One helper, :func:`act`, builds them all (as ReText does), so a shortcut is
named in exactly one place and every tooltip shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

__all__ = ["Actions", "act"]


def act(
    parent: QObject,
    text: str,
    shortcuts: tuple[str | QKeySequence.StandardKey, ...] = (),
    tip: str = "",
    checkable: bool = False,
) -> QAction:
    """A QAction whose tooltip names its shortcuts (window-wide)."""
    action = QAction(text, parent)
    keys = [QKeySequence(s) for s in shortcuts]
    if keys:
        action.setShortcuts(keys)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    names = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
    plain = text.replace("&", "")
    action.setToolTip(f"{tip or plain} ({names})" if names else (tip or plain))
    action.setStatusTip(tip or plain)
    action.setCheckable(checkable)
    return action


@dataclass(frozen=True, slots=True)
class Actions:
    """The window's actions; build with :meth:`create`."""

    play_pause: QAction
    step_phase: QAction
    step_iteration: QAction
    step_back: QAction
    reset: QAction
    set_start: QAction
    edit_start: QAction
    hidden_maps: QAction
    presenter: QAction
    text_larger: QAction
    text_smaller: QAction
    text_reset: QAction
    auto_advance: QAction
    formulas_down: QAction
    formulas_up: QAction
    auto_advance_interval: QAction
    show_values: QAction
    log_y: QAction
    gradient_check: QAction
    quiz: QAction
    load_csv: QAction
    export_loss_png: QAction
    export_loss_svg: QAction
    export_loss_csv: QAction
    export_network_png: QAction
    export_network_svg: QAction
    export_phases: QAction
    export_worked: QAction
    export_animation: QAction
    export_exercises: QAction
    open_experiment: QAction
    save_experiment: QAction
    quit: QAction
    shortcuts_help: QAction
    about: QAction

    @classmethod
    def create(cls, parent: QObject) -> Actions:
        """Build every action as a child of ``parent``."""
        return cls(
            play_pause=act(parent, "&Play / Pause", ("Space",), "Train continuously, or pause"),
            step_phase=act(
                parent,
                "Step &phase",
                ("Right", "PgDown"),
                "Compute the next phase of this iteration (a presentation clicker's "
                "Page Down works too)",
            ),
            step_iteration=act(
                parent, "Step &iteration", ("Shift+Right",), "Run one whole iteration"
            ),
            step_back=act(
                parent,
                "Step &back",
                ("Left", "PgUp"),
                "Undo the last phase or iteration (Page Up on a clicker)",
            ),
            reset=act(parent, "&Reset", ("R", "Ctrl+R"), "Back to the start weights"),
            set_start=act(
                parent,
                "Set these θ as the &start",
                (),
                "Make the weights shown the start weights: iteration 0, Reset returns here "
                "and a saved experiment keeps them",
            ),
            edit_start=act(
                parent,
                "Type start &weights…",
                (),
                "Type the start θ of a whole layer in a table (an exam-style example)",
            ),
            hidden_maps=act(
                parent,
                "&Hidden neuron maps",
                ("H",),
                "Show what each hidden neuron outputs over the input plane, layer by layer",
                checkable=True,
            ),
            presenter=act(
                parent,
                "P&resenter mode",
                ("F5", "F11"),
                "Full screen, large fonts: the graph, the formulas and the phase",
                checkable=True,
            ),
            text_larger=act(
                parent,
                "&Larger text",
                (QKeySequence.StandardKey.ZoomIn, "Ctrl+="),
                "Larger text for the room (presenter mode and normal view remember their own)",
            ),
            text_smaller=act(
                parent, "S&maller text", (QKeySequence.StandardKey.ZoomOut,), "Smaller text"
            ),
            text_reset=act(parent, "&Normal text size", ("Ctrl+0",), "Back to the default size"),
            auto_advance=act(
                parent,
                "&Auto-advance phases",
                ("A",),
                "Step one phase every few seconds (set the interval in the View menu)",
                checkable=True,
            ),
            formulas_down=act(
                parent,
                "Scroll formulas &down",
                ("Down",),
                "Show the formulas further down (a focused box keeps its own Up and Down)",
            ),
            formulas_up=act(parent, "Scroll formulas &up", ("Up",), "Show the formulas above"),
            auto_advance_interval=act(parent, "Auto-advance &interval…"),
            show_values=act(
                parent, "Show &values", ("V",), "Show u, o and δ beside each neuron", True
            ),
            log_y=act(parent, "&Log scale for Err", ("L",), "Logarithmic y axis", True),
            gradient_check=act(
                parent,
                "&Gradient check",
                ("G",),
                "Compare backprop with finite differences on the current weights",
            ),
            quiz=act(
                parent,
                "&Quiz",
                ("Q",),
                "Practise: the formula panel hides each result of the walk and asks you for it",
                checkable=True,
            ),
            load_csv=act(parent, "Load &CSV data…", ("Ctrl+L",), "Train on a CSV file"),
            export_loss_png=act(parent, "Export loss plot as &PNG…", ("Ctrl+E",)),
            export_loss_svg=act(parent, "Export loss plot as &SVG…"),
            export_loss_csv=act(parent, "Export loss history as &CSV…"),
            export_network_png=act(parent, "Export network as P&NG…"),
            export_network_svg=act(parent, "Export network as S&VG…"),
            export_phases=act(
                parent, "Export lecture &walk as PNGs…", (), "One PNG per phase, for slides"
            ),
            export_worked=act(
                parent,
                "&Worked iteration…",
                (),
                "The next iteration worked out by hand, every equation with its numbers "
                "(PDF, Markdown, LaTeX or HTML)",
            ),
            export_animation=act(
                parent,
                "&Animation…",
                (),
                "Training, or one iteration's walk, as an MP4, GIF or APNG for slides",
            ),
            export_exercises=act(
                parent,
                "E&xercise sheets…",
                (),
                "Individual exercise sheets for a class, each with its answer key",
            ),
            open_experiment=act(parent, "&Open experiment…", ("Ctrl+O",)),
            save_experiment=act(parent, "&Save experiment…", ("Ctrl+S",)),
            quit=act(parent, "&Quit", ("Ctrl+Q",), "Quit bpviz"),
            shortcuts_help=act(parent, "&Keyboard shortcuts", ("F1",)),
            about=act(parent, "&About bpviz"),
        )

    def all(self) -> list[QAction]:
        """Every action, in declaration order."""
        return [getattr(self, f.name) for f in fields(self)]

    def yielding(self) -> list[QAction]:
        """Actions whose keys a focused spin box, combo box or line edit keeps (Up, Down)."""
        return [self.formulas_down, self.formulas_up]

    def keyboard(self) -> list[QAction]:
        """Actions whose shortcuts must work even when a spin box has focus."""
        return [
            self.play_pause,
            self.step_phase,
            self.step_iteration,
            self.step_back,
            self.reset,
            self.presenter,
            self.auto_advance,
            self.quiz,
        ]
