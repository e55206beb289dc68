"""bpviz as a desktop application: the file on the command line, drag and drop, the registered
file type, a first window that fits its screen, the loss plot's automatic log scale."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import (
    QCoreApplication,
    QMetaObject,
    QMimeData,
    QPoint,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from bpviz import app as bpviz_app
from bpviz import cli, settings
from bpviz.desktop import first_geometry, onto_screens
from bpviz.engine.experiment import Setup
from bpviz.examples import example_paths
from bpviz.files import check_file, file_kind
from bpviz.views.main_window import APP_TITLE, MainWindow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SMALL = Setup(dataset="xor4", hidden=(3,), batch_size=4, lr=0.5, test_fraction=0.0)
TIMEOUT = 20_000


@pytest.fixture
def window(make_window) -> MainWindow:
    """A window on SMALL at the size it opens with (the first-window geometry is tested)."""
    return make_window(SMALL, size=None)


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """An experiment, a CSV data file, damaged ones, a directory and a file of another kind."""
    experiment = tmp_path / "lecture.json"
    shutil.copy(example_paths()["lecture"], experiment)
    csv = tmp_path / "points.csv"
    points = np.random.default_rng(0).random((20, 2))
    rows = ["x1,x2,y"] + [f"{a},{b},{int(a > b)}" for a, b in points]
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    damaged = tmp_path / "damaged.json"
    doc = json.loads(experiment.read_text(encoding="utf-8"))
    doc["setup"]["hidden"] = "three"
    damaged.write_text(json.dumps(doc), encoding="utf-8")
    truncated = tmp_path / "truncated.json"
    truncated.write_text(experiment.read_text(encoding="utf-8")[:200], encoding="utf-8")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("x1,x2,y\n1,2,cat\n3,4,5\n", encoding="utf-8")
    folder = tmp_path / "folder.json"
    folder.mkdir()
    other = tmp_path / "notes.txt"
    other.write_text("not for bpviz\n", encoding="utf-8")
    train = tmp_path / "train"  # an experiment file literally called like the command
    shutil.copy(experiment, train)
    return {
        "experiment": experiment,
        "csv": csv,
        "damaged": damaged,
        "truncated": truncated,
        "bad_csv": bad_csv,
        "folder": folder,
        "other": other,
        "missing": tmp_path / "missing.json",
        "train": train,
    }


def main_windows() -> list[MainWindow]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]


def run_app(qapp, argv: list[str], ready) -> tuple[int, dict]:
    """Run ``bpviz ARGV`` (bpviz.app.main) in this process until ``ready(window)``; then close it.

    Returns the exit code and what was seen at that moment. If the window never gets
    ready the poll closes it after TIMEOUT ms and ``seen`` stays empty.
    """
    before = set(map(id, main_windows()))
    seen: dict = {}
    poll = QTimer()
    ticks = [0]

    def check() -> None:
        ticks[0] += 1
        new = [w for w in main_windows() if id(w) not in before and w.isVisible()]
        if not new:
            return
        w = new[0]
        if ready(w):
            seen.update(
                title=w.windowTitle(),
                config=dict(w._config),
                iteration=w._latest.iteration if w._latest is not None else None,
            )
        elif ticks[0] * poll.interval() < TIMEOUT:
            return
        poll.stop()
        w.close()

    poll.timeout.connect(check)
    poll.start(20)
    names = (qapp.applicationName(), qapp.organizationName())
    try:
        code = bpviz_app.main(argv)
    finally:
        poll.stop()
        qapp.setApplicationName(names[0])
        qapp.setOrganizationName(names[1])
    return code, seen


# -- the file on the command line -------------------------------------------------------


def test_bpviz_file_json_opens_the_experiment_and_names_it_in_the_title(qapp, files):
    path = files["experiment"]
    code, seen = run_app(qapp, [str(path)], lambda w: w.windowTitle().startswith("lecture.json"))
    assert code == 0
    assert seen, "the window never named the file"
    assert seen["title"] == "lecture.json — bpviz"
    # The lecture example's network, as File ▸ Open experiment restores it.
    assert tuple(seen["config"]["sizes"]) == (2, 2, 1)
    assert settings.read("recent_files")[0] == str(path)


def test_bpviz_file_csv_trains_on_that_data(qapp, files):
    code, seen = run_app(
        qapp, [str(files["csv"])], lambda w: w.windowTitle().startswith("points.csv")
    )
    assert code == 0
    assert seen["title"] == "points.csv — bpviz"
    assert seen["config"]["sizes"][0] == 2  # the CSV's two input columns


def test_bpviz_example_opens_a_built_in_example(qapp):
    code, seen = run_app(
        qapp, ["--example", "xor4"], lambda w: w.windowTitle().startswith("xor4.json")
    )
    assert code == 0
    assert tuple(seen["config"]["sizes"]) == (2, 2, 1)


def test_a_file_called_train_opens_with_a_path_or_after_double_dash(qapp, files, monkeypatch):
    monkeypatch.chdir(files["train"].parent)
    assert isinstance(cli.main(["--", "train"]), cli.OpenFile)
    code, seen = run_app(qapp, ["./train"], lambda w: w.windowTitle().startswith("train "))
    assert code == 0
    assert seen["title"] == "train — bpviz"
    # Without either, 'train' is the command (and asks for its options).
    assert cli.main(["train"]) == cli.EXIT_USAGE


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing", "file not found"),
        ("damaged", "setup.hidden"),
        ("truncated", "invalid JSON"),
        ("bad_csv", "line 2"),
        ("folder", "is a directory"),
        ("other", "not a file bpviz opens"),
    ],
)
def test_a_bad_file_exits_2_with_one_line_naming_it_and_no_window(files, capsys, name, reason):
    before = len(main_windows())
    code = bpviz_app.main([str(files[name])])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert str(files[name]) in err
    assert reason in err
    assert "Traceback" not in err
    assert len(main_windows()) == before


def test_a_damaged_file_gives_the_same_field_by_field_reason_as_the_window(files, window, qtbot):
    from bpviz.files import OpenError

    with pytest.raises(OpenError) as info:
        check_file(files["damaged"])
    window.open_file(str(files["damaged"]))
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    shown = html.unescape(window.banner.text())
    assert "setup.hidden: expected a list, got 'three'" in str(info.value)
    assert "setup.hidden: expected a list, got 'three'" in shown


def test_a_bare_word_that_is_neither_a_command_nor_a_file_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert bpviz_app.main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bpviz: error: invalid choice: 'trian' is neither a command")
    assert "'train'" in err and "'examples'" in err and "nor a file" in err
    assert err.count("\n") == 1


def test_the_command_line_process_prints_no_traceback_for_a_damaged_file(files):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "bpviz", str(files["truncated"])],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"bpviz: error: {files['truncated']}: line ")
    assert proc.stderr.count("\n") == 1
    assert proc.stdout == ""


def test_file_kinds_follow_the_suffix_or_an_experiments_first_bytes(files):
    assert file_kind(files["experiment"]) == "experiment"
    assert file_kind(files["csv"]) == "csv"
    assert file_kind(files["train"]) == "experiment"  # no suffix: bpviz's magic
    assert file_kind(files["other"]) is None
    assert file_kind(files["missing"].with_suffix("")) is None


# -- drag and drop ----------------------------------------------------------------------------


def drag_enter_event(pos: QPoint, *args) -> QDragEnterEvent:
    """Qt 6.12 takes the position as a QPointF (the QPoint form is deprecated there); the older
    PySide6 releases that pyproject.toml allows take only a QPoint."""
    try:
        return QDragEnterEvent(QPointF(pos), *args)
    except TypeError:
        return QDragEnterEvent(pos, *args)


def drop(target, paths: list[Path] | None = None, text: str | None = None) -> tuple[bool, bool]:
    """Drag ``paths`` (file URLs) or ``text`` onto ``target``; (enter accepted, drop accepted)."""
    mime = QMimeData()
    if paths is not None:
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    if text is not None:
        mime.setText(text)
    pos = target.rect().center()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = drag_enter_event(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False, False
    event = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(target, event)
    return True, event.isAccepted()


def test_dropping_an_experiment_opens_it(window, files, qtbot):
    # Onto the network picture: the drop reaches the window.
    target = window.network_view
    assert drop(target, [files["experiment"]]) == (True, True)
    qtbot.waitUntil(lambda: window.windowTitle() == "lecture.json — bpviz", timeout=TIMEOUT)
    assert tuple(window._config["sizes"]) == (2, 2, 1)


def test_dropping_a_csv_file_trains_on_it(window, files, qtbot):
    assert drop(window, [files["csv"]]) == (True, True)
    qtbot.waitUntil(lambda: window.windowTitle() == "points.csv — bpviz", timeout=TIMEOUT)
    assert window._setup.dataset == "csv"
    assert window._setup.csv_path == str(files["csv"])


def barrier(w: MainWindow) -> None:
    """Return once the worker has handled every command sent so far and its answers are in."""
    QMetaObject.invokeMethod(
        w.session.worker, "request_snapshot", Qt.ConnectionType.BlockingQueuedConnection
    )
    QCoreApplication.sendPostedEvents(None, 0)


@pytest.mark.parametrize("what", ["other", "two files", "remote"])
def test_dropping_anything_else_is_refused_with_a_message(window, files, what):
    config = dict(window._config)
    if what == "remote":
        mime = QMimeData()
        mime.setUrls([QUrl("https://example.org/lecture.json")])
        pos = window.rect().center()
        args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(window, drag_enter_event(pos, *args))
        event = QDropEvent(QPointF(pos), *args)
        QApplication.sendEvent(window, event)
        accepted = event.isAccepted()
    else:
        paths = [files["other"]] if what == "other" else [files["experiment"], files["csv"]]
        accepted = drop(window, paths)[1]
    assert not accepted
    assert window._banner_row.isVisible()
    assert "Not opened" in window.banner.text()
    barrier(window)
    assert window._config == config
    assert window._latest.iteration == 0
    assert window.windowTitle() == APP_TITLE


def test_a_damaged_experiment_dropped_leaves_the_session_as_it_was(window, files, qtbot):
    window.session.step()
    qtbot.waitUntil(lambda: window._latest.iteration == 1, timeout=TIMEOUT)
    assert drop(window, [files["damaged"]]) == (True, True)
    qtbot.waitUntil(lambda: window._banner_row.isVisible(), timeout=TIMEOUT)
    assert "setup.hidden" in window.banner.text()
    assert window.windowTitle() == APP_TITLE
    assert tuple(window._config["sizes"]) == (2, 3, 1)
    assert window._latest.iteration == 1


def test_plain_text_is_not_taken_as_a_drop(window):
    assert drop(window, text="hello") == (False, False)


# -- save dialogs --------------------------------------------------------------------------------


def test_the_save_dialog_proposes_the_registered_suffix(window, files, qtbot, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def fake(parent, title, proposed, filt):
        asked.append((proposed, filt))
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    window.save_experiment()
    window.open_file(str(files["experiment"]))
    qtbot.waitUntil(lambda: window.windowTitle().startswith("lecture.json"), timeout=TIMEOUT)
    window.save_experiment()
    window.export_loss_csv()
    assert asked[0][0] == "experiment.bpviz.json"
    assert "*.bpviz.json" in asked[0][1]
    assert asked[1][0] == "lecture.bpviz.json"
    assert asked[2][0] == "loss.csv"


def test_a_name_typed_without_the_suffix_gets_it(window, tmp_path, monkeypatch, qtbot):
    from PySide6.QtWidgets import QFileDialog

    target = tmp_path / "mine"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), "")))
    window.save_experiment()
    saved = tmp_path / "mine.bpviz.json"
    qtbot.waitUntil(saved.exists, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.windowTitle() == "mine.bpviz.json — bpviz", timeout=TIMEOUT)
    assert file_kind(saved) == "experiment"


# -- the registered file type ------------------------------------------------------------------


def test_the_desktop_entry_takes_a_file_and_lists_the_types():
    entry = (ROOT / "resources/linux/io.github.bpviz.desktop").read_text(encoding="utf-8")
    lines = dict(line.split("=", 1) for line in entry.splitlines() if "=" in line)
    assert lines["Exec"] == "bpviz %f"
    assert lines["MimeType"].split(";")[:2] == ["application/x-bpviz-experiment", "text/csv"]


def test_install_desktop_registers_the_experiment_type(tmp_path, files):
    data = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    subprocess.run(
        ["bash", str(ROOT / "packaging/install-desktop.sh"), "--exec", "/opt/bpviz/bpviz"],
        check=True, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    entry = (data / "applications/io.github.bpviz.desktop").read_text(encoding="utf-8")
    assert "\nExec=/opt/bpviz/bpviz %f\n" in entry
    assert (data / "mime/packages/io.github.bpviz.mime.xml").is_file()
    # What a desktop's file manager sees, through Qt's reader of the same database.
    probe = (
        "import sys; from PySide6.QtCore import QCoreApplication, QMimeDatabase;"
        "app = QCoreApplication([]); db = QMimeDatabase();"
        "print(db.mimeTypeForFile(sys.argv[1]).name());"
        "print(db.mimeTypeForData(open(sys.argv[2], 'rb').read()).name());"
        'print(db.mimeTypeForData(b\'{"format": "something-else"}\').name())'
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "x.bpviz.json"), str(files["experiment"])],
        check=True, capture_output=True, text=True, env=env, timeout=120,
    ).stdout.split()  # fmt: skip
    assert out[0] == "application/x-bpviz-experiment"  # by name
    assert out[1] == "application/x-bpviz-experiment"  # by content ("format": "bpviz-...")
    assert out[2] != "application/x-bpviz-experiment"
    subprocess.run(
        ["bash", str(ROOT / "packaging/install-desktop.sh"), "--uninstall"],
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    assert not (data / "mime/packages/io.github.bpviz.mime.xml").exists()


# -- a first window that fits -------------------------------------------------------------


def test_the_first_window_takes_at_most_90_percent_of_a_small_screen():
    for screen in (QRect(0, 0, 1280, 720), QRect(0, 0, 1366, 768), QRect(1920, 0, 1280, 720)):
        rect = first_geometry(screen, QSize(1600, 1000))
        assert rect.width() <= 0.9 * screen.width()
        assert rect.height() <= 0.9 * screen.height()
        assert screen.contains(rect)
        assert abs(rect.center().x() - screen.center().x()) <= 1
    big = QRect(0, 0, 3840, 2160)
    assert first_geometry(big, QSize(1600, 1000)).size() == QSize(1600, 1000)


def test_a_remembered_geometry_is_moved_onto_a_screen_that_exists():
    laptop = QRect(0, 0, 1366, 768)
    projector = QRect(1366, 0, 1280, 720)
    # Last week on the projector, now gone: back onto the laptop, and no larger than it.
    placed = onto_screens(QRect(1500, 100, 1600, 1000), [laptop])
    assert laptop.contains(placed)
    assert placed.size() == QSize(1366, 768)
    # Half off the laptop: moved in, size kept.
    placed = onto_screens(QRect(-400, 500, 800, 600), [laptop])
    assert placed == QRect(0, 168, 800, 600)
    # Mostly on the projector, which is there: it stays on the projector.
    placed = onto_screens(QRect(1300, 50, 1000, 600), [laptop, projector])
    assert projector.contains(placed)
    # Inside a screen: untouched.
    assert onto_screens(QRect(10, 10, 500, 400), [laptop, projector]) == QRect(10, 10, 500, 400)


def probe(tmp_path: Path, screens: list[tuple[int, int, int, int]], *place: int) -> dict:
    """Run tests/gui/screen_probe.py on offscreen screens (x, y, width, height); its report."""
    config = tmp_path / f"screens-{len(screens)}.json"
    config.write_text(json.dumps({"screens": [
        {"name": f"screen{i}", "x": x, "y": y, "width": w, "height": h,
         "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        for i, (x, y, w, h) in enumerate(screens)
    ]}))  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
    }
    proc = subprocess.run(
        [sys.executable, str(HERE / "screen_probe.py"), str(tmp_path / "settings"),
         *map(str, place)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stderr[-2000:]
    return json.loads(lines[-1])


def contains(outer: list[int], inner: list[int]) -> bool:
    return QRect(*outer).contains(QRect(*inner))


@pytest.mark.parametrize("screen", [(1280, 720), (1366, 768)])
def test_the_first_window_fits_a_small_screen_with_every_dock_usable(tmp_path, screen):
    width, height = screen
    seen = probe(tmp_path, [(0, 0, width, height)])
    w, h = seen["window"][2:]
    assert w <= 0.9 * width and h <= 0.9 * height
    assert contains(seen["screen"], seen["window"])
    for title, dock in seen["docks"].items():
        assert dock["visible"], title
        assert contains(seen["inner"], dock["rect"]), (title, dock, seen["inner"])
        assert dock["rect"][2] >= dock["min"][0] and dock["rect"][3] >= dock["min"][1], title
    sizes = seen["sizes"]
    # Room to read: the network, the loss curve, the output map, the formulas, the controls.
    assert sizes["network"][0] >= 400 and sizes["network"][1] >= 250
    assert sizes["loss_plot"][1] >= 200
    assert min(sizes["output"]) >= 240
    assert sizes["formulas"][0] >= 400 and sizes["formulas"][1] >= 150
    assert sizes["controls"][0] >= sizes["controls"][1]  # nothing cut off at the right


def test_a_window_left_on_last_weeks_projector_comes_back_onto_the_laptop(tmp_path):
    laptop, projector = (0, 0, 1366, 768), (1366, 0, 1920, 1080)
    probe(tmp_path, [laptop, projector], 1500, 50, 1800, 1000)  # last week: on the projector
    seen = probe(tmp_path, [laptop, projector])  # the projector still there: the window too
    assert contains(list(projector), seen["window"])
    seen = probe(tmp_path, [laptop])  # today: the projector is gone
    assert contains(list(laptop), seen["window"]), seen["window"]
    for title, dock in seen["docks"].items():
        assert dock["visible"] and contains(seen["inner"], dock["rect"]), title


def test_docks_saved_in_a_small_window_get_proportions_in_a_larger_one(tmp_path):
    # Dock sizes are saved in pixels. Restored into a window of another size (here the
    # geometry is not restored, so the window opens at its preferred size on a large
    # screen), the plots' column must not stay as narrow as it was on the small one.
    small = probe(tmp_path, [(0, 0, 1024, 600)])
    narrow = small["sizes"]["output"][0]
    conf = next((tmp_path / "settings").rglob("*.conf"))
    text = conf.read_text()
    conf.write_text(re.sub(r"(?m)^geometry=.*\n", "", text))
    assert "state=" in conf.read_text() and "geometry=" not in conf.read_text()
    seen = probe(tmp_path, [(0, 0, 1920, 1080)])
    width = seen["window"][2]
    assert width > 1.4 * small["window"][2]
    assert seen["sizes"]["output"][0] >= max(0.2 * width, narrow + 60), (narrow, seen["sizes"])


# -- the loss plot in the window ------------------------------------------------------------------


def test_the_log_scale_menu_entry_follows_the_automatic_switch_and_the_user(window, qtbot):
    window.session.pause()
    plot, act = window.loss_plot, window.acts.log_y
    n = plot.point_count()
    plot.append_losses(n, np.geomspace(1.0, 1e-4, 30))
    assert plot.log_y()
    assert act.isChecked()  # the menu and the check box show what the axis does
    act.trigger()  # L: the user wants linear
    assert not plot.log_y()
    assert plot.log_y_chosen()
    plot.append_losses(n + 30, np.geomspace(1e-4, 1e-7, 30))
    assert not plot.log_y()
    window.acts.reset.trigger()
    qtbot.waitUntil(lambda: window._latest.iteration == 0, timeout=TIMEOUT)
    assert not plot.log_y_chosen()
    assert not act.isChecked()


def test_a_file_opened_while_the_window_starts_is_named_only_once_it_opened(qtbot, files):
    # As `bpviz damaged.json` would if the file broke between the check and the open:
    # the worker's start (the remembered setup) answers first, then the open fails.
    w = MainWindow(SMALL, restore=False)
    qtbot.addWidget(w)
    w.open_file(str(files["damaged"]))
    w.show()
    qtbot.waitUntil(lambda: w._banner_row.isVisible(), timeout=TIMEOUT)
    assert "setup.hidden" in w.banner.text()
    assert w.windowTitle() == APP_TITLE
    assert tuple(w._config["sizes"]) == (2, 3, 1)
    w.close()
