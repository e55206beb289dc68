"""Notebook display (issue #20): Network, Trainer and Snapshot draw themselves as SVG, no Qt."""

from __future__ import annotations

import base64
import xml.dom.minidom
from pathlib import Path

import numpy as np
import pytest

from bpviz.engine import Network, Trainer, UpdateRule
from bpviz.worked import figure, handout
from bpviz.worked.figure import NEUTRAL, diverging_lut, network_picture, value_colors
from tests.helpers import QT_PREFIXES, modules_loaded_by

REPO = Path(__file__).resolve().parents[2]
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)
GREY = "#{:02x}{:02x}{:02x}".format(*NEUTRAL)


def _trainer() -> Trainer:
    net = Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    return Trainer(net, X, Y, rule=UpdateRule(lr=0.5), batch_size=4, seed=0)


def _circles(svg: str) -> list[str]:
    """Fill of every neuron circle (bias inputs excluded), in drawing order."""
    doc = xml.dom.minidom.parseString(svg)
    fills = [c.getAttribute("fill") for c in doc.getElementsByTagName("circle")]
    return [f for f in fills if f != "#eeeeee"]


def test_network_shows_theta_and_grey_neurons_before_any_delta():
    svg = Network([2, 3, 1], seed=0)._repr_svg_()
    fills = _circles(svg)
    assert len(fills) == 6
    assert fills[:2] == ["#ffffff", "#ffffff"]  # inputs carry no δ
    assert fills[2:] == [GREY] * 4  # no δ yet: the app's "not computed yet" grey
    assert "θ (weight)" in svg and "grey: not computed yet" in svg
    assert "2–3–1 network" in svg


def test_trainer_shows_its_last_delta_without_taking_losses_from_the_stream():
    trainer = _trainer()
    trainer.run(10)
    svg = trainer._repr_svg_()
    assert GREY not in _circles(svg)
    assert "iteration 10" in svg
    assert trainer.snapshot().new_losses.size == 10  # the picture moved no cursor


def test_snapshot_mid_walk_greys_what_is_not_computed_yet():
    trainer = _trainer()
    walk = trainer.phases()
    for _ in range(4):  # forward ×2, Err, output δ
        phase = next(walk)
    assert phase.kind == "output_delta"
    fills = _circles(trainer.snapshot()._repr_svg_())
    assert fills[2:5] == [GREY] * 3  # hidden δ: not yet
    assert fills[5] != GREY  # output δ: computed


def test_colours_are_the_maps_with_zero_in_the_middle():
    lut = diverging_lut()
    assert lut.shape == (129, 3)
    got = value_colors(np.array([-2.0, 0.0, 2.0, 5.0, np.nan]), 2.0)
    np.testing.assert_allclose(got[0], lut[0])
    np.testing.assert_allclose(got[1], lut[64])
    np.testing.assert_allclose(got[2], lut[-1])
    np.testing.assert_allclose(got[3], lut[-1])  # clamped
    np.testing.assert_allclose(got[4], np.array(NEUTRAL) / 255)
    assert lut[0, 2] > lut[0, 0] and lut[-1, 0] > lut[-1, 2]  # blue negative, red positive


def test_edge_colour_and_width_follow_theta():
    net = Network([1, 1], seed=0)
    net.weights[0][0, 0] = -0.8
    net.biases[0][0] = 0.2
    lay = network_picture(net.sizes, net.weights, net.biases)
    weight, bias = lay.edges
    assert lay.legends[0].range == 1.0  # 0.8 with the app's 25 % headroom, rounded up nicely
    level = 64 + round(-0.8 * 64)  # of 129, 64 being 0
    assert weight.color == "#" + "".join(f"{round(c * 255):02x}" for c in diverging_lut()[level])
    assert weight.width > bias.width


def test_handout_pictures_colour_the_sign_of_theta_as_the_app_does():
    """Red θ ≥ 0, blue θ < 0: the ends of the app's map, in every handout and sheet picture."""
    lut = diverging_lut()
    hex_of = lambda rgb: "#" + "".join(f"{round(c * 255):02x}" for c in rgb)  # noqa: E731
    assert (hex_of(lut[0]), hex_of(lut[-1])) == (figure.NEGATIVE, figure.POSITIVE)
    weights = [np.array([[0.5, -0.5]])]
    lay = figure.layout([2, 1], weights, None)
    assert [e.color for e in lay.edges] == [figure.POSITIVE, figure.NEGATIVE]
    tex = figure.to_latex_picture(lay)
    assert r"\color{bppositive}" in tex and r"\color{bpnegative}" in tex
    assert "red θ ≥ 0, blue θ < 0" in figure.SIGN_KEY


def test_displaying_imports_no_qt():
    loaded = modules_loaded_by(
        "import numpy as np\n"
        "from bpviz.engine import Network, Trainer\n"
        "net = Network([2, 2, 1], seed=0)\n"
        "t = Trainer(net, np.zeros((4, 2)), np.zeros((4, 1)))\n"
        "t.run(2)\n"
        "assert '<svg' in net._repr_svg_() + t._repr_svg_() + t.snapshot()._repr_svg_()"
    )
    assert "bpviz.worked.figure" in loaded
    assert not [m for m in loaded if m.startswith(QT_PREFIXES)]


@pytest.fixture(scope="module")
def doc():
    trainer = _trainer()
    return handout.make(trainer, title="XOR")


def test_worked_iteration_displays_as_html_with_its_picture(doc):
    html = doc._repr_html_()
    assert html.startswith('<div class="bpviz-handout">') and html.endswith("</div>")
    assert "<svg" in html and "<h2>XOR: iteration 1</h2>" in html
    assert "δ" in html and "<html" not in html  # a fragment for a cell, not a page


def test_worked_iteration_displays_as_markdown_math(doc):
    md = doc._repr_markdown_()
    assert "$$" in md and r"\delta" in md
    uri = md.split("](data:image/svg+xml;base64,", 1)[1].split(")", 1)[0]
    assert base64.b64decode(uri).decode("utf-8").startswith("<svg")


def test_vanished_delta_still_gets_a_range_and_its_colour():
    from bpviz.worked.figure import symmetric_range

    for tiny in (1e-300, 5e-324, 1e-320):
        r = symmetric_range(np.array([tiny, -tiny]))
        assert r > 0
        assert value_colors(np.array([tiny]), r).shape == (1, 3)  # no warning (they are errors)
