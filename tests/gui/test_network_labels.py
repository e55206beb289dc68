"""The network picture's numbers stay readable where a lecturer needs them: a 720p projector.

No text is drawn smaller than ``MIN_LABEL_PT``, no two texts overlap, no text covers a neuron
or a bias square (other than its own number or "1") and none is cut off at the picture's
edge. On the built-in examples the neuron numbers and the bias squares' "1" are never left
out at 1280 × 720 or 1920 × 1080, in the window's normal layout or in presenter mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from bpviz.engine import Network, Trainer
from bpviz.views.network_view import MIN_LABEL_PT, NetworkView

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: The architectures of the examples that crowd the picture, and the lecture's.
ARCHITECTURES = {
    "vanishing": ([2, 8, 8, 8, 8, 8, 8, 1], True),
    "spiral": ([2, 8, 8, 8, 8, 1], True),
    "lecture": ([2, 2, 1], False),
    "xor": ([2, 4, 1], True),
}


def _rect(b: list[float]) -> tuple[float, float, float, float]:
    x, y, w, h = b
    return x, y, x + w, y + h


def _overlap(a: list[float], b: list[float]) -> bool:
    ax0, ay0, ax1, ay1 = _rect(a)
    bx0, by0, bx1, by1 = _rect(b)
    return ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1


def _touches_disc(b: list[float], disc: list[float], pad: float = 1.0) -> bool:
    x0, y0, x1, y1 = _rect(b)
    cx, cy, r = disc
    nx, ny = min(max(cx, x0), x1), min(max(cy, y0), y1)
    return (nx - cx) ** 2 + (ny - cy) ** 2 < (r + pad) ** 2


def problems(picture: dict) -> list[str]:
    """Everything wrong with a picture's texts: too small, overlapping, covering, cut off."""
    texts, discs, squares = picture["texts"], picture["discs"], picture["squares"]
    width, height = picture["size"]
    found = []
    for kind, text, b, pt in texts:
        if pt < MIN_LABEL_PT - 1e-9:
            found.append(f"{kind} {text!r} in {pt:.2f} pt")
        x0, y0, x1, y1 = _rect(b)
        if x0 < -0.5 or y0 < -0.5 or x1 > width + 0.5 or y1 > height + 0.5:
            found.append(f"{kind} {text!r} cut off at {b}")
    for m, (ka, ta, a, _) in enumerate(texts):
        for kb, tb, b, _ in texts[m + 1 :]:
            if _overlap(a, b):
                found.append(f"{ka} {ta!r} overlaps {kb} {tb!r}")
    numbers = [t for t in texts if t[0] == "number"]
    inside = picture["placement"] == "inside"
    for j, disc in enumerate(discs):
        for kind, text, b, _ in texts:
            own = kind == "number" and inside and numbers[j][2] == b
            if not own and _touches_disc(b, disc):
                found.append(f"{kind} {text!r} covers neuron {j + 1}")
    ones = [t for t in texts if t[0] == "bias"]
    for sq in squares:
        for kind, text, b, _ in texts:
            own = kind == "bias" and any(o[2] == sq for o in ones) and b == sq
            if not own and _overlap(b, sq):
                found.append(f"{kind} {text!r} covers a bias square")
    return found


def picture_of(view: NetworkView) -> dict:
    discs, squares = view.shapes()

    def box(r):
        return [r.x(), r.y(), r.width(), r.height()]

    return {
        "size": [view._W, view._H],
        "placement": view.number_placement(),
        "texts": [[k, t, box(r), pt] for k, t, r, pt in view.text_boxes()],
        "discs": [list(d) for d in discs],
        "squares": [box(r) for r in squares],
    }


def labelled(picture: dict, n_neurons: int, n_squares: int) -> list[str]:
    """What is left out: numbers (one per neuron) and the bias squares' "1"."""
    kinds = [t[0] for t in picture["texts"]]
    missing = []
    if kinds.count("number") != n_neurons:
        missing.append(f"{kinds.count('number')} of {n_neurons} neuron numbers")
    if kinds.count("bias") != n_squares:
        missing.append(f"{kinds.count('bias')} of {n_squares} bias labels")
    return missing


def test_the_checks_see_small_overlapping_and_covering_text():
    clean = {
        "size": [100, 100],
        "placement": "beside",
        "texts": [["number", "3", [10, 10, 10, 10], 9.0]],
        "discs": [[40, 15, 5]],
        "squares": [],
    }
    assert problems(clean) == []
    assert problems(clean | {"texts": [["number", "3", [10, 10, 10, 10], 6.0]]})
    two = [["number", "3", [10, 10, 10, 10], 9.0], ["value", "o=1", [15, 15, 10, 10], 9.0]]
    assert problems(clean | {"texts": two})
    assert problems(clean | {"discs": [[22, 15, 5]]})
    assert problems(clean | {"texts": [["number", "3", [95, 10, 10, 10], 9.0]]})


@pytest.fixture(scope="module")
def snapshots():
    """A trained snapshot per architecture: value labels with real numbers in them."""
    rng = np.random.default_rng(0)
    out = {}
    for name, (sizes, bias) in ARCHITECTURES.items():
        X = rng.normal(size=(8, sizes[0]))
        Y = rng.uniform(size=(8, sizes[-1]))
        trainer = Trainer(Network(sizes, seed=0, bias=bias), X, Y, batch_size=8)
        trainer.run(3)
        out[name] = trainer.snapshot()
    return out


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_no_text_is_too_small_overlaps_or_is_cut_off_at_any_size(qtbot, snapshots, name):
    sizes, bias = ARCHITECTURES[name]
    view = NetworkView(sizes, bias)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.show_snapshot(snapshots[name])
    for scale, contrast in ((1.0, False), (1.2, True), (1.8, True)):
        view.set_font_scale(scale)
        view.set_high_contrast(contrast)
        for width in (420, 620, 900, 1272, 1912):
            for height in (200, 260, 310, 420, 540, 650):
                view.resize(width, height)
                QApplication.processEvents()
                found = problems(picture_of(view))
                assert not found, (scale, width, height, found[:5])


def probe_window(tmp_path: Path, screen: tuple[int, int], examples: list[str]) -> list[dict]:
    """Run tests/gui/label_probe.py on one offscreen screen; its reports, one per line."""
    width, height = screen
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [
        {"name": "projector", "x": 0, "y": 0, "width": width, "height": height,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    ]}))  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
    }
    proc = subprocess.run(
        [sys.executable, str(HERE / "label_probe.py"), str(tmp_path / "settings"), *examples],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert proc.returncode == 0 and len(lines) == 2 * len(examples), proc.stderr[-2000:]
    return lines


@pytest.mark.parametrize("screen", [(1280, 720), (1920, 1080)])
def test_the_examples_keep_their_numbers_on_a_small_projector(tmp_path, screen):
    """The window itself, normal and presenter mode: every neuron numbered, nothing dropped."""
    examples = ["vanishing", "exploding", "spiral", "lecture"]
    for picture in probe_window(tmp_path, screen, examples):
        where = (screen, picture["example"], picture["mode"], picture["size"])
        n_squares = len(picture["sizes"]) - 1 if picture["bias"] else 0
        assert labelled(picture, len(picture["discs"]), n_squares) == [], where
        assert problems(picture) == [], where
        if picture["example"] == "lecture" and picture["mode"] == "presenter":
            assert picture["values"], where  # u, o and δ beside every neuron
