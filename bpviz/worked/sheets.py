"""Exercise sheets for a class: one architecture, N sets of round numbers, each with its key.

For sheet NN, :func:`write_sheets` writes

- ``sheet-NN.<fmt>``: the network with its θ, the sample, η, and the list of
  quantities to compute in the notes' order, each with a blank;
- ``key-NN.<fmt>``: the whole worked iteration (the handout of
  :mod:`bpviz.worked.handout`, from the same model);
- ``sheet-NN.json``: the experiment, so that opening it in bpviz and
  stepping walks exactly that sheet's iteration (and the quiz checks it).

The numbers are made to be computed by hand: θ are multiples of 0.05 (at most
two decimals), inputs are halves, targets are 0/1 (±1 for a tanh output,
integers for a linear one), one sample, η of the experiment. A sheet whose
iteration is degenerate (a δ exactly 0, an o that shows as 0 or ±1 at 4
figures, a non-finite number) is drawn again. Sheet NN is drawn from
``numpy.random.default_rng([seed, NN])``, so the same seed gives the same
sheets byte for byte, and adding sheets leaves the first ones as they were.
No Qt here (the PDF writer is imported when a PDF is asked for).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bpviz.engine.datasets import Dataset
from bpviz.engine.experiment import Setup, build
from bpviz.engine.experiment_io import atomic_write_bytes, dumps_experiment
from bpviz.engine.state import Snapshot

from . import figure
from . import handout as H
from .expr import Notation, Num, Ref, Rel, Sym, fmt
from .model import Worked

__all__ = ["FORMATS", "Sheet", "key_doc", "make_sheet", "sheet_doc", "write_sheets"]

#: Output formats of the sheets and keys (file suffixes).
FORMATS = ("pdf", "md", "tex", "html")
#: Draws tried per sheet before giving up on an architecture.
MAX_DRAWS = 2000
#: What a blank on the sheet looks like.
BLANK = "____________"


@dataclass(frozen=True, slots=True)
class Sheet:
    """One student's exercise: the experiment and its walked iteration."""

    number: int
    setup: Setup
    dataset: Dataset
    snapshot: Snapshot  # the update phase of iteration 1
    err_after: float
    config: dict

    @property
    def name(self) -> str:
        return f"{self.number:02d}"


def _round_theta(rng: np.random.Generator, n: int) -> list[float]:
    """``n`` θ, nonzero multiples of 0.05 in [−1, 1]."""
    k = rng.integers(1, 21, size=n) * rng.choice([-1, 1], size=n)
    return [round(float(v) * 0.05, 2) for v in k]


def _targets(rng: np.random.Generator, out_act: str, n: int) -> list[float]:
    if out_act == "softmax":
        y = [0.0] * n
        y[int(rng.integers(0, n))] = 1.0
        return y
    if out_act == "tanh":
        return [float(v) for v in rng.choice([-1.0, 1.0], size=n)]
    if out_act in ("linear", "relu", "leaky_relu"):
        return [float(v) for v in rng.integers(-2, 3, size=n)]
    return [float(v) for v in rng.choice([0.0, 1.0], size=n)]


def _degenerate(snap: Snapshot, err_after: float) -> bool:
    """A δ exactly 0, an o that shows as 0 or ±1, or anything not finite."""
    arrays = [a for a in (*snap.u[1:], *snap.o[1:], *snap.delta[1:]) if a is not None]
    if not all(np.all(np.isfinite(a)) for a in arrays) or not np.isfinite(err_after):
        return True
    if any(np.any(d == 0.0) for d in snap.delta[1:] if d is not None):
        return True
    return any(fmt(v) in ("0", "1", "−1") for o in snap.o[1:] for v in o.ravel())


def make_sheet(base: Setup, sizes: tuple[int, ...], number: int, seed: int) -> Sheet:
    """Sheet ``number`` for the architecture of ``base`` with ``sizes`` (inputs … outputs).

    Raises ValueError when no draw of round numbers gives a usable iteration.
    """
    rng = np.random.default_rng([int(seed), int(number)])
    n_in, n_out = sizes[0], sizes[-1]
    bias = base.bias
    n_params = sum((sizes[k] + (1 if bias else 0)) * sizes[k + 1] for k in range(len(sizes) - 1))
    for _ in range(MAX_DRAWS):
        x = [float(v) for v in rng.choice([-1.0, -0.5, 0.5, 1.0, 1.5, 2.0], size=n_in)]
        y = _targets(rng, base.output_activation, n_out)
        data = Dataset(
            name=f"sheet-{number:02d}",
            task="regression",
            input_names=tuple(f"x{m + 1}" for m in range(n_in)),
            output_names=tuple(f"y{k + 1}" for k in range(n_out)),
            params={"sheet": int(number), "seed": int(seed)},
            X_train=np.array([x]),
            Y_train=np.array([y]),
            X_test=np.zeros((0, n_in)),
            Y_test=np.zeros((0, n_out)),
        )
        setup = replace(
            base,
            dataset="csv",
            csv_path=f"sheet-{number:02d}.csv",
            test_fraction=0.0,
            batch_size=1,
            momentum=0.0,
            l1=0.0,
            l2=0.0,
            clip_value=None,
            clip_norm=None,
            params=tuple(_round_theta(rng, n_params)),
        )
        trainer, _ = build(setup, data)
        snap, err_after = H.walk_next(trainer)
        if not _degenerate(snap, err_after):
            return Sheet(number, setup, data, snap, err_after, trainer.net.config())
    raise ValueError(
        f"no sheet with usable round numbers after {MAX_DRAWS} draws for this network "
        "(ReLU neurons that never fire?); choose another architecture"
    )


def sheet_doc(sheet: Sheet, title: str = "") -> H.Doc:
    """The exercise: setup, the network with θ, the sample, and the quantities with blanks."""
    snap, w = sheet.snapshot, Worked(sheet.snapshot, sheet.config)
    sizes = w.sizes
    B: list[H.Block] = []
    B.append(
        H.Para(
            (
                "Compute one iteration of backpropagation by hand, in the notation of the "
                "lecture notes: the forward pass, Err, every δ, every ∂Err/∂θ and every new θ. "
                "Give each result to at least 3 significant figures.",
            )
        )
    )
    B.append(H.Heading(2, "Setup"))
    act, out_act, loss = w.act, w.out_act, w.loss
    o0 = Rel(Sym("o", (0,)), "=", Num(1.0))
    bias = (Sym("θ", ("i", 0)), " with the constant input ", o0) if w.bias else "none"
    B.append(
        H.Table(
            ("", ""),
            (
                ("Layers", "–".join(map(str, sizes)) + f"; neurons numbered 1 … {sum(sizes)}"),
                ("Bias", bias),
                ("σ, hidden layers", (f"{act.name}: ", Notation(act.formula))),
                ("σ, output layer", (f"{out_act.name}: ", Notation(out_act.formula))),
                ("Loss", (f"{loss.name}: ", Notation(loss.formula))),
                ("Learning rate η", fmt(snap.lr)),
            ),
        )
    )
    x_syms = [Sym("x", (w.n(0, m),)) for m in range(sizes[0])]
    y_syms = [Sym("y", (w.n(w.last, k),) if sizes[-1] > 1 else ()) for k in range(sizes[-1])]
    row = (
        *[Num(float(snap.x[0, m]), Ref("x", 0, m, None, 0)) for m in range(sizes[0])],  # type: ignore[index]
        *[Num(float(snap.y[0, k]), Ref("y", w.last, k, None, 0)) for k in range(sizes[-1])],  # type: ignore[index]
    )
    B.append(
        H.Para(
            (
                "The sample: inputs ",
                Sym("x"),
                " = ",
                Sym("o"),
                " of the input neurons, target ",
                Sym("y"),
                ".",
            )
        )
    )
    B.append(H.Table((*x_syms, *y_syms), (row,)))
    B.append(H.Heading(2, "The network"))
    lay = figure.layout(sizes, snap.old_weights, snap.old_biases if w.bias else None)
    cap = f"θ on the edges ({figure.SIGN_KEY})."
    if w.bias:
        cap += " The grey nodes 0 are the bias inputs, constant 1."
    B.append(H.Figure(lay, cap))
    rows = [
        (
            w.theta_sym(k, i, s),
            Num(
                w.pick(snap.old_weights, snap.old_biases, (k, i, s)),  # type: ignore[arg-type]
                Ref("theta", k, i, s),
            ),
        )
        for k, i, s in w.edges()
    ]
    B.append(H.Table((Sym("θ"), "value"), tuple(rows)))
    titles = {
        "forward": "Forward pass: layer {l}",
        "error": "Error",
        "output_delta": "Output δ (layer {l})",
        "hidden_delta": "Hidden δ (layer {l})",
        "gradients": "Gradients",
        "update": "Weight update",
    }
    for kind, l, eqs in w.iteration():
        B.append(H.Heading(2, titles[kind].format(l=l)))
        table = []
        for e in eqs:
            if e.kind == "dsigma":
                continue
            formula = e.symbolic if e.symbolic is not None else e.general
            table.append((e.quantity, (e.relation + " ", formula), BLANK))
        B.append(H.Table(("", "", "your result"), tuple(table)))
    name = title or "Backpropagation by hand"
    return H.Doc(title=f"{name}: exercise sheet {sheet.name}", blocks=tuple(B))


def key_doc(sheet: Sheet, title: str = "") -> H.Doc:
    """The answer key: the whole worked iteration of the sheet (the handout)."""
    name = title or "Backpropagation by hand"
    doc = H.build(
        sheet.snapshot,
        sheet.config,
        sheet.err_after,
        title=f"{name}: answer key {sheet.name}",
        epoch_note=f"the one sample of exercise sheet {sheet.name}",
    )
    return replace(doc, title=f"{name}: answer key {sheet.name}")


#: What makes two runs of Qt's PDF writer differ: dates, the document ID (twice).
_PDF_VOLATILE = re.compile(
    rb"/(?:CreationDate|ModDate) \(D:[^)]*\)"
    rb'|xmp:(?:Create|Modify|Metadata)Date="[^"]*"'
    rb'|xmpMM:DocumentID="uuid:[0-9a-fA-F-]+"'
    rb"|/ID \[ ?<[0-9a-fA-F]+> ?<[0-9a-fA-F]+> ?\]"
)


def _pin_pdf(path: Path) -> None:
    """Make a Qt PDF reproducible: dates and the document ID zeroed.

    Every replacement keeps its length, so the PDF's byte offsets stay right.
    """

    def zero(m: re.Match[bytes]) -> bytes:
        s = m.group(0)
        if s.startswith(b"/ID"):
            return re.sub(rb"<[0-9a-fA-F]+>", lambda h: b"<" + b"0" * (len(h[0]) - 2) + b">", s)
        if s.startswith(b"xmpMM"):
            head = b'xmpMM:DocumentID="uuid:'
            return head + re.sub(rb"[0-9a-fA-F]", b"0", s[len(head) :])
        return re.sub(rb"[0-9]", b"0", s)

    atomic_write_bytes(path, _PDF_VOLATILE.sub(zero, path.read_bytes()))


def _write_doc(doc: H.Doc, path: Path) -> None:
    if path.suffix != ".pdf":
        H.write(doc, path)
        return
    # Qt writes the PDF's fonts in the order of a QHash, which is seeded at random
    # per process: a fixed seed while writing makes the order, and the file, the same.
    from PySide6.QtCore import QHashSeed

    QHashSeed.setDeterministicGlobalSeed()
    try:
        H.write(doc, path)
    finally:
        QHashSeed.resetRandomGlobalSeed()
    _pin_pdf(path)


def write_sheets(
    base: Setup,
    directory: str | Path,
    count: int,
    *,
    seed: int = 0,
    fmt_: str = "pdf",
    sizes: tuple[int, ...] | None = None,
    title: str = "",
    progress: Callable[[int, int], Any] | None = None,
) -> list[Path]:
    """Write ``count`` sheets, keys and experiment files into ``directory``.

    ``sizes`` (inputs … outputs) defaults to the architecture ``base``
    builds. ``progress(done, count)`` is called after each sheet. Raises
    ValueError for a bad count or format, OSError for an unwritable folder.
    """
    if count < 1:
        raise ValueError(f"--count {count}: at least one sheet")
    if fmt_ not in FORMATS:
        raise ValueError(f"--format {fmt_}: choose one of {', '.join(FORMATS)}")
    out = Path(directory)
    if not out.is_dir():
        raise OSError(f"{out}: no such folder")
    if sizes is None:
        trainer, _ = build(base)
        sizes = tuple(trainer.net.sizes)
    written: list[Path] = []
    for n in range(1, count + 1):
        sheet = make_sheet(base, sizes, n, seed)
        text = dumps_experiment(
            sheet.setup, None, sheet.dataset, title=f"{title or 'Exercise'} sheet {sheet.name}"
        )
        json_path = out / f"sheet-{sheet.name}.json"
        atomic_write_bytes(json_path, text.encode("utf-8"))
        for doc, stem in ((sheet_doc(sheet, title), "sheet"), (key_doc(sheet, title), "key")):
            path = out / f"{stem}-{sheet.name}.{fmt_}"
            _write_doc(doc, path)
            written.append(path)
        written.append(json_path)
        if progress is not None:
            progress(n, count)
    return written
