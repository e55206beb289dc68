"""The phase-by-phase walk: lecture order, equality with the fast step, step back."""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine import STAGES, Network, Trainer, UpdateRule, phase_plan

# -- the plan ------------------------------------------------------------------------


@pytest.mark.parametrize("n_layers", [2, 3, 4, 6])
def test_phase_plan_follows_the_lecture_order(n_layers):
    last = n_layers - 1
    plan = phase_plan(n_layers)
    expected = (
        [("forward", l) for l in range(1, last + 1)]
        + [("error", None), ("output_delta", last)]
        + [("hidden_delta", l) for l in range(last - 1, 0, -1)]
        + [("gradients", None), ("update", None)]
    )
    assert [(p.kind, p.layer) for p in plan] == expected


@pytest.mark.parametrize("n_layers", [2, 3, 5])
def test_phase_plan_stages_are_forward_then_backward_then_update(n_layers):
    plan = phase_plan(n_layers)
    stage_of = {
        "forward": STAGES[0],
        "error": STAGES[0],
        "output_delta": STAGES[1],
        "hidden_delta": STAGES[1],
        "gradients": STAGES[1],
        "update": STAGES[2],
    }
    assert STAGES == ("FORWARD PASS", "BACKWARD PASS", "WEIGHT UPDATE")
    assert [p.stage for p in plan] == [stage_of[p.kind] for p in plan]
    # the stages come as three contiguous blocks, in order
    stages = [p.stage for p in plan]
    assert sorted(stages, key=STAGES.index) == stages


@pytest.mark.parametrize("n_layers", [2, 3, 5])
def test_phase_plan_indices_count_and_last_flag(n_layers):
    plan = phase_plan(n_layers)
    assert len(plan) == 2 * n_layers + 1  # (L−1) forward + error + (L−1) δ + gradients + update
    assert [p.index for p in plan] == list(range(len(plan)))
    assert all(p.count == len(plan) for p in plan)
    assert [p.is_last for p in plan] == [False] * (len(plan) - 1) + [True]
    assert all(p.title for p in plan)


def test_trainer_phases_yield_the_plan():
    tr = make_trainer([2, 3, 3, 1], batch_size=4)
    assert list(tr.phases()) == list(phase_plan(4))
    assert tr.iteration == 1


# -- helpers --------------------------------------------------------------------------

CONFIGS = [
    # sizes, hidden, output, loss, bias
    ([2, 3, 1], "tanh", "sigmoid", "sse", True),
    ([3, 4, 4, 3], "relu", "softmax", "softmax_ce", True),
    ([2, 5, 3, 2], "leaky_relu", "linear", "mse", False),
    ([2, 4, 1], "sigmoid", "sigmoid", "bce", True),
    ([1, 2], "linear", "tanh", "half_sse", False),
]

RULES = {
    "plain": UpdateRule(lr=0.1),
    "momentum": UpdateRule(lr=0.05, momentum=0.9),
    "l2": UpdateRule(lr=0.1, l2=0.01),
    "clip_norm": UpdateRule(lr=0.2, clip_norm=0.05),
    "everything": UpdateRule(
        lr=0.1, momentum=0.5, l1=0.001, l2=0.01, clip_value=0.3, clip_norm=0.5
    ),
}


def data_for(sizes, loss, n=13, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    if loss == "softmax_ce":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=n)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(n, sizes[-1])).astype(float)
    else:
        Y = rng.normal(size=(n, sizes[-1]))
    return X, Y


def make_trainer(
    sizes,
    hidden="tanh",
    output="sigmoid",
    loss="sse",
    bias=True,
    batch_size=None,
    rule=None,
    seed=0,
):
    net = Network(
        sizes, activation=hidden, output_activation=output, loss=loss, bias=bias, seed=seed
    )
    X, Y = data_for(sizes, loss)
    return Trainer(net, X, Y, rule=rule or UpdateRule(lr=0.1), batch_size=batch_size, seed=seed)


def twins(config, batch_size, rule):
    sizes, hidden, output, loss, bias = config
    return (
        make_trainer(sizes, hidden, output, loss, bias, batch_size, rule),
        make_trainer(sizes, hidden, output, loss, bias, batch_size, rule),
    )


def walk(tr: Trainer) -> list:
    return list(tr.phases())


# -- the walk equals the fast step ------------------------------------------------------


@pytest.mark.parametrize("rule", list(RULES), ids=list(RULES))
@pytest.mark.parametrize("batch_size", [1, 4, None], ids=["sgd", "batch4", "full"])
@pytest.mark.parametrize("config", CONFIGS, ids=[c[3] for c in CONFIGS])
def test_walking_all_phases_gives_bit_identical_params_to_step(config, batch_size, rule):
    walker, stepper = twins(config, batch_size, RULES[rule])
    for it in range(20):
        if it % 3 == 0 or it % 7 == 5:
            walk(walker)
        else:
            walker.step()
        stepper.step()
        assert np.array_equal(walker.net.params, stepper.net.params), f"iteration {it + 1}"
        assert walker.iteration == stepper.iteration == it + 1
        assert walker.epoch == stepper.epoch
    assert np.array_equal(walker.history.batch_err, stepper.history.batch_err)


@pytest.mark.parametrize("rule", ["plain", "momentum"])
def test_step_after_a_half_walk_finishes_that_iteration_like_a_step(rule):
    walker, stepper = twins(CONFIGS[1], 4, RULES[rule])
    for _ in range(5):
        for _ in range(3):
            walker.step_phase()
        err = walker.step()  # finishes the half-walked iteration
        assert err == stepper.step()
        assert walker.walk_phase is None
        assert np.array_equal(walker.net.params, stepper.net.params)
        walker.step()
        stepper.step()
        assert np.array_equal(walker.net.params, stepper.net.params)
    assert walker.iteration == stepper.iteration == 10


def test_finish_walk_completes_the_iteration_and_returns_its_err():
    walker, stepper = twins(CONFIGS[2], 3, RULES["momentum"])
    walker.step()
    stepper.step()
    phase = walker.step_phase()
    assert phase.index == 0
    assert walker.walk_phase == phase
    assert walker.iteration == 1
    err = walker.finish_walk()
    assert err == stepper.step()
    assert walker.walk_phase is None
    assert walker.iteration == 2
    assert np.array_equal(walker.net.params, stepper.net.params)
    assert walker.history.batch_err[-1] == err


def test_step_phase_walks_in_plan_order_and_starts_the_next_iteration():
    tr = make_trainer([2, 3, 3, 1], batch_size=5)
    plan = phase_plan(4)
    for it in range(3):
        for p in plan:
            assert tr.iteration == it
            assert tr.step_phase() == p
        assert tr.iteration == it + 1
        assert tr.walk_phase is None


def test_params_change_only_in_the_update_phase():
    tr = make_trainer([2, 4, 3, 1], batch_size=4, rule=RULES["momentum"])
    tr.run(3)
    before = tr.net.params.copy()
    for p in phase_plan(4)[:-1]:
        assert tr.step_phase() == p
        assert np.array_equal(tr.net.params, before), p.kind
    assert tr.step_phase().kind == "update"
    assert not np.array_equal(tr.net.params, before)


# -- step back ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["plain", "momentum", "everything"])
@pytest.mark.parametrize("k", range(1, 10))
def test_step_phase_then_step_back_restores_params_bit_for_bit(k, rule):
    # [2, 3, 3, 1] has 9 phases: step k of them, then undo them one by one.
    tr = make_trainer([2, 3, 3, 1], batch_size=4, rule=RULES[rule])
    twin = make_trainer([2, 3, 3, 1], batch_size=4, rule=RULES[rule])
    tr.run(5)
    twin.run(5)
    start = tr.net.params.copy()
    phases = [tr.step_phase() for _ in range(k)]
    # each step back lands one phase earlier (after the update: on the gradients phase)
    for expected in reversed(phases[:-1]):
        assert tr.step_back()
        assert np.array_equal(tr.net.params, start)
        assert tr.walk_phase == expected
    assert tr.step_back()
    assert tr.walk_phase is None
    assert tr.iteration == 5
    assert np.array_equal(tr.net.params, start)
    # and training on from here is indistinguishable from never having walked
    for _ in range(4):
        tr.step()
        twin.step()
        assert np.array_equal(tr.net.params, twin.net.params)


def test_step_back_after_a_full_walked_iteration_lands_on_the_gradients_phase():
    tr = make_trainer([3, 4, 4, 3], "relu", "softmax", "softmax_ce", batch_size=4)
    tr.run(2)
    before = tr.net.params.copy()
    walk(tr)
    assert tr.iteration == 3
    assert tr.step_back()
    assert tr.iteration == 2
    assert tr.walk_phase is not None
    assert tr.walk_phase.kind == "gradients"
    assert tr.walk_phase == phase_plan(4)[-2]
    assert np.array_equal(tr.net.params, before)
    # one more phase redoes the update exactly
    after = tr.step_phase()
    assert after.kind == "update"
    assert tr.iteration == 3


def test_step_back_after_a_fast_step_undoes_the_whole_iteration():
    tr = make_trainer([2, 3, 1], batch_size=3)
    tr.run(4)
    before = tr.net.params.copy()
    tr.step()
    assert tr.step_back()
    assert tr.walk_phase is None
    assert tr.iteration == 4
    assert np.array_equal(tr.net.params, before)


@pytest.mark.parametrize("rule", ["plain", "momentum", "everything"])
@pytest.mark.parametrize("batch_size", [1, 5, None], ids=["sgd", "batch5", "full"])
def test_step_back_100_iterations_restores_the_initial_params_exactly(batch_size, rule):
    tr = make_trainer([2, 4, 3, 2], batch_size=batch_size, rule=RULES[rule])
    initial = tr.net.params.copy()
    trajectory = []
    for _ in range(100):
        tr.step()
        trajectory.append(tr.net.params.copy())
    errs = tr.history.batch_err.copy()
    for i in range(100):
        assert tr.step_back()
        expected = trajectory[-2 - i] if i < 99 else initial
        assert np.array_equal(tr.net.params, expected), f"after {i + 1} steps back"
    assert tr.iteration == 0
    assert tr.epoch == 0
    assert len(tr.history) == 0
    assert np.array_equal(tr.net.params, initial)
    assert not tr.step_back()  # nothing left to undo
    # replaying gives the same run (shuffling and momentum were restored too)
    for i in range(100):
        tr.step()
        assert np.array_equal(tr.net.params, trajectory[i]), f"replay iteration {i + 1}"
    assert np.array_equal(tr.history.batch_err, errs)


def test_step_back_on_a_fresh_trainer_returns_false():
    tr = make_trainer([2, 3, 1])
    assert not tr.can_step_back
    assert not tr.step_back()
    tr.step_phase()
    assert tr.can_step_back


def test_step_back_mid_walk_then_walking_on_matches_a_twin_step():
    tr, twin = twins(CONFIGS[0], 4, RULES["momentum"])
    tr.run(3)
    twin.run(3)
    for _ in range(3):
        tr.step_phase()
    tr.step_back()
    tr.step_back()
    assert tr.walk_phase.index == 0
    tr.finish_walk()
    twin.step()
    assert np.array_equal(tr.net.params, twin.net.params)
    assert np.array_equal(tr.history.batch_err, twin.history.batch_err)


@pytest.mark.parametrize("sizes", [(2, 1), (2, 3, 1), (3, 4, 4, 2), (2, 8, 8, 8, 8, 1)])
def test_the_fast_step_runs_each_phases_own_calls_in_plan_order(sizes):
    # The walk runs ws.ops[phase]; train_step runs ws.step_ops. They must be the very
    # same call objects, phase after phase in the lecture's order (update aside).
    net = Network(list(sizes), seed=0)
    ws = net.workspace(3)
    plan = [p for p in phase_plan(net.n_layers) if p.kind != "update"]
    assert list(ws.ops) == [(p.kind, p.layer) for p in plan]
    flat = [op for p in plan for op in ws.ops[p.kind, p.layer]]
    assert len(flat) == len(ws.step_ops)
    assert all(a is b for a, b in zip(flat, ws.step_ops, strict=True))


def test_a_forward_only_workspace_computes_the_same_err_without_backward_buffers():
    net = Network([3, 5, 4, 2], activation="sigmoid", seed=1)
    X = np.random.default_rng(0).normal(size=(6, 3))
    Y = np.random.default_rng(1).uniform(size=(6, 2))
    full, fwd = net.workspace(6), net.workspace(6, forward_only=True)
    for ws in (full, fwd):
        ws.o[0][...] = X
        ws.y[...] = Y
        net.forward_into(ws)
    assert net.error_into(fwd) == net.error_into(full)
    for l in range(1, net.n_layers):
        assert np.array_equal(fwd.o[l], full.o[l])
        assert fwd.delta[l] is None and fwd.dsigma[l] is None
    assert list(fwd.ops) == [("forward", 1), ("forward", 2), ("forward", 3), ("error", None)]
