"""The phase indicator: the notes' three boxes, the right one lit."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine import Network, Trainer
from bpviz.engine.state import STAGES
from bpviz.views import formulas
from bpviz.views.formulas import notation_html
from bpviz.views.phase_indicator import BASE_POINT_SIZE, PhaseIndicator


@pytest.fixture
def indicator(qtbot):
    w = PhaseIndicator()
    qtbot.addWidget(w)
    return w


def make_trainer(sizes) -> Trainer:
    net = Network(sizes, seed=1)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, sizes[0]))
    Y = rng.uniform(size=(3, sizes[-1]))
    return Trainer(net, X, Y)


@pytest.mark.parametrize("sizes", [[2, 3, 1], [3, 4, 4, 2]])
def test_lights_the_box_of_every_phase(indicator, sizes):
    trainer = make_trainer(sizes)
    seen = set()
    for _ in range(2):  # two iterations
        while True:
            phase = trainer.step_phase()
            snap = trainer.snapshot()
            indicator.show_snapshot(snap)
            assert indicator.active_stage() == phase.stage
            for stage, box in indicator._boxes.items():
                lit = stage == phase.stage
                assert box.font().bold() == lit
                assert ("background-color: transparent" in box.styleSheet()) != lit
            title = indicator.title_text().replace("&nbsp;", " ")
            assert notation_html(phase.title) in title
            assert f"phase {phase.index + 1} of {phase.count}" in indicator.count_text()
            assert f"phase {phase.index + 1} of {phase.count}" in title
            seen.add(indicator.active_stage())
            if phase.is_last:
                break
    assert seen == set(STAGES)


def test_iteration_number_counts_the_one_being_walked(indicator):
    trainer = make_trainer([2, 3, 1])
    trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    assert indicator.count_text() == "phase 1 of 7 · iteration 1"
    while not trainer.step_phase().is_last:
        pass
    snap = trainer.snapshot()
    assert snap.iteration == 1  # the update's snapshot counts it as done...
    indicator.show_snapshot(snap)
    assert indicator.count_text() == "phase 7 of 7 · iteration 1"  # ...still iteration 1
    trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    assert indicator.count_text() == "phase 1 of 7 · iteration 2"


def test_a_large_iteration_count_is_grouped_as_in_the_status_bar(indicator):
    trainer = make_trainer([2, 3, 1])
    trainer.run(12_345)
    indicator.show_snapshot(trainer.snapshot())
    assert indicator.count_text() == "between iterations · iteration 12,345"
    trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    assert indicator.count_text() == "phase 1 of 7 · iteration 12,346"


def test_between_iterations_none_is_lit(indicator):
    trainer = make_trainer([2, 3, 1])
    trainer.run(3)
    indicator.show_snapshot(trainer.snapshot())
    assert indicator.active_stage() is None
    assert indicator.count_text() == "between iterations · iteration 3"
    assert "between iterations · iteration 3" in indicator.title_text().replace("&nbsp;", " ")
    for box in indicator._boxes.values():
        assert not box.font().bold()
    assert [b.text().split("<br>")[0] for b in indicator._boxes.values()] == list(STAGES)


def test_font_scale_changes_the_boxes_and_back(indicator):
    trainer = make_trainer([2, 3, 1])
    trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    box = indicator._boxes[STAGES[0]]
    assert box.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)
    assert "<br>" in box.text()  # the notes' line under the stage name
    indicator.set_font_scale(2.0)
    assert box.font().pointSizeF() == pytest.approx(2 * BASE_POINT_SIZE)
    assert indicator._title.font().pointSizeF() > 2 * BASE_POINT_SIZE
    assert "<br>" not in box.text()  # presenter mode keeps only the names
    assert indicator.active_stage() == STAGES[0]
    indicator.set_font_scale(1.0)
    assert box.font().pointSizeF() == pytest.approx(BASE_POINT_SIZE)


def test_high_contrast_keeps_the_lit_box(indicator):
    trainer = make_trainer([2, 3, 1])
    for _ in range(4):
        trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    indicator.set_high_contrast(True)
    assert indicator.active_stage() == STAGES[1]
    assert indicator._boxes[STAGES[1]].font().bold()


def test_follows_a_dark_desktop_theme(indicator, dark_theme):
    trainer = make_trainer([2, 3, 1])
    for _ in range(4):
        trainer.step_phase()
    indicator.show_snapshot(trainer.snapshot())
    lit = indicator._boxes[STAGES[1]]
    light_colour = formulas.stage_color(STAGES[1])
    assert light_colour in lit.styleSheet()
    dark_theme(True)
    dark_colour = formulas.stage_color(STAGES[1], dark=True)
    assert dark_colour != light_colour
    assert dark_colour in lit.styleSheet()
    assert dark_colour in indicator.title_text()
    dark_theme(False)
    assert light_colour in lit.styleSheet()
