"""The control panel: transport buttons, η and friends, data, architecture.

It reports what the user changed through :attr:`ControlPanel.changed` as a
dict of :class:`~bpviz.engine.experiment.Setup` fields, and shows a Setup
with :meth:`ControlPanel.set_setup` without echoing it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine import ACTIVATIONS, INITIALIZERS, LOSSES
from ..engine.datasets import DATASET_LABELS, DATASET_NAMES, DATASET_NOTES

__all__ = ["MAX_HIDDEN_LAYERS", "MAX_NEURONS", "PACES", "ArchitectureEditor", "ControlPanel"]

MAX_HIDDEN_LAYERS = 8
MAX_NEURONS = 128
#: Pace choices: label -> iterations per second (0 = as fast as possible).
PACES: dict[str, float] = {
    "as fast as possible": 0.0,
    "1000 / s": 1000.0,
    "100 / s": 100.0,
    "10 / s": 10.0,
    "2 / s (lecture)": 2.0,
    "1 / s": 1.0,
}


class _Spin(QDoubleSpinBox):
    """A double spin box that shows 'off' at its minimum when ``off`` is set."""

    def __init__(self, lo: float, hi: float, step: float, decimals: int, off: bool = False):
        super().__init__()
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setDecimals(decimals)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        if off:
            self.setSpecialValueText("off")


class ArchitectureEditor(QWidget):
    """Hidden layers as a row of spin boxes with +/− buttons for layers.

    Emits :attr:`hidden_changed` with the new tuple of hidden sizes.
    """

    hidden_changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spins: list[QSpinBox] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.add_layer = QPushButton("+ layer")
        self.remove_layer = QPushButton("− layer")
        self.add_layer.setToolTip("Add a hidden layer (copies the last one's size)")
        self.remove_layer.setToolTip("Remove the last hidden layer")
        self.add_layer.clicked.connect(self._add)
        self.remove_layer.clicked.connect(self._remove)
        buttons.addWidget(self.add_layer)
        buttons.addWidget(self.remove_layer)
        outer.addLayout(buttons)
        self._grid = QGridLayout()
        outer.addLayout(self._grid)
        self._label = QLabel()
        outer.addWidget(self._label)

    def hidden(self) -> tuple[int, ...]:
        """The hidden sizes shown."""
        return tuple(s.value() for s in self._spins)

    def set_hidden(self, hidden: Sequence[int]) -> None:
        """Show these hidden sizes without emitting."""
        for s in self._spins:
            self._grid.removeWidget(s)
            s.deleteLater()
        self._spins = []
        for n in hidden:
            self._append_spin(int(n))
        self._refresh()

    def _append_spin(self, n: int) -> None:
        spin = QSpinBox()
        spin.setRange(1, MAX_NEURONS)
        spin.setValue(n)
        spin.setKeyboardTracking(False)
        spin.setToolTip(f"Neurons in hidden layer {len(self._spins) + 1}")
        spin.valueChanged.connect(self._emit)
        idx = len(self._spins)
        self._grid.addWidget(spin, idx // 4, idx % 4)
        self._spins.append(spin)

    def _refresh(self) -> None:
        self.add_layer.setEnabled(len(self._spins) < MAX_HIDDEN_LAYERS)
        self.remove_layer.setEnabled(len(self._spins) > 0)
        n = len(self._spins)
        self._label.setText("no hidden layer" if n == 0 else f"{n} hidden layer{'s' * (n > 1)}")

    def _add(self) -> None:
        if len(self._spins) >= MAX_HIDDEN_LAYERS:
            return
        self._append_spin(self._spins[-1].value() if self._spins else 4)
        self._refresh()
        self._emit()

    def _remove(self) -> None:
        if not self._spins:
            return
        spin = self._spins.pop()
        self._grid.removeWidget(spin)
        spin.deleteLater()
        self._refresh()
        self._emit()

    def _emit(self) -> None:
        self.hidden_changed.emit(self.hidden())


def _tooltip_from_item(combo: QComboBox, index: int) -> None:
    """Give ``combo`` the tooltip of its item ``index``, when that item has one."""
    tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else None
    if tip:
        combo.setToolTip(str(tip))


class ControlPanel(QWidget):
    """Every knob of an experiment, plus the transport buttons.

    Signals
    -------
    changed(dict)
        Setup fields the user changed, e.g. ``{"lr": 0.1}``.
    pace_changed(float)
        Iterations per second while playing (0 = full speed).
    """

    changed = Signal(dict)
    pace_changed = Signal(float)

    def __init__(self, transport: Sequence[QAction] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self._updating = False
        layout = QVBoxLayout(self)

        if transport:
            grid = QGridLayout()
            for n, action in enumerate(transport):
                b = QToolButton()
                b.setDefaultAction(action)
                b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                grid.addWidget(b, n // 3, n % 3)
            layout.addLayout(grid)

        # -- training ----------------------------------------------------------
        train = QGroupBox("Training")
        form = QFormLayout(train)
        self.lr = _Spin(0.00001, 10.0, 0.01, 5)
        self.lr.setToolTip("η, the learning rate in θ ← θ − η·∂Err/∂θ")
        form.addRow("η (learning rate)", self.lr)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 100_000)
        self.batch_size.setKeyboardTracking(False)
        self.batch_size.setToolTip("Samples per iteration: 1 = one-sample SGD")
        form.addRow("Batch size", self.batch_size)
        self.pace = QComboBox()
        self.pace.addItems(list(PACES))
        self.pace.setToolTip("Iterations per second while playing")
        form.addRow("Pace", self.pace)
        self.momentum = _Spin(0.0, 0.99, 0.05, 2, off=True)
        form.addRow("Momentum μ", self.momentum)
        self.l1 = _Spin(0.0, 1.0, 0.0001, 5, off=True)
        form.addRow("L1 regularisation", self.l1)
        self.l2 = _Spin(0.0, 1.0, 0.0001, 5, off=True)
        form.addRow("L2 regularisation", self.l2)
        self.clip_value = _Spin(0.0, 1000.0, 0.1, 3, off=True)
        self.clip_value.setToolTip("Clip each gradient entry to [−c, c]")
        form.addRow("Clip by value", self.clip_value)
        self.clip_norm = _Spin(0.0, 1000.0, 0.5, 3, off=True)
        self.clip_norm.setToolTip("Rescale the gradient when its norm exceeds this")
        form.addRow("Clip by norm", self.clip_norm)
        layout.addWidget(train)

        # -- network -----------------------------------------------------------
        netbox = QGroupBox("Network")
        form = QFormLayout(netbox)
        self.architecture = ArchitectureEditor()
        form.addRow("Hidden layers", self.architecture)
        self.activation = QComboBox()
        self.output_activation = QComboBox()
        for name, a in ACTIVATIONS.items():
            if a.elementwise:
                self.activation.addItem(name, name)
            self.output_activation.addItem(name, name)
        form.addRow("Hidden σ", self.activation)
        form.addRow("Output σ", self.output_activation)
        self.loss = QComboBox()
        for name, loss in LOSSES.items():
            self.loss.addItem(loss.label, name)
            tip = f"{loss.formula}   {loss.delta_formula}"
            if loss.requires_output:
                tip += f"   (needs a {loss.requires_output} output)"
            self.loss.setItemData(self.loss.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        form.addRow("Loss", self.loss)
        self.init = QComboBox()
        for name, text in INITIALIZERS.items():
            # The short label fits the panel; how θ is drawn is in the tooltip.
            label, _, how = text.partition(": ")
            self.init.addItem(label, name)
            self.init.setItemData(
                self.init.count() - 1, f"{label}: {how}", Qt.ItemDataRole.ToolTipRole
            )
        form.addRow("Initialiser", self.init)
        self.bias = QCheckBox("biases θ_i0 (o_0 = 1)")
        form.addRow("", self.bias)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setKeyboardTracking(False)
        form.addRow("Seed", self.seed)
        layout.addWidget(netbox)

        # -- data ----------------------------------------------------------------
        data = QGroupBox("Data")
        form = QFormLayout(data)
        self.dataset = QComboBox()
        for name in DATASET_NAMES:
            label = DATASET_LABELS.get(name, name)
            self.dataset.addItem(label, name)
            self.dataset.setItemData(
                self.dataset.count() - 1, f"{label}: {DATASET_NOTES[name]}",
                Qt.ItemDataRole.ToolTipRole,
            )  # fmt: skip
        form.addRow("Dataset", self.dataset)
        self.noise = _Spin(0.0, 1.0, 0.05, 2)
        form.addRow("Noise", self.noise)
        self.test_fraction = _Spin(0.0, 0.9, 0.05, 2)
        form.addRow("Test fraction", self.test_fraction)
        self.n_samples = QSpinBox()
        self.n_samples.setRange(2, 100_000)
        self.n_samples.setSingleStep(50)
        self.n_samples.setKeyboardTracking(False)
        form.addRow("Samples", self.n_samples)
        self.data_seed = QSpinBox()
        self.data_seed.setRange(0, 2**31 - 1)
        self.data_seed.setKeyboardTracking(False)
        form.addRow("Data seed", self.data_seed)
        layout.addWidget(data)
        layout.addStretch(1)

        # Long item texts must not widen the panel: combo boxes elide instead.
        for combo in self.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
            combo.setToolTip(combo.toolTip() or "")

        # wiring: every widget reports one Setup field
        for name in ("lr", "momentum", "l1", "l2", "noise", "test_fraction"):
            getattr(self, name).valueChanged.connect(
                lambda v, n=name: self._report({n: float(v)})
            )
        for name in ("clip_value", "clip_norm"):
            getattr(self, name).valueChanged.connect(
                lambda v, n=name: self._report({n: float(v) if v > 0 else None})
            )
        for name in ("batch_size", "seed", "n_samples", "data_seed"):
            getattr(self, name).valueChanged.connect(lambda v, n=name: self._report({n: int(v)}))
        for name in ("activation", "output_activation", "loss", "init", "dataset"):
            combo = getattr(self, name)
            combo.currentIndexChanged.connect(
                lambda _i, n=name, c=combo: self._report({n: c.currentData()})
            )
            # The combo's tooltip is its current item's (the loss's formula, …).
            combo.currentIndexChanged.connect(lambda i, c=combo: _tooltip_from_item(c, i))
            _tooltip_from_item(combo, combo.currentIndex())
        self.bias.toggled.connect(lambda v: self._report({"bias": bool(v)}))
        self.architecture.hidden_changed.connect(lambda h: self._report({"hidden": tuple(h)}))
        self.pace.currentTextChanged.connect(lambda t: self.pace_changed.emit(PACES[t]))

    def _report(self, change: dict[str, Any]) -> None:
        if not self._updating:
            out = dict(change)
            # Cross-entropies need their output activation; pick it for the user.
            if out.get("loss") == "bce":
                out["output_activation"] = "sigmoid"
            elif out.get("loss") == "softmax_ce":
                out["output_activation"] = "softmax"
            elif out.get("output_activation") == "softmax":
                out["loss"] = "softmax_ce"
            self.changed.emit(out)

    def set_setup(self, setup: Any) -> None:
        """Show a Setup's values without emitting :attr:`changed`."""
        self._updating = True
        try:
            for name in ("lr", "momentum", "l1", "l2", "noise", "test_fraction"):
                getattr(self, name).setValue(float(getattr(setup, name)))
            for name in ("clip_value", "clip_norm"):
                v = getattr(setup, name)
                getattr(self, name).setValue(0.0 if v is None else float(v))
            for name in ("batch_size", "seed", "n_samples", "data_seed"):
                getattr(self, name).setValue(int(getattr(setup, name)))
            for name in ("activation", "output_activation", "loss", "init", "dataset"):
                combo: QComboBox = getattr(self, name)
                idx = combo.findData(getattr(setup, name))
                if name == "dataset" and setup.dataset == "csv":
                    # One CSV entry, naming the file now loaded (the whole path in its tooltip).
                    if idx < 0:
                        combo.addItem("", "csv")
                        idx = combo.count() - 1
                    path = setup.csv_path or ""
                    combo.setItemText(idx, f"CSV: {Path(path).name}")
                    combo.setItemData(idx, f"CSV: {path}", Qt.ItemDataRole.ToolTipRole)
                combo.setCurrentIndex(idx)
                _tooltip_from_item(combo, idx)
            self.bias.setChecked(bool(setup.bias))
            self.architecture.set_hidden(setup.hidden)
        finally:
            self._updating = False

    def set_pace(self, pace: float) -> None:
        """Select the pace entry closest to ``pace`` without emitting."""
        self.pace.blockSignals(True)
        best = min(PACES, key=lambda k: abs(PACES[k] - pace))
        self.pace.setCurrentText(best)
        self.pace.blockSignals(False)
