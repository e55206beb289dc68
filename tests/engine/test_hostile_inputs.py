"""Hostile inputs (issue 16): each is refused on load with one sentence, or handled.

Lone surrogates, NUL and deep nesting in text fields; FIFOs, devices and
directories where a file is expected; files over the size limit; duplicate
JSON keys; classification targets that are not class labels; networks that
would not fit in memory; huge CSVs; temporary files stranded by a killed save.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpviz.engine import datasets, experiment_io
from bpviz.engine.datasets import DatasetError, load_csv
from bpviz.engine.experiment import MEMORY_BUDGET, PRESETS, Setup, build, estimate_memory
from bpviz.engine.experiment_io import (
    ExperimentError,
    dumps_experiment,
    load_experiment,
    parse_experiment,
    remove_stale_temp_files,
    save_experiment,
)
from bpviz.engine.files import FileRefused, read_regular_file

REPO = Path(__file__).resolve().parents[2]


def csv_doc(tmp_path: Path) -> dict:
    """A valid experiment with embedded CSV data (so dataset.* text fields exist)."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n0,1,1\n1,0,1\n0,0,0\n1,1,0\n", encoding="utf-8")
    setup = Setup(dataset="csv", csv_path=str(path), hidden=(2,), batch_size=2, test_fraction=0.0)
    trainer, data = build(setup)
    trainer.run(3)
    return json.loads(dumps_experiment(setup, trainer, data, title="t"))


def write_raw(path: Path, doc: dict, replace: dict[str, str]) -> Path:
    """Dump ``doc`` and then swap placeholder strings for raw JSON text (e.g. escapes)."""
    text = json.dumps(doc)
    for placeholder, raw in replace.items():
        assert placeholder in text
        text = text.replace(placeholder, raw)
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(path: Path) -> str:
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


# -- text fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (("title",), "title"),
        (("dataset", "name"), "dataset.name"),
        (("dataset", "input_names", 0), "dataset.input_names[0]"),
        (("dataset", "params", "path"), "dataset.params.path"),
    ],
)
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("\\ud800", "not valid Unicode (lone surrogate U+D800)"),
        ("a\\u0000b", "contains a control character (U+0000)"),
        ("a\\nb", "contains a control character (U+000A)"),
    ],
)
def test_bad_text_fields_are_refused_on_load(tmp_path, where, field, raw, reason):
    doc = csv_doc(tmp_path)
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = "@PLACEHOLDER@"
    path = write_raw(tmp_path / "bad.json", doc, {"@PLACEHOLDER@": raw})
    assert one_line_error(path).endswith(f"{field}: {reason}")


def test_a_lone_surrogate_in_a_params_key_is_refused(tmp_path):
    doc = csv_doc(tmp_path)
    doc["dataset"]["params"]["@KEY@"] = 1
    path = write_raw(tmp_path / "bad.json", doc, {"@KEY@": "\\udfff"})
    message = one_line_error(path)
    assert "dataset.params: key" in message and "lone surrogate U+DFFF" in message


def test_params_nested_600_deep_are_refused(tmp_path):
    doc = csv_doc(tmp_path)
    deep: object = 1
    for _ in range(600):
        deep = [deep]
    doc["dataset"]["params"]["deep"] = deep
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert one_line_error(path).endswith(
        f"dataset.params.deep{'[0]' * 16}: nested more than 16 levels deep"
    )


def test_an_overlong_title_is_refused(tmp_path):
    doc = csv_doc(tmp_path)
    doc["title"] = "x" * 5000
    path = tmp_path / "long.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert one_line_error(path).endswith("title: text longer than 4_096 characters (5_000)")


def test_a_csv_column_name_with_a_control_character_is_refused(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_text("a\x00,y\n1,0\n2,1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: the name of column 0: contains a control"):
        load_csv(path)


def test_a_csv_whose_path_holds_a_control_character_is_refused_on_load(tmp_path):
    """Its path is saved with the run: refused now, not when the trained run is saved."""
    path = tmp_path / "two\nlines.csv"
    path.write_text("x,y\n1,0\n2,1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"the path cannot be stored: contains a control"):
        load_csv(path)


def test_valid_text_survives_a_save_and_load(tmp_path):
    """The checks refuse only what cannot be saved: accents, CJK and emoji are fine."""
    doc = csv_doc(tmp_path)
    doc["title"] = "Ünïcödé 漢字 🙂 – ok"
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    exp = load_experiment(path)
    trainer, data = experiment_io.restore_trainer(exp)
    save_experiment(tmp_path / "again.json", exp.setup, trainer, data, title=exp.title)
    assert load_experiment(tmp_path / "again.json").title == doc["title"]


# -- only regular files, read with a limit ---------------------------------------------------


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ExperimentError, match=r": is a directory, not a regular file$"):
        load_experiment(tmp_path)
    with pytest.raises(DatasetError, match=r": is a directory, not a regular file$"):
        load_csv(tmp_path)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_dev_zero_is_refused_before_reading():
    with pytest.raises(ExperimentError, match=r"^/dev/zero: is a character device, not a regular"):
        load_experiment("/dev/zero")
    with pytest.raises(DatasetError, match=r"^/dev/zero: is a character device, not a regular"):
        load_csv("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    """Run in a child process: a regression would block on the FIFO, never this test."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    csv_setup = tmp_path / "csv.json"
    save_experiment(csv_setup, Setup(dataset="xor4", hidden=(2,)))
    doc = json.loads(csv_setup.read_text(encoding="utf-8"))
    doc["setup"]["dataset"] = "csv"
    doc["setup"]["csv_path"] = str(fifo)
    csv_setup.write_text(json.dumps(doc), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from bpviz.engine.experiment_io import ExperimentError, load_experiment
        for path in ({str(fifo)!r}, {str(csv_setup)!r}):
            try:
                load_experiment(path)
            except ExperimentError as exc:
                print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        f"{fifo}: is a FIFO, not a regular file",
        f"{csv_setup}: setup.csv_path: {fifo}: is a FIFO, not a regular file",
    ]


def test_files_over_the_size_limit_are_refused_with_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048)
    with pytest.raises(FileRefused, match=r"^the file has 2 KiB, more than the limit of 1 KiB$"):
        read_regular_file(path, 1024)
    monkeypatch.setattr(experiment_io, "MAX_FILE_BYTES", 1024)
    assert one_line_error(path).endswith(": the file has 2 KiB, more than the limit of 1 KiB")
    monkeypatch.setattr(datasets, "MAX_CSV_BYTES", 1024)
    with pytest.raises(DatasetError, match=r"big\.json: the file has 2 KiB, more than the limit"):
        load_csv(path)


# -- strict where ambiguity would mislead ---------------------------------------------------


def test_duplicate_keys_are_refused(tmp_path):
    text = json.dumps(json.loads(load_bytes_of_example()))
    # The same key twice in "setup": which lr would count?
    text = text.replace('"lr": ', '"lr": 0.5, "lr": ', 1)
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    assert one_line_error(path).endswith("invalid JSON: the key 'lr' appears twice in one object")


def load_bytes_of_example() -> bytes:
    return (REPO / "resources" / "examples" / "xor4.json").read_bytes()


@pytest.mark.parametrize("label", [7, 0.5, -1])
def test_classification_targets_must_be_class_labels(tmp_path, label):
    doc = csv_doc(tmp_path)
    assert doc["dataset"]["task"] == "classification"
    doc["dataset"]["Y_train"][1] = [label]
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    message = one_line_error(path)
    assert message.endswith(
        f"dataset.Y_train[1][0]: a classification target must be 0 or 1 (a class label), "
        f'got {label!r}; for other values use "task": "regression"'
    )
    doc["dataset"]["task"] = "regression"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_experiment(path).dataset.Y_train[1, 0] == label


# -- sizes that fit the machine --------------------------------------------------------------


@pytest.fixture
def ram(monkeypatch):
    """Pretend this machine has some physical memory (``ram(n_bytes)``; None: unknown)."""
    from bpviz.engine import experiment

    def pretend(n_bytes: int | None) -> None:
        monkeypatch.setattr(experiment, "physical_memory", lambda: n_bytes)

    pretend(64 * 2**30)
    return pretend


def test_a_network_that_would_not_fit_is_refused_with_the_estimate(tmp_path, ram):
    path = tmp_path / "huge.json"
    save_experiment(path, Setup(dataset="xor4", hidden=(2,)))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["setup"]["hidden"] = [7000, 7000]  # 49 M parameters: under the old fixed limit
    path.write_text(json.dumps(doc), encoding="utf-8")
    total = estimate_memory((2, 7000, 7000, 1), 200, 10)["total"]
    assert total > MEMORY_BUDGET
    message = one_line_error(path)
    assert "setup.hidden: the network [2, 7000, 7000, 1] on 200 samples would need about" in message
    assert f"{total / 2**30:,.1f} GiB of memory" in message
    assert message.endswith(
        "more than the budget of 4 GiB (half of this machine's 64 GiB, at most 4 GiB); "
        "use smaller hidden layers or fewer samples"
    )


def test_build_refuses_what_would_not_fit_too(ram):
    with pytest.raises(ValueError, match=r"would need about .* more than the budget of 4 GiB"):
        build(Setup(dataset="circle", n_samples=1_000_000, hidden=(300, 300)))


def test_the_budget_is_half_the_machines_memory_at_most_4_gib(ram):
    from bpviz.engine.experiment import memory_budget

    ram(64 * 2**30)
    assert memory_budget() == (MEMORY_BUDGET, "half of this machine's 64 GiB, at most 4 GiB")
    ram(8 * 2**30)
    assert memory_budget() == (4 * 2**30, "half of this machine's 8 GiB, at most 4 GiB")
    ram(3 * 2**30)
    assert memory_budget() == (3 * 2**29, "half of this machine's 3 GiB, at most 4 GiB")
    ram(None)
    assert memory_budget() == (MEMORY_BUDGET, "this machine's memory is unknown; at most 4 GiB")


def test_a_small_machine_refuses_what_a_large_one_allows(ram):
    setup = Setup(dataset="circle", n_samples=200, hidden=(3000, 3000))  # ~1.5 GiB
    need = estimate_memory((2, 3000, 3000, 1), 200, 10)["total"]
    assert 2**30 < need < 2 * 2**30
    ram(16 * 2**30)
    build(setup)  # fits half of 16 GiB (and 4 GiB)
    ram(2 * 2**30)
    with pytest.raises(ValueError) as info:
        build(setup)
    assert str(info.value).endswith(
        "more than the budget of 1 GiB (half of this machine's 2 GiB, at most 4 GiB); "
        "use smaller hidden layers or fewer samples"
    )
    # Loading a file says the same, naming the field.
    with pytest.raises(ExperimentError, match=r"setup\.hidden: .* budget of 1 GiB \(half of"):
        parse_experiment({"format": "bpviz-experiment", "version": 3, "setup": setup.to_dict()})


def test_the_machines_memory_is_read_from_sysconf():
    from bpviz.engine.experiment import physical_memory

    expected = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert physical_memory() == expected > 0


def test_without_sysconf_the_budget_is_the_constant(monkeypatch):
    from bpviz.engine.experiment import memory_budget, physical_memory

    def no_sysconf(name):
        raise ValueError(f"unrecognized configuration name {name!r}")

    monkeypatch.setattr(os, "sysconf", no_sysconf)
    assert physical_memory() is None
    assert memory_budget()[0] == MEMORY_BUDGET


def test_the_estimate_grows_with_every_part():
    base = estimate_memory((2, 8, 1), 200, 10)
    assert sum(v for k, v in base.items() if k != "total") == base["total"]
    assert estimate_memory((2, 800, 1), 200, 10)["parameters"] > base["parameters"]
    assert estimate_memory((2, 8, 1), 200_000, 10)["workspaces"] > base["workspaces"]
    assert estimate_memory((2, 8, 1), 200_000, 10)["data"] > base["data"]
    assert estimate_memory((2, 8, 1), 200, 10, momentum=True)["parameters"] > base["parameters"]
    # Every preset fits easily.
    for _, setup in PRESETS.values():
        build(setup)


# -- CSV at the speed of a real reader ---------------------------------------------------------


def test_more_rows_than_samples_are_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MAX_SAMPLES", 5)
    path = tmp_path / "rows.csv"
    path.write_text("x,y\n" + "1,0\n" * 6, encoding="utf-8")
    with pytest.raises(DatasetError, match=r"rows\.csv: more than 5 data rows \(the most samples"):
        load_csv(path)
    path.write_text("x,y\n" + "1,0\n" * 5 + "oops,1\n", encoding="utf-8")  # the slow reader too
    with pytest.raises(DatasetError, match=r"more than 5 data rows"):
        load_csv(path)
    path.write_text("x,y\n" + "1,0\n" * 5, encoding="utf-8")
    assert load_csv(path, test_fraction=0.0).X_train.shape == (5, 1)
    # Lines ended by CR alone, read in blocks: the limit still comes before a bad cell.
    monkeypatch.setattr(datasets, "CSV_CHUNK_LINES", 2)
    path.write_bytes(b"x,y\r" + b"1,0\r" * 6 + b"oops,1\r")
    with pytest.raises(DatasetError, match=r"more than 5 data rows"):
        load_csv(path)


def test_more_columns_than_layers_allow_are_refused_with_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "MAX_CSV_COLUMNS", 4)
    path = tmp_path / "wide.csv"
    path.write_text("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: 5 columns, at most 4 are allowed"):
        load_csv(path)


def test_100001_columns_load(tmp_path):
    n = 100_001
    header = ",".join(f"c{i}" for i in range(n))
    row = ",".join("1" for _ in range(n))
    path = tmp_path / "wide.csv"
    path.write_text(f"{header}\n{row}\n{row}\n", encoding="utf-8")
    ds = load_csv(path, test_fraction=0.0)
    assert ds.X_train.shape == (2, 100_000) and ds.Y_train.shape == (2, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n1,2\n3,\n", "line 3, column 'y': empty cell"),
        ("x,y\n1,2\nabc,4\n", "line 3, column 'x': 'abc' is not a number"),
        ("x,y\n1,2\n3,inf\n", "line 3, column 'y': 'inf' is not a finite number"),
        ("x,y\n1,2\n3,4,5\n", "line 3 has 3 fields, header has 2"),
        ("x,y\n1,2,3\n3,4,5\n", "line 2 has 3 fields, header has 2"),
        ("x,y\n\n1,2\n\n3\n", "line 5 has 1 fields, header has 2"),
    ],
)
def test_precise_messages_survive_the_fast_reader(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_csv(path)
    assert str(info.value) == f"{path}: {message}"


def _whole_file_precise(path, monkeypatch) -> object:
    """What the precise reader alone says of a file: its dataset or its message."""
    with monkeypatch.context() as m:
        m.setattr(datasets, "_fast_values", lambda *a: None)
        m.setattr(datasets, "CSV_CHUNK_LINES", 10**9)  # one block: the whole file
        try:
            return load_csv(path, test_fraction=0.0)
        except DatasetError as exc:
            return str(exc)


def _in_small_blocks(path, monkeypatch, lines: int) -> object:
    with monkeypatch.context() as m:
        m.setattr(datasets, "CSV_CHUNK_LINES", lines)
        try:
            return load_csv(path, test_fraction=0.0)
        except DatasetError as exc:
            return str(exc)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # The bad cell in a later block: its line is counted through the earlier ones.
        ("x,y\n1,2\n3,4\n5,6\n7,8\n9,oops\n", "line 6, column 'y': 'oops' is not a number"),
        ("x,y\n1,2\n\n\n3,4\n5,\n7,8\n", "line 6, column 'y': empty cell"),
        ("x,y\n1,2\n3,4\n5,6\n7,1e999\n", "line 5, column 'y': '1e999' is not a finite number"),
        ("x,y\r\n1,2\r\n3,4\r\n5,6\r\n7\r\n", "line 5 has 1 fields, header has 2"),
        ("x,y\r1,2\r3,4\r5,6\r7,x\r", "line 5, column 'y': 'x' is not a number"),
        ("x,y\n1,2\n3,4\n5,6\n7,8\n9,1\x002\n", "line 6, column 'y': '1\\x002' is not a number"),
        # Too few rows comes before a bad cell, as in the precise reader of the whole file.
        ("x,y\n\n\n\n\n\n1,oops\n\n\n", "only 1 data row(s) after the header, need at least 2"),
        ("x,y\n1,oops\n\n\n\n\n\n\n\n", "only 1 data row(s) after the header, need at least 2"),
        ("x,y\n\n\n\n\n\n\n", "only 0 data row(s) after the header, need at least 2"),
    ],
)
def test_a_bad_cell_in_a_later_block_is_named_as_the_precise_reader_names_it(
    tmp_path, monkeypatch, text, message
):
    """Large files are read in blocks: only a block NumPy refuses is read again cell by cell."""
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("utf-8"))
    assert _whole_file_precise(path, monkeypatch) == f"{path}: {message}"
    for lines in (1, 2, 3, 4):
        assert _in_small_blocks(path, monkeypatch, lines) == f"{path}: {message}"


def test_good_files_read_in_blocks_equal_the_precise_reading(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 2)).tolist()
    rows = [f"{a!r}, {b!r} ,{int(a > b)}" for a, b in X]
    rows[7] = "1_000,2,1"  # Python's float() reads it, NumPy's reader does not
    rows.insert(20, "")
    rows.insert(21, "   ")
    path = tmp_path / "good.csv"
    path.write_text("x1,x2,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    reference = _whole_file_precise(path, monkeypatch)
    assert isinstance(reference, datasets.Dataset) and reference.X_train.shape == (50, 2)
    assert 1000.0 in reference.X_train[:, 0]  # (the rows are shuffled)
    for lines in (1, 3, 7, 16, 1000):
        assert _in_small_blocks(path, monkeypatch, lines) == reference


csv_lines = st.lists(
    st.sampled_from(
        ["1,2", "3.5,-1", " 4 , 0 ", "", "  ", "x,1", "1,", "1,2,3", "7", "inf,1", "1_0,1", "\x00"]
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None, database=None)
@given(lines=csv_lines, block=st.integers(1, 5), crlf=st.booleans())
def test_fuzz_reading_in_blocks_says_what_the_precise_reader_says(
    tmp_path_factory, lines, block, crlf
):
    path = tmp_path_factory.getbasetemp() / "blocks.csv"
    end = "\r\n" if crlf else "\n"
    path.write_bytes(("a,b" + end + end.join(lines) + end).encode("utf-8"))
    with pytest.MonkeyPatch.context() as m:
        reference = _whole_file_precise(path, m)
        assert _in_small_blocks(path, m, block) == reference


def test_fast_and_slow_readers_agree(tmp_path, monkeypatch):
    text = '\ufeffid, x1 ,"x2",y\r\n\r\nr1, 1.5 ,"-2e3",1\r\n  \r\n"r2",4,0.25,0\nr3,+7,-0,1\n'
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("utf-8"))
    numeric = tmp_path / "numeric.csv"
    numeric.write_text(text.replace("r1", "1").replace('"r2"', "2").replace("r3", "3"))
    for p in (path, numeric):
        fast = load_csv(p, input_columns=["x1", "x2"], test_fraction=0.0)
        monkeypatch.setattr(datasets, "_fast_values", lambda *a: None)
        slow = load_csv(p, input_columns=["x1", "x2"], test_fraction=0.0)
        monkeypatch.undo()
        assert fast == slow


# -- atomic saves leave nothing behind --------------------------------------------------------


def test_a_temp_file_stranded_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "exp.json"
    setup = PRESETS["xor4"][1]
    save_experiment(path, setup)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)  # that process has exited: its temp file is stale
    stale = tmp_path / f".exp.json.{dead_pid}.abcd_123.tmp"
    stale.write_bytes(b"{half a file")
    alive = tmp_path / f".exp.json.{os.getppid()}.abcd_123.tmp"  # a live process: kept
    alive.write_bytes(b"{")
    other = tmp_path / f".other.json.{dead_pid}.abcd_123.tmp"  # another file's: kept
    other.write_bytes(b"{")
    save_experiment(path, setup, title="again")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([path.name, alive.name, other.name])
    assert load_experiment(path).title == "again"
    assert remove_stale_temp_files(tmp_path / "other.json") == [other.name]


def test_a_real_killed_save_leaves_a_temp_file_that_the_next_save_removes(tmp_path):
    path = tmp_path / "exp.json"
    save_experiment(path, PRESETS["xor4"][1], title="old")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from bpviz.engine import experiment_io
        from bpviz.engine.experiment import PRESETS
        def die(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        experiment_io.os.replace = die
        experiment_io.save_experiment({str(path)!r}, PRESETS["spiral"][1])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode == -9, result.stderr.decode()
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].startswith(".exp.json.")
    save_experiment(path, PRESETS["xor4"][1], title="new")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert load_experiment(path).title == "new"


def test_saving_never_raises_anything_but_experiment_error_for_odd_titles(tmp_path):
    """The title given to save is checked like the loaded one: refused before writing."""
    with pytest.raises(ExperimentError, match=r"title: not valid Unicode"):
        save_experiment(tmp_path / "x.json", PRESETS["xor4"][1], title="\ud800")
    assert not list(tmp_path.iterdir())


def test_numbers_stay_as_they_were(tmp_path):
    """The text checks leave the data alone (a sanity check on the embedded arrays)."""
    doc = csv_doc(tmp_path)
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    exp = load_experiment(path)
    assert np.array_equal(exp.dataset.X_train, np.array(doc["dataset"]["X_train"]))


# -- no NumPy warning in normal use ------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "out"), [("linear", "linear"), ("tanh", "sigmoid"), ("relu", "softmax")]
)
def test_a_gradient_check_of_a_diverged_network_warns_nothing(act, out):
    """(Warnings are errors in this suite.) The result says inf/NaN instead."""
    from bpviz.engine import Network
    from bpviz.engine.gradcheck import gradient_check

    loss = "softmax_ce" if out == "softmax" else "sse"
    n_out = 2 if out == "softmax" else 1
    net = Network([2, 8, n_out], activation=act, output_activation=out, loss=loss, seed=0)
    net.params[...] = 1e200
    X = np.ones((4, 2))
    Y = np.zeros((4, n_out))
    Y[:, 0] = 1.0
    result = gradient_check(net, X, Y)
    assert len(result.max_rel_error) == 2


def test_a_storm_of_engine_commands_prints_nothing_on_stderr():
    """Random commands with extreme η on the bare engine, warnings shown (not raised): silent."""
    script = textwrap.dedent(
        f"""
        import random, sys, warnings
        sys.path.insert(0, {str(REPO)!r})
        warnings.simplefilter("default")
        import numpy as np
        from bpviz.engine import DivergenceError
        from bpviz.engine.experiment import PRESETS, build
        from bpviz.engine.gradcheck import gradient_check
        from bpviz.engine.predict import predict_layers
        rng = random.Random(16)
        for name in ("xor4", "spiral", "exploding"):
            trainer, data = build(PRESETS[name][1])
            for _ in range(300):
                c = rng.choice(["run", "phase", "back", "lr", "check", "predict", "snap"])
                try:
                    if c == "run":
                        trainer.run(rng.randint(1, 50))
                    elif c == "phase":
                        trainer.step_phase()
                    elif c == "back":
                        trainer.step_back()
                    elif c == "lr":
                        trainer.set_lr(rng.choice([0.0, 1e-3, 0.5, 10.0, 1e6, 1e300]))
                    elif c == "check":
                        gradient_check(trainer.net, data.X_train[:4], data.Y_train[:4])
                    elif c == "predict":
                        net = trainer.net
                        predict_layers(net.config(), net.weights, net.biases, data.X_train[:9])
                    else:
                        trainer.snapshot()
                except DivergenceError:
                    pass
        print("done")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.stdout == "done\n" and result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(("hidden", "n", "batch"), [((300, 300), 5000, 10), ((8, 8), 50_000, 10)])
def test_the_memory_estimate_matches_what_a_run_allocates(hidden, n, batch):
    """Traced NumPy allocations of a run (build, steps, snapshots, a phase walk) vs the estimate."""
    import tracemalloc

    from bpviz.engine.datasets import make_dataset
    from bpviz.engine.trainer import LossHistory

    ds = make_dataset("circle", n_samples=n, test_fraction=0.2)
    setup = Setup(dataset="circle", n_samples=n, hidden=hidden, batch_size=batch)
    tracemalloc.start()
    try:
        trainer, _ = build(setup, ds)
        trainer.run(20)
        snaps = [trainer.snapshot() for _ in range(3)]
        for _ in range(5):
            trainer.step_phase()
        snaps.append(trainer.snapshot())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = estimate_memory((2, *hidden, 1), n, batch)["total"]
    assert peak <= estimate <= 1.5 * peak + LossHistory.MAX_BYTES
    # An MNIST-sized run fits the budget; the 49 M parameters do not.
    assert estimate_memory((784, 128, 128, 10), 70_000, 128)["total"] < MEMORY_BUDGET
    assert estimate_memory((2, 7000, 7000, 1), 200, 10)["total"] > MEMORY_BUDGET
