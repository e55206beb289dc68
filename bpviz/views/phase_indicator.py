"""The three boxes of the lecture notes' algorithm, with the current one lit.

FORWARD PASS → BACKWARD PASS → WEIGHT UPDATE, as in section 6 of the notes;
under them the phase's title and "phase k of n".
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from bpviz.engine.state import STAGES, Snapshot

from . import formulas
from .colors import dark_theme, dark_theme_change

__all__ = ["PhaseIndicator"]

#: Font size at scale 1.
BASE_POINT_SIZE = 11.0

#: What each box of the notes says, one line each.
_BOX_LINES = {
    STAGES[0]: "u, o  →",
    STAGES[1]: "δ, ∂Err/∂θ  ←",
    STAGES[2]: "θ ← θ − η·δ·o",
}


class PhaseIndicator(QWidget):
    """Which stage of the iteration the walk is in: one lit box out of three."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stage: str | None = None
        self._scale = 1.0
        self._high_contrast = False
        self._dark = dark_theme()  # follows the desktop's light/dark theme
        self._boxes: dict[str, QLabel] = {}
        self._arrows: list[QLabel] = []

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        for n, stage in enumerate(STAGES):
            if n:
                arrow = QLabel("→", self)
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self._arrows.append(arrow)
                row.addWidget(arrow)
            box = QLabel(self)
            box.setTextFormat(Qt.TextFormat.RichText)
            box.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.setWordWrap(True)
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._boxes[stage] = box
            row.addWidget(box, 1)

        self._title = QLabel(self)
        self._title.setTextFormat(Qt.TextFormat.RichText)
        self._title.setWordWrap(True)
        self._title.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self._title)

        self._title_html = ""
        self._count_text = "between iterations · iteration 0"
        self._apply()

    # -- public API ---------------------------------------------------------

    @Slot(object)
    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Light the stage of ``snapshot.phase`` (none between iterations)."""
        ph = snapshot.phase
        stage = None if ph is None else ph.stage
        if ph is None:
            title_html = ""
            count_text = f"between iterations · iteration {snapshot.iteration:,}"
        else:
            title_html = formulas.notation_html(ph.title)
            # The update's snapshot already counts its iteration as completed.
            current = snapshot.iteration if ph.is_last else snapshot.iteration + 1
            count_text = f"phase {ph.index + 1} of {ph.count} · iteration {current:,}"
        restyle = stage != self._stage
        if not restyle and (title_html, count_text) == (self._title_html, self._count_text):
            return  # nothing changed
        self._stage, self._title_html, self._count_text = stage, title_html, count_text
        if restyle:
            self._apply()
        else:
            # Same stage: only the line under the boxes changes (no restyling,
            # which costs a style sheet pass per box).
            self._apply_title()

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale the fonts (presenter mode)."""
        self._scale = max(0.25, float(f))
        self._apply()

    @Slot(bool)
    def set_high_contrast(self, on: bool) -> None:
        """Brighter stage colours for a dark background."""
        self._high_contrast = bool(on)
        self._apply()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the desktop theme (brighter stage colours in a dark one)."""
        super().changeEvent(event)
        dark = dark_theme_change(event, self._dark)
        if dark is not None and self._boxes:
            self._dark = dark
            self._apply()

    def active_stage(self) -> str | None:
        """The lit stage (one of ``STAGES``), or None between iterations."""
        return self._stage

    def title_text(self) -> str:
        """The line under the boxes: phase title and "phase k of n" (rich text)."""
        return self._title.text()

    def count_text(self) -> str:
        """The "phase k of n · iteration N" part (plain text)."""
        return self._count_text

    # -- internals ------------------------------------------------------------

    def _apply(self) -> None:
        size = BASE_POINT_SIZE * self._scale
        p = formulas.palette(self._high_contrast, self._dark)
        # High contrast: a black strip, so the light stage colours stand out.
        self.setAutoFillBackground(self._high_contrast)
        pal = QPalette()
        if self._high_contrast:
            pal.setColor(QPalette.ColorRole.Window, QColor(p.background))
        self.setPalette(pal)
        # In presenter mode the boxes keep only the stage names, to leave room
        # for the formulas; the lit box and the title line say the rest.
        with_lines = self._scale < 1.5
        pad = max(2, round(4 * self._scale))
        for stage, box in self._boxes.items():
            lit = stage == self._stage
            font = QFont(self.font())
            font.setPointSizeF(size)
            font.setBold(lit)
            box.setFont(font)
            color = formulas.stage_color(stage, self._high_contrast, self._dark)
            if lit:
                style = (
                    f"QLabel {{ background-color: {color}; color: {p.background}; "
                    f"border: 2px solid {color}; border-radius: 6px; padding: {pad}px; }}"
                )
            else:
                style = (
                    f"QLabel {{ background-color: transparent; color: {p.muted}; "
                    f"border: 1px dashed {p.rule}; border-radius: 6px; padding: {pad}px; }}"
                )
            box.setStyleSheet(style)
            text = stage
            if with_lines:
                text += f"<br><small>{_BOX_LINES[stage]}</small>"
            box.setText(text)
        for arrow in self._arrows:
            font = QFont(self.font())
            font.setPointSizeF(size * 1.2)
            arrow.setFont(font)
            arrow.setStyleSheet(f"QLabel {{ color: {p.muted}; }}")
        title = QFont(self.font())
        title.setPointSizeF(size * 1.1)
        self._title.setFont(title)
        self._apply_title()

    def _apply_title(self) -> None:
        p = formulas.palette(self._high_contrast, self._dark)
        with_lines = self._scale < 1.5
        count_text = self._count_text
        if not with_lines and self._stage is not None:
            count_text = count_text.split(" · ")[0]  # "phase k of n" only
        count_text = " · ".join(part.replace(" ", "&nbsp;") for part in count_text.split(" · "))
        count = f'<span style="color:{p.muted}">{count_text}</span>'
        if self._stage is None:
            self._title.setText(count)
            return
        count = f"<small>{count}</small>"
        color = formulas.stage_color(self._stage, self._high_contrast, self._dark)
        self._title.setText(
            f'<b><span style="color:{color}">{self._title_html}</span></b>&nbsp;&nbsp; {count}'
        )
