"""Labels for compared runs: what differs, in the notes' words (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine.compare import (
    KeptRun,
    difference_label,
    differing_fields,
    replay_options,
    run_labels,
)
from bpviz.engine.experiment import PRESETS, Setup


def test_label_names_the_kept_runs_activation_against_the_live_one():
    sig = Setup(activation="sigmoid")
    assert difference_label(sig, sig.with_(activation="relu")) == "σ = sigmoid"
    assert difference_label(sig.with_(activation="relu"), sig) == "σ = ReLU"


@pytest.mark.parametrize(
    ("changes", "label"),
    [
        ({"lr": 0.3}, "η = 0.3"),
        ({"init": "large"}, "init: large"),
        ({"clip_norm": 1.0}, "clip ‖g‖ ≤ 1"),
        ({"hidden": (8, 8)}, "layers: 8-8"),
        ({"lr": 0.3, "activation": "relu"}, "σ = ReLU, η = 0.3"),
        ({}, "same setup"),
    ],
)
def test_label_lists_every_difference(changes, label):
    live = Setup()
    assert difference_label(live.with_(**changes), live) == label


def test_live_without_clipping_is_said_so():
    live = Setup(clip_norm=1.0)
    assert difference_label(Setup(), live) == "no clipping"


def test_run_labels_for_several_runs_name_only_what_differs():
    a = Setup(activation="sigmoid")
    b = a.with_(activation="relu")
    assert differing_fields([a, b]) == ["activation"]
    assert run_labels([a, b]) == ["σ = sigmoid", "σ = ReLU"]
    assert run_labels([a, a]) == ["run 1", "run 2"]


def test_replay_options_follow_the_presets_story():
    vanishing = PRESETS["vanishing"][1]
    assert next(c for _, c in replay_options(vanishing)) == {"activation": "relu"}
    exploding = {t.replace("&", ""): c for t, c in replay_options(PRESETS["exploding"][1])}
    assert exploding["Compare with clipping (‖g‖ ≤ 1)"] == {"clip_norm": 1.0}
    assert exploding["Compare with Xavier init"] == {"init": "xavier"}
    assert replay_options(vanishing)[-1][1] == {}


def test_kept_run_is_frozen_and_draws_layers_as_one_broken_line():
    run = KeptRun(Setup(), [0, 1], [2.0, 1.0], [0, 1, 2], [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError):
        run.loss_y[0] = 5.0
    x, y = run.delta_polyline()
    assert x.tolist()[:3] == [0, 1, 2] and np.isnan(x[3]) and y.tolist()[4:] == [4, 5, 6]
    with pytest.raises(ValueError, match="one row per layer"):
        KeptRun(Setup(), [0], [1.0], [0, 1], [[1.0]])
