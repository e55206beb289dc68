"""Exercise sheets: deterministic, distinct, round numbers, keys equal to the engine (no Qt)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from bpviz.engine.experiment import PRESETS, Setup
from bpviz.engine.experiment_io import load_experiment, restore_trainer
from bpviz.worked import handout as H
from bpviz.worked import quiz as Q
from bpviz.worked import sheets as S
from bpviz.worked.expr import fmt

LECTURE = PRESETS["lecture"][1]
DEEP = Setup(
    dataset="xor4",
    hidden=(3, 2),
    activation="tanh",
    output_activation="sigmoid",
    bias=True,
    lr=0.5,
    test_fraction=0.0,
)


def write(tmp_path, name, base, sizes, count=3, seed=5, fmt_="md"):
    out = tmp_path / name
    out.mkdir()
    S.write_sheets(base, out, count, seed=seed, fmt_=fmt_, sizes=sizes)
    return out


@pytest.mark.parametrize("fmt_", ["md", "tex", "html"])
def test_same_seed_same_bytes_and_the_sheets_differ(tmp_path, fmt_):
    a = write(tmp_path, "a", DEEP, (2, 3, 2, 1), fmt_=fmt_)
    b = write(tmp_path, "b", DEEP, (2, 3, 2, 1), fmt_=fmt_)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert {f"sheet-0{n}.{fmt_}" for n in (1, 2, 3)} <= set(names)
    assert {f"key-0{n}.{fmt_}" for n in (1, 2, 3)} <= set(names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sheets = [(a / f"sheet-0{n}.{fmt_}").read_text() for n in (1, 2, 3)]
    keys = [(a / f"key-0{n}.{fmt_}").read_text() for n in (1, 2, 3)]
    assert len(set(sheets)) == 3 and len(set(keys)) == 3
    c = write(tmp_path, "c", DEEP, (2, 3, 2, 1), fmt_=fmt_, seed=6)
    assert (c / f"sheet-01.{fmt_}").read_text() != sheets[0]


def test_sheet_numbers_are_round_and_the_iteration_not_degenerate(tmp_path):
    out = write(tmp_path, "s", DEEP, (2, 3, 2, 1), count=6)
    for n in range(1, 7):
        doc = json.loads((out / f"sheet-{n:02d}.json").read_text())
        theta = doc["setup"]["params"]
        assert all(round(v, 2) == v and v != 0 and abs(v) <= 1 for v in theta)
        assert doc["setup"]["batch_size"] == 1
        x = np.array(doc["dataset"]["X_train"])
        y = np.array(doc["dataset"]["Y_train"])
        assert x.shape == (1, 2) and y.shape == (1, 1)
        assert np.all(x * 2 == np.round(x * 2)) and set(y.ravel()) <= {0.0, 1.0}
        trainer, _ = restore_trainer(load_experiment(out / f"sheet-{n:02d}.json"))
        snap, _ = H.walk_next(trainer)
        for d in snap.delta[1:]:
            assert np.all(d != 0)
        for o in snap.o[1:]:
            assert all(fmt(v) not in ("0", "1", "−1") for v in o.ravel())


@pytest.mark.parametrize(("base", "sizes"), [(LECTURE, (2, 2, 1)), (DEEP, (2, 3, 2, 1))])
def test_every_key_is_the_engines_iteration_on_the_sheets_file(tmp_path, base, sizes):
    out = write(tmp_path, "k", base, sizes, count=3)
    for n in range(1, 4):
        experiment = load_experiment(out / f"sheet-{n:02d}.json")
        assert experiment.iteration == 0  # opening it lands before the sheet's iteration
        trainer, _ = restore_trainer(experiment)
        snap, err_after = H.walk_next(trainer)
        sheet = S.make_sheet(base, sizes, n, 5)
        # the key written is the engine's walk of the file, number for number
        np.testing.assert_array_equal(snap.weights[0], sheet.snapshot.weights[0])
        rebuilt = S.key_doc(
            S.Sheet(n, sheet.setup, sheet.dataset, snap, err_after, trainer.net.config())
        )
        assert (
            H.to_markdown(rebuilt, f"key-{n:02d}-network.svg")
            == (out / f"key-{n:02d}.md").read_text()
        )
        # and its equations hold the engine's own values
        key = (out / f"key-{n:02d}.md").read_text()
        for d in snap.delta[1:]:
            for v in d.ravel():
                assert fmt(v).replace("−", "-") in key
        for w_new in snap.weights:
            for v in w_new.ravel():
                assert fmt(v).replace("−", "-") in key


def test_the_sheet_lists_every_quantity_with_a_blank_and_no_result(tmp_path):
    out = write(tmp_path, "b", LECTURE, (2, 2, 1), count=1)
    sheet = (out / "sheet-01.md").read_text()
    blanks = sheet.count(S.BLANK.replace("_", "\\_"))
    # 2-2-1 without bias: u, o of 3 neurons, Err, 3 δ, 6 gradients, 6 updates
    assert blanks == 6 + 1 + 3 + 6 + 6
    key_sheet = S.make_sheet(LECTURE, (2, 2, 1), 1, 5)
    for d in key_sheet.snapshot.delta[1:]:
        for v in d.ravel():
            assert fmt(v).replace("−", "-") not in sheet
    assert re.search(r"θ|theta", sheet)


def test_the_quiz_checks_a_student_on_a_sheet(tmp_path):
    out = write(tmp_path, "q", DEEP, (2, 3, 2, 1), count=1)
    trainer, _ = restore_trainer(load_experiment(out / "sheet-01.json"))
    session = Q.QuizSession(trainer.net.config(), kinds=["delta"])
    while True:
        phase = trainer.step_phase()
        session.show(trainer.snapshot())
        while session.current is not None:
            q = session.current
            assert session.answer(fmt(q.answer).replace("−", "-")).right
        if phase.is_last:
            break
    assert session.score.first == 1 + 2 + 3  # the δ of the output and both hidden layers


def test_bad_count_and_format_are_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="at least one sheet"):
        S.write_sheets(LECTURE, tmp_path, 0, sizes=(2, 2, 1))
    with pytest.raises(ValueError, match="choose one of"):
        S.write_sheets(LECTURE, tmp_path, 1, fmt_="docx", sizes=(2, 2, 1))
    with pytest.raises(OSError, match="no such folder"):
        S.write_sheets(LECTURE, tmp_path / "missing", 1, sizes=(2, 2, 1))
