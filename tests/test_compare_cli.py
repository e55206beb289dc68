"""bpviz compare: several experiments trained and overlaid, end to end in subprocesses."""

from __future__ import annotations

import csv
import math
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from bpviz.engine.compare import record_run
from bpviz.engine.experiment import Setup, build
from bpviz.engine.experiment_io import save_experiment
from tests.helpers import run_cli

SIG = Setup(
    dataset="xor4", hidden=(3, 3), activation="sigmoid", batch_size=4, lr=0.5, test_fraction=0.0
)


def _save(path: Path, setup: Setup) -> Path:
    _trainer, data = build(setup)
    save_experiment(path, setup, None, data)
    return path


def test_two_runs_differing_in_sigma_give_columns_labelled_by_sigma(tmp_path):
    a = _save(tmp_path / "a.json", SIG)
    b = _save(tmp_path / "b.json", SIG.with_(activation="relu"))
    out = tmp_path / "out"
    r = run_cli(
        "compare", str(a), str(b), "--steps", "40", "--points", "8", "--out", str(out), "-q"
    )
    assert r.returncode == 0, r.stderr
    with open(out / "compare.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    assert head[:7] == [
        "iteration",
        "Err sum [σ = sigmoid]",
        "Err sum [σ = ReLU]",
        "N [σ = sigmoid]",
        "N [σ = ReLU]",
        "Err per sample [σ = sigmoid]",
        "Err per sample [σ = ReLU]",
    ]
    assert "delta layer 1 [σ = sigmoid]" in head and "delta layer 3 [σ = ReLU]" in head
    assert [int(r[0]) for r in rows[1:]] == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    # The numbers are the engine's: the same run in-process gives the same Err.
    trainer, data = build(SIG)
    rec = record_run(trainer, data.X_train, data.Y_train, 40, 8)
    assert [float(r[1]) for r in rows[1:]] == rec.err.tolist()
    assert {r[3] for r in rows[1:]} == {"4"}  # xor4's 4 training samples
    assert [float(r[5]) for r in rows[1:]] == (rec.err / 4).tolist()
    assert "training Err/N = " not in r.stdout  # -q: nothing on stdout
    for stem in ("compare_loss", "compare_delta"):
        head_png = (out / f"{stem}.png").read_bytes()[:24]
        assert head_png[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", head_png[16:24]) == (900, 540)
        svg = ET.parse(out / f"{stem}.svg").getroot()
        assert svg.tag.endswith("svg")
        text = (out / f"{stem}.svg").read_text(encoding="utf-8")
        # Qt's SVG splits a label into runs of text ("σ = ", "sigmoid").
        assert "sigmoid</text>" in text and "ReLU</text>" in text
    # Err per sample, as the window draws it; the runs share N = 4, which the title gives.
    text = (out / "compare_loss.svg").read_text(encoding="utf-8")
    assert "(per sample)" in text and "(N = 4)" in text


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    a = _save(tmp_path / "a.json", SIG)
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")
    for args in (
        ("compare", str(a), "--steps", "5", "--out", str(tmp_path / "o")),
        ("compare", str(a), str(bad), "--steps", "5", "--out", str(tmp_path / "o")),
        ("compare", str(a), str(tmp_path / "missing.json"), "--steps", "5", "--out", "o"),
        ("compare", str(a), str(a), "--steps", "-1", "--out", str(tmp_path / "o")),
    ):
        r = run_cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("bpviz: error: "), r.stderr


def test_record_run_measures_delta_per_layer_and_stops_at_divergence():
    trainer, data = build(SIG)
    rec = record_run(trainer, data.X_train, data.Y_train, 10, 5)
    assert rec.delta.shape == (3, 6) and np.all(rec.delta > 0) and rec.diverged is None
    wild = Setup(
        dataset="plane",
        hidden=(8, 8),
        activation="linear",
        output_activation="linear",
        init="large",
        lr=10.0,
    )
    trainer, data = build(wild)
    rec = record_run(trainer, data.X_train, data.Y_train, 200, 10)
    assert rec.diverged is not None and math.isnan(rec.err[-1])


def test_the_legend_covers_no_curve_of_the_vanishing_example_against_relu(qtbot):
    """Sigmoid's output ‖δ‖ runs along the top of the plot: the legend stays off the data."""
    from types import SimpleNamespace

    from bpviz import cli
    from bpviz.engine.compare import run_labels
    from bpviz.engine.experiment import PRESETS

    sig = PRESETS["vanishing"][1]
    setups = [sig, sig.with_(activation="relu")]
    runs = []
    for setup in setups:
        trainer, data = build(setup)
        runs.append(record_run(trainer, data.X_train, data.Y_train, 60, 6))
    labels = run_labels(setups)
    figures = cli._compare_figures(runs, labels, SimpleNamespace(width=900, height=540))
    for plot in figures:
        qtbot.addWidget(plot)
        plot.show()
        qtbot.waitExposed(plot)
        item = plot.getPlotItem()
        legend, view = item.legend, item.getViewBox()
        assert [label.text for _, label in legend.items] == labels
        qtbot.waitUntil(lambda legend=legend: legend.sceneBoundingRect().height() > 0)
        assert not legend.sceneBoundingRect().intersects(view.sceneBoundingRect())
        assert plot.sceneRect().contains(legend.sceneBoundingRect())  # on the figure, whole


def test_runs_on_different_numbers_of_samples_are_drawn_per_sample_each_with_its_n(qapp):
    from types import SimpleNamespace

    from bpviz.cli import _compare_figures
    from bpviz.engine.compare import RecordedRun

    x = np.array([0.0, 10.0])
    runs = [
        RecordedRun(x, np.array([16.0, 8.0]), np.ones((1, 2)), n=160),
        RecordedRun(x, np.array([4.0, 2.0]), np.ones((1, 2)), n=40),
    ]
    loss, delta = _compare_figures(runs, ["a", "b"], SimpleNamespace(width=600, height=400))
    curves = {
        c.name(): c.getOriginalDataset()[1].tolist() for c in loss.getPlotItem().listDataItems()
    }
    assert curves == {"a, N = 160": [0.1, 0.05], "b, N = 40": [0.1, 0.05]}
    for plot in (loss, delta):
        plot.close()
        plot.deleteLater()
