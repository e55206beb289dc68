"""Animations for slides: training, or one iteration's lecture walk, as GIF, APNG or MP4 (Qt).

Frames are drawn offscreen by the app's own views (:class:`NetworkView`,
:class:`LossPlot`, :class:`OutputView`, and for the walk
:class:`PhaseIndicator` and the formula panel :class:`Inspector`) laid out
as in the window, in a widget of exactly the frame's size that is never
shown on screen. The engine is driven directly: a
:class:`~bpviz.engine.trainer.Trainer` restored from an experiment, no
training process. The same experiment and options give the same frames.

* **Training** (``steps=N``): the frames show iterations spaced
  logarithmically from 0 to N (0, 1, 2, 3, 5, 8, … N), so early learning,
  where most happens, gets as many frames as the long tail.
* **Walk** (``walk=True``): the next iteration phase by phase in the
  lecture's order, with the state before it first; each picture is held for
  an equal share of the length (1 s each by default).

GIF and APNG are written by Pillow (a dependency); MP4 (H.264, yuv420p,
plays in browsers and PowerPoint) by PyAV, the optional extra
``bpviz[video]``: it bundles FFmpeg (a 36 MB wheel, about 100 MB
installed), so bpviz does not make every user install it. Files are
written to a temporary file beside the target and renamed when complete:
an error or a cancel leaves no partial file.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

__all__ = [
    "FORMATS",
    "MAX_FRAMES",
    "AnimationOptions",
    "Cancelled",
    "FrameRenderer",
    "check_output",
    "parse_size",
    "training_frames",
    "training_schedule",
    "walk_frames",
    "write_animation",
]

#: Suffix → container/encoder used.
FORMATS = {".gif": "GIF", ".apng": "APNG", ".mp4": "MP4"}
#: At most this many frames in one animation (an hour at 30 fps would be 108,000).
MAX_FRAMES = 36_000
#: Largest frame side in pixels (4K).
MAX_SIDE = 3840
#: Default length of a training animation, seconds.
DEFAULT_TRAIN_SECONDS = 10.0
#: Default time each picture of the walk is held, seconds.
WALK_SECONDS_PER_PHASE = 1.0

PYAV_MISSING = (
    "MP4 export needs PyAV (FFmpeg for Python): pip install 'bpviz[video]' "
    "(or pip install av); GIF and APNG work without it"
)


class Cancelled(Exception):
    """The progress callback asked to stop; no file was written."""


@dataclass(frozen=True, slots=True)
class AnimationOptions:
    """What to animate and how.

    Parameters
    ----------
    steps : int or None
        Training: animate N iterations from the experiment's state.
    walk : bool
        Walk the next iteration phase by phase instead.
    width, height : int
        Frame size in pixels (MP4 needs both even).
    fps : int
        Frames per second.
    seconds : float or None
        Length; default 10 s for training, 1 s per picture for the walk.
    """

    steps: int | None = None
    walk: bool = False
    width: int = 1280
    height: int = 720
    fps: int = 30
    seconds: float | None = None

    def check(self, suffix: str = "") -> None:
        """Raise ValueError (one sentence) when the options make no animation."""
        if self.walk == (self.steps is not None):
            raise ValueError("choose either a number of training steps or the walk, not both")
        if self.steps is not None and not 1 <= self.steps <= 10**9:
            raise ValueError(f"steps must be from 1 to 1,000,000,000, got {self.steps}")
        for name, v in (("width", self.width), ("height", self.height)):
            if not 64 <= v <= MAX_SIDE:
                raise ValueError(f"the {name} must be from 64 to {MAX_SIDE} pixels, got {v}")
        if suffix == ".mp4" and (self.width % 2 or self.height % 2):
            raise ValueError(
                f"an MP4 (H.264) needs an even width and height, got {self.width}x{self.height}"
            )
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps must be from 1 to 60, got {self.fps}")
        if self.seconds is not None and not (
            math.isfinite(self.seconds) and 0 < self.seconds * self.fps <= MAX_FRAMES
        ):
            raise ValueError(
                f"seconds must be positive and give at most {MAX_FRAMES} frames at "
                f"{self.fps} fps, got {self.seconds:g}"
            )


def check_output(path: str | os.PathLike) -> str:
    """The suffix of ``path`` if bpviz can write it there, else ValueError (one sentence)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{p.name}: unknown animation format {suffix or '(no suffix)'!r}; "
            "use .gif, .apng or .mp4"
        )
    folder = p.parent
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{folder}: the folder is not writable")
    if suffix == ".mp4" and not pyav_available():
        raise ValueError(PYAV_MISSING)
    return suffix


def pyav_available() -> bool:
    """True when PyAV can be imported (it is the optional extra ``bpviz[video]``)."""
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def parse_size(text: str) -> tuple[int, int]:
    """ "1280x720" → (1280, 720); ValueError otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(s.strip().isdigit() for s in parts):
        raise ValueError(f"expected a size like 1280x720, got {text!r}")
    return int(parts[0]), int(parts[1])


def training_schedule(steps: int, frames: int) -> np.ndarray:
    """Iteration shown by each of ``frames`` frames: 0 first, ``steps`` last, log-spaced.

    Frame k > 0 shows iteration round(steps^((k − 1)/(frames − 2))), made
    non-decreasing; with more frames than iterations, frames repeat.
    """
    if frames < 2:
        return np.array([steps] * frames, dtype=np.int64)
    its = np.rint(np.geomspace(1.0, float(steps), frames - 1)).astype(np.int64)
    return np.concatenate([[0], np.maximum.accumulate(its)])


# ---------------------------------------------------------------------------
# The frame: the app's views, offscreen, at the frame's size
# ---------------------------------------------------------------------------


class FrameRenderer(QWidget):
    """The window's views laid out as on screen, drawn into frames of a fixed size.

    Network in the middle, loss above the output map on the right; for the
    walk, the phase indicator on top and the formula panel below. Never shown
    on screen (``WA_DontShowOnScreen``); :meth:`render` returns an
    (height, width, 3) uint8 RGB array.
    """

    def __init__(
        self, config: dict, dataset: Any, width: int, height: int, walk: bool, title: str = ""
    ) -> None:
        super().__init__()
        from .engine import get_loss
        from .views.inspector import Inspector
        from .views.loss_plot import LossPlot
        from .views.network_view import NetworkView
        from .views.output_view import OutputView
        from .views.phase_indicator import PhaseIndicator

        self.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.setFixedSize(width, height)
        self.setAutoFillBackground(True)
        self._config = config
        self._walk = walk
        # Text in proportion to the frame: the window's sizes at 720 lines.
        scale = max(0.6, height / 720.0)
        self.network_view = NetworkView(config["sizes"], bias=config["bias"])
        self.loss_plot = LossPlot()
        self.loss_plot.set_loss_formula(get_loss(config["loss"]).formula)
        self.output_view = OutputView()
        self.output_view.set_network(config)
        self.output_view.set_data(dataset)
        self.phase_indicator = PhaseIndicator()
        self.inspector = Inspector()
        self.inspector.hints = False  # a frame is a picture: nothing to click or press
        self.inspector.set_config(config)
        self.caption = QLabel(title)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.caption.font()
        font.setPointSizeF(13.0 * scale)
        font.setBold(True)
        self.caption.setFont(font)
        for view in (self.network_view, self.loss_plot, self.output_view):
            view.set_font_scale(scale)
        self.phase_indicator.set_font_scale(scale)
        self.inspector.set_font_scale(scale)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.loss_plot)
        right.addWidget(self.output_view)
        right.setSizes([height // 2, height // 2])
        if walk:
            # One iteration is one point of the loss curve: the walk's frames give its room
            # to the output map and the formulas.
            self.loss_plot.hide()
        self.loss_plot.set_log_toggle_visible(False)  # a picture has nothing to tick
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.addWidget(self.network_view, 3)
        middle.addWidget(right, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        if walk:
            lay.addWidget(self.phase_indicator)
            self.caption.hide()
        else:
            lay.addWidget(self.caption)
            self.phase_indicator.hide()
        lay.addLayout(middle, 5)
        if walk:
            lay.addWidget(self.inspector, 5)
        else:
            self.inspector.hide()
        self.show()  # offscreen: lays out and polishes, nothing appears on screen
        self._settle()

    def _settle(self) -> None:
        """Deliver the posted layout and resize events (never user input)."""
        for _ in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            QCoreApplication.sendPostedEvents(None, 0)

    def show_snapshot(self, snapshot: Any, caption: str | None = None) -> None:
        """Bring every view up to date with ``snapshot`` (drawn now, not on a timer)."""
        from .views.formulas import highlight_for

        self.network_view.show_snapshot(snapshot)
        if self._walk:
            if snapshot.phase is not None:
                neurons, edges, layer = highlight_for(
                    snapshot.phase, None, self._config["sizes"], self._config["bias"]
                )
                self.network_view.set_highlight(neurons, edges, layer)
            else:
                self.network_view.clear_highlight()
            self.phase_indicator.show_snapshot(snapshot)
            self.inspector.show_snapshot(snapshot)
        self.loss_plot.show_snapshot(snapshot)
        self.loss_plot.flush()
        self.output_view.show_snapshot(snapshot)
        self.output_view.flush()
        if caption is not None:
            self.caption.setText(caption)
        self._settle()

    def render(self) -> np.ndarray:
        """The frame as an (height, width, 3) uint8 RGB array."""
        image = self.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
        if image.size() != QSize(self.width(), self.height()):
            image = image.scaled(
                self.width(),
                self.height(),
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        h, w, stride = image.height(), image.width(), image.bytesPerLine()
        rows = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
        return rows.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


# ---------------------------------------------------------------------------
# Frame sequences: (picture, how many frames it is held)
# ---------------------------------------------------------------------------

Frames = Iterator[tuple[np.ndarray, int]]


def _frame_count(options: AnimationOptions, pictures: int | None) -> int:
    if options.seconds is not None:
        return max(1, round(options.seconds * options.fps))
    if pictures is not None:
        return max(1, round(pictures * WALK_SECONDS_PER_PHASE * options.fps))
    return round(DEFAULT_TRAIN_SECONDS * options.fps)


def _caption(title: str, trainer: Any) -> str:
    """ "iteration 1,234   batch Err/N = 0.52/10 = 0.052": the last batch's Err as the
    loss plot below it draws it, per sample (see :mod:`bpviz.engine.per_sample`)."""
    from .engine.per_sample import err_text

    h = trainer.history
    err = h.batch_err
    text = f"iteration {trainer.iteration:,}"
    if len(err):
        text += "   " + err_text("batch", float(err[-1]), float(h.batch_sizes[-1]), h.mean)
    return f"{title} — {text}" if title else text


def training_frames(
    trainer: Any, renderer: FrameRenderer, options: AnimationOptions, title: str = ""
) -> tuple[int, Frames]:
    """(frame count, frames) for N training iterations, log-spaced."""
    n = _frame_count(options, None)
    schedule = training_schedule(int(options.steps or 0), n)

    def frames() -> Frames:
        from .engine import DivergenceError

        start = trainer.iteration
        k = 0
        while k < n:
            target = int(schedule[k])
            hold = 1
            while k + hold < n and schedule[k + hold] == target:
                hold += 1
            todo = start + target - trainer.iteration
            if todo > 0:
                # A diverged run shows as such (Err inf/NaN, the plot stops): no error here.
                with contextlib.suppress(DivergenceError):
                    trainer.run(todo)
            renderer.show_snapshot(trainer.snapshot(), _caption(title, trainer))
            yield renderer.render(), hold
            k += hold

    return n, frames()


def walk_frames(
    trainer: Any, renderer: FrameRenderer, options: AnimationOptions
) -> tuple[int, Frames]:
    """(frame count, frames) for the next iteration, phase by phase (the state before first)."""
    from .engine.trainer import phase_plan

    if trainer.walk_phase is not None:
        trainer.finish_walk()  # a half-walked iteration: start at phase 1 of the next
    pictures = len(phase_plan(trainer.net.n_layers)) + 1
    n = max(_frame_count(options, pictures), pictures)
    # Picture p covers frames [bounds[p], bounds[p + 1]).
    bounds = np.rint(np.linspace(0, n, pictures + 1)).astype(np.int64)

    def frames() -> Frames:
        walk = trainer.phases()
        for p in range(pictures):
            if p:
                next(walk)
            renderer.show_snapshot(trainer.snapshot())
            yield renderer.render(), int(bounds[p + 1] - bounds[p])

    return n, frames()


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------

Progress = Callable[[int, int], bool]


def _counted(frames: Frames, total: int, progress: Progress | None) -> Frames:
    done = 0
    if progress is not None and not progress(0, total):
        raise Cancelled
    for picture, hold in frames:
        yield picture, hold
        done += hold
        if progress is not None and not progress(min(done, total), total):
            raise Cancelled


def _gif_palette(first: np.ndarray) -> Any:
    """A 255-colour palette for every picture of a GIF (index 255 stays free for transparency).

    Half of it is the app's diverging map (the colours of θ, δ and ŷ, whatever
    values come later); then the views' own colours for the loss curves and
    the three stages (thin lines and small text, which a palette made from
    the pictures would miss); the rest is made from the first picture (text,
    greys, panels).
    """
    from PIL import Image, ImageColor

    from .views.formulas import palette as text_palette
    from .views.loss_plot import TEST_COLOR, TRAIN_COLOR
    from .worked.figure import diverging_lut

    p = text_palette()
    named = [TRAIN_COLOR, TEST_COLOR, p.forward, p.backward, p.update, p.muted, p.text]
    fixed = [c for name in named for c in ImageColor.getrgb(name)[:3]]
    own = Image.fromarray(first).quantize(127 - len(named), dither=Image.Dither.NONE)
    colors = list(own.getpalette() or [])[: 3 * (127 - len(named))] + fixed
    colors += [round(c * 255) for rgb in diverging_lut(128) for c in rgb]
    palette = Image.new("P", (1, 1))
    palette.putpalette(colors[: 3 * 255] + [0, 0, 0] * (256 - len(colors[: 3 * 255]) // 3))
    return palette


def _pil_frames(frames: Frames, fps: int, centiseconds: bool) -> Iterator[Any]:
    """Pillow images with their display time; GIF times are whole centiseconds, summed exactly.

    GIF pictures share one palette (:func:`_gif_palette`), so that the GIF
    stores only the pixels that changed from one picture to the next; no
    dithering, so lines and text stay clean.
    """
    from PIL import Image

    shown = 0  # frames so far
    palette = None
    for picture, hold in frames:
        start, end = shown * 1000.0 / fps, (shown + hold) * 1000.0 / fps
        shown += hold
        image = Image.fromarray(picture)
        if centiseconds:
            ms = 10 * (round(end / 10) - round(start / 10))
            if palette is None:
                palette = _gif_palette(picture)
            image = image.quantize(palette=palette, dither=Image.Dither.NONE)
        else:
            ms = end - start
        image.info["duration"] = max(ms, 10 if centiseconds else 1)
        yield image


def _write_pillow(frames: Frames, tmp: str, fps: int, gif: bool) -> None:
    images: Iterator[Any] | list[Any] = _pil_frames(frames, fps, centiseconds=gif)
    if not gif:
        # Pillow's APNG writer reads append_images twice (a check, then the frames),
        # so it gets a list: an APNG holds its pictures in memory until written.
        images = list(images)
        first, images = images[0], images[1:]
    else:
        first = next(images)  # type: ignore[call-overload]
    first.save(
        tmp,
        format="GIF" if gif else "PNG",
        save_all=True,
        append_images=images,
        loop=0,
        duration=None,  # each frame's info["duration"]
        optimize=gif,  # GIF: pixels unchanged since the previous picture are transparent
    )


def _write_mp4(frames: Frames, tmp: str, options: AnimationOptions) -> None:
    try:
        import av
    except ImportError:
        raise ValueError(PYAV_MISSING) from None
    from fractions import Fraction

    with av.open(tmp, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=Fraction(options.fps, 1))
        stream.width, stream.height = options.width, options.height
        stream.pix_fmt = "yuv420p"  # what browsers and PowerPoint play
        stream.options = {"crf": "20", "preset": "veryfast", "tune": "animation"}
        stream.codec_context.time_base = Fraction(1, options.fps)
        pts = 0
        for picture, hold in frames:
            video_frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            for _ in range(hold):
                video_frame.pts = pts
                pts += 1
                for packet in stream.encode(video_frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _file_mode(target: Path) -> int:
    """An existing file's permissions, else the umask's for a new file."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


@dataclass(frozen=True, slots=True)
class Written:
    """What :func:`write_animation` wrote."""

    path: Path
    frames: int
    pictures: int
    seconds: float
    bytes: int


def write_animation(
    trainer: Any,
    dataset: Any,
    path: str | os.PathLike,
    options: AnimationOptions,
    *,
    title: str = "",
    progress: Progress | None = None,
) -> Written:
    """Animate ``trainer`` (training or the walk) into ``path`` (.gif, .apng or .mp4).

    ``progress(done, total)`` is called after each picture with the frames
    done so far; when it returns False the export stops, :class:`Cancelled`
    is raised and no file is left. A QApplication must exist. ``trainer`` is
    advanced (N iterations, or one walked iteration).
    """
    suffix = check_output(path)
    options.check(suffix)
    config = trainer.net.config()
    renderer = FrameRenderer(
        config, dataset, options.width, options.height, options.walk, title=title
    )
    pictures = 0

    def count(frames: Frames) -> Frames:
        nonlocal pictures
        for item in frames:
            pictures += 1
            yield item

    try:
        if options.walk:
            total, frames = walk_frames(trainer, renderer, options)
        else:
            total, frames = training_frames(trainer, renderer, options, title)
        stream = count(_counted(frames, total, progress))
        target = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=suffix, dir=target.parent)
        os.close(fd)
        try:
            if suffix == ".mp4":
                _write_mp4(stream, tmp, options)
            else:
                _write_pillow(stream, tmp, options.fps, gif=suffix == ".gif")
            os.chmod(tmp, _file_mode(target))  # mkstemp made it private
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        renderer.close()
        renderer.deleteLater()
    return Written(target, total, pictures, total / options.fps, target.stat().st_size)
