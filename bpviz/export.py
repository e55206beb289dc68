"""Export plots and views: PNG, SVG, CSV, and PNG series for slides (Qt).

The PNG and SVG files come from pyqtgraph's own exporters
(:class:`pyqtgraph.exporters.ImageExporter` and ``SVGExporter``); the CSV of
the loss history comes straight from the engine's history, so it holds every
value exactly (pyqtgraph's CSV exporter would write the plotted, possibly
downsampled, curve instead). Every file is written atomically.

Importing this module also repairs pyqtgraph's SVG exporter where it needs it
(see :func:`svg_exporter_has_closepath_bug`): import it before any SVG export,
including the one in pyqtgraph's own "Export..." context-menu dialog.
"""

from __future__ import annotations

import importlib
import math
import os
import xml.dom.minidom
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # registers the exporters
from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QEvent, QIODevice, QSize
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from .engine.experiment_io import atomic_write_bytes
from .engine.loss_csv import (  # noqa: F401 - re-exported: the CSV is part of the exports
    CSV_COLUMNS,
    ENVELOPE_CSV_COLUMNS,
    envelope_rows,
    export_csv,
    history_rows,
)
from .engine.per_sample import axis_label, curve_label, per_sample

__all__ = [
    "CSV_COLUMNS",
    "SVG_CLOSEPATH_PATCHED",
    "export_csv",
    "export_png",
    "export_svg",
    "history_rows",
    "make_loss_plot",
    "phase_png_path",
    "render_widget_png",
    "svg_exporter_has_closepath_bug",
]

# ---------------------------------------------------------------------------
# pyqtgraph issue #3495: SVG export fails on closed paths with Qt ≥ 6.11.
#
# Qt 6.11's QSvgGenerator ends closed subpaths with a "Z" command
# ("M0,0 L10,0 L10,5 L0,5 L0,0 Z"). pyqtgraph 0.14.0's
# SVGExporter.correctCoordinates() splits every token of a path at its comma
# and fails on the bare "Z" ("ValueError: not enough values to unpack").
# Upstream fixed this in pyqtgraph PR #3458 (point 3: "Qt 6.11 QtSvg emits a
# Z command in its path, which was not handled"), after 0.14.0 and so far in
# no release. The upstream fix passes the close-path command through
# unchanged; so does this wrapper: it takes the Z commands out of each path,
# lets pyqtgraph's own correctCoordinates transform the coordinates, and puts
# them back at their places. Only that one function is replaced, and only
# when a feature test shows the installed pyqtgraph has the bug.
#
# REMOVE this block (and its tests in tests/gui/test_export.py) once the
# required pyqtgraph release contains PR #3458.
# ---------------------------------------------------------------------------

_svg_module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
_CLOSE = ("Z", "z")


def _closed_path_probe() -> tuple[Any, list[Any]]:
    """A tiny document shaped like the exporter's: one group, one closed path."""
    doc = xml.dom.minidom.parseString(
        '<g><g transform="matrix(1,0,0,1,0,0)" stroke-width="1">'
        '<path d="M0,0 L1,0 L1,1 L0,0 Z"/></g></g>'
    )
    return doc.getElementsByTagName("g")[0], []


def svg_exporter_has_closepath_bug(correct: Callable[..., Any] | None = None) -> bool:
    """True if ``correct`` (default: pyqtgraph's ``correctCoordinates``) fails on "Z".

    A feature test, not a version check: it runs the function on a tiny
    closed path as Qt 6.11 writes it.
    """
    fn = correct or _svg_module.correctCoordinates
    node, defs = _closed_path_probe()
    try:
        fn(node, defs, None, {})
    except ValueError:
        return True
    return False


def _split_closepaths(d: str) -> tuple[list[str], list[tuple[int, str]]]:
    """Coordinate tokens of a path, and (position, command) of each Z in it."""
    coords: list[str] = []
    closes: list[tuple[int, str]] = []
    for token in d.split():
        if token in _CLOSE:
            closes.append((len(coords), token))
        elif token[-1] in _CLOSE and "," in token:  # "L0,0Z": no space before Z
            coords.append(token[:-1])
            closes.append((len(coords), token[-1]))
        else:
            coords.append(token)
    return coords, closes


def _with_closepaths(correct: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap pyqtgraph's ``correctCoordinates`` so that it passes Z commands through."""

    def correct_coordinates(node: Any, defs: Any, item: Any, options: Any) -> Any:
        closed = []
        for path in node.getElementsByTagName("path"):
            coords, closes = _split_closepaths(path.getAttribute("d"))
            if closes:
                path.setAttribute("d", " ".join(coords))
                closed.append((path, closes))
        result = correct(node, defs, item, options)
        for path, closes in closed:
            tokens = path.getAttribute("d").split()
            for offset, (position, command) in enumerate(closes):
                tokens.insert(position + offset, command)
            path.setAttribute("d", " ".join(tokens))
        return result

    correct_coordinates.bpviz_wraps = correct  # type: ignore[attr-defined]
    correct_coordinates.__doc__ = (
        "pyqtgraph's correctCoordinates, passing close-path commands (Z) through "
        "(bpviz workaround for pyqtgraph issue #3495)."
    )
    return correct_coordinates


def _patch_svg_exporter() -> bool:
    current = _svg_module.correctCoordinates
    if hasattr(current, "bpviz_wraps"):
        return True  # already patched (module reloaded)
    if not svg_exporter_has_closepath_bug(current):
        return False
    patched = _with_closepaths(current)
    if svg_exporter_has_closepath_bug(patched):  # pragma: no cover - defensive
        return False
    _svg_module.correctCoordinates = patched
    return True


#: True when this module replaced pyqtgraph's SVG ``correctCoordinates``.
SVG_CLOSEPATH_PATCHED: bool = _patch_svg_exporter()


# ---------------------------------------------------------------------------
# PNG and SVG through pyqtgraph's exporters
# ---------------------------------------------------------------------------


def _image_bytes(image: QImage | QPixmap, fmt: str = "PNG") -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    ok = image.save(buf, fmt)
    buf.close()
    if not ok:
        raise OSError(f"Qt could not encode the image as {fmt}")
    return bytes(data.data())


def _view_of(item: QGraphicsItem | QGraphicsScene) -> QGraphicsView | None:
    scene = item if isinstance(item, QGraphicsScene) else item.scene()
    if scene is None:
        raise ValueError("the item is not in a scene, so there is nothing to export")
    views = scene.views()
    return views[0] if views else None


#: A figure is laid out on at least this many pixels (a 640 × 400 plot) before it is
#: scaled to the image: a small dock's title, axes and legend, scaled up to a large
#: 16:9 image, would leave the curves a strip between them.
MIN_EXPORT_AREA = 640 * 400


@contextmanager
def _aspect(item: QGraphicsItem | QGraphicsScene, width: int, height: int) -> Iterator[None]:
    """Temporarily give the view holding ``item`` the aspect ratio width : height.

    Only when ``item`` fills its view (a scene, or a PlotWidget's PlotItem):
    the view keeps its area (so text and plot keep their proportions), at
    least :data:`MIN_EXPORT_AREA`, and takes the new aspect ratio, then gets
    its old size back. No events other
    than layout requests are processed, so nothing flickers on screen.
    """
    view = _view_of(item)
    central = getattr(view, "centralWidget", None)
    fills = isinstance(item, QGraphicsScene) or (central is not None and central is item)
    if view is None or not fills:
        yield
        return
    old = view.size()
    area = max(max(1, old.width()) * max(1, old.height()), MIN_EXPORT_AREA)
    w = max(1, round(math.sqrt(area * width / height)))
    h = max(1, round(w * height / width))
    if (w, h) == (old.width(), old.height()):
        yield
        return
    view.resize(w, h)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    try:
        yield
    finally:
        view.resize(old)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def export_png(
    item_or_scene: QGraphicsItem | QGraphicsScene,
    path: str | os.PathLike,
    width: int | None = None,
    height: int | None = None,
    *,
    background: Any = None,
    antialias: bool = True,
) -> QSize:
    """Export a pyqtgraph item (e.g. ``plot_widget.plotItem``) or scene as PNG.

    Uses :class:`pyqtgraph.exporters.ImageExporter`, which scales the
    drawing (text, lines) with the image.

    Parameters
    ----------
    item_or_scene : QGraphicsItem or QGraphicsScene
        What to export; its scene must have a view.
    path : str or os.PathLike
        The PNG file (written atomically).
    width, height : int, optional
        Size in pixels. Neither: the item's size on screen. One: the other
        follows the item's aspect ratio. Both: exactly that size; an item
        that fills its view is laid out at that aspect ratio for the export.
    background : color, optional
        Anything :func:`pyqtgraph.mkColor` takes; default: the view's.
    antialias : bool
        Smooth lines.

    Returns
    -------
    QSize
        The size of the image written.
    """
    for name, v in (("width", width), ("height", height)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if width is not None and height is not None:
        with _aspect(item_or_scene, width, height):
            exporter = pg.exporters.ImageExporter(item_or_scene)
            params = exporter.parameters()
            params.param("width").setValue(width, blockSignal=exporter.widthChanged)
            params.param("height").setValue(height, blockSignal=exporter.heightChanged)
            image = _render_image(exporter, background, antialias)
    else:
        exporter = pg.exporters.ImageExporter(item_or_scene)
        params = exporter.parameters()
        if width is not None:
            params["width"] = width
        elif height is not None:
            params["height"] = height
        image = _render_image(exporter, background, antialias)
    atomic_write_bytes(path, _image_bytes(image))
    return image.size()


def _render_image(exporter: Any, background: Any, antialias: bool) -> QImage:
    params = exporter.parameters()
    params["antialias"] = antialias
    if background is not None:
        params["background"] = pg.mkColor(background)
    image = exporter.export(toBytes=True)
    if not isinstance(image, QImage) or image.isNull():
        raise OSError("pyqtgraph's image exporter produced no image")
    return image


def export_svg(item_or_scene: QGraphicsItem | QGraphicsScene, path: str | os.PathLike) -> None:
    """Export a pyqtgraph item or scene as SVG through pyqtgraph's SVGExporter.

    Show the widget and let Qt process its events once before the first
    export, so that the layout is final. Written atomically.
    """
    exporter = pg.exporters.SVGExporter(item_or_scene)
    data = exporter.export(toBytes=True)
    if not data:
        raise OSError("pyqtgraph's SVG exporter produced nothing")
    atomic_write_bytes(path, bytes(data))


def render_widget_png(widget: QWidget, path: str | os.PathLike, scale: float = 1.0) -> QSize:
    """Save a widget as it looks (e.g. the network view, one lecture phase) as PNG.

    At ``scale`` 1 this is :meth:`QWidget.grab` at the screen's device pixel
    ratio; other scales render the widget again at ``ratio × scale`` (sharp
    text and lines, for slides). Returns the image's size in pixels.
    """
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and 0 < scale <= 16):
        raise ValueError(f"scale must be a number in (0, 16], got {scale!r}")
    widget.ensurePolished()
    if widget.layout() is not None:
        widget.layout().activate()
    ratio = widget.devicePixelRatioF()
    if scale == 1.0:
        pixmap = widget.grab()
    else:
        r = ratio * scale
        size = widget.size()
        pixmap = QPixmap(QSize(max(1, round(size.width() * r)), max(1, round(size.height() * r))))
        pixmap.setDevicePixelRatio(r)
        pixmap.fill(widget.palette().window().color())
        QWidget.render(widget, pixmap)  # QGraphicsView hides this overload
    if pixmap.isNull():
        raise OSError("the widget could not be rendered (is its size 0?)")
    atomic_write_bytes(path, _image_bytes(pixmap))
    return pixmap.size()


def phase_png_path(
    directory: str | os.PathLike, index: int, count: int, stem: str = "phase"
) -> Path:
    """The file of phase ``index`` (0-based) of ``count`` in a numbered series.

    Numbers start at 1 and are zero-padded so the files sort in order:
    ``phase_01.png`` … ``phase_12.png``.
    """
    digits = max(2, len(str(count)))
    return Path(directory) / f"{stem}_{index + 1:0{digits}d}.png"


# ---------------------------------------------------------------------------
# A loss plot for headless exports (the command line)
# ---------------------------------------------------------------------------


def white_plot(width: int, height: int, left: str, si_prefix: bool = True) -> pg.PlotWidget:
    """A PlotWidget for figures (not shown): white background, black axes, x = iteration."""
    plot = pg.PlotWidget(background="w")
    plot.resize(width, height)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen("k"))
        axis.setTextPen(pg.mkPen("k"))
        if not si_prefix:
            axis.enableAutoSIPrefix(False)
    item.setLabel("bottom", "iteration")
    item.setLabel("left", left)
    return plot


def make_loss_plot(
    history: Any, width: int = 800, height: int = 500, title: str | None = None
) -> pg.PlotWidget:
    """A white-background PlotWidget of the loss history (not shown).

    As the window draws it: Err per sample, Err/N (see
    :mod:`bpviz.engine.per_sample`), of the batch per iteration (thin,
    light; each over its own batch's N) and of the training and test sets at
    each evaluation, the legend naming each N. ``history`` is a
    :class:`~bpviz.engine.trainer.LossHistory`. Long histories are
    downsampled for display ("peak" mode keeps spikes); the CSV keeps every
    value, the engine's Err beside its N.
    """
    h = history
    mean = h.mean
    env = getattr(h, "batch_envelope", None)
    sizes = [np.asarray(h.batch_sizes, dtype=np.float64)]
    if env is not None and len(env):
        sizes += [env.lo[:, 1], env.hi[:, 1]]
    sizes = np.concatenate(sizes)
    n_lo, n_hi = (float(sizes.min()), float(sizes.max())) if sizes.size else (math.nan,) * 2
    all_one = h.n_train == 1 and h.n_test <= 1 and not n_hi > 1
    # No "(x0.001)": Err per sample is mostly below 1, and the axis reads as the window's.
    plot = white_plot(width, height, axis_label(all_one, mean), si_prefix=False)
    item = plot.getPlotItem()
    if title:
        item.setTitle(title, color="k")
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    legend = item.addLegend(offset=(-10, 10), labelTextColor="k")
    legend.setBrush(pg.mkBrush(255, 255, 255, 200))
    x, batch = _with_envelope(
        env,
        np.arange(1, len(h.batch_err) + 1, dtype=np.float64) + h.batch_from,
        h.batch_per_sample,
        2,  # the engine's own range of Err per sample in each bucket
    )
    if batch.size:
        name = curve_label("batch", n_lo, n_hi)
        item.plot(x, batch, pen=pg.mkPen((120, 150, 200), width=1), name=name)
    for c, (values, colour, key, n) in enumerate(
        (
            (h.train_err, (20, 60, 160), "train", h.n_train),
            (h.test_err, (220, 110, 20), "test", h.n_test),
        )
    ):
        x, y = _with_envelope(getattr(h, "eval_envelope", None), h.eval_iteration, values, c)
        y = np.asarray(per_sample(y, n, mean), dtype=np.float64)  # one N: extremes stay extremes
        ok = np.isfinite(y)
        if ok.any():
            item.plot(x[ok], y[ok], pen=pg.mkPen(colour, width=2), name=curve_label(key, n))
    return plot


def _with_envelope(env: Any, x: Any, y: Any, column: int) -> tuple[np.ndarray, np.ndarray]:
    """Envelope buckets drawn as peak downsampling draws (max, min at the first x), then x, y."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if env is None or not len(env):
        return x, y
    ex, ey = env.pairs(column)
    return np.concatenate([ex, x]), np.concatenate([ey, y])
