"""Issue #20's targets: writing animations, and showing a Network in a notebook.

    python benchmarks/animate.py            # the spiral, 10 s at 1280x720 and 30 fps
    python benchmarks/animate.py --quick    # 2 s, for a smoke run

1. MP4 (H.264) and GIF of the spiral's training: 300 frames (10 s × 30 fps)
   at 1280×720 over 20,000 iterations, frames log-spaced, written by
   ``bpviz.animation.write_animation`` exactly as ``bpviz animate`` does
   (training, drawing the views offscreen, encoding, all included). Target:
   the MP4 in under 60 s. The walk (8 phases, 8 s) is timed too.
2. A notebook's display of a ``Network``: the first (in a fresh interpreter:
   imports, the colour table, the layout) and later ones, through IPython's
   own display formatter when IPython is installed. Targets: first < 1 s,
   later < 50 ms.

The load average is printed: the project's machine is shared, so a busy
machine makes these numbers slower than a quiet one would.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST_DISPLAY = r"""
import json, time
t0 = time.perf_counter()
try:
    from IPython.core.formatters import DisplayFormatter
    fmt = DisplayFormatter().format
except ImportError:
    fmt = None
t1 = time.perf_counter()
from bpviz.engine import Network
net = Network([2, 8, 8, 1], seed=0)
t2 = time.perf_counter()
data = fmt(net)[0] if fmt else {"image/svg+xml": net._repr_svg_()}
t3 = time.perf_counter()
assert "image/svg+xml" in data
later = []
for _ in range(50):
    s = time.perf_counter()
    data = fmt(net)[0] if fmt else {"image/svg+xml": net._repr_svg_()}
    later.append(time.perf_counter() - s)
later.sort()
print(json.dumps({"ipython": fmt is not None, "import_ipython": t1 - t0,
                  "import_bpviz": t2 - t1, "first": t3 - t2, "first_total": t3 - t1,
                  "later_median": later[len(later) // 2], "later_max": later[-1],
                  "svg_bytes": len(data["image/svg+xml"])}))
"""


def display_times() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", FIRST_DISPLAY], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def animation_times(seconds: float, steps: int) -> list[dict]:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    from bpviz.animation import AnimationOptions, pyav_available, write_animation
    from bpviz.engine.experiment_io import load_experiment, restore_trainer
    from bpviz.examples import example_paths

    rows = []
    jobs = [("spiral", ".mp4", False), ("spiral", ".gif", False), ("xor4", ".mp4", True)]
    with tempfile.TemporaryDirectory() as tmp:
        for name, suffix, walk in jobs:
            if suffix == ".mp4" and not pyav_available():
                print(f"skipping {name}{suffix}: PyAV is not installed (pip install av)")
                continue
            experiment = load_experiment(example_paths()[name])
            trainer, dataset = restore_trainer(experiment)
            opts = AnimationOptions(
                steps=None if walk else steps,
                walk=walk,
                seconds=None if walk else seconds,
            )
            out = Path(tmp) / f"{name}{'-walk' if walk else ''}{suffix}"
            cpu0, t0 = time.process_time(), time.perf_counter()
            w = write_animation(trainer, dataset, out, opts, title=experiment.title or name)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            rows.append(
                {
                    "what": f"{name} {'walk' if walk else f'{steps:,} iterations'}",
                    "file": suffix,
                    "frames": w.frames,
                    "pictures": w.pictures,
                    "seconds": wall,
                    "cpu": cpu,
                    "MB": w.bytes / 1e6,
                }
            )
            print(
                f"{rows[-1]['what']:>26} {suffix:5} {w.frames:4d} frames "
                f"({w.pictures} drawn)  {wall:6.1f} s wall  {cpu:6.1f} s CPU  "
                f"{w.bytes / 1e6:6.2f} MB",
                flush=True,
            )
    app.processEvents()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2-second animations")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    d = display_times()
    print(
        f"notebook display of Network([2, 8, 8, 1]) via "
        f"{'IPython DisplayFormatter' if d['ipython'] else '_repr_svg_'}: "
        f"import bpviz.engine {d['import_bpviz'] * 1e3:.0f} ms, first display "
        f"{d['first'] * 1e3:.0f} ms, later median {d['later_median'] * 1e3:.2f} ms "
        f"(max {d['later_max'] * 1e3:.2f} ms), SVG {d['svg_bytes'] / 1e3:.1f} kB",
        flush=True,
    )
    rows = animation_times(2.0 if args.quick else 10.0, 20_000)
    mp4 = next((r for r in rows if r["file"] == ".mp4" and "walk" not in r["what"]), None)
    ok = [
        d["first_total"] < 1.0,
        d["later_median"] < 0.05,
        mp4 is None or args.quick or mp4["seconds"] < 60,
    ]
    print(
        f"SUMMARY: MP4 {mp4['seconds']:.1f} s (target < 60 s)" if mp4 else "SUMMARY: no MP4",
        f"; first display {d['first_total'] * 1e3:.0f} ms (< 1000); later "
        f"{d['later_median'] * 1e3:.2f} ms (< 50); {'all met' if all(ok) else 'NOT all met'}",
        sep="",
    )
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
