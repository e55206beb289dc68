"""The quiz model: questions per phase, the 3-figure check, and the named mistakes (no Qt).

Each mistake is applied here to the true computation, written out with NumPy
from the snapshot's arrays independently of the model, and the typed number
(rounded to 4 figures as a student would write it) must be diagnosed as
that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpviz.engine import Network, Trainer, UpdateRule
from bpviz.worked import quiz as Q
from bpviz.worked.model import Worked


def walk(sizes, act, out_act, loss, batch, bias, seed, lr=0.3, iterations=1):
    """Every phase snapshot of iteration ``iterations`` (earlier ones walked too)."""
    net = Network(sizes, activation=act, output_activation=out_act, loss=loss, bias=bias, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, sizes[0]))
    Y = rng.uniform(0.05, 0.95, size=(6, sizes[-1]))
    trainer = Trainer(net, X, Y, rule=UpdateRule(lr=lr), batch_size=batch, seed=seed)
    snaps = []
    for _ in range(iterations):
        snaps = []
        while True:
            ph = trainer.step_phase()
            snaps.append(trainer.snapshot())
            if ph.is_last:
                break
    return snaps, net.config()


def sig(x):
    return 1 / (1 + np.exp(-x))


def dsig(name, u, o):
    return {"sigmoid": o * (1 - o), "tanh": 1 - o * o}[name]


def sigma(name, x):
    return {"sigmoid": sig(x), "tanh": np.tanh(x)}[name]


def by_hand(w: Worked, q: Q.Question, mistake: str, stale=None) -> float | None:
    """The quantity as a student who makes ``mistake`` computes it (None: not here)."""
    snap, e, r = w.snap, q.equation, w.sample
    cfg = w.config
    if q.kind == "u":
        l, i = e.layer, e.index
        W = w.theta_used(l - 1)[0] if mistake != "stale_theta" else stale[0][l - 1]
        b = w.theta_used(l - 1)[1] if mistake != "stale_theta" else stale[1][l - 1]
        x = snap.x[r] if l == 1 else snap.o[l - 1][r]
        return float(W[i] @ x + (b[i] if cfg["bias"] and mistake != "no_bias" else 0.0))
    if q.kind == "o":
        u = snap.u[e.layer][r, e.index]
        name = cfg["output_activation"] if e.layer == w.last else cfg["activation"]
        o = sigma(name, u)
        return {"no_sigma": u, "dsigma_for_sigma": dsig(name, u, o)}[mistake]
    if q.kind == "err":
        d = snap.y[r] - snap.o[w.last][r]
        n = snap.y.size if cfg["loss"] == "mse" else 1
        return {"err_half": 0.5 * np.sum(d**2) / n, "err_not_squared": np.sum(d) / n}[mistake]
    if q.kind == "delta":
        l, i = e.layer, e.index
        u, o = snap.u[l][r, i], snap.o[l][r, i]
        name = cfg["output_activation"] if l == w.last else cfg["activation"]
        ds = {
            "no_dsigma": 1.0,
            "dsigma_at_o": dsig(name, o, sigma(name, o)),
            "dsigma_u_for_o": dsig(name, u, u),
        }.get(mistake, dsig(name, u, o))
        if l == w.last:
            y = snap.y[r, i]
            c = {"sse": 2.0, "mse": 2.0 / snap.y.size}[cfg["loss"]]
            if mistake == "sign":
                return c * (y - o) * ds
            if mistake == "factor2":
                return -c / 2 * (y - o) * ds
            return -c * (y - o) * ds
        W = w.theta_used(l)[0] if mistake != "stale_theta" else stale[0][l]
        d = snap.delta[l + 1][r]
        if mistake == "theta_transposed":
            if W.shape[0] > W.shape[1] or i >= W.shape[0]:
                return None
            return float(ds * (d @ W[i, : len(d)]))
        return float(ds * (d @ W[:, i]))
    if q.kind == "update":
        edge = (e.layer, e.index, e.src)
        old = w.pick(snap.old_weights, snap.old_biases, edge)
        new = w.pick(snap.weights, snap.biases, edge)
        g = w.pick(snap.grad_weights, snap.grad_biases, edge)
        eta = snap.lr
        return {
            "no_eta": old - g,
            "update_sign": old + eta * g,
            "new_for_old": new - eta * g,
        }[mistake]
    raise AssertionError(q.kind)


MISTAKES_BY_KIND = {
    "u": ["no_bias", "stale_theta"],
    "o": ["no_sigma", "dsigma_for_sigma"],
    "err": ["err_half", "err_not_squared"],
    "delta_out": ["sign", "factor2", "no_dsigma", "dsigma_at_o", "dsigma_u_for_o"],
    "delta_hidden": [
        "no_dsigma",
        "dsigma_at_o",
        "dsigma_u_for_o",
        "theta_transposed",
        "stale_theta",
    ],
    "update": ["no_eta", "update_sign", "new_for_old"],
}


def random_case(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    sizes = [
        int(rng.integers(1, 4)),
        n,
        *([n] if rng.random() < 0.6 else []),
        int(rng.integers(1, n + 1)),
    ]
    act = str(rng.choice(["sigmoid", "tanh"]))
    out = str(rng.choice(["sigmoid", "tanh"]))
    loss = str(rng.choice(["sse", "mse"]))
    return sizes, act, out, loss, int(rng.choice([1, 2])), bool(rng.random() < 0.7)


@pytest.mark.parametrize("seed", range(12))
def test_each_mistake_applied_to_the_true_computation_is_named(seed):
    case = random_case(seed)
    # Two iterations: the second one's u and δ can use the θ before the update.
    snaps1, cfg = walk(*case, seed=seed, iterations=1)
    snaps, _ = walk(*case, seed=seed, iterations=2)
    named = ambiguous = 0
    for snap in snaps:
        w = Worked(snap, cfg)
        # Iteration 2 computes with θ after iteration 1's update; "stale" is θ before it.
        old = (
            None if snap.phase.kind == "update" else (snaps1[-1].old_weights, snaps1[-1].old_biases)
        )
        for q in Q.questions(w):
            # the right answer, typed to 4 figures, is right
            assert Q.diagnose(w, q, float(f"{q.answer:.4g}"), old).right
            assert Q.recompute(w, q) == pytest.approx(q.answer, rel=1e-9, abs=1e-12)
            kind = q.kind
            if kind == "delta":
                kind = "delta_out" if q.equation.layer == w.last else "delta_hidden"
            for m in MISTAKES_BY_KIND.get(kind, []):
                if m == "no_bias" and not cfg["bias"]:
                    continue
                v = by_hand(w, q, m, old)
                if v is None or abs(v - q.answer) <= 2 * Q.tolerance(q.answer):
                    continue  # the mistake changes nothing that 3 figures show
                typed = float(f"{v:.4g}")
                check = Q.diagnose(w, q, typed, old)
                assert not check.right
                assert (m,) in check.mistakes, (q.kind, m, typed, q.answer, check)
                if check.mistake == (m,):
                    named += 1
                else:  # another mistake gives the same 3 figures: listed, not first
                    ambiguous += 1
    assert named > 0
    assert ambiguous <= max(1, named // 10)


def test_every_listed_mistake_is_named_on_some_random_network():
    seen = set()
    for seed in range(12):
        case = random_case(seed)
        snaps1, cfg = walk(*case, seed=seed, iterations=1)
        snaps, _ = walk(*case, seed=seed, iterations=2)
        old = (snaps1[-1].old_weights, snaps1[-1].old_biases)
        for snap in snaps:
            w = Worked(snap, cfg)
            o = None if snap.phase.kind == "update" else old
            for q in Q.questions(w):
                for combo, v in Q.alternatives(w, q, o, pairs=False):
                    if Q.diagnose(w, q, float(f"{v:.4g}"), o).mistake == combo:
                        seen.add(combo[0])
    issue = {
        "sign",
        "factor2",
        "no_dsigma",
        "dsigma_at_o",
        "dsigma_u_for_o",
        "theta_transposed",
        "no_bias",
        "no_eta",
        "update_sign",
        "stale_theta",
        "new_for_old",
    }
    assert issue <= seen, issue - seen


def test_two_mistakes_at_once_are_both_named():
    snaps, cfg = walk([2, 2, 1], "sigmoid", "sigmoid", "sse", 1, True, seed=4)
    snap = next(s for s in snaps if s.phase.kind == "output_delta")
    w = Worked(snap, cfg)
    (q,) = Q.questions(w, ["delta"])
    y, o = snap.y[0, 0], snap.o[2][0, 0]
    # sign flipped and factor 2 dropped, σ′ kept
    typed = float(f"{(y - o) * o * (1 - o):.4g}")
    check = Q.diagnose(w, q, typed)
    assert set(check.mistake) == {"sign", "factor2"}
    assert "the sign of (y − ŷ) flipped and the factor 2" in check.message()


def test_three_significant_figures():
    assert Q.is_right(0.0191, 0.019134)
    assert Q.is_right(0.01913, 0.019134)
    assert not Q.is_right(0.0192, 0.019134)
    assert Q.is_right(-3.76, -3.7594)
    assert not Q.is_right(3.76, -3.7594)
    assert Q.is_right(1235, 1234.6)
    assert Q.is_right(1230, 1234.6)
    assert not Q.is_right(1240, 1234.6)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("−0.0191", -0.0191),
        ("-1.91e-2", -0.0191),
        ("0,5", 0.5),
        (" .25 ", 0.25),
        ("1.9·10^-2", 0.019),
        ("3", 3.0),
    ],
)
def test_answers_parse_as_students_type_them(text, value):
    assert Q.parse_answer(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "--1", "0.5x"])
def test_a_non_number_gets_one_sentence(text):
    with pytest.raises(ValueError, match="is not a number"):
        Q.parse_answer(text)


def test_questions_follow_the_phase_and_the_kinds_asked():
    snaps, cfg = walk([2, 2, 1], "sigmoid", "sigmoid", "sse", 1, False, seed=1)
    kinds = [[q.kind for q in Q.questions(Worked(s, cfg))] for s in snaps]
    assert kinds == [
        ["u", "o", "u", "o"],  # forward into layer 1
        ["u", "o"],  # forward into layer 2
        ["err"],
        ["delta"],
        ["delta", "delta"],
        ["grad"] * 6,
        ["update"] * 6,
    ]
    only = [[q.kind for q in Q.questions(Worked(s, cfg), ["delta", "update"])] for s in snaps]
    assert only == [[], [], [], ["delta"], ["delta", "delta"], [], ["update"] * 6]


def test_session_scores_first_time_after_a_hint_and_revealed():
    snaps, cfg = walk([2, 2, 1], "sigmoid", "sigmoid", "sse", 1, True, seed=2)
    s = Q.QuizSession(cfg, kinds=["u", "o"])
    assert s.show(snaps[0])
    assert not s.show(snaps[0])  # the same phase again: nothing new
    q1 = s.current
    assert s.answer(f"{q1.answer:.4g}").right
    q2 = s.current
    assert q2 is not q1 and q2.kind == "o"
    wrong = s.answer(f"{snaps[0].u[1][0, 0]:.4g}")  # o = u: σ forgotten
    assert wrong.mistake == ("no_sigma",)
    assert s.current is q2
    assert s.answer(f"{q2.answer:.5g}").right
    assert s.skip() is not None
    assert (s.score.first, s.score.hint, s.score.revealed) == (1, 1, 1)
    # the phase's results stay hidden from the other views until all are settled
    assert s.hidden(snaps[0]).u[1] is None
    s.skip()
    assert s.done and s.hidden(snaps[0]) is snaps[0]
    # stepping back to a settled phase asks nothing again
    s.show(snaps[1])
    s.show(snaps[0])
    assert s.done


def test_hide_results_takes_out_exactly_what_the_phase_computed():
    snaps, _ = walk([2, 3, 2], "tanh", "sigmoid", "sse", 1, True, seed=3)
    _, f2, err, _, d1, grads, upd = snaps
    h = Q.hide_results(f2)
    assert h.u[2] is None and h.o[2] is None and h.o[1] is not None
    assert Q.hide_results(err).err is None
    h = Q.hide_results(d1)
    assert h.delta[1] is None and h.delta[2] is not None and h.dsigma[1] is None
    assert Q.hide_results(grads).grad_weights is None
    assert Q.hide_results(upd).weights[0] is upd.old_weights[0]


def test_givens_hold_the_theta_matrix_for_a_hidden_delta():
    snaps, cfg = walk([2, 2, 2], "sigmoid", "sigmoid", "sse", 1, False, seed=5)
    d1 = next(s for s in snaps if s.phase.kind == "hidden_delta")
    w = Worked(d1, cfg)
    q = Q.questions(w)[0]
    g = Q.givens(w, q)
    (m,) = g.matrices
    assert m.columns == ("3", "4")
    assert [r[0] for r in m.rows] == ["5", "6"]
    assert m.rows[0][1][0] == d1.weights[1][0, 0]


def test_session_names_the_theta_from_before_the_last_update():
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid", seed=8)
    X = np.array([[1.0, 0.5]])
    Y = np.array([[1.0]])
    trainer = Trainer(net, X, Y, rule=UpdateRule(lr=0.5), batch_size=1, seed=8)
    cfg = net.config()
    s = Q.QuizSession(cfg, kinds=["u"])
    before = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    while not trainer.step_phase().is_last:
        s.show(trainer.snapshot())
    s.show(trainer.snapshot())  # the update: the session remembers θ before it
    trainer.step_phase()  # iteration 2, forward into layer 1
    s.show(trainer.snapshot())
    assert s.current.kind == "u"
    stale = float(before[0][0][0] @ X[0] + before[1][0][0])
    check = s.answer(f"{stale:.4g}")
    assert check.mistake == ("stale_theta",), check
    assert "before the last update" in check.message()
