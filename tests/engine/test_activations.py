"""Activation functions σ and their derivatives σ′ (bpviz.engine.activations)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bpviz.engine import ACTIVATIONS, Activation, get_activation, get_loss
from bpviz.engine.losses import LOSSES

ELEMENTWISE = [name for name, act in ACTIVATIONS.items() if act.elementwise]
KINKED = {"relu", "leaky_relu"}


def test_the_lecture_activations_are_all_registered_as_elementwise():
    assert {"sigmoid", "tanh", "relu", "leaky_relu", "linear"} <= set(ELEMENTWISE)
    assert not ACTIVATIONS["softmax"].elementwise


def grid(name: str) -> np.ndarray:
    """Points in [−8, 8], avoiding the kink at 0 for the ReLUs."""
    u = np.linspace(-8.0, 8.0, 401)
    if name in KINKED:
        u = u[np.abs(u) > 1e-3]
    return u.reshape(-1, 1) * np.ones((1, 3))  # a (batch, n) array like the engine uses


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_df_matches_central_difference_of_f(name):
    act = ACTIVATIONS[name]
    u = grid(name)
    h = 1e-6
    numeric = (act.f(u + h) - act.f(u - h)) / (2 * h)
    analytic = act.df(u, act.f(u))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_df_matches_central_difference_in_float32(name):
    act = ACTIVATIONS[name]
    u = grid(name).astype(np.float32)
    analytic = act.df(u, act.f(u))
    assert analytic.dtype == np.float32
    u64 = u.astype(np.float64)
    h = 1e-6
    numeric = (act.f(u64 + h) - act.f(u64 - h)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_sigmoid_values_match_its_formula():
    u = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0]])
    expected = 1.0 / (1.0 + np.exp(-u))
    np.testing.assert_allclose(ACTIVATIONS["sigmoid"].f(u), expected, rtol=1e-14)


def test_relu_and_leaky_relu_derivatives_are_the_documented_constants():
    u = np.array([[-2.0, -1e-3, 1e-3, 2.0]])
    relu, leaky = ACTIVATIONS["relu"], ACTIVATIONS["leaky_relu"]
    np.testing.assert_array_equal(relu.df(u, relu.f(u)), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(leaky.df(u, leaky.f(u)), [[0.01, 0.01, 1.0, 1.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_no_runtime_warning_at_large_u(name, dtype):
    act = ACTIVATIONS[name]
    u = np.array([[-1e4, -1e3, 1e3, 1e4], [1e4, 1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o = act.f(u)
        d = act.df(u, o)
    assert np.all(np.isfinite(o))
    assert np.all(np.isfinite(d))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_saturates_to_exactly_zero_and_one(dtype):
    act = ACTIVATIONS["sigmoid"]
    u = np.array([[-1e4, 1e4]], dtype=dtype)
    o = act.f(u)
    np.testing.assert_array_equal(o, [[0.0, 1.0]])
    np.testing.assert_array_equal(act.df(u, o), [[0.0, 0.0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_saturates_to_exactly_minus_one_and_one(dtype):
    act = ACTIVATIONS["tanh"]
    u = np.array([[-1e4, 1e4]], dtype=dtype)
    o = act.f(u)
    np.testing.assert_array_equal(o, [[-1.0, 1.0]])
    np.testing.assert_array_equal(act.df(u, o), [[0.0, 0.0]])


def test_softmax_is_stable_and_rows_sum_to_one():
    u = np.array([[1e4, 1e4 - 1.0, -1e4], [0.0, 0.0, 0.0]])
    o = ACTIVATIONS["softmax"].f(u)
    np.testing.assert_allclose(o.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(o[1], 1.0 / 3.0, rtol=1e-15)
    e = np.exp([0.0, -1.0])
    np.testing.assert_allclose(o[0, :2], e / e.sum(), rtol=1e-15)
    assert o[0, 2] == 0.0


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_f_writes_into_out_and_returns_it(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    u = rng.normal(size=(4, 3)) + 0.01  # no sample exactly at a kink
    u_before = u.copy()
    expected = act.f(u)
    out = np.full_like(u, np.nan)
    result = act.f(u, out=out)
    assert result is out
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(u, u_before)  # the input is left alone


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_df_writes_into_out_and_returns_it(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(2)
    u = rng.normal(size=(4, 3)) + 0.01
    o = act.f(u)
    u_before, o_before = u.copy(), o.copy()
    expected = act.df(u, o)
    out = np.full_like(u, np.nan)
    result = act.df(u, o, out=out)
    assert result is out
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(u, u_before)
    np.testing.assert_array_equal(o, o_before)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_f_without_out_returns_a_new_array_not_the_input(name):
    act = ACTIVATIONS[name]
    u = np.array([[0.5, -0.25, 2.0]])
    o = act.f(u)
    assert not np.shares_memory(o, u)


def test_unknown_activation_raises_value_error_listing_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'swish'") as info:
        get_activation("swish")
    for name in ACTIVATIONS:
        assert name in str(info.value)


def test_get_activation_passes_an_activation_through():
    act = ACTIVATIONS["tanh"]
    assert get_activation(act) is act
    assert isinstance(get_activation("relu"), Activation)


def test_unknown_loss_raises_value_error_listing_the_valid_names():
    with pytest.raises(ValueError, match="unknown loss 'hinge'") as info:
        get_loss("hinge")
    for name in LOSSES:
        assert name in str(info.value)
