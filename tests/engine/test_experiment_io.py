"""Experiment files: round trips bit for bit, precise errors, fuzzing, atomic saves."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
import stat
import subprocess
import sys
import textwrap
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.engine import experiment_io
from bpviz.engine.experiment import PRESETS, Setup, build
from bpviz.engine.experiment_io import (
    FORMAT_VERSION,
    MAX_LISTED_ERRORS,
    Experiment,
    ExperimentError,
    dumps_experiment,
    load_experiment,
    parse_experiment,
    restore_trainer,
    save_experiment,
)
from bpviz.examples import example_paths, example_titles

REPO = Path(__file__).resolve().parents[2]


def bits(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def same_floats(a, b) -> bool:
    """Bit-for-bit equal float arrays (NaN payloads and −0.0 included)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(bits(a), bits(b))


def trained(setup: Setup, steps: int):
    trainer, data = build(setup)
    trainer.run(steps)
    return trainer, data


def assert_same_history(history, trainer_history) -> None:
    assert same_floats(history.batch_err, trainer_history.batch_err)
    assert np.array_equal(history.eval_iteration, trainer_history.eval_iteration)
    assert same_floats(history.train_err, trainer_history.train_err)
    assert same_floats(history.test_err, trainer_history.test_err)


def write_csv(path: Path, n: int = 12) -> Path:
    rng = np.random.default_rng(7)
    lines = ["a,b,c,label"]
    for _ in range(n):
        x = rng.normal(size=3).tolist()
        lines.append(f"{x[0]!r},{x[1]!r},{x[2]!r},{int(sum(x) > 0)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_trained_run_round_trips_bit_for_bit(tmp_path):
    setup = PRESETS["circle"][1].with_(lr=0.05, momentum=0.5, l2=1e-4, clip_norm=5.0)
    trainer, _ = trained(setup, 137)
    path = tmp_path / "run.json"
    save_experiment(path, setup, trainer)
    exp = load_experiment(path)
    assert exp.setup == setup
    assert exp.sizes == trainer.net.sizes
    assert same_floats(exp.params, trainer.net.params)
    assert (exp.iteration, exp.epoch) == (trainer.iteration, trainer.epoch) == (137, exp.epoch)
    assert exp.epoch > 0
    assert_same_history(exp.history, trainer.history)
    assert exp.dataset is None
    assert exp.has_state


def test_awkward_floats_round_trip_bit_for_bit(tmp_path):
    setup = PRESETS["lecture"][1]
    trainer, _ = build(setup)
    awkward = [-0.0, 5e-324, 1.7976931348623157e308, 0.1, 1 / 3, -2.2250738585072014e-308]
    trainer.net.params[...] = awkward
    save_experiment(tmp_path / "x.json", setup, trainer)
    exp = load_experiment(tmp_path / "x.json")
    assert same_floats(exp.params, awkward)
    restored, _ = restore_trainer(exp)
    assert same_floats(restored.net.params, awkward)


def test_random_weights_round_trip_bit_for_bit(tmp_path):
    setup = PRESETS["spiral"][1]
    trainer, _ = build(setup)
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 2**64, size=trainer.net.params.size, dtype=np.uint64).view(np.float64)
    raw[~np.isfinite(raw)] = 1.5  # JSON holds finite numbers only
    trainer.net.params[...] = raw
    save_experiment(tmp_path / "x.json", setup, trainer)
    assert same_floats(load_experiment(tmp_path / "x.json").params, raw)


def test_restore_trainer_puts_back_weights_counters_and_history(tmp_path):
    setup = PRESETS["xor4"][1]
    trainer, _ = trained(setup, 40)
    save_experiment(tmp_path / "x.json", setup, trainer)
    restored, data = restore_trainer(load_experiment(tmp_path / "x.json"))
    assert same_floats(restored.net.params, trainer.net.params)
    assert (restored.iteration, restored.epoch) == (trainer.iteration, trainer.epoch)
    assert_same_history(restored.history, trainer.history)
    assert data.name == "xor4"
    # The first snapshot carries the whole restored history to the loss plot.
    snap = restored.snapshot()
    assert snap.losses_from == 0
    assert same_floats(snap.new_losses, trainer.history.batch_err)
    # Training goes on from there: the counters and the history keep growing.
    restored.run(10)
    assert restored.iteration == 50
    assert len(restored.history) == 50
    assert same_floats(restored.history.batch_err[:40], trainer.history.batch_err)


def test_restored_full_batch_run_continues_exactly(tmp_path):
    # Full batch: no shuffle position to lose, so the continuation is bit-identical.
    setup = PRESETS["xor4"][1]
    a, _ = trained(setup, 30)
    save_experiment(tmp_path / "x.json", setup, a)
    b, _ = restore_trainer(load_experiment(tmp_path / "x.json"))
    a.run(25)
    b.run(25)
    assert same_floats(a.net.params, b.net.params)
    assert_same_history(b.history, a.history)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_restored_mini_batch_run_continues_exactly(tmp_path, momentum):
    # Mid-epoch (37 iterations of 10-sample batches on 250 points), with and
    # without momentum: the shuffle position, the shuffling generator and v
    # are in the file, so the continuation is bit-identical, across epochs.
    setup = PRESETS["spiral"][1].with_(momentum=momentum, batch_size=10)
    a, _ = trained(setup, 37)
    assert 0 < a.resume_state().position < a.n_train
    save_experiment(tmp_path / "x.json", setup, a)
    b, _ = restore_trainer(load_experiment(tmp_path / "x.json"))
    for t in (a, b):
        t.run(60)  # through the end of the epoch and into the next ones
    assert a.epoch == b.epoch > setup_epochs(setup, 37)
    assert same_floats(a.net.params, b.net.params)
    assert_same_history(b.history, a.history)


def test_momentum_switched_off_before_saving_still_saves_and_continues_exactly(tmp_path):
    # As in the app: train with μ = 0.9, then switch μ to 0 (the trainer keeps v).
    setup = PRESETS["spiral"][1].with_(momentum=0.9, batch_size=10)
    a, _ = trained(setup, 20)
    a.set_rule(replace(a.rule, momentum=0.0))
    a.run(5)
    now = setup.with_(momentum=0.0)
    save_experiment(tmp_path / "x.json", now, a)
    b, _ = restore_trainer(load_experiment(tmp_path / "x.json"))
    for t in (a, b):
        t.run(10)
        t.set_rule(replace(t.rule, momentum=0.9))  # momentum back: the kept v counts again
        t.run(10)
    assert same_floats(a.net.params, b.net.params)
    assert_same_history(b.history, a.history)


def setup_epochs(setup, iterations):
    trainer, _ = trained(setup, iterations)
    return trainer.epoch


def test_saved_mid_walk_continues_from_the_start_of_that_iteration(tmp_path):
    setup = PRESETS["spiral"][1].with_(momentum=0.5, batch_size=10)
    a, _ = trained(setup, 12)
    for _ in range(4):  # half-walk iteration 13
        a.step_phase()
    save_experiment(tmp_path / "x.json", setup, a)
    b, _ = restore_trainer(load_experiment(tmp_path / "x.json"))
    assert b.iteration == a.iteration == 12
    a.finish_walk()
    b.step()  # the same iteration, on the same batch
    a.run(20)
    b.run(20)
    assert same_floats(a.net.params, b.net.params)
    assert_same_history(b.history, a.history)


def test_version_1_files_still_load_and_continue_from_a_fresh_shuffle(tmp_path):
    setup = PRESETS["spiral"][1].with_(batch_size=10)
    a, _ = trained(setup, 37)
    doc = json.loads(dumps_experiment(setup, a))
    doc["version"] = 1
    del doc["state"]["shuffle"], doc["state"]["velocity"]
    (tmp_path / "v1.json").write_text(json.dumps(doc), encoding="utf-8")
    exp = load_experiment(tmp_path / "v1.json")
    assert exp.resume is None
    b, _ = restore_trainer(exp)
    assert same_floats(b.net.params, a.net.params) and b.iteration == 37
    b.run(5)
    assert b.iteration == 42


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda st: st["shuffle"].update(position=-1), "state.shuffle.position", "integer"),
        (lambda st: st["shuffle"]["order"].__setitem__(0, st["shuffle"]["order"][1]),
         "state.shuffle.order", "once"),
        (lambda st: st["shuffle"].update(order=list(range(len(st["shuffle"]["order"]) - 1))),
         "state.shuffle.order", "does not fit"),
        (lambda st: st["shuffle"].update(rng={"bit_generator": "MT19937"}),
         "state.shuffle.rng.bit_generator", "expected 'PCG64'"),
        (lambda st: st["shuffle"].pop("rng"), "state.shuffle", "rng"),
        (lambda st: st.update(velocity=[0.0, 1.0]), "state.velocity", "one per θ"),
        (lambda st: st["shuffle"]["rng"].update(uinteger=2**80), "state.shuffle.rng.uinteger",
         "integer from 0"),
        (lambda st: st["shuffle"]["rng"]["state"].update(state=-1), "state.shuffle.rng.state.state",
         "integer from 0"),
        (lambda st: st["shuffle"]["rng"]["state"].update(inc=2), "state.shuffle.rng.state.inc",
         "odd"),
        (lambda st: st["shuffle"]["rng"]["state"].update(inc=1.5), "state.shuffle.rng.state.inc",
         "integer"),
    ],
)  # fmt: skip
def test_a_bad_shuffle_or_velocity_is_named(tmp_path, change, field, message):
    setup = PRESETS["spiral"][1].with_(batch_size=10)
    a, _ = trained(setup, 7)
    doc = json.loads(dumps_experiment(setup, a))
    change(doc["state"])
    (tmp_path / "bad.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ExperimentError) as info:
        restore_trainer(load_experiment(tmp_path / "bad.json"))
    assert field in str(info.value) and message in str(info.value), str(info.value)


def test_settings_only_file_loads_as_a_fresh_start(tmp_path):
    setup = PRESETS["spiral"][1]
    save_experiment(tmp_path / "s.json", setup, title="Spiral")
    exp = load_experiment(tmp_path / "s.json")
    assert exp.setup == setup and exp.title == "Spiral"
    assert exp.params is None and not exp.has_state
    assert exp.iteration == 0 and len(exp.history) == 0
    trainer, _ = restore_trainer(exp)
    fresh, _ = build(setup)
    assert same_floats(trainer.net.params, fresh.net.params)
    assert trainer.iteration == 0


def test_csv_dataset_is_stored_in_the_file(tmp_path):
    csv_path = write_csv(tmp_path / "data.csv")
    setup = Setup(dataset="csv", csv_path=str(csv_path), hidden=(3,), batch_size=4, lr=0.1)
    trainer, data = trained(setup, 25)
    save_experiment(tmp_path / "csv.json", setup, trainer, data)
    csv_path.unlink()  # the experiment no longer needs the CSV file
    exp = load_experiment(tmp_path / "csv.json")
    assert exp.dataset == data
    assert exp.sizes == (3, 3, 1)
    for name in ("X_train", "Y_train", "X_test", "Y_test"):
        assert same_floats(getattr(exp.dataset, name), getattr(data, name))
    restored, rdata = restore_trainer(exp)
    assert rdata == data
    assert same_floats(restored.X_train, trainer.X_train)
    assert same_floats(restored.net.params, trainer.net.params)


def test_csv_dataset_is_read_from_the_path_when_not_given(tmp_path):
    csv_path = write_csv(tmp_path / "data.csv")
    setup = Setup(dataset="csv", csv_path=str(csv_path), hidden=(2,))
    save_experiment(tmp_path / "csv.json", setup)
    doc = json.loads((tmp_path / "csv.json").read_text(encoding="utf-8"))
    assert doc["dataset"]["input_names"] == ["a", "b", "c"]
    assert load_experiment(tmp_path / "csv.json").dataset.n_inputs == 3


def test_file_layout(tmp_path):
    setup = PRESETS["xor4"][1]
    trainer, _ = trained(setup, 3)
    save_experiment(tmp_path / "x.json", setup, trainer)
    text = (tmp_path / "x.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["format"] == "bpviz-experiment"
    # Version 2 while there are no envelopes, kept runs or batch sizes other than the
    # setup's (older bpviz reads it); 3, 4, 5 and 6 too.
    assert doc["version"] == 2 and FORMAT_VERSION == 6
    assert "batch_sizes" not in doc["state"]["history"]
    assert doc["setup"] == setup.to_dict()
    assert doc["dataset"] is None
    state = doc["state"]
    assert state["iteration"] == 3
    assert state["history"]["test_err"] == [None] * 4  # xor4 has no test set: NaN → null
    assert "NaN" not in text and "Infinity" not in text
    # θ on one line, readable settings on their own lines.
    assert any(line.strip().startswith('"params": [') for line in text.splitlines())
    assert '\n  "lr": 0.5,\n' in text


def test_every_setup_field_has_a_specific_check():
    assert {f.name for f in fields(Setup)} <= set(experiment_io._SETUP_CHECKS)


def test_missing_settings_take_the_defaults():
    doc = json.loads(dumps_experiment(PRESETS["circle"][1]))
    del doc["setup"]["momentum"], doc["setup"]["noise"]
    exp = parse_experiment(doc)
    assert exp.setup.momentum == Setup().momentum and exp.setup.noise == Setup().noise


# ---------------------------------------------------------------------------
# Saving refuses what would not load
# ---------------------------------------------------------------------------


def test_non_finite_weights_are_not_saved(tmp_path):
    setup = PRESETS["xor4"][1]
    trainer, _ = build(setup)
    trainer.net.params[4] = math.inf
    with pytest.raises(ExperimentError, match=r"state\.params\[4\]"):
        save_experiment(tmp_path / "x.json", setup, trainer)
    assert not (tmp_path / "x.json").exists()
    assert list(tmp_path.iterdir()) == []


def test_setup_that_does_not_match_the_trainer_is_not_saved(tmp_path):
    trainer, _ = build(PRESETS["circle"][1])
    with pytest.raises(ExperimentError, match=r"state\.params: expected 9 numbers"):
        save_experiment(tmp_path / "x.json", PRESETS["xor4"][1], trainer)
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_missing_directory_is_an_experiment_error(tmp_path):
    with pytest.raises(ExperimentError, match="cannot write"):
        save_experiment(tmp_path / "no" / "x.json", PRESETS["xor4"][1])


# ---------------------------------------------------------------------------
# Precise errors
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_doc() -> dict:
    setup = PRESETS["circle"][1]
    trainer, _ = trained(setup, 40)  # evaluated after 0, 16 and 32 iterations
    return json.loads(dumps_experiment(setup, trainer))


def _set(doc: dict, path: tuple, value) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


_DELETE = object()

BAD_FIELDS = [
    (
        ("setup", "hidden", 1),
        "x",
        "setup.hidden[1]: expected a positive integer up to 100_000, got 'x'",
    ),
    (("setup", "hidden", 0), 0, "setup.hidden[0]: expected a positive integer"),
    (("setup", "hidden", 0), 2.0, "setup.hidden[0]: expected a positive integer"),
    (("setup", "hidden"), "4,4", "setup.hidden: expected a list, got '4,4'"),
    (("setup", "activation"), "swish", "setup.activation: unknown hidden activation 'swish'"),
    (("setup", "activation"), "softmax", "setup.activation: unknown hidden activation"),
    (("setup", "output_activation"), 3, "setup.output_activation: expected a string, got 3"),
    (("setup", "loss"), "hinge", "setup.loss: unknown loss 'hinge'; choose one of"),
    (("setup", "init"), "zeros", "setup.init: unknown initialiser 'zeros'"),
    (("setup", "dataset"), "moons", "setup.dataset: unknown dataset 'moons'"),
    (("setup", "n_samples"), 1, "setup.n_samples: expected an integer from 2 to"),
    (("setup", "noise"), 1.5, "setup.noise: expected a number in [0, 1], got 1.5"),
    (("setup", "test_fraction"), 0.95, "setup.test_fraction: expected a number in [0, 0.9]"),
    (("setup", "lr"), -0.1, "setup.lr: expected a number in [0, ∞], got -0.1"),
    (("setup", "lr"), "fast", "setup.lr: expected a number, got 'fast'"),
    (("setup", "lr"), 1e400, "setup.lr: expected a finite number, got inf"),
    (("setup", "momentum"), 1.0, "setup.momentum: expected a number in [0, 1), got 1.0"),
    (("setup", "clip_norm"), 0, "setup.clip_norm: expected a number in (0, ∞]"),
    (("setup", "bias"), "yes", "setup.bias: expected true or false, got 'yes'"),
    (("setup", "batch_size"), True, "setup.batch_size: expected a positive integer, got true"),
    (("setup", "seed"), -1, "setup.seed: expected an integer from 0 to"),
    (
        ("setup", "params"),
        [1.0, 2.0],
        "setup.params: expected 37 numbers for the network [2, 4, 4, 1], got 2",
    ),
    (("setup", "colour"), "red", "setup.colour: unknown setting"),
    (
        ("setup", "output_activation"),
        "softmax",
        "setup.loss: a softmax output needs the softmax_ce loss",
    ),
    (("setup",), [], "setup: expected an object, got a list of 0 items"),
    (("setup",), _DELETE, "setup: missing"),
    (("format",), "other", "format: expected 'bpviz-experiment', got 'other'"),
    (("format",), _DELETE, "format: missing; not a bpviz experiment"),
    (
        ("version",),
        7,
        "version: the file has format version 7, but this bpviz reads up to version 6",
    ),
    (("version",), "1", "version: expected a positive integer, got '1'"),
    (("title",), 5, "title: expected a string, got 5"),
    (("extra",), 1, "extra: unknown field"),
    (("dataset",), {"name": "x"}, "dataset: must be null for the built-in dataset 'circle'"),
    (("state", "iteration"), -3, "state.iteration: expected an integer from 0 to"),
    (("state", "epoch"), 99, "state.epoch: expected an integer from 0 to 40, got 99"),
    (
        ("state", "params"),
        [0.5] * 36,
        "state.params: expected 37 numbers for the network [2, 4, 4, 1], got 36",
    ),
    (("state", "params", 3), "a", "state.params[3]: expected a number, got 'a'"),
    (("state", "params", 3), None, "state.params[3]: expected a number, got null"),
    (("state", "params", 3), [1], "state.params[3]: expected a number, got a list of 1 item"),
    (
        ("state", "history", "batch_err"),
        [0.1],
        "state.history.batch_err: expected one value per iteration (40), got 1",
    ),
    (
        ("state", "history", "eval_iteration", 1),
        41,
        "state.history.eval_iteration[1]: expected an integer from 0 to 40",
    ),
    (
        ("state", "history", "train_err"),
        [],
        "state.history.train_err: expected 3 values (one per evaluation), got 0",
    ),
    (
        ("state", "history", "test_err", 0),
        "0.1",
        "state.history.test_err[0]: expected a number, got '0.1'",
    ),
    (("state", "history", "extra"), [], "state.history.extra: unknown field"),
    (("state", "history"), _DELETE, "state.history: missing"),
    (
        ("state", "history", "eval_iteration"),
        [0, 32, 16],
        "state.history.eval_iteration[2]: iterations must not decrease",
    ),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD_FIELDS)
def test_bad_field_is_named_with_what_is_wrong(valid_doc, path, value, message):
    doc = _set(valid_doc, path, value)
    with pytest.raises(ExperimentError) as info:
        parse_experiment(doc)
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.field == message.split(":")[0]


def test_odd_key_names_are_quoted_in_the_field_path(valid_doc):
    doc = _set(valid_doc, ("setup", "two words\n"), 1)
    with pytest.raises(ExperimentError, match=r"^setup\['two words\\n'\]: unknown setting"):
        parse_experiment(doc)


def test_top_level_must_be_an_object():
    with pytest.raises(ExperimentError, match="expected a JSON object, got a list"):
        parse_experiment([1, 2])


def test_loss_and_output_activation_must_fit(valid_doc):
    doc = _set(valid_doc, ("setup", "output_activation"), "tanh")
    doc["setup"]["loss"] = "bce"
    with pytest.raises(
        ExperimentError, match=r"^setup\.output_activation: the bce loss needs a sigmoid"
    ):
        parse_experiment(doc)


def test_softmax_needs_two_outputs(valid_doc):
    doc = _set(valid_doc, ("setup", "output_activation"), "softmax")
    doc["setup"]["loss"] = "softmax_ce"
    with pytest.raises(ExperimentError, match="softmax output needs at least 2 outputs"):
        parse_experiment(doc)


def test_too_many_parameters_are_refused_before_anything_is_allocated(valid_doc):
    doc = _set(valid_doc, ("setup", "hidden"), [100_000, 100_000])
    with pytest.raises(
        ExperimentError,
        match=r"setup\.hidden: the network \[2, 100000, 100000, 1\] on 200 samples would need "
        r"about 1,491\.\d GiB of memory \(.*\), more than the budget of [\d.,]+ GiB \(",
    ):
        parse_experiment(doc)


def test_csv_setup_without_data_or_file(valid_doc, tmp_path):
    doc = _set(valid_doc, ("setup", "dataset"), "csv")
    with pytest.raises(ExperimentError, match=r"^dataset: a CSV dataset needs its data"):
        parse_experiment(doc)
    doc["setup"]["csv_path"] = str(tmp_path / "gone.csv")
    with pytest.raises(ExperimentError, match=r"^setup.csv_path: .*gone.csv: file not found"):
        parse_experiment(doc)


def test_embedded_dataset_errors(tmp_path):
    csv_path = write_csv(tmp_path / "d.csv")
    setup = Setup(dataset="csv", csv_path=str(csv_path), hidden=(2,))
    doc = json.loads(dumps_experiment(setup))
    cases = [
        (("dataset", "X_train", 2, 1), "x", "dataset.X_train[2][1]: expected a number, got 'x'"),
        (("dataset", "X_train", 2), [1.0], "dataset.X_train[2]: expected 3 numbers, got 1"),
        (("dataset", "Y_test"), [], "dataset.Y_test: expected 2 rows (as X_test has), got 0"),
        (("dataset", "task"), "ranking", "dataset.task: unknown task 'ranking'"),
        (("dataset", "input_names"), [], "dataset.input_names: expected at least one column"),
        (("dataset", "input_names", 0), 7, "dataset.input_names[0]: expected a string, got 7"),
        (("dataset", "params"), None, "dataset.params: expected an object, got null"),
        (("dataset", "name"), _DELETE, "dataset.name: missing"),
    ]
    for path, value, message in cases:
        with pytest.raises(ExperimentError) as info:
            parse_experiment(_set(doc, path, value))
        assert str(info.value).startswith(message), str(info.value)


# -- file-level errors -------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ExperimentError, match=r"gone\.json: file not found$"):
        load_experiment(tmp_path / "gone.json")


def test_directory(tmp_path):
    with pytest.raises(ExperimentError, match="is a directory"):
        load_experiment(tmp_path)


def test_not_utf8(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b'{\n  "format": "bpviz\xff"}')
    with pytest.raises(
        ExperimentError, match=r"x\.json: line 2, column 19: not UTF-8 text \(byte 0xff\)"
    ):
        load_experiment(p)


def test_invalid_json_names_line_and_column(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{\n "format": "bpviz-experiment",\n "version": 1,,\n}', encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"x\.json: line 3, column 15: invalid JSON"):
        load_experiment(p)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(tmp_path, valid_doc, constant):
    text = json.dumps(valid_doc).replace('"lr": 0.03', f'"lr": {constant}')
    p = tmp_path / "x.json"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ExperimentError, match=f"{constant.lstrip('-')} is not allowed"):
        load_experiment(p)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "invalid JSON"),
        (b"[" * 100_000, "invalid JSON"),
        (b"1" * 5000, "invalid JSON"),
        (b'"just a string"', "expected a JSON object, got 'just a string'"),
        (b"null", "expected a JSON object, got null"),
    ],
)
def test_odd_documents(tmp_path, content, message):
    p = tmp_path / "x.json"
    p.write_bytes(content)
    with pytest.raises(ExperimentError, match=message):
        load_experiment(p)


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b"\xef\xbb\xbf" + dumps_experiment(PRESETS["xor4"][1]).encode())
    assert load_experiment(p).setup == PRESETS["xor4"][1]


def test_load_of_a_wrong_type_path_is_an_experiment_error():
    with pytest.raises(ExperimentError):
        load_experiment(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Fuzzing: whatever the bytes, load_experiment returns or raises ExperimentError
# ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def seeds(fuzz_dir) -> list[bytes]:
    """Valid files to corrupt: a trained built-in run and a run on embedded CSV data."""
    setup = PRESETS["xor4"][1]
    trainer, _ = trained(setup, 5)
    csv_path = write_csv(fuzz_dir / "d.csv", n=6)
    csv_setup = Setup(dataset="csv", csv_path=str(csv_path), hidden=(2,), batch_size=2)
    csv_trainer, csv_data = trained(csv_setup, 4)
    return [
        dumps_experiment(setup, trainer).encode(),
        dumps_experiment(csv_setup, csv_trainer, csv_data, title="csv").encode(),
    ]


def load_checked(path: Path) -> None:
    """Load; anything but success or an ExperimentError fails the test."""
    try:
        exp = load_experiment(path)
    except ExperimentError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(exp, Experiment)
    n_params = sum(b * (a + exp.setup.bias) for a, b in itertools.pairwise(exp.sizes))
    if n_params <= 100_000 and exp.setup.n_samples <= 5000:
        try:
            trainer, data = restore_trainer(exp)
        except ExperimentError as err:  # loads, but cannot be restored: said in one line
            assert "\n" not in str(err)
            return
        # Loaded: it round-trips. Saved again (before training) it loads as the same run.
        again = parse_experiment(
            json.loads(
                dumps_experiment(
                    exp.setup,
                    trainer if exp.has_state else None,
                    data if exp.setup.dataset == "csv" else None,
                    title=exp.title,
                )
            )
        )
        assert again.setup == exp.setup and again.title == exp.title
        assert again.sizes == exp.sizes and again.iteration == exp.iteration
        assert (again.params is None) == (exp.params is None)
        if exp.params is not None:
            assert same_floats(again.params, exp.params)
            assert_same_history(again.history, exp.history)
        if exp.dataset is not None:
            assert again.dataset == exp.dataset
        before = trainer.iteration
        trainer.run(1)
        assert trainer.iteration == before + 1


@FUZZ
@given(data=st.data())
def test_truncated_files(seeds, fuzz_dir, data):
    raw = data.draw(st.sampled_from(seeds))
    cut = data.draw(st.integers(0, len(raw) - 1))
    path = fuzz_dir / "t.json"
    path.write_bytes(raw[:cut])
    load_checked(path)


@FUZZ
@given(data=st.data())
def test_flipped_bytes(seeds, fuzz_dir, data):
    raw = bytearray(data.draw(st.sampled_from(seeds)))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    path = fuzz_dir / "f.json"
    path.write_bytes(bytes(raw))
    load_checked(path)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["sigmoid", "csv", "xor4", "sse", "he", "softmax", "", "NaN"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def field_paths(doc, prefix=()):
    """Every path into a document (long lists: their ends and a middle item)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from field_paths(v, (*prefix, k))
    elif isinstance(doc, list):
        n = len(doc)
        for i in sorted({0, 1, n // 2, n - 1} & set(range(n))):
            yield from field_paths(doc[i], (*prefix, i))


@FUZZ
@given(data=st.data())
def test_values_of_the_wrong_type_at_random_fields(seeds, fuzz_dir, data):
    doc = json.loads(data.draw(st.sampled_from(seeds)))
    paths = [p for p in field_paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if action == "replace":
                parent[path[-1]] = data.draw(json_values)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[data.draw(st.text(max_size=6))] = data.draw(json_values)
            else:
                parent.append(data.draw(json_values))
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier change removed or retyped this path
    path = fuzz_dir / "w.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    load_checked(path)


hostile_text = st.sampled_from(
    ["\\ud800", "\\udfff", "\\u0000", "\\n", "\\u001b[31m", "\\u2028", "x" * 5000, "\\ud83d\\ude00"]
)


@FUZZ
@given(data=st.data())
def test_hostile_text_inside_strings(seeds, fuzz_dir, data):
    """Escapes (lone surrogates, NUL, control characters) or long text inside any string."""
    raw = data.draw(st.sampled_from(seeds)).decode("utf-8")
    quotes = [i for i, ch in enumerate(raw) if ch == '"']
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.sampled_from(quotes)) + 1
        raw = raw[:i] + data.draw(hostile_text) + raw[i:]
        quotes = [i for i, ch in enumerate(raw) if ch == '"']
    path = fuzz_dir / "h.json"
    path.write_text(raw, encoding="utf-8")
    load_checked(path)


@FUZZ
@given(doc=json_values)
def test_arbitrary_json_documents(fuzz_dir, doc):
    path = fuzz_dir / "a.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ExperimentError):
        load_experiment(path)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes(fuzz_dir, raw):
    path = fuzz_dir / "b.json"
    path.write_bytes(raw)
    with pytest.raises(ExperimentError):
        load_experiment(path)


# ---------------------------------------------------------------------------
# Atomic saves: an interrupted save leaves the old file intact
# ---------------------------------------------------------------------------


@pytest.fixture
def old_file(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "exp.json"
    save_experiment(path, PRESETS["xor4"][1], title="old")
    return path, path.read_bytes()


def new_run():
    setup = PRESETS["circle"][1]
    trainer, _ = trained(setup, 20)
    return setup, trainer


def assert_untouched(path: Path, content: bytes) -> None:
    assert path.read_bytes() == content
    assert load_experiment(path).title == "old"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "temporary file left"


def test_failed_rename_leaves_the_old_file(old_file, monkeypatch):
    path, content = old_file

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(experiment_io.os, "replace", broken_replace)
    with pytest.raises(ExperimentError, match=r"cannot write the file \(No space left on device"):
        save_experiment(path, *new_run())
    assert_untouched(path, content)


def test_write_failing_midway_leaves_the_old_file(old_file, monkeypatch):
    path, content = old_file
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise OSError(5, "Input/output error")

        def __getattr__(self, name):
            return getattr(self.f, name)

    monkeypatch.setattr(
        experiment_io.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode))
    )
    with pytest.raises(ExperimentError, match="Input/output error"):
        save_experiment(path, *new_run())
    assert_untouched(path, content)


def test_interrupt_during_fsync_leaves_the_old_file(old_file, monkeypatch):
    path, content = old_file

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment_io.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_experiment(path, *new_run())
    assert_untouched(path, content)


def test_failing_serialisation_writes_nothing(old_file, monkeypatch):
    path, content = old_file

    def broken_dumps(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(experiment_io.json, "dumps", broken_dumps)
    with pytest.raises(ExperimentError, match="boom"):
        save_experiment(path, *new_run())
    assert_untouched(path, content)


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_process_killed_mid_save_leaves_the_old_file(old_file, where):
    """A real crash: the saving process is killed (SIGKILL) before or at the rename."""
    path, content = old_file
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from bpviz.engine import experiment_io
        from bpviz.engine.experiment import PRESETS, build
        setup = PRESETS["spiral"][1]
        trainer, _ = build(setup)
        trainer.run(50)
        def die(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        experiment_io.os.{where} = die
        experiment_io.save_experiment({str(path)!r}, setup, trainer)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()
    assert path.read_bytes() == content
    assert load_experiment(path).title == "old"
    leftovers = [p for p in path.parent.iterdir() if p != path]
    # A killed process cannot clean up: at most its hidden temporary file remains.
    assert all(p.name.startswith(".exp.json.") and p.name.endswith(".tmp") for p in leftovers)


def test_save_replaces_the_file_and_keeps_its_permissions(old_file):
    path, _ = old_file
    os.chmod(path, 0o640)
    setup, trainer = new_run()
    save_experiment(path, setup, trainer)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert load_experiment(path).iteration == 20
    assert [p.name for p in path.parent.iterdir()] == [path.name]


# ---------------------------------------------------------------------------
# The built-in examples
# ---------------------------------------------------------------------------


def test_there_is_one_example_file_per_preset():
    assert list(example_paths()) == list(PRESETS)


@pytest.mark.parametrize("name", list(PRESETS))
def test_example_file_matches_its_preset_and_builds(name):
    label, setup = PRESETS[name]
    exp = load_experiment(example_paths()[name])
    assert exp.setup == setup, "run resources/make_examples.py"
    assert exp.title == label == example_titles()[name]
    assert not exp.has_state
    trainer, _ = restore_trainer(exp)
    trainer.run(2)  # (the exploding example diverges at its third iteration)


def test_experiment_files_examples_and_the_command_line_load_no_qt():
    code = (
        "import sys\n"
        "import bpviz.engine.experiment_io, bpviz.examples, bpviz.cli\n"
        "bpviz.examples.example_paths()\n"
        "qt = ('PySide6', 'shiboken6', 'pyqtgraph')\n"
        "print(sorted(m for m in sys.modules if m.startswith(qt)))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_bad_field_is_listed_not_only_the_first(valid_doc, tmp_path):
    doc = _set(valid_doc, ("setup", "hidden"), [4, "x"])
    doc = _set(doc, ("setup", "lr"), "fast")
    doc = _set(doc, ("setup", "activation"), "softmax")
    doc = _set(doc, ("state", "iteration"), -1)
    with pytest.raises(ExperimentError) as info:
        parse_experiment(doc)
    text = str(info.value)
    assert text.startswith("4 bad fields: (1) setup.hidden[1]: "), text
    for field in ("setup.lr", "setup.activation", "state.iteration"):
        assert f") {field}: " in text, text
    assert "\n" not in text
    assert [e.field for e in info.value.errors] == [
        "setup.hidden[1]",
        "setup.activation",
        "setup.lr",
        "state.iteration",
    ]
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(info.value).count(str(path)) == 1
    assert "setup.lr" in str(info.value) and "state.iteration" in str(info.value)


def test_a_long_list_of_bad_fields_is_cut_short(valid_doc):
    doc = copy.deepcopy(valid_doc)
    for name in (
        "lr",
        "momentum",
        "l1",
        "l2",
        "noise",
        "test_fraction",
        "seed",
        "data_seed",
        "n_samples",
        "batch_size",
        "bias",
        "init",
        "loss",
    ):
        doc["setup"][name] = "?"
    with pytest.raises(ExperimentError) as info:
        parse_experiment(doc)
    text = str(info.value)
    assert len(info.value.errors) == 13
    assert text.count("setup.") == MAX_LISTED_ERRORS
    assert f"and {13 - MAX_LISTED_ERRORS} more" in text


@pytest.mark.parametrize("name", ["seed", "data_seed"])
def test_a_seed_the_window_cannot_show_is_refused(valid_doc, name):
    doc = _set(valid_doc, ("setup", name), 2**31)
    with pytest.raises(ExperimentError, match=rf"^setup\.{name}: expected an integer from 0 to "):
        parse_experiment(doc)
    parse_experiment(_set(valid_doc, ("setup", name), 2**31 - 1))
