"""The worked-iteration handout: the PDF read back, the command, and File ▸ Export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bpviz import cli
from bpviz.engine.experiment import Setup, build
from bpviz.engine.experiment_io import load_experiment, restore_trainer
from bpviz.examples import example_paths
from bpviz.views.main_window import MainWindow
from bpviz.worked import fmt
from bpviz.worked import handout as H
from bpviz.worked.expr import HtmlPrinter

TIMEOUT = 20_000


def pdf_pages(path: Path, layout: bool = True) -> list[str]:
    """The text of each page as poppler's pdftotext reads it, runs of spaces as one.

    ``layout``: lines as they look; else in reading order (a table cell a line).
    """
    assert shutil.which("pdftotext"), "pdftotext is needed (poppler-utils)"
    cmd = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    return ["\n".join(" ".join(ln.split()) for ln in page.splitlines()) for page in pages]


class _Flat(HtmlPrinter):
    """What pdftotext makes of a sub- or superscript: the characters in line."""

    def sub(self, s):
        return s

    def sup(self, s):
        return s


def big_doc() -> H.Doc:
    trainer, _ = build(
        Setup(dataset="xor4", hidden=(8, 8), activation="tanh", batch_size=1, test_fraction=0.0)
    )
    return H.make(trainer, title="A 2-8-8-1 network")


def example_doc(name: str) -> H.Doc:
    trainer, _ = restore_trainer(load_experiment(example_paths()[name]))
    return H.make(trainer, title=name)


def test_lecture_pdf_reads_back_with_the_notes_numbers(qapp, tmp_path):
    path = tmp_path / "lecture.pdf"
    assert H.write(example_doc("lecture"), path) == [path]
    text = "\n".join(pdf_pages(path))
    assert "u3 = θ31·o1 + θ32·o2 = 0.5·1 + (−0.5)·0.5 = 0.25" in text
    assert "o3 = σ(u3) = σ(0.25) = 1/(1 + e−0.25) = 0.5622" in text
    assert "θ31 ← θ31 − η·∂Err/∂θ31 = 0.5 − 0.5·(−0.06415) = 0.5321" in text
    assert "θ before the update" in text and "θ after the update" in text
    assert "Err before and after" in text
    assert [p.name for p in tmp_path.iterdir()] == ["lecture.pdf"]  # no temporary left


@pytest.mark.parametrize("which", ["big", "xor4"])
def test_pdf_never_splits_an_equation_group(qapp, tmp_path, which):
    doc = big_doc() if which == "big" else example_doc("xor4")
    path = tmp_path / "h.pdf"
    H.write(doc, path)
    pages = ["".join(page.split()) for page in pdf_pages(path, layout=False)]
    assert len(pages) >= (4 if which == "big" else 3)
    p = _Flat(samples=doc.samples)
    groups = [b for b in doc.blocks if isinstance(b, H.EqGroup)]
    assert len(groups) > 10

    def pages_of(eq) -> set[int]:
        """Pages holding the equation's last line (its result), spaces ignored."""
        last_line = "".join(H.equation_lines(eq, p, width=90)[-1][2].split())
        found = {n for n, page in enumerate(pages) if last_line in page}
        assert found, last_line
        return found

    for g in groups:
        assert pages_of(g.equations[0]) & pages_of(g.equations[-1])


def test_pdf_figure_is_vector(qapp, tmp_path):
    path = tmp_path / "h.pdf"
    H.write(example_doc("lecture"), path)
    listing = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(listing) == 2  # the header lines only: no raster image in the file
    text = pdf_pages(path)[0]  # the figure is on the first page, after the setup
    assert "The network" in text
    assert "θ31 = 0.5" in text and "θ54 = −1" in text  # edge labels are text


def test_big_network_pdf_says_what_it_leaves_out(qapp, tmp_path):
    path = tmp_path / "h.pdf"
    H.write(big_doc(), path)
    text = " ".join(" ".join(pdf_pages(path)).split())
    assert "This network has 105 parameters" in text
    assert "u11 = θ11,3·o3 +" in text  # two-digit numbers get a comma


# ---------------------------------------------------------------------------
# bpviz handout
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".md", ".tex", ".html", ".pdf"])
def test_command_writes_each_format(qapp, tmp_path, capsys, suffix):
    out = tmp_path / f"lecture{suffix}"
    assert cli.main(["handout", "--example", "lecture", "--out", str(out)]) == cli.EXIT_OK
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([out.name] + (["lecture-network.svg"] if suffix == ".md" else []))
    assert capsys.readouterr().out.startswith("bpviz: wrote ")
    if suffix != ".pdf":
        assert "0.5321" in out.read_text(encoding="utf-8")  # θ31 after the update


def test_command_iteration_and_sample(qapp, tmp_path):
    out = tmp_path / "x.md"
    argv = ["handout", "--example", "xor4", "--iteration", "3", "--sample", "2", "--out", str(out)]
    assert cli.main(argv) == cli.EXIT_OK
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# ") and ": iteration 3" in md.splitlines()[0]
    assert "sample 2 is written out in full" in md
    assert r"{u_{3}^{(2)}} &=" in md and r"{u_{3}^{(1)}} &=" not in md
    # the same iteration, computed by the engine directly
    trainer, _ = restore_trainer(load_experiment(example_paths()["xor4"]))
    trainer.run(3)
    assert "| ${\\theta_{31}}$ |" in md
    new = fmt(trainer.net.weights[0][0, 0]).replace("−", "-")
    row = re.search(r"\| \$\{\\theta_\{31\}\}\$ \| \$(\S+)\$ \| \$(\S+)\$ \| \$(\S+)\$ \|", md)
    assert row is not None and row.group(3) == new


def damaged(tmp_path: Path) -> str:
    path = tmp_path / "bad.json"
    path.write_text('{"format": "bpviz-experiment", ', encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "nope"], "unknown example 'nope'"),
        (["DAMAGED"], "bad.json"),
        (["--example", "lecture", "--sample", "2"], "the batch of this iteration has 1 sample"),
        (["--example", "lecture", "--sample", "0"], "argument --sample"),
        ([], "either EXPERIMENT.json or --example NAME"),
    ],
)
def test_command_errors_are_one_line_and_leave_no_file(tmp_path, capsys, args, message):
    args = [damaged(tmp_path) if a == "DAMAGED" else a for a in args]
    before = sorted(tmp_path.iterdir())
    out = tmp_path / "h.md"
    assert cli.main(["handout", *args, "--out", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bpviz: error: ") and message in err
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("name", ["h.docx", "h", "sub/h.md", "file.txt/h.md"])
def test_command_refuses_bad_outputs(tmp_path, capsys, name):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    before = sorted(tmp_path.iterdir())
    out = tmp_path / name
    assert cli.main(["handout", "--example", "lecture", "--out", str(out)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bpviz: error: ")
    assert sorted(tmp_path.iterdir()) == before


# ---------------------------------------------------------------------------
# File ▸ Export ▸ Worked iteration…
# ---------------------------------------------------------------------------


@pytest.fixture
def window(one_sample_window) -> MainWindow:
    return one_sample_window


def test_window_exports_the_iteration_its_next_step_computes(window, qtbot, tmp_path):
    assert window.acts.export_worked in window.export_menu.actions()
    for _ in range(3):
        window.acts.step_iteration.trigger()
    qtbot.waitUntil(lambda: window._latest.iteration == 3, timeout=TIMEOUT)
    out = tmp_path / "next.md"
    window.export_worked(str(out))
    qtbot.waitUntil(out.exists, timeout=TIMEOUT)
    assert str(out) in window.statusBar().currentMessage()
    md = out.read_text(encoding="utf-8")
    assert ": iteration 4" in md.splitlines()[0]
    assert window._handout is None
    # the window's own next step lands on the θ the handout says
    window.acts.step_iteration.trigger()
    qtbot.waitUntil(lambda: window._latest.iteration == 4, timeout=TIMEOUT)
    new = window._latest.weights[0][0, 0]
    row = re.search(r"\| \$\{\\theta_\{31\}\}\$ \| \$(\S+)\$ \| \$(\S+)\$ \| \$(\S+)\$ \|", md)
    assert row is not None
    assert row.group(3) == fmt(new).replace("−", "-")


def test_window_refuses_an_unknown_format_with_a_banner(window, tmp_path):
    window.export_worked(str(tmp_path / "h.docx"))
    assert window._handout is None
    assert list(tmp_path.glob("h.*")) == []
