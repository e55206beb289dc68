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


def test_the_initialiser_is_no_difference_when_every_run_starts_from_given_theta():
    # The lecture example's θ are given: its initialiser drew nothing, so a run saved with
    # the same θ and another initialiser's name differs in nothing a student could see.
    lecture = PRESETS["lecture"][1]
    assert lecture.params is not None
    other = lecture.with_(init="large", params=lecture.params)
    assert difference_label(other, lecture) == "same setup"
    assert difference_label(other.with_(lr=0.3), lecture) == "η = 0.3"
    # One of them drawn by its initialiser (what changing it does): both differences show.
    drawn = difference_label(lecture.with_(init="large"), lecture)
    assert "init: large" in drawn and "start θ from seed" in drawn


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


def test_a_kept_run_that_diverged_says_at_which_iteration():
    run = KeptRun(Setup(), [1, 2], [8.0, 9.0], [], np.empty((3, 0)), "batch Err", [10, 10], 3)
    assert run.diverged_at == 3 and run.end_text() == "diverged at iteration 3"
    assert KeptRun(Setup(), [1, 2], [8.0, 9.0], [], np.empty((3, 0))).end_text() is None
    # The trainer keeps the θ of the iteration before: nothing drawn at or after it.
    with pytest.raises(ValueError, match="after the last iteration it drew"):
        KeptRun(Setup(), [1, 2], [8.0, 9.0], [], np.empty((3, 0)), diverged_at=2)
    with pytest.raises(ValueError, match="after the last iteration it drew"):
        KeptRun(Setup(), [1], [8.0], [0, 5], np.ones((1, 2)), diverged_at=4)
    with pytest.raises(ValueError, match="≥ 1"):
        KeptRun(Setup(), [], [], [], np.empty((1, 0)), diverged_at=0)


# -- kept runs in experiment files ----------------------------------------------------


def _kept(setup: Setup, n: int = 6, layers: int = 3) -> KeptRun:
    x = np.arange(n, dtype=np.float64)
    err = 1.0 / (1.0 + x) + 1e-17 * np.pi  # not round: the file must keep every bit
    err[2] = np.inf  # a diverged Err: written as null, read as NaN
    delta = np.vstack([10.0 ** -(layers - l) * (1.0 + x / 7) for l in range(layers)])
    delta[0, 3] = np.nan
    return KeptRun(setup, x, err, x, delta, "training Err", np.full(n, 160.0))


def _save(tmp_path, setup, comparisons, name="x.json"):
    from bpviz.engine.experiment_io import save_experiment

    path = tmp_path / name
    save_experiment(path, setup, None, comparisons=comparisons)
    return path


def test_kept_runs_round_trip_through_the_experiment_file(tmp_path):
    import json

    from bpviz.engine.experiment_io import load_experiment

    live = PRESETS["vanishing"][1].with_(activation="relu")
    runs = (_kept(PRESETS["vanishing"][1], layers=7), _kept(live.with_(lr=0.3), n=4, layers=7))
    path = _save(tmp_path, live, runs)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 5  # older bpviz says "update bpviz" instead of "unknown field"
    assert doc["comparisons"][0]["loss_err"][2] is None
    assert doc["comparisons"][0]["loss_n"] == [160] * 6
    assert "label" not in doc["comparisons"][0]  # labels follow the live setup, not the file
    back = load_experiment(path).comparisons
    assert len(back) == 2
    for a, b in zip(runs, back, strict=True):
        assert b.setup == a.setup and b.loss_kind == a.loss_kind
        np.testing.assert_array_equal(b.loss_x, a.loss_x)
        np.testing.assert_array_equal(b.delta_x, a.delta_x)
        np.testing.assert_array_equal(b.delta, a.delta)  # NaN stays NaN
        fin = np.isfinite(a.loss_y)
        np.testing.assert_array_equal(b.loss_y[fin], a.loss_y[fin])  # bit for bit
        assert np.isnan(b.loss_y[~fin]).all()
        np.testing.assert_array_equal(b.loss_n, a.loss_n)
    assert [r.label(live) for r in back] == ["σ = sigmoid", "η = 0.3"]


def test_where_a_kept_run_diverged_round_trips_in_a_version_6_file(tmp_path):
    import json

    from bpviz.engine.experiment_io import load_experiment

    live = PRESETS["exploding"][1].with_(clip_norm=1.0)
    diverged = KeptRun(
        PRESETS["exploding"][1], [1, 2], [7.7e9, 2.2e56], [], np.empty((5, 0)), "batch Err",
        [10, 10], 3,
    )  # fmt: skip
    path = _save(tmp_path, live, (diverged, _kept(live)))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 6  # older bpviz says "update bpviz" instead of "unknown field"
    assert doc["comparisons"][0]["diverged_at"] == 3
    assert "diverged_at" not in doc["comparisons"][1]
    back = load_experiment(path).comparisons
    assert [r.diverged_at for r in back] == [3, None]
    assert back[0].end_text() == "diverged at iteration 3"
    # Without a kept run that diverged the file stays version 5, as before.
    path = _save(tmp_path, live, (_kept(live),), name="y.json")
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 5


def test_a_file_without_kept_runs_stays_version_2_and_loads_none(tmp_path):
    import json

    from bpviz.engine.experiment_io import load_experiment

    path = _save(tmp_path, Setup(), ())
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "comparisons" not in doc and doc["version"] == 2
    assert load_experiment(path).comparisons == ()


_BAD_SECTIONS = [
    (lambda c: c.append(dict(c[0])) or c * 3, "comparisons: at most 4 kept runs, got 6"),
    (lambda c: {"x": 1}, "comparisons: expected a list, got an object"),
    (lambda c: c[0].update(colour="red") or c, "comparisons[0].colour: unknown field"),
    (lambda c: c[0].pop("delta") and c, "comparisons[0].delta: missing"),
    (lambda c: c[0].update(loss_kind="best") or c, "comparisons[0].loss_kind: unknown kind"),
    (lambda c: c[0].update(loss_kind="a\x00b") or c, "comparisons[0].loss_kind: "),
    (lambda c: c[0]["setup"].update(lr="fast") or c, "comparisons[0].setup.lr: expected a"),
    (lambda c: c[0]["setup"].update(speed=1) or c, "comparisons[0].setup.speed: unknown setting"),
    (lambda c: c[0]["loss_err"].append(1.0) or c, "comparisons[0].loss_err: expected 6 values"),
    (lambda c: c[0]["loss_err"].__setitem__(1, "x") or c, "comparisons[0].loss_err[1]: expected"),
    (
        lambda c: c[0]["loss_iteration"].__setitem__(1, -4) or c,
        "comparisons[0].loss_iteration[1]: expected an iteration ≥ 0, got -4",
    ),
    (
        lambda c: c[0]["loss_iteration"].__setitem__(0, None) or c,
        "comparisons[0].loss_iteration[0]: expected a number, got null",
    ),
    (
        lambda c: c[0]["delta"][1].pop() and c,
        "comparisons[0].delta[1]: expected 6 values (one per iteration), got 5",
    ),
    (
        lambda c: c[0].update(delta_iteration=[0.0] * (2**20 + 1)) or c,
        "comparisons[0].delta_iteration: at most 1_048_576 points, got 1048577",
    ),
    (
        lambda c: c[0].update(diverged_at=5) or c,
        "comparisons[0].diverged_at: expected an iteration after the last one drawn (5), got 5",
    ),
    (
        lambda c: c[0].update(diverged_at="3") or c,
        "comparisons[0].diverged_at: expected a positive integer, got '3'",
    ),
    (lambda c: c[0]["loss_n"].pop() and c, "comparisons[0].loss_n: expected 6 values"),
    (
        lambda c: c[0]["loss_n"].__setitem__(1, 0.5) or c,
        "comparisons[0].loss_n[1]: expected a number of samples",
    ),
]


@pytest.mark.parametrize(("damage", "message"), _BAD_SECTIONS)
def test_a_damaged_comparisons_section_is_refused_in_one_sentence(tmp_path, damage, message):
    import json

    from bpviz.engine.experiment_io import ExperimentError, load_experiment

    path = _save(tmp_path, Setup(), (_kept(Setup(), layers=2),))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["comparisons"] = damage(doc["comparisons"])
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and "Traceback" not in text


def test_a_non_finite_iteration_is_not_written(tmp_path):
    from bpviz.engine.experiment_io import ExperimentError

    run = _kept(Setup(), layers=2)
    bad = KeptRun(
        run.setup,
        run.loss_x + np.array([0, 0, 0, 0, 0, np.inf]),
        run.loss_y,
        run.delta_x,
        run.delta,
    )
    with pytest.raises(ExperimentError):
        _save(tmp_path, Setup(), (bad,))
    assert not (tmp_path / "x.json").exists()


def test_a_kept_run_is_drawn_per_sample_with_its_own_n():
    # The same error per sample on 160 and on 40 samples: the same height.
    big = KeptRun(Setup(), [0, 1], [16.0, 8.0], [0], [[1.0]], "training Err", [160, 160])
    small = KeptRun(Setup(), [0, 1], [4.0, 2.0], [0], [[1.0]], "training Err", [40, 40])
    np.testing.assert_array_equal(big.loss_per_sample(), [0.1, 0.05])
    np.testing.assert_array_equal(small.loss_per_sample(), big.loss_per_sample())
    unknown = KeptRun(Setup(), [0, 1], [4.0, 2.0], [0], [[1.0]])
    assert np.isnan(unknown.loss_per_sample()).all()  # N not known: not drawn
    mean = KeptRun(Setup(loss="mse"), [0], [0.25], [0], [[1.0]], "training Err", [40])
    assert mean.loss_per_sample().tolist() == [0.25]  # a mean already


def test_kept_runs_of_a_version_4_file_get_the_n_of_their_setups(tmp_path):
    import json

    from bpviz.engine.experiment_io import load_experiment

    live = Setup(dataset="circle", n_samples=200, test_fraction=0.2, batch_size=32)
    other = live.with_(n_samples=100)
    batch = KeptRun(other, [1, 2, 3, 4, 5], np.ones(5), [0], [[1.0]], "batch Err")
    path = _save(tmp_path, live, (_kept(live), batch))
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["version"] = 4
    for c in doc["comparisons"]:
        del c["loss_n"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    back = load_experiment(path).comparisons
    assert back[0].loss_n.tolist() == [160.0] * 6  # 200 samples, 40 of them for testing
    # 80 training samples in batches of 32: 32, 32, 16, then the next epoch.
    assert back[1].loss_n.tolist() == [32.0, 32.0, 16.0, 32.0, 32.0]


def test_recorded_runs_of_bpviz_compare_give_err_per_sample():
    from bpviz.engine.compare import record_run
    from bpviz.engine.experiment import build

    trainer, data = build(Setup(dataset="circle", n_samples=50, hidden=(3,)))
    run = record_run(trainer, data.X_train, data.Y_train, 4, 4)
    assert run.n == trainer.n_train == 40
    np.testing.assert_array_equal(run.per_sample(), run.err / 40)
