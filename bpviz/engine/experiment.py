"""An experiment's settings in one frozen record, and the built-in examples.

:class:`Setup` names everything needed to rebuild a training run: the data,
the hidden layers, the activations, the loss, the initialiser, the seeds and
the update rule. :func:`build` turns it into a :class:`Trainer`. Presets are
the built-in lecture examples, some with hand-set round-number weights.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from .datasets import DATASET_NAMES, Dataset, load_csv, make_dataset
from .files import size_text
from .network import Network, UpdateRule
from .trainer import HISTORY_BYTES, HISTORY_DEPTH, LossHistory, Trainer

__all__ = [
    "MEMORY_BUDGET",
    "MEMORY_SHARE",
    "PRESETS",
    "Setup",
    "build",
    "check_memory",
    "estimate_memory",
    "load_dataset",
    "memory_budget",
    "physical_memory",
]

#: Memory a training run may need at most on any machine (estimated by
#: :func:`estimate_memory`): half of a common 8 GB laptop, the rest left to the
#: window and the system. A machine with less memory gets less (:func:`memory_budget`).
MEMORY_BUDGET = 4 * 2**30
#: The share of the machine's physical memory a training run may need at most.
MEMORY_SHARE = 0.5


def physical_memory() -> int | None:
    """This machine's physical memory in bytes; None where the system does not say.

    ``os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")`` (Linux, macOS, the BSDs).
    """
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None
    if pages <= 0 or page_size <= 0:
        return None
    return int(pages) * int(page_size)


def memory_budget() -> tuple[int, str]:
    """The memory a training run may need here, and how that was decided (for messages).

    The smaller of :data:`MEMORY_BUDGET` and :data:`MEMORY_SHARE` of
    :func:`physical_memory`; :data:`MEMORY_BUDGET` where the machine's memory is
    not known. E.g. ``(4 GiB, "half of this machine's 15.5 GiB, at most 4 GiB")``.
    """
    ram = physical_memory()
    if ram is None:
        return (
            MEMORY_BUDGET,
            f"this machine's memory is unknown; at most {size_text(MEMORY_BUDGET)}",
        )
    share = "half" if MEMORY_SHARE == 0.5 else f"{MEMORY_SHARE:.0%}"
    budget = min(MEMORY_BUDGET, int(ram * MEMORY_SHARE))
    return budget, f"{share} of this machine's {size_text(ram)}, at most {size_text(MEMORY_BUDGET)}"


@dataclass(frozen=True, slots=True)
class Setup:
    """Everything that defines a training run (JSON-friendly values only).

    The network's input and output sizes come from the dataset; ``hidden``
    lists the hidden layers' sizes. ``params`` optionally fixes the initial
    θ (flat, as ``Network.params``), e.g. for the lecture's round numbers.
    """

    dataset: str = "circle"
    n_samples: int = 200
    noise: float = 0.0
    test_fraction: float = 0.2
    data_seed: int = 0
    csv_path: str | None = None
    hidden: tuple[int, ...] = (4, 4)
    activation: str = "tanh"
    output_activation: str = "sigmoid"
    loss: str = "sse"
    init: str = "xavier"
    bias: bool = True
    seed: int = 0
    batch_size: int = 10
    lr: float = 0.03
    momentum: float = 0.0
    l1: float = 0.0
    l2: float = 0.0
    clip_value: float | None = None
    clip_norm: float | None = None
    params: tuple[float, ...] | None = field(default=None, compare=True)

    def with_(self, **changes: Any) -> Setup:
        """A copy with some fields changed (``params`` dropped if the net changes)."""
        net_fields = {
            "hidden",
            "activation",
            "output_activation",
            "loss",
            "init",
            "bias",
            "seed",
            "dataset",
            "csv_path",
        }
        if net_fields & changes.keys() and "params" not in changes:
            changes["params"] = None
        if "hidden" in changes:
            changes["hidden"] = tuple(int(n) for n in changes["hidden"])
        return replace(self, **changes)

    def rule(self) -> UpdateRule:
        """The update rule these settings describe."""
        return UpdateRule(
            lr=self.lr,
            momentum=self.momentum,
            l1=self.l1,
            l2=self.l2,
            clip_value=self.clip_value,
            clip_norm=self.clip_norm,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable values."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["params"] = None if self.params is None else list(self.params)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Setup:
        """Inverse of :meth:`to_dict`; unknown keys raise ValueError naming them."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        d = dict(d)
        if "hidden" in d:
            d["hidden"] = tuple(int(n) for n in d["hidden"])
        if d.get("params") is not None:
            d["params"] = tuple(float(v) for v in d["params"])
        return cls(**d)


def load_dataset(setup: Setup) -> Dataset:
    """The dataset a setup names (a built-in set or its CSV file)."""
    if setup.dataset == "csv":
        if not setup.csv_path:
            raise ValueError("the CSV dataset needs a file path")
        return load_csv(setup.csv_path, test_fraction=setup.test_fraction, seed=setup.data_seed)
    if setup.dataset not in DATASET_NAMES:
        raise ValueError(
            f"unknown dataset {setup.dataset!r}; choose one of {', '.join(DATASET_NAMES)} or csv"
        )
    return make_dataset(
        setup.dataset,
        n_samples=setup.n_samples,
        noise=setup.noise,
        test_fraction=setup.test_fraction,
        seed=setup.data_seed,
    )


def estimate_memory(
    sizes: tuple[int, ...],
    n_samples: int,
    batch_size: int,
    *,
    bias: bool = True,
    momentum: bool = False,
) -> dict[str, int]:
    """Bytes a run of this size needs, by part (float64 throughout).

    ``"parameters"``: θ, the initial θ and momentum's v; ``"step back"``: the
    trainer's ring of past θ (and v); ``"workspaces"``: one per batch size
    (two: the full batches and the last, smaller one), one for the phase walk
    and one each for evaluating the training and test sets, each with its
    own gradient and step buffers and per-layer u, o, σ′ and δ; ``"snapshots"``:
    the copies of θ and gradients travelling to the window (about three at a
    time); ``"data"``: the dataset, the trainer's copy with the constant input
    and the shuffled copy (three copies); ``"history"``: the loss history at its bound.
    The parts sum to ``"total"``.
    """
    b = 1 if bias else 0
    n_params = sum(n_out * (n_in + b) for n_in, n_out in itertools.pairwise(sizes))
    theta = 8 * n_params
    neurons = sum(sizes) + b * len(sizes)
    widest = max(sizes) + b
    batch = max(1, min(int(batch_size), int(n_samples)))

    def workspace(rows: int, forward_only: bool = False) -> int:
        per_row = neurons * (2 if forward_only else 4) + 2 * widest + sizes[-1]
        return 2 * theta + 8 * rows * per_row

    depth = max(2, min(HISTORY_DEPTH, HISTORY_BYTES // max(1, 2 * theta)))
    parts = {
        "parameters": theta * (3 if momentum else 2),
        "step back": depth * theta * (2 if momentum else 1),
        "workspaces": (
            3 * workspace(batch) + workspace(int(n_samples), forward_only=True) + 2 * theta
        ),
        "snapshots": 3 * 2 * theta + 3 * 8 * batch * neurons * 4,
        "data": 3 * 8 * int(n_samples) * (sizes[0] + b + sizes[-1]),
        "history": LossHistory.MAX_BYTES,
    }
    parts["total"] = sum(parts.values())
    return parts


def check_memory(
    sizes: tuple[int, ...],
    n_samples: int,
    batch_size: int,
    *,
    bias: bool = True,
    momentum: bool = False,
    budget: int | None = None,
) -> None:
    """Refuse a run whose :func:`estimate_memory` exceeds ``budget`` (:func:`memory_budget`).

    Raises
    ------
    ValueError
        One sentence with the estimate, its largest parts and the budget (and
        how the budget was decided).
    """
    if budget is None:
        budget, why = memory_budget()
        why = f" ({why})"
    else:
        budget, why = int(budget), ""
    parts = estimate_memory(sizes, n_samples, batch_size, bias=bias, momentum=momentum)
    total = parts.pop("total")
    if total <= budget:
        return
    biggest = sorted(parts.items(), key=lambda kv: -kv[1])[:3]
    detail = ", ".join(f"{name} {size_text(n)}" for name, n in biggest)
    raise ValueError(
        f"the network {list(sizes)} on {n_samples:_} samples would need about "
        f"{size_text(total)} of memory ({detail}), more than the budget of "
        f"{size_text(budget)}{why}; use smaller hidden layers or fewer samples"
    )


def build(setup: Setup, dataset: Dataset | None = None) -> tuple[Trainer, Dataset]:
    """Build the network and trainer a setup describes.

    Raises
    ------
    ValueError
        With a message naming the setting that is wrong.
    """
    data = dataset if dataset is not None else load_dataset(setup)
    sizes = (data.X_train.shape[1], *setup.hidden, data.Y_train.shape[1])
    check_memory(
        sizes,
        data.X_train.shape[0] + data.X_test.shape[0],
        setup.batch_size,
        bias=setup.bias,
        momentum=setup.momentum > 0,
    )
    net = Network(
        sizes,
        activation=setup.activation,
        output_activation=setup.output_activation,
        loss=setup.loss,
        init=setup.init,
        bias=setup.bias,
        seed=setup.seed,
    )
    if setup.params is not None:
        p = np.asarray(setup.params, dtype=net.dtype)
        if p.shape != net.params.shape:
            raise ValueError(
                f"params holds {p.size} numbers but the network {list(sizes)} has {net.params.size}"
            )
        net.params[...] = p
    trainer = Trainer(
        net,
        data.X_train,
        data.Y_train,
        data.X_test,
        data.Y_test,
        rule=setup.rule(),
        batch_size=setup.batch_size,
        seed=setup.seed,
    )
    return trainer, data


def _lecture_params() -> tuple[float, ...]:
    # The notes' picture ℓ → i → j without biases: 2 inputs, 2 hidden, 1 output.
    # θ_iℓ (rows i, columns ℓ), then θ_ji.
    return (0.5, -0.5, 0.25, 0.75, 1.0, -1.0)


#: Built-in examples: name -> (menu label, Setup).
PRESETS: dict[str, tuple[str, Setup]] = {
    "lecture": (
        "Lecture: the notes' ℓ → i → j network, round numbers",
        Setup(
            dataset="lecture",
            hidden=(2,),
            activation="sigmoid",
            output_activation="sigmoid",
            bias=False,
            batch_size=1,
            lr=0.5,
            test_fraction=0.0,
            params=_lecture_params(),
        ),
    ),
    "xor4": (
        "XOR: 4 points, 2-2-1 sigmoid",
        Setup(
            dataset="xor4",
            hidden=(2,),
            activation="sigmoid",
            output_activation="sigmoid",
            batch_size=4,
            lr=0.5,
            seed=3,
            test_fraction=0.0,
        ),
    ),
    "circle": ("Circle: the default playground", Setup()),
    "spiral": (
        "Spiral: 2-8-8-8-8-1 tanh",
        Setup(dataset="spiral", n_samples=312, hidden=(8, 8, 8, 8), lr=0.03, batch_size=10),
    ),
    "vanishing": (
        "Vanishing gradients: deep sigmoid net",
        Setup(
            dataset="circle",
            hidden=(8, 8, 8, 8, 8, 8),
            activation="sigmoid",
            init="xavier",
            lr=0.03,
        ),
    ),
    "exploding": (
        "Exploding gradients: too-large initialisation",
        Setup(
            dataset="plane",
            hidden=(8, 8, 8, 8),
            activation="linear",
            output_activation="linear",
            init="large",
            # Diverges at the third iteration; small enough that both remedies learn
            # (clipping ‖g‖ ≤ 1: Err 7.8e9 → 36 in 20,000 iterations; Xavier: 217 → 0).
            lr=1e-4,
        ),
    ),
}
