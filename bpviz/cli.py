"""The command line: ``bpviz`` opens the window, ``bpviz train`` trains without one.

::

    bpviz                                   open the window
    bpviz FILE                              open the window on an experiment (.json)
                                            or on data (.csv)
    bpviz --example NAME                    open the window on a built-in example
    bpviz --help | --version
    bpviz examples                          list the built-in examples
    bpviz train EXPERIMENT.json --steps N --out DIR [--quiet]
    bpviz train --example xor4 --steps N --out DIR
    bpviz handout [EXPERIMENT.json | --example NAME] [--iteration N] [--sample K] --out FILE
    bpviz animate [EXPERIMENT.json | --example NAME] (--steps N | --walk) --out FILE
                  [--size 1280x720] [--fps 30] [--seconds S]
    bpviz exercises [EXPERIMENT.json | --example NAME] --count N --seed S --out DIR

``train`` loads an experiment file (or a built-in example), trains it with
the engine for N iterations and writes into DIR (created if needed):
``loss.csv`` (every iteration's Err with its N and Err/N, see
:func:`bpviz.export.export_csv`),
``loss.png``, ``loss.svg`` and ``experiment.json`` (the trained experiment,
loadable in the window). Qt is imported only to draw the plot, on the
offscreen platform unless ``QT_QPA_PLATFORM`` says otherwise.

``handout`` writes one iteration of an experiment worked out by hand, every
equation with its numbers, as Markdown, LaTeX, HTML or PDF (the suffix of
FILE says which); see :mod:`bpviz.worked.handout`.

Exit codes: 0 success; 1 an output could not be written; 2 bad input (usage,
an unreadable or invalid experiment file), with one line
``bpviz: error: ...`` on stderr; 3 training diverged (the outputs of the last
finite state are still written); 130 interrupted (Ctrl+C; outputs written).

A first argument that is not a command name is the file to open: a file
literally called ``train`` (or ``examples``) is opened with ``bpviz ./train``
or ``bpviz -- train``. The file is checked before any window appears: a
missing, unreadable or damaged one exits with code 2 and one line naming the
file and the reason.

Contract with :mod:`bpviz.app`: ``main(argv)`` returns ``None`` when there
is no command and nothing to open (open the window), an :class:`OpenFile`
when the window is to open a file, else the process exit code.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import __version__

__all__ = [
    "EXIT_DIVERGED",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "OpenFile",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_DIVERGED = 3
EXIT_INTERRUPTED = 130

#: Largest --steps accepted.
MAX_STEPS = 10**9
#: Largest exported image side, pixels.
MAX_IMAGE_SIDE = 16384


@dataclass(frozen=True)
class OpenFile:
    """What ``main`` returns for ``bpviz FILE`` / ``--example``: open the window on ``path``."""

    path: str


class _UsageError(Exception):
    """Bad command-line arguments (argparse's error, without its exit)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise _UsageError(message)


def _error(message: str, stream: TextIO | None = None) -> None:
    """Write ``bpviz: error: message`` as one line."""
    text = " ".join(str(message).split())
    print(f"bpviz: error: {text}", file=stream or sys.stderr)


def _whole_number(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to MAX_STEPS."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= n <= MAX_STEPS:
            raise argparse.ArgumentTypeError(
                f"expected a number from {low} to {MAX_STEPS:_}, got {n}"
            )
        return n

    return parse


_count = _whole_number(0)
_positive = _whole_number(1)


def _side(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 16 <= n <= MAX_IMAGE_SIDE:
        raise argparse.ArgumentTypeError(
            f"expected a size from 16 to {MAX_IMAGE_SIDE} pixels, got {n}"
        )
    return n


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (errors raise instead of exiting)."""
    parser = _Parser(
        prog="bpviz",
        usage="%(prog)s [-h] [--version] [FILE | --example NAME]\n       %(prog)s COMMAND ...",
        description="Watch backpropagation learn, phase by phase. "
        "Without a command, bpviz opens its window: on FILE (an experiment .json "
        "or a data .csv file), on a built-in example (--example NAME, see 'bpviz "
        "examples') or on the last session's settings. A file called like a "
        "command opens with 'bpviz ./train'.",
        epilog="Exit codes: 0 ok, 1 output not written, 2 bad input, 3 training diverged.",
    )
    parser.add_argument("--version", action="version", version=f"bpviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="bpviz")

    train = sub.add_parser(
        "train",
        help="train an experiment without a window and export its loss",
        description="Train an experiment without a window; write loss.csv, loss.png, "
        "loss.svg and the trained experiment.json into DIR.",
    )
    _add_source_arguments(train)
    train.add_argument(
        "--steps", type=_count, required=True, metavar="N", help="iterations to train"
    )
    train.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (created if needed)"
    )
    train.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    train.add_argument(
        "--width", type=_side, default=800, metavar="PX", help="loss.png width (800)"
    )
    train.add_argument(
        "--height", type=_side, default=500, metavar="PX", help="loss.png height (500)"
    )
    train.set_defaults(func=_cmd_train)

    examples = sub.add_parser("examples", help="list the built-in examples")
    examples.set_defaults(func=_cmd_examples)
    _add_handout_parser(sub)
    _add_animate_parser(sub)
    _add_exercises_parser(sub)
    _add_compare_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int | OpenFile | None:
    """Run the command line.

    Returns
    -------
    int, OpenFile or None
        The exit code; or None when no command was given, or an
        :class:`OpenFile` naming a checked file: the caller then opens the
        window (on that file).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        return None
    parser = build_parser()
    if args_list[0] not in [*_command_names(parser), "-h", "--help", "--version"]:
        return _open_window_on(args_list)
    try:
        args = parser.parse_args(args_list)
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz --help')")
        return EXIT_USAGE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if args.command is None:
        return None
    return int(args.func(args))


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The subcommands' names (``train``, ``examples``, …), in the parser's order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _open_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bpviz", add_help=False)
    parser.add_argument("file", nargs="?", metavar="FILE")
    parser.add_argument("--example", metavar="NAME")
    return parser


def _open_window_on(args_list: list[str]) -> int | OpenFile | None:
    """``bpviz FILE`` or ``bpviz --example NAME``: the file checked, or exit code 2."""
    from .files import OpenError, check_file

    try:
        args = _open_parser().parse_args(args_list)
        if args.file is not None and args.example is not None:
            raise _UsageError("give either FILE or --example NAME, not both")
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz --help')")
        return EXIT_USAGE
    if args.example is not None:
        try:
            return OpenFile(str(_example_path(args.example)))
        except _UsageError as exc:
            _error(exc)
            return EXIT_USAGE
    if args.file is None:
        return None
    if not os.path.lexists(args.file) and not Path(args.file).suffix and os.sep not in args.file:
        # A bare word: more likely a mistyped command than a missing file.
        choices = ", ".join(repr(c) for c in _command_names(build_parser()))
        _error(
            f"invalid choice: {args.file!r} is neither a command (choose from {choices}) "
            "nor a file (see 'bpviz --help')"
        )
        return EXIT_USAGE
    try:
        check_file(args.file)
    except OpenError as exc:
        _error(exc)
        return EXIT_USAGE
    return OpenFile(os.path.abspath(args.file))


# ---------------------------------------------------------------------------
# bpviz examples
# ---------------------------------------------------------------------------


def _cmd_examples(args: argparse.Namespace) -> int:
    from .examples import example_paths, example_titles

    titles = example_titles()
    if not titles:
        _error("the built-in examples are missing from this installation")
        return EXIT_FAILED
    width = max(len(n) for n in titles)
    for name in example_paths():
        print(f"{name:<{width}}  {titles[name]}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# bpviz train
# ---------------------------------------------------------------------------


class Progress:
    """A one-line text progress bar on a terminal, redrawn at most 10 times a second.

    It appears only after half a second (short runs stay silent) and only
    when ``enabled`` (the command enables it for a TTY without --quiet).
    """

    def __init__(self, total: int, stream: TextIO, enabled: bool, width: int = 24) -> None:
        self.total = max(1, total)
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self.start = time.monotonic()
        self.last = -math.inf
        self.shown = False
        self.drawn = 0

    def update(self, done: int, err: float, n: float = 1, mean: bool = False) -> None:
        """Redraw if it is time to (and always at the end, once shown).

        ``err`` is the last batch's Err, a sum over its ``n`` samples: shown per
        sample, as the loss plot draws it ("Err/N 0.05213"; "Err" when N is 1 or
        the loss is a mean already).
        """
        if not self.enabled:
            return
        now = time.monotonic()
        final = done >= self.total and self.shown
        if not final and (now - self.start < 0.5 or now - self.last < 0.1):
            return
        self.last = now
        frac = min(1.0, done / self.total)
        filled = round(frac * self.width)
        rate = done / max(now - self.start, 1e-9)
        bar = "#" * filled + "-" * (self.width - filled)
        from .engine.per_sample import per_sample

        shown = "Err" if mean or n == 1 else "Err/N"
        line = (
            f"training [{bar}] {100 * frac:3.0f}% {done}/{self.total} "
            f"{rate:,.0f} it/s  {shown} {per_sample(err, n, mean):.4g}"
        )
        self.drawn = max(self.drawn, len(line))
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """End the bar's line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


def _train(trainer: Any, steps: int, progress: Progress) -> tuple[int, str | None, bool]:
    """Run ``steps`` iterations in chunks of about 50 ms.

    Ctrl+C stops the run between two chunks (never inside an iteration, so
    θ, counters and history stay consistent); a second Ctrl+C aborts.
    Returns the iterations done, the divergence message (or None) and
    whether Ctrl+C stopped the run.
    """
    from .engine import DivergenceError

    stop = []

    def on_sigint(signum: int, frame: Any) -> None:
        stop.append(True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: no graceful stop
        previous = None
    try:
        start = trainer.iteration
        chunk = 16
        err = math.nan
        while trainer.iteration - start < steps:
            if stop:
                return trainer.iteration - start, None, True
            n = min(chunk, steps - (trainer.iteration - start))
            t0 = time.perf_counter()
            try:
                err = trainer.run(n)
            except DivergenceError as exc:
                return trainer.iteration - start, str(exc), False
            dt = time.perf_counter() - t0
            chunk = max(1, min(100_000, int(n * 0.05 / max(dt, 1e-6))))
            progress.update(trainer.iteration - start, err, *_last_batch(trainer))
        return trainer.iteration - start, None, bool(stop)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _last_batch(trainer: Any) -> tuple[float, bool]:
    """N of the last batch Err and whether the loss is a mean already (1, False if unknown)."""
    h = getattr(trainer, "history", None)
    sizes = getattr(h, "batch_sizes", ())
    return (float(sizes[-1]) if len(sizes) else 1.0), bool(getattr(h, "mean", False))


def _quiet_qt_messages() -> None:
    """Drop the offscreen platform's harmless "propagateSizeHints" notice."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: Any, message: str) -> None:
        if "propagateSizeHints" in message or kind == QtMsgType.QtDebugMsg:
            return
        print(f"bpviz: qt: {' '.join(message.split())}", file=sys.stderr)

    qInstallMessageHandler(handler)


def _qt_app(widgets: bool) -> Any:
    """The running application, else a new one (a QApplication if ``widgets``, else a
    QGuiApplication) on the offscreen platform unless ``QT_QPA_PLATFORM`` says otherwise."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
    if widgets:
        from PySide6.QtWidgets import QApplication as App
    else:
        from PySide6.QtGui import QGuiApplication as App
    _quiet_qt_messages()
    return App.instance() or App(["bpviz"])


def _reason(exc: BaseException) -> str:
    """Why an output could not be written, on one line."""
    return " ".join(str(getattr(exc, "strerror", None) or exc).split()) or type(exc).__name__


def _export_plots(history: Any, out: Path, width: int, height: int, title: str) -> list[str]:
    """Draw the loss plot offscreen and write loss.png and loss.svg."""
    app = _qt_app(widgets=True)
    from . import export

    plot = export.make_loss_plot(history, width, height, title)
    try:
        plot.show()
        app.processEvents()
        export.export_png(plot.getPlotItem(), out / "loss.png", width, height)
        export.export_svg(plot.getPlotItem(), out / "loss.svg")
    finally:
        plot.close()
        plot.deleteLater()
        app.processEvents()
    return ["loss.png", "loss.svg"]


def _example_path(name: str) -> Path:
    """The file of the built-in example ``name``; _UsageError naming the choices if none."""
    from .examples import example_paths

    paths = example_paths()
    if name not in paths:
        names = ", ".join(paths) or "none installed"
        raise _UsageError(f"unknown example {name!r}; choose one of {names}")
    return paths[name]


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """The experiment a command works on: ``EXPERIMENT.json`` or ``--example NAME``."""
    parser.add_argument(
        "experiment", nargs="?", metavar="EXPERIMENT.json", help="an experiment file"
    )
    parser.add_argument(
        "--example", metavar="NAME", help="a built-in example instead of a file (see 'examples')"
    )


def _load(args: argparse.Namespace, command: str) -> tuple[Any, str]:
    """The experiment named on the command line and its name (the example's, else the
    file's stem); _UsageError unless exactly one of EXPERIMENT.json and --example is given."""
    from .engine.experiment_io import load_experiment

    if (args.experiment is None) == (args.example is None):
        raise _UsageError(f"{command} needs either EXPERIMENT.json or --example NAME (not both)")
    if args.example is not None:
        return load_experiment(_example_path(args.example)), args.example
    return load_experiment(args.experiment), Path(args.experiment).stem


def _make_out_dir(out: Path) -> bool:
    """Create the output directory ``out`` if needed; False, with the reason said, if not."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _error(f"{out}: cannot create the output directory ({exc.strerror or exc})")
        return False
    return True


def _cmd_train(args: argparse.Namespace) -> int:
    from .engine.experiment_io import ExperimentError, restore_trainer, save_experiment

    try:
        experiment, name = _load(args, "train")
        title = args.example or experiment.title or name  # an example's plot is titled by name
        trainer, dataset = restore_trainer(experiment)
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz train --help')")
        return EXIT_USAGE
    except ExperimentError as exc:
        _error(exc)
        return EXIT_USAGE
    out = Path(args.out)
    if not _make_out_dir(out):
        return EXIT_USAGE

    progress = Progress(args.steps, sys.stderr, enabled=not args.quiet and sys.stderr.isatty())
    try:
        done, diverged, interrupted = _train(trainer, args.steps, progress)
    finally:
        progress.close()

    # Each output on its own: one that cannot be written does not stop the others.
    written: list[str] = []
    failed: list[str] = []

    def attempt(names: Sequence[str], write: Any) -> None:
        try:
            write()
        except Exception as exc:  # any failure of one output is reported, then the next
            failed.append(f"{' and '.join(names)} ({_reason(exc)})")
        else:
            written.extend(names)

    attempt(
        ["experiment.json"],
        lambda: save_experiment(
            out / "experiment.json",
            experiment.setup,
            trainer,
            dataset,
            title=experiment.title,
            comparisons=experiment.comparisons,  # its kept runs stay with it
        ),
    )
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import

    def write_csv() -> None:
        from .export import export_csv

        export_csv(trainer.history, out / "loss.csv")

    attempt(["loss.csv"], write_csv)
    attempt(
        ["loss.png", "loss.svg"],
        lambda: _export_plots(trainer.history, out, args.width, args.height, title),
    )
    if failed:
        done_text = f"wrote {', '.join(written)}" if written else "wrote nothing"
        _error(f"{out}: cannot write {'; '.join(failed)}; {done_text}")
        return EXIT_FAILED

    if diverged is not None:
        print(f"bpviz: {' '.join(diverged.split())}", file=sys.stderr)
    if interrupted:
        print(f"bpviz: interrupted after {done} iterations", file=sys.stderr)
    if not args.quiet:
        from .engine.per_sample import err_text

        train_err, test_err = trainer.evaluate()
        mean = trainer.net.loss.mean

        def g6(x: float) -> str:
            return f"{x:.6g}"

        # The engine's Err over its N and per sample, as the loss plot and the CSV give it.
        errs = err_text("training", train_err, trainer.n_train, mean, g6)
        if not math.isnan(test_err):
            errs += ", " + err_text("test", test_err, trainer.n_test, mean, g6)
        print(
            f"bpviz: trained {done} iterations (now at {trainer.iteration}); {errs}; "
            f"wrote {', '.join(written)} to {out}"
        )
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_DIVERGED if diverged is not None else EXIT_OK


# ---------------------------------------------------------------------------
# bpviz handout
# ---------------------------------------------------------------------------


def _add_handout_parser(sub: Any) -> None:
    handout = sub.add_parser(
        "handout",
        help="write one iteration worked out by hand (Markdown, LaTeX, HTML or PDF)",
        description="Walk the next iteration of an experiment (or iteration N) and write "
        "every equation of it with its numbers: setup, network, θ before, forward pass, "
        "Err, every δ, every gradient and update, θ after. The format follows the suffix "
        "of FILE: .md (with FILE-network.svg beside it), .tex, .html or .pdf.",
    )
    _add_source_arguments(handout)
    handout.add_argument(
        "--iteration",
        type=_positive,
        metavar="N",
        help="which iteration to write, counted from the start (default: the next one)",
    )
    handout.add_argument(
        "--sample",
        type=_positive,
        metavar="K",
        help="write sample K of the batch out in full (default: every sample of a batch "
        "of up to 4, else the first)",
    )
    handout.add_argument(
        "--out", required=True, metavar="FILE", help="the handout: .md, .tex, .html or .pdf"
    )
    handout.set_defaults(func=_cmd_handout)


def _cmd_handout(args: argparse.Namespace) -> int:
    from .engine import DivergenceError
    from .engine.experiment_io import ExperimentError, restore_trainer
    from .worked import handout

    out = Path(args.out)
    try:
        suffix = handout.check_suffix(out)
        experiment, name = _load(args, "handout")
        title = experiment.title or name
        folder = out.parent
        if not folder.is_dir():
            raise _UsageError(f"{folder}: no such folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise _UsageError(f"{folder}: the folder is not writable")
        trainer, _ = restore_trainer(experiment)
        doc = handout.make(trainer, iteration=args.iteration, sample=args.sample, title=title)
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz handout --help')")
        return EXIT_USAGE
    except (ExperimentError, ValueError) as exc:
        _error(exc)
        return EXIT_USAGE
    except DivergenceError as exc:
        _error(f"training diverged before the iteration to write ({exc})")
        return EXIT_DIVERGED
    try:
        if suffix == ".pdf":
            _app = _qt_app(widgets=False)
        written = handout.write(doc, out)
    except OSError as exc:
        _error(f"{out}: cannot write the handout ({exc.strerror or exc})")
        return EXIT_USAGE
    print(f"bpviz: wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# bpviz animate
# ---------------------------------------------------------------------------


def _add_animate_parser(sub: Any) -> None:
    animate = sub.add_parser(
        "animate",
        help="write an animation of training or of one iteration's walk (GIF, APNG, MP4)",
        description="Animate an experiment for slides, drawn offscreen by the app's own views: "
        "--steps N trains N iterations (frames log-spaced over them, so early learning is "
        "visible); --walk walks the next iteration phase by phase with its formulas. The "
        "format follows the suffix of FILE: .gif, .apng or .mp4 (H.264; needs PyAV: "
        "pip install 'bpviz[video]').",
    )
    _add_source_arguments(animate)
    what = animate.add_mutually_exclusive_group(required=True)
    what.add_argument("--steps", type=_positive, metavar="N", help="animate N iterations")
    what.add_argument("--walk", action="store_true", help="animate the next iteration's phases")
    animate.add_argument("--out", required=True, metavar="FILE", help=".gif, .apng or .mp4")
    animate.add_argument(
        "--size", default="1280x720", metavar="WxH", help="frame size in pixels (1280x720)"
    )
    animate.add_argument("--fps", type=_positive, default=30, metavar="N", help="frames/s (30)")
    animate.add_argument(
        "--seconds",
        type=float,
        metavar="S",
        help="length (default: 10 for training, 1 per phase for the walk)",
    )
    animate.add_argument("--quiet", "-q", action="store_true", help="no progress line")
    animate.set_defaults(func=_cmd_animate)


def _cmd_animate(args: argparse.Namespace) -> int:
    from .engine.experiment_io import ExperimentError, restore_trainer

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
    try:
        from .animation import AnimationOptions, check_output, parse_size

        width, height = parse_size(args.size)
        options = AnimationOptions(
            steps=args.steps,
            walk=args.walk,
            width=width,
            height=height,
            fps=args.fps,
            seconds=args.seconds,
        )
        suffix = check_output(args.out)
        options.check(suffix)
        experiment, name = _load(args, "animate")
        title = args.example or experiment.title or name
        trainer, dataset = restore_trainer(experiment)
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz animate --help')")
        return EXIT_USAGE
    except (ExperimentError, ValueError) as exc:
        _error(exc)
        return EXIT_USAGE
    _app = _qt_app(widgets=True)
    from .animation import Cancelled, write_animation

    line = FrameProgress(sys.stderr, enabled=not args.quiet and sys.stderr.isatty())
    try:
        written = write_animation(
            trainer, dataset, args.out, options, title=title, progress=line.update
        )
    except Cancelled:  # pragma: no cover - the command line's callback never cancels
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        line.close()
        print("bpviz: interrupted; no file written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        line.close()
        _error(f"{args.out}: cannot write the animation ({exc.strerror or exc})")
        return EXIT_FAILED
    line.close()
    if not args.quiet:
        print(
            f"bpviz: wrote {written.path} ({written.frames} frames, {written.seconds:g} s, "
            f"{written.bytes / 1e3:,.0f} kB)"
        )
    return EXIT_OK


class FrameProgress:
    """The animation's one-line progress on a terminal: ``animating [###---] 45% 135/300``."""

    def __init__(self, stream: TextIO, enabled: bool, width: int = 24) -> None:
        self.stream = stream
        self.enabled = enabled
        self.width = width
        self.start = time.monotonic()
        self.shown = False

    def update(self, done: int, total: int) -> bool:
        """Redraw the line; always True (the command line is stopped by Ctrl+C)."""
        if self.enabled:
            frac = done / max(total, 1)
            filled = round(frac * self.width)
            elapsed = time.monotonic() - self.start
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(
                f"\ranimating [{bar}] {100 * frac:3.0f}% frame {done}/{total}  {elapsed:.0f} s"
            )
            self.stream.flush()
            self.shown = True
        return True

    def close(self) -> None:
        """End the line."""
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


# ---------------------------------------------------------------------------
# bpviz exercises
# ---------------------------------------------------------------------------


def _add_exercises_parser(sub: Any) -> None:
    ex = sub.add_parser(
        "exercises",
        help="write N individual exercise sheets with answer keys (one architecture)",
        description="Write N exercise sheets of the experiment's architecture, each with its "
        "own round numbers: sheet-NN.<fmt> (the network, its θ, the sample and the "
        "quantities to compute, with blanks), key-NN.<fmt> (the whole worked iteration) "
        "and sheet-NN.json (the experiment: open it in bpviz and step, or quiz). "
        "The same --seed gives the same files, byte for byte.",
    )
    _add_source_arguments(ex)
    ex.add_argument("--count", type=_positive, default=1, metavar="N", help="how many sheets")
    ex.add_argument("--seed", type=_count, default=0, metavar="S", help="seed of the numbers")
    ex.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    ex.add_argument(
        "--format", default="pdf", choices=("pdf", "md", "tex", "html"), help="default: pdf"
    )
    ex.set_defaults(func=_cmd_exercises)


def _cmd_exercises(args: argparse.Namespace) -> int:
    from .engine.experiment_io import ExperimentError
    from .worked import sheets

    out = Path(args.out)
    try:
        experiment, _ = _load(args, "exercises")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _UsageError(f"{out}: cannot make the folder ({exc.strerror or exc})") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise _UsageError(f"{out}: the folder is not writable")
    except _UsageError as exc:
        _error(f"{exc} (see 'bpviz exercises --help')")
        return EXIT_USAGE
    except (ExperimentError, ValueError) as exc:
        _error(exc)
        return EXIT_USAGE
    if args.format == "pdf":
        _app = _qt_app(widgets=False)

    def progress(done: int, total: int) -> None:
        if total > 1:
            print(f"bpviz: sheet {done} of {total} written", file=sys.stderr, flush=True)

    try:
        sheets.write_sheets(
            experiment.setup,
            out,
            args.count,
            seed=args.seed,
            fmt_=args.format,
            sizes=tuple(experiment.sizes),
            progress=progress,
        )
    except ValueError as exc:
        _error(exc)
        return EXIT_USAGE
    except OSError as exc:
        _error(f"{out}: cannot write the sheets ({exc.strerror or exc})")
        return EXIT_USAGE
    print(f"bpviz: wrote {args.count} sheets with keys to {out}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# bpviz compare
# ---------------------------------------------------------------------------

#: Okabe–Ito colours, one per compared run (colour-blind safe), then repeated.
COMPARE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _add_compare_parser(sub: Any) -> None:
    cmp_ = sub.add_parser(
        "compare",
        help="train several experiments and overlay their Err and ‖δ‖ (for slides)",
        description="Train each experiment from its file for N iterations; write "
        "compare_loss.png/.svg (Err on the training set), compare_delta.png/.svg (RMS of δ "
        "per layer, log scale) and compare.csv (one column per run, labelled by what "
        "differs between the runs) into DIR.",
    )
    cmp_.add_argument(
        "experiments", nargs="+", metavar="EXPERIMENT.json", help="two or more experiment files"
    )
    cmp_.add_argument("--steps", type=_count, required=True, metavar="N", help="iterations")
    cmp_.add_argument(
        "--out", required=True, metavar="DIR", help="output directory (created if needed)"
    )
    cmp_.add_argument(
        "--points",
        type=_count,
        default=200,
        metavar="K",
        help="measurements per run, evenly spaced (200)",
    )
    cmp_.add_argument("--quiet", "-q", action="store_true", help="no summary")
    cmp_.add_argument("--width", type=_side, default=900, metavar="PX", help="PNG width (900)")
    cmp_.add_argument("--height", type=_side, default=540, metavar="PX", help="PNG height (540)")
    cmp_.set_defaults(func=_cmd_compare)


def _compare_plot(width: int, height: int, title: str, left: str, log_y: bool, n_runs: int) -> Any:
    """A white figure whose legend sits under the plot, one column per run, covering no data."""
    from .export import white_plot
    from .views.colors import legend_under_plot

    plot = white_plot(width, height, left, si_prefix=False)
    item = plot.getPlotItem()
    item.setTitle(title, color="k", size="13pt")
    item.showGrid(x=True, y=True, alpha=0.2)
    item.setLogMode(y=log_y)
    # Outside the view box: the curves of a comparison fill every corner of it
    # (sigmoid's output ‖δ‖ runs along the top, exactly where a corner legend sat).
    legend_under_plot(item, min(n_runs, 4), labelTextColor="k", labelTextSize="11pt", frame=False)
    return plot


def _compare_figures(runs: list[Any], labels: list[str], args: Any) -> tuple[Any, Any]:
    """The overlaid Err plot and ‖δ‖ plot (PlotWidgets, not shown)."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    from .engine.per_sample import axis_label, n_text

    n = len(runs)
    # Per sample, as the window draws it: runs on different numbers of samples compare.
    all_one = all(run.n == 1 for run in runs)
    mean = all(run.mean for run in runs)
    title = "Err on the training set" if all_one or mean else "Err per sample on the training set"
    # Each run's N: in the title when they share one, else beside each run's name.
    counts = {run.n for run in runs}
    if len(counts) == 1:
        title += f" ({n_text(counts.pop())})"
    loss = _compare_plot(args.width, args.height, title, axis_label(all_one, mean), False, n)
    delta = _compare_plot(
        args.width,
        args.height,
        "‖δ‖ per layer (dashed: first hidden layer, thick: output)",
        "RMS of δ in layer l",
        True,
        n,
    )
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        colour = COMPARE_COLOURS[i % len(COMPARE_COLOURS)]
        loss.plot(
            run.iterations,
            run.per_sample(),
            pen=pg.mkPen(colour, width=3),
            name=label if len({r.n for r in runs}) == 1 else f"{label}, {n_text(run.n)}",
            connect="finite",
        )
        n_layers = run.delta.shape[0]
        for l in range(n_layers):
            y = np.where(run.delta[l] > 0, run.delta[l], np.nan)
            if l == n_layers - 1:
                pen = pg.mkPen(colour, width=3.5)
            elif l == 0:
                pen = pg.mkPen(colour, width=2.5, style=Qt.PenStyle.DashLine)
            else:
                pen = pg.mkPen(colour, width=1.2)
            loss_name = label if l == n_layers - 1 else None
            delta.plot(run.iterations, y, pen=pen, name=loss_name, connect="finite")
    return loss, delta


def _write_compare_plots(runs: list[Any], labels: list[str], out: Path, args: Any) -> list[str]:
    """compare_loss.png/.svg and compare_delta.png/.svg through bpviz.export."""
    app = _qt_app(widgets=True)

    from . import export

    written = []
    loss, delta = _compare_figures(runs, labels, args)
    for plot, stem in ((loss, "compare_loss"), (delta, "compare_delta")):
        try:
            plot.show()
            app.processEvents()
            export.export_png(plot.getPlotItem(), out / f"{stem}.png", args.width, args.height)
            export.export_svg(plot.getPlotItem(), out / f"{stem}.svg")
            written += [f"{stem}.png", f"{stem}.svg"]
        finally:
            plot.close()
            plot.deleteLater()
            app.processEvents()
    return written


def _compare_csv(runs: list[Any], labels: list[str]) -> str:
    """One row per measured iteration: per run the engine's ``Err sum [label]`` on the
    training set, its ``N [label]`` and ``Err per sample [label]`` (what the figure draws),
    then ``‖δ_l‖ [label]``. A loss that is a mean already has ``Err mean`` columns."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    pairs = list(zip(runs, labels, strict=True))
    head = ["iteration"] + [f"Err {'mean' if r.mean else 'sum'} [{lab}]" for r, lab in pairs]
    head += [f"N [{lab}]" for lab in labels] + [f"Err per sample [{lab}]" for lab in labels]
    for run, lab in pairs:
        head += [f"delta layer {l + 1} [{lab}]" for l in range(run.delta.shape[0])]
    w.writerow(head)
    each = [r.per_sample() for r in runs]
    for j, it in enumerate(runs[0].iterations):
        row = [f"{int(it)}"] + [repr(float(r.err[j])) for r in runs]
        row += [str(int(r.n)) for r in runs] + [repr(float(e[j])) for e in each]
        for r in runs:
            row += [repr(float(v)) for v in r.delta[:, j]]
        w.writerow(row)
    return buf.getvalue()


def _cmd_compare(args: argparse.Namespace) -> int:
    import numpy as np

    from .engine.compare import record_run, run_labels
    from .engine.experiment_io import (
        ExperimentError,
        atomic_write_bytes,
        load_experiment,
        restore_trainer,
    )
    from .engine.per_sample import err_text

    if len(args.experiments) < 2:
        _error("compare needs at least two experiment files (see 'bpviz compare --help')")
        return EXIT_USAGE
    loaded = []
    try:
        for path in args.experiments:
            experiment = load_experiment(path)
            trainer, dataset = restore_trainer(experiment)
            loaded.append((experiment, trainer, dataset))
    except ExperimentError as exc:
        _error(exc)
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        _error(f"{path}: {exc}")
        return EXIT_USAGE
    out = Path(args.out)
    if not _make_out_dir(out):
        return EXIT_USAGE
    labels = run_labels([e.setup for e, _, _ in loaded])
    if labels[0] == "run 1":  # the same settings: name the files instead
        labels = [Path(p).stem for p in args.experiments]
    runs = [record_run(tr, ds.X_train, ds.Y_train, args.steps, args.points) for _, tr, ds in loaded]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
    try:
        atomic_write_bytes(out / "compare.csv", _compare_csv(runs, labels).encode("utf-8"))
        written = ["compare.csv", *_write_compare_plots(runs, labels, out, args)]
    except Exception as exc:  # reported in one sentence
        _error(f"{out}: cannot write the comparison ({_reason(exc)})")
        return EXIT_FAILED
    for lab, run in zip(labels, runs, strict=True):
        if run.diverged is not None:
            print(f"bpviz: {lab}: {' '.join(run.diverged.split())}", file=sys.stderr)
    if not args.quiet:
        ends = "; ".join(
            f"{lab}: {err_text('training', run.err[np.isfinite(run.err)][-1], run.n, run.mean)}"
            if np.isfinite(run.err).any()
            else f"{lab}: diverged"
            for lab, run in zip(labels, runs, strict=True)
        )
        print(
            f"bpviz: compared {len(runs)} runs over {args.steps} iterations ({ends}); "
            f"wrote {', '.join(written)} to {out}"
        )
    return EXIT_OK


if __name__ == "__main__":  # python -m bpviz.cli: the same as the bpviz command
    from .app import main as run

    sys.exit(run())
