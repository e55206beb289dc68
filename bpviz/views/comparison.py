"""Kept runs drawn as faint, labelled ghosts in the Loss and Gradients plots.

:class:`Comparisons` owns the kept runs (:class:`bpviz.engine.compare.KeptRun`)
and one ghost item per run in each plot. The data come from what the plots
already hold (no request to the training process). Labels follow the live
setup: keep a sigmoid run, switch to ReLU, and the ghost reads "σ = sigmoid".
A ghost's Err is drawn per sample, Err/N, as the live curves are (see
:mod:`bpviz.engine.per_sample`): a kept run on 200 samples and a live one on
100 share the axis honestly.

A kept run that ended by divergence (the exploding example blows up at its
third iteration) says so: a dotted line in its colour stands at that iteration
in both plots, labelled "diverged at iteration 3" at the top (where a falling
curve has left room), and it is listed in both legends, also in the Gradients
plot when it drew no ‖δ‖ there. A ghost of a few points draws each point as a
dot: two points beside a 20,000-iteration replay would otherwise be a speck of
dashes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import QMenu

from ..actions import act
from ..engine.compare import MAX_KEPT, KeptRun, replay_options
from ..engine.experiment import Setup
from .colors import scaled_font

__all__ = ["GHOST_COLORS", "REMEDY_KEY", "XAVIER_KEY", "Comparisons", "replay_keys"]

#: Okabe–Ito colours not used by the live curves (blue training, vermillion test Err):
#: orange, reddish purple, bluish green, sky blue; safe for colour-blind viewers.
GHOST_COLORS = ("#E69F00", "#CC79A7", "#009E73", "#56B4E9")
#: Ghosts are faint: drawn with this opacity (0–255), dashed.
GHOST_ALPHA = 200
#: A ghost curve with at most this many points draws a dot at each (pixels across).
FEW_POINTS, DOT_PX = 50, 9
#: A kept Err curve of at most this many points is drawn whole. pyqtgraph's automatic
#: peak downsampling takes a curve's x as evenly spaced over the view and keeps
#: len(x) // factor pairs: two points beside a 20,000-iteration replay came to none.
EXACT_POINTS = 20_000
#: Where the top of the first kept run's "diverged at" label sits along its line (0 bottom,
#: 1 top); each further colour's a step lower, so that two such labels do not cover each other.
END_LABEL_AT, END_LABEL_STEP = 0.99, 0.2
#: The gap between a "diverged at" label and its line, as a fraction of the label's width.
END_LABEL_GAP = 0.07
#: The opacity (0–255) of the card behind a "diverged at" label.
END_CARD_ALPHA = 170


#: The key of the first remedy a setup offers (ReLU on the vanishing-gradients example,
#: clipping on the exploding one): K keeps the run, C compares it with the remedy.
REMEDY_KEY = "C"
#: The key of "Compare with Xavier init" (the exploding example's second remedy).
XAVIER_KEY = "X"
#: Replay options a setup can offer at most (ReLU, clipping, Xavier, the same setup).
_REPLAY_SLOTS = 4
_REPLAY_TIP = "Keep this run, then train again from the same start θ and data"


def replay_keys(options: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The shortcut of each replay option ("" for none).

    Xavier init always has :data:`XAVIER_KEY`; the first other change offered
    has :data:`REMEDY_KEY`; the rest (and "Replay the same setup") none.
    """
    keys, remedy_given = [], False
    for _text, changes in options:
        if changes == {"init": "xavier"}:
            keys.append(XAVIER_KEY)
        elif changes and not remedy_given:
            keys.append(REMEDY_KEY)
            remedy_given = True
        else:
            keys.append("")
    return keys


def _continues(old: KeptRun, new: KeptRun) -> bool:
    """True if ``new`` is ``old``'s run, drawn on (same setup, ``old``'s Err a prefix of it)."""
    n = old.loss_x.size
    return (
        old.setup == new.setup
        and old.loss_kind == new.loss_kind
        and n <= new.loss_x.size
        and np.array_equal(old.loss_x, new.loss_x[:n])
        and np.array_equal(old.loss_y, new.loss_y[:n], equal_nan=True)
        and np.array_equal(old.loss_n, new.loss_n[:n], equal_nan=True)
    )


def _draws_something(item: pg.PlotDataItem) -> bool:
    """True when ``item`` holds at least one finite point."""
    y = item.yData
    return y is not None and bool(np.isfinite(y).any())


def _pen(color: str) -> Any:
    c = QColor(color)
    c.setAlpha(GHOST_ALPHA)
    return pg.mkPen(c, width=2.5, style=Qt.PenStyle.DashLine)


def _dots(item: pg.PlotDataItem, color: str, n_points: int) -> None:
    """A dot at each point of ``item`` when it has few (none otherwise)."""
    if 0 < n_points <= FEW_POINTS:
        item.setSymbol("o")
        item.setSymbolSize(DOT_PX)
        item.setSymbolBrush(pg.mkBrush(color))
        item.setSymbolPen(pg.mkPen(color))
    else:
        item.setSymbol(None)


class _Ghost:
    """One kept run: its record, colour, its items in the two plots and, for a run
    that diverged, a line at that iteration in each."""

    def __init__(self, run: KeptRun, color: str, loss_item: Any, delta_item: Any) -> None:
        self.run, self.color = run, color
        self.loss_item, self.delta_item = loss_item, delta_item
        self.end_lines: list[pg.InfiniteLine] = []
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
        #: The iteration at which the live run diverged, while it stands there (else None).
        self._live_diverged_at: int | None = None
        self._font_scale = 1.0
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
        # One action per replay option a setup can offer (ReLU, clipping, Xavier, same),
        # kept for the window's life so that their shortcuts work without the menu.
        self.replay_actions: list[QAction] = []
        self._replay_changes: list[dict[str, Any]] = []
        for i in range(_REPLAY_SLOTS):
            a = QAction(self)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(lambda _c=False, i=i: self._replay(self._replay_changes[i]))
            self.replay_actions.append(a)
            self._replay_changes.append({})
        #: Called with (changes) by a replay entry; the window sets it.
        self.replay = None
        self._fill_menu()
        # A narrow plot wraps the "diverged at" labels; as the range grows (a replay plays
        # on) the line moves across the view and the side with room changes: refit.
        for plot_item in self._plot_items():
            plot_item.getViewBox().sigResized.connect(self._fit_end_labels)
            plot_item.getViewBox().sigXRangeChanged.connect(self._fit_end_labels)

    def window_actions(self) -> list[QAction]:
        """The actions whose shortcuts the window must know (keep, clear, each replay)."""
        return [self.keep_action, *self.replay_actions, self.clear_action]

    # -- state -------------------------------------------------------------------------

    def set_live(self, setup: Setup) -> None:
        """The live run's setup: the ghosts' labels say what differs from it.

        Another setup (η changed, say) is another run: it has not diverged.
        """
        if setup != self._live:
            self._live_diverged_at = None
        self._live = setup
        for g in self._ghosts:
            self._set_name(g)
        self._fill_menu()
        self.changed.emit()

    def set_live_diverged(self, iteration: int | None) -> None:
        """The live run diverged at ``iteration`` (None: it has not, or moved on since).

        A run kept from now on records it, and its ghost says so.
        """
        self._live_diverged_at = None if iteration is None else int(iteration)

    def live_diverged_at(self) -> int | None:
        """The iteration at which the live run diverged, while it stands there."""
        return self._live_diverged_at

    def follow_iteration(self, iteration: int) -> None:
        """The live run stands at ``iteration``: a divergence before it no longer ends it
        (the run was reset or stepped back) unless it stands just before it still."""
        at = self._live_diverged_at
        if at is not None and iteration != at - 1:
            self._live_diverged_at = None

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
        plot = self._loss_plot
        ex, _train, _test = plot.eval_data()
        if ex.size >= 2:
            # The engine's Err over the training set, and its N (one for every point).
            ly, _ = plot.eval_sums()
            lx, ln, kind = ex, np.full(ex.shape, plot.sample_counts()[0]), "training Err"
        else:
            x, _ = plot.data()
            err, n = plot.batch_sums()
            # The exact values: a long run's oldest are held as ranges only, whose Err,
            # N and Err per sample need not come from one iteration.
            k = plot.exact_from()
            lx, ly, ln, kind = x[k:], err[k:], n[k:], "batch Err"
        dx, delta = self._gradient_plot.data()
        if lx.size == 0 and dx.size == 0:
            return None
        at = self._live_diverged_at
        last = max(np.max(lx, initial=-1.0), np.max(dx, initial=-1.0))
        if at is not None and at <= last:  # (the plots hold later points: not this run's end)
            at = None
        return KeptRun(self._live, lx, ly, dx, delta, kind, ln, at)

    def keep(self) -> KeptRun | None:
        """Keep the live run as a ghost (the oldest goes when :data:`MAX_KEPT` are kept)."""
        run = self.capture()
        if run is None:
            self.message.emit("Nothing to keep yet: train a few iterations first.")
            return None
        self.add(run)
        return run

    def keep_once(self) -> KeptRun | None:
        """Keep the live run, unless the newest ghost is this run already (K, then a replay).

        A ghost of the same setup whose Err the live run continues is brought
        up to date instead of drawn twice.
        """
        run = self.capture()
        if run is None:
            self.message.emit("Nothing to keep yet: train a few iterations first.")
            return None
        if self._ghosts and _continues(self._ghosts[-1].run, run):
            self._set_data(self._ghosts[-1], run)
            self._set_name(self._ghosts[-1])  # a plot it now has a line in lists it
            self.changed.emit()
        else:
            self.add(run)
        return run

    def set_runs(self, runs: list[KeptRun] | tuple[KeptRun, ...]) -> None:
        """Replace the kept runs by ``runs`` (e.g. those of an opened experiment)."""
        for g in list(self._ghosts):
            self._remove(g)
        for run in list(runs)[-MAX_KEPT:]:
            self.add(run)
        self._fill_menu()
        self.changed.emit()

    def add(self, run: KeptRun) -> None:
        """Draw ``run`` as a ghost in both plots."""
        if len(self._ghosts) >= MAX_KEPT:
            self._remove(self._ghosts[0])
        used = {g.color for g in self._ghosts}
        color = next(c for c in GHOST_COLORS if c not in used)
        pen = _pen(color)
        loss_item = pg.PlotDataItem(pen=pen, connect="finite")
        loss_item.setZValue(-2)  # under the live curves
        self._loss_plot.plot_item.addItem(loss_item)
        delta_item = pg.PlotDataItem(pen=pen, connect="finite")
        delta_item.setZValue(-2)
        self._gradient_plot.plot.getPlotItem().addItem(delta_item)
        # The layers run one after the other (x restarts at each): clipping to the view
        # and peak downsampling assume x ascending, so they stay off for this item.
        delta_item.setClipToView(False)
        delta_item.setDownsampling(ds=1, auto=False)
        ghost = _Ghost(run, color, loss_item, delta_item)
        self._set_data(ghost, run)
        self._ghosts.append(ghost)
        self._set_name(ghost)
        self._fill_menu()
        self.changed.emit()

    def _plot_items(self) -> tuple[Any, Any]:
        return self._loss_plot.plot_item, self._gradient_plot.plot.getPlotItem()

    def _set_data(self, g: _Ghost, run: KeptRun) -> None:
        """Draw ``run``'s curves in ghost ``g``'s items (and where it diverged)."""
        g.run = run
        y = run.loss_per_sample()  # as the live curves: Err/N
        if y.size <= EXACT_POINTS:
            g.loss_item.setDownsampling(ds=1, auto=False)
        else:
            g.loss_item.setDownsampling(auto=True, method="peak")
        g.loss_item.setData(run.loss_x, y)
        _dots(g.loss_item, g.color, int(np.isfinite(y).sum()))
        x, y = run.delta_polyline()
        with np.errstate(invalid="ignore"):
            y = np.where(y > 0, y, np.nan)
        g.delta_item.setData(x, y)
        _dots(g.delta_item, g.color, run.delta.shape[1])
        self._set_end(g)

    def _set_end(self, g: _Ghost) -> None:
        """A dotted line at the iteration where ``g``'s run diverged, in each plot."""
        for line, plot_item in zip(g.end_lines, self._plot_items(), strict=False):
            plot_item.removeItem(line)
        g.end_lines = []
        if g.run.diverged_at is None:
            return
        pal = self._loss_plot.palette()  # the plots' colours: text on the base colour
        fg = pal.color(QPalette.ColorRole.Text)
        card = QColor(pal.color(QPalette.ColorRole.Base))
        card.setAlpha(END_CARD_ALPHA)  # the curves under it show through, faded
        c = QColor(g.color)
        slot = GHOST_COLORS.index(g.color) if g.color in GHOST_COLORS else 0
        for plot_item in self._plot_items():
            line = pg.InfiniteLine(
                pos=g.run.diverged_at,
                angle=90,
                pen=pg.mkPen(c, width=2.5, style=Qt.PenStyle.DotLine),
                label="",
                labelOpts={
                    "position": END_LABEL_AT - END_LABEL_STEP * slot,
                    # Hanging from that point, on the side of the line the view has room,
                    # a little away from it: the run's last dots stay in sight.
                    "anchors": [(-END_LABEL_GAP, 0), (1 + END_LABEL_GAP, 0)],
                    "color": fg,
                    "fill": pg.mkBrush(card),
                    "border": pg.mkPen(c, width=2.5),
                },
            )
            line.setZValue(1)  # its label over every curve (their parts under it fade)
            line.setVisible(g.visible)
            # (Its y "bounds" would pull a log axis to 1; the curves set the range.)
            plot_item.addItem(line, ignoreBounds=True)
            g.end_lines.append(line)
        self._set_end_text(g)

    def _set_end_text(self, g: _Ghost) -> None:
        """The end lines' labels: how the run ended (its legend entries say which run)."""
        for line in g.end_lines:
            line.label.setFont(scaled_font(self._font_scale, bold=True))
            line.label.setFormat(g.run.end_text() or "")
        self._fit_end_labels()

    def _fit_end_labels(self) -> None:
        """Wrap a "diverged at" label that is wider than its plot (none is cut off)."""
        for g in self._ghosts:
            for line, plot_item in zip(g.end_lines, self._plot_items(), strict=False):
                view = plot_item.getViewBox()
                x = view.mapViewToScene(QPointF(line.value(), 0.0)).x()
                box = view.sceneBoundingRect()
                # The label hangs on the side of its line with more room (InfLineLabel's choice).
                side = max(box.right() - x, x - box.left())
                room = side / (1 + END_LABEL_GAP) - 4
                label = line.label
                label.setTextWidth(-1)
                wide = label.textItem.boundingRect().width()
                label.setTextWidth(room if wide > room > 0 else -1)
                label.updatePosition()

    def end_labels(self) -> list[list[str]]:
        """Each kept run's "diverged at" labels, one per plot (none for a run that did not)."""
        return [[line.label.toPlainText() for line in g.end_lines] for g in self._ghosts]

    def end_lines(self) -> list[list[Any]]:
        """Each kept run's "diverged at" lines (loss plot, gradient plot), or none."""
        return [list(g.end_lines) for g in self._ghosts]

    def set_font_scale(self, scale: float) -> None:
        """Scale the end labels' text as the plots' (presenter mode)."""
        self._font_scale = max(float(scale), 0.5)
        for g in self._ghosts:
            self._set_end_text(g)

    def _legends(self) -> tuple[Any, Any]:
        return self._loss_plot.plot_item.legend, self._gradient_plot.plot.getPlotItem().legend

    def _set_name(self, g: _Ghost) -> None:
        """(Re)enter the ghost in both legends under its current label.

        A plot where the kept run drew nothing does not list it: a run kept
        before its first ‖δ‖ point, unless it diverged, whose line at the
        iteration it diverged is drawn in both plots.
        """
        # Short: at 720p a longer entry would take the legend to one column, the plot a row.
        name = f"kept: {g.run.label(self._live)}"
        for legend, item in zip(self._legends(), (g.loss_item, g.delta_item), strict=True):
            item.opts["name"] = name
            if legend is not None:
                legend.removeItem(item)
                if g.visible and (_draws_something(item) or g.end_lines):
                    legend.addItem(item, name)
        self._fit_legends()

    def _fit_legends(self) -> None:
        for plot in (self._loss_plot, self._gradient_plot):
            fit = getattr(plot, "fit_legend", None)
            if fit is not None:
                fit()

    def set_visible(self, index: int, on: bool) -> None:
        """Show or hide kept run ``index`` (its legend entry too)."""
        g = self._ghosts[index]
        g.visible = bool(on)
        g.loss_item.setVisible(g.visible)
        g.delta_item.setVisible(g.visible)
        for line in g.end_lines:
            line.setVisible(g.visible)
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
        for line, plot_item in zip(g.end_lines, self._plot_items(), strict=False):
            plot_item.removeItem(line)
        self._ghosts.remove(g)
        self._fit_legends()

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
        options = replay_options(self._live)[:_REPLAY_SLOTS]
        keys = replay_keys(options)
        for i, a in enumerate(self.replay_actions):
            if i < len(options):
                text, changes = options[i]
                self._replay_changes[i] = changes
                a.setText(text)
                a.setShortcut(QKeySequence(keys[i]))
                a.setToolTip(f"{_REPLAY_TIP} ({keys[i]})" if keys[i] else _REPLAY_TIP)
                a.setStatusTip(_REPLAY_TIP)
                a.setVisible(True)
                a.setEnabled(True)
                self.replay_menu.addAction(a)
                self._entries.append((a, changes))
            else:  # not offered for this setup: no text, no key
                a.setShortcut(QKeySequence())
                a.setVisible(False)
                a.setEnabled(False)
        self.menu.clear()
        self.menu.addAction(self.keep_action)
        self.menu.addMenu(self.replay_menu)
        self.menu.addSeparator()
        for i, g in enumerate(self._ghosts):
            end = g.run.end_text()
            a = self.menu.addAction(
                f"Show kept: {g.run.label(self._live)}" + (f" ({end})" if end else "")
            )
            a.setCheckable(True)
            a.setChecked(g.visible)
            a.toggled.connect(lambda on, i=i: self.set_visible(i, on))
        self.menu.addAction(self.clear_action)
        self.clear_action.setEnabled(bool(self._ghosts))

    def _replay(self, changes: dict[str, Any]) -> None:
        if self.keep_once() is not None and self.replay is not None:
            self.replay(changes)
