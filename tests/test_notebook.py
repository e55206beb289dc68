"""examples/xor.ipynb runs on a real Jupyter kernel and shows its pictures (issue #20)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]


def test_xor_notebook_runs_and_displays_pictures_and_math(tmp_path, monkeypatch):
    nb = nbformat.read(REPO / "examples" / "xor.ipynb", as_version=4)
    # One more cell, ours: which modules did the kernel load?
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import sys\nprint(sorted(m for m in sys.modules if m.startswith(('PySide6', "
            "'pyqtgraph'))))"
        )
    )
    # The kernel imports this checkout's bpviz.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    svgs = [o for o in outputs if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 4  # the network, the trained trainer, two snapshots of the walk
    assert "2–2–1 network" in svgs[0]["data"]["image/svg+xml"]
    assert "grey: not computed yet" in svgs[2]["data"]["image/svg+xml"]  # mid-walk
    handout = [o for o in outputs if "text/html" in o.get("data", {})]
    assert len(handout) == 1
    assert "text/markdown" in handout[0]["data"] and "$$" in handout[0]["data"]["text/markdown"]
    assert "XOR, one more iteration: iteration 2002" in handout[0]["data"]["text/html"]
    assert outputs[-1]["text"].strip() == "[]"  # no Qt in the kernel
