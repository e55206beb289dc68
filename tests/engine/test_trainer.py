"""Trainer and Network behaviour: seeds, reset, epochs, divergence, validation, update rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bpviz.engine import DivergenceError, Network, Trainer, UpdateRule
from bpviz.engine.network import MAX_LAYER_SIZE


def regression_data(n=20, n_in=2, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))


def make_trainer(sizes=(2, 4, 1), net_seed=0, seed=0, batch_size=3, rule=None, n=20, **net_kw):
    net = Network(list(sizes), seed=net_seed, **net_kw)
    X, Y = regression_data(n, sizes[0], sizes[-1])
    return Trainer(net, X, Y, rule=rule or UpdateRule(lr=0.1), batch_size=batch_size, seed=seed)


# -- seeds and reset -----------------------------------------------------------------------


def test_same_seeds_give_identical_params_after_50_steps():
    a = make_trainer(net_seed=3, seed=5, rule=UpdateRule(lr=0.1, momentum=0.5))
    b = make_trainer(net_seed=3, seed=5, rule=UpdateRule(lr=0.1, momentum=0.5))
    assert np.array_equal(a.net.params, b.net.params)
    a.run(50)
    b.run(50)
    assert np.array_equal(a.net.params, b.net.params)
    assert np.array_equal(a.history.batch_err, b.history.batch_err)


def test_different_network_seed_gives_different_initial_weights():
    a = Network([2, 4, 1], seed=0)
    b = Network([2, 4, 1], seed=1)
    assert not np.array_equal(a.params, b.params)
    assert np.array_equal(a.params, Network([2, 4, 1], seed=0).params)


def test_different_shuffle_seed_gives_different_params_after_50_steps():
    a = make_trainer(net_seed=3, seed=5)
    b = make_trainer(net_seed=3, seed=6)
    assert np.array_equal(a.net.params, b.net.params)  # same start
    a.run(50)
    b.run(50)
    assert not np.array_equal(a.net.params, b.net.params)


@pytest.mark.parametrize("init", ["xavier", "he", "small", "large"])
def test_initialize_with_the_same_seed_redraws_the_same_weights(init):
    net = Network([3, 5, 2], init=init, seed=9)
    first = net.params.copy()
    net.params[...] = 0.0
    net.initialize()
    assert np.array_equal(net.params, first)
    net.initialize(10)
    assert not np.array_equal(net.params, first)
    for b in net.biases:
        assert np.array_equal(b, np.zeros_like(b))  # biases start at 0


def test_reset_reproduces_initial_weights_and_trajectory_exactly():
    tr = make_trainer(rule=UpdateRule(lr=0.1, momentum=0.9))
    initial = tr.net.params.copy()
    tr.run(30)
    after_30 = tr.net.params.copy()
    errs = tr.history.batch_err.copy()
    tr.reset()
    assert np.array_equal(tr.net.params, initial)
    assert tr.iteration == 0
    assert tr.epoch == 0
    assert len(tr.history) == 0
    assert tr.history.n_eval == 1  # the evaluation of the initial weights
    tr.run(30)
    assert np.array_equal(tr.net.params, after_30)
    assert np.array_equal(tr.history.batch_err, errs)


def test_reset_mid_walk_discards_the_walk():
    tr = make_trainer()
    initial = tr.net.params.copy()
    tr.run(2)
    tr.step_phase()
    tr.reset()
    assert tr.walk_phase is None
    assert np.array_equal(tr.net.params, initial)
    tr.step()
    assert tr.iteration == 1


# -- epochs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch_size", "per_epoch"), [(1, 20), (7, 3), (None, 1), (20, 1), (50, 1)]
)
def test_epoch_counts_completed_passes_over_the_training_set(batch_size, per_epoch):
    tr = make_trainer(batch_size=batch_size, n=20)
    for it in range(1, 3 * per_epoch + 2):
        tr.step()
        assert tr.iteration == it
        assert tr.epoch == it // per_epoch, f"iteration {it}"


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_each_epoch_uses_every_training_sample_exactly_once(batch_size):
    tr = make_trainer(batch_size=batch_size, n=20)
    X = tr.X_train
    for _ in range(3):
        rows = []
        start_epoch = tr.epoch
        while tr.epoch == start_epoch:
            tr.step()
            rows.append(np.asarray(tr.snapshot().x))
        seen = np.concatenate(rows)
        assert seen.shape == X.shape
        assert np.array_equal(np.unique(seen, axis=0), np.unique(X, axis=0))


@pytest.mark.parametrize(("first", "then"), [(7, None), (7, 20), (7, 5), (3, 1)])
def test_changing_batch_size_mid_epoch_still_uses_every_sample_once(first, then):
    tr = make_trainer(batch_size=first, n=20)
    tr.step()
    rows = [np.asarray(tr.snapshot().x)]
    tr.set_batch_size(then)  # takes effect at once, for the rest of this epoch
    while tr.epoch == 0:
        tr.step()
        rows.append(np.asarray(tr.snapshot().x))
    seen = np.concatenate(rows)
    assert seen.shape == tr.X_train.shape
    assert np.unique(seen, axis=0).shape[0] == tr.n_train  # none repeated, none skipped


def test_run_zero_does_nothing_even_mid_walk():
    tr = make_trainer()
    tr.run(2)
    phase = tr.step_phase()
    before = tr.net.params.copy()
    tr.run(0)
    assert tr.iteration == 2
    assert tr.walk_phase == phase
    assert np.array_equal(tr.net.params, before)


def test_run_n_mid_walk_completes_n_iterations_in_total():
    tr = make_trainer()
    tr.step_phase()
    tr.run(3)  # finishes the walked iteration, then 2 fast ones
    assert tr.iteration == 3
    assert tr.walk_phase is None


def test_batch_sizes_are_clamped_to_the_training_set_and_validated():
    tr = make_trainer(batch_size=500, n=20)
    assert tr.batch_size == 20
    with pytest.raises(ValueError, match="batch size"):
        tr.set_batch_size(0)


def test_walked_iterations_count_epochs_like_fast_ones():
    tr = make_trainer(batch_size=7, n=20)
    for _ in range(3):
        for _ in tr.phases():
            pass
    assert tr.iteration == 3
    assert tr.epoch == 1


# -- divergence --------------------------------------------------------------------------
#
# The suite turns warnings into errors, so each test below also checks that
# divergence surfaces as DivergenceError / an inf or NaN Err and not as a NumPy
# RuntimeWarning (STYLE §2: keep the numerics quiet).

DIVERGING = {
    "tanh_lr_1e6_linear_output": {
        "net": {"activation": "tanh", "output_activation": "linear"},
        "lr": 1e6,
        "n": 8,
        "batch_size": 3,
    },
    "relu_lr_1e6_full_batch": {
        "net": {"activation": "relu", "output_activation": "linear"},
        "lr": 1e6,
        "n": 20,
        "batch_size": None,
    },
    "large_init_linear": {
        "net": {"activation": "linear", "output_activation": "linear", "init": "large"},
        "lr": 1e3,
        "n": 20,
        "batch_size": 3,
    },
}


def diverging_trainer(case: str) -> Trainer:
    spec = DIVERGING[case]
    return make_trainer(
        sizes=(2, 3, 1),
        rule=UpdateRule(lr=spec["lr"]),
        n=spec["n"],
        batch_size=spec["batch_size"],
        **spec["net"],
    )


def run_until_divergence(tr: Trainer, iterate, max_steps: int = 500):
    """Call iterate(tr) until DivergenceError; returns (error, params before, iterations done)."""
    for done in range(max_steps):
        before = tr.net.params.copy()
        try:
            iterate(tr)
        except DivergenceError as exc:
            return exc, before, done
    raise AssertionError(f"no divergence within {max_steps} iterations")


def fast_step(tr: Trainer) -> None:
    tr.step()


def walk_with_step_phase(tr: Trainer) -> None:
    tr.step_phase()
    tr.finish_walk()


def walk_with_phases_generator(tr: Trainer) -> None:
    for _ in tr.phases():
        pass


ITERATE = {
    "step": fast_step,
    "step_phase": walk_with_step_phase,
    "phases_generator": walk_with_phases_generator,
}


@pytest.mark.parametrize("how", list(ITERATE))
@pytest.mark.parametrize("case", list(DIVERGING))
def test_huge_learning_rate_raises_divergence_error_mentioning_eta(case, how):
    tr = diverging_trainer(case)
    exc, _, _ = run_until_divergence(tr, ITERATE[how])
    lr = DIVERGING[case]["lr"]
    assert f"η = {lr:g}" in str(exc)  # names η and its value, e.g. "η = 1e+06"


@pytest.mark.parametrize("how", list(ITERATE))
@pytest.mark.parametrize("case", list(DIVERGING))
def test_divergence_keeps_the_last_finite_params(case, how):
    tr = diverging_trainer(case)
    _, before, done = run_until_divergence(tr, ITERATE[how])
    assert np.all(np.isfinite(tr.net.params))
    assert np.array_equal(tr.net.params, before)
    assert tr.iteration == done
    assert len(tr.history) == done
    assert np.all(np.isfinite(tr.history.batch_err))
    assert tr.walk_phase is None


@pytest.mark.parametrize("case", list(DIVERGING))
def test_after_divergence_the_trainer_is_back_at_the_start_of_that_iteration(case):
    tr = diverging_trainer(case)
    _, _, done = run_until_divergence(tr, fast_step)
    twin = diverging_trainer(case)
    twin.run(done)
    assert np.array_equal(tr.net.params, twin.net.params)
    assert (tr.iteration, tr.epoch) == (twin.iteration, twin.epoch)
    assert np.array_equal(tr.history.batch_err, twin.history.batch_err)
    # the next iteration starts on the same batch as the twin's next one
    tr.step_phase()
    twin.step_phase()
    a, b = tr.snapshot(), twin.snapshot()
    assert np.array_equal(a.x, b.x)
    assert np.array_equal(a.y, b.y)


def test_network_step_with_huge_lr_reports_divergence_as_inf_or_nan_err_quietly():
    # The notebook API: Network.step returns Err; divergence should show up as an
    # inf/NaN Err (STYLE §2), not as a RuntimeWarning from NumPy.
    net = Network([2, 3, 1], activation="tanh", output_activation="linear")
    X, Y = regression_data(8)
    errs = [net.step(X, Y, lr=1e6) for _ in range(100)]
    assert not all(math.isfinite(e) for e in errs)


def test_divergence_error_is_an_arithmetic_error():
    assert issubclass(DivergenceError, ArithmeticError)


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": float("inf")}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"l1": -1.0}, "l1"),
        ({"l2": -1.0}, "l2"),
        ({"clip_value": 0.0}, "clip_value"),
        ({"clip_value": -1.0}, "clip_value"),
        ({"clip_norm": 0.0}, "clip_norm"),
        ({"clip_norm": float("nan")}, "clip_norm"),
    ],
)
def test_update_rule_rejects_bad_numbers_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UpdateRule(**kwargs)


def test_update_rule_accepts_zero_lr_and_momentum_just_below_one():
    assert UpdateRule(lr=0.0, momentum=0.999).momentum == 0.999


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ([2], "at least 2 layers"),
        ([], "at least 2 layers"),
        ([2, 0, 1], "neurons"),
        ([2, -3, 1], "neurons"),
        ([MAX_LAYER_SIZE + 1, 1], "neurons"),
        ([50_000, 50_000, 1], "too many"),
    ],
)
def test_network_rejects_bad_sizes_with_a_clear_message(sizes, match):
    with pytest.raises(ValueError, match=match):
        Network(sizes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"activation": "softmax", "output_activation": "softmax", "loss": "softmax_ce"},
            "softmax can only be the output",
        ),
        ({"output_activation": "linear", "loss": "bce"}, "sigmoid"),
        ({"output_activation": "tanh", "loss": "bce"}, "sigmoid"),
        ({"output_activation": "sigmoid", "loss": "softmax_ce"}, "softmax"),
        ({"output_activation": "softmax", "loss": "sse"}, "softmax cross-entropy"),
        ({"activation": "swish"}, "unknown activation"),
        ({"loss": "hinge"}, "unknown loss"),
        ({"init": "zeros"}, "unknown initialiser"),
    ],
)
def test_network_rejects_bad_combinations_with_a_clear_message(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Network([2, 3, 2], **kwargs)


def test_network_and_trainer_reject_data_of_the_wrong_shape():
    net = Network([2, 3, 1])
    with pytest.raises(ValueError, match="X must have shape"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Y must have shape"):
        net.step(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="inputs"):
        Trainer(net, np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="targets"):
        Trainer(net, np.zeros((4, 2)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="empty"):
        Trainer(net, np.zeros((0, 2)), np.zeros((0, 1)))


# -- Network ------------------------------------------------------------------------------


def test_weights_are_live_views_editing_them_changes_forward():
    net = Network([2, 2, 1], activation="linear", output_activation="linear", bias=True)
    X = np.array([[1.0, 2.0]])
    net.weights[0][...] = [[1.0, 0.0], [0.0, 1.0]]
    net.weights[1][...] = [[1.0, 1.0]]
    net.biases[0][...] = 0.0
    net.biases[1][...] = 0.0
    assert net.forward(X).y_hat[0, 0] == 3.0  # 1 + 2
    net.weights[1][0, 1] = 10.0  # θ_j2
    assert net.forward(X).y_hat[0, 0] == 21.0  # 1 + 10·2
    net.biases[1][0] = 0.5
    assert net.forward(X).y_hat[0, 0] == 21.5
    assert np.shares_memory(net.weights[0], net.params)
    assert np.shares_memory(net.biases[1], net.params)
    assert net.theta[1][0, 0] == 0.5  # θ_j0 in column 0
    assert net.theta[1][0, 2] == 10.0


def test_biases_of_a_bias_free_network_are_read_only_zeros():
    net = Network([2, 3, 1], bias=False)
    for b in net.biases:
        assert np.array_equal(b, np.zeros_like(b))
        with pytest.raises(ValueError, match="read-only"):
            b[...] = 1.0
    assert net.params.size == 2 * 3 + 3 * 1


def test_network_step_returns_err_before_the_update():
    net = Network([2, 3, 1], seed=1)
    X, Y = regression_data(5)
    before = net.error(X, Y)
    err = net.step(X, Y, lr=0.1)
    assert err == pytest.approx(before, rel=1e-15)
    after = net.error(X, Y)
    assert after != before
    assert after < before  # a small step downhill


def test_network_step_is_forward_backward_and_theta_minus_eta_gradient():
    net = Network([2, 3, 2], seed=1)
    X, Y = regression_data(5, n_out=2)
    grads = net.backward(net.forward(X), Y)
    old_w = [w.copy() for w in net.weights]
    old_b = [b.copy() for b in net.biases]
    net.step(X, Y, lr=0.3)
    for k in range(2):
        np.testing.assert_allclose(net.weights[k], old_w[k] - 0.3 * grads.weights[k], rtol=1e-14)
        np.testing.assert_allclose(net.biases[k], old_b[k] - 0.3 * grads.biases[k], rtol=1e-14)


def test_forward_and_backward_leave_the_network_unchanged():
    net = Network([2, 3, 1], seed=1)
    X, Y = regression_data(5)
    before = net.params.copy()
    net.backward(net.forward(X), Y)
    net.error(X, Y)
    assert np.array_equal(net.params, before)


def test_config_rebuilds_an_identical_network():
    net = Network(
        [3, 4, 2],
        activation="relu",
        output_activation="softmax",
        loss="softmax_ce",
        init="he",
        bias=False,
        seed=7,
        dtype=np.float32,
    )
    twin = Network(**net.config())
    assert twin.config() == net.config()
    assert np.array_equal(twin.params, net.params)
    assert twin.params.dtype == np.float32


@pytest.mark.parametrize("bias", [True, False])
def test_float32_network_trains_and_stays_float32(bias):
    rule = UpdateRule(lr=0.05, momentum=0.5, l1=1e-4, l2=1e-3, clip_value=1.0, clip_norm=2.0)
    tr = make_trainer(rule=rule, dtype=np.float32, bias=bias)
    assert tr.net.params.dtype == np.float32
    start = tr.evaluate()[0]
    tr.run(50)
    for _ in tr.phases():
        pass
    net = tr.net
    assert net.params.dtype == np.float32
    assert all(w.dtype == np.float32 for w in net.weights)
    assert all(b.dtype == np.float32 for b in net.biases)
    trace = net.forward(tr.X_train)
    grads = net.backward(trace, tr.Y_train)
    assert all(a.dtype == np.float32 for a in trace.o + trace.u[1:])
    assert all(a.dtype == np.float32 for a in grads.weights + grads.biases + grads.delta[1:])
    assert np.all(np.isfinite(net.params))
    assert tr.evaluate()[0] < start
    net.step(tr.X_train, tr.Y_train, lr=0.01)
    assert net.params.dtype == np.float32


def test_float32_walk_equals_float32_step_bit_for_bit():
    a = make_trainer(dtype=np.float32, rule=UpdateRule(lr=0.05, momentum=0.5))
    b = make_trainer(dtype=np.float32, rule=UpdateRule(lr=0.05, momentum=0.5))
    for _ in range(10):
        for _ in a.phases():
            pass
        b.step()
        assert np.array_equal(a.net.params, b.net.params)


# -- evaluate -------------------------------------------------------------------------------


def test_evaluate_returns_full_train_and_test_err():
    net = Network([2, 4, 1], seed=2)
    X, Y = regression_data(20)
    Xt, Yt = regression_data(7, seed=1)
    tr = Trainer(net, X, Y, Xt, Yt, rule=UpdateRule(lr=0.1), batch_size=5)
    train, test = tr.evaluate()
    assert train == pytest.approx(net.error(X, Y), rel=1e-14)
    assert test == pytest.approx(net.error(Xt, Yt), rel=1e-14)
    tr.run(8)
    train, test = tr.evaluate()
    assert train == pytest.approx(net.error(X, Y), rel=1e-14)
    assert test == pytest.approx(net.error(Xt, Yt), rel=1e-14)
    # the first history entry evaluates the initial weights, at iteration 0
    assert tr.history.eval_iteration[0] == 0
    assert tr.history.n_eval >= 2
    for it, tr_err, te_err in zip(
        tr.history.eval_iteration, tr.history.train_err, tr.history.test_err, strict=True
    ):
        assert math.isfinite(tr_err) and math.isfinite(te_err)
        assert 0 <= it <= tr.iteration


def test_evaluate_without_a_test_set_gives_nan_test_err():
    tr = make_trainer()
    train, test = tr.evaluate()
    assert math.isfinite(train)
    assert math.isnan(test)


def test_evaluate_follows_hand_edited_weights():
    tr = make_trainer()
    before = tr.evaluate()[0]
    tr.net.weights[-1][...] *= 3.0
    after = tr.evaluate()[0]
    assert after != before
    assert after == pytest.approx(tr.net.error(tr.X_train, tr.Y_train), rel=1e-14)


# -- update rules, by hand ---------------------------------------------------------------------


def rule_trainer(rule: UpdateRule) -> Trainer:
    """Full batch in data order, so one step is one gradient of the whole set."""
    net = Network([2, 3, 2], activation="tanh", output_activation="linear", seed=4)
    rng = np.random.default_rng(8)
    for b in net.biases:
        b[...] = rng.normal(0.0, 0.5, size=b.shape)
    X, Y = regression_data(6, n_out=2)
    Y *= 3.0  # large residuals, so the gradients are big enough to clip
    return Trainer(net, X, Y, rule=rule, batch_size=None)


def current_gradients(tr: Trainer):
    grads = tr.net.backward(tr.net.forward(tr.X_train), tr.Y_train)
    return [g.copy() for g in grads.weights], [g.copy() for g in grads.biases]


def theta(tr: Trainer):
    return [w.copy() for w in tr.net.weights], [b.copy() for b in tr.net.biases]


def assert_theta(tr: Trainer, expected_w, expected_b):
    for k in range(len(expected_w)):
        np.testing.assert_allclose(tr.net.weights[k], expected_w[k], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(tr.net.biases[k], expected_b[k], rtol=1e-12, atol=1e-14)


def test_plain_rule_moves_theta_by_minus_eta_gradient():
    eta = 0.1
    tr = rule_trainer(UpdateRule(lr=eta))
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    tr.step()
    assert_theta(tr, [w[k] - eta * gw[k] for k in range(2)], [b[k] - eta * gb[k] for k in range(2)])


def test_momentum_accumulates_velocity_over_two_steps():
    eta, mu = 0.05, 0.9
    tr = rule_trainer(UpdateRule(lr=eta, momentum=mu))
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    # step 1: v = −η·g, θ ← θ + v
    vw = [-eta * g for g in gw]
    vb = [-eta * g for g in gb]
    w1 = [w[k] + vw[k] for k in range(2)]
    b1 = [b[k] + vb[k] for k in range(2)]
    tr.step()
    assert_theta(tr, w1, b1)
    # step 2: v ← μ·v − η·g(θ₁), θ ← θ + v
    gw, gb = current_gradients(tr)
    vw = [mu * vw[k] - eta * gw[k] for k in range(2)]
    vb = [mu * vb[k] - eta * gb[k] for k in range(2)]
    tr.step()
    assert_theta(tr, [w1[k] + vw[k] for k in range(2)], [b1[k] + vb[k] for k in range(2)])


def test_l2_adds_l2_times_theta_to_weight_gradients_only():
    eta, l2 = 0.1, 0.5
    tr = rule_trainer(UpdateRule(lr=eta, l2=l2))
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    tr.step()
    assert_theta(
        tr,
        [w[k] - eta * (gw[k] + l2 * w[k]) for k in range(2)],
        [b[k] - eta * gb[k] for k in range(2)],  # biases are not regularised
    )


def test_l1_adds_l1_times_sign_theta_to_weight_gradients_only():
    eta, l1 = 0.1, 0.5
    tr = rule_trainer(UpdateRule(lr=eta, l1=l1))
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    tr.step()
    assert_theta(
        tr,
        [w[k] - eta * (gw[k] + l1 * np.sign(w[k])) for k in range(2)],
        [b[k] - eta * gb[k] for k in range(2)],
    )


def test_clip_value_clips_each_gradient_entry():
    eta = 0.1
    probe = rule_trainer(UpdateRule(lr=eta))
    gw, gb = current_gradients(probe)
    c = float(np.median(np.abs(np.concatenate([g.ravel() for g in gw + gb]))))
    tr = rule_trainer(UpdateRule(lr=eta, clip_value=c))
    w, b = theta(tr)
    assert any(np.any(np.abs(g) > c) for g in gw + gb)  # the clip is active
    tr.step()
    assert_theta(
        tr,
        [w[k] - eta * np.clip(gw[k], -c, c) for k in range(2)],
        [b[k] - eta * np.clip(gb[k], -c, c) for k in range(2)],
    )


@pytest.mark.parametrize("factor", [0.5, 2.0], ids=["active", "inactive"])
def test_clip_norm_rescales_the_whole_gradient_when_its_norm_exceeds_the_limit(factor):
    eta = 0.1
    probe = rule_trainer(UpdateRule(lr=eta))
    gw, gb = current_gradients(probe)
    norm = float(np.sqrt(sum(np.sum(g**2) for g in gw + gb)))  # over weights and biases
    c = factor * norm
    tr = rule_trainer(UpdateRule(lr=eta, clip_norm=c))
    w, b = theta(tr)
    scale = min(1.0, c / norm)
    tr.step()
    assert_theta(
        tr,
        [w[k] - eta * scale * gw[k] for k in range(2)],
        [b[k] - eta * scale * gb[k] for k in range(2)],
    )


def test_set_lr_changes_eta_from_the_next_update_on():
    tr = rule_trainer(UpdateRule(lr=0.1))
    tr.step()
    tr.set_lr(0.01)
    assert tr.rule.lr == 0.01
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    tr.step()
    assert_theta(
        tr, [w[k] - 0.01 * gw[k] for k in range(2)], [b[k] - 0.01 * gb[k] for k in range(2)]
    )


def test_switching_momentum_on_mid_run_starts_from_zero_velocity():
    tr = rule_trainer(UpdateRule(lr=0.1))
    tr.step()
    tr.set_rule(UpdateRule(lr=0.1, momentum=0.9))
    w, b = theta(tr)
    gw, gb = current_gradients(tr)
    tr.step()  # v = 0.9·0 − η·g
    assert_theta(tr, [w[k] - 0.1 * gw[k] for k in range(2)], [b[k] - 0.1 * gb[k] for k in range(2)])


# -- issue 22: what the engine accepts is what the window can show -------------------------


def test_softmax_on_a_single_output_is_refused_naming_the_fix():
    # softmax of one number is always 1: Err = −y·ln 1 = −0 and nothing ever learns.
    with pytest.raises(ValueError, match=r"softmax needs at least 2 outputs.*sigmoid"):
        Network([2, 3, 1], output_activation="softmax", loss="softmax_ce")
    Network([2, 3, 2], output_activation="softmax", loss="softmax_ce")  # two classes: fine


def test_a_hand_edited_weight_is_evaluated_at_once_and_clears_stale_values():
    tr = make_trainer(batch_size=4)
    tr.run(3)
    tr.snapshot()
    assert tr.snapshot().u[1] is not None  # the last iteration's u, o, δ
    tr.set_weight(0, 1, 0, 2.5)
    assert tr.net.weights[0][1, 0] == 2.5
    snap = tr.snapshot()
    train, _ = tr.evaluate()
    # The Err for the θ now in force reaches the receiver, at the current iteration ...
    assert snap.new_eval_iterations[-1] == 3 and snap.new_train_err[-1] == train
    # ... and u, o, δ of the iteration before the edit are no longer offered as current.
    assert snap.u[1] is None and snap.delta[1] is None and snap.err is None
    assert tr.history.eval_iteration.tolist().count(3) == 1  # replaced, not duplicated
    tr.set_weight(0, 0, -1, -1.0)  # a bias
    assert tr.net.biases[0][0] == -1.0


def test_a_hand_edit_mid_walk_restarts_that_iteration():
    tr = make_trainer(batch_size=4)
    tr.run(2)
    for _ in range(3):
        tr.step_phase()
    tr.set_weight(1, 0, 2, 0.75)
    assert tr.walk_phase is None and tr.iteration == 2
    assert tr.net.weights[1][0, 2] == 0.75
    tr.step()  # the whole iteration 3, on the edited θ
    assert tr.iteration == 3


@pytest.mark.parametrize(
    ("where", "match"),
    [((5, 0, 0), "no weight layer 5"), ((0, 9, 0), "no θ"), ((0, 0, 7), "no θ")],
)
def test_hand_edits_outside_the_network_are_refused_and_change_nothing(where, match):
    tr = make_trainer()
    before = tr.net.params.copy()
    with pytest.raises((IndexError, ValueError), match=match):
        tr.set_weight(*where, 1.0)
    with pytest.raises(ValueError, match="finite"):
        tr.set_weight(0, 0, 0, math.inf)
    np.testing.assert_array_equal(tr.net.params, before)


def test_set_start_makes_the_current_weights_the_ones_reset_returns_to():
    tr = make_trainer(batch_size=4)
    tr.run(5)
    tr.set_weight(0, 0, 0, 3.0)
    start = tr.net.params.copy()
    tr.set_start()
    assert tr.iteration == 0 and len(tr.history) == 0 and tr.history.n_eval == 1
    np.testing.assert_array_equal(tr.start_params, start)
    tr.run(4)
    assert not np.array_equal(tr.net.params, start)
    tr.reset()
    np.testing.assert_array_equal(tr.net.params, start)
