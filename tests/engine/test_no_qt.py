"""The engine/Qt boundary (STYLE §2): importing the engine loads no Qt."""

from __future__ import annotations

import pytest

from tests.helpers import QT_PREFIXES, modules_loaded_by


@pytest.mark.parametrize(
    "statement",
    [
        "import bpviz.engine",
        "import bpviz",
        "from bpviz.engine import Network, Trainer, gradient_check",
        "import bpviz.worked.handout, bpviz.views.formulas",
        "import bpviz.training_process",  # what the training process imports
    ],
)
def test_importing_the_engine_loads_no_qt_module(statement):
    modules = modules_loaded_by(statement)
    assert "bpviz.engine" in modules or statement == "import bpviz"
    qt = [m for m in modules if m.startswith(QT_PREFIXES)]
    assert qt == []


def test_the_engine_runs_a_training_step_without_loading_qt():
    modules = modules_loaded_by(
        "import numpy as np\n"
        "from bpviz.engine import Network, Trainer\n"
        "net = Network([2, 3, 1], seed=0)\n"
        "tr = Trainer(net, np.zeros((4, 2)), np.zeros((4, 1)), batch_size=2)\n"
        "tr.run(3); tr.step_phase(); tr.snapshot()"
    )
    assert [m for m in modules if m.startswith(QT_PREFIXES)] == []
