"""The command line, end to end in subprocesses (plus a few in-process checks)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from bpviz import __version__, cli
from bpviz.engine.experiment import PRESETS, Setup
from bpviz.engine.experiment_io import load_experiment, save_experiment
from tests.helpers import REPO, run_cli

SVG_NS = "{http://www.w3.org/2000/svg}"


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bpviz: error: "), lines[0]
    return lines[0]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def read_loss_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


# ---------------------------------------------------------------------------
# --help, --version, no command
# ---------------------------------------------------------------------------


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"bpviz {__version__}"


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "train" in result.stdout and "examples" in result.stdout
    assert result.stderr == ""


def test_train_help():
    result = run_cli("train", "--help")
    assert result.returncode == 0
    for option in ("--steps", "--out", "--example", "--quiet", "EXPERIMENT.json"):
        assert option in result.stdout


def test_no_arguments_means_open_the_window():
    assert cli.main([]) is None


def test_examples_are_listed():
    result = run_cli("examples")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == list(PRESETS)


def test_python_m_bpviz_runs_the_command_line():
    result = run_cli("--version", module="bpviz", timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"bpviz {__version__}"


# ---------------------------------------------------------------------------
# bpviz train
# ---------------------------------------------------------------------------


def test_train_an_example_for_500_steps(tmp_path):
    out = tmp_path / "out"
    result = run_cli("train", "--example", "xor4", "--steps", "500", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    assert result.stderr == ""
    assert "trained 500 iterations" in result.stdout
    # xor4: 4 training samples, no test set; Err over N as the loss plot gives it.
    assert "; training Err/N = " in result.stdout and "/4 = " in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "experiment.json",
        "loss.csv",
        "loss.png",
        "loss.svg",
    ]
    # loss.csv: one row per iteration, plus iteration 0 (the initial evaluation).
    header, rows = read_loss_csv(out / "loss.csv")
    assert header[:4] == ["iteration", "batch_n", "batch_err_sum", "batch_err_per_sample"]
    assert [int(r[0]) for r in rows] == list(range(501))
    batch = [r[2] for r in rows[1:]]
    assert len(batch) == 500 and all(b != "" for b in batch)
    # The trained experiment loads, and its history is the CSV's.
    exp = load_experiment(out / "experiment.json")
    assert exp.iteration == 500 and exp.setup == PRESETS["xor4"][1]
    assert np.array_equal(exp.history.batch_err, np.array([float(b) for b in batch]))
    assert exp.title == PRESETS["xor4"][0]
    # The images.
    assert png_size(out / "loss.png") == (800, 500)
    root = ET.parse(out / "loss.svg").getroot()
    assert root.tag == f"{SVG_NS}svg"
    longest = max(sum("," in t for t in p.get("d", "").split()) for p in root.iter(f"{SVG_NS}path"))
    assert longest >= 250


def test_train_a_file_continues_its_run(tmp_path):
    first = tmp_path / "first"
    assert (
        run_cli("train", "--example", "circle", "--steps", "120", "--out", str(first)).returncode
        == 0
    )
    second = tmp_path / "second"
    result = run_cli(
        "train",
        str(first / "experiment.json"),
        "--steps",
        "80",
        "--out",
        str(second),
        "--quiet",
        "--width",
        "640",
        "--height",
        "360",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    exp = load_experiment(second / "experiment.json")
    assert exp.iteration == 200
    before = load_experiment(first / "experiment.json")
    assert np.array_equal(exp.history.batch_err[:120], before.history.batch_err)
    _, rows = read_loss_csv(second / "loss.csv")
    assert int(rows[-1][0]) == 200
    assert png_size(second / "loss.png") == (640, 360)


def test_train_a_csv_experiment(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "".join(f"{i / 10},{i % 2}\n" for i in range(20)), encoding="utf-8")
    setup = Setup(dataset="csv", csv_path=str(data), hidden=(3,), batch_size=5, lr=0.2)
    save_experiment(tmp_path / "e.json", setup)
    data.unlink()  # the data travels in the experiment file
    result = run_cli(
        "train", str(tmp_path / "e.json"), "--steps", "30", "--out", str(tmp_path / "o")
    )
    assert result.returncode == 0, result.stderr
    assert load_experiment(tmp_path / "o" / "experiment.json").dataset.n_inputs == 1


def test_zero_steps_exports_the_initial_state(tmp_path):
    result = run_cli("train", "--example", "lecture", "--steps", "0", "--out", str(tmp_path), "-q")
    assert result.returncode == 0, result.stderr
    _, rows = read_loss_csv(tmp_path / "loss.csv")
    assert [r[0] for r in rows] == ["0"]


# -- bad input: exit 2, one line ---------------------------------------------------------


def test_invalid_json_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "bpviz-experiment",\n "version": 1,,}', encoding="utf-8")
    result = run_cli("train", str(bad), "--steps", "10", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    line = one_error_line(result)
    assert "bad.json: line 2, column 15: invalid JSON" in line
    assert not (tmp_path / "o").exists()


def test_invalid_field(tmp_path):
    doc = json.loads((REPO / "resources" / "examples" / "xor4.json").read_text(encoding="utf-8"))
    doc["setup"]["hidden"] = [4, "x"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    result = run_cli("train", str(bad), "--steps", "10", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert one_error_line(result).endswith(
        "bad.json: setup.hidden[1]: expected a positive integer up to 100_000, got 'x'"
    )


def test_nonexistent_file(tmp_path):
    result = run_cli("train", str(tmp_path / "nope.json"), "--steps", "10", "--out", str(tmp_path))
    assert result.returncode == 2
    assert one_error_line(result).endswith("nope.json: file not found")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--example", "xor4", "--out", "o"], "required: --steps"),
        (["train", "--example", "xor4", "--steps", "-5", "--out", "o"], "expected a number from 0"),
        (
            ["train", "--example", "xor4", "--steps", "many", "--out", "o"],
            "expected a whole number",
        ),
        (["train", "--steps", "5", "--out", "o"], "either EXPERIMENT.json or --example"),
        (["train", "x.json", "--example", "xor4", "--steps", "5", "--out", "o"], "not both"),
        (["train", "--example", "moons", "--steps", "5", "--out", "o"], "unknown example 'moons'"),
        (["train", "--example", "xor4", "--steps", "5", "--out", "o", "--width", "3"], "16 to"),
        (["fly"], "invalid choice: 'fly'"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_usage_errors(tmp_path, args, message):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert result.stdout == ""


def test_output_directory_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    result = run_cli("train", "--example", "xor4", "--steps", "5", "--out", str(tmp_path / "f"))
    assert result.returncode == 2
    assert "cannot create the output directory" in one_error_line(result)


# -- divergence: exit 3, outputs still written ----------------------------------------------


def test_divergence_stops_reports_and_still_writes(tmp_path):
    setup = Setup(
        dataset="plane",
        hidden=(8, 8),
        activation="linear",
        output_activation="linear",
        init="large",
        lr=0.5,
    )
    save_experiment(tmp_path / "boom.json", setup)
    out = tmp_path / "out"
    result = run_cli(
        "train", str(tmp_path / "boom.json"), "--steps", "5000", "--out", str(out), "-q"
    )
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpviz: ") and "diverged" in lines[0]
    exp = load_experiment(out / "experiment.json")
    assert 0 < exp.iteration < 5000
    assert np.all(np.isfinite(exp.params))
    _, rows = read_loss_csv(out / "loss.csv")
    assert int(rows[-1][0]) == exp.iteration
    assert png_size(out / "loss.png") == (800, 500)
    assert (out / "loss.svg").stat().st_size > 0


# ---------------------------------------------------------------------------
# The progress bar (in process)
# ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_progress_bar_redraws_at_most_ten_times_a_second(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(cli.time, "monotonic", clock)
    stream = io.StringIO()
    bar = cli.Progress(1000, stream, enabled=True)
    for done in range(1, 1001):
        clock.t += 0.002  # 2 s in all, an update every 2 ms
        bar.update(done, 0.5)
    bar.close()
    text = stream.getvalue()
    draws = text.count("\r")
    assert 10 <= draws <= 17  # 1.5 s shown (after 0.5 s) at ≤ 10 per second, + the last
    assert text.endswith("\n")
    last = text.rstrip("\n").split("\r")[-1]
    assert "1000" in last and "Err 0.5" in last and len(last) < 80


def test_progress_bar_gives_the_batch_err_per_sample(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(cli.time, "monotonic", clock)
    stream = io.StringIO()
    bar = cli.Progress(10, stream, enabled=True)
    clock.t += 1.0
    bar.update(10, 0.5, 10)  # a batch of 10 samples: Err 0.5, 0.05 per sample
    bar.close()
    assert stream.getvalue().rstrip("\n").endswith("Err/N 0.05")


def test_progress_bar_is_silent_for_short_runs_and_when_disabled(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(cli.time, "monotonic", clock)
    quick, off = io.StringIO(), io.StringIO()
    a = cli.Progress(10, quick, enabled=True)
    b = cli.Progress(10, off, enabled=False)
    for done in range(10):
        clock.t += 0.01
        a.update(done, math.nan)
        b.update(done, math.nan)
    a.close()
    b.close()
    clock.t += 10
    b.update(10, 1.0)
    assert quick.getvalue() == "" and off.getvalue() == ""


# ---------------------------------------------------------------------------
# Ctrl+C stops between chunks (in process)
# ---------------------------------------------------------------------------


class CountingTrainer:
    """Stands in for a Trainer: counts iterations, sends itself SIGINT once."""

    def __init__(self, interrupt_at: int) -> None:
        self.iteration = 0
        self.interrupt_at = interrupt_at

    def run(self, n: int) -> float:
        self.iteration += n
        if self.interrupt_at is not None and self.iteration >= self.interrupt_at:
            self.interrupt_at = None
            os.kill(os.getpid(), signal.SIGINT)
        return 0.25


def test_ctrl_c_stops_training_between_chunks_and_restores_the_handler():
    before = signal.getsignal(signal.SIGINT)
    trainer = CountingTrainer(interrupt_at=100)
    done, diverged, interrupted = cli._train(
        trainer, 10**8, cli.Progress(10**8, io.StringIO(), False)
    )
    assert interrupted and diverged is None
    assert 100 <= done == trainer.iteration < 10**8
    assert signal.getsignal(signal.SIGINT) is before


def test_training_runs_exactly_the_steps_asked():
    trainer = CountingTrainer(interrupt_at=None)
    done, diverged, interrupted = cli._train(trainer, 12345, cli.Progress(1, io.StringIO(), False))
    assert (done, diverged, interrupted) == (12345, None, False)


# -- hostile inputs (issue 16): one line, exit 2; a failing output does not stop the others ----


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = run_cli("train", str(fifo), "--steps", "5", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert one_error_line(result).endswith("pipe.json: is a FIFO, not a regular file")


def test_a_lone_surrogate_in_the_title_is_refused_before_training(tmp_path):
    text = (REPO / "resources" / "examples" / "xor4.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    doc["title"] = "@T@"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc).replace("@T@", "\\ud800"), encoding="utf-8")
    result = run_cli("train", str(bad), "--steps", "5", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert one_error_line(result).endswith(
        "bad.json: title: not valid Unicode (lone surrogate U+D800)"
    )


def test_an_output_that_cannot_be_written_does_not_stop_the_others(tmp_path):
    out = tmp_path / "o"
    (out / "loss.csv").mkdir(parents=True)  # a directory where loss.csv should go
    result = run_cli("train", "--example", "xor4", "--steps", "5", "--out", str(out))
    assert result.returncode == 1
    line = one_error_line(result)
    assert "cannot write loss.csv (" in line
    assert line.endswith("; wrote experiment.json, loss.png, loss.svg")
    assert load_experiment(out / "experiment.json").iteration == 5
    assert png_size(out / "loss.png")[0] > 0
    assert sorted(p.name for p in out.iterdir()) == [
        "experiment.json",
        "loss.csv",
        "loss.png",
        "loss.svg",
    ]
