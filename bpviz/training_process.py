"""The training side's process: it owns the Trainer; no Qt is imported here.

The window's :class:`~bpviz.worker.TrainingWorker` starts :func:`serve` in a
process of its own (``multiprocessing``, spawn start method) and talks to it
over one duplex pipe:

- commands go in as tuples ``(name, *args)``, handled strictly in order
  between training ticks (``play``, ``step_phase``, ``configure`` …: the
  public methods of :class:`TrainingLoop`);
- reports come out as tuples ``(kind, payload)``: ``snapshot`` (an immutable
  :class:`~bpviz.engine.Snapshot`, at most about 60 a second while playing),
  ``playing``, ``rebuilt``, ``diverged``, ``failed``, ``gradcheck``,
  ``setup_changed``, ``saved``, ``progress`` (a :class:`Progress` while an
  experiment is read and built, None when that is over) and ``sync`` (the
  answer to a barrier).

Because the arithmetic runs in another interpreter, nothing the window paints
can hold it up: the GUI's Python and this one never wait for the same GIL.
The process ends when told to (``stop``), and by itself when the window's
process is gone (its end of the pipe closes: end of file), so no training
process outlives the app, even one killed with SIGKILL.
"""

from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.popen_forkserver
import multiprocessing.spawn
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .engine import DivergenceError, Snapshot, gradient_check
from .engine.compare import KeptRun
from .engine.datasets import Dataset, DatasetError
from .engine.experiment import Setup, build, load_dataset
from .engine.experiment_io import (
    ExperimentError,
    load_experiment,
    restore_trainer,
    save_experiment,
)
from .engine.loss_csv import export_csv
from .engine.trainer import Trainer

__all__ = [
    "COMMANDS",
    "Progress",
    "Rebuilt",
    "TrainingLoop",
    "TrainingProcess",
    "serve",
    "start_fork_server",
    "training_context",
]

#: Seconds of training per tick at full speed.
TICK_SECONDS = 0.010
#: Shortest time between two snapshots while playing (about 60 per second).
SNAPSHOT_INTERVAL = 1 / 60
#: Seconds between ticks while playing at a set pace.
PACE_TICK_SECONDS = 0.010

#: Settings that apply live, from the next iteration on (no rebuild).
LIVE_SETTINGS = frozenset({"lr", "momentum", "l1", "l2", "clip_value", "clip_norm", "batch_size"})


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """Sent after the trainer was (re)built: what the views must know.

    ``comparisons``: the runs kept for comparison in an opened experiment file
    (empty otherwise).
    """

    setup: Setup
    config: dict[str, Any]
    dataset: Dataset
    comparisons: tuple[KeptRun, ...] = ()


@dataclass(frozen=True, slots=True)
class Progress:
    """Sent while an experiment is read and built: which stage is under way.

    ``step`` of ``total`` stages has begun (1-based); ``text`` says what it
    does, e.g. "generating the spiral data (1,000,000 samples)". A report
    of ``None`` follows when the work is over, whether it succeeded or not.
    """

    step: int
    total: int
    text: str
    #: The file being opened, if any (its name goes in the window's message).
    file: str | None = None


Send = Callable[[str, Any], None]


def _data_text(setup: Setup) -> str:
    if setup.dataset == "csv":
        return f"reading the data from {Path(setup.csv_path or '').name}"
    return f"generating the {setup.dataset} data ({setup.n_samples:,} samples)"


def _build_text(setup: Setup, n_in: int, n_out: int, n_samples: int) -> str:
    sizes = "-".join(str(n) for n in (n_in, *setup.hidden, n_out))
    return f"building {sizes}, first forward pass over {n_samples:,} samples"


SENDING_TEXT = "handing the network and data to the window"


class TrainingLoop:
    """The training side's state and commands, free of Qt, threads and pipes.

    ``send(kind, payload)`` receives every report. :func:`serve` feeds the
    commands and calls :meth:`tick` while playing; tests drive it directly.

    ``clock`` gives the time in seconds (:func:`time.perf_counter` by default);
    the pace, the tick's length and the snapshot rate all follow it. The loop
    never sleeps: :meth:`wait_time` says how long :func:`serve` may wait for a
    command before the next :meth:`tick`, so a test with a fake clock advances
    it by that much instead of waiting.
    """

    def __init__(self, send: Send, clock: Callable[[], float] = time.perf_counter) -> None:
        self._send = send
        self._clock = clock
        self._setup = Setup()
        self._trainer: Trainer | None = None
        self._dataset: Dataset | None = None
        self.playing = False
        self.stopped = False
        self._pace = 0.0  # iterations per second; 0 = as fast as possible
        self._pace_t0 = 0.0
        self._pace_done = 0
        self._last_emit = 0.0
        self._chunk = 1

    # -- life cycle ---------------------------------------------------------

    def start(self, setup: Setup) -> None:
        """Build the first trainer (the default setup if ``setup`` fails)."""
        if not self._rebuild(setup):
            self._rebuild(Setup())

    def stop(self) -> None:
        """Stop for good; :func:`serve` returns after this command."""
        self._set_playing(False)
        self.stopped = True

    # -- commands -----------------------------------------------------------

    def play(self) -> None:
        """Start training continuously."""
        if self._trainer is not None:
            self._set_playing(True)

    def pause(self) -> None:
        """Stop training; the last snapshot carries every loss so far."""
        if self.playing:
            self._set_playing(False)
            self._emit()

    def toggle(self) -> None:
        """Play if paused, pause if playing."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        """Pause, then run exactly one iteration (finishing a half-walked one)."""
        self.pause()
        self._guarded(self._trainer.step)
        self._emit()

    def step_phase(self) -> None:
        """Pause, then compute exactly one phase of the current iteration."""
        self.pause()
        self._guarded(self._trainer.step_phase)
        self._emit()

    def step_back(self) -> None:
        """Pause, then undo the last phase or iteration (bit for bit)."""
        self.pause()
        self._guarded(self._trainer.step_back)
        self._emit()

    def reset(self) -> None:
        """Pause and go back to the initial weights, iteration 0 (live settings stay)."""
        self.pause()
        self._guarded(self._trainer.reset)
        self._emit()

    def set_pace(self, iterations_per_second: float) -> None:
        """Iterations per second while playing; 0 (or less) = as fast as possible."""
        self._pace = max(0.0, float(iterations_per_second))
        self._restart_pace()

    def configure(self, changes: dict[str, Any]) -> None:
        """Change settings; those that change the network or the data rebuild it.

        η, batch size, momentum, regularisation and clipping apply live, from
        the next iteration on. Anything else (architecture, activations, loss,
        initialiser, seed, dataset) pauses and rebuilds.
        """
        try:
            new = self._setup.with_(**changes)
        except Exception as exc:  # reported; nothing changed
            self._send("failed", f"Invalid setting: {exc}")
            return
        if set(changes) <= LIVE_SETTINGS and self._trainer is not None:
            tr = self._trainer
            try:
                # Both checks come before any change: a bad value changes nothing.
                rule = new.rule()
                tr.set_batch_size(new.batch_size)
                tr.set_rule(rule)
            except Exception as exc:  # reported; the old settings stay
                self._send("failed", f"Invalid setting: {exc}")
                return
            self._setup = new
            self._send("setup_changed", new)
            self._emit()
            return
        was_playing = self.playing
        self._set_playing(False)
        if self._rebuild(new) and was_playing:
            self._set_playing(True)

    def load_setup(self, setup: Setup) -> None:
        """Replace the whole experiment (a preset or a loaded file)."""
        self._set_playing(False)
        self._rebuild(setup)

    def set_weight(self, k: int, i: int, src: int, value: float) -> None:
        """Set one θ by hand (src = −1 is the bias θ_i0); Err is evaluated again."""
        try:
            self._trainer.set_weight(k, i, src, value)
        except (IndexError, ValueError) as exc:
            self._send("failed", f"Cannot set that weight: {exc}")
            return
        self._emit()

    def set_start(self) -> None:
        """Make the current θ the start: iteration 0; reset returns here, a save keeps it."""
        self._set_playing(False)
        tr = self._trainer
        tr.set_start()
        self._setup = self._setup.with_(params=tuple(tr.start_params.tolist()))
        self._send("setup_changed", self._setup)
        self._emit()

    def run_gradient_check(self) -> None:
        """Compare backprop with finite differences on the current weights."""
        tr = self._trainer
        n = min(tr.n_train, 32)
        result = self._guarded(gradient_check, tr.net, tr.X_train[:n], tr.Y_train[:n])
        if result is not None:
            self._send("gradcheck", result)

    def open_experiment(self, path: str) -> None:
        """Load an experiment file; on any error the current session stays as it is."""
        self._set_playing(False)
        try:
            try:
                self._progress(1, 4, "reading the file", path)
                experiment = load_experiment(path)
                data = experiment.dataset
                if data is None:
                    self._progress(2, 4, _data_text(experiment.setup), path)
                    try:
                        data = load_dataset(experiment.setup)
                    except ValueError as exc:  # as restore_trainer reports it
                        raise ExperimentError(str(exc), field="setup") from None
                    experiment = replace(experiment, dataset=data)
                n = len(data.X_train) + len(data.X_test)
                text = _build_text(experiment.setup, data.n_inputs, data.n_outputs, n)
                self._progress(3, 4, text, path)
                trainer, dataset = restore_trainer(experiment)
            except Exception as exc:  # reported; nothing changed
                self._send("failed", f"Could not open {path}: {exc}")
                return
            self._progress(4, 4, SENDING_TEXT, path)
            self._install(trainer, dataset, experiment.setup, experiment.comparisons)
        finally:
            self._send("progress", None)

    def save_experiment(self, path: str, comparisons: tuple[KeptRun, ...] = ()) -> None:
        """Save settings, weights and loss history (atomically), and the window's kept runs."""
        try:
            save_experiment(
                path, self._setup, self._trainer, self._dataset, comparisons=tuple(comparisons)
            )
        except Exception as exc:  # reported; the old file is intact
            self._send("failed", f"Could not save {path}: {exc}")
            return
        self._send("saved", path)

    def export_loss_csv(self, path: str) -> None:
        """Write the whole loss history (iteration, batch/train/test Err) as CSV."""
        try:
            export_csv(self._trainer.history, path)
        except Exception as exc:
            self._send("failed", f"Could not write {path}: {exc}")
            return
        self._send("saved", path)

    def request_snapshot(self) -> None:
        """Send a snapshot now."""
        self._emit()

    def sync(self, token: int) -> None:
        """A barrier: a fresh snapshot, then ``("sync", token)``, after every earlier command."""
        self._emit()
        self._send("sync", token)

    # -- playing ------------------------------------------------------------

    def wait_time(self) -> float | None:
        """How long :func:`serve` may wait for a command before the next tick (None: forever)."""
        if not self.playing:
            return None
        if self._pace == 0:
            return 0.0
        return PACE_TICK_SECONDS

    def tick(self) -> int:
        """Train for about 10 ms (or the iterations a set pace has due); return how many ran."""
        if not self.playing or self._trainer is None:
            return 0
        start = self._clock()
        deadline = start + TICK_SECONDS
        # End the tick when the next snapshot is due, so that snapshots go out
        # at the full 60 per second (not every second tick, 50 per second).
        due = self._last_emit + SNAPSHOT_INTERVAL
        if start < due < deadline:
            deadline = due
        done = 0
        try:
            if self._pace > 0:
                due_n = int((start - self._pace_t0) * self._pace) - self._pace_done
                if due_n <= 0:
                    return 0
                # Catch up at most four ticks' worth after a slow tick; after a
                # longer stall, forget the rest of the backlog instead of racing
                # through it (a lecture pace would show a burst).
                most = max(1, int(self._pace * TICK_SECONDS * 4))
                if due_n > most:
                    due_n = most
                    self._pace_t0 = start - (self._pace_done + most) / self._pace
                done = self._train(due_n, deadline)
                self._pace_done += done
            else:
                done = self._train(None, deadline)
        except DivergenceError as exc:
            self._set_playing(False)
            self._emit()
            self._send("diverged", str(exc))
            return done
        except Exception as exc:  # the training side must survive anything
            self._set_playing(False)
            self._emit()
            self._send("failed", f"Training stopped by an error: {_one_line(exc)}")
            return done
        if self._clock() - self._last_emit >= SNAPSHOT_INTERVAL:
            self._emit()
        return done

    # -- internals ----------------------------------------------------------

    def _rebuild(self, setup: Setup) -> bool:
        try:
            try:
                self._progress(1, 3, _data_text(setup))
                data = load_dataset(setup)
                n = len(data.X_train) + len(data.X_test)
                self._progress(2, 3, _build_text(setup, data.n_inputs, data.n_outputs, n))
                trainer, dataset = build(setup, data)
            except DatasetError as exc:  # reported, the old trainer stays
                self._send("failed", f"Could not load the data: {exc}")
                return False
            except Exception as exc:  # reported, the old trainer stays
                self._send("failed", f"Could not build that network: {exc}")
                return False
            self._progress(3, 3, SENDING_TEXT)
            self._install(trainer, dataset, setup)
            return True
        finally:
            self._send("progress", None)

    def _progress(self, step: int, total: int, text: str, file: str | None = None) -> None:
        self._send("progress", Progress(step, total, text, file))

    def _install(
        self,
        trainer: Trainer,
        dataset: Dataset,
        setup: Setup,
        comparisons: tuple[KeptRun, ...] = (),
    ) -> None:
        self._trainer, self._dataset, self._setup = trainer, dataset, setup
        self._send("rebuilt", Rebuilt(setup, trainer.net.config(), dataset, comparisons))
        self._emit()

    def _set_playing(self, playing: bool) -> None:
        if playing == self.playing:
            return
        self.playing = playing
        if playing:
            self._restart_pace()
        self._send("playing", playing)

    def _restart_pace(self) -> None:
        self._pace_t0 = self._clock()
        self._pace_done = 0

    def _guarded(self, fn, *args):
        """Call ``fn``; report divergence and errors, pausing training."""
        try:
            return fn(*args)
        except DivergenceError as exc:
            self._set_playing(False)
            self._emit()
            self._send("diverged", str(exc))
        except Exception as exc:  # the training side must survive anything
            self._set_playing(False)
            self._send("failed", f"Training stopped by an error: {_one_line(exc)}")
        return None

    def _emit(self) -> None:
        if self._trainer is None:
            return
        snap: Snapshot = self._trainer.snapshot()
        self._last_emit = self._clock()
        self._send("snapshot", snap)

    def _train(self, limit: int | None, deadline: float) -> int:
        """Run up to ``limit`` iterations (None: no limit) until ``deadline``; return how many.

        Iterations run in chunks through :meth:`Trainer.run`, sized to take
        about 1 ms, so the clock is read rarely and the tick still ends on time.
        """
        run, clock = self._trainer.run, self._clock
        chunk = self._chunk
        done = 0
        try:
            while limit is None or done < limit:
                n = chunk if limit is None else min(chunk, limit - done)
                t = clock()
                run(n)
                done += n
                now = clock()
                if n == chunk:
                    if now - t < 0.0005:
                        chunk *= 2
                    elif now - t > 0.002 and chunk > 1:
                        chunk //= 2
                if now >= deadline:
                    break
        finally:
            self._chunk = chunk
        return done


def training_context() -> multiprocessing.context.BaseContext:
    """Where training processes come from: a fork server, started once per app.

    The server is a fresh interpreter (no Qt, no threads) that imports the
    engine once; each training process is then a fork of it, ready in about
    60 ms instead of the 0.6 s a spawned interpreter takes to import NumPy and
    the engine. The server ends with the app, however the app ends. Start
    training processes with :class:`TrainingProcess`, not ``ctx.Process``.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


class _PopenWithoutMain(multiprocessing.popen_forkserver.Popen):
    """Starts a fork-server child without re-running the app's main script in it.

    ``multiprocessing`` normally imports the parent's ``__main__`` file again in
    the child, so that functions defined there can be unpickled. A training
    process needs nothing from it (its target and arguments live in bpviz), and
    re-running a script that has no ``if __name__ == "__main__":`` guard would
    open a second window inside the training process (seen in a test script),
    while code run from standard input cannot be re-run at all.
    """

    def _launch(self, process_obj: Any) -> None:
        spawn = multiprocessing.spawn
        original = spawn.get_preparation_data

        def without_main(name: str) -> dict[str, Any]:
            data = original(name)
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
            return data

        # Only this worker thread starts processes in bpviz; the swap lasts one launch.
        spawn.get_preparation_data = without_main
        try:
            super()._launch(process_obj)
        finally:
            spawn.get_preparation_data = original


class TrainingProcess(multiprocessing.context.ForkServerProcess):
    """A fork-server process that does not import the app's main script again."""

    @staticmethod
    def _Popen(process_obj: Any) -> _PopenWithoutMain:  # multiprocessing's name
        training_context()  # the server preloads the engine
        return _PopenWithoutMain(process_obj)


def start_fork_server() -> None:
    """Start the fork server now (it imports NumPy and the engine while the window is built).

    The app calls this first thing, so that the first training process is ready sooner;
    later calls do nothing.
    """
    training_context()
    multiprocessing.forkserver.ensure_running()


def _one_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


#: The commands a pipe may carry: TrainingLoop's public methods, nothing else.
COMMANDS = frozenset(
    {
        "stop",
        "play",
        "pause",
        "toggle",
        "step",
        "step_phase",
        "step_back",
        "reset",
        "set_pace",
        "configure",
        "load_setup",
        "set_weight",
        "set_start",
        "run_gradient_check",
        "open_experiment",
        "save_experiment",
        "export_loss_csv",
        "request_snapshot",
        "sync",
    }
)


def coalesce_configures(
    changes: dict[str, Any], commands: queue.SimpleQueue, pending: collections.deque
) -> dict[str, Any]:
    """``changes``, or the last of the configure commands of the same settings waiting after it.

    A spin box held down, or dragged, sends a configure per value, each of which
    would rebuild the network and send the window a ``rebuilt`` report to lay
    out. A later value of the same settings supersedes an earlier one, so only
    the last of a run already waiting is applied. A configure of other settings
    ends the run (it is done on its own, and a refusal names only it); the first
    command that is not merged stays in ``pending``, to be done next, in order.
    """
    keys = changes.keys()
    while True:
        if not pending:
            try:
                pending.append(commands.get_nowait())
            except queue.Empty:
                return changes
        nxt = pending[0]
        if not (nxt[0] == "configure" and len(nxt) == 2 and isinstance(nxt[1], dict)):
            return changes
        if nxt[1].keys() != keys:
            return changes
        changes = pending.popleft()[1]


def serve(conn, setup: Setup) -> None:
    """The training process's main loop: commands from ``conn``, reports to it.

    Returns after a ``stop`` command, or when the other end of the pipe is
    closed (the window's process ended, however it ended).

    A reader thread takes every command off the pipe as soon as it arrives, so
    the window's side never waits to send, even while this loop is blocked
    sending a snapshot that the window has not read yet (two processes each
    writing into a full pipe would wait for each other for ever).
    """
    # Ctrl+C in a terminal reaches the whole process group: the window decides
    # when training ends, and tells us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    commands: queue.SimpleQueue = queue.SimpleQueue()

    def read_commands() -> None:
        try:
            while True:
                commands.put(conn.recv())
        except (EOFError, OSError):
            commands.put(("stop",))  # the window's process is gone

    threading.Thread(target=read_commands, name="bpviz-commands", daemon=True).start()

    def send(kind: str, payload: Any) -> None:
        conn.send((kind, payload))

    loop = TrainingLoop(send)
    pending: collections.deque = collections.deque()  # taken off the queue, not yet done
    try:
        loop.start(setup)
        while not loop.stopped:
            try:
                wait = loop.wait_time()
                if pending:
                    command = pending.popleft()
                elif wait == 0:
                    command = commands.get_nowait()
                else:
                    command = commands.get(timeout=wait)
            except queue.Empty:
                loop.tick()
                continue
            name, *args = command
            if name not in COMMANDS:
                send("failed", f"Unknown command {name!r} for the training process")
                continue
            if name == "configure" and len(args) == 1 and isinstance(args[0], dict):
                args = [coalesce_configures(args[0], commands, pending)]
            try:
                getattr(loop, name)(*args)
            except (BrokenPipeError, ConnectionResetError):
                raise
            except Exception as exc:  # a command the loop did not expect to fail: say so, go on
                loop.playing = False
                send("playing", False)
                send(
                    "failed",
                    f"The training side could not {name.replace('_', ' ')}: {_one_line(exc)}",
                )
    except (BrokenPipeError, ConnectionResetError):
        pass  # the window's process is gone: nothing left to train for
