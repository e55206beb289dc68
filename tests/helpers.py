"""What several test files share: running bpviz in a fresh child interpreter.

Import as ``from tests.helpers import run_cli`` (the project's root is on ``sys.path``:
``pythonpath = ["."]`` in ``pyproject.toml``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: The tree the tests belong to; first on the children's PYTHONPATH.
REPO = Path(__file__).resolve().parents[1]
#: Modules that mean Qt was loaded.
QT_PREFIXES = ("PySide6", "shiboken6", "pyqtgraph")


def run_python(*args: str, cwd: Path | None = None, timeout: int = 180):
    """Run ``python *args`` in a child: this tree first on PYTHONPATH, Qt offscreen, no
    display; its output captured as text. Returns the ``CompletedProcess``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=env,
        timeout=timeout,
        check=False,
    )


def run_cli(*args: str, module: str = "bpviz.cli", cwd: Path | None = None, timeout: int = 180):
    """Run ``python -m bpviz.cli *args`` (or another ``module``) as :func:`run_python` does."""
    return run_python("-m", module, *args, cwd=cwd, timeout=timeout)


def modules_loaded_by(statement: str) -> list[str]:
    """Run ``statement`` in a fresh interpreter and list the modules it loaded."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = run_python("-c", code, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
