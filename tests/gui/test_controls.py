"""The control panel on its own: labels, tooltips, the CSV entry."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from bpviz.engine.datasets import DATASET_NOTES
from bpviz.engine.experiment import Setup
from bpviz.views.controls import ControlPanel


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
