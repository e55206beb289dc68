"""A small table for typing the start θ of one weight layer (an exam-style example).

Rows are the neurons i of layer k + 1, columns the bias θ_i0 (when the network
has biases) and θ_iℓ for each neuron ℓ of layer k, as in the notes. The
dialog only collects numbers; the window sends them to the engine and makes
them the start θ, so that Reset returns to them and a saved experiment keeps them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .controls import format_value

__all__ = ["StartWeightsDialog"]


class StartWeightsDialog(QDialog):
    """Edit θ of one layer at a time; :meth:`changes` lists what was typed.

    Parameters
    ----------
    weights, biases : sequences of arrays
        The θ in force: ``weights[k]`` is (n_out, n_in), ``biases[k]`` (n_out,).
    bias : bool
        Whether the network has biases θ_i0 (a column of its own).
    """

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray],
        bias: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start weights θ")
        self._weights = [np.array(w, dtype=np.float64) for w in weights]
        self._biases = [np.array(b, dtype=np.float64) for b in biases]
        self._bias = bool(bias)
        self._typed: dict[tuple[int, int, int], float] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "θ_iℓ joins neuron ℓ (column) to neuron i (row). Type θ for one layer at a\n"
                "time; OK makes them the start θ: Reset returns to them, a saved experiment\n"
                "keeps them."
            )
        )
        self.layer = QComboBox()
        for k in range(len(self._weights)):
            self.layer.addItem(f"θ from layer {k} to layer {k + 1}", k)
        layout.addWidget(self.layer)
        self.table = QTableWidget()
        layout.addWidget(self.table, 1)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._shown = -1
        self.layer.currentIndexChanged.connect(self._switch)
        self._switch()

    def _cells(self) -> list[tuple[int, int, int]]:
        """(row, column, src) of every cell of the layer shown; src −1 is the bias."""
        n_out, n_in = self._weights[self._shown].shape
        srcs = ([-1] if self._bias else []) + list(range(n_in))
        return [(i, c, src) for i in range(n_out) for c, src in enumerate(srcs)]

    def _switch(self) -> None:
        if self._shown >= 0 and not self._read():
            self.layer.blockSignals(True)
            self.layer.setCurrentIndex(self._shown)  # fix the typing first
            self.layer.blockSignals(False)
            return
        k = self._shown = int(self.layer.currentData())
        n_out, n_in = self._weights[k].shape
        # The notes' numbering, as in the graph: inputs 1, 2, then the next layers on.
        first_in = 1 + sum(w.shape[1] for w in self._weights[:k])
        first_out = first_in + n_in
        headers = (["ℓ = 0 (bias)"] if self._bias else []) + [
            f"ℓ = {first_in + s}" for s in range(n_in)
        ]
        self.table.clear()
        self.table.setRowCount(n_out)
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setVerticalHeaderLabels([f"i = {first_out + i}" for i in range(n_out)])
        for i, c, src in self._cells():
            value = self._typed.get((k, i, src), self._value(k, i, src))
            self.table.setItem(i, c, QTableWidgetItem(format_value(value)))
        self.table.resizeColumnsToContents()

    def _value(self, k: int, i: int, src: int) -> float:
        return float(self._biases[k][i] if src < 0 else self._weights[k][i, src])

    def _read(self) -> bool:
        """Take the shown layer's cells; False (with a message) if one is not a number."""
        k = self._shown
        read: dict[tuple[int, int, int], float] = {}
        for i, c, src in self._cells():
            text = self.table.item(i, c).text().strip()
            try:
                value = float(text.replace(",", ".").replace("−", "-"))
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                self.error.setText(f"Row {i + 1}, column {c + 1}: {text!r} is not a number.")
                self.error.show()
                self.table.setCurrentCell(i, c)
                return False
            read[(k, i, src)] = value
        self.error.hide()
        self._typed.update(read)
        return True

    def set_cell(self, i: int, src: int, text: str) -> None:
        """Type ``text`` into row ``i``, source ``src`` (−1: the bias) of the layer shown."""
        for row, c, s in self._cells():
            if row == i and s == src:
                self.table.item(row, c).setText(text)
                return
        raise IndexError(f"no cell ({i}, {src}) in this layer")

    def accept(self) -> None:
        """Close only when every cell holds a number."""
        if self._read():
            super().accept()

    def changes(self) -> list[tuple[int, int, int, float]]:
        """(k, i, src, value) for every θ typed differently from the one in force."""
        return [
            (k, i, src, v)
            for (k, i, src), v in sorted(self._typed.items())
            if v != self._value(k, i, src)
        ]
