"""What the inspector and the quiz panel share: formulas in a scroll area.

:class:`FormulaPanel` keeps the font scale (presenter mode), high contrast and
the desktop's light or dark theme, and paints the formulas' scroll area in
:func:`~bpviz.views.formulas.palette`. A subclass builds its widgets, then
implements ``_apply_fonts``, ``_apply_colors`` (with :meth:`_paint_formulas`)
and ``_refresh``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from . import formulas
from .colors import dark_theme, dark_theme_change

__all__ = ["BASE_POINT_SIZE", "FormulaPanel"]

#: Font size of the formulas at scale 1; presenter mode multiplies it.
BASE_POINT_SIZE = 13.0


class FormulaPanel(QWidget):
    """A panel of formulas in a scroll area, in the formulas' own colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = 1.0
        self._high_contrast = False
        self._dark = dark_theme()  # follows the desktop's light/dark theme

    @Slot(float)
    def set_font_scale(self, f: float) -> None:
        """Scale the fonts (presenter mode: 2 or more for a projector)."""
        self._scale = max(0.25, float(f))
        self._apply_fonts()
        self._refresh()

    @Slot(bool)
    def set_high_contrast(self, on: bool) -> None:
        """Light text on black, with brighter stage colours."""
        self._high_contrast = bool(on)
        self._apply_colors()
        self._refresh()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the desktop theme: light formulas on dark grey in a dark one."""
        super().changeEvent(event)
        dark = dark_theme_change(event, self._dark)
        if dark is not None and hasattr(self, "_scroll"):
            self._dark = dark
            self._apply_colors()
            self._refresh()

    def _colors(self) -> formulas.Palette:
        return formulas.palette(self._high_contrast, self._dark)

    def _formula_scroll(self, content: QWidget) -> QScrollArea:
        """A frameless scroll area around ``content`` that takes no keyboard focus."""
        scroll = QScrollArea(self)
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return scroll

    def scroll_lines(self, n: int) -> None:
        """Scroll the formulas ``n`` lines down (negative: up); the Up and Down keys."""
        bar = self._scroll.verticalScrollBar()
        line = self._scroll.widget().fontMetrics().lineSpacing()
        bar.setValue(bar.value() + n * line)

    def wanted_height(self) -> int:
        """The panel's height that shows all its formulas without scrolling."""
        content = self._scroll.widget()
        width = self._scroll.viewport().width()
        if content.hasHeightForWidth():
            need = content.heightForWidth(width)
        else:
            need = content.sizeHint().height()
        frame = 2 * self._scroll.frameWidth()
        hbar = self._scroll.horizontalScrollBar()
        if hbar.isVisible():
            frame += hbar.height()
        return self.height() - self._scroll.height() + need + frame

    def _paint_formulas(self, content: Sequence[QWidget], labels: Sequence[QWidget]) -> None:
        """The formulas' background and text colour on ``content`` and the scroll area's
        viewport, in both modes. High contrast: the whole panel black and its ``labels``
        white; only the Window role on the panel itself, so its controls keep their look."""
        p = self._colors()
        pal = QPalette(content[0].palette())
        for role, color in (
            (QPalette.ColorRole.Window, p.background),
            (QPalette.ColorRole.Base, p.background),
            (QPalette.ColorRole.WindowText, p.text),
            (QPalette.ColorRole.Text, p.text),
        ):
            pal.setColor(role, QColor(color))
        for w in content:
            w.setPalette(pal)
        self._scroll.viewport().setAutoFillBackground(True)
        self._scroll.viewport().setPalette(pal)
        self.setAutoFillBackground(self._high_contrast)
        panel = QPalette()
        label_pal = QPalette()
        if self._high_contrast:
            panel.setColor(QPalette.ColorRole.Window, QColor(p.background))
            label_pal.setColor(QPalette.ColorRole.WindowText, QColor(p.text))
        self.setPalette(panel)
        for w in labels:
            w.setPalette(label_pal)

    def _apply_fonts(self) -> None:
        raise NotImplementedError

    def _apply_colors(self) -> None:
        raise NotImplementedError

    def _refresh(self) -> None:
        raise NotImplementedError
