"""Trainer.snapshot(): immutable copies, None for what is not computed yet, the loss cursor."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bpviz.engine import Network, Snapshot, Trainer, UpdateRule, phase_plan

SIZES = [2, 3, 3, 1]
LAST = len(SIZES) - 1


def make_trainer(sizes=SIZES, batch_size=4, rule=None, n=11, bias=True, seed=0, dtype=np.float64):
    net = Network(
        sizes, activation="tanh", output_activation="sigmoid", bias=bias, seed=seed, dtype=dtype
    )
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    Y = rng.uniform(size=(n, sizes[-1]))
    Xt = rng.normal(size=(5, sizes[0]))
    Yt = rng.uniform(size=(5, sizes[-1]))
    return Trainer(
        net, X, Y, Xt, Yt, rule=rule or UpdateRule(lr=0.2), batch_size=batch_size, seed=seed
    )


def arrays_of(snap: Snapshot) -> dict[str, np.ndarray]:
    """Every array a snapshot holds, by a readable name."""
    found: dict[str, np.ndarray] = {}
    for field in dataclasses.fields(snap):
        value = getattr(snap, field.name)
        if isinstance(value, np.ndarray):
            found[field.name] = value
        elif isinstance(value, tuple):
            for i, a in enumerate(value):
                if isinstance(a, np.ndarray):
                    found[f"{field.name}[{i}]"] = a
    return found


def walked_update_snapshot(tr: Trainer) -> Snapshot:
    for _ in tr.phases():
        pass
    return tr.snapshot()


# -- copies, read-only ------------------------------------------------------------------


@pytest.mark.parametrize("walked", [False, True], ids=["fast_step", "walked"])
def test_snapshot_arrays_are_copies_unaffected_by_later_training(walked):
    tr = make_trainer(rule=UpdateRule(lr=0.2, momentum=0.5))
    tr.run(3)
    snap = walked_update_snapshot(tr) if walked else tr.snapshot()
    saved = {name: a.copy() for name, a in arrays_of(snap).items()}
    assert "weights[0]" in saved
    assert "u[1]" in saved
    assert "grad_weights[0]" in saved
    for name, a in arrays_of(snap).items():
        assert not np.shares_memory(a, tr.net.params), name
    # change everything the snapshot could alias
    for w in tr.net.weights:
        w += 1.0
    for b in tr.net.biases:
        b -= 1.0
    tr.run(5)
    for _ in range(4):
        tr.step_phase()
    tr.snapshot()
    for name, a in arrays_of(snap).items():
        assert np.array_equal(a, saved[name]), name


@pytest.mark.parametrize("walked", [False, True], ids=["fast_step", "walked"])
def test_snapshot_arrays_are_read_only(walked):
    tr = make_trainer()
    tr.run(2)
    snap = walked_update_snapshot(tr) if walked else tr.snapshot()
    arrays = arrays_of(snap)
    assert len(arrays) > 20
    for name, a in arrays.items():
        assert not a.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            a[...] = 0.0


def test_snapshot_arrays_mid_walk_are_read_only():
    tr = make_trainer()
    for _ in range(5):
        tr.step_phase()
        for name, a in arrays_of(tr.snapshot()).items():
            assert not a.flags.writeable, name


def test_snapshot_is_frozen():
    snap = make_trainer().snapshot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.iteration = 5


def test_snapshot_of_a_float32_network_holds_float32_arrays():
    tr = make_trainer(dtype=np.float32, bias=False)
    tr.run(2)
    for snap in (tr.snapshot(), walked_update_snapshot(tr)):
        for name, a in arrays_of(snap).items():
            if name.startswith("new_"):
                continue  # the loss history is float64 whatever the network
            assert a.dtype == np.float32, name


# -- what a snapshot holds at each moment --------------------------------------------------


def test_snapshot_before_any_iteration_holds_only_weights():
    tr = make_trainer()
    snap = tr.snapshot()
    assert snap.iteration == 0
    assert snap.epoch == 0
    assert snap.phase is None
    assert snap.err is None
    assert snap.x is None
    assert snap.y is None
    assert snap.grad_weights is None
    assert snap.grad_biases is None
    assert snap.old_weights is None
    assert all(a is None for a in snap.u + snap.o + snap.delta)
    for w, ws in zip(tr.net.weights, snap.weights, strict=True):
        assert np.array_equal(w, ws)


def test_snapshot_after_a_fast_step_holds_everything_but_old_weights():
    tr = make_trainer()
    err = tr.step()
    snap = tr.snapshot()
    assert snap.phase is None
    assert snap.iteration == 1
    assert snap.err == err
    assert snap.u[0] is None
    assert snap.delta[0] is None
    assert all(a is not None for a in snap.u[1:] + snap.o + snap.delta[1:])
    assert snap.grad_weights is not None
    assert snap.grad_biases is not None
    assert snap.old_weights is None
    assert snap.old_biases is None
    assert snap.x.shape == (4, SIZES[0])
    assert snap.y.shape == (4, SIZES[-1])
    assert snap.lr == 0.2


def test_mid_walk_snapshot_has_none_for_what_is_not_yet_computed():
    tr = make_trainer(rule=UpdateRule(lr=0.2))
    tr.run(2)
    before = [w.copy() for w in tr.net.weights]
    plan = phase_plan(len(SIZES))
    for phase in plan:
        assert tr.step_phase() == phase
        snap = tr.snapshot()
        assert snap.phase == phase
        i = phase.index
        assert snap.x is not None
        assert snap.y is not None
        assert snap.u[0] is None
        assert snap.o[0] is not None
        # forward phase l − 1 computes u[l] and o[l]
        for l in range(1, len(SIZES)):
            done = i >= l - 1
            assert (snap.u[l] is not None) == done, (phase.kind, phase.layer, "u", l)
            assert (snap.o[l] is not None) == done, (phase.kind, phase.layer, "o", l)
        error_index = LAST  # after the L − 1 forward phases
        assert (snap.err is not None) == (i >= error_index), phase.kind
        # δ appears from the output back: output_delta at LAST + 1, then layer LAST − 1, …
        assert snap.delta[0] is None
        for l in range(1, len(SIZES)):
            delta_index = error_index + 1 + (LAST - l)
            assert (snap.delta[l] is not None) == (i >= delta_index), (phase.kind, "δ", l)
            assert (snap.dsigma[l] is not None) == (i >= delta_index), (phase.kind, "σ′", l)
        gradients_index = plan[-2].index
        assert (snap.grad_weights is not None) == (i >= gradients_index), phase.kind
        assert (snap.grad_biases is not None) == (i >= gradients_index), phase.kind
        assert (snap.old_weights is not None) == (phase.kind == "update"), phase.kind
        assert (snap.old_biases is not None) == (phase.kind == "update"), phase.kind
        assert snap.iteration == (3 if phase.kind == "update" else 2)
        if phase.kind != "update":
            for w, ws in zip(before, snap.weights, strict=True):
                assert np.array_equal(w, ws)


def test_mid_walk_snapshot_values_match_a_forward_and_backward_on_its_batch():
    tr = make_trainer()
    tr.run(1)
    for _ in range(phase_plan(len(SIZES))[-2].index + 1):  # through the gradients phase
        tr.step_phase()
    snap = tr.snapshot()
    net = tr.net
    trace = net.forward(snap.x)
    grads = net.backward(trace, snap.y)
    for l in range(1, len(SIZES)):
        np.testing.assert_allclose(snap.u[l], trace.u[l], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(snap.o[l], trace.o[l], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(snap.delta[l], grads.delta[l], rtol=1e-12, atol=1e-15)
    for k in range(LAST):
        np.testing.assert_allclose(snap.grad_weights[k], grads.weights[k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(snap.grad_biases[k], grads.biases[k], rtol=1e-12, atol=1e-15)
    assert snap.err == pytest.approx(net.error(snap.x, snap.y), rel=1e-13)


def test_update_snapshot_has_old_weights_and_new_weights_one_gradient_step_apart():
    lr = 0.2
    tr = make_trainer(rule=UpdateRule(lr=lr))
    tr.run(3)
    old_w = [w.copy() for w in tr.net.weights]
    old_b = [b.copy() for b in tr.net.biases]
    snap = walked_update_snapshot(tr)
    assert snap.phase.kind == "update"
    assert snap.iteration == 4
    for k in range(LAST):
        assert np.array_equal(snap.old_weights[k], old_w[k])
        assert np.array_equal(snap.old_biases[k], old_b[k])
        assert np.array_equal(snap.weights[k], tr.net.weights[k])
        assert np.array_equal(snap.biases[k], tr.net.biases[k])
        # θ_new = θ_old − η·∂Err/∂θ
        np.testing.assert_allclose(
            snap.weights[k], old_w[k] - lr * snap.grad_weights[k], rtol=1e-14, atol=1e-15
        )
        np.testing.assert_allclose(
            snap.biases[k], old_b[k] - lr * snap.grad_biases[k], rtol=1e-14, atol=1e-15
        )


def test_snapshot_after_a_fast_step_that_follows_a_walk_has_no_old_weights():
    tr = make_trainer()
    walked_update_snapshot(tr)
    tr.step()
    snap = tr.snapshot()
    assert snap.phase is None
    assert snap.old_weights is None


# -- the loss cursor ----------------------------------------------------------------------------


def test_loss_cursor_delivers_every_batch_err_exactly_once_over_1000_iterations():
    tr = make_trainer(n=23, rule=UpdateRule(lr=0.05, momentum=0.5))
    rng = np.random.default_rng(42)
    received: list[np.ndarray] = []
    evals_it: list[np.ndarray] = []
    evals_train: list[np.ndarray] = []
    evals_test: list[np.ndarray] = []
    count = eval_count = 0
    while tr.iteration < 1000:
        if rng.random() < 0.1:
            tr.set_batch_size(int(rng.choice([1, 2, 5, 7, 23])))
        if rng.random() < 0.05:
            for _ in range(int(rng.integers(1, 12))):  # walk some phases, maybe finishing
                tr.step_phase()
        else:
            tr.run(int(min(rng.integers(0, 30), 1000 - tr.iteration)))
        for _ in range(int(rng.integers(1, 3))):  # sometimes twice in a row
            snap = tr.snapshot()
            assert snap.losses_from == count
            assert snap.eval_from == eval_count
            received.append(np.asarray(snap.new_losses))
            evals_it.append(np.asarray(snap.new_eval_iterations))
            evals_train.append(np.asarray(snap.new_train_err))
            evals_test.append(np.asarray(snap.new_test_err))
            count += snap.new_losses.size
            eval_count += snap.new_eval_iterations.size
            assert count == len(tr.history)
    tr.finish_walk()
    snap = tr.snapshot()
    received.append(np.asarray(snap.new_losses))
    evals_it.append(np.asarray(snap.new_eval_iterations))
    evals_train.append(np.asarray(snap.new_train_err))
    evals_test.append(np.asarray(snap.new_test_err))
    all_losses = np.concatenate(received)
    assert all_losses.size == tr.iteration >= 1000
    assert np.array_equal(all_losses, tr.history.batch_err)
    assert np.array_equal(np.concatenate(evals_it), tr.history.eval_iteration)
    assert np.array_equal(np.concatenate(evals_train), tr.history.train_err)
    assert np.array_equal(np.concatenate(evals_test), tr.history.test_err)


def test_new_losses_entry_m_is_the_err_of_iteration_losses_from_plus_m_plus_one():
    tr = make_trainer()
    errs = [tr.step() for _ in range(4)]
    snap = tr.snapshot()
    assert snap.losses_from == 0
    assert list(snap.new_losses) == errs
    errs = [tr.step() for _ in range(3)]
    snap = tr.snapshot()
    assert snap.losses_from == 4
    assert list(snap.new_losses) == errs
    snap = tr.snapshot()
    assert snap.losses_from == 7
    assert snap.new_losses.size == 0


def test_losses_from_drops_after_step_back():
    tr = make_trainer()
    tr.run(10)
    assert tr.snapshot().losses_from == 0
    assert tr.snapshot().losses_from == 10
    for _ in range(3):
        tr.step_back()
    snap = tr.snapshot()
    assert snap.losses_from == 7
    assert snap.new_losses.size == 0
    errs = [tr.step() for _ in range(2)]
    snap = tr.snapshot()
    assert snap.losses_from == 7
    assert list(snap.new_losses) == errs
    assert np.array_equal(tr.history.batch_err[7:9], snap.new_losses)


def test_eval_from_drops_after_step_back():
    tr = make_trainer(batch_size=None)  # full batch: evaluated every iteration
    tr.run(6)
    first = tr.snapshot()
    assert first.eval_from == 0
    assert list(first.new_eval_iterations) == [0, 1, 2, 3, 4, 5, 6]
    tr.step_back()
    tr.step_back()
    snap = tr.snapshot()
    assert snap.eval_from == 5
    assert snap.new_eval_iterations.size == 0
    tr.step()
    snap = tr.snapshot()
    assert snap.eval_from == 5
    assert list(snap.new_eval_iterations) == [5]


def test_reset_restarts_the_loss_cursor():
    tr = make_trainer()
    tr.run(5)
    tr.snapshot()
    tr.reset()
    snap = tr.snapshot()
    assert snap.losses_from == 0
    assert snap.new_losses.size == 0
    tr.run(2)
    snap = tr.snapshot()
    assert snap.losses_from == 0
    assert snap.new_losses.size == 2


def test_each_new_loss_comes_with_its_batchs_n_and_the_sets_n():
    trainer = make_trainer(batch_size=4, n=11)  # batches of 4, 4, 3 each epoch
    trainer.run(7)
    snap = trainer.snapshot()
    assert snap.new_batch_sizes.tolist() == [4, 4, 3, 4, 4, 3, 4]
    assert not snap.new_batch_sizes.flags.writeable
    assert (snap.n_train, snap.n_test, snap.loss_mean) == (11, 5, False)
    trainer.run(2)
    assert trainer.snapshot().new_batch_sizes.tolist() == [4, 3]
