"""Canary for the platform bug that bounds PySide6 in pyproject.toml.

PySide6 6.12.0 on Python ≤ 3.11 returns None from some QPainter methods without
taking a reference, so None's reference count runs down and a live pyqtgraph plot
dies within seconds ("Fatal Python error: none_dealloc", exit 134). pyproject.toml
keeps that combination from being installed; this test would catch it coming back
(for instance through a loosened bound): a plot updated a few thousand times, in a
subprocess, must exit cleanly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter, QPen
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    w = pg.PlotWidget()
    w.resize(640, 400)
    w.show()
    curve = w.plot(pen=pg.mkPen("b", width=2))
    x = np.arange(500, dtype=float)
    for i in range(3000):
        curve.setData(x, np.sin(x / 20 + i / 50) * (1 + i % 7))
        if i % 10 == 0:
            w.grab()
        app.processEvents()
    # The bare QPainter path of the bug report, without pyqtgraph.
    img = QImage(64, 64, QImage.Format.Format_ARGB32)
    p = QPainter(img)
    pen = QPen()
    for _ in range(10_000):
        p.setPen(pen)
    p.end()
    print("clean", sys.getrefcount(None) > 0)
    """
)


def test_a_live_plot_updated_thousands_of_times_exits_cleanly():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "clean True" in proc.stdout
    assert "Fatal Python error" not in proc.stderr
