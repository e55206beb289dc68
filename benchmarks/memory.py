"""Memory benchmark: RSS of a long session on the bare engine Trainer (issue 16).

Plays the spiral example (``PRESETS["spiral"]``: 2-8-8-8-8-1 tanh, batch 10)
at full speed, as the window's worker does, but without the window: a
:class:`~bpviz.engine.trainer.Trainer` and, every 10 ms of steps, one
``trainer.snapshot()`` (whose copies are dropped, as the window drops them
after drawing). The resident set size (``VmRSS`` from ``/proc/self/status``)
is read after a warm-up that lasts until both series of the loss history
(batch Err, and the full-set evaluations, once an epoch of 25 iterations
here) have reached their bounds, folded old values into envelopes and
merged buckets, so every buffer has its largest size (about 7.4 million
iterations for the spiral), and then after every million iterations. Growth
per million iterations and per hour at the measured speed are printed, with
the target: under 50 MB per hour.

Run from the repository root (Linux; about 1 to 3 minutes per million)::

    python benchmarks/memory.py                 # 5 million iterations
    python benchmarks/memory.py --millions 2
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpviz.engine.experiment import PRESETS, build

TARGET_MB_PER_HOUR = 50.0


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def play(trainer, iterations: int, tick_s: float = 0.010) -> float:
    """Run ``iterations`` in ticks of about ``tick_s`` with one snapshot each; returns seconds."""
    done, chunk = 0, 64
    start = time.perf_counter()
    while done < iterations:
        n = min(chunk, iterations - done)
        t0 = time.perf_counter()
        trainer.run(n)
        trainer.snapshot()
        dt = time.perf_counter() - t0
        chunk = max(1, min(100_000, int(n * tick_s / max(dt, 1e-6))))
        done += n
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=int, default=5, help="million iterations to run")
    args = parser.parse_args(argv)

    trainer, _ = build(PRESETS["spiral"][1])
    start_rss = rss_mb()
    h = trainer.history
    while not h.at_bound:  # until both series have folded and merged: full-size buffers
        play(trainer, 200_000)
        h = trainer.history
    gc.collect()
    before = rss_mb()
    print(
        f"RSS {start_rss:.1f} MB after building; {before:.1f} MB after a warm-up of "
        f"{trainer.iteration:,} iterations (history at its bound: "
        f"{h.nbytes / 2**20:.1f} MiB)",
        flush=True,
    )
    seconds = 0.0
    for m in range(1, args.millions + 1):
        seconds += play(trainer, 1_000_000)
        gc.collect()
        print(
            f"after {m} million more: RSS {rss_mb():.1f} MB "
            f"(history {trainer.history.nbytes / 2**20:.1f} MiB, "
            f"{m * 1_000_000 / seconds:,.0f} iterations/s)",
            flush=True,
        )
    after = rss_mb()
    rate = args.millions * 1_000_000 / seconds
    per_million = (after - before) / args.millions
    per_hour = per_million * rate * 3600 / 1_000_000
    verdict = "met" if per_hour < TARGET_MB_PER_HOUR else "NOT met"
    print(
        f"RSS growth: {after - before:+.1f} MB over {args.millions} million iterations "
        f"({per_million:+.2f} MB per million); at {rate:,.0f} iterations/s that is "
        f"{per_hour:+.1f} MB per hour (target < {TARGET_MB_PER_HOUR:g}: {verdict})"
    )
    return 0 if per_hour < TARGET_MB_PER_HOUR else 1


if __name__ == "__main__":
    sys.exit(main())
