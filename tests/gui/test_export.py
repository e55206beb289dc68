"""Exports: PNG size and content, SVG (and the pyqtgraph #3495 workaround), CSV."""

from __future__ import annotations

import csv
import importlib
import math
import xml.dom.minidom
import xml.etree.ElementTree as ET

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSize, qVersion
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel

from bpviz import export
from bpviz.engine.experiment import PRESETS, build
from bpviz.engine.experiment_io import History

SVG_NS = "{http://www.w3.org/2000/svg}"
svg_module = importlib.import_module("pyqtgraph.exporters.SVGExporter")


def trained(name: str, steps: int):
    trainer, _ = build(PRESETS[name][1])
    trainer.run(steps)
    return trainer


@pytest.fixture(scope="module")
def circle_trainer():
    return trained("circle", 300)


@pytest.fixture
def loss_plot(qtbot, circle_trainer):
    plot = export.make_loss_plot(circle_trainer.history, 640, 400, "circle")
    qtbot.addWidget(plot)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def image_stats(image: QImage) -> tuple[int, float]:
    """Distinct colours and the share of pixels unlike the corner pixel."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    ptr = image.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint32, count=image.bytesPerLine() // 4 * h)
    arr = arr.reshape(h, image.bytesPerLine() // 4)[:, :w]
    colours = len(np.unique(arr))
    return colours, float(np.mean(arr != arr[0, 0]))


def ink_extent(image: QImage) -> tuple[float, float]:
    """Share of the width and of the height spanned by pixels unlike the corner."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    arr = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.bytesPerLine() // 4 * h)
    arr = arr.reshape(h, image.bytesPerLine() // 4)[:, :w]
    ink = arr != arr[0, 0]
    cols, rows = np.flatnonzero(ink.any(axis=0)), np.flatnonzero(ink.any(axis=1))
    return (cols[-1] - cols[0] + 1) / w, (rows[-1] - rows[0] + 1) / h


def assert_not_blank(image: QImage) -> None:
    colours, ink = image_stats(image)
    assert colours > 20, f"only {colours} colours"
    assert 0.005 < ink < 0.9, f"{ink:.1%} of the pixels differ from the background"


# ---------------------------------------------------------------------------
# PNG
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(800, 500), (1200, 300), (300, 900), (641, 401)])
def test_png_has_exactly_the_requested_size_and_content(loss_plot, tmp_path, width, height):
    path = tmp_path / "loss.png"
    size = export.export_png(loss_plot.getPlotItem(), path, width, height)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (width, height) == (size.width(), size.height())
    assert_not_blank(image)
    # Laid out at the requested aspect ratio: the plot fills the image, no letterbox.
    fill_w, fill_h = ink_extent(image)
    assert fill_w > 0.9 and fill_h > 0.85, (fill_w, fill_h)


def test_png_export_leaves_the_widget_as_it_was(loss_plot, tmp_path):
    before = loss_plot.size()
    export.export_png(loss_plot.getPlotItem(), tmp_path / "x.png", 1000, 200)
    assert loss_plot.size() == before
    assert loss_plot.getPlotItem().sceneBoundingRect().height() == pytest.approx(before.height())


def test_png_width_only_keeps_the_aspect_ratio(loss_plot, tmp_path):
    size = export.export_png(loss_plot.getPlotItem(), tmp_path / "x.png", width=1280)
    assert size == QSize(1280, 800)
    size = export.export_png(loss_plot.getPlotItem(), tmp_path / "y.png", height=200)
    assert size == QSize(320, 200)
    size = export.export_png(loss_plot.getPlotItem(), tmp_path / "z.png")
    assert size == QSize(640, 400)


def test_png_of_the_curve_uses_the_curve_colour(loss_plot, tmp_path):
    export.export_png(loss_plot.getPlotItem(), tmp_path / "x.png", 800, 500)
    image = QImage(str(tmp_path / "x.png")).convertToFormat(QImage.Format.Format_RGB32)
    training_blue = QColor(20, 60, 160).rgb()
    hits = sum(
        image.pixel(x, y) == training_blue for x in range(0, 800, 2) for y in range(0, 500, 2)
    )
    assert hits > 50


@pytest.mark.parametrize("bad", [0, -5, 2.5, True])
def test_png_size_must_be_a_positive_integer(loss_plot, tmp_path, bad):
    with pytest.raises(ValueError, match="positive integer"):
        export.export_png(loss_plot.getPlotItem(), tmp_path / "x.png", bad, 100)


def test_png_of_a_scene_with_a_background(qtbot, tmp_path):
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    adj = np.array([[0, 1], [1, 2], [0, 2]])
    graph = pg.GraphItem(pos=np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]), adj=adj, size=20)
    view.addItem(graph)
    size = export.export_png(view.scene(), tmp_path / "g.png", 600, 600, background="w")
    image = QImage(str(tmp_path / "g.png"))
    assert (image.width(), image.height()) == (600, 600) == (size.width(), size.height())
    assert_not_blank(image)


# ---------------------------------------------------------------------------
# SVG
# ---------------------------------------------------------------------------


def path_points(d: str) -> int:
    return sum("," in token for token in d.split())


def test_svg_parses_and_holds_the_curve(loss_plot, tmp_path, circle_trainer):
    path = tmp_path / "loss.svg"
    export.export_svg(loss_plot.getPlotItem(), path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    shapes = [*root.iter(f"{SVG_NS}path"), *root.iter(f"{SVG_NS}polyline")]
    points = [
        path_points(s.get("d", "")) if s.tag.endswith("path") else len(s.get("points", "").split())
        for s in shapes
    ]
    # The batch-Err curve: one point per iteration (no downsampling at 300 points).
    assert max(points) >= len(circle_trainer.history) - 1
    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(renderer.defaultSize(), QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    assert_not_blank(image)


def test_svg_keeps_closed_paths(qtbot, tmp_path):
    """Scatter symbols are closed paths: Qt ≥ 6.11 writes them with Z, older Qt without."""
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    view.addItem(pg.ScatterPlotItem(x=[0, 1, 2], y=[0, 1, 0], symbol="s", size=12))
    export.export_svg(view.getPlotItem(), tmp_path / "s.svg")
    root = ET.parse(tmp_path / "s.svg").getroot()
    ds = [p.get("d", "") for p in root.iter(f"{SVG_NS}path")]
    if tuple(int(part) for part in qVersion().split(".")[:2]) >= (6, 11):
        assert any("Z" in d.split() for d in ds)  # what pyqtgraph 0.14.0 could not parse
    assert QSvgRenderer(str(tmp_path / "s.svg")).isValid()


# -- the workaround for pyqtgraph issue #3495 ---------------------------------------------


def original_correct_coordinates():
    current = svg_module.correctCoordinates
    return getattr(current, "bpviz_wraps", current)


def probe(d: str, transform: str = "matrix(2,0,0,3,10,20)"):
    doc = xml.dom.minidom.parseString(f'<g><g transform="{transform}"><path d="{d}"/></g></g>')
    return doc.getElementsByTagName("g")[0]


def test_installed_pyqtgraph_still_has_the_closepath_bug():
    """When this fails, pyqtgraph fixed #3495: remove the workaround in bpviz/export.py."""
    assert export.svg_exporter_has_closepath_bug(original_correct_coordinates())
    assert export.SVG_CLOSEPATH_PATCHED


def test_unpatched_function_fails_on_a_z_terminated_path():
    node = probe("M0,0 L1,0 L1,1 L0,0 Z")
    with pytest.raises(ValueError, match="not enough values to unpack"):
        original_correct_coordinates()(node, [], None, {})


def test_patch_replaces_only_correct_coordinates_and_only_once():
    assert svg_module.correctCoordinates is not original_correct_coordinates()
    assert not export.svg_exporter_has_closepath_bug(svg_module.correctCoordinates)
    assert export._patch_svg_exporter() is True  # a second call does not wrap again
    assert svg_module.correctCoordinates.bpviz_wraps is original_correct_coordinates()


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        ("M0,0 L1,0 L1,1 Z", "M10.0,20.0 L12.0,20.0 L12.0,23.0 Z"),
        (
            "M0,0 L1,0 Z M5,5 L6,6 Z",
            "M10.0,20.0 L12.0,20.0 Z M20.0,35.0 L22.0,38.0 Z",
        ),
        ("M0,0 L1,1z", "M10.0,20.0 L12.0,23.0 z"),
        ("M0,0 L1,1", "M10.0,20.0 L12.0,23.0"),  # open paths as before
        ("M1,1 C2,2 3,3 4,4 Z", "M12.0,23.0 C14.0,26.0 16.0,29.0 18.0,32.0 Z"),
    ],
)
def test_patched_function_transforms_coordinates_and_keeps_z(d, expected):
    node = probe(d)
    svg_module.correctCoordinates(node, [], None, {})
    path = node.getElementsByTagName("path")[0]
    assert path.getAttribute("d").strip() == expected
    assert node.getElementsByTagName("g")[0].getAttribute("transform") == ""


def test_patched_function_gives_what_the_original_gives_for_open_paths():
    d = "M0,0 L1,0 L3,4 L5,-1"
    a, b = probe(d), probe(d)
    original_correct_coordinates()(a, [], None, {})
    svg_module.correctCoordinates(b, [], None, {})
    assert a.toxml() == b.toxml()


# ---------------------------------------------------------------------------
# Widgets as PNG (network view, lecture phases)
# ---------------------------------------------------------------------------


def test_render_widget_png_scales(qtbot, tmp_path, loss_plot):
    ratio = loss_plot.devicePixelRatioF()
    size = export.render_widget_png(loss_plot, tmp_path / "a.png")
    assert size == QSize(round(640 * ratio), round(400 * ratio))
    size2 = export.render_widget_png(loss_plot, tmp_path / "b.png", scale=2.0)
    assert size2 == QSize(round(1280 * ratio), round(800 * ratio))
    for name, s in (("a.png", size), ("b.png", size2)):
        image = QImage(str(tmp_path / name))
        assert image.size() == s
        assert_not_blank(image)


def test_render_widget_png_of_a_plain_widget(qtbot, tmp_path):
    label = QLabel("δ_i = σ′(u_i) Σ_j δ_j θ_ji  " * 2)
    qtbot.addWidget(label)
    label.resize(500, 60)
    label.show()
    qtbot.waitExposed(label)
    size = export.render_widget_png(label, tmp_path / "l.png", scale=1.5)
    assert size == QSize(
        round(500 * 1.5 * label.devicePixelRatioF()), round(90 * label.devicePixelRatioF())
    )
    assert image_stats(QImage(str(tmp_path / "l.png")))[0] > 2


@pytest.mark.parametrize("bad", [0, -1, math.nan, 100])
def test_render_widget_png_rejects_bad_scales(qtbot, tmp_path, bad):
    label = QLabel("x")
    qtbot.addWidget(label)
    with pytest.raises(ValueError, match="scale"):
        export.render_widget_png(label, tmp_path / "l.png", scale=bad)


def test_phase_file_names_sort_in_order(tmp_path):
    names = [export.phase_png_path(tmp_path, i, 12).name for i in range(12)]
    assert names[0] == "phase_01.png" and names[-1] == "phase_12.png"
    assert names == sorted(names)
    assert export.phase_png_path(tmp_path, 4, 150, "walk").name == "walk_005.png"


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def cell(text: str) -> float:
    return math.nan if text == "" else float(text)


@pytest.mark.parametrize("name", ["circle", "xor4", "spiral"])
def test_csv_equals_the_engine_history(tmp_path, name):
    trainer = trained(name, 250)
    h = trainer.history
    n = export.export_csv(h, tmp_path / "loss.csv")
    header, rows = read_csv(tmp_path / "loss.csv")
    assert header == list(export.CSV_COLUMNS)
    assert header == [
        "iteration",
        "batch_n",
        "batch_err_sum",
        "batch_err_per_sample",
        "train_n",
        "train_err_sum",
        "train_err_per_sample",
        "test_n",
        "test_err_sum",
        "test_err_per_sample",
    ]
    col = {c: i for i, c in enumerate(header)}
    assert n == len(rows) == 251  # iteration 0 (the initial evaluation) and 1 … 250
    its = [int(r[0]) for r in rows]
    assert its == list(range(251))
    batch = np.array([cell(r[col["batch_err_sum"]]) for r in rows])
    assert math.isnan(batch[0])
    assert np.array_equal(batch[1:], h.batch_err)  # bit for bit: repr round-trips
    sizes = [int(r[col["batch_n"]]) for r in rows[1:]]
    assert sizes == h.batch_sizes.tolist()
    each = np.array([cell(r[col["batch_err_per_sample"]]) for r in rows[1:]])
    assert np.array_equal(each, h.batch_err / h.batch_sizes)
    evaluated = [i for i, r in enumerate(rows) if r[col["train_err_sum"]] != ""]
    assert evaluated == h.eval_iteration.tolist()
    train = np.array([cell(rows[i][col["train_err_sum"]]) for i in evaluated])
    test = np.array([cell(rows[i][col["test_err_sum"]]) for i in evaluated])
    assert np.array_equal(train, h.train_err)
    assert np.array_equal(test, h.test_err, equal_nan=True)
    assert {rows[i][col["train_n"]] for i in evaluated} == {str(trainer.n_train)}
    train_each = np.array([cell(rows[i][col["train_err_per_sample"]]) for i in evaluated])
    assert np.array_equal(train_each, h.train_err / trainer.n_train)
    if name == "xor4":
        assert all(r[col["test_err_sum"]] == "" for r in rows)  # no test set: empty, not "nan"
        assert {rows[i][col["test_n"]] for i in evaluated} == {"0"}
    else:
        test_each = np.array([cell(rows[i][col["test_err_per_sample"]]) for i in evaluated])
        assert np.array_equal(test_each, h.test_err / trainer.n_test)


def test_csv_says_mean_for_a_loss_that_is_a_mean_already(tmp_path):
    trainer, _ = build(PRESETS["circle"][1].with_(loss="mse"))
    trainer.run(3)
    export.export_csv(trainer.history, tmp_path / "loss.csv")
    header, rows = read_csv(tmp_path / "loss.csv")
    assert "batch_err_mean" in header and not any("sum" in c for c in header)
    assert rows[1][header.index("batch_err_mean")] == rows[1][header.index("batch_err_per_sample")]


def test_csv_rows_for_unusual_histories():
    empty = History()
    assert export.history_rows(empty) == []
    h = History(
        np.array([1.0, 2.0]),
        np.array([0, 2, 2], dtype=np.int64),
        np.array([5.0, 6.0, 7.0]),
        np.array([math.nan, 8.0, 9.0]),
        batch_sizes=np.array([4.0, 2.0]),
    )
    rows = export.history_rows(h)
    assert [r[0] for r in rows] == [0, 1, 2, 2]
    assert rows[2][1:4] == (2.0, 2.0, 1.0)  # N, Err, Err per sample
    assert rows[2][5] == 6.0 and rows[2][8] == 8.0
    assert math.isnan(rows[3][2]) and (rows[3][5], rows[3][8]) == (7.0, 9.0)
    assert math.isnan(rows[2][4])  # a History knows no N of the training set: not known


def test_export_csv_is_atomic_and_overwrites(tmp_path):
    path = tmp_path / "loss.csv"
    path.write_text("old\n", encoding="utf-8")
    export.export_csv(trained("xor4", 3).history, path)
    assert path.read_text(encoding="utf-8").startswith("iteration,batch_n,batch_err_sum")
    assert [p.name for p in tmp_path.iterdir()] == ["loss.csv"]


def test_the_loss_figure_draws_err_per_sample_and_names_each_n(qtbot, circle_trainer):
    h = circle_trainer.history
    n_batch, n_train, n_test = int(h.batch_sizes.max()), h.n_train, h.n_test
    plot = export.make_loss_plot(h, 640, 400)
    qtbot.addWidget(plot)
    item = plot.getPlotItem()
    assert item.getAxis("left").labelText == "Err / N (per sample)"
    assert not item.getAxis("left").autoSIPrefix  # 0.25 reads 0.25, not "250 (x0.001)"
    curves = {c.name(): c.getOriginalDataset()[1] for c in item.listDataItems()}
    batch = f"batch (per iteration), N = {n_batch}"
    train, test = f"training set, N = {n_train}", f"test set, N = {n_test}"
    assert [label.text for _, label in item.legend.items] == [batch, train, test]
    np.testing.assert_array_equal(curves[batch], h.batch_err / h.batch_sizes)
    np.testing.assert_array_equal(curves[train], h.train_err / n_train)
    np.testing.assert_array_equal(curves[test], h.test_err / n_test)


def test_the_loss_figure_of_one_sample_reads_err(qtbot):
    h = trained("lecture", 5).history
    plot = export.make_loss_plot(h, 640, 400)
    qtbot.addWidget(plot)
    item = plot.getPlotItem()
    assert item.getAxis("left").labelText == "Err"
    names = [label.text for _, label in item.legend.items]
    assert names == ["batch (per iteration), N = 1", "training set, N = 1"]


# ---------------------------------------------------------------------------
# The window's loss plot exported at a chosen size
# ---------------------------------------------------------------------------

MARK_LEGEND, MARK_VIEW = QColor("#ff00ff"), QColor("#00ff00")


def _bbox(image: QImage, colour: QColor) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels of exactly ``colour``."""
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    arr = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.bytesPerLine() // 4 * h)
    arr = arr.reshape(h, image.bytesPerLine() // 4)[:, :w]
    ys, xs = np.nonzero(arr == np.uint32(colour.rgb()))
    assert xs.size, f"no {colour.name()} pixels"
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (800, 600), (1920, 1080)])
@pytest.mark.parametrize("dock", [(452, 537), (358, 326)])  # the dock at 720p, two layouts
def test_the_exported_loss_plots_legend_is_centred_under_the_plot_and_scaled_with_it(
    qtbot, tmp_path, circle_trainer, width, height, dock
):
    from bpviz.views.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(*dock)
    plot.show()
    qtbot.waitExposed(plot)
    plot.show_snapshot(circle_trainer.snapshot(advance=False))
    plot.flush()
    qtbot.waitUntil(lambda: len(plot.legend_labels()) == 3)
    # Only colours change: the legend's frame and the view box's border, to find them.
    plot.plot_item.legend.setPen(pg.mkPen(MARK_LEGEND, width=0, cosmetic=True))
    plot.plot_item.vb.setBorder(pg.mkPen(MARK_VIEW, width=0, cosmetic=True))
    path = tmp_path / "loss.png"
    export.export_png(plot.plot_item, path, width, height, antialias=False)
    image = QImage(str(path))
    left, top, right, bottom = _bbox(image, MARK_LEGEND)
    v_left, _, v_right, v_bottom = _bbox(image, MARK_VIEW)
    # Centred under the view box (as the title is above it), within a few pixels.
    assert abs((left + right) / 2 - (v_left + v_right) / 2) <= 3, (left, right, v_left, v_right)
    # Whole and under the plot, drawn at the size the layout gave it: it ends near the
    # image's bottom (a legend left at screen size leaves a blank band under it).
    assert left > 0 and right < width - 1, (left, right, width)
    assert v_bottom < top and bottom < height - 1, (v_bottom, top, bottom, height)
    assert height - bottom <= 0.03 * height, (bottom, height)
    # The plot fills the width, not a strip of it.
    assert v_right - v_left > 0.6 * width
