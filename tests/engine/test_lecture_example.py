"""The notes' picture, ℓ → i → j, worked by hand.

Every number below was computed on a calculator (30-digit arithmetic, rounded
to 17 significant digits) from the formulas of the lecture notes, not by the
engine:

    u_i = Σ_ℓ θ_iℓ·o_ℓ (+ θ_i0·1)        o_i = σ(u_i) = 1/(1 + e^(−u_i))
    Err = (y − ŷ)²                        δ_j = −2(y − ŷ)·σ′(u_j),  σ′ = o(1 − o)
    δ_i = σ′(u_i)·Σ_j δ_j·θ_ji            ∂Err/∂θ_iℓ = δ_i·o_ℓ
    θ_iℓ ← θ_iℓ − η·δ_i·o_ℓ  with η = 0.5

Layer ℓ holds the input x = (o_ℓ1, o_ℓ2) = (1, 0.5); layer i has two sigmoid
neurons, layer j one sigmoid neuron ŷ.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine import Network, Trainer, UpdateRule

TOL = 1e-9
ETA = 0.5
X = np.array([[1.0, 0.5]])

# θ_iℓ, rows i = 1, 2 and columns ℓ = 1, 2; and θ_ji, columns i = 1, 2.
THETA_I = [[0.5, -0.5], [1.0, 0.5]]
THETA_J = [[1.0, -0.5]]


def close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=0, atol=TOL)


# ---------------------------------------------------------------------------
# Example 1: no biases (the notes' picture), target y = 1.
# ---------------------------------------------------------------------------

Y1 = np.array([[1.0]])
HAND1 = {
    # u_1 = 0.5·1 + (−0.5)·0.5 = 0.25;  u_2 = 1.0·1 + 0.5·0.5 = 1.25
    "u_i": [[0.25, 1.25]],
    # o_1 = σ(0.25) = 1/(1 + e^−0.25);  o_2 = σ(1.25)
    "o_i": [[0.56217650088579810, 0.77729986117469115]],
    # u_j = 1.0·o_1 + (−0.5)·o_2 = 0.5621765008857981 − 0.38864993058734558
    "u_j": [[0.17352657029845253]],
    # ŷ = σ(u_j)
    "y_hat": [[0.54327311227568066]],
    # Err = (1 − ŷ)² = 0.45672688772431934²
    "err": 0.20859944997034300,
    # σ′(u_j) = ŷ(1 − ŷ) = 0.54327311227568066·0.45672688772431934
    "dsigma_j": [[0.24812743775397634]],
    # δ_j = −2(1 − ŷ)σ′(u_j) = −2·0.45672688772431934·0.24812743775397634
    "delta_j": [[-0.22665294480876677]],
    # σ′(u_1) = o_1(1 − o_1), σ′(u_2) = o_2(1 − o_2)
    "dsigma_i": [[0.24613408273759835, 0.17310478699249702]],
    # δ_1 = σ′(u_1)·δ_j·θ_j1 = 0.24613408273759835·(−0.22665294480876677)·1.0
    # δ_2 = σ′(u_2)·δ_j·θ_j2 = 0.17310478699249702·(−0.22665294480876677)·(−0.5)
    "delta_i": [[-0.055787014670281312, 0.019617354866171877]],
    # ∂Err/∂θ_j1 = δ_j·o_1 ;  ∂Err/∂θ_j2 = δ_j·o_2
    "grad_j": [[-0.12741895942805442, -0.17617730253468935]],
    # ∂Err/∂θ_iℓ = δ_i·o_ℓ with o_ℓ = (1, 0.5)
    "grad_i": [
        [-0.055787014670281312, -0.027893507335140656],
        [0.019617354866171877, 0.0098086774330859386],
    ],
    # θ_11 = 0.5 − 0.5·(−0.055787014670281312) ;  θ_12 = −0.5 − 0.5·(−0.027893507335140656)
    # θ_21 = 1.0 − 0.5·0.019617354866171877     ;  θ_22 = 0.5 − 0.5·0.0098086774330859386
    "new_theta_i": [
        [0.52789350733514066, -0.48605324633242967],
        [0.99019132256691406, 0.49509566128345703],
    ],
    # θ_j1 = 1.0 − 0.5·(−0.12741895942805442) ;  θ_j2 = −0.5 − 0.5·(−0.17617730253468935)
    "new_theta_j": [[1.0637094797140272, -0.41191134873265533]],
}


def lecture_net() -> Network:
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    net.weights[0][...] = THETA_I
    net.weights[1][...] = THETA_J
    return net


def test_lecture_forward_pass_matches_hand_computation():
    trace = lecture_net().forward(X)
    close(trace.o[0], X)
    close(trace.u[1], HAND1["u_i"])
    close(trace.o[1], HAND1["o_i"])
    close(trace.u[2], HAND1["u_j"])
    close(trace.o[2], HAND1["y_hat"])
    close(trace.y_hat, HAND1["y_hat"])


def test_lecture_error_matches_hand_computation():
    assert lecture_net().error(X, Y1) == pytest.approx(HAND1["err"], rel=0, abs=TOL)


def test_lecture_deltas_match_hand_computation():
    net = lecture_net()
    grads = net.backward(net.forward(X), Y1)
    assert grads.delta[0] is None
    close(grads.delta[2], HAND1["delta_j"])
    close(grads.delta[1], HAND1["delta_i"])


def test_lecture_gradients_match_hand_computation():
    net = lecture_net()
    grads = net.backward(net.forward(X), Y1)
    close(grads.weights[0], HAND1["grad_i"])
    close(grads.weights[1], HAND1["grad_j"])
    close(grads.biases[0], [0.0, 0.0])
    close(grads.biases[1], [0.0])


def test_lecture_step_with_eta_half_gives_hand_computed_weights():
    net = lecture_net()
    err = net.step(X, Y1, lr=ETA)
    assert err == pytest.approx(HAND1["err"], rel=0, abs=TOL)
    close(net.weights[0], HAND1["new_theta_i"])
    close(net.weights[1], HAND1["new_theta_j"])
    close(net.biases[0], [0.0, 0.0])  # no biases: they stay 0


def test_lecture_phase_walk_shows_the_hand_computed_numbers_at_each_phase():
    net = lecture_net()
    tr = Trainer(net, X, Y1, rule=UpdateRule(lr=ETA))
    kinds = []
    while True:
        phase = tr.step_phase()
        kinds.append(phase.kind)
        snap = tr.snapshot()
        if phase.kind == "forward" and phase.layer == 1:
            close(snap.u[1], HAND1["u_i"])
            close(snap.o[1], HAND1["o_i"])
        elif phase.kind == "forward" and phase.layer == 2:
            close(snap.u[2], HAND1["u_j"])
            close(snap.o[2], HAND1["y_hat"])
        elif phase.kind == "error":
            assert snap.err == pytest.approx(HAND1["err"], rel=0, abs=TOL)
        elif phase.kind == "output_delta":
            close(snap.delta[2], HAND1["delta_j"])
            close(snap.dsigma[2], HAND1["dsigma_j"])
        elif phase.kind == "hidden_delta":
            close(snap.delta[1], HAND1["delta_i"])
            close(snap.dsigma[1], HAND1["dsigma_i"])
        elif phase.kind == "gradients":
            close(snap.grad_weights[0], HAND1["grad_i"])
            close(snap.grad_weights[1], HAND1["grad_j"])
        else:
            assert phase.kind == "update"
            close(snap.old_weights[0], THETA_I)
            close(snap.old_weights[1], THETA_J)
            close(snap.weights[0], HAND1["new_theta_i"])
            close(snap.weights[1], HAND1["new_theta_j"])
            break
    assert kinds == [
        "forward",
        "forward",
        "error",
        "output_delta",
        "hidden_delta",
        "gradients",
        "update",
    ]
    assert tr.iteration == 1


# ---------------------------------------------------------------------------
# Example 2: biases on, θ_i0 with the constant o_0 = 1; target y = 0.
# θ_10 = 0.5, θ_20 = −0.25, θ_j0 = 0.25; other θ as in example 1.
# ---------------------------------------------------------------------------

Y2 = np.array([[0.0]])
BIAS_I = [0.5, -0.25]
BIAS_J = [0.25]
HAND2 = {
    # u_1 = 0.5·1 + 0.5·1 + (−0.5)·0.5 = 0.75;  u_2 = −0.25·1 + 1.0·1 + 0.5·0.5 = 1.0
    "u_i": [[0.75, 1.0]],
    # o_1 = σ(0.75);  o_2 = σ(1) = 1/(1 + 1/e)
    "o_i": [[0.67917869917539297, 0.73105857863000488]],
    # u_j = 0.25·1 + 1.0·o_1 + (−0.5)·o_2 = 0.25 + 0.67917869917539297 − 0.36552928931500244
    "u_j": [[0.56364940986039053]],
    "y_hat": [[0.63729652208979789]],
    # Err = (0 − ŷ)² = 0.63729652208979789²
    "err": 0.40614685706775225,
    # σ′(u_j) = ŷ(1 − ŷ)
    "dsigma_j": [[0.23114966502204564]],
    # δ_j = −2(0 − ŷ)σ′(u_j) = 2·0.63729652208979789·0.23114966502204564
    "delta_j": [[0.29462175520154298]],
    "dsigma_i": [[0.21789499376181403, 0.19661193324148185]],
    # δ_1 = 0.21789499376181403·0.29462175520154298·1.0
    # δ_2 = 0.19661193324148185·0.29462175520154298·(−0.5)
    "delta_i": [[0.064196605511734909, -0.028963076432586989]],
    # ∂Err/∂θ_j0 = δ_j·1;  ∂Err/∂θ_j1 = δ_j·o_1;  ∂Err/∂θ_j2 = δ_j·o_2
    "grad_bias_j": [0.29462175520154298],
    "grad_j": [[0.20010082044655503, 0.21538576159111726]],
    # ∂Err/∂θ_i0 = δ_i·1;  ∂Err/∂θ_iℓ = δ_i·o_ℓ
    "grad_bias_i": [0.064196605511734909, -0.028963076432586989],
    "grad_i": [
        [0.064196605511734909, 0.032098302755867454],
        [-0.028963076432586989, -0.014481538216293494],
    ],
    # θ_10 = 0.5 − 0.5·0.064196605511734909;  θ_20 = −0.25 − 0.5·(−0.028963076432586989)
    "new_bias_i": [0.46790169724413255, -0.23551846178370651],
    # θ_11 = 0.5 − 0.5·0.064196605511734909;  θ_12 = −0.5 − 0.5·0.032098302755867454
    # θ_21 = 1.0 + 0.5·0.028963076432586989;  θ_22 = 0.5 + 0.5·0.014481538216293494
    "new_theta_i": [
        [0.46790169724413255, -0.51604915137793373],
        [1.0144815382162935, 0.50724076910814675],
    ],
    # θ_j0 = 0.25 − 0.5·0.29462175520154298
    "new_bias_j": [0.10268912239922851],
    # θ_j1 = 1.0 − 0.5·0.20010082044655503;  θ_j2 = −0.5 − 0.5·0.21538576159111726
    "new_theta_j": [[0.89994958977672248, -0.60769288079555863]],
}


def lecture_net_with_biases() -> Network:
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid", bias=True)
    net.weights[0][...] = THETA_I
    net.weights[1][...] = THETA_J
    net.biases[0][...] = BIAS_I
    net.biases[1][...] = BIAS_J
    return net


def test_biases_live_in_column_zero_of_theta_as_theta_i0():
    net = lecture_net_with_biases()
    close(net.theta[0], [[0.5, 0.5, -0.5], [-0.25, 1.0, 0.5]])
    close(net.theta[1], [[0.25, 1.0, -0.5]])


def test_lecture_forward_pass_with_biases_matches_hand_computation():
    trace = lecture_net_with_biases().forward(X)
    close(trace.u[1], HAND2["u_i"])
    close(trace.o[1], HAND2["o_i"])
    close(trace.u[2], HAND2["u_j"])
    close(trace.y_hat, HAND2["y_hat"])
    close(trace.o_ext[0], [[1.0, 1.0, 0.5]])  # o_0 = 1 in front of x
    close(trace.o_ext[1][:, 0], [1.0])


def test_lecture_error_with_biases_matches_hand_computation():
    err = lecture_net_with_biases().error(X, Y2)
    assert err == pytest.approx(HAND2["err"], rel=0, abs=TOL)


def test_lecture_deltas_and_gradients_with_biases_match_hand_computation():
    net = lecture_net_with_biases()
    grads = net.backward(net.forward(X), Y2)
    close(grads.delta[2], HAND2["delta_j"])
    close(grads.delta[1], HAND2["delta_i"])
    close(grads.weights[1], HAND2["grad_j"])
    close(grads.biases[1], HAND2["grad_bias_j"])
    close(grads.weights[0], HAND2["grad_i"])
    close(grads.biases[0], HAND2["grad_bias_i"])


def test_lecture_step_with_biases_gives_hand_computed_theta():
    net = lecture_net_with_biases()
    err = net.step(X, Y2, lr=ETA)
    assert err == pytest.approx(HAND2["err"], rel=0, abs=TOL)
    close(net.weights[0], HAND2["new_theta_i"])
    close(net.biases[0], HAND2["new_bias_i"])
    close(net.weights[1], HAND2["new_theta_j"])
    close(net.biases[1], HAND2["new_bias_j"])


def test_lecture_walk_with_biases_ends_on_hand_computed_theta():
    net = lecture_net_with_biases()
    tr = Trainer(net, X, Y2, rule=UpdateRule(lr=ETA))
    for _ in tr.phases():
        pass
    snap = tr.snapshot()
    close(snap.old_biases[0], BIAS_I)
    close(snap.old_biases[1], BIAS_J)
    close(snap.grad_biases[0], HAND2["grad_bias_i"])
    close(snap.grad_biases[1], HAND2["grad_bias_j"])
    close(snap.biases[0], HAND2["new_bias_i"])
    close(snap.biases[1], HAND2["new_bias_j"])
    close(snap.weights[0], HAND2["new_theta_i"])
    close(snap.weights[1], HAND2["new_theta_j"])
    assert snap.err == pytest.approx(HAND2["err"], rel=0, abs=TOL)
