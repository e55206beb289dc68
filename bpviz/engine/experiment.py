"""An experiment's settings in one frozen record, and the built-in examples.

:class:`Setup` names everything needed to rebuild a training run: the data,
the hidden layers, the activations, the loss, the initialiser, the seeds and
the update rule. :func:`build` turns it into a :class:`Trainer`. Presets are
the built-in lecture examples, some with hand-set round-number weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np

from .datasets import DATASET_NAMES, Dataset, load_csv, make_dataset
from .network import Network, UpdateRule
from .trainer import Trainer

__all__ = ["PRESETS", "Setup", "build", "load_dataset"]


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
        net_fields = {"hidden", "activation", "output_activation", "loss", "init", "bias",
                      "seed", "dataset", "csv_path"}
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


def build(setup: Setup, dataset: Dataset | None = None) -> tuple[Trainer, Dataset]:
    """Build the network and trainer a setup describes.

    Raises
    ------
    ValueError
        With a message naming the setting that is wrong.
    """
    data = dataset if dataset is not None else load_dataset(setup)
    sizes = (data.X_train.shape[1], *setup.hidden, data.Y_train.shape[1])
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
                f"params holds {p.size} numbers but the network {list(sizes)} has "
                f"{net.params.size}"
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
            lr=1e-9,
        ),
    ),
}
