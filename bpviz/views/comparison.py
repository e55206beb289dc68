"""Kept runs drawn as faint, labelled ghosts in the Loss and Gradients plots.

:class:`Comparisons` owns the kept runs (:class:`bpviz.engine.compare.KeptRun`)
and one ghost item per run in each plot. The data come from what the plots
already hold (no request to the training process). Labels follow the live
setup: keep a sigmoid run, switch to ReLU, and the ghost reads "σ = sigmoid".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu

from ..actions import act
from ..engine.compare import MAX_KEPT, KeptRun, replay_options
from ..engine.experiment import Setup

__all__ = ["GHOST_COLORS", "Comparisons"]

#: Okabe–Ito colours not used by the live curves (blue training, vermillion test Err):
#: orange, reddish purple, bluish green, sky blue; safe for colour-blind viewers.
GHOST_COLORS = ("#E69F00", "#CC79A7", "#009E73", "#56B4E9")
#: Ghosts are faint: drawn with this opacity (0–255), dashed.
GHOST_ALPHA = 200


def _pen(color: str) -> Any:
    c = QColor(color)
    c.setAlpha(GHOST_ALPHA)
    return pg.mkPen(c, width=2.5, style=Qt.PenStyle.DashLine)


class _Ghost:
    """One kept run: its record, colour and its items in the two plots."""

    def __init__(self, run: KeptRun, color: str, loss_item: Any, delta_item: Any) -> None:
        self.run, self.color = run, color
        self.loss_item, self.delta_item = loss_item, delta_item
        self.visible = True


class Comparisons(QObject):
    """Up to :data:`MAX_KEPT` kept runs in ``loss_plot`` and ``gradient_plot``.

    Signals
    -------
    message(str)
        One sentence for the window's banner (e.g. nothing to keep yet).
    changed()
        A run was kept, hidden, shown or cleared, or the labels changed.
    """

    message = Signal(str)
    changed = Signal()

    def __init__(self, loss_plot: Any, gradient_plot: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loss_plot, self._gradient_plot = loss_plot, gradient_plot
        self._ghosts: list[_Ghost] = []
        self._live = Setup()
        self.keep_action = act(
            self,
            "&Keep this run for comparison",
            ("K",),
            "Freeze this run's Err and ‖δ‖ curves as a faint ghost, labelled by what differs",
        )
        self.clear_action = act(self, "C&lear comparisons", (), "Remove every kept run")
        self.keep_action.triggered.connect(self.keep)
        self.clear_action.triggered.connect(self.clear)
        self.menu = QMenu("&Compare runs")
        self.menu.aboutToShow.connect(self._fill_menu)
        self.replay_menu = QMenu("&Replay with…")
        #: Called with (changes) by a replay entry; the window sets it.
        self.replay = None
        self._fill_menu()

    # -- state -------------------------------------------------------------------------

    def set_live(self, setup: Setup) -> None:
        """The live run's setup: the ghosts' labels say what differs from it."""
        self._live = setup
        for g in self._ghosts:
            self._set_name(g)
        self._fill_menu()
        self.changed.emit()

    def runs(self) -> list[KeptRun]:
        """The kept runs, oldest first."""
        return [g.run for g in self._ghosts]

    def labels(self) -> list[str]:
        """Each kept run's label against the live setup."""
        return [g.run.label(self._live) for g in self._ghosts]

    def loss_items(self) -> list[Any]:
        """The ghost items in the loss plot."""
        return [g.loss_item for g in self._ghosts]

    def delta_items(self) -> list[Any]:
        """The ghost items in the gradient plot."""
        return [g.delta_item for g in self._ghosts]

    # -- keeping ---------------------------------------------------------------------

    def capture(self) -> KeptRun | None:
        """The live run as the plots hold it now (None when nothing has been drawn)."""
        self._gradient_plot.flush()
        ex, train, _test = self._loss_plot.eval_data()
        if ex.size >= 2:
            lx, ly, kind = ex, train, "training Err"
        else:
            lx, ly = self._loss_plot.data()
            kind = "batch Err"
        dx, delta = self._gradient_plot.data()
        if lx.size == 0 and dx.size == 0:
            return None
        return KeptRun(self._live, lx, ly, dx, delta, kind)

    def keep(self) -> KeptRun | None:
        """Keep the live run as a ghost (the oldest goes when :data:`MAX_KEPT` are kept)."""
        run = self.capture()
        if run is None:
            self.message.emit("Nothing to keep yet: train a few iterations first.")
            return None
        self.add(run)
        return run

    def add(self, run: KeptRun) -> None:
        """Draw ``run`` as a ghost in both plots."""
        if len(self._ghosts) >= MAX_KEPT:
            self._remove(self._ghosts[0])
        used = {g.color for g in self._ghosts}
        color = next(c for c in GHOST_COLORS if c not in used)
        pen = _pen(color)
        lp = self._loss_plot.plot_item
        loss_item = pg.PlotDataItem(run.loss_x, run.loss_y, pen=pen, connect="finite")
        loss_item.setZValue(-2)  # under the live curves
        lp.addItem(loss_item)
        gp = self._gradient_plot.plot.getPlotItem()
        x, y = run.delta_polyline()
        with np.errstate(invalid="ignore"):
            y = np.where(y > 0, y, np.nan)
        delta_item = pg.PlotDataItem(x, y, pen=pen, connect="finite")
        delta_item.setZValue(-2)
        gp.addItem(delta_item)
        # The layers run one after the other (x restarts at each): clipping to the view
        # and peak downsampling assume x ascending, so they stay off for this item.
        delta_item.setClipToView(False)
        delta_item.setDownsampling(ds=1, auto=False)
        ghost = _Ghost(run, color, loss_item, delta_item)
        self._ghosts.append(ghost)
        self._set_name(ghost)
        self._fill_menu()
        self.changed.emit()

    def _legends(self) -> tuple[Any, Any]:
        return self._loss_plot.plot_item.legend, self._gradient_plot.plot.getPlotItem().legend

    def _set_name(self, g: _Ghost) -> None:
        """(Re)enter the ghost in both legends under its current label."""
        name = f"kept: {g.run.label(self._live)}"
        for legend, item in zip(self._legends(), (g.loss_item, g.delta_item), strict=True):
            item.opts["name"] = name
            if legend is not None:
                legend.removeItem(item)
                if g.visible:
                    legend.addItem(item, name)

    def set_visible(self, index: int, on: bool) -> None:
        """Show or hide kept run ``index`` (its legend entry too)."""
        g = self._ghosts[index]
        g.visible = bool(on)
        g.loss_item.setVisible(g.visible)
        g.delta_item.setVisible(g.visible)
        self._set_name(g)
        self.changed.emit()

    def is_visible(self, index: int) -> bool:
        """True when kept run ``index`` is drawn."""
        return self._ghosts[index].visible

    def _remove(self, g: _Ghost) -> None:
        for legend, item in zip(self._legends(), (g.loss_item, g.delta_item), strict=True):
            if legend is not None:
                legend.removeItem(item)
        self._loss_plot.plot_item.removeItem(g.loss_item)
        self._gradient_plot.plot.getPlotItem().removeItem(g.delta_item)
        self._ghosts.remove(g)

    def clear(self) -> None:
        """Remove every kept run."""
        for g in list(self._ghosts):
            self._remove(g)
        self._fill_menu()
        self.changed.emit()

    # -- menu ------------------------------------------------------------------------

    def _replay_entries(self) -> list[tuple[Any, dict[str, Any]]]:
        """The Replay with… menu's actions with the change each makes."""
        return list(self._entries)

    def _fill_menu(self) -> None:
        self.replay_menu.clear()
        self._entries = []
        for text, changes in replay_options(self._live):
            a = self.replay_menu.addAction(text)
            a.setToolTip("Keep this run, then train again from the same start θ and data")
            a.triggered.connect(lambda _c=False, ch=changes: self._replay(ch))
            self._entries.append((a, changes))
        self.menu.clear()
        self.menu.addAction(self.keep_action)
        self.menu.addMenu(self.replay_menu)
        self.menu.addSeparator()
        for i, g in enumerate(self._ghosts):
            a = self.menu.addAction(f"Show kept: {g.run.label(self._live)}")
            a.setCheckable(True)
            a.setChecked(g.visible)
            a.toggled.connect(lambda on, i=i: self.set_visible(i, on))
        self.menu.addAction(self.clear_action)
        self.clear_action.setEnabled(bool(self._ghosts))

    def _replay(self, changes: dict[str, Any]) -> None:
        if self.keep() is not None and self.replay is not None:
            self.replay(changes)
