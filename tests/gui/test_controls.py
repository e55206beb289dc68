"""The control panel on its own: labels, tooltips, the CSV entry."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox

from bpviz.engine import INITIALIZERS
from bpviz.engine.datasets import DATASET_NOTES
from bpviz.engine.experiment import PRESETS, Setup, build
from bpviz.views.controls import GIVEN_THETA, ControlPanel

TIMEOUT_MS = 20_000


@pytest.fixture
def panel(qtbot):
    p = ControlPanel()
    qtbot.addWidget(p)
    return p


def test_each_dataset_says_what_it_is_in_its_tooltip(panel):
    combo = panel.dataset
    for i in range(combo.count()):
        name = combo.itemData(i)
        tip = combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(combo.itemText(i)) and DATASET_NOTES[name] in tip
    panel.set_setup(Setup(dataset="lecture"))
    assert "one sample" in combo.toolTip()


def test_one_csv_entry_names_the_file_now_loaded(panel):
    panel.set_setup(Setup(dataset="csv", csv_path="/data/first/points.csv"))
    combo = panel.dataset
    assert combo.currentData() == "csv"
    assert combo.currentText() == "CSV: points.csv"
    assert combo.toolTip() == "CSV: /data/first/points.csv"
    n = combo.count()
    panel.set_setup(Setup(dataset="csv", csv_path="/data/second/other.csv"))
    assert combo.count() == n  # updated, not a second entry
    assert combo.currentText() == "CSV: other.csv"
    assert combo.toolTip() == "CSV: /data/second/other.csv"


def test_the_loss_tooltip_gives_its_formulas(panel):
    combo = panel.loss
    combo.setCurrentIndex(combo.findData("bce"))
    assert "ln" in combo.toolTip() and "needs a sigmoid output" in combo.toolTip()
    combo.setCurrentIndex(combo.findData("sse"))
    assert "Σ(y−ŷ)²" in combo.toolTip() and "needs" not in combo.toolTip()


# -- issue 22: the panel shows exactly what is in force --------------------------------------


def test_eta_box_shows_every_value_the_app_uses_readably(panel):
    for lr, text in ((1e-9, "1e-09"), (0.03, "0.03"), (100.0, "100"), (0.0, "0")):
        panel.set_setup(Setup(lr=lr))
        assert panel.lr.value() == lr and panel.lr.text() == text


def test_touching_the_eta_box_steps_to_a_neighbour_not_to_its_minimum(panel, qtbot):
    panel.set_setup(Setup(lr=1e-9))
    with qtbot.waitSignal(panel.changed) as blocker:
        panel.lr.stepBy(1)
    assert blocker.args[0] == {"lr": 2e-9}
    panel.set_setup(Setup(lr=0.03))
    panel.lr.stepBy(-1)
    assert panel.lr.value() == 0.02


@pytest.mark.parametrize(
    ("name", "typed", "words"),
    [("lr", "5000", "η"), ("momentum", "1.5", "Momentum"), ("batch_size", "0", "Batch size")],
)
def test_a_typed_value_out_of_range_gives_a_message_not_a_silent_clamp(
    panel, qtbot, name, typed, words
):
    panel.show()
    box = getattr(panel, name)
    before = box.value()
    changes, messages = [], []
    panel.changed.connect(changes.append)
    panel.message.connect(messages.append)
    box.setFocus()
    box.lineEdit().selectAll()
    QTest.keyClicks(box, typed)
    assert box.text() == typed  # every key reached the box: nothing cut off
    QTest.keyClick(box, Qt.Key.Key_Return)
    assert box.value() == before and not changes
    assert len(messages) == 1 and words in messages[0] and typed in messages[0], messages


def test_every_number_box_shows_the_setup_exactly(panel):
    setup = Setup(
        lr=1.234567e-7,
        momentum=0.955,
        l1=2.5,
        l2=1e-7,
        clip_value=0.0123,
        clip_norm=2500.0,
        noise=0.125,
        test_fraction=0.9,
        batch_size=3000,
        n_samples=100_000,
    )
    panel.set_setup(setup)
    for name in (
        "lr",
        "momentum",
        "l1",
        "l2",
        "clip_value",
        "clip_norm",
        "noise",
        "test_fraction",
        "batch_size",
        "n_samples",
    ):
        assert panel.shown_setup()[name] == getattr(setup, name), name


def test_softmax_cannot_be_chosen_for_one_output_and_says_why(panel):
    panel.set_outputs(1)
    for combo, name in ((panel.output_activation, "softmax"), (panel.loss, "softmax_ce")):
        item = combo.model().item(combo.findData(name))
        assert not item.isEnabled()
        assert "2 outputs" in combo.itemData(combo.findData(name), Qt.ItemDataRole.ToolTipRole)
    panel.set_outputs(3)
    combo = panel.output_activation
    assert combo.model().item(combo.findData("softmax")).isEnabled()


def test_leaving_softmax_takes_the_loss_along(panel, qtbot):
    panel.set_outputs(2)
    panel.set_setup(Setup(output_activation="softmax", loss="softmax_ce"))
    combo = panel.output_activation
    with qtbot.waitSignal(panel.changed) as blocker:
        combo.setCurrentIndex(combo.findData("sigmoid"))
    assert blocker.args[0] == {"output_activation": "sigmoid", "loss": "bce"}
    panel.set_setup(Setup(output_activation="softmax", loss="softmax_ce"))
    with qtbot.waitSignal(panel.changed) as blocker:
        panel.loss.setCurrentIndex(panel.loss.findData("sse"))
    assert blocker.args[0] == {"loss": "sse", "output_activation": "sigmoid"}
    panel.set_setup(Setup(output_activation="sigmoid", loss="bce"))
    with qtbot.waitSignal(panel.changed) as blocker:
        combo.setCurrentIndex(combo.findData("tanh"))
    assert blocker.args[0] == {"output_activation": "tanh", "loss": "sse"}


def test_revert_shows_the_setup_in_force_again(panel):
    panel.set_setup(Setup(lr=0.5, activation="tanh"))
    panel.lr.setValue(0.25)
    panel.activation.setCurrentIndex(panel.activation.findData("relu"))
    panel.revert()
    assert panel.lr.value() == 0.5 and panel.activation.currentData() == "tanh"


def test_the_largest_seed_a_file_may_hold_is_shown_exactly(panel):
    from bpviz.engine.experiment_io import MAX_SEED

    panel.set_setup(Setup(seed=MAX_SEED, data_seed=MAX_SEED))
    assert panel.shown_setup()["seed"] == MAX_SEED == panel.shown_setup()["data_seed"]


# -- the lecturer's audit: every box says what it holds and what the engine does ----------


def _tab_chain(start, stop) -> list:
    """The focusable widgets Tab visits from ``start`` up to ``stop`` (both included)."""
    chain, w = [start], start
    while w is not stop:
        w = w.nextInFocusChain()
        inner = isinstance(w.parentWidget(), QAbstractSpinBox)  # a box's own line edit
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isEnabled() and not inner:
            chain.append(w)
        assert w is not start, "stop is not after start"
    return chain


def test_the_hidden_layer_boxes_say_they_hold_neurons(panel):
    panel.set_setup(Setup(hidden=(8, 5, 3)))
    panel.show()
    ed = panel.architecture
    assert ed._caption.isVisible() and "neurons in each" in ed._caption.text()
    names = [s.accessibleName() for s in ed._spins]
    assert names == [f"Neurons in hidden layer {n}" for n in (1, 2, 3)]
    assert [s.toolTip() for s in ed._spins] == names
    assert "3 hidden layers" in ed._label.text()
    assert ed.add_layer.accessibleName() == "Add a hidden layer"
    # Tab: the boxes in the order shown, then the buttons below them.
    assert _tab_chain(ed._spins[0], ed.remove_layer) == [*ed._spins, ed.add_layer, ed.remove_layer]
    panel.set_setup(Setup(hidden=()))
    assert not ed._caption.isVisible() and ed._label.text() == "no hidden layer"


def test_the_hidden_layer_caption_does_not_widen_the_panel(panel):
    panel.set_setup(Setup(hidden=(128, 128, 128, 128)))
    panel.show()
    caption = panel.architecture._caption
    with_caption = panel.minimumSizeHint().width()
    caption.hide()
    assert panel.minimumSizeHint().width() == with_caption
    form = panel.architecture.parentWidget().layout()
    assert form.labelForField(panel.architecture).text() == "Hidden layers"


def test_given_theta_show_no_initialiser_and_an_initialiser_draws_them_again(panel, qtbot):
    lecture = PRESETS["lecture"][1]
    assert lecture.params is not None and lecture.init == "xavier"  # init: never used
    panel.set_setup(lecture)
    combo = panel.init
    assert combo.currentData() == GIVEN_THETA and combo.currentText() == "none (θ given)"
    assert "experiment file" in combo.toolTip() and "Reset" in combo.toolTip()
    assert panel.shown_setup()["init"] == GIVEN_THETA
    given = combo.findData(GIVEN_THETA)
    assert not combo.model().item(given).isEnabled()  # shown, never chosen
    with qtbot.waitSignal(panel.changed) as blocker:
        combo.setCurrentIndex(combo.findData("he"))
    assert blocker.args[0] == {"init": "he"}
    assert lecture.with_(init="he").params is None  # the engine then draws θ
    panel.set_setup(lecture.with_(init="he"))
    assert combo.currentData() == "he" and combo.findData(GIVEN_THETA) == -1
    assert panel.shown_setup()["init"] == "he"
    panel.set_setup(lecture)  # e.g. Train ▸ Set these θ as the start
    assert combo.currentData() == GIVEN_THETA
    assert combo.count() == len(INITIALIZERS) + 1  # one such entry, not two


def _data(setup: Setup):
    from bpviz.engine.experiment import load_dataset

    return load_dataset(setup)


def test_a_batch_larger_than_the_training_set_says_it_uses_all_of_it(panel):
    setup = Setup(dataset="xor", n_samples=40, test_fraction=0.2, batch_size=500)
    panel.set_data(_data(setup))  # 32 training samples
    panel.set_setup(setup)
    assert panel.batch_size.value() == 500  # the setting, as typed ...
    assert not panel.batch_note.isHidden() and panel.batch_note.text() == "= all 32"
    assert "32 samples" in panel.batch_note.toolTip()  # ... and what an iteration uses
    panel.set_setup(setup.with_(batch_size=32))
    assert panel.batch_note.isHidden()


@pytest.mark.parametrize(("name", "count"), [("xor4", 4), ("lecture", 1)])
def test_data_settings_fixed_points_do_not_use_show_the_data_disabled(panel, name, count):
    setup = Setup(dataset=name, n_samples=200, noise=0.3, test_fraction=0.2, data_seed=7)
    panel.set_data(_data(setup))
    panel.set_setup(setup)
    for box in (panel.noise, panel.test_fraction, panel.n_samples, panel.data_seed):
        assert not box.isEnabled() and "not used" in box.toolTip(), box.label
    shown = panel.shown_setup()
    assert (shown["n_samples"], shown["noise"], shown["test_fraction"]) == (count, 0, 0)
    back = Setup(dataset="circle", n_samples=200, noise=0.3, test_fraction=0.2, data_seed=7)
    panel.set_data(_data(back))
    panel.set_setup(back)
    for box in (panel.noise, panel.test_fraction, panel.n_samples, panel.data_seed):
        assert box.isEnabled() and "not used" not in box.toolTip(), box.label
    shown = panel.shown_setup()
    assert (shown["n_samples"], shown["noise"], shown["test_fraction"]) == (200, 0.3, 0.2)
    assert panel.n_samples.minimum() == 2  # 1 was shown for the lecture, not allowed here


def test_a_csv_file_shows_its_row_count_and_no_noise(panel, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(25)))
    setup = Setup(dataset="csv", csv_path=str(path), n_samples=200, noise=0.3)
    panel.set_data(_data(setup))
    panel.set_setup(setup)
    assert panel.shown_setup()["n_samples"] == 25 and not panel.n_samples.isEnabled()
    assert panel.shown_setup()["noise"] == 0 and not panel.noise.isEnabled()
    assert panel.test_fraction.isEnabled() and panel.data_seed.isEnabled()  # the split


def test_the_window_never_names_an_initialiser_it_did_not_use(make_window, qtbot):
    lecture = PRESETS["lecture"][1]
    w = make_window(lecture)
    combo = w.controls.init
    assert combo.currentData() == GIVEN_THETA
    assert _shows(w, build(lecture)[0].net)  # the file's θ
    combo.setCurrentIndex(combo.findData("he"))  # the user chooses an initialiser ...
    drawn = build(lecture.with_(init="he"))[0].net  # ... and He draws θ
    assert not np.array_equal(drawn.params, np.asarray(lecture.params))
    qtbot.waitUntil(lambda: _shows(w, drawn), timeout=TIMEOUT_MS)
    assert combo.currentData() == "he" and combo.findData(GIVEN_THETA) == -1
    w.session.step()
    qtbot.waitUntil(lambda: w._latest.iteration == 1, timeout=TIMEOUT_MS)
    w.acts.reset.trigger()  # back to the θ He drew, not to the file's
    qtbot.waitUntil(lambda: w._latest.iteration == 0, timeout=TIMEOUT_MS)
    assert _shows(w, drawn)
    w.set_start()  # these θ are now given: no initialiser is claimed for them any more
    qtbot.waitUntil(lambda: combo.currentData() == GIVEN_THETA, timeout=TIMEOUT_MS)
    assert w._setup.params is not None


def _shows(w, net) -> bool:
    """The window's latest snapshot holds ``net``'s θ."""
    snap = w._latest
    return snap is not None and all(
        np.array_equal(a, b) for a, b in zip(snap.weights, net.weights, strict=True)
    )
