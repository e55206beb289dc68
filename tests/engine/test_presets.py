"""The built-in gradient presets show what section 9 of the notes says they show."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bpviz.engine import DivergenceError
from bpviz.engine.experiment import PRESETS, build


def delta_rms(trainer):
    snap = trainer.snapshot()
    return [float(np.sqrt(np.mean(np.square(d)))) for d in snap.delta[1:]]


def test_deep_sigmoid_net_first_layer_delta_is_orders_of_magnitude_below_the_output():
    trainer, _ = build(PRESETS["vanishing"][1])
    trainer.run(5)
    rms = delta_rms(trainer)
    assert rms[0] < rms[-1] / 1000  # vanishing: three orders of magnitude and more
    assert all(a < b for a, b in itertools.pairwise(rms))  # shrinking layer by layer


def test_relu_with_he_init_is_the_remedy_for_vanishing_gradients():
    trainer, _ = build(PRESETS["vanishing"][1].with_(activation="relu", init="he"))
    trainer.run(5)
    rms = delta_rms(trainer)
    assert rms[0] > rms[-1] / 10


def test_too_large_initialisation_makes_delta_grow_towards_the_input_then_diverge():
    trainer, _ = build(PRESETS["exploding"][1])
    trainer.run(1)
    rms = delta_rms(trainer)
    assert rms[0] > rms[-1] * 1000  # exploding: grows by orders of magnitude backwards
    with pytest.raises(DivergenceError):
        trainer.run(100)
    assert np.isfinite(trainer.net.params).all()


@pytest.mark.parametrize("remedy", [{"init": "xavier"}, {"clip_norm": 1.0}])
def test_careful_initialisation_or_clipping_keeps_the_exploding_preset_finite(remedy):
    trainer, _ = build(PRESETS["exploding"][1].with_(**remedy))
    trainer.run(100)
    assert np.isfinite(trainer.history.batch_err).all()


@pytest.mark.parametrize("remedy", [{"init": "xavier"}, {"clip_norm": 1.0}])
def test_each_remedy_of_the_exploding_preset_learns(remedy):
    # What C and X show in the window: the remedy does not only stay finite, it learns
    # (a tiny η would leave its Err flat beside the diverged run's ghost).
    trainer, _ = build(PRESETS["exploding"][1].with_(**remedy))
    trainer.run(20_000)
    err = trainer.history.batch_err
    assert np.isfinite(err).all()
    assert err[-100:].mean() < 1e-6 * err[:10].mean()


def test_lecture_preset_has_the_round_numbers_and_keeps_them_on_reset():
    trainer, _ = build(PRESETS["lecture"][1])
    assert trainer.net.weights[0].tolist() == [[0.5, -0.5], [0.25, 0.75]]
    assert trainer.net.weights[1].tolist() == [[1.0, -1.0]]
    trainer.run(3)
    trainer.reset()
    assert trainer.net.weights[0].tolist() == [[0.5, -0.5], [0.25, 0.75]]
