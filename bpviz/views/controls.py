"""The control panel: transport buttons, η and friends, data, architecture.

It reports what the user changed through :attr:`ControlPanel.changed` as a
dict of :class:`~bpviz.engine.experiment.Setup` fields, and shows a Setup
with :meth:`ControlPanel.set_setup` without echoing it back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QValidator
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
from ..engine.datasets import (
    DATASET_LABELS,
    DATASET_NAMES,
    DATASET_NOTES,
    FIXED_DATASETS,
    MAX_SAMPLES,
)

__all__ = [
    "GIVEN_THETA",
    "MAX_HIDDEN_LAYERS",
    "MAX_NEURONS",
    "PACES",
    "ArchitectureEditor",
    "ControlPanel",
]

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


#: The initialiser box's entry while the start θ are given numbers (``Setup.params``), drawn
#: by no initialiser: :meth:`ControlPanel.shown_setup` reports it as the ``init``.
GIVEN_THETA = "given"
GIVEN_THETA_TEXT = "none (θ given)"
GIVEN_THETA_TIP = (
    "No initialiser: the start θ are given numbers (typed in the experiment file, or made "
    "the start with Train ▸ Set these θ as the start or Type start weights), and Reset "
    "returns to them. Choosing an initialiser draws new θ instead (from the seed)."
)

#: Why softmax (and its loss) cannot be chosen for data with one output column.
SOFTMAX_NEEDS_TWO = (
    "softmax needs at least 2 outputs (one per class); this data has one: "
    "for two classes use sigmoid with binary cross-entropy"
)


def format_value(v: float) -> str:
    """A number as the boxes show it: the shortest text that reads back as exactly ``v``.

    1e-09, 0.03, 100: never rounded to a box's decimals, so a box cannot show a
    value other than the one in force.
    """
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _validate(box: QDoubleSpinBox | QSpinBox, text: str, parse: Callable[[str], float]):
    """Acceptable in range; Intermediate while typing or out of range (then :func:`_complain`)."""
    t = text.strip()
    special = box.specialValueText()
    if special and special.startswith(t) and t:
        return QValidator.State.Acceptable if t == special else QValidator.State.Intermediate
    if t in ("", "-", "+", ".", ",") or t[-1] in "eE" or t[-2:].lower() in ("e-", "e+"):
        return QValidator.State.Intermediate
    try:
        v = parse(t)
    except ValueError:
        return QValidator.State.Invalid
    if box.minimum() <= v <= box.maximum():
        return QValidator.State.Acceptable
    return QValidator.State.Intermediate


def _complain(box: _Spin | _IntSpin, text: str, parse: Callable[[str], float]) -> None:
    """Say why a typed value was not applied (the box then shows the value in force)."""
    try:
        v = parse(text.strip())
    except ValueError:
        return
    if not box.minimum() <= v <= box.maximum():
        box.out_of_range.emit(
            f"{box.label} must be between {format_value(box.minimum())} and "
            f"{format_value(box.maximum())}; {text.strip()} was not applied."
        )


def _ladder(v: float, steps: int, floor: float, lo: float, hi: float) -> float:
    """``steps`` steps along 1, 2, 5, 10, 20 … (down from ``floor``: to ``lo``)."""
    for _ in range(abs(steps)):
        if steps > 0 and v < floor:
            v = floor
        elif steps < 0 and v <= floor:
            v = lo
        else:
            e = math.floor(math.log10(v))
            rungs = [float(f"{m}e{k}") for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
            if steps > 0:
                v = min(r for r in rungs if r > v * (1 + 1e-12))
            else:
                v = max(r for r in rungs if r < v * (1 - 1e-12))
    return min(max(v, lo), hi)


def _parse_float(text: str) -> float:
    v = float(text.replace(",", "."))
    if not math.isfinite(v):
        raise ValueError(text)
    return v


class _Spin(QDoubleSpinBox):
    """A number box that holds and shows exactly the value in force.

    No rounding to decimals (1e-09 stays 1e-09); a typed value out of range
    is not applied and :attr:`out_of_range` says so. ``off`` shows "off" at
    the minimum; ``ladder`` steps along 1, 2, 5, 10 … (from ``floor`` up).
    """

    out_of_range = Signal(str)

    def __init__(
        self,
        label: str,
        lo: float,
        hi: float,
        step: float,
        off: bool = False,
        ladder: float | None = None,
    ) -> None:
        super().__init__()
        self.label = label
        self._floor = ladder
        self.setDecimals(323)  # Qt's maximum: the value is kept as given, never rounded
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        if off:
            self.setSpecialValueText("off")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.000012345") + 32)

    def textFromValue(self, value: float) -> str:
        """The shortest exact text (see :func:`format_value`)."""
        return format_value(value)

    def valueFromText(self, text: str) -> float:
        """Parse what was typed ("off" is the minimum)."""
        t = text.strip()
        if self.specialValueText() and t == self.specialValueText():
            return self.minimum()
        return _parse_float(t)

    def validate(self, text: str, pos: int) -> object:
        """Accept any number while typing; out of range stays Intermediate."""
        return _validate(self, text, _parse_float), text, pos

    def fixup(self, text: str) -> str:
        """Typing finished on a value that is not acceptable: say why."""
        _complain(self, text, _parse_float)
        return text

    def stepBy(self, steps: int) -> None:
        """Arrows and wheel: linear steps, or along 1, 2, 5, 10 … with ``ladder``."""
        if self._floor is None:
            super().stepBy(steps)
        else:
            self.setValue(_ladder(self.value(), steps, self._floor, self.minimum(), self.maximum()))

    def show_value(self, value: float) -> None:
        """Show ``value`` exactly, widening the range if it lies outside (never clamped)."""
        if value < self.minimum() or value > self.maximum():
            self.setRange(min(value, self.minimum()), max(value, self.maximum()))
        self.setValue(value)

    def shown(self) -> float:
        """The value the box's text reads."""
        return self.valueFromText(self.text())


def _parse_int(text: str) -> float:
    return int(text)


class _IntSpin(QSpinBox):
    """An integer box that says so when a typed value is out of range (not clamped)."""

    out_of_range = Signal(str)

    def __init__(self, label: str, lo: int, hi: int, step: int = 1) -> None:
        super().__init__()
        self.label = label
        self.setRange(lo, hi)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)

    def validate(self, text: str, pos: int) -> object:
        """Accept any integer while typing; out of range stays Intermediate."""
        return _validate(self, text, _parse_int), text, pos

    def fixup(self, text: str) -> str:
        """Typing finished on a value that is not acceptable: say why."""
        _complain(self, text, _parse_int)
        return text

    def show_value(self, value: int) -> None:
        """Show ``value`` exactly, widening the range if it lies outside (never clamped)."""
        if value < self.minimum() or value > self.maximum():
            self.setRange(min(value, self.minimum()), max(value, self.maximum()))
        self.setValue(value)

    def shown(self) -> int:
        """The value the box's text reads."""
        return int(self.text())


class ArchitectureEditor(QWidget):
    """Hidden layers: one spin box per layer holding its number of neurons, +/− for layers.

    Beside the form's label "Hidden layers": "neurons in each:", the boxes,
    how many layers that is, then the buttons. Emits :attr:`hidden_changed`
    with the new tuple of hidden sizes.
    """

    hidden_changed = Signal(tuple)
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spins: list[_IntSpin] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.add_layer = QPushButton("+ layer")
        self.remove_layer = QPushButton("− layer")
        self.add_layer.setToolTip("Add a hidden layer (as many neurons as the last one)")
        self.remove_layer.setToolTip("Remove the last hidden layer")
        self.add_layer.setAccessibleName("Add a hidden layer")
        self.remove_layer.setAccessibleName("Remove the last hidden layer")
        self.add_layer.clicked.connect(self._add)
        self.remove_layer.clicked.connect(self._remove)
        buttons.addWidget(self.add_layer)
        buttons.addWidget(self.remove_layer)
        # Says what the boxes hold (a number of neurons, not of layers) without
        # widening the form's label column.
        self._caption = QLabel("neurons in each:")
        outer.addWidget(self._caption)
        self._grid = QGridLayout()
        outer.addLayout(self._grid)
        self._label = QLabel()
        outer.addWidget(self._label)
        outer.addLayout(buttons)

    def hidden(self) -> tuple[int, ...]:
        """The hidden sizes shown."""
        return tuple(s.value() for s in self._spins)

    def set_hidden(self, hidden: Sequence[int]) -> None:
        """Show these hidden sizes without emitting."""
        hidden = tuple(int(n) for n in hidden)
        if hidden == self.hidden():
            return  # keep the boxes (one may have the keyboard focus)
        for s in self._spins:
            self._grid.removeWidget(s)
            s.deleteLater()
        self._spins = []
        for n in hidden:
            self._append_spin(int(n))
        self._refresh()

    def _append_spin(self, n: int) -> None:
        spin = _IntSpin(f"Neurons in hidden layer {len(self._spins) + 1}", 1, MAX_NEURONS)
        spin.show_value(n)
        spin.setToolTip(spin.label)
        spin.setAccessibleName(spin.label)
        spin.valueChanged.connect(self._emit)
        spin.out_of_range.connect(self.message)
        idx = len(self._spins)
        self._grid.addWidget(spin, idx // 3, idx % 3)  # three a row: a narrow panel
        self._spins.append(spin)

    def _refresh(self) -> None:
        # Tab goes through the boxes, then the buttons, as they are shown.
        previous: QWidget = self
        for widget in (*self._spins, self.add_layer, self.remove_layer):
            QWidget.setTabOrder(previous, widget)
            previous = widget
        self.add_layer.setEnabled(len(self._spins) < MAX_HIDDEN_LAYERS)
        self.remove_layer.setEnabled(len(self._spins) > 0)
        n = len(self._spins)
        self._caption.setVisible(n > 0)
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
        Setup fields the user changed, e.g. ``{"lr": 0.1}``; choices that go
        together (softmax and its loss, …) are changed together.
    pace_changed(float)
        Iterations per second while playing (0 = full speed).
    message(str)
        A typed value was not applied (out of range): one sentence saying why.

    The panel shows the setup in force (:meth:`set_setup`, from the engine);
    after a change the engine refuses, :meth:`revert` shows it again.
    """

    changed = Signal(dict)
    pace_changed = Signal(float)
    message = Signal(str)

    def __init__(self, transport: Sequence[QAction] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self._updating = False
        self._setup: Any = None
        self._n_outputs: int | None = None
        self._n_train: int | None = None  # the data in force (set_data)
        self._n_all: int | None = None
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
        self.lr = _Spin("η", 0.0, 1000.0, 0.01, ladder=1e-9)
        self.lr.setToolTip(
            "η, the learning rate in θ ← θ − η·∂Err/∂θ (0 to 1000; the arrows step 1, 2, 5, 10 …)"
        )
        form.addRow("η (learning rate)", self.lr)
        self.batch_size = _IntSpin("Batch size", 1, 2**31 - 1)
        self.batch_size.setToolTip("Samples per iteration: 1 = one-sample SGD")
        # Beside the box when the training set is smaller: what an iteration really uses.
        self.batch_note = QLabel()
        self.batch_note.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.batch_size, 1)
        row.addWidget(self.batch_note)
        form.addRow("Batch size", row)
        self.pace = QComboBox()
        self.pace.addItems(list(PACES))
        self.pace.setToolTip("Iterations per second while playing")
        form.addRow("Pace", self.pace)
        self.momentum = _Spin("Momentum μ", 0.0, 0.999, 0.05, off=True)
        form.addRow("Momentum μ", self.momentum)
        self.l1 = _Spin("L1 regularisation", 0.0, 1000.0, 0.0001, off=True, ladder=1e-6)
        form.addRow("L1 regularisation", self.l1)
        self.l2 = _Spin("L2 regularisation", 0.0, 1000.0, 0.0001, off=True, ladder=1e-6)
        form.addRow("L2 regularisation", self.l2)
        self.clip_value = _Spin("Clip by value", 0.0, 1e6, 0.1, off=True)
        self.clip_value.setToolTip("Clip each gradient entry to [−c, c]")
        form.addRow("Clip by value", self.clip_value)
        self.clip_norm = _Spin("Clip by norm", 0.0, 1e6, 0.5, off=True)
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
        self.seed = _IntSpin("Seed", 0, 2**31 - 1)
        self.seed.setToolTip(
            "Seed of the initialiser's random θ and of the samples' order in each epoch; "
            "a new seed draws new θ (also in place of given ones)"
        )
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
        self.noise = _Spin("Noise", 0.0, 1.0, 0.05)
        form.addRow("Noise", self.noise)
        self.test_fraction = _Spin("Test fraction", 0.0, 0.9, 0.05)
        form.addRow("Test fraction", self.test_fraction)
        self.n_samples = _IntSpin("Samples", 2, MAX_SAMPLES, 50)
        form.addRow("Samples", self.n_samples)
        self.data_seed = _IntSpin("Data seed", 0, 2**31 - 1)
        form.addRow("Data seed", self.data_seed)
        self.noise.setToolTip("Noise added to the generated points (0 to 1)")
        self.test_fraction.setToolTip("Share of the samples held out as the test set")
        self.n_samples.setToolTip("Samples generated (training and test together)")
        self.data_seed.setToolTip("Seed of the generated points and of the test split")
        self._data_tips = {
            box: box.toolTip()
            for box in (self.noise, self.test_fraction, self.n_samples, self.data_seed)
        }
        layout.addWidget(data)
        layout.addStretch(1)

        # Item labels are short (the details are in their tooltips): a combo box is never
        # narrower than its longest label, so none is clipped on a small screen.
        for combo in self.findChildren(QComboBox):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setToolTip(combo.toolTip() or "")

        # wiring: every widget reports one Setup field
        for name in ("lr", "momentum", "l1", "l2", "noise", "test_fraction"):
            getattr(self, name).valueChanged.connect(lambda v, n=name: self._report({n: float(v)}))
        for name in ("clip_value", "clip_norm"):
            getattr(self, name).valueChanged.connect(
                lambda v, n=name: self._report({n: float(v) if v > 0 else None})
            )
        for name in ("batch_size", "seed", "n_samples", "data_seed"):
            getattr(self, name).valueChanged.connect(lambda v, n=name: self._report({n: int(v)}))
        for name in ("activation", "output_activation", "loss", "init", "dataset"):
            combo = getattr(self, name)
            combo.currentIndexChanged.connect(lambda _i, n=name, c=combo: self._chosen(n, c))
            # The combo's tooltip is its current item's (the loss's formula, …).
            combo.currentIndexChanged.connect(lambda i, c=combo: _tooltip_from_item(c, i))
            _tooltip_from_item(combo, combo.currentIndex())
        self.bias.toggled.connect(lambda v: self._report({"bias": bool(v)}))
        self.architecture.hidden_changed.connect(lambda h: self._report({"hidden": tuple(h)}))
        self.pace.currentTextChanged.connect(lambda t: self.pace_changed.emit(PACES[t]))
        for box in (*self.findChildren(_Spin), *self.findChildren(_IntSpin)):
            box.out_of_range.connect(self.message)
        self.architecture.message.connect(self.message)

    def _chosen(self, name: str, combo: QComboBox) -> None:
        """A combo box's entry changed: report its setting (the given-θ entry is no choice)."""
        if combo.currentData() != GIVEN_THETA:
            self._report({name: combo.currentData()})

    def _report(self, change: dict[str, Any]) -> None:
        if not self._updating:
            self.changed.emit(self._coupled(change))

    def _coupled(self, change: dict[str, Any]) -> dict[str, Any]:
        """The change with the choices that must go with it (never half-applied).

        A cross-entropy brings its output activation; softmax brings its loss;
        leaving softmax (or a sigmoid's BCE) picks a loss that fits the new output.
        """
        out = dict(change)
        shown = self._setup
        loss, act = out.get("loss"), out.get("output_activation")
        if loss is not None and act is None:
            need = LOSSES[loss].requires_output
            if need is not None:
                out["output_activation"] = need
            elif shown is not None and shown.output_activation == "softmax":
                out["output_activation"] = "sigmoid"
        elif act is not None and loss is None:
            if act == "softmax":
                out["loss"] = "softmax_ce"
            elif shown is not None:
                need = LOSSES[shown.loss].requires_output
                if need is not None and need != act:
                    out["loss"] = "bce" if act == "sigmoid" else "sse"
        return out

    def set_outputs(self, n_outputs: int) -> None:
        """Enable only the choices that fit data with ``n_outputs`` target columns.

        Softmax (and its loss) needs two outputs at least: for one output it is
        disabled, its tooltip saying why.
        """
        self._n_outputs = int(n_outputs)
        ok = self._n_outputs >= 2
        for combo, name in ((self.output_activation, "softmax"), (self.loss, "softmax_ce")):
            i = combo.findData(name)
            combo.model().item(i).setEnabled(ok)
            base = (
                LOSSES[name].formula + "   " + LOSSES[name].delta_formula
                if name in LOSSES
                else "softmax: ŷ_k = e^(u_k) / Σ_j e^(u_j)"
            )
            tip = base if ok else f"{base}   Not available: {SOFTMAX_NEEDS_TWO}"
            combo.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)

    def set_data(self, dataset: Any) -> None:
        """The data now trained on (a :class:`~bpviz.engine.datasets.Dataset`).

        The panel then shows what the engine makes of the setup with these
        data: a batch larger than the training set says that it uses all of
        it, and the boxes of settings these data do not use show the data's
        own numbers. Call before :meth:`set_setup` with the same run's setup.
        """
        self._n_train = int(dataset.X_train.shape[0])
        self._n_all = self._n_train + int(dataset.X_test.shape[0])
        self.set_outputs(dataset.n_outputs)

    def revert(self) -> None:
        """Show the setup in force again (after a change the engine refused)."""
        if self._setup is not None:
            self.set_setup(self._setup)

    def shown_setup(self) -> dict[str, Any]:
        """What every control shows, read back from its text, as Setup fields.

        ``init`` is :data:`GIVEN_THETA` while the start θ are given numbers;
        a disabled data box reads what the data are (e.g. 4 samples for the
        4-point XOR, which uses neither its sample count nor noise).
        """
        d: dict[str, Any] = {}
        for name in ("lr", "momentum", "l1", "l2", "noise", "test_fraction"):
            d[name] = getattr(self, name).shown()
        for name in ("clip_value", "clip_norm"):
            v = getattr(self, name).shown()
            d[name] = None if v == 0 else v
        for name in ("batch_size", "seed", "n_samples", "data_seed"):
            d[name] = getattr(self, name).shown()
        for name in ("activation", "output_activation", "loss", "init", "dataset"):
            d[name] = getattr(self, name).currentData()
        d["bias"] = self.bias.isChecked()
        d["hidden"] = self.architecture.hidden()
        return d

    def set_setup(self, setup: Any) -> None:
        """Show a Setup's values (the setup in force) without emitting :attr:`changed`."""
        self._updating = True
        self._setup = setup
        try:
            for name in ("lr", "momentum", "l1", "l2", "noise", "test_fraction"):
                getattr(self, name).show_value(float(getattr(setup, name)))
            for name in ("clip_value", "clip_norm"):
                v = getattr(setup, name)
                getattr(self, name).show_value(0.0 if v is None else float(v))
            for name in ("batch_size", "seed", "n_samples", "data_seed"):
                getattr(self, name).show_value(int(getattr(setup, name)))
            for name in ("activation", "output_activation", "loss", "init", "dataset"):
                combo: QComboBox = getattr(self, name)
                idx = combo.findData(getattr(setup, name))
                if name == "init":
                    idx = self._show_given_theta(setup.params is not None, idx)
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
            self._show_data_in_force(setup)
        finally:
            self._updating = False

    def _show_given_theta(self, given: bool, idx: int) -> int:
        """Add (or remove) the initialiser entry for given θ; the index to show."""
        at = self.init.findData(GIVEN_THETA)
        if not given:
            if at >= 0:
                self.init.removeItem(at)  # the last entry: ``idx`` stays right
            return idx
        if at < 0:
            self.init.addItem(GIVEN_THETA_TEXT, GIVEN_THETA)
            at = self.init.count() - 1
            self.init.setItemData(at, GIVEN_THETA_TIP, Qt.ItemDataRole.ToolTipRole)
            self.init.model().item(at).setEnabled(False)  # shown, never chosen
        return at

    def _show_data_in_force(self, setup: Any) -> None:
        """Batch note and data boxes: what the engine does with ``setup`` on these data."""
        n_train = self._n_train
        if n_train is not None and setup.batch_size > n_train:
            self.batch_note.setText(f"= all {n_train:,}")
            self.batch_note.setToolTip(
                f"The training set has {n_train:,} sample{'s' * (n_train != 1)}: each "
                "iteration uses all of them (a full batch)"
            )
            self.batch_note.show()
        else:
            self.batch_note.hide()
        fixed = FIXED_DATASETS.get(setup.dataset)
        csv = setup.dataset == "csv"
        label = DATASET_LABELS.get(setup.dataset, "this data")
        unused: dict[Any, str] = {}
        if fixed is not None:
            why = f"not used: {label} has {fixed} fixed point{'s' * (fixed != 1)}"
            unused = {
                self.noise: f"Noise {why} (no noise)",
                self.test_fraction: f"Test fraction {why} (no test set)",
                self.n_samples: f"Samples {why}",
                self.data_seed: f"Data seed {why} (nothing is drawn)",
            }
            self.noise.show_value(0.0)
            self.test_fraction.show_value(0.0)
            self.n_samples.setRange(1, MAX_SAMPLES)
            self.n_samples.show_value(fixed)
        elif csv:
            unused = {
                self.noise: "Noise not used: the data are the CSV file's (no noise)",
                self.n_samples: "Samples: the CSV file's rows (training and test together)",
            }
            self.noise.show_value(0.0)
            if self._n_all is not None:
                self.n_samples.setRange(1, MAX_SAMPLES)
                self.n_samples.show_value(self._n_all)
        else:
            self.n_samples.setRange(2, MAX_SAMPLES)
        for box, tip in self._data_tips.items():
            box.setEnabled(box not in unused)
            box.setToolTip(unused.get(box, tip))

    def set_pace(self, pace: float) -> None:
        """Select the pace entry closest to ``pace`` without emitting."""
        self.pace.blockSignals(True)
        best = min(PACES, key=lambda k: abs(PACES[k] - pace))
        self.pace.setCurrentText(best)
        self.pace.blockSignals(False)
