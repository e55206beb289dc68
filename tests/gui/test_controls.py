"""The control panel on its own: labels, tooltips, the CSV entry."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

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
