"""Write one example experiment file per preset (run from anywhere).

    python resources/make_examples.py

The files hold the preset's settings only (no trained state), so opening one
starts a fresh run. Re-run after changing PRESETS; a test checks that the
files match the presets.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "resources" / "examples"
sys.path.insert(0, str(ROOT))

from bpviz.engine.experiment import PRESETS  # noqa: E402
from bpviz.engine.experiment_io import load_experiment, save_experiment  # noqa: E402


def main() -> None:
    """Write ``<name>.json`` for every preset and check that it loads back."""
    for name, (label, setup) in PRESETS.items():
        path = HERE / f"{name}.json"
        save_experiment(path, setup, title=label)
        loaded = load_experiment(path)
        assert loaded.setup == setup, name
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
