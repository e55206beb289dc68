"""The files bpviz opens: experiments (``.json``) and data (``.csv``). No Qt here.

The command line (``bpviz FILE``) and drag and drop decide by the file's
suffix what a file is: ``.json`` an experiment, ``.csv`` data. A file with
another suffix (or none, e.g. one called ``train``) is an experiment when it
begins as bpviz writes them (``"format": "bpviz-experiment"`` in its first
bytes, the MIME magic of ``resources/linux/io.github.bpviz.mime.xml``). An
experiment's registered suffix, which the save dialog proposes, is
``.bpviz.json`` (MIME type :data:`EXPERIMENT_MIME`).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "CSV_SUFFIX",
    "EXPERIMENT_MIME",
    "EXPERIMENT_SUFFIX",
    "OpenError",
    "check_file",
    "file_kind",
]

#: The suffix save dialogs propose for experiments (registered with the desktop).
EXPERIMENT_SUFFIX = ".bpviz.json"
#: The MIME type of experiment files (resources/linux/io.github.bpviz.mime.xml).
EXPERIMENT_MIME = "application/x-bpviz-experiment"
#: The suffix of data files.
CSV_SUFFIX = ".csv"

_KINDS = {".json": "experiment", ".csv": "csv"}
#: An experiment file names its format within its first bytes (bpviz writes it first).
_MAGIC = (b'"format": "bpviz-experiment"', b'"format":"bpviz-experiment"')
_MAGIC_BYTES = 256


class OpenError(ValueError):
    """A file bpviz cannot open; the message names the file and says why, in one line."""


def file_kind(path: str | os.PathLike) -> str | None:
    """``"experiment"`` or ``"csv"`` by the suffix (or an experiment's first bytes); else None."""
    kind = _KINDS.get(Path(path).suffix.lower())
    if kind is not None:
        return kind
    try:
        with open(path, "rb") as f:
            head = f.read(_MAGIC_BYTES)
    except OSError:
        return None
    return "experiment" if any(m in head for m in _MAGIC) else None


def _one_line(path: str, exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if text.startswith(path) else f"{path}: {text}"


def check_file(path: str | os.PathLike) -> str:
    """Check that ``path`` opens as it would in the window; returns its kind.

    An experiment is read and its trainer built (as *File ▸ Open experiment*
    does), a CSV file is read as data (as *File ▸ Load CSV data* does); the
    errors are the ones the window reports, field by field.

    Raises
    ------
    OpenError
        The file is missing, a directory, unreadable, of another kind or damaged.
    """
    where = os.fspath(path)
    p = Path(where)
    if not p.exists():
        raise OpenError(f"{where}: file not found")
    if p.is_dir():
        raise OpenError(f"{where}: is a directory, not a file")
    kind = file_kind(p)
    if kind is None:
        raise OpenError(
            f"{where}: not a file bpviz opens (an experiment .json or a data .csv file)"
        )
    if kind == "experiment":
        from .engine.experiment_io import load_experiment, restore_trainer

        try:
            restore_trainer(load_experiment(p))
        except Exception as exc:  # every reason the window would report
            raise OpenError(_one_line(where, exc)) from None
    else:
        from .engine.datasets import load_csv

        try:
            load_csv(p)
        except Exception as exc:
            raise OpenError(_one_line(where, exc)) from None
    return kind
