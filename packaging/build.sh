#!/usr/bin/env bash
# Build the one-folder app into packaging/dist/bpviz/ with PyInstaller, then smoke-test
# the built executable (packaging/smoke_test.py). Run from anywhere:
#
#     bash packaging/build.sh
#
# By default it makes a throwaway virtual environment (removed at the end) from
# $BASE_PYTHON (default python3), installs the project and PyInstaller into it, and
# builds from this source tree. Environment:
#
#   PYTHON=/path/to/python  use this interpreter as it is instead (no venv, no
#                           installs): it must import the project's dependencies
#                           and PyInstaller (e.g. a venv you keep for repeated builds)
#   BASE_PYTHON=python3.12  the interpreter the throwaway venv is made from
#   SKIP_SMOKE_TEST=1       build only
#   BPVIZ_WINDOWED=1        no console window (see bpviz.spec)
#
# Exit status: 0 when the build and every smoke check pass.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DIST="$HERE/dist"
WORK="$HERE/build"
cd "$ROOT"

start=$(date +%s)
say() { printf 'build.sh: %s\n' "$*"; }

cleanup_venv=""
cleanup() { if [ -n "$cleanup_venv" ]; then rm -rf "$cleanup_venv"; fi; }
trap cleanup EXIT

if [ -n "${PYTHON:-}" ]; then
    py="$PYTHON"
    say "using $py as it is"
    if ! "$py" -c "import PyInstaller, PySide6, pyqtgraph, numpy" 2>/dev/null; then
        say "error: $py cannot import PyInstaller, PySide6, pyqtgraph and numpy;" \
            "install them (pip install . -r packaging/requirements-build.txt) or unset PYTHON"
        exit 2
    fi
else
    base="${BASE_PYTHON:-python3}"
    cleanup_venv="$(mktemp -d "${TMPDIR:-/tmp}/bpviz-build-venv.XXXXXX")"
    say "creating a throwaway venv from $base in $cleanup_venv"
    "$base" -m venv "$cleanup_venv"
    py="$cleanup_venv/bin/python"
    "$py" -m pip install --quiet --disable-pip-version-check \
        "$ROOT" -r "$HERE/requirements-build.txt"
fi
"$py" -c 'import sys, PyInstaller, PySide6; print("build.sh: Python", sys.version.split()[0],
          "PyInstaller", PyInstaller.__version__, "PySide6", PySide6.__version__)'
deps_done=$(date +%s)

# Icons: the package's copy of the SVG must match resources/icons/bpviz.svg.
QT_QPA_PLATFORM=offscreen "$py" "$HERE/render_icons.py" --check

say "running PyInstaller"
rm -rf "$DIST/bpviz" "$DIST/bpviz.app"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" "$HERE/bpviz.spec"

# Desktop integration files beside the executable (packaging/README.md installs them).
share="$DIST/bpviz/share"
mkdir -p "$share/applications" "$share/metainfo" "$share/mime/packages" "$share/icons"
cp "$ROOT/resources/linux/io.github.bpviz.desktop" "$share/applications/"
cp "$ROOT/resources/linux/io.github.bpviz.metainfo.xml" "$share/metainfo/"
cp "$ROOT/resources/linux/io.github.bpviz.mime.xml" "$share/mime/packages/"
cp -r "$ROOT/resources/icons/hicolor" "$share/icons/"
mkdir -p "$share/icons/hicolor/scalable/apps"
cp "$ROOT/resources/icons/bpviz.svg" "$share/icons/hicolor/scalable/apps/bpviz.svg"
cp "$HERE/install-desktop.sh" "$DIST/bpviz/"
built=$(date +%s)
say "built $DIST/bpviz ($(du -sh "$DIST/bpviz" | cut -f1)) in $((built - deps_done)) s" \
    "(+ $((deps_done - start)) s for the build environment)"

if [ "${SKIP_SMOKE_TEST:-}" = 1 ]; then
    say "SKIP_SMOKE_TEST=1: not testing the built app"
    exit 0
fi
"$py" "$HERE/smoke_test.py" "$DIST/bpviz"
say "done in $(($(date +%s) - start)) s"
