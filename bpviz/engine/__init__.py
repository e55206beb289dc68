"""The backprop engine: NumPy only, no Qt, usable from a notebook.

>>> from bpviz.engine import Network
>>> net = Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .gradcheck import GradCheck, gradient_check
from .losses import LOSSES, Loss, get_loss
from .network import INITIALIZERS, Network, UpdateRule, Workspace, train_step
from .state import STAGES, Grads, Phase, Snapshot, Trace
from .trainer import DivergenceError, LossHistory, Trainer, phase_plan

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "LOSSES",
    "STAGES",
    "Activation",
    "DivergenceError",
    "GradCheck",
    "Grads",
    "Loss",
    "LossHistory",
    "Network",
    "Phase",
    "Snapshot",
    "Trace",
    "Trainer",
    "UpdateRule",
    "Workspace",
    "get_activation",
    "get_loss",
    "gradient_check",
    "phase_plan",
    "train_step",
]
