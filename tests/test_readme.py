"""The README's scripting example runs as written (it documents the engine's API)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_python_example_runs_without_warnings():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "the README lost its scripting example"
    for code in blocks:
        proc = subprocess.run(
            [sys.executable, "-W", "error", "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "WEIGHT UPDATE" in proc.stdout  # the phase walk printed its last phase
