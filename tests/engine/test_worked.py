"""The worked-iteration model against the engine, and its text renderers (no Qt).

Every result of an equation is the snapshot's own number; every number in a
substituted expression is the snapshot's number its tag names; and the
arithmetic shown, redone from the numbers as printed (each known only to
its 4 significant digits), brackets the engine's result.
"""

from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bpviz.engine import Network, Trainer, UpdateRule
from bpviz.engine.experiment import PRESETS, Setup, build
from bpviz.engine.experiment_io import load_experiment, restore_trainer
from bpviz.examples import example_paths
from bpviz.worked import Worked, fmt, interval
from bpviz.worked import handout as H
from bpviz.worked.expr import Num, PlainPrinter, refs, shown_interval

GOLDEN = Path(__file__).resolve().parent / "worked_golden"

CASES = [
    # sizes, hidden σ, output σ, loss, batch, bias
    ([2, 2, 1], "sigmoid", "sigmoid", "sse", 1, True),
    ([3, 4, 2], "tanh", "sigmoid", "mse", 3, True),
    ([2, 3, 3], "relu", "softmax", "softmax_ce", 2, False),
    ([2, 5, 1], "leaky_relu", "sigmoid", "bce", 1, True),
    ([2, 2, 2, 1], "linear", "linear", "half_sse", 4, True),
    ([4, 3, 3, 2], "sigmoid", "tanh", "sse", 2, True),
]


def walked(sizes, act, out_act, loss, batch, bias, seed):
    """A random network and data; the snapshot of a walked iteration's update phase."""
    net = Network(sizes, activation=act, output_activation=out_act, loss=loss, bias=bias, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, sizes[0]))
    if out_act == "softmax":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 8)]
    else:
        Y = rng.uniform(0.05, 0.95, size=(8, sizes[-1]))
    trainer = Trainer(net, X, Y, rule=UpdateRule(lr=0.3), batch_size=batch, seed=seed)
    snap, err_after = H.walk_next(trainer)
    return trainer, snap, net.config(), err_after


def lookup(snap, ref):
    """The snapshot's number a tag names."""
    n, l, i, s, r = ref.name, ref.layer, ref.index, ref.src, ref.sample
    if n == "x":
        return snap.x[r, i]
    if n == "y":
        return snap.y[r, i]
    if n in ("u", "o", "dsigma", "delta"):
        return getattr(snap, n)[l][r, i]
    if n in ("theta", "grad", "theta_new"):
        ws, bs = {
            "theta": (snap.old_weights, snap.old_biases),
            "grad": (snap.grad_weights, snap.grad_biases),
            "theta_new": (snap.weights, snap.biases),
        }[n]
        return bs[l][i] if s < 0 else ws[l][i, s]
    if n == "lr":
        return snap.lr
    if n == "err":
        return snap.err
    return None


def checks_out(form, value) -> bool:
    """``form`` evaluated from its shown numbers overlaps what ``value`` shows."""
    lo, hi = interval(form)
    a, b = shown_interval(value)
    tol = 1e-12 * max(1.0, abs(value))
    return lo - tol <= b and a <= hi + tol


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c[0])) + "-" + c[3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_equation_is_the_engines_and_its_arithmetic_checks_out(case, seed):
    _, snap, cfg, _ = walked(*case, seed)
    w = Worked(snap, cfg)
    n_eq = 0
    for _kind, _layer, eqs in w.iteration():
        for eq in eqs:
            n_eq += 1
            if eq.ref.name not in ("derived", "err_sample"):
                assert eq.value is not None, eq
                assert eq.value == lookup(snap, eq.ref)
            for form in (eq.substituted, *eq.steps):
                for num in refs(form) if form is not None else []:
                    want = lookup(snap, num.ref)
                    if want is not None:
                        assert num.value == want, (eq.kind, num)
            final = eq.steps[-1] if eq.steps else eq.substituted
            if eq.kind == "o" and not eq.steps:  # a linear σ: o = u
                assert eq.value == lookup(snap, eq.substituted.args[0].ref)
                continue
            if final is None:
                continue
            value = eq.value
            if value is None:  # a per-sample product: its step is the product itself
                assert len(eq.steps) == 1 and checks_out(eq.substituted, eq.steps[0].value)
                continue
            assert checks_out(final, value), (eq.kind, PlainPrinter().doprint(final), value)
            if eq.steps and eq.kind != "o":  # the substituted form checks out too
                assert checks_out(eq.substituted, value)
    # forward: 2 per neuron and sample; one Err per sample (+ the batch); δ and σ′; 2 per θ
    n_neurons = sum(case[0][1:])
    assert n_eq >= 2 * n_neurons * w.batch + 2 * len(w.edges())


def test_per_sample_share_and_batch_sum_of_err():
    _, snap, cfg, _ = walked([2, 3, 1], "tanh", "sigmoid", "sse", 4, True, 5)
    w = Worked(snap, cfg)
    shares = [w.err_sample(s) for s in range(4)]
    total = w.err_batch(range(4))
    assert total.value == snap.err
    assert sum(e.value for e in shares) == pytest.approx(snap.err, rel=1e-12)
    assert checks_out(total.substituted, total.value)


def test_batch_gradient_is_the_sum_of_the_per_sample_products():
    _, snap, cfg, _ = walked([2, 3, 1], "sigmoid", "sigmoid", "sse", 3, True, 7)
    w = Worked(snap, cfg)
    for e in w.edges():
        g = w.grad(e, range(3))
        assert len(g.substituted.terms) == 3
        assert g.value == lookup(snap, g.ref)
        assert checks_out(g.substituted, g.value)


def test_momentum_update_is_flagged_not_faked():
    net = Network([2, 2, 1], activation="sigmoid", seed=0)
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    trainer = Trainer(
        net, X, np.array([[1.0], [0.0]]), rule=UpdateRule(lr=0.5, momentum=0.9), batch_size=2
    )
    H.walk_next(trainer)
    snap, _ = H.walk_next(trainer)  # the second iteration: the velocity is not zero
    eq = Worked(snap, net.config()).update((0, 0, 0))
    assert eq.value == snap.weights[0][0, 0]
    assert "rule" in eq.notes


def test_mid_iteration_equations_have_no_numbers_yet():
    net = Network([2, 2, 1], seed=0)
    trainer = Trainer(net, np.ones((1, 2)), np.ones((1, 1)), batch_size=1)
    trainer.step_phase()  # forward layer 1 only
    w = Worked(trainer.snapshot(), net.config())
    assert w.forward_u(1, 0).value is not None
    assert w.forward_u(2, 0).value is None  # its factors are known, its sum is not computed
    assert w.forward_o(2, 0).value is None and w.forward_o(2, 0).substituted is None
    assert w.delta(2, 0).value is None and w.grad((0, 0, 0)).value is None


# ---------------------------------------------------------------------------
# The handout's text formats
# ---------------------------------------------------------------------------


def lecture_doc():
    trainer, _ = restore_trainer(load_experiment(example_paths()["lecture"]))
    return H.make(trainer, title="Lecture")


def xor_doc():
    trainer, _ = restore_trainer(load_experiment(example_paths()["xor4"]))
    return H.make(trainer, title="XOR")


@pytest.mark.parametrize(
    ("name", "make", "render"),
    [
        ("lecture.md", lecture_doc, lambda d: H.to_markdown(d, "lecture-network.svg")),
        ("lecture.tex", lecture_doc, H.to_latex),
        ("lecture.html", lecture_doc, H.to_html),
        ("xor4.md", xor_doc, lambda d: H.to_markdown(d, "xor4-network.svg")),
    ],
)
def test_renderers_of_2_2_1_networks_in_full(name, make, render, request):
    """The whole output, against a file checked by eye (regenerate with --regen-golden)."""
    text = render(make())
    path = GOLDEN / name
    if request.config.getoption("--regen-golden", default=False):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_lecture_markdown_has_the_notes_numbers():
    md = H.to_markdown(lecture_doc(), "f.svg")
    # u_3 = θ31·o1 + θ32·o2 = 0.5·1 + (−0.5)·0.5 = 0.25, o_3 = σ(0.25) = 0.5622
    assert (
        r"{u_{3}} &= {\theta_{31}} \cdot {o_{1}} + {\theta_{32}} \cdot {o_{2}} = "
        r"0.5 \cdot 1 + (-0.5) \cdot 0.5 = 0.25"
    ) in md
    assert r"\frac{1}{1 + e^{-0.25}} = 0.5622" in md
    assert "Err of this batch fell by" in md
    # The trainer counts epochs after walking the iteration: the note says so, in the singular.
    assert "(1 training sample; 1 epoch completed after this iteration)" in md
    assert "![" in md and "(f.svg)" in md


def test_batch_handout_writes_per_sample_deltas_and_summed_gradients():
    md = H.to_markdown(xor_doc(), "f.svg")
    for s in range(1, 5):
        assert f"{{\\delta_{{3}}^{{({s})}}}} &=" in md  # δ_3 of every sample
    grad = re.search(
        r"\\partial \\mathit\{Err\}/\\partial \{\\theta_\{31\}\} &= (.*)\n &= (.*)\n &= (.*)",
        md,
    )
    assert grad is not None
    assert grad.group(1).startswith(r"\sum_{\text{samples}} {\delta_{3}} \cdot {o_{1}}")
    assert grad.group(2).count(r"\cdot") == 4  # the four samples' δ·o, summed
    assert grad.group(2).count(" + ") == 3


def test_large_network_says_it_shows_the_first_neurons_and_gives_tables():
    trainer, _ = build(
        Setup(dataset="xor4", hidden=(8, 8), activation="tanh", batch_size=1, test_fraction=0.0)
    )
    doc = H.make(trainer, title="2-8-8-1")
    md = H.to_markdown(doc, "f.svg")
    assert "This network has 105 parameters" in md
    assert "| neuron | u | o |" in md and "| neuron | σ′ | δ |" in md
    # neurons 3, 4 of layer 1 and 11, 12 of layer 2 only (and the output, 19)
    assert r"{u_{4}} &=" in md and r"{u_{5}} &=" not in md
    assert r"{u_{12}} &=" in md and r"{u_{13}} &=" not in md and r"{u_{19}} &=" in md
    assert md.count(r"\theta_{") > 105  # the θ tables list every parameter


def _pdflatex(doc, tmp_path: Path, name: str) -> str:
    """Write ``doc`` as NAME.tex, compile it (it must compile) and return pdflatex's log."""
    assert shutil.which("pdflatex"), "pdflatex is needed (texlive-latex-base, see .ci/run)"
    tex = tmp_path / f"{name}.tex"
    H.write(doc, tex)
    result = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / f"{name}.pdf").stat().st_size > 10_000
    return (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def test_latex_compiles_with_pdflatex(tmp_path):
    for name, doc in (("lecture", lecture_doc()), ("xor4", xor_doc())):
        _pdflatex(doc, tmp_path, name)


def test_wide_theta_matrices_fit_the_page(tmp_path):
    """The vanishing example's 9-column θ matrices are scaled to the line, not run past it."""
    trainer, _ = build(PRESETS["vanishing"][1])
    log = _pdflatex(H.make(trainer, title="vanishing"), tmp_path, "vanishing")
    assert r"\bpfit{" in (tmp_path / "vanishing.tex").read_text(encoding="utf-8")
    assert "Overfull \\hbox" not in log


class _Refs(html.parser.HTMLParser):
    """Collects tags and every attribute or style that could fetch something."""

    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._style = tag == "style"
        for key, value in attrs:
            if key in ("src", "href", "srcset", "data", "action", "xlink:href", "poster"):
                self.external.append(f"{tag} {key}={value}")
            if key == "style" and "url(" in (value or ""):
                self.external.append(f"{tag} style={value}")

    def handle_data(self, data):
        if self._style and ("url(" in data or "@import" in data):
            self.external.append("style sheet: " + data)


def test_html_is_one_self_contained_file():
    text = H.to_html(lecture_doc())
    p = _Refs()
    p.feed(text)
    assert p.external == []
    assert "script" not in p.tags and "link" not in p.tags and "iframe" not in p.tags
    assert "svg" in p.tags  # the figure, inline, and well-formed
    import xml.etree.ElementTree as ET

    svg = ET.fromstring(text[text.index("<svg") : text.index("</svg>") + 6])
    assert len(svg.findall("{http://www.w3.org/2000/svg}circle")) == 5
    assert text.startswith("<!DOCTYPE html>")
    assert (
        '<td class="l">u<sub>3</sub></td><td class="r">=</td><td>θ<sub>31</sub>·o<sub>1</sub>'
        " + θ<sub>32</sub>·o<sub>2</sub> = 0.5·1 + (−0.5)·0.5 = 0.25</td>"
    ) in text


@pytest.mark.parametrize("make", [lecture_doc, xor_doc])
def test_markdown_converts_with_pandoc(tmp_path, make):
    """Every $…$ and $$…$$ becomes one MathML formula, and no dollar sign is left over."""
    pandoc = shutil.which("pandoc")
    assert pandoc, "pandoc is needed to check the Markdown handout (see .ci/run)"
    md = tmp_path / "h.md"
    H.write(make(), md)
    source = md.read_text(encoding="utf-8")
    out = subprocess.run(
        [pandoc, str(md), "-f", "markdown", "-t", "html", "--mathml"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    display = source.count("\n$$\n") // 2 + source.startswith("$$")
    inline = len(re.findall(r"(?<!\$)\$(?!\$)[^$\n]+\$(?!\$)", source))
    assert out.count("<math") == display + inline > 50
    assert "$" not in re.sub(r"<[^>]+>", "", out)
    assert '<img src="h-network.svg"' in out


def test_write_refuses_an_unknown_suffix_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"\.md, \.tex, \.html or \.pdf"):
        H.write(lecture_doc(), tmp_path / "h.docx")
    assert list(tmp_path.iterdir()) == []


def test_markdown_figure_is_removed_when_the_markdown_cannot_be_written(tmp_path, monkeypatch):
    import bpviz.engine.experiment_io as io

    real = io.atomic_write_bytes

    def failing(path, data):
        if str(path).endswith(".md"):
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(io, "atomic_write_bytes", failing)
    with pytest.raises(OSError):
        H.write(lecture_doc(), tmp_path / "h.md")
    assert list(tmp_path.iterdir()) == []


def test_iteration_already_done_is_refused():
    trainer, _ = restore_trainer(load_experiment(example_paths()["lecture"]))
    trainer.run(3)
    with pytest.raises(ValueError, match="already at iteration 3"):
        H.make(trainer, iteration=2)


def test_fmt_is_the_panels():
    from bpviz.views import formulas

    assert formulas.fmt is fmt
    assert fmt(-0.030017) == "−0.03002"
    assert Num(1.0).ref.name == "const"
