"""What pyproject.toml promises about versions is what CI tests.

CI's lower-bounds run installs the project with .ci/lower-bounds.txt as constraints, so the
oldest release each runtime dependency allows must be exactly the one pinned there.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def declared_lower_bounds() -> dict[str, set[Version]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds: dict[str, set[Version]] = {}
    for line in project["dependencies"]:
        req = Requirement(line)
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert len(lows) == 1, f"{line!r} declares no single lower bound"
        bounds.setdefault(canonicalize_name(req.name), set()).update(lows)
    return bounds


def pinned_lower_bounds() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for raw in (ROOT / ".ci" / "lower-bounds.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def test_every_runtime_dependency_has_one_lower_bound_and_ci_tests_it():
    declared = declared_lower_bounds()
    pins = pinned_lower_bounds()
    assert set(pins) == set(declared)
    for name, lows in declared.items():
        # PySide6 is listed twice (by Python version); both entries share one lower bound.
        assert len(lows) == 1, (name, lows)
        assert pins[name] == next(iter(lows)), (name, pins[name], lows)
