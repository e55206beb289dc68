"""The inspector: the lecture's formulas with this network's live numbers.

Shows :func:`~bpviz.views.formulas.explain_phase` for the current phase, or
:func:`~bpviz.views.formulas.explain_neuron` /
:func:`~bpviz.views.formulas.explain_edge` when a neuron or an edge is
selected, as rich text in a scrollable, selectable label.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QResizeEvent, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.state import Snapshot

from . import formulas
from .formula_panel import BASE_POINT_SIZE, FormulaPanel

__all__ = ["BASE_POINT_SIZE", "Inspector"]


class Inspector(FormulaPanel):
    """Rich-text explanation of the current phase or of the selected neuron or edge.

    Signals
    -------
    sample_changed(int)
        The user picked another sample of the batch (0-based) in the spin box.
        :meth:`set_sample` does not emit it.
    formulas_changed()
        Other formulas are shown and laid out (presenter mode fits the panel to them).
    """

    sample_changed = Signal(int)
    formulas_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._snapshot: Snapshot | None = None
        self._config: dict | None = None
        self._selection: tuple | None = None
        self._sample = 0
        self._html = ""
        self._narrow = False
        self._scrolled_for: object = ()
        #: Whether the text says what to press or click (off for an animation's frames).
        self.hints = True

        self._header = QLabel(self)
        self._header.setTextFormat(Qt.TextFormat.RichText)
        self._header.setWordWrap(True)
        self._header.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self._sample_label = QLabel("Sample", self)
        self._sample_spin = QSpinBox(self)
        self._sample_spin.setRange(1, 1)
        self._sample_spin.setToolTip("Which sample of the batch the formulas show")
        self._sample_spin.valueChanged.connect(self._on_spin)
        self._sample_of = QLabel(self)
        # No keyboard focus: a focused spin box would eat Space and the arrow
        # keys, which step the lecture. Its arrows and the mouse wheel work.
        self._sample_spin.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        sample_row = QHBoxLayout()
        sample_row.setContentsMargins(0, 0, 0, 0)
        sample_row.addWidget(self._sample_label)
        sample_row.addWidget(self._sample_spin)
        sample_row.addWidget(self._sample_of)
        self._sample_box = QWidget(self)
        self._sample_box.setLayout(sample_row)
        self._sample_box.setVisible(False)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self._header, 1)
        top.addWidget(self._sample_box)

        self._label = QLabel(self)
        self._label.setTextFormat(Qt.TextFormat.RichText)
        self._label.setWordWrap(True)
        self._label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # After the interaction flags, which would give it ClickFocus: Space and
        # the arrows belong to the main window's shortcuts.
        self._label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._label.setContentsMargins(8, 4, 8, 8)
        self._label.setAutoFillBackground(True)

        self._scroll = self._formula_scroll(self._label)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._scroll, 1)

        self._apply_fonts()
        self._apply_colors()
        self._refresh()

    # -- public API ---------------------------------------------------------

    @Slot(object)
    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Explain this snapshot (the current phase, or the selection in it)."""
        self._snapshot = snapshot
        self._update_sample_box()
        self._refresh()

    @Slot(object)
    def set_config(self, config: dict) -> None:
        """The network's ``Network.config()``; clears a selection that no longer exists."""
        self._config = dict(config)
        if self._selection is not None and not self._valid(self._selection):
            self._selection = None
        self._refresh()

    @Slot(object)
    def set_selection(self, selection: tuple | None) -> None:
        """None, ``("neuron", l, i)`` or ``("edge", k, i, src)`` (src −1: the bias)."""
        self._selection = tuple(selection) if selection is not None else None
        self._refresh()

    @Slot(int)
    def set_sample(self, i: int) -> None:
        """Show sample ``i`` (0-based) of the batch; does not emit :attr:`sample_changed`."""
        self._sample = max(0, int(i))
        self._update_sample_box()
        self._refresh()

    def text(self) -> str:
        """The HTML currently shown."""
        return self._html

    def header_text(self) -> str:
        """The plain header line currently shown."""
        return self._header.text()

    def sample(self) -> int:
        """The sample shown (0-based, clamped into the batch)."""
        return min(self._sample, max(self._batch() - 1, 0))

    def font_scale(self) -> float:
        """The current font scale."""
        return self._scale

    # -- internals ------------------------------------------------------------

    def _batch(self) -> int:
        s = self._snapshot
        return 0 if s is None or s.x is None else int(s.x.shape[0])

    def _valid(self, sel: tuple) -> bool:
        if self._config is None:
            return True
        sizes = list(self._config["sizes"])
        bias = bool(self._config.get("bias", True))
        try:
            if sel[0] == "neuron":
                _, l, i = sel
                return 0 <= l < len(sizes) and 0 <= i < sizes[l]
            if sel[0] == "edge":
                _, k, i, src = sel
                return (
                    0 <= k < len(sizes) - 1
                    and 0 <= i < sizes[k + 1]
                    and (0 <= src < sizes[k] or (src == -1 and bias))
                )
        except (TypeError, ValueError):
            return False
        return False

    def _update_sample_box(self) -> None:
        batch = self._batch()
        self._sample_box.setVisible(batch > 1)
        if batch > 1:
            self._sample_spin.blockSignals(True)
            self._sample_spin.setRange(1, batch)
            self._sample_spin.setValue(self.sample() + 1)
            self._sample_spin.blockSignals(False)
            self._sample_of.setText(f"of {batch}")

    @Slot(int)
    def _on_spin(self, value: int) -> None:
        self._sample = value - 1
        self._refresh()
        self.sample_changed.emit(self._sample)

    def _apply_fonts(self) -> None:
        size = BASE_POINT_SIZE * self._scale
        body = QFont(self.font())
        body.setPointSizeF(size)
        self._label.setFont(body)
        small = QFont(body)
        small.setPointSizeF(size * 0.85)
        self._sample_label.setFont(small)
        self._sample_spin.setFont(small)
        self._sample_of.setFont(small)
        head = QFont(body)
        head.setPointSizeF(size * 0.9)
        head.setBold(True)
        self._header.setFont(head)

    def _apply_colors(self) -> None:
        self._paint_formulas([self._label], [self._header, self._sample_label, self._sample_of])

    def _refresh(self) -> None:
        snap, config = self._snapshot, self._config
        muted = self._colors().muted
        if config is None or snap is None:
            self._header.setText("Formulas")
            what = "network" if config is None else "snapshot"
            html = f'<p style="color:{muted}"><i>Waiting for the {what}…</i></p>'
        else:
            sizes = list(config["sizes"])
            label = formulas.subject_label(self._selection, snap.phase, sizes)
            if self._selection is None and snap.phase is None:
                n = snap.iteration
                label = f"After iteration {n:,}" if n else "Before the first iteration"
            self._header.setText(formulas.notation_html(label))
            try:
                html = self._explain(narrow=False)
                self._narrow = not self._fits(html)
                if self._narrow:
                    html = self._explain(narrow=True)
            except (ValueError, IndexError) as exc:  # a selection from another network
                html = f'<p style="color:{muted}"><i>Nothing to explain: {exc}</i></p>'
        self._html = html
        self._label.setText(html)
        # Show the part this phase computed: scroll to it when the phase or the
        # selection changes (not on every repaint, which would fight the user).
        key = (
            None if snap is None or snap.phase is None else (snap.iteration, snap.phase.index),
            self._selection,
        )
        if key != self._scrolled_for:
            self._scrolled_for = key
            # Once the scroll area has resized the label to the new text.
            QTimer.singleShot(0, self, self._scroll_to_now)

    @Slot()
    def _scroll_to_now(self) -> None:
        y = self._anchor_y(self._html, formulas.NOW_ANCHOR)
        bar = self._scroll.verticalScrollBar()
        bar.setValue(0 if y is None else max(0, int(y) - 4))
        self.formulas_changed.emit()

    def _anchor_y(self, html: str, name: str) -> float | None:
        """Top of the block holding anchor ``name``, laid out like the label."""
        if f'name="{name}"' not in html:
            return None
        doc = QTextDocument()
        doc.setDefaultFont(self._label.font())
        doc.setDocumentMargin(0)
        doc.setHtml(html)
        m = self._label.contentsMargins()
        doc.setTextWidth(self._label.width() - m.left() - m.right())
        layout = doc.documentLayout()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                if name in it.fragment().charFormat().anchorNames():
                    return m.top() + layout.blockBoundingRect(block).top()
                it += 1
            block = block.next()
        return None

    def _explain(self, narrow: bool) -> str:
        snap, config, sel = self._snapshot, self._config, self._selection
        assert snap is not None and config is not None
        kw = {"high_contrast": self._high_contrast, "narrow": narrow, "dark": self._dark}
        sample = self.sample()
        if sel is not None and sel[0] == "neuron":
            return formulas.explain_neuron(snap, config, sel[1], sel[2], sample, **kw)
        if sel is not None and sel[0] == "edge":
            return formulas.explain_edge(snap, config, sel[1], sel[2], sel[3], sample, **kw)
        return formulas.explain_phase(snap, config, sample, hints=self.hints, **kw)

    def _available_width(self) -> int:
        """Width the label's text may use without a horizontal scroll bar."""
        m = self._label.contentsMargins()
        width = self._scroll.viewport().width() or self.width()
        if not self._scroll.verticalScrollBar().isVisible():
            # Leave room for the vertical scroll bar that long text will bring.
            width -= self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        return max(50, width - m.left() - m.right())

    def _fits(self, html: str) -> bool:
        """True when ``html`` lays out in the available width (no line overflows).

        A hidden inspector has no width yet: it takes the wide layout, and
        chooses again when it is shown (a resize).
        """
        if not self.isVisible():
            return True
        doc = QTextDocument()
        doc.setDefaultFont(self._label.font())
        doc.setDocumentMargin(0)
        doc.setHtml(html)
        width = self._available_width()
        doc.setTextWidth(width)
        return doc.idealWidth() <= width

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Choose again between the wide and the narrow layout."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            # Once the scroll area has laid the label out at the new width.
            QTimer.singleShot(0, self, self._relayout)

    @Slot()
    def _relayout(self) -> None:
        """Pick the wide or narrow layout for the current width, then show this phase's part."""
        if self._snapshot is None or self._config is None:
            return
        if self._fits(self._explain(narrow=False)) == self._narrow:
            self._refresh()
        self._scroll_to_now()
