"""Render the application icon from its SVG source into every format the builds use.

Run from the repository root with the project's environment (PySide6 only, no
display needed)::

    python packaging/render_icons.py          # write the files
    python packaging/render_icons.py --check  # exit 1 if a file is missing or the
                                              # package's copy of the SVG differs

Sources (hand-drawn): ``resources/icons/bpviz.svg`` (256 x 256 grid), used for
48 px and up, and ``resources/icons/bpviz-small.svg`` (16 x 16 grid, without the
two crossing weights), used up to 32 px so small icons stay crisp. Outputs:

- ``resources/icons/hicolor/<N>x<N>/apps/bpviz.png`` for N in 16 32 48 64 128 256
  (the freedesktop icon theme layout; see packaging/README.md to install them);
- ``resources/icons/bpviz.ico``: Windows icon, PNG-compressed entries 16-256 px
  (``--icon`` for PyInstaller on Windows);
- ``resources/icons/bpviz.icns``: macOS icon, PNG entries 16-1024 px
  (``--icon`` for PyInstaller on macOS);
- ``bpviz/resources/icon.svg``: a byte-for-byte copy inside the package, which
  the app loads at run time as its window icon (it ships in the wheel and in
  the PyInstaller bundle with the rest of the package).

The ICO and ICNS containers are written by hand (both are a small header plus
PNG blobs), so no other tool is needed on Linux.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icons" / "bpviz.svg"
SMALL_SOURCE = ROOT / "resources" / "icons" / "bpviz-small.svg"
#: Largest size drawn from SMALL_SOURCE.
SMALL_MAX = 32
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
ICO = ROOT / "resources" / "icons" / "bpviz.ico"
ICNS = ROOT / "resources" / "icons" / "bpviz.icns"
PACKAGE_COPY = ROOT / "bpviz" / "resources" / "icon.svg"

PNG_SIZES = (16, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types holding PNG data, and their pixel sizes.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16@2x
    (b"icp6", 64),
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),  # 128@2x
    (b"ic09", 512),
    (b"ic14", 512),  # 256@2x
    (b"ic10", 1024),  # 512@2x
)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The SVG drawn into a transparent size x size image, antialiased."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """The image as PNG data."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding the given PNGs (PNG entries: Windows Vista and later)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns holding PNG elements (macOS 10.7 and later)."""
    body = b""
    for kind, size in ICNS_TYPES:
        blob = pngs[size]
        body += kind + struct.pack(">I", 8 + len(blob)) + blob
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def outputs() -> dict[Path, bytes]:
    """Every output file and its intended content."""
    renderers = {}
    for source in (SOURCE, SMALL_SOURCE):
        renderers[source] = QSvgRenderer(str(source))
        if not renderers[source].isValid():
            raise SystemExit(f"render_icons: {source} is not a valid SVG")
    sizes = sorted({*PNG_SIZES, *ICO_SIZES, *(s for _, s in ICNS_TYPES)})
    pngs = {
        size: png_bytes(render(renderers[SMALL_SOURCE if size <= SMALL_MAX else SOURCE], size))
        for size in sizes
    }
    files = {HICOLOR / f"{size}x{size}" / "apps" / "bpviz.png": pngs[size] for size in PNG_SIZES}
    files[ICO] = ico_bytes({size: pngs[size] for size in ICO_SIZES})
    files[ICNS] = icns_bytes(pngs)
    files[PACKAGE_COPY] = SOURCE.read_bytes()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that the files are up to date"
    )
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication(["render_icons"])  # noqa: F841
    stale = []
    for path, content in outputs().items():
        if args.check and path.suffix != ".svg":
            # Rendered bytes vary a little between Qt versions: only check presence.
            if path.exists():
                continue
        elif path.exists() and path.read_bytes() == content:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for path in stale:
        verb = "out of date" if args.check else "wrote"
        print(f"render_icons: {verb} {path.relative_to(ROOT)}")
    if args.check and stale:
        print("render_icons: run 'python packaging/render_icons.py'", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
