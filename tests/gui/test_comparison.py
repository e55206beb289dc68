"""Kept runs as ghosts in the Loss and Gradients plots; replay from the same start (issue 21)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bpviz.engine.compare import KeptRun
from bpviz.engine.experiment import Setup
from bpviz.views.comparison import GHOST_COLORS
from bpviz.views.main_window import MainWindow

SMALL = Setup(
    dataset="xor4", hidden=(3, 3), activation="sigmoid", batch_size=4, lr=0.5, test_fraction=0.0
)
TIMEOUT = 20_000
STEPS = 12


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window(SMALL)


def _train(qtbot, w: MainWindow, steps: int = STEPS) -> None:
    """Step ``steps`` whole iterations, one at a time, each seen by the window."""
    for i in range(1, steps + 1):
        w.session.step()
        qtbot.waitUntil(lambda i=i: w._latest.iteration == i, timeout=TIMEOUT)
    w.gradient_plot.flush()


def _items(plot_item):
    return list(plot_item.listDataItems())


def _legend_names(plot_item) -> list[str]:
    return [label.text for _, label in plot_item.legend.items]


def test_keep_adds_one_ghost_per_plot_labelled_by_what_differs(window, qtbot):
    w = window
    _train(qtbot, w)
    loss_pi = w.loss_plot.plot_item
    grad_pi = w.gradient_plot.plot.getPlotItem()
    n_loss, n_grad = len(_items(loss_pi)), len(_items(grad_pi))
    w.network_view.setFocus()
    live_each, live_err = w.loss_plot.eval_data()[1], w.loss_plot.eval_sums()[0]
    QTest.keyClick(w.network_view, Qt.Key.Key_K)  # the K shortcut
    assert len(_items(loss_pi)) == n_loss + 1
    assert len(_items(grad_pi)) == n_grad + 1
    assert w.comparisons.labels() == ["same setup"]
    # The live run changes to ReLU: the ghost now says what it had.
    w.session.configure(activation="relu")
    qtbot.waitUntil(lambda: w._setup.activation == "relu", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.comparisons.labels() == ["σ = sigmoid"], timeout=TIMEOUT)
    assert "kept: σ = sigmoid" in _legend_names(loss_pi)
    assert "kept: σ = sigmoid" in _legend_names(grad_pi)
    ghost = w.comparisons.loss_items()[0]
    assert ghost.opts["pen"].color().name().upper() == GHOST_COLORS[0]
    # Its data are what the plots held when it was kept: the engine's Err with its N,
    # drawn per sample as the live curve was.
    x, y = ghost.getData()
    run = w.comparisons.runs()[0]
    assert x.size == run.loss_x.size > 0
    np.testing.assert_array_equal(y, live_each)
    np.testing.assert_array_equal(run.loss_y, live_err)
    assert set(run.loss_n.tolist()) == {4.0}  # xor4: 4 training samples
    # Hide, show, clear.
    w.comparisons.set_visible(0, False)
    assert not ghost.isVisible() and "kept: σ = sigmoid" not in _legend_names(loss_pi)
    w.comparisons.set_visible(0, True)
    assert ghost.isVisible() and "kept: σ = sigmoid" in _legend_names(loss_pi)
    w.comparisons.clear_action.trigger()
    assert len(_items(loss_pi)) == n_loss and len(_items(grad_pi)) == n_grad
    assert not any(n.startswith("kept:") for n in _legend_names(loss_pi) + _legend_names(grad_pi))
    assert w.comparisons.runs() == []


def test_at_most_four_kept_runs_with_distinct_colours(window, qtbot):
    w = window
    _train(qtbot, w, 3)
    for _ in range(5):
        w.comparisons.keep()
    assert len(w.comparisons.runs()) == 4
    colours = {i.opts["pen"].color().name().upper() for i in w.comparisons.delta_items()}
    assert colours == set(GHOST_COLORS)


def test_keep_with_nothing_drawn_says_so(qtbot):
    w = MainWindow(SMALL, restore=False)
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.comparisons.message, timeout=TIMEOUT) as blocker:
        w.comparisons.keep()
    assert "Nothing to keep" in blocker.args[0]
    assert w.comparisons.runs() == []
    w.close()


def test_replay_unchanged_reproduces_the_kept_curves_bit_for_bit(window, qtbot):
    w = window
    _train(qtbot, w)
    same = next(t for t, c in w.comparisons._replay_entries() if c == {})
    same.trigger()
    kept = w.comparisons.runs()[0]
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT)
    _train(qtbot, w)
    again = w.comparisons.capture()
    assert w.comparisons.labels() == ["same setup"]
    np.testing.assert_array_equal(again.loss_x, kept.loss_x)
    np.testing.assert_array_equal(again.loss_y, kept.loss_y)
    np.testing.assert_array_equal(again.delta, kept.delta)
    assert again.delta.shape == (3, STEPS)


def test_compare_with_relu_starts_from_the_same_theta(window, qtbot):
    w = window
    _train(qtbot, w)
    relu = next(t for t, c in w.comparisons._replay_entries() if c == {"activation": "relu"})
    relu.trigger()
    qtbot.waitUntil(lambda: w._setup.activation == "relu", timeout=TIMEOUT)
    assert w.comparisons.runs()[0].setup.activation == "sigmoid"
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w.comparisons.labels() == ["σ = sigmoid"], timeout=TIMEOUT)
    # Same seed, same initialiser: the ReLU run starts from the sigmoid run's θ.
    fresh = MainWindow(SMALL, restore=False)
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: fresh._latest is not None, timeout=TIMEOUT)
    for a, b in zip(fresh._latest.weights, w._latest.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    fresh.close()


def test_k_then_c_shows_sigmoid_against_relu_on_the_vanishing_example(qtbot):
    """The lecture's two key presses: K keeps the sigmoid run, C replays it with ReLU."""
    from bpviz.examples import example_paths

    w = MainWindow(SMALL, restore=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT)
    w.open_experiment(str(example_paths()["vanishing"]))
    qtbot.waitUntil(lambda: w._title_file is not None, timeout=TIMEOUT)
    assert w._setup.activation == "sigmoid"
    relu = next(a for a, c in w.comparisons._replay_entries() if c == {"activation": "relu"})
    assert relu.shortcut() == QKeySequence("C")  # shown beside the entry in the menu
    assert "(C)" in relu.toolTip()
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT)
    start = w._latest.weights
    _train(qtbot, w, 5)
    sigmoid_loss = w.comparisons.capture()
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=TIMEOUT)
    qtbot.keyClick(w, Qt.Key.Key_K)
    assert len(w.comparisons.runs()) == 1
    qtbot.keyClick(w, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: w._setup.activation == "relu", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT)
    for a, b in zip(start, w._latest.weights, strict=True):  # the same start θ
        np.testing.assert_array_equal(a, b)
    # One ghost (K's; C did not keep the same run twice), labelled by what differs.
    assert len(w.comparisons.runs()) == 1
    assert w.comparisons.labels() == ["σ = sigmoid"]
    kept = w.comparisons.runs()[0]
    np.testing.assert_array_equal(kept.loss_y, sigmoid_loss.loss_y)
    assert "kept: σ = sigmoid" in _legend_names(w.gradient_plot.plot.getPlotItem())
    # The live run is ReLU, and trains.
    _train(qtbot, w, 5)
    live = w.comparisons.capture()
    assert live.setup.activation == "relu"
    assert live.delta.shape == kept.delta.shape and not np.array_equal(live.delta, kept.delta)
    w.close()


def test_a_replay_of_a_playing_run_goes_on_playing_from_the_same_start(window, qtbot):
    w = window
    seen: list[int] = []
    w.session.worker.snapshot_ready.connect(lambda snap: seen.append(snap.iteration))
    w.session.play()
    qtbot.waitUntil(lambda: w.session_playing and w._latest.iteration > 50, timeout=TIMEOUT)
    w.comparisons.keep_action.trigger()
    mark = len(seen)
    w.replay_with({"lr": 0.3})
    # The rebuilt run starts again from iteration 0 and trains on without another key.
    qtbot.waitUntil(lambda: 0 in seen[mark:], timeout=TIMEOUT)
    restart = mark + seen[mark:].index(0)
    qtbot.waitUntil(lambda: max(seen[restart:]) > 20, timeout=TIMEOUT)
    # (seen fills in the worker's thread, ahead of the window's queued handlers: wait for them.)
    qtbot.waitUntil(lambda: w._setup.lr == 0.3 and w.session_playing, timeout=TIMEOUT)
    assert w.comparisons.labels() == ["η = 0.5"]
    w.session.pause()


def test_replay_keys_follow_the_exploding_example(qtbot):
    from bpviz.engine.experiment import PRESETS

    w = MainWindow(PRESETS["exploding"][1], restore=False)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT)
    keys = {
        a.text().replace("&", ""): a.shortcut().toString()
        for a, _c in w.comparisons._replay_entries()
    }
    assert keys == {
        "Compare with clipping (‖g‖ ≤ 1)": "C",
        "Compare with Xavier init": "X",
        "Replay the same setup": "",
    }
    # No key of the window's is used twice.
    seen = [s.toString() for a in w.actions() if a.isVisible() for s in a.shortcuts()]
    assert len(seen) == len(set(seen))
    w.close()


def test_c_after_the_exploding_run_diverged_plays_the_clipped_replay(qtbot):
    # The exploding example diverges within a few iterations, which stops training; C keeps
    # the run and the replay with clipping trains at once (no Space needed to see it).
    from bpviz.engine.experiment import PRESETS

    w = MainWindow(PRESETS["exploding"][1], restore=False)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT)
    diverged: list[str] = []
    w.session.worker.diverged.connect(diverged.append)
    w.session.play()
    qtbot.waitUntil(lambda: bool(diverged) and not w.session_playing, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "Training diverged" in w.banner.text(), timeout=TIMEOUT)
    seen: list[int] = []
    w.session.worker.snapshot_ready.connect(lambda snap: seen.append(snap.iteration))
    clip = next(a for a, _c in w.comparisons._replay_entries() if a.shortcut().toString() == "C")
    clip.trigger()  # C: compare with clipping
    qtbot.waitUntil(lambda: w._setup.clip_norm == 1.0 and w.session_playing, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: 0 in seen and max(seen[seen.index(0) :]) > 20, timeout=TIMEOUT)
    assert w.comparisons.labels() == ["no clipping"]
    w.session.pause()
    w.close()


def _save(qtbot, w: MainWindow, path: str) -> None:
    """File ▸ Save experiment to ``path``; returns once the training process wrote it."""
    saved: list[str] = []
    w.session.worker.saved.connect(saved.append)  # emitted in the worker's thread
    w.save_experiment(path)
    qtbot.waitUntil(lambda: path in saved, timeout=TIMEOUT)


def _ghost_state(w: MainWindow):
    """Each ghost's label, colour and drawn data in both plots."""
    out = []
    for run, label, li, di in zip(
        w.comparisons.runs(),
        w.comparisons.labels(),
        w.comparisons.loss_items(),
        w.comparisons.delta_items(),
        strict=True,
    ):
        out.append(
            (
                label,
                run.setup,
                run.loss_kind,
                li.opts["pen"].color().name(),
                *(np.asarray(a) for a in (*li.getData(), *di.getData())),
            )
        )
    return out


def _same_ghosts(a, b) -> None:
    assert len(a) == len(b) > 0
    for ga, gb in zip(a, b, strict=True):
        assert ga[:4] == gb[:4]
        for xa, xb in zip(ga[4:], gb[4:], strict=True):
            np.testing.assert_array_equal(xa, xb)


def test_kept_runs_are_saved_and_open_in_a_fresh_window(window, qtbot, tmp_path):
    w = window
    _train(qtbot, w, 6)
    w.comparisons.keep()
    w.replay_with({"activation": "relu"})
    qtbot.waitUntil(lambda: w._setup.activation == "relu", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT)
    _train(qtbot, w, 4)
    w.comparisons.keep()  # a second ghost: "same setup" as the live ReLU run
    w.replay_with({"lr": 0.25})
    qtbot.waitUntil(lambda: w._setup.lr == 0.25, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: w.comparisons.labels() == ["σ = sigmoid, η = 0.5", "η = 0.5"], timeout=TIMEOUT
    )
    before = _ghost_state(w)
    path = str(tmp_path / "lecture.bpviz.json")
    _save(qtbot, w, path)

    fresh = MainWindow(SMALL, restore=False)  # another session: its own training process
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: fresh._latest is not None and bool(fresh._config), timeout=TIMEOUT)
    assert fresh.comparisons.runs() == []
    fresh.open_experiment(path)
    qtbot.waitUntil(lambda: len(fresh.comparisons.runs()) == 2, timeout=TIMEOUT)
    assert fresh._setup == w._setup
    _same_ghosts(_ghost_state(fresh), before)
    names = _legend_names(fresh.gradient_plot.plot.getPlotItem())
    assert "kept: σ = sigmoid, η = 0.5" in names and "kept: η = 0.5" in names
    fresh.close()


def test_a_file_with_a_damaged_comparison_is_refused_in_one_sentence(window, qtbot, tmp_path):
    import json

    w = window
    _train(qtbot, w, 3)
    w.comparisons.keep()
    path = tmp_path / "x.json"
    _save(qtbot, w, str(path))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["comparisons"][0]["loss_err"][1] = "lots"
    path.write_text(json.dumps(doc), encoding="utf-8")
    w.comparisons.set_runs([KeptRun(w._setup, [1.0, 2.0], [3.0, 2.0], [], np.empty((3, 0)))])
    before = _ghost_state(w)
    setup = w._setup
    w.open_experiment(str(path))
    qtbot.waitUntil(lambda: w._banner_row.isVisible(), timeout=TIMEOUT)
    text = w.banner.text()
    assert "comparisons[0].loss_err[1]: expected a number, got &#x27;lots&#x27;" in text
    assert text.count("<br>") == 0  # one sentence
    assert w._setup == setup  # nothing changed: the session and its ghosts are as they were
    _same_ghosts(_ghost_state(w), before)


def _on_screen(dock) -> bool:
    """The dock is shown and not behind another tab."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def test_presenter_mode_shows_the_plots_while_runs_are_kept(window, qtbot):
    w = window
    _train(qtbot, w, 6)
    w.acts.presenter.trigger()
    qtbot.waitUntil(lambda: not w.loss_dock.isVisible(), timeout=TIMEOUT)
    assert not w.gradient_dock.isVisible()  # presenter mode: graph and formulas only
    w.comparisons.keep_action.trigger()
    # Kept: the Err and ‖δ‖ plots stand beside the graph, one above the other.
    qtbot.waitUntil(
        lambda: _on_screen(w.loss_dock) and _on_screen(w.gradient_dock), timeout=TIMEOUT
    )
    assert w.loss_dock.geometry().bottom() <= w.gradient_dock.geometry().top()
    # (Presenter mode hides the formulas dock's title bar: the panel itself is on screen.)
    assert _on_screen(w.inspector) and w.network_view.isVisible()
    assert not w.loss_plot.readout.isVisible()
    assert not w.loss_plot.readout.table.isVisible()  # its lines of Err, N and Err/N too
    for plot_item, ghost in (
        (w.loss_plot.plot_item, w.comparisons.loss_items()[0]),
        (w.gradient_plot.plot.getPlotItem(), w.comparisons.delta_items()[0]),
    ):
        assert ghost.isVisible()
        legend, view = plot_item.legend, plot_item.getViewBox()
        assert "kept: same setup" in _legend_names(plot_item)
        # The legend is under the plot: it covers no curve, live or kept.
        qtbot.waitUntil(
            lambda legend=legend, view=view: (
                legend.sceneBoundingRect().top() >= view.sceneBoundingRect().bottom()
            ),
            timeout=TIMEOUT,
        )
        assert legend.sceneBoundingRect().height() > 0
    w.comparisons.clear_action.trigger()
    qtbot.waitUntil(lambda: not w.loss_dock.isVisible(), timeout=TIMEOUT)
    assert not w.gradient_dock.isVisible()
    w.comparisons.keep_action.trigger()
    qtbot.waitUntil(lambda: _on_screen(w.gradient_dock), timeout=TIMEOUT)
    # Leaving presenter mode gives the window its own layout back: Loss and Gradients tabbed.
    w.acts.presenter.trigger()
    qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=TIMEOUT)
    assert w.loss_plot.readout.isVisible() and w.loss_plot.readout.table.isVisible()
    assert w.gradient_dock in w.tabifiedDockWidgets(w.loss_dock)


def test_a_kept_run_without_delta_points_is_not_listed_in_the_gradient_legend(window, qtbot):
    """A run that diverged before its first ‖δ‖ point has only an Err ghost."""
    x = np.arange(5.0)
    run = KeptRun(
        SMALL.with_(lr=9.0),
        x,
        np.linspace(1.0, 5.0, 5),
        np.empty(0),
        np.empty((3, 0)),
        "batch Err",
        np.full(5, 4.0),
    )
    window.comparisons.add(run)
    assert "kept: η = 9" in _legend_names(window.loss_plot.plot_item)
    assert not any(
        name.startswith("kept:") for name in _legend_names(window.gradient_plot.plot.getPlotItem())
    )


def test_a_ghost_on_another_number_of_samples_is_drawn_per_sample_as_the_live_run(window, qtbot):
    """A kept run on 4 samples beside a live one on 160: each Err over its own N."""
    w = window
    kept = KeptRun(
        SMALL.with_(dataset="circle", n_samples=200),
        np.array([0.0, 10.0]),
        np.array([16.0, 8.0]),  # the engine's Err over 160 training samples
        np.empty(0),
        np.empty((3, 0)),
        "training Err",
        np.array([160.0, 160.0]),
    )
    w.comparisons.add(kept)
    _x, y = w.comparisons.loss_items()[0].getData()
    assert y.tolist() == [0.1, 0.05]
    assert w.loss_plot.axis_text() == "Err / N (per sample)"  # xor4's N = 4 axis says so


def _diverge_exploding(qtbot) -> tuple[MainWindow, int]:
    """The exploding example, played until it diverges; returns the window and the
    iteration the engine's message names."""
    import re

    from bpviz.engine.experiment import PRESETS

    w = MainWindow(PRESETS["exploding"][1], restore=False)
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitUntil(lambda: w._latest is not None and bool(w._config), timeout=TIMEOUT)
    diverged: list[str] = []
    w.session.worker.diverged.connect(diverged.append)
    w.session.play()
    qtbot.waitUntil(lambda: bool(diverged) and not w.session_playing, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "Training diverged" in w.banner.text(), timeout=TIMEOUT)
    return w, int(re.search(r"at iteration (\d+)", diverged[0]).group(1))


def _view_contains(plot_item, item, across_only: bool = False) -> bool:
    view, rect = plot_item.getViewBox().sceneBoundingRect(), item.sceneBoundingRect()
    if across_only:
        return view.left() <= rect.left() and rect.right() <= view.right()
    return view.contains(rect)


def test_a_kept_run_that_diverged_is_drawn_with_dots_and_marked_where_it_ended(qtbot, tmp_path):
    w, at = _diverge_exploding(qtbot)
    assert at == 3  # the example's story: it blows up at its third iteration
    clip = next(a for a, _c in w.comparisons._replay_entries() if a.shortcut().toString() == "C")
    clip.trigger()  # C: keep the run, replay it with clipping (which plays)
    qtbot.waitUntil(lambda: w._setup.clip_norm == 1.0 and w.session_playing, timeout=TIMEOUT)
    (run,) = w.comparisons.runs()
    assert run.diverged_at == at and w.comparisons.labels() == ["no clipping"]
    # The replay runs on to thousands of iterations beside the kept run's two Err points.
    qtbot.waitUntil(lambda: w._latest.iteration > 5000, timeout=TIMEOUT)
    w.session.pause()
    qtbot.waitUntil(lambda: not w.session_playing, timeout=TIMEOUT)
    w.loss_plot.flush()
    loss_pi, grad_pi = w.loss_plot.plot_item, w.gradient_plot.plot.getPlotItem()
    # Each of the kept run's points is drawn, as a dot (not thinned away by downsampling).
    ghost = w.comparisons.loss_items()[0]
    x, _y = ghost.getData()
    assert x.tolist() == run.loss_x.tolist() == [1.0, 2.0]
    assert ghost.opts["symbol"] == "o"
    assert QColor(ghost.opts["symbolBrush"].color()).name() == GHOST_COLORS[0].lower()
    # Where it ended: a line at iteration 3 in the ghost's colour in both plots, labelled,
    # and the kept run listed in both legends (though it drew no ‖δ‖).
    assert w.comparisons.end_labels() == [[f"diverged at iteration {at}"] * 2]
    for plot_item, line in zip((loss_pi, grad_pi), w.comparisons.end_lines()[0], strict=True):
        assert line in plot_item.items and line.isVisible()
        assert line.value() == at and line.angle == 90
        assert line.pen.color().name() == GHOST_COLORS[0].lower()
        assert line.label.isVisible()
        assert "kept: no clipping" in _legend_names(plot_item)
    # (The Gradients plot is a tab behind the Loss plot: laid out in presenter mode, below.)
    assert _view_contains(loss_pi, w.comparisons.end_lines()[0][0].label)
    assert "(diverged at iteration 3)" in " ".join(a.text() for a in w.comparisons.menu.actions())
    # Presenter mode: the labels grow with the text and stay inside the plots (wrapped if
    # need be; this offscreen screen, 800 × 600, leaves the plots too low to say more).
    small = w.comparisons.end_lines()[0][0].label.textItem.font().pointSizeF()
    w.acts.presenter.trigger()
    qtbot.waitUntil(
        lambda: _on_screen(w.loss_dock) and _on_screen(w.gradient_dock), timeout=TIMEOUT
    )
    for plot_item, line in zip((loss_pi, grad_pi), w.comparisons.end_lines()[0], strict=True):
        assert line.label.textItem.font().pointSizeF() > small
        qtbot.waitUntil(
            lambda pi=plot_item, ln=line: _view_contains(pi, ln.label, across_only=True),
            timeout=TIMEOUT,
        )
    w.acts.presenter.trigger()
    qtbot.waitUntil(lambda: not w.isFullScreen(), timeout=TIMEOUT)
    # Saved and opened in another window, the kept run still says where it ended.
    path = str(tmp_path / "exploding.bpviz.json")
    _save(qtbot, w, path)
    fresh = MainWindow(SMALL, restore=False)
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: fresh._latest is not None and bool(fresh._config), timeout=TIMEOUT)
    fresh.open_experiment(path)
    qtbot.waitUntil(lambda: len(fresh.comparisons.runs()) == 1, timeout=TIMEOUT)
    assert fresh.comparisons.runs()[0].diverged_at == at
    assert fresh.comparisons.end_labels() == [[f"diverged at iteration {at}"] * 2]
    fresh.close()
    # Hidden from the menu, the marks go with the curves; cleared, they are gone.
    w.comparisons.set_visible(0, False)
    assert not any(line.isVisible() for line in w.comparisons.end_lines()[0])
    w.comparisons.clear()
    assert not any(getattr(i, "label", None) is not None for i in loss_pi.items + grad_pi.items)
    w.close()


def test_a_run_kept_without_diverging_has_no_end_mark(window, qtbot):
    w = window
    _train(qtbot, w, 3)
    w.comparisons.keep()
    (run,) = w.comparisons.runs()
    assert run.diverged_at is None
    assert w.comparisons.end_lines() == [[]] and w.comparisons.end_labels() == [[]]
    items = w.loss_plot.plot_item.items + w.gradient_plot.plot.getPlotItem().items
    assert not any(getattr(i, "label", None) is not None for i in items)  # no labelled line
    assert _legend_names(w.loss_plot.plot_item).count("kept: same setup") == 1


def test_a_diverged_run_stepped_back_is_kept_without_the_mark(qtbot):
    # After a step back the run stands at iteration 1, not at the end of a divergence.
    w, at = _diverge_exploding(qtbot)
    assert w.comparisons.live_diverged_at() == at
    w.session.step_back()
    qtbot.waitUntil(lambda: w._latest.iteration == at - 2, timeout=TIMEOUT)
    assert w.comparisons.live_diverged_at() is None
    w.comparisons.keep()
    assert w.comparisons.runs()[0].diverged_at is None
    assert w.comparisons.end_lines() == [[]]
    w.close()


def test_a_diverged_run_with_a_theta_edited_by_hand_is_kept_without_the_mark(qtbot):
    # Another θ at the same iteration is another run: it need not diverge at 3.
    w, at = _diverge_exploding(qtbot)
    assert w.comparisons.live_diverged_at() == at
    w.network_view.weight_edited.emit(0, 0, 0, 0.0)
    assert w.comparisons.live_diverged_at() is None
    w.comparisons.keep()
    assert w.comparisons.runs()[0].diverged_at is None
    w.close()
