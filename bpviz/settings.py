"""Persistent settings: one DEFAULTS dict, typed reads, only non-defaults written.

QSettings is opened inside each function (never at import), so tests can
point it at a temporary folder first.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["DEFAULTS", "read", "read_setup", "write", "write_setup"]

DEFAULTS: dict[str, Any] = {
    "window/geometry": QByteArray(),
    "window/state": QByteArray(),
    # The window's size when its state (dock sizes) was saved, "WIDTHxHEIGHT".
    "window/state_size": "",
    "setup": "",
    "pace": 0.0,
    "show_values": True,
    # Text scale of the views: presenter mode's is for a 1080-pixel-high screen
    # and follows the screen's height; the normal view's is used as it is.
    "presenter_scale": 1.8,
    "font_scale": 1.0,
    "auto_advance_seconds": 3.0,
    "recent_files": [],
}


def _settings() -> QSettings:
    return QSettings("bpviz", "bpviz")


def read(key: str) -> Any:
    """The stored value of ``key``, of the default's type, or the default."""
    default = DEFAULTS[key]
    value = _settings().value(key, default)
    try:
        if isinstance(default, bool):
            return value in (True, "true", "1", 1)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list):
            if value in (None, ""):
                return []
            return [str(v) for v in (value if isinstance(value, list) else [value])]
        if isinstance(default, QByteArray):
            return value if isinstance(value, QByteArray) else default
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def write(key: str, value: Any) -> None:
    """Store ``value``; a value equal to the default is removed instead."""
    s = _settings()
    if value == DEFAULTS[key]:
        s.remove(key)
    else:
        s.setValue(key, value)


def read_setup() -> Any:
    """The last Setup, or None when none was stored or it no longer loads."""
    from .engine.experiment import Setup

    text = read("setup")
    if not text:
        return None
    try:
        return Setup.from_dict(json.loads(text))
    except (ValueError, TypeError):
        return None


def write_setup(setup: Any) -> None:
    """Remember a Setup for the next start."""
    d = setup.to_dict()
    d["params"] = None  # hand-set weights belong in experiment files, not settings
    write("setup", json.dumps(d))
