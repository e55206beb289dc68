"""Animated export (issue #20): frames from the app's views, GIF/APNG/MP4, CLI and window."""

from __future__ import annotations

import itertools
import sys

import av
import numpy as np
import pytest
from PIL import Image, ImageSequence
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

from bpviz import cli
from bpviz.animation import (
    AnimationOptions,
    Cancelled,
    FrameRenderer,
    check_output,
    training_schedule,
    walk_frames,
    write_animation,
)
from bpviz.engine.experiment_io import _umask, load_experiment, restore_trainer
from bpviz.engine.trainer import phase_plan
from bpviz.examples import example_paths
from bpviz.views.animation_dialog import AnimationDialog, export_animation
from bpviz.views.main_window import MainWindow

TIMEOUT = 20_000
SMALL = ["--size", "192x108"]


def _trainer(name: str = "xor4"):
    experiment = load_experiment(example_paths()[name])
    trainer, dataset = restore_trainer(experiment)
    return trainer, dataset


def _gif_frames(path) -> list[tuple[np.ndarray, int]]:
    with Image.open(path) as im:
        return [
            (np.asarray(f.convert("RGB")), int(f.info["duration"]))
            for f in ImageSequence.Iterator(im)
        ]


# ---------------------------------------------------------------------------
# Schedule and frames
# ---------------------------------------------------------------------------


def test_training_frames_are_log_spaced_from_zero_to_n():
    s = training_schedule(20_000, 300)
    assert s[0] == 0 and s[-1] == 20_000 and len(s) == 300
    assert np.all(np.diff(s) >= 0)
    # Half the frames show the first 1 % of training: early learning is visible.
    assert s[150] <= 200
    assert set(training_schedule(3, 10)) == {0, 1, 2, 3}  # more frames than steps: repeats


def test_frames_are_the_apps_views_and_the_same_input_gives_the_same_frames(qapp):
    frames = []
    for _ in range(2):
        trainer, dataset = _trainer()
        r = FrameRenderer(trainer.net.config(), dataset, 320, 180, walk=True)
        for _ in range(4):
            trainer.step_phase()
        r.show_snapshot(trainer.snapshot())
        frames.append(r.render())
        assert "Output δ" in r.inspector.text()
        assert r.phase_indicator.active_stage() == "BACKWARD PASS"
        r.close()
    assert frames[0].shape == (180, 320, 3) and frames[0].dtype == np.uint8
    assert np.array_equal(frames[0], frames[1])
    assert frames[0].std() > 10  # a picture, not a blank frame


def test_a_walk_frame_of_the_lecture_example_shows_every_line_of_every_phase(qapp):
    """At 1280×720 the formulas fit without a scroll bar (the loss plot, one point in a
    walk, gives them its room) and the frame has no tick box to tick."""
    trainer, dataset = _trainer("lecture")
    r = FrameRenderer(trainer.net.config(), dataset, 1280, 720, walk=True)
    bar = r.inspector._scroll.verticalScrollBar()
    overflow = []
    for _, _held in walk_frames(trainer, r, AnimationOptions(walk=True))[1]:
        overflow.append(bar.maximum())
    assert not r.loss_plot.isVisible() and not r.loss_plot._log_box.isVisible()
    r.close()
    assert len(overflow) == 8 and max(overflow) == 0, overflow


def test_walk_frames_say_nothing_about_clicking_or_pressing(qapp):
    trainer, dataset = _trainer()
    r = FrameRenderer(trainer.net.config(), dataset, 320, 180, walk=True)
    texts = []
    for _, _held in walk_frames(trainer, r, AnimationOptions(walk=True, width=320, height=180))[1]:
        texts.append(r.inspector.text())
    r.close()
    assert len(texts) > 5 and "u_" in "".join(texts).replace("<sub>", "_")
    assert not [t for t in texts if "Click" in t or "Press" in t]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_walk_gif_holds_each_phase_for_one_second(qapp, tmp_path):
    trainer, dataset = _trainer()
    pictures = len(phase_plan(trainer.net.n_layers)) + 1  # the state before, then each phase
    out = tmp_path / "walk.gif"
    w = write_animation(trainer, dataset, out, AnimationOptions(walk=True, width=192, height=108))
    frames = _gif_frames(out)
    assert [d for _, d in frames] == [1000] * pictures
    assert w.frames == 30 * pictures and trainer.iteration == 1
    assert frames[0][0].shape == (108, 192, 3)
    for (a, _), (b, _) in itertools.pairwise(frames):
        assert not np.array_equal(a, b)  # every phase changes the picture
    assert [p.name for p in tmp_path.iterdir()] == ["walk.gif"]  # no temporary file left
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not the temporary file's 0o600


def test_training_mp4_is_h264_with_every_frame(qapp, tmp_path):
    trainer, dataset = _trainer()
    out = tmp_path / "train.mp4"
    opts = AnimationOptions(steps=200, width=192, height=108, fps=10, seconds=3)
    w = write_animation(trainer, dataset, out, opts)
    assert trainer.iteration == 200 and w.frames == 30
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.format.name == "yuv420p"
        assert (s.width, s.height) == (192, 108)
        decoded = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(decoded) == 30
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).mean() > 1  # it learned


def test_training_apng_durations_add_up(qapp, tmp_path):
    trainer, dataset = _trainer()
    out = tmp_path / "train.apng"
    opts = AnimationOptions(steps=3, width=128, height=72, fps=10, seconds=1)
    write_animation(trainer, dataset, out, opts)
    with Image.open(out) as im:
        assert im.format == "PNG" and im.n_frames == 4  # iterations 0, 1, 2, 3
        durations = [f.info["duration"] for f in ImageSequence.Iterator(im)]
    assert sum(durations) == pytest.approx(1000)


def test_cancel_leaves_no_file(qapp, tmp_path):
    trainer, dataset = _trainer()
    out = tmp_path / "x.gif"
    calls = []

    def progress(done, total):
        calls.append(done)
        return len(calls) < 3

    with pytest.raises(Cancelled):
        opts = AnimationOptions(steps=50, width=128, height=72)
        write_animation(trainer, dataset, out, opts, progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_mp4_without_pyav_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # import av now fails
    with pytest.raises(ValueError, match=r"pip install 'bpviz\[video\]'"):
        check_output(tmp_path / "x.mp4")
    assert check_output(tmp_path / "x.gif") == ".gif"


# ---------------------------------------------------------------------------
# bpviz animate
# ---------------------------------------------------------------------------


def test_command_writes_a_walk(qapp, tmp_path, capsys):
    out = tmp_path / "w.gif"
    code = cli.main(
        ["animate", "--example", "xor4", "--walk", "--out", str(out), *SMALL, "--seconds", "4"]
    )
    assert code == 0
    assert sum(d for _, d in _gif_frames(out)) == 4000
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--example", "nope", "--walk"], "unknown example 'nope'"),
        (["--example", "xor4"], "one of the arguments --steps --walk is required"),
        (["--example", "xor4", "--walk", "--steps", "5"], "not allowed with"),
        (["--example", "xor4", "--walk", "--size", "big"], "expected a size like 1280x720"),
        (["--example", "xor4", "--walk", "--size", "641x360"], "even width and height"),
        (["--example", "xor4", "--walk", "--fps", "0"], "expected a number from 1"),
        (["--example", "xor4", "--walk", "--seconds", "-1"], "seconds must be positive"),
        (["--walk"], "either EXPERIMENT.json or --example"),
        (["missing.json", "--walk"], "missing.json"),
    ],
)
def test_command_errors_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "a.mp4"
    code = cli.main(["animate", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("bpviz: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["a.avi", "nofolder/a.gif"])
def test_command_refuses_bad_outputs(tmp_path, capsys, name):
    code = cli.main(["animate", "--example", "xor4", "--walk", "--out", str(tmp_path / name)])
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_progress_line_counts_frames():
    import io

    stream = io.StringIO()
    line = cli.FrameProgress(stream, enabled=True)
    assert line.update(135, 300)
    line.close()
    assert "45% frame 135/300" in stream.getvalue() and stream.getvalue().endswith("\n")


# ---------------------------------------------------------------------------
# File ▸ Export ▸ Animation…
# ---------------------------------------------------------------------------


@pytest.fixture
def window(one_sample_window) -> MainWindow:
    return one_sample_window


def test_window_exports_from_its_current_state_and_keeps_training_there(window, qtbot, tmp_path):
    assert window.acts.export_animation in window.export_menu.actions()
    for _ in range(3):
        window.acts.step_iteration.trigger()
    qtbot.waitUntil(lambda: window._latest.iteration == 3, timeout=TIMEOUT)
    out = tmp_path / "anim" / "walk.gif"
    out.parent.mkdir()
    written = export_animation(window, str(out), AnimationOptions(walk=True, width=192, height=108))
    assert written == out and out.exists()
    assert str(out) in window.statusBar().currentMessage()
    assert list(out.parent.iterdir()) == [out]
    # The window's own training did not move: its next step is iteration 4.
    window.acts.step_iteration.trigger()
    qtbot.waitUntil(lambda: window._latest.iteration == 4, timeout=TIMEOUT)


def test_cancel_button_stops_the_export_and_leaves_no_file(window, qtbot, tmp_path):
    clicked = []

    def click_cancel():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible() and w.value() > 0:
                w.cancel()
                clicked.append(w.value())
                timer.stop()

    timer = QTimer()
    timer.timeout.connect(click_cancel)
    timer.start(5)
    out = tmp_path / "train.gif"
    opts = AnimationOptions(steps=2000, width=192, height=108, fps=10, seconds=20)
    assert export_animation(window, str(out), opts) is None
    timer.stop()
    assert clicked and clicked[0] < 200
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".gif"]  # nor a temporary one
    assert "cancelled" in window.statusBar().currentMessage()


def test_bad_file_name_is_one_sentence_in_the_banner(window, tmp_path):
    assert export_animation(window, str(tmp_path / "a.docx"), AnimationOptions(walk=True)) is None
    assert "unknown animation format" in window.banner.text()
    assert list(tmp_path.glob("a.*")) == []


def test_dialog_builds_the_options_it_shows(qtbot, tmp_path):
    d = AnimationDialog()
    qtbot.addWidget(d)
    d.walk.setChecked(True)
    d.size.setCurrentIndex(1)
    d.fps.setValue(24)
    d.path.setText(str(tmp_path / "x.avi"))
    d.accept()
    assert d.result() != d.DialogCode.Accepted and "unknown animation format" in d.note.text()
    opts = d.options()
    assert opts.walk and opts.steps is None
    assert opts.seconds is None and d.seconds.text() == "1 s per phase"  # 1 s per picture
    assert (opts.width, opts.height, opts.fps) == (1920, 1080, 24)
    d.train.setChecked(True)
    d.steps.setValue(777)
    assert d.options().steps == 777 and not d.options().walk
    assert d.options().seconds == 10.0


def test_the_training_caption_gives_the_batch_err_per_sample_as_the_plot_draws_it():
    from bpviz.animation import _caption

    trainer, _ = _trainer("circle")
    trainer.run(3)
    h = trainer.history
    err, n = float(h.batch_err[-1]), int(h.batch_sizes[-1])
    assert n > 1
    assert _caption("circle", trainer) == (
        f"circle — iteration 3   batch Err/N = {err:.4g}/{n} = {err / n:.4g}"
    )
    lecture, _ = _trainer("lecture")
    lecture.run(2)
    err = float(lecture.history.batch_err[-1])
    assert _caption("", lecture) == f"iteration 2   batch Err = {err:.4g} (N = 1)"
