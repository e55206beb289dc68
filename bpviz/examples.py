"""The built-in example experiments shipped in ``resources/examples``.

One JSON file per entry of :data:`bpviz.engine.experiment.PRESETS`, written by
``resources/make_examples.py`` and read with
:func:`bpviz.engine.experiment_io.load_experiment`. No Qt here.

The files live in ``resources/examples`` at the top of the source tree; the
wheel carries them inside the package as ``bpviz/resources/examples``. Both
places are searched, the package first.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["example_paths", "example_titles", "examples_dir"]


def examples_dir() -> Path | None:
    """The directory holding the example files, or None if it is missing."""
    candidates = []
    try:
        packaged = resources.files("bpviz") / "resources" / "examples"
        candidates.append(Path(str(packaged)))
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - zip imports
        pass
    candidates.append(Path(__file__).resolve().parent.parent / "resources" / "examples")
    for path in candidates:
        if path.is_dir() and any(path.glob("*.json")):
            return path
    return None


def example_paths() -> dict[str, Path]:
    """Example name -> file, in the order of the presets, then any others by name."""
    from .engine.experiment import PRESETS

    directory = examples_dir()
    if directory is None:
        return {}
    found = {p.stem: p for p in sorted(directory.glob("*.json"))}
    ordered = {name: found.pop(name) for name in PRESETS if name in found}
    ordered.update(found)
    return ordered


def example_titles() -> dict[str, str]:
    """Example name -> menu label (the file's ``title``, else the name)."""
    titles = {}
    for name, path in example_paths().items():
        try:
            title = json.loads(path.read_text(encoding="utf-8")).get("title")
        except (OSError, ValueError, AttributeError):
            title = None
        titles[name] = title if isinstance(title, str) and title else name
    return titles
