"""The PDF handout, drawn with Qt's own PDF output (no TeX needed).

Each block of a :class:`bpviz.worked.handout.Doc` becomes one
``QTextDocument`` (the HTML fragments of :func:`~bpviz.worked.handout.html_blocks`)
laid out at the page width and painted onto a ``QPdfWriter`` page; a block
that does not fit on the rest of a page starts the next one, so an equation
group is never split, a heading stays with what follows it, and long tables
continue on the next page under a repeated header. The network figure is
drawn with ``QPainter`` from the same layout as the SVG (vector output).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from .worked import figure
from .worked.handout import Doc, Figure, Heading, Table, html_blocks

__all__ = ["write_pdf"]

RESOLUTION = 600
_APP: QGuiApplication | None = None
_CSS = """
h1 { font-size: 17pt; } h2 { font-size: 13pt; color: #1558b0; margin-top: 8px; }
p { margin-top: 2px; margin-bottom: 4px; }
.muted { color: #6a6a6a; }
table.eq td.l { text-align: right; }
th { text-align: left; font-weight: bold; }
"""


def _document(fragment: str, width: float, writer: QPdfWriter) -> QTextDocument:
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(9.5)
    doc.setDefaultFont(font)
    doc.setDefaultStyleSheet(_CSS)
    doc.setDocumentMargin(0)
    # cellpadding is in Qt's logical pixels (scaled to the device): about 0.5 and 1 mm
    fragment = fragment.replace(
        '<table class="eq">', '<table class="eq" cellspacing="0" cellpadding="1">'
    ).replace('<table class="data">', '<table cellspacing="0" cellpadding="4">')
    doc.setHtml(fragment)
    doc.setTextWidth(width)
    return doc


def _table_html(b: Table, fragment: str, rows: range) -> str:
    """``fragment`` (a whole table) cut down to its header and ``rows``."""
    head, _, rest = fragment.partition("</tr>")
    body = rest.removesuffix("</table>").split("</tr>")[:-1]
    picked = "".join(body[m] + "</tr>" for m in rows)
    return head + "</tr>" + picked + "</table>"


def _draw_figure(p: QPainter, lay: figure.Layout, x0: float, y0: float, scale: float) -> None:
    p.save()
    p.translate(x0, y0)
    p.scale(scale, scale)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for e in lay.edges:
        pen = QPen(QColor(e.color))
        pen.setWidthF(e.width)
        p.setPen(pen)
        p.drawLine(QPointF(e.x1, e.y1), QPointF(e.x2, e.y2))
    font = QFont("DejaVu Sans")
    for n in lay.nodes:
        p.setPen(QPen(QColor(figure.INK), 1.0))
        p.setBrush(QBrush(QColor(figure.BIAS_FILL if n.bias else "#ffffff")))
        p.drawEllipse(QPointF(n.x, n.y), n.r, n.r)
        font.setPixelSize(max(1, round(lay.font)))
        p.setFont(font)
        p.drawText(
            QRectF(n.x - n.r, n.y - n.r, 2 * n.r, 2 * n.r), Qt.AlignmentFlag.AlignCenter, n.label
        )
    for e in lay.edges:
        if e.label:
            _draw_edge_label(p, e, font)
    font.setPixelSize(9)
    p.setFont(font)
    p.setPen(QColor("#7a7a7a"))
    for x, name in lay.layer_names:
        p.drawText(QRectF(x - 50, 2, 100, 12), Qt.AlignmentFlag.AlignCenter, name)
    p.restore()


def _draw_edge_label(p: QPainter, e: figure.EdgeArt, font: QFont) -> None:
    """θ31 = −0.5 centred on (e.lx, e.ly), the indices as a subscript (as the SVG draws it)."""
    name, _, value = e.label.partition(" = ")
    sub = QFont(font)
    font.setPixelSize(8)
    sub.setPixelSize(6)
    parts = [(font, "θ", 0.0), (sub, name[1:], 2.0), (font, f"\u00a0= {value}", 0.0)]
    widths = [QFontMetricsF(f, p.device()).horizontalAdvance(text) for f, text, _ in parts]
    x = e.lx - sum(widths) / 2
    base = e.ly - 3.0
    pad = 2.0
    p.fillRect(QRectF(x - pad, base - 9.0, sum(widths) + 2 * pad, 12.0), QColor("#ffffff"))
    p.setPen(QColor(e.color))
    for (f, text, drop), w in zip(parts, widths, strict=True):
        p.setFont(f)
        p.drawText(QPointF(x, base + drop), text)
        x += w


def write_pdf(doc: Doc, path: str | os.PathLike) -> None:
    """Write ``doc`` as an A4 PDF at ``path`` (atomically: a temporary file, then renamed)."""
    global _APP
    if QGuiApplication.instance() is None:  # fonts need an application (offscreen is fine)
        _APP = QGuiApplication(["bpviz"])
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        _write(doc, tmp)
        if os.path.getsize(tmp) == 0:
            raise OSError("Qt wrote an empty PDF")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; a handout is not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(doc: Doc, filename: str) -> None:
    writer = QPdfWriter(filename)
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(18, 16, 18, 18), QPageLayout.Unit.Millimeter)
    writer.setTitle(doc.title)
    writer.setCreator("bpviz")
    page = writer.pageLayout().paintRectPixels(RESOLUTION)
    width, height = float(page.width()), float(page.height())
    pt = RESOLUTION / 72.0
    footer = 14 * pt
    usable = height - footer
    gap = 4 * pt
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write {filename}")
    try:
        number = 1
        y = 0.0

        def new_page() -> float:
            nonlocal y, number
            _footer(painter, number, width, height)
            writer.newPage()
            number += 1
            y = 0.0
            return y

        title = _document(f"<h1>{_esc(doc.title)}</h1>", width, writer)
        title.drawContents(painter)
        y = title.size().height() + gap
        blocks = html_blocks(doc)

        def figure_size(b: Figure) -> tuple[float, float, QTextDocument]:
            scale = min(width / b.layout.width, 1.6 * pt)
            cap = _document(f"<p class='muted'>{_esc(b.caption)}</p>", width, writer)
            return scale, b.layout.height * scale + cap.size().height() + gap, cap

        for n, (b, fragment) in enumerate(blocks):
            if isinstance(b, Figure):
                scale, need, cap = figure_size(b)
                if y + need > usable and y > 0:
                    new_page()
                h = b.layout.height * scale
                _draw_figure(painter, b.layout, (width - b.layout.width * scale) / 2, y, scale)
                painter.save()
                painter.translate(0, y + h)
                cap.drawContents(painter)
                painter.restore()
                y += need
                continue
            if isinstance(b, Table):
                y = _draw_table(painter, writer, b, fragment, width, usable, y, gap, new_page)
                continue
            td = _document(fragment, width, writer)
            h = td.size().height()
            need = h
            if isinstance(b, Heading) and n + 1 < len(blocks):  # keep with the next block
                nxt, nxt_html = blocks[n + 1]
                if isinstance(nxt, Figure):
                    need += figure_size(nxt)[1]
                elif isinstance(nxt, Table):  # with its header and a few rows at least
                    few = _table_html(nxt, nxt_html, range(min(3, len(nxt.rows))))
                    need += _document(few, width, writer).size().height()
                else:
                    need += _document(nxt_html, width, writer).size().height()
            if y + min(need, usable) > usable and y > 0:
                new_page()
            painter.save()
            painter.translate(0, y)
            td.drawContents(painter, QRectF(0, 0, width, h))
            painter.restore()
            y += h + gap
        _footer(painter, number, width, height)
    finally:
        painter.end()


def _draw_table(painter, writer, b, fragment, width, usable, y, gap, new_page) -> float:
    """A table, continued on the next page (header repeated) when it is long."""
    total = len(b.rows)
    start = 0
    while True:
        fit = None
        for end in range(start + 1, total + 1) if total else [0]:
            td = _document(_table_html(b, fragment, range(start, end)), width, writer)
            if y + td.size().height() > usable:
                break
            fit = (td, end)
        if fit is None or (fit[1] - start < min(3, total - start) and y > 0):
            if y > 0:  # not enough room left on this page: start the table on the next
                y = new_page()
                continue
            if fit is None:  # a row taller than a page: draw it anyway
                end = start + 1
                fit = (_document(_table_html(b, fragment, range(start, end)), width, writer), end)
        td, start = fit
        painter.save()
        painter.translate(0, y)
        td.drawContents(painter)
        painter.restore()
        y += td.size().height() + gap
        if start >= total:
            return y
        y = new_page()


def _footer(painter: QPainter, number: int, width: float, height: float) -> None:
    font = QFont("DejaVu Sans")
    font.setPointSizeF(8)
    painter.save()
    painter.setFont(font)
    painter.setPen(QColor("#7a7a7a"))
    painter.drawText(
        QRectF(0, height - 12 * RESOLUTION / 72, width, 12 * RESOLUTION / 72),
        Qt.AlignmentFlag.AlignCenter,
        f"{number} · made with bpviz",
    )
    painter.restore()


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
