"""The lecture formulas: every number shown is the engine's, formatted by fmt."""

from __future__ import annotations

import html as html_lib
import math
import re

import numpy as np
import pytest

from bpviz.engine import Network, Trainer, UpdateRule, get_loss, phase_plan
from bpviz.engine.state import STAGES
from bpviz.views import formulas
from bpviz.views.formulas import (
    MAX_TERMS,
    NOT_YET,
    TOP_N,
    explain_edge,
    explain_neuron,
    explain_phase,
    fmt,
    highlight_for,
    neuron_number,
    notation_html,
    phase_label,
    subject_label,
    theta_label,
)

# ---------------------------------------------------------------------------
# Parsing the HTML back into lines and numbers
# ---------------------------------------------------------------------------


def lines(html: str) -> list[str]:
    """The text, one entry per table row or paragraph; sub/superscripts as _{…}/^{…}."""
    h = re.sub(r"<sub>(.*?)</sub>", r"_{\1}", html)
    h = re.sub(r"<sup>(.*?)</sup>", r"^{\1}", h)
    h = re.sub(r"</tr>|</p>|</table>|<br\s*/?>", "\n", h)
    h = re.sub(r"<[^>]+>", " ", h)
    h = html_lib.unescape(h).replace("\xa0", " ").replace("−", "-")
    out = [re.sub(r"\s+", " ", ln).strip() for ln in h.split("\n")]
    return [ln for ln in out if ln]


_NUM = re.compile(r"(?<![\w.])-?(?:\d+(?:\.\d+)?(?:e[-+]\d+)?|inf|NaN)")


def numbers(line: str) -> list[str]:
    """The numbers of a line, leaving out subscripts and superscripts."""
    return _NUM.findall(re.sub(r"[_^]\{[^{}]*\}", "", line))


def F(x) -> str:
    """fmt as the plain text shows it (ASCII minus)."""
    return fmt(x).replace("−", "-")


def block(ls: list[str], start: str) -> list[str]:
    """The line starting with ``start`` and its continuation lines ("= …")."""
    for n, ln in enumerate(ls):
        if ln.startswith(start):
            out = [ln]
            for m in ls[n + 1 :]:
                if not m.startswith("= "):
                    break
                out.append(m)
            return out
    raise AssertionError(f"no line starting with {start!r} in {ls}")


def section(ls: list[str], first: str, end: str | None) -> list[str]:
    """The lines from the heading ``first`` up to the heading ``end``."""
    a = next(n for n, ln in enumerate(ls) if ln.startswith(first))
    b = len(ls) if end is None else next(n for n, ln in enumerate(ls) if ln.startswith(end))
    return ls[a:b]


def elide(terms: list) -> list:
    """The terms a sum shows (first 3 and last 2 of a long one)."""
    return [*terms[:3], *terms[-2:]] if len(terms) > MAX_TERMS else list(terms)


def flat(terms: list[list[str]]) -> list[str]:
    return [x for t in terms for x in t]


def idx(*nums: int) -> str:
    parts = [str(n) for n in nums]
    return ("," if any(len(p) > 1 for p in parts) else "").join(parts)


# ---------------------------------------------------------------------------
# Networks walked phase by phase
# ---------------------------------------------------------------------------

CASES = [
    # sizes, hidden σ, output σ, loss, bias, batch, dtype
    ([2, 3, 1], "sigmoid", "sigmoid", "sse", True, 1, "float64"),
    ([2, 3, 1], "tanh", "sigmoid", "bce", False, 3, "float64"),
    ([3, 4, 4, 2], "relu", "linear", "mse", True, 4, "float64"),
    ([3, 4, 4, 2], "leaky_relu", "softmax", "softmax_ce", True, 2, "float64"),
    ([2, 3, 3, 1], "tanh", "tanh", "half_sse", False, 1, "float32"),
    ([4, 7, 1], "sigmoid", "sigmoid", "sse", True, 2, "float64"),  # long sums, elided
    ([1, 2, 1], "linear", "linear", "sse", True, 1, "float64"),
    ([2, 20, 1], "tanh", "sigmoid", "sse", True, 1, "float64"),  # long tables, elided
    ([2, 2, 8, 1], "sigmoid", "sigmoid", "sse", True, 1, "float64"),  # long δ sums, elided
]


def make_trainer(case, seed=0, rule=None) -> Trainer:
    sizes, act, out_act, loss, bias, batch, dtype = case
    net = Network(
        sizes,
        activation=act,
        output_activation=out_act,
        loss=loss,
        bias=bias,
        seed=seed,
        dtype=np.dtype(dtype),
    )
    rng = np.random.default_rng(seed + 1)
    if bias:  # non-zero biases, so that θ_i0·1 carries a number worth checking
        for b in net.biases:
            b[...] = rng.uniform(-0.5, 0.5, size=b.shape)
    n = batch + 1
    X = rng.normal(size=(n, sizes[0]))
    if loss == "softmax_ce":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=n)]
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(n, sizes[-1])).astype(float)
    else:
        Y = rng.uniform(size=(n, sizes[-1]))
    return Trainer(net, X, Y, rule=rule or UpdateRule(lr=0.1), batch_size=batch, seed=seed)


def walk(trainer: Trainer, iterations: int = 2):
    """Yield the snapshot after every phase of the next iterations."""
    for _ in range(iterations):
        while True:
            phase = trainer.step_phase()
            yield trainer.snapshot()
            if phase.is_last:
                break


def case_id(case) -> str:
    sizes, act, out_act, loss, bias, batch, dtype = case
    return f"{sizes}-{act}-{out_act}-{loss}-{'b' if bias else 'nob'}-B{batch}-{dtype}"


def theta_used(snap, k):
    if snap.phase is not None and snap.phase.kind == "update":
        return snap.old_weights[k], snap.old_biases[k]
    return snap.weights[k], snap.biases[k]


# ---------------------------------------------------------------------------
# Checks of one explanation against the snapshot
# ---------------------------------------------------------------------------


def check_neuron(snap, cfg, l, i, s) -> None:
    sizes, bias = cfg["sizes"], cfg["bias"]
    last = len(sizes) - 1
    ls = lines(explain_neuron(snap, cfg, l, i, s))
    N = neuron_number(sizes, l, i)
    assert "Nothing" not in " ".join(ls)
    if l == 0:
        assert numbers(block(ls, f"o_{{{N}}} ")[0]) == [F(snap.x[s, i])]
        return
    fwd = section(ls, "Forward pass", "Backward pass")
    bwd = section(ls, "Backward pass", None)
    ph = snap.phase
    if snap.u[l] is None:
        assert NOT_YET in " ".join(fwd)
        assert not any(numbers(ln) for ln in fwd[1:])
    else:
        u, o = snap.u[l][s, i], snap.o[l][s, i]
        ub = block(fwd, f"u_{{{N}}} ")
        assert numbers(ub[-1]) == [F(u)]
        ob = block(fwd, f"o_{{{N}}} ")
        assert numbers(ob[-1])[-1] == F(o)
        compact = ph.kind in ("output_delta", "hidden_delta") and ph.layer == l
        if compact:
            assert len(ub) == 1
        else:
            w, b = theta_used(snap, l - 1)
            o_prev = snap.x[s] if l == 1 else snap.o[l - 1][s]
            terms = [[F(w[i, m]), F(o_prev[m])] for m in range(sizes[l - 1])]
            sym = [f"θ_{{{idx(N, neuron_number(sizes, l - 1, m))}}}" for m in range(sizes[l - 1])]
            if bias:
                terms.append([F(b[i]), "1"])
                sym.append(f"θ_{{{idx(N, 0)}}}·1")
            assert numbers(ub[2]) == flat(elide(terms))
            for name in elide(sym):
                assert name in ub[1]
            if len(sym) > MAX_TERMS:
                assert "+ … +" in ub[1]
                assert "+ … +" in ub[2]
            assert numbers(ob[0]) == [F(u)]
    if snap.delta[l] is None:
        assert NOT_YET in " ".join(bwd)
        # Only the general formula (δ_k = −2(y−ŷ)·σ′(u_k) has a 2), no values.
        assert not any(numbers(ln) for ln in bwd[1:] if not ln.startswith(("δ_{k}", "δ_{i}")))
        return
    d, ds = snap.delta[l][s, i], snap.dsigma[l][s, i]
    db = block(bwd, f"δ_{{{N}}} ")
    assert numbers(db[-1]) == [F(d)]
    loss = cfg["loss"]
    fused = l == last and loss in ("bce", "softmax_ce")
    if not fused:
        assert numbers(block(bwd, f"σ′(u_{{{N}}}) ")[0])[-1] == F(ds)
    if l == last:
        y, yh = snap.y[s, i], snap.o[l][s, i]
        assert numbers(block(bwd, f"y_{{{N}}} ")[0]) == [F(y)]
        assert numbers(block(bwd, f"ŷ_{{{N}}} ")[0]) == [F(yh)]
        n = snap.y.size
        expected = {
            "sse": ["-2", F(y), F(yh), F(ds)],
            "mse": ["2", str(n), F(y), F(yh), F(ds)],
            "half_sse": [F(y), F(yh), F(ds)],
            "bce": [F(yh), F(y)],
            "softmax_ce": [F(yh), F(y)],
        }[loss]
        assert numbers(db[1]) == expected
    else:
        w, _ = theta_used(snap, l)
        dn = snap.delta[l + 1][s]
        terms = [[F(dn[j]), F(w[j, i])] for j in range(sizes[l + 1])]
        assert numbers(db[1]) == [F(ds), *flat(elide(terms))]
        if sizes[l + 1] > 1:
            assert numbers(db[2]) == [F(ds), F(float(np.dot(dn, w[:, i])))]


def check_edge(snap, cfg, k, i, src, s) -> None:
    sizes = cfg["sizes"]
    ls = lines(explain_edge(snap, cfg, k, i, src, s))
    a = neuron_number(sizes, k + 1, i)
    b = 0 if src < 0 else neuron_number(sizes, k, src)
    name = f"θ_{{{idx(a, b)}}}"
    weight = section(ls, "Weight", "Gradient")
    grad_sec = section(ls, "Gradient", "Update")
    update = section(ls, "Update", None)
    ph = snap.phase
    in_update = ph.kind == "update"

    def pick(ws, bs):
        return bs[k][i] if src < 0 else ws[k][i, src]

    used = pick(snap.old_weights, snap.old_biases) if in_update else pick(snap.weights, snap.biases)
    assert numbers(block(weight, f"{name} ")[0]) == [F(used)]
    grad = None if snap.grad_weights is None else pick(snap.grad_weights, snap.grad_biases)
    delta = snap.delta[k + 1]
    if delta is None:
        assert NOT_YET in " ".join(grad_sec)
        assert NOT_YET in " ".join(update)
        return
    d = delta[s, i]
    o = 1.0 if src < 0 else (snap.x[s, src] if k == 0 else snap.o[k][s, src])
    gb = block(grad_sec, f"∂Err/∂{name} ")
    assert gb[0].endswith(f"δ_{{{a}}}·o_{{{b}}}")
    assert numbers(gb[1]) == [F(d), F(o)]
    batch = snap.x.shape[0]
    if batch > 1:
        assert numbers(gb[2]) == [F(d * o)]
        assert f"batch of {batch} samples" in " ".join(grad_sec)
        if grad is None:
            assert NOT_YET in " ".join(grad_sec)
        else:
            total = block(grad_sec, f"∂Err/∂{name} = Σ")
            assert numbers(total[-1]) == [F(grad)]
    elif grad is None:
        assert NOT_YET in " ".join(grad_sec)
    else:
        assert numbers(gb[2]) == [F(grad)]
    if grad is None:
        assert NOT_YET in " ".join(update)
        return
    ub = block(update, f"{name} ← ")
    lr = snap.lr
    assert numbers(ub[1]) == [F(used), F(lr), F(grad)]
    if in_update:
        assert numbers(ub[2]) == [F(pick(snap.weights, snap.biases))]
    else:
        assert numbers(ub[2]) == [F(used - lr * grad)]
        assert "pending" in " ".join(update)


def shown(ls: list[str], n: int, per_item: int) -> list[int]:
    """The neurons a phase table lists: all, or the first and last ones around "⋮ N more"."""
    limit = formulas.MAX_ROWS // per_item
    if n <= limit:
        assert not any(ln.startswith("⋮") for ln in ls)
        return list(range(n))
    filler = [ln for ln in ls if ln.startswith("⋮")]
    head = limit - 3
    assert len(filler) == 1
    assert re.fullmatch(rf"⋮ {n - head - 2} more (neurons|outputs)", filler[0])
    return [*range(head), n - 2, n - 1]


def edge_names(sizes, bias) -> dict[str, tuple[int, int, int]]:
    out = {}
    for k in range(len(sizes) - 1):
        for i in range(sizes[k + 1]):
            srcs = [*range(sizes[k]), *([-1] if bias else [])]
            for src in srcs:
                a = neuron_number(sizes, k + 1, i)
                b = 0 if src < 0 else neuron_number(sizes, k, src)
                out[idx(a, b)] = (k, i, src)
    return out


def check_phase(snap, cfg, s) -> None:
    sizes, bias = cfg["sizes"], cfg["bias"]
    last = len(sizes) - 1
    ls = lines(explain_phase(snap, cfg, s))
    text = " ".join(ls)
    ph = snap.phase
    loss = get_loss(cfg["loss"])
    assert "Loss in use: " + lines(notation_html(loss.formula))[0] in text
    assert NOT_YET not in text
    if ph.kind == "forward":
        l = ph.layer
        w, b = theta_used(snap, l - 1)
        o_prev = snap.x[s] if l == 1 else snap.o[l - 1][s]
        for i in shown(ls, sizes[l], per_item=2):
            N = neuron_number(sizes, l, i)
            terms = [[F(w[i, m]), F(o_prev[m])] for m in range(sizes[l - 1])]
            if bias:
                terms.append([F(b[i]), "1"])
            row = numbers(block(ls, f"u_{{{N}}} = ")[0])
            if len(terms) <= formulas.PHASE_TERMS:
                assert row == [*flat(terms), F(snap.u[l][s, i])]
            else:
                assert row == [F(snap.u[l][s, i])]
            assert numbers(block(ls, f"o_{{{N}}} = ")[0]) == [
                F(snap.u[l][s, i]),
                F(snap.o[l][s, i]),
            ]
    elif ph.kind == "error":
        batch = snap.x.shape[0]
        if batch > 1:
            sample = block(ls, "Err_{sample} ")
            row = slice(s, s + 1)
            share = loss.value(snap.y[row], snap.u[last][row], snap.o[last][row])
            if loss.name == "mse":
                share *= snap.y[row].size / snap.y.size
            assert numbers(sample[-1]) == [F(share)]
            assert numbers(block(ls, "Err = Σ_{samples}")[-1]) == [F(snap.err)]
        else:
            starts = [n for n, ln in enumerate(ls) if ln.startswith("Err = ")]
            err_block = block(ls[starts[-1] :], "Err = ")
            assert len(err_block) == 3  # symbols, numbers, the engine's Err
            assert numbers(err_block[-1]) == [F(snap.err)]
    elif ph.kind in ("output_delta", "hidden_delta"):
        l = ph.layer
        for i in shown(ls, sizes[l], per_item=1):
            N = neuron_number(sizes, l, i)
            row = numbers(block(ls, f"δ_{{{N}}} = ")[0])
            d, ds = F(snap.delta[l][s, i]), F(snap.dsigma[l][s, i])
            if ph.kind == "output_delta":
                y, yh, n = F(snap.y[s, i]), F(snap.o[l][s, i]), str(snap.y.size)
                expected = {
                    "sse": ["-2", y, yh, ds],
                    "mse": ["2", n, y, yh, ds],
                    "half_sse": [y, yh, ds],
                    "bce": [yh, y],
                    "softmax_ce": [yh, y],
                }[loss.name]
                assert row == [*expected, d]
            else:
                w, _ = theta_used(snap, l)
                dn = snap.delta[l + 1][s]
                if sizes[l + 1] <= formulas.PHASE_TERMS:
                    terms = [[F(dn[j]), F(w[j, i])] for j in range(sizes[l + 1])]
                    assert row == [ds, *flat(terms), d]
                else:
                    assert row == [ds, F(float(np.dot(dn, w[:, i]))), d]
    elif ph.kind in ("gradients", "update"):
        names = edge_names(sizes, bias)
        prefix = "∂Err/∂θ_{" if ph.kind == "gradients" else "θ_{"
        rows = [ln for ln in ls if ln.startswith(prefix) and "iℓ" not in ln]
        assert len(rows) == min(TOP_N, len(names))
        seen = []
        for ln in rows:
            key = re.search(r"θ_\{([\d,]+)\}", ln).group(1)
            k, i, src = names[key]
            seen.append((k, i, src))

            def pick(ws, bs, k=k, i=i, src=src):
                return float(bs[k][i] if src < 0 else ws[k][i, src])

            grad = pick(snap.grad_weights, snap.grad_biases)
            if ph.kind == "gradients":
                assert numbers(ln)[-1] == F(grad)
            else:
                old = pick(snap.old_weights, snap.old_biases)
                new = pick(snap.weights, snap.biases)
                assert numbers(ln) == [F(old), F(snap.lr), F(grad), F(new)]
        # The largest ones, in order.
        size = {}
        for e in names.values():
            k, i, src = e
            if ph.kind == "gradients":
                g = snap.grad_biases[k][i] if src < 0 else snap.grad_weights[k][i, src]
                size[e] = abs(float(g))
            elif src < 0:
                size[e] = abs(float(snap.biases[k][i] - snap.old_biases[k][i]))
            else:
                size[e] = abs(float(snap.weights[k][i, src] - snap.old_weights[k][i, src]))
        ranked = sorted(size.values(), reverse=True)
        assert [size[e] for e in seen] == ranked[: len(seen)]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_every_number_is_the_engines_in_every_phase(case):
    trainer = make_trainer(case)
    cfg = trainer.net.config()
    sizes, bias = cfg["sizes"], cfg["bias"]
    n_phases = 0
    for snap in walk(trainer):
        n_phases += 1
        batch = snap.x.shape[0]
        for s in sorted({0, batch - 1}):
            check_phase(snap, cfg, s)
            for l, n in enumerate(sizes):
                for i in range(n):
                    check_neuron(snap, cfg, l, i, s)
            for k in range(len(sizes) - 1):
                for i in range(sizes[k + 1]):
                    for src in [*range(sizes[k]), *([-1] if bias else [])]:
                        check_edge(snap, cfg, k, i, src, s)
    assert n_phases == 2 * len(phase_plan(len(sizes)))


def test_neuron_mid_iteration_says_not_yet_computed_in_grey():
    trainer = make_trainer(CASES[2])
    cfg = trainer.net.config()
    trainer.step_phase()  # forward into layer 1 only
    snap = trainer.snapshot()
    h = explain_neuron(snap, cfg, 2, 0)
    assert NOT_YET in h
    grey = formulas.palette().muted
    assert re.search(rf'color:{grey}">(?:(?!</span>).)*<i>{NOT_YET}</i></span>', h)
    # Layer 1 has u and o but no δ yet.
    ls = lines(explain_neuron(snap, cfg, 1, 0))
    assert NOT_YET not in " ".join(section(ls, "Forward pass", "Backward pass"))
    assert NOT_YET in " ".join(section(ls, "Backward pass", None))


def test_bias_terms_appear_as_theta_i0_times_one():
    trainer = make_trainer(CASES[0])
    cfg = trainer.net.config()
    trainer.step_phase()
    snap = trainer.snapshot()
    h = explain_neuron(snap, cfg, 1, 1)  # neuron 4: inputs 1, 2 and the bias 0
    assert "θ<sub>40</sub>·1" in h
    assert f"{formulas._factor(snap.biases[0][1])}·1" in h
    assert "o<sub>0</sub> = 1" in h
    edge = explain_edge(snap, cfg, 0, 1, -1)
    assert "θ<sub>40</sub>" in edge
    assert "o<sub>0</sub> = 1" in edge


def test_no_bias_network_has_no_bias_terms():
    trainer = make_trainer(CASES[1])
    cfg = trainer.net.config()
    trainer.step_phase()
    h = explain_neuron(trainer.snapshot(), cfg, 1, 0)
    assert "θ<sub>30</sub>" not in h
    assert "o<sub>0</sub>" not in h
    with pytest.raises(ValueError, match="no θ"):
        explain_edge(trainer.snapshot(), cfg, 0, 0, -1)


def test_long_sums_are_elided_but_the_result_is_the_engines():
    trainer = make_trainer(CASES[5])  # [4, 7, 1]: 8 terms into the output
    cfg = trainer.net.config()
    for _ in range(2):
        trainer.step_phase()
    snap = trainer.snapshot()
    ls = lines(explain_neuron(snap, cfg, 2, 0))
    ub = block(ls, "u_{12} ")
    assert "+ … +" in ub[1] and "+ … +" in ub[2]
    assert numbers(ub[-1]) == [F(snap.u[2][0, 0])]


def test_after_a_fast_step_the_phase_says_between_iterations():
    trainer = make_trainer(CASES[0])
    cfg = trainer.net.config()
    trainer.step()
    snap = trainer.snapshot()
    assert snap.phase is None
    text = " ".join(lines(explain_phase(snap, cfg)))
    assert "Between iterations" in text
    assert "press → to walk the next iteration phase by phase" in text.lower()
    # Neurons and edges still explain the last iteration, without mixing in θ
    # that changed since.
    ls = lines(explain_neuron(snap, cfg, 1, 0))
    assert numbers(block(ls, "u_{3} ")[-1]) == [F(snap.u[1][0, 0])]
    assert "before its update" in " ".join(ls)
    edge = " ".join(lines(explain_edge(snap, cfg, 0, 0, 0)))
    assert "after the last update" in edge
    assert F(snap.weights[0][0, 0]) in edge


def test_before_any_iteration_nothing_is_computed():
    trainer = make_trainer(CASES[0])
    cfg = trainer.net.config()
    snap = trainer.snapshot()
    assert "Between iterations" in explain_phase(snap, cfg)
    assert NOT_YET in explain_neuron(snap, cfg, 1, 0)
    assert NOT_YET in explain_edge(snap, cfg, 0, 0, 0)
    assert "no iteration yet" in explain_neuron(snap, cfg, 0, 0)


def test_update_with_momentum_says_the_rule_adds_more_than_eta_grad():
    trainer = make_trainer(CASES[0], rule=UpdateRule(lr=0.1, momentum=0.9))
    cfg = trainer.net.config()
    snaps = list(walk(trainer, 2))
    last = snaps[-1]
    assert last.phase.kind == "update"
    text = " ".join(lines(explain_edge(last, cfg, 0, 0, 0)))
    assert "momentum" in text


def test_narrow_layout_puts_results_on_their_own_line():
    trainer = make_trainer(CASES[0])
    cfg = trainer.net.config()
    trainer.step_phase()
    snap = trainer.snapshot()
    wide = lines(explain_phase(snap, cfg))
    narrow = lines(explain_phase(snap, cfg, narrow=True))
    u = F(snap.u[1][0, 0])
    assert numbers(block(wide, "u_{3} = ")[0])[-1] == u
    nb = block(narrow, "u_{3} = ")
    assert len(nb) == 2
    assert numbers(nb[1]) == [u]


def test_without_hints_no_phase_says_what_to_press_or_click():
    """An animation's frames show the panel without instructions that nobody can follow."""
    trainer = make_trainer(CASES[1])
    cfg = trainer.net.config()
    said = set()
    for snap in [trainer.snapshot(), *walk(trainer, 1)]:
        on_screen = explain_phase(snap, cfg)
        said |= {w for w in ("Click", "Press →") if w in on_screen}
        picture = explain_phase(snap, cfg, hints=False)
        assert "Click" not in picture and "Press" not in picture
        # Everything else is the same text.
        assert set(lines(picture)) <= set(lines(on_screen))
    assert said == {"Click", "Press →"}  # the window's panel does guide


def test_high_contrast_uses_the_light_on_black_palette():
    trainer = make_trainer(CASES[0])
    cfg = trainer.net.config()
    trainer.step_phase()
    snap = trainer.snapshot()
    hc = explain_phase(snap, cfg, high_contrast=True)
    assert formulas.palette(True).forward in hc
    assert formulas.palette(False).forward not in hc
    assert lines(hc) == lines(explain_phase(snap, cfg))


# ---------------------------------------------------------------------------
# The hand-made example of the notes' picture
# ---------------------------------------------------------------------------


def lecture_trainer() -> Trainer:
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    net.weights[0][...] = [[0.5, -0.3], [0.2, 0.4]]
    net.weights[1][...] = [[0.8, 0.3]]
    return Trainer(net, np.array([[1.0, 0.5]]), np.array([[1.0]]), rule=UpdateRule(lr=0.1))


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_lecture_example_by_hand():
    # By hand: u3 = 0.5·1 − 0.3·0.5 = 0.35, u4 = 0.2·1 + 0.4·0.5 = 0.4, ...
    o3, o4 = sig(0.35), sig(0.4)
    u5 = 0.8 * o3 + 0.3 * o4
    o5 = sig(u5)
    ds5 = o5 * (1 - o5)
    d5 = -2 * (1 - o5) * ds5
    ds3 = o3 * (1 - o3)
    d3 = ds3 * d5 * 0.8
    assert (fmt(o3), fmt(o4), fmt(u5), fmt(o5)) == ("0.5866", "0.5987", "0.6489", "0.6568")
    assert (fmt(ds5), fmt(d5), fmt(ds3), fmt(d3)) == ("0.2254", "−0.1547", "0.2425", "−0.03002")

    trainer = lecture_trainer()
    cfg = trainer.net.config()
    trainer.step_phase()
    snap = trainer.snapshot()
    h = explain_neuron(snap, cfg, 1, 0)
    assert "u<sub>3</sub>" in h
    assert "θ<sub>31</sub>·o<sub>1</sub> + θ<sub>32</sub>·o<sub>2</sub>" in h
    assert "0.5·1 + (−0.3)·0.5" in h
    assert ">0.35<" in h
    assert "σ(0.35)" in h and ">0.5866<" in h
    phase = explain_phase(snap, cfg)
    assert "0.5·1 + (−0.3)·0.5" in phase and "0.2·1 + 0.4·0.5" in phase

    for _ in range(3):  # forward layer 2, error, output δ
        trainer.step_phase()
    snap = trainer.snapshot()
    assert snap.phase.kind == "output_delta"
    h = explain_neuron(snap, cfg, 2, 0)
    assert "δ<sub>5</sub>" in h
    assert "−2·(y<sub>5</sub> − ŷ<sub>5</sub>)·σ′(u<sub>5</sub>)" in h
    assert "−2·(1 − 0.6568)·0.2254" in h
    assert ">−0.1547<" in h
    assert "o<sub>5</sub>·(1 − o<sub>5</sub>) = 0.6568·(1 − 0.6568)" in h

    trainer.step_phase()  # hidden δ of layer 1
    snap = trainer.snapshot()
    h = explain_neuron(snap, cfg, 1, 0)
    assert "δ<sub>3</sub> </td>" in h or "δ<sub>3</sub>" in h
    assert "σ′(u<sub>3</sub>)·δ<sub>5</sub>·θ<sub>53</sub>" in h
    assert "0.2425·(−0.1547)·0.8" in h
    assert ">−0.03002<" in h
    assert "(an earlier phase)" in h  # u and o of neuron 3 shown short

    trainer.step_phase()  # gradients
    snap = trainer.snapshot()
    e = explain_edge(snap, cfg, 0, 0, 1)  # θ_32: from input 2 to neuron 3
    assert "∂Err/∂θ<sub>32</sub>" in e
    assert "δ<sub>3</sub>·o<sub>2</sub>" in e
    assert "(−0.03002)·0.5" in e and ">−0.01501<" in e
    assert "−0.3 − 0.1·(−0.01501)" in e and "−0.2985" in e and "pending" in e

    trainer.step_phase()  # update
    snap = trainer.snapshot()
    e = explain_edge(snap, cfg, 0, 0, 1)
    assert "−0.3 − 0.1·(−0.01501)" in e and ">−0.2985<" in e
    assert "pending" not in e
    assert F(snap.weights[0][0, 1]) == "-0.2985"


# ---------------------------------------------------------------------------
# fmt, notation, labels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "digits", "text"),
    [
        (0.019134, 4, "0.01913"),
        (0.0191, 4, "0.0191"),
        (-0.05, 4, "−0.05"),
        (1.2345e-5, 3, "1.23e−05"),
        (0.35, 4, "0.35"),
        (1.0, 4, "1"),
        (-0.0, 4, "0"),
        (123456.0, 4, "1.235e+05"),
        (float("inf"), 4, "inf"),
        (float("-inf"), 4, "−inf"),
        (float("nan"), 4, "NaN"),
        (np.float32(0.5866), 4, "0.5866"),
    ],
)
def test_fmt(x, digits, text):
    assert fmt(x, digits) == text


def test_notation_html():
    assert notation_html("δ_k = −2(y−ŷ)·σ′(u_k)") == "δ<sub>k</sub> = −2(y−ŷ)·σ′(u<sub>k</sub>)"
    assert notation_html("σ(u) = 1/(1+e^(−u))") == "σ(u) = 1/(1+e<sup>−u</sup>)"
    assert notation_html("σ′(u) = [u > 0]") == "σ′(u) = [u &gt; 0]"
    assert notation_html("θ_iℓ ← θ_iℓ − η·δ_i·o_ℓ") == (
        "θ<sub>iℓ</sub> ← θ<sub>iℓ</sub> − η·δ<sub>i</sub>·o<sub>ℓ</sub>"
    )


def test_neuron_numbers_and_theta_labels():
    sizes = [2, 2, 1]
    assert [neuron_number(sizes, l, i) for l, i in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert theta_label(sizes, 0, 0, 1) == "θ₃₂"
    assert theta_label(sizes, 1, 0, -1) == "θ₅₀"
    assert theta_label([9, 3, 1], 0, 0, 0) == "θ(10,1)"
    assert idx(10, 1) == "10,1"
    snap_phase = phase_plan(3)[0]
    assert subject_label(("neuron", 1, 0), snap_phase, sizes) == "Neuron 3 · hidden layer 1"
    assert subject_label(("edge", 0, 0, 1), snap_phase, sizes) == "Weight θ_32 · neuron 2 → 3"
    assert subject_label(("edge", 1, 0, -1), snap_phase, sizes) == "Bias θ_50 of neuron 5"


def test_phase_label():
    plan = phase_plan(4)
    assert phase_label(plan[4]) == "Phase 5/9 · BACKWARD PASS · Output δ_k (layer 3)"
    assert phase_label(plan[0]) == "Phase 1/9 · FORWARD PASS · Forward: u and o of layer 1"
    assert phase_label(plan[-1]).startswith("Phase 9/9 · WEIGHT UPDATE")
    assert phase_label(None) == "Between iterations"


def test_stage_colours_are_distinct():
    colours = {formulas.stage_color(s) for s in STAGES}
    assert len(colours) == 3


# ---------------------------------------------------------------------------
# highlight_for
# ---------------------------------------------------------------------------


def all_edges(sizes, bias):
    return {
        (k, i, src)
        for k in range(len(sizes) - 1)
        for i in range(sizes[k + 1])
        for src in [*range(sizes[k]), *([-1] if bias else [])]
    }


def test_highlight_for_a_small_net_literally():
    sizes = [2, 3, 1]
    plan = phase_plan(3)
    kinds = [p.kind for p in plan]
    assert kinds == [
        "forward",
        "forward",
        "error",
        "output_delta",
        "hidden_delta",
        "gradients",
        "update",
    ]
    f1 = highlight_for(plan[0], None, sizes, True)
    assert f1 == (
        {(1, 0), (1, 1), (1, 2)},
        {(0, i, s) for i in range(3) for s in (-1, 0, 1)},
        1,
    )
    f2 = highlight_for(plan[1], None, sizes, False)
    assert f2 == ({(2, 0)}, {(1, 0, 0), (1, 0, 1), (1, 0, 2)}, 2)
    assert highlight_for(plan[2], None, sizes, True) == ({(2, 0)}, set(), 2)
    assert highlight_for(plan[3], None, sizes, True) == ({(2, 0)}, set(), 2)
    assert highlight_for(plan[4], None, sizes, True) == (
        {(1, 0), (1, 1), (1, 2), (2, 0)},
        {(1, 0, 0), (1, 0, 1), (1, 0, 2)},
        1,
    )
    # Neuron 4 (layer 1, index 1) selected: only it, δ_5 and θ_54.
    assert highlight_for(plan[4], ("neuron", 1, 1), sizes, True) == (
        {(1, 1), (2, 0)},
        {(1, 0, 1)},
        1,
    )
    assert highlight_for(plan[5], None, sizes, True) == (set(), all_edges(sizes, True), None)
    assert len(all_edges(sizes, True)) == 3 * 3 + 1 * 4
    assert highlight_for(plan[6], None, sizes, False) == (set(), all_edges(sizes, False), None)
    assert highlight_for(None, None, sizes, True) == (set(), set(), None)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("sizes", [[2, 3, 1], [3, 4, 4, 2], [2, 3, 3, 1], [1, 5, 2, 3, 2]])
def test_highlight_for_every_phase(sizes, bias):
    last = len(sizes) - 1
    for phase in phase_plan(len(sizes)):
        neurons, edges, layer = highlight_for(phase, None, sizes, bias)
        l = phase.layer
        if phase.kind == "forward":
            srcs = [*range(sizes[l - 1]), *([-1] if bias else [])]
            assert neurons == {(l, i) for i in range(sizes[l])}
            assert edges == {(l - 1, i, s) for i in range(sizes[l]) for s in srcs}
            assert layer == l
        elif phase.kind in ("error", "output_delta"):
            assert neurons == {(last, i) for i in range(sizes[last])}
            assert edges == set()
        elif phase.kind == "hidden_delta":
            assert neurons == {(l, i) for i in range(sizes[l])} | {
                (l + 1, j) for j in range(sizes[l + 1])
            }
            assert edges == {(l, j, i) for j in range(sizes[l + 1]) for i in range(sizes[l])}
            assert all(s >= 0 for _, _, s in edges)
            assert layer == l
            for i in range(sizes[l]):
                sel_n, sel_e, sel_l = highlight_for(phase, ("neuron", l, i), sizes, bias)
                assert sel_n == {(l, i)} | {(l + 1, j) for j in range(sizes[l + 1])}
                assert sel_e == {(l, j, i) for j in range(sizes[l + 1])}
                assert sel_l == l
            # A neuron of another layer, or an edge, does not narrow it.
            other = ("neuron", l + 1, 0)
            assert highlight_for(phase, other, sizes, bias) == (neurons, edges, layer)
            assert highlight_for(phase, ("edge", l, 0, 0), sizes, bias) == (
                neurons,
                edges,
                layer,
            )
        else:
            assert neurons == set()
            assert edges == all_edges(sizes, bias)
            assert layer is None


def test_highlight_ignores_a_selection_outside_hidden_delta():
    sizes = [2, 3, 3, 1]
    plan = phase_plan(4)
    for phase in plan:
        if phase.kind == "hidden_delta":
            continue
        plain = highlight_for(phase, None, sizes, True)
        assert highlight_for(phase, ("neuron", 1, 0), sizes, True) == plain


def test_a_narrow_panel_wraps_the_loss_line_around_its_formulas_not_inside_one(qtbot):
    # At 720p the panel is ~450 px wide: "δₖ = −2(y−ŷ)·σ′(uₖ)" broke after "=".
    from PySide6.QtGui import QFont, QFontMetricsF, QTextDocument

    trainer = make_trainer(CASES[0])
    trainer.run(1)
    cfg = trainer.net.config()
    html = explain_phase(trainer.snapshot(), cfg)
    doc = QTextDocument()

    def loss_lines(width: int) -> list[str]:
        doc.setTextWidth(width)
        doc.documentLayout().documentSize()  # lays the text out at this width
        block = doc.begin()
        while block.isValid() and "its output δ" not in block.text().replace("\xa0", " "):
            block = block.next()
        assert block.isValid()
        layout = block.layout()
        return [
            block.text()[line.textStart() : line.textStart() + line.textLength()]
            .replace("\xa0", " ")
            .replace("\u2060", "")
            .strip()
            for line in (layout.lineAt(k) for k in range(layout.lineCount()))
        ]

    for points in (7, 9, 12):  # the panel's text follows the window and presenter mode
        font = QFont()
        font.setPointSizeF(points)
        doc.setDefaultFont(font)
        doc.setHtml(html)
        (whole,) = loss_lines(4000)
        err, delta = whole.removeprefix("Loss in use: ").split("  ·  its output δ: ")
        widest = max(QFontMetricsF(font).horizontalAdvance(f) for f in (err, delta))
        breaks = 0
        for width in range(math.ceil(widest * 1.25), 900, 5):  # (no narrower than a formula)
            texts = loss_lines(width)
            breaks += len(texts) > 1
            for formula in (err, delta):
                assert any(formula in t for t in texts), (points, width, texts)  # whole
        assert breaks > 0  # narrow widths did wrap the line (around the formulas)
