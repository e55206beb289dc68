"""Smoke test of the built one-folder app (packaging/dist/bpviz/).

Runs the *built* executable, never the source tree, in a scratch directory
with a scratch HOME/XDG config (so the user's bpviz settings are not touched)
and without PYTHONPATH/PYTHONHOME::

    python packaging/smoke_test.py [DIST_DIR] [--timeout 30]

Checks, each with its own time limit:

1. the bundle holds the examples and the icon where ``bpviz`` looks for them;
2. ``bpviz --version`` prints ``bpviz <version of bpviz/__init__.py>``;
3. ``bpviz examples`` lists the built-in examples (xor4 among them);
4. ``bpviz train --example xor4 --steps 200 --out TMP`` exits 0 and writes
   loss.csv (201 rows), loss.png, loss.svg and experiment.json;
5. the window: ``bpviz`` with ``QT_QPA_PLATFORM=offscreen`` and
   ``BPVIZ_SMOKE_TEST_QUIT_MS=1500`` (app.py then closes the window 1.5 s
   after showing it) must exit 0 within the time limit, with no
   "Traceback", "QThread: Destroyed", "Fatal Python error" or
   "bpviz: warning"/"bpviz: error" on stderr.

Ends with ``smoke_test: N passed, N failed`` and exits 1 if any check failed.
Standard library only: any Python 3.8+ runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIST = ROOT / "packaging" / "dist" / "bpviz"
QUIT_MS = 1500
#: stderr lines that fail the window check.
BAD_STDERR = (
    "Traceback",
    "QThread: Destroyed",
    "Fatal Python error",
    "Segmentation fault",
    "bpviz: warning",
    "bpviz: error",
    "qt.qpa.plugin: Could not",
)


def source_version() -> str:
    """The version in the source tree's bpviz/__init__.py (read, not imported)."""
    text = (ROOT / "bpviz" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if not match:
        raise SystemExit("smoke test: no __version__ in bpviz/__init__.py")
    return match.group(1)


class Runner:
    """Runs the built executable in a scratch environment and tallies the checks."""

    def __init__(self, exe: Path, scratch: Path, timeout: float) -> None:
        self.exe = exe
        self.scratch = scratch
        self.timeout = timeout
        self.passed = 0
        self.failed = 0
        home = scratch / "home"
        for sub in ("config", "cache", "data", "runtime"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        (home / "runtime").chmod(0o700)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "PYTHONHOME", "BPVIZ_SMOKE_TEST_QUIT_MS"}
        }
        env.update(
            QT_QPA_PLATFORM="offscreen",
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_CACHE_HOME=str(home / "cache"),
            XDG_DATA_HOME=str(home / "data"),
            XDG_RUNTIME_DIR=str(home / "runtime"),
            PYTHONDONTWRITEBYTECODE="1",
        )
        self.env = env

    def run(
        self, args: list[str], extra_env: dict[str, str] | None = None
    ) -> tuple[int | None, str, str, float]:
        """(exit code or None on time-out, stdout, stderr, seconds)."""
        env = dict(self.env, **(extra_env or {}))
        start = time.monotonic()
        proc = subprocess.Popen(
            [str(self.exe), *args],
            cwd=self.scratch,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        try:
            out, err = proc.communicate(timeout=self.timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            code = None
        return code, out, err, time.monotonic() - start

    def check(self, name: str, problems: list[str], seconds: float | None = None) -> None:
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        if problems:
            self.failed += 1
            print(f"FAIL {name}{took}")
            for problem in problems:
                for line in problem.rstrip().splitlines() or [""]:
                    print(f"     {line}")
        else:
            self.passed += 1
            print(f"ok   {name}{took}")
        sys.stdout.flush()


def describe(code: int | None, out: str, err: str, timeout: float) -> list[str]:
    """Problems of a run expected to exit 0."""
    problems = []
    if code is None:
        problems.append(f"did not exit within {timeout:g} s (killed)")
    elif code != 0:
        problems.append(f"exit code {code}")
    if problems:
        if out.strip():
            problems.append("stdout:\n" + tail(out))
        if err.strip():
            problems.append("stderr:\n" + tail(err))
    return problems


def tail(text: str, lines: int = 25) -> str:
    return "\n".join("  " + line for line in text.rstrip().splitlines()[-lines:])


def missing_libraries(dist: Path) -> list[str]:
    """System libraries the Qt platform plugins need but cannot find (via ldd)."""
    if shutil.which("ldd") is None:
        return []
    missing = set()
    plugins = dist / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms"
    for plugin in sorted(plugins.glob("libq*.so")):
        if plugin.name not in {"libqoffscreen.so", "libqxcb.so"}:
            continue
        env = dict(os.environ, LD_LIBRARY_PATH=str(dist / "_internal"))
        result = subprocess.run(
            ["ldd", str(plugin)], capture_output=True, text=True, env=env, check=False
        )
        for line in result.stdout.splitlines():
            if "not found" in line:
                missing.add(f"{plugin.name}: {line.split()[0]}")
    return sorted(missing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the built bpviz app.")
    parser.add_argument(
        "dist", nargs="?", type=Path, default=DEFAULT_DIST, help="the one-folder app"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per run (30)")
    args = parser.parse_args(argv)

    dist = args.dist.resolve()
    exe = dist / ("bpviz.exe" if os.name == "nt" else "bpviz")
    if not exe.is_file():
        print(f"smoke test: no executable at {exe}; build first (packaging/build.sh)")
        print("smoke_test: 0 passed, 1 failed")
        return 1

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bpviz-smoke-") as tmp:
        r = Runner(exe, Path(tmp), args.timeout)

        # 1. data files inside the bundle
        internal = dist / "_internal" / "bpviz" / "resources"
        problems = []
        examples = sorted(p.stem for p in (internal / "examples").glob("*.json"))
        if "xor4" not in examples:
            problems.append(f"no examples in {internal / 'examples'} (found {examples})")
        if not (internal / "icon.svg").is_file():
            problems.append(f"no icon at {internal / 'icon.svg'}")
        r.check("bundle holds the examples and the icon", problems)

        # 2. --version
        version = source_version()
        code, out, err, secs = r.run(["--version"])
        problems = describe(code, out, err, args.timeout)
        if not problems and out.strip() != f"bpviz {version}":
            problems.append(f"printed {out.strip()!r}, expected 'bpviz {version}'")
        r.check("bpviz --version", problems, secs)

        # 3. examples
        code, out, err, secs = r.run(["examples"])
        problems = describe(code, out, err, args.timeout)
        if not problems and not re.search(r"^xor4\s", out, re.MULTILINE):
            problems.append("xor4 is not listed:\n" + tail(out))
        r.check("bpviz examples", problems, secs)

        # 4. headless training and exports
        outdir = Path(tmp) / "train-out"
        code, out, err, secs = r.run(
            ["train", "--example", "xor4", "--steps", "200", "--out", str(outdir)]
        )
        problems = describe(code, out, err, args.timeout)
        if not problems:
            problems += check_train_outputs(outdir)
        r.check("bpviz train --example xor4 --steps 200", problems, secs)

        # 5. the window, offscreen, closed by the app itself
        code, out, err, secs = r.run([], {"BPVIZ_SMOKE_TEST_QUIT_MS": str(QUIT_MS)})
        problems = describe(code, out, err, args.timeout)
        if code is None:
            problems.insert(
                1,
                "does bpviz/app.py close the window when BPVIZ_SMOKE_TEST_QUIT_MS is set? "
                "(see packaging/README.md)",
            )
        bad = [line for line in err.splitlines() if any(b in line for b in BAD_STDERR)]
        if bad and code is not None:
            problems.append("stderr has:\n" + tail("\n".join(bad)) + "\nfull stderr:\n" + tail(err))
        r.check("window opens offscreen and quits cleanly", problems, secs)

        if r.failed:
            missing = missing_libraries(dist)
            if missing:
                print("system libraries not found (install them, see packaging/README.md):")
                for line in missing:
                    print(f"     {line}")

    print(f"smoke test took {time.monotonic() - started:.1f} s")
    print(f"smoke_test: {r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


def check_train_outputs(outdir: Path) -> list[str]:
    problems = []
    csv = outdir / "loss.csv"
    if not csv.is_file():
        problems.append("no loss.csv")
    else:
        rows = [line for line in csv.read_text(encoding="utf-8").splitlines() if line.strip()]
        if len(rows) < 201:  # a header and at least one row per iteration
            problems.append(f"loss.csv has {len(rows)} lines, expected at least 201")
    png = outdir / "loss.png"
    if not png.is_file() or not png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"):
        problems.append("loss.png is missing or not a PNG")
    svg = outdir / "loss.svg"
    if not svg.is_file() or "<svg" not in svg.read_text(encoding="utf-8", errors="replace"):
        problems.append("loss.svg is missing or not an SVG")
    exp = outdir / "experiment.json"
    try:
        json.loads(exp.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"experiment.json is missing or not JSON ({exc})")
    return problems


if __name__ == "__main__":
    sys.exit(main())
