"""Backprop's δ and ∂Err/∂θ against finite differences and the lecture's formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bpviz.engine import ACTIVATIONS, LOSSES, Network, gradient_check

ELEMENTWISE = sorted(name for name, act in ACTIVATIONS.items() if act.elementwise)
KINKED = {"relu", "leaky_relu"}
SQUARED = ("sse", "mse", "half_sse")

HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)


# -- helpers -------------------------------------------------------------------


def targets(loss: str, rng: np.random.Generator, batch: int, n_out: int) -> np.ndarray:
    """Targets a loss accepts: one-hot rows for softmax_ce, [0, 1] for bce."""
    if loss == "softmax_ce":
        return np.eye(n_out)[rng.integers(0, n_out, size=batch)]
    if loss == "bce":
        return rng.uniform(0.0, 1.0, size=(batch, n_out))
    return rng.normal(size=(batch, n_out))


def output_for(loss: str, choice: str) -> str:
    if loss == "bce":
        return "sigmoid"
    if loss == "softmax_ce":
        return "softmax"
    return choice


def far_from_kinks(net: Network, X: np.ndarray) -> bool:
    """True when no u of a ReLU layer lies within 1e-3 of the kink at 0."""
    trace = net.forward(X)
    for l in range(1, net.n_layers):
        if net.layer_activation(l).name in KINKED and np.any(np.abs(trace.u[l]) < 1e-3):
            return False
    return True


def relu_masks(net: Network, X: np.ndarray) -> list[np.ndarray]:
    """Which side of the kink every u of a ReLU layer is on."""
    trace = net.forward(X)
    return [
        trace.u[l] > 0 for l in range(1, net.n_layers) if net.layer_activation(l).name in KINKED
    ]


class KinkCrossed(Exception):
    """A finite-difference step moved some ReLU u across the kink at 0."""


def numeric_gradients(net: Network, X: np.ndarray, Y: np.ndarray):
    """∂Err/∂θ of every weight and bias by a fourth-order central difference.

    f′ ≈ (8[f(θ+h) − f(θ−h)] − [f(θ+2h) − f(θ−2h)]) / 12h. Its truncation error is
    O(h⁴) and its rounding error about ulp(Err)/h, so h = 1e-3 gives ~1e-13·Err,
    three orders below the ulp(Err)/1e-6 of a plain difference with h = 1e-6.
    Every perturbed evaluation must keep each ReLU u on its side of the kink;
    when one crosses, h shrinks (1e-4, then 1e-5) and if even that crosses,
    :class:`KinkCrossed` is raised.
    """
    masks = relu_masks(net, X)

    def err_at(arr: np.ndarray, idx, value: float) -> float:
        saved = arr[idx]
        arr[idx] = value
        try:
            if masks and any(
                not np.array_equal(a, b) for a, b in zip(masks, relu_masks(net, X), strict=True)
            ):
                raise KinkCrossed
            return net.error(X, Y)
        finally:
            arr[idx] = saved

    def derivative(arr: np.ndarray, idx) -> float:
        t = float(arr[idx])
        for h in (1e-3, 1e-4, 1e-5):
            try:
                f = {m: err_at(arr, idx, t + m * h) for m in (-2, -1, 1, 2)}
            except KinkCrossed:
                continue
            return (8.0 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12.0 * h)
        raise KinkCrossed

    gw, gb = [], []
    for k in range(net.n_layers - 1):
        w = net.weights[k]
        gw.append(np.array([derivative(w, i) for i in np.ndindex(w.shape)]).reshape(w.shape))
        b = net.biases[k]
        if net.bias:
            gb.append(np.array([derivative(b, (i,)) for i in range(b.shape[0])]))
        else:
            gb.append(np.zeros_like(b))
    return gw, gb


def numeric_gradients_or_reject(net: Network, X: np.ndarray, Y: np.ndarray):
    """numeric_gradients inside a hypothesis test: a draw too close to a kink is rejected."""
    try:
        return numeric_gradients(net, X, Y)
    except KinkCrossed:
        assume(False)
        raise


def relative_error(analytic: np.ndarray, numeric: np.ndarray, err: float) -> float:
    """max |a − n| / max(|a| + |n|, 1e-6·(1 + |Err|)).

    The floor keeps rounding noise (about 1e-13·Err here) from counting as a
    relative error on gradients that are themselves almost 0.
    """
    if analytic.size == 0:
        return 0.0
    denom = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-6 * (1.0 + abs(err)))
    return float(np.max(np.abs(analytic - numeric) / denom))


@st.composite
def problems(draw):
    """A random float64 network, a batch and targets its loss accepts."""
    loss = draw(st.sampled_from(sorted(LOSSES)))
    hidden = draw(st.sampled_from(ELEMENTWISE))
    output = output_for(loss, draw(st.sampled_from(ELEMENTWISE)))
    n_layers = draw(st.integers(2, 4))
    sizes = draw(st.lists(st.integers(1, 5), min_size=n_layers, max_size=n_layers))
    if loss == "softmax_ce":
        sizes[-1] = max(2, sizes[-1])
    bias = draw(st.booleans())
    batch = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    init = draw(st.sampled_from(["xavier", "he"]))
    net = Network(
        sizes,
        activation=hidden,
        output_activation=output,
        loss=loss,
        bias=bias,
        seed=seed,
        init=init,
    )
    rng = np.random.default_rng(seed + 1)
    if bias:  # non-zero biases, so their gradients are exercised away from 0
        for b in net.biases:
            b[...] = rng.normal(0.0, 0.5, size=b.shape)
    X = rng.normal(size=(batch, sizes[0]))
    Y = targets(loss, rng, batch, sizes[-1])
    assume(far_from_kinks(net, X))
    return net, X, Y


# -- backprop vs finite differences ------------------------------------------------


@HYPOTHESIS
@given(problems())
def test_backward_gradients_equal_central_differences(problem):
    net, X, Y = problem
    grads = net.backward(net.forward(X), Y)
    gw, gb = numeric_gradients_or_reject(net, X, Y)
    err = net.error(X, Y)
    for k in range(net.n_layers - 1):
        assert grads.weights[k].shape == net.weights[k].shape
        assert grads.biases[k].shape == net.biases[k].shape
        assert relative_error(grads.weights[k], gw[k], err) < 1e-6, (k, grads.weights[k], gw[k])
        assert relative_error(grads.biases[k], gb[k], err) < 1e-6, (k, grads.biases[k], gb[k])
        if not net.bias:
            np.testing.assert_array_equal(grads.biases[k], 0.0)


@HYPOTHESIS
@given(problems())
def test_gradient_check_reports_agreement(problem):
    net, X, Y = problem
    before = net.params.copy()
    check = gradient_check(net, X, Y)
    assert check.worst < 1e-6
    assert len(check.max_rel_error) == net.n_layers - 1
    np.testing.assert_array_equal(net.params, before)  # the check leaves the net alone


def kink_free_problem(sizes, hidden, output, loss, bias, batch=4):
    """The first seed whose forward pass keeps every ReLU u at least 1e-3 from 0."""
    for seed in range(100):
        net = Network(
            sizes, activation=hidden, output_activation=output, loss=loss, bias=bias, seed=seed
        )
        rng = np.random.default_rng(seed)
        if bias:
            for b in net.biases:
                b[...] = rng.normal(0.0, 0.5, size=b.shape)
        X = rng.normal(size=(batch, sizes[0]))
        Y = targets(loss, rng, batch, sizes[-1])
        if not far_from_kinks(net, X):
            continue
        try:
            numeric_gradients(net, X, Y)
        except KinkCrossed:
            continue
        return net, X, Y
    raise AssertionError("no kink-free draw in 100 seeds")


@pytest.mark.parametrize("hidden", ELEMENTWISE)
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_backward_matches_central_differences_for_every_activation_and_loss(hidden, loss, bias):
    output = output_for(loss, "tanh" if hidden != "tanh" else "sigmoid")
    n_out = 3 if loss == "softmax_ce" else 2
    net, X, Y = kink_free_problem([3, 4, 3, n_out], hidden, output, loss, bias)
    grads = net.backward(net.forward(X), Y)
    gw, gb = numeric_gradients(net, X, Y)
    err = net.error(X, Y)
    for k in range(net.n_layers - 1):
        assert relative_error(grads.weights[k], gw[k], err) < 1e-6
        assert relative_error(grads.biases[k], gb[k], err) < 1e-6


@pytest.mark.parametrize("output", ELEMENTWISE)
def test_gradient_check_passes_for_every_elementwise_output_with_sse(output):
    net = Network([2, 3, 2], activation="tanh", output_activation=output, seed=11)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 2))
    Y = rng.normal(size=(3, 2))
    assert far_from_kinks(net, X)
    assert gradient_check(net, X, Y).worst < 1e-6


def test_gradient_check_does_not_report_rounding_noise_as_disagreement():
    # A correct leaky-ReLU network whose small gradients (slope 0.01 on the negative
    # side) sit near the rounding noise of a plain central difference with ε = 1e-6,
    # about ulp(Err)/ε ≈ 1e-10·Err. Backprop agrees with an accurate difference here,
    # so the check should report agreement too (the GUI marks > 1e-5 as a failure).
    net = Network(
        [2, 3, 4],
        activation="leaky_relu",
        output_activation="leaky_relu",
        loss="mse",
        bias=False,
        seed=282,
    )
    rng = np.random.default_rng(282)
    X = rng.normal(size=(4, 2))
    Y = rng.normal(size=(4, 4))
    assert far_from_kinks(net, X)
    grads = net.backward(net.forward(X), Y)
    gw, _ = numeric_gradients(net, X, Y)
    err = net.error(X, Y)
    for k in range(2):
        assert relative_error(grads.weights[k], gw[k], err) < 1e-6
    assert gradient_check(net, X, Y).worst < 1e-6


@pytest.mark.parametrize("output_bias", [8.0, 10.0])
def test_gradient_check_reports_agreement_on_a_saturated_output(output_bias):
    # The notes' "vanishing gradients" (§9): a tanh output pushed to u ≈ 8–10 has
    # σ′(u) ≈ 1e-7…1e-8, so every ∂Err/∂θ is tiny while Err ≈ 2. Backprop is right
    # (an accurate difference agrees), and the check should say so: the GUI marks
    # anything above 1e-5 with ✘ and "backprop and finite differences disagree".
    net = Network([2, 3, 1], activation="tanh", output_activation="tanh", loss="sse", seed=0)
    net.biases[1][...] = output_bias
    X = np.array([[0.5, -1.0], [1.0, 0.25]])
    Y = np.array([[0.0], [0.0]])
    grads = net.backward(net.forward(X), Y)
    gw, gb = numeric_gradients(net, X, Y)
    err = net.error(X, Y)
    for k in range(2):
        assert relative_error(grads.weights[k], gw[k], err) < 1e-6
        assert relative_error(grads.biases[k], gb[k], err) < 1e-6
    assert gradient_check(net, X, Y).worst < 1e-6


def test_gradient_check_works_on_a_float32_network_without_changing_it():
    net = Network([2, 3, 1], dtype=np.float32, seed=2)
    X = np.array([[0.5, -1.0], [1.5, 0.25]])
    Y = np.array([[1.0], [0.0]])
    before = net.params.copy()
    assert gradient_check(net, X, Y).worst < 1e-6
    assert net.params.dtype == np.float32
    np.testing.assert_array_equal(net.params, before)


# -- the notes' formulas, literally -------------------------------------------------------


@HYPOTHESIS
@given(problems())
def test_delta_satisfies_the_notes_recursion_literally(problem):
    net, X, Y = problem
    trace = net.forward(X)
    grads = net.backward(trace, Y)
    last = net.n_layers - 1
    assert trace.u[0] is None
    assert grads.delta[0] is None
    np.testing.assert_array_equal(trace.o[0], X)
    for l in range(last - 1, 0, -1):
        act = net.layer_activation(l)
        # δ_i = σ′(u_i) · Σ_j δ_j θ_ji
        expected = act.df(trace.u[l], trace.o[l]) * (grads.delta[l + 1] @ net.weights[l])
        np.testing.assert_allclose(grads.delta[l], expected, rtol=1e-12, atol=1e-300)
    for k in range(last):
        # ∂Err/∂θ_iℓ = Σ_samples δ_i · o_ℓ and ∂Err/∂θ_i0 = Σ_samples δ_i · 1
        np.testing.assert_allclose(
            grads.weights[k], grads.delta[k + 1].T @ trace.o[k], rtol=1e-12, atol=1e-300
        )
        if net.bias:
            np.testing.assert_allclose(
                grads.biases[k], grads.delta[k + 1].sum(axis=0), rtol=1e-12, atol=1e-300
            )


@HYPOTHESIS
@given(problems())
def test_forward_computes_u_and_o_as_in_the_notes(problem):
    net, X, _ = problem
    trace = net.forward(X)
    for l in range(1, net.n_layers):
        # u_i = Σ_ℓ θ_iℓ o_ℓ (+ θ_i0), o_i = σ(u_i)
        u = trace.o[l - 1] @ net.weights[l - 1].T + net.biases[l - 1]
        np.testing.assert_allclose(trace.u[l], u, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            trace.o[l], net.layer_activation(l).f(trace.u[l]), rtol=1e-15, atol=0
        )
    np.testing.assert_array_equal(trace.y_hat, trace.o[-1])


@pytest.mark.parametrize("output", ELEMENTWISE)
def test_output_delta_for_sse_is_minus_two_times_residual_times_dsigma(output):
    net = Network([3, 4, 2], activation="tanh", output_activation=output, loss="sse", seed=4)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(5, 3))
    Y = rng.normal(size=(5, 2))
    trace = net.forward(X)
    grads = net.backward(trace, Y)
    u_k, y_hat = trace.u[-1], trace.o[-1]
    dsigma = net.output_activation.df(u_k, y_hat)
    # δ_k = −2(y − ŷ)·σ′(u_k)
    np.testing.assert_allclose(grads.delta[-1], -2.0 * (Y - y_hat) * dsigma, rtol=1e-14)


@pytest.mark.parametrize(("loss", "scale"), [("mse", None), ("half_sse", 1.0)])
def test_output_delta_of_the_other_squared_losses_is_scaled_sse_delta(loss, scale):
    net = Network([2, 3, 2], activation="tanh", output_activation="sigmoid", loss=loss, seed=4)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(5, 2))
    Y = rng.normal(size=(5, 2))
    trace = net.forward(X)
    grads = net.backward(trace, Y)
    y_hat = trace.o[-1]
    dsigma = y_hat * (1 - y_hat)
    c = 2.0 / Y.size if scale is None else scale  # mse: 2/(N·K); half_sse: 1
    np.testing.assert_allclose(grads.delta[-1], -c * (Y - y_hat) * dsigma, rtol=1e-14)


@pytest.mark.parametrize(
    ("loss", "output", "n_out"), [("bce", "sigmoid", 2), ("softmax_ce", "softmax", 3)]
)
def test_output_delta_of_cross_entropy_is_prediction_minus_target(loss, output, n_out):
    net = Network([2, 3, n_out], activation="tanh", output_activation=output, loss=loss, seed=4)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(5, 2))
    Y = targets(loss, rng, 5, n_out)
    trace = net.forward(X)
    grads = net.backward(trace, Y)
    np.testing.assert_allclose(grads.delta[-1], trace.o[-1] - Y, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_error_matches_the_loss_formula(loss):
    output = output_for(loss, "sigmoid")
    n_out = 3
    net = Network([2, 3, n_out], activation="tanh", output_activation=output, loss=loss, seed=4)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(5, 2))
    Y = targets(loss, rng, 5, n_out)
    y_hat = net.forward(X).y_hat
    expected = {
        "sse": np.sum((Y - y_hat) ** 2),
        "mse": np.mean((Y - y_hat) ** 2),
        "half_sse": 0.5 * np.sum((Y - y_hat) ** 2),
        "bce": -np.sum(Y * np.log(y_hat) + (1 - Y) * np.log(1 - y_hat)),
        "softmax_ce": -np.sum(Y * np.log(y_hat)),
    }[loss]
    assert net.error(X, Y) == pytest.approx(expected, rel=1e-12)
