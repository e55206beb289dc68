"""Quiz mode: the formula panel asks for the next result instead of showing it.

The panel follows the walk like the inspector does. For each phase it asks
the quantities of the kinds chosen in its menu (:data:`~bpviz.worked.quiz.KINDS`),
one at a time: the formula with this neuron's numbers, the numbers it needs,
and a field for the result. Enter checks (3 significant figures); a wrong
answer names the likely mistake and shows the working without the result;
Esc (Skip) reveals it. The score counts answers right first time, right after
a hint, and revealed. All checking is :mod:`bpviz.worked.quiz` (no Qt).

Keys: while a question waits, the field keeps the keys of typing a number
(digits, the cursor keys, Backspace); every other key, and every key once
the phase's questions are settled, goes to the window's shortcuts, so →,
Page Down and Space step and play as always.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QAction, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpviz.engine.state import Snapshot
from bpviz.worked import quiz
from bpviz.worked.expr import HtmlPrinter, fmt

from . import formulas
from .formula_panel import BASE_POINT_SIZE, FormulaPanel

__all__ = ["AnswerField", "QuizPanel"]

#: Keys the answer field keeps while a question waits (typing a number).
_EDIT_KEYS = {
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Delete,
}
_EDIT_TEXT = set("0123456789.,-+eE−^·*×")


#: The left-hand side of each kind's general formula.
_GENERAL_LHS = {
    "u": "u<sub>i</sub>",
    "o": "o<sub>i</sub>",
    "err": "Err",
    "delta": "δ<sub>i</sub>",
    "grad": "∂Err/∂θ<sub>iℓ</sub>",
    "update": "θ<sub>iℓ</sub>",
}


class AnswerField(QLineEdit):
    """The answer's line edit; it claims only the keys of typing a number.

    The window's shortcut guard leaves it alone (its ``bpviz_owns_keys``
    property); it decides itself in :meth:`event`.
    """

    skip_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("bpviz_owns_keys", True)
        self.answering = False

    def claims(self, event: QKeyEvent) -> bool:
        """True if the field keeps this key (else the window's shortcut gets it)."""
        if not self.answering or self.isReadOnly():
            return False
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if event.key() in _EDIT_KEYS:
            return True
        text = event.text()
        return bool(text) and all(ch in _EDIT_TEXT for ch in text)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent):
            if self.claims(e):
                e.accept()
            else:
                e.ignore()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key.Key_Escape and self.answering:
            self.skip_requested.emit()
            return
        if not self.answering and e.key() not in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            e.ignore()  # nothing to type: let the window have it
            return
        super().keyPressEvent(e)


class QuizPanel(FormulaPanel):
    """Asks the current phase's quantities; checks, names mistakes, keeps the score.

    Signals
    -------
    changed()
        What the other views may show changed (a phase's results were all
        settled, or the quiz started or stopped): repaint them.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: quiz.QuizSession | None = None
        self._active = False
        self._snapshot: Snapshot | None = None
        self._feedback = ""
        self._revealed: quiz.Question | None = None
        self._kinds = set(quiz.KINDS)
        self._p = HtmlPrinter(max_terms=8)

        self.header = QLabel(self)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.score_label = QLabel(self)
        self.score_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.question = QLabel(self)
        self.question.setTextFormat(Qt.TextFormat.RichText)
        self.field = AnswerField(self)
        self.field.setPlaceholderText("your result")
        self.field.setMinimumWidth(140)
        self.field.returnPressed.connect(self.check)
        self.field.skip_requested.connect(self.skip)
        self.check_button = QPushButton("Check (Enter)", self)
        self.check_button.clicked.connect(self.check)
        self.skip_button = QPushButton("Skip (Esc)", self)
        self.skip_button.clicked.connect(self.skip)
        self.kinds_menu = QMenu("Quiz &asks", self)
        self.kind_actions: dict[str, QAction] = {}
        for kind in quiz.KINDS:
            a = self.kinds_menu.addAction(quiz.KIND_LABELS[kind])
            a.setCheckable(True)
            a.setChecked(True)
            a.toggled.connect(self._on_kinds)
            self.kind_actions[kind] = a
        self.kinds_button = QPushButton("Asks…", self)
        self.kinds_button.setMenu(self.kinds_menu)
        for b in (self.check_button, self.skip_button, self.kinds_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.feedback = QLabel(self)
        self.body = QLabel(self)
        self.given = QLabel(self)
        for w in (self.feedback, self.body, self.given):
            w.setTextFormat(Qt.TextFormat.RichText)
            w.setWordWrap(True)
            w.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Left: the verdict, the working, what is settled; right: the given numbers.
        self._content = QWidget()
        self._content.setAutoFillBackground(True)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(2)
        left.addWidget(self.feedback)
        left.addWidget(self.body, 1)
        row = QHBoxLayout(self._content)
        row.setContentsMargins(8, 2, 8, 4)
        row.addLayout(left, 3)
        row.addWidget(self.given, 2)
        self._scroll = self._formula_scroll(self._content)
        for w in (
            self.header,
            self.score_label,
            self.question,
            self.feedback,
            self.body,
            self.given,
        ):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.score_label)
        ask = QHBoxLayout()
        ask.addWidget(self.question)
        ask.addWidget(self.field, 1)
        ask.addWidget(self.check_button)
        ask.addWidget(self.skip_button)
        ask.addWidget(self.kinds_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(ask)
        layout.addWidget(self._scroll, 1)
        self._apply_fonts()
        self._apply_colors()
        self._refresh()

    # -- public API ---------------------------------------------------------

    def set_config(self, config: dict) -> None:
        """A new network: a new quiz (the score starts again)."""
        self.session = quiz.QuizSession(config, self._kinds)
        self._snapshot = None
        self._feedback = ""
        self._revealed = None
        self._refresh()

    def set_active(self, on: bool) -> None:
        """Quiz mode on or off (the panel follows snapshots only while on)."""
        self._active = bool(on)
        if on and self._snapshot is not None and self.session is not None:
            self._follow(self._snapshot)
        self._refresh()
        self.changed.emit()

    def is_active(self) -> bool:
        return self._active

    def follow(self, snap: Snapshot, sample: int = 0) -> Snapshot:
        """Take a snapshot; return it as the other views may show it (results hidden)."""
        self._snapshot = snap
        if not self._active or self.session is None:
            return snap
        self.session.sample = sample
        self._follow(snap)
        return self.session.hidden(snap)

    def score(self) -> quiz.Score | None:
        return None if self.session is None else self.session.score

    def set_kinds(self, kinds) -> None:
        """Which kinds of quantity are asked (as the menu's check marks)."""
        for kind, a in self.kind_actions.items():
            a.setChecked(kind in set(kinds))

    # -- answering ------------------------------------------------------------

    @Slot()
    def check(self) -> None:
        """Check the typed answer (Enter)."""
        s = self.session
        if s is None or s.current is None:
            return
        q = s.current
        try:
            result = s.answer(self.field.text())
        except ValueError as exc:
            self._feedback = self._say(str(exc)[0].upper() + str(exc)[1:] + ".", "muted")
            self._refresh()
            return
        if result.right:
            done = s.record_of(q)
            how = "right first time" if done == "first" else "right after a hint"
            self._feedback = self._say(
                f"✔ {self._q(q.equation.quantity)} = {fmt(q.answer)}: {how}.", "good"
            )
            self._revealed = None
            self.field.clear()
            self._next()
        else:
            working = self._working(q, with_value=False)
            message = formulas.notation_html(result.message())
            self._feedback = (
                self._say("✘ " + message, "bad")
                + self._say(" Try again, or Esc for the result.", "muted")
                + f"<br>{working}"
            )
            self.field.selectAll()
            self._refresh()

    @Slot()
    def skip(self) -> None:
        """Reveal the current question's result (Esc)."""
        s = self.session
        if s is None or s.current is None:
            return
        q = s.skip()
        self._revealed = q
        self._feedback = self._say("Revealed:", "muted") + " " + self._working(q, True)  # type: ignore[arg-type]
        self.field.clear()
        self._next()

    # -- internals --------------------------------------------------------------

    def _follow(self, snap: Snapshot) -> None:
        assert self.session is not None
        if self.session.show(snap):
            self._feedback = ""
            self._revealed = None
            self._refresh()
            if self.session.current is not None and self.isVisible():
                self.field.setFocus()

    def _next(self) -> None:
        self._refresh()
        if self.session is not None and self.session.done:
            self.changed.emit()  # the other views may show the phase's results now

    def _on_kinds(self) -> None:
        self._kinds = {k for k, a in self.kind_actions.items() if a.isChecked()}
        if self.session is not None:
            self.session.set_kinds(self._kinds)
        self._feedback = ""
        self._refresh()
        self.changed.emit()

    def _say(self, text: str, tone: str) -> str:
        p = self._colors()
        color = {"good": p.update, "bad": p.backward, "muted": p.muted}.get(tone, p.text)
        return f'<span style="color:{color}">{text}</span>'

    def _q(self, e) -> str:
        return self._p.doprint(e)

    def _working(self, q: quiz.Question, with_value: bool) -> str:
        """The equation with its numbers; the result only ``with_value``."""
        e = q.equation
        parts = [self._q(e.quantity), f" {html.escape(e.relation)} "]
        forms = [f for f in (e.symbolic, e.substituted, *e.steps) if f is not None]
        parts.append(" = ".join(self._q(f) for f in forms))
        if with_value:
            p = self._colors()
            parts.append(f' = <b><span style="color:{p.update}">{fmt(q.answer)}</span></b>')
        else:
            parts.append(" = ?")
        return "".join(parts)

    def _given_html(self, q: quiz.Question) -> str:
        assert self.session is not None and self.session.worked is not None
        g = quiz.givens(self.session.worked, q)
        p = self._colors()
        out = []
        if g.values:
            vals = " &nbsp; ".join(
                f"{self._q(sym)}&nbsp;=&nbsp;{html.escape(fmt(v))}" for sym, v in g.values
            )
            out.append(f'<p style="margin:2px">{self._say("Given:", "muted")}<br>{vals}</p>')
        for m in g.matrices:
            head = "".join(
                f'<td align="right" style="color:{p.muted}">&nbsp;ℓ = {c}&nbsp;</td>'
                for c in m.columns
            )
            rows = "".join(
                f'<tr><td style="color:{p.muted}">θ<sub>{r},·</sub>&nbsp;</td>'
                + "".join(f'<td align="right">&nbsp;{html.escape(fmt(v))}&nbsp;</td>' for v in vs)
                + "</tr>"
                for r, vs in m.rows
            )
            out.append(
                f'<p style="margin:2px">{self._say(html.escape(m.title) + ":", "muted")}</p>'
                f'<table cellspacing="0" cellpadding="1" style="margin-left:12px">'
                f"<tr><td></td>{head}</tr>{rows}</table>"
            )
        return "".join(out)

    def _refresh(self) -> None:
        s = self.session
        p = self._colors()
        if s is not None:
            self.score_label.setText(s.score.text())
        q = None if s is None else s.current
        self.field.answering = q is not None
        self.field.setReadOnly(q is None)
        self.check_button.setEnabled(q is not None)
        self.skip_button.setEnabled(q is not None)
        snap = None if s is None or s.worked is None else s.worked.snap
        ph = None if snap is None else snap.phase
        if not self._active:
            self.header.setText("<b>Quiz</b>")
            self.question.setText("")
            self.body.setText("Press Q (Train ▸ Quiz) to practise.")
            self.given.setText("")
            return
        if ph is None:
            self.header.setText("<b>Quiz</b> · between iterations")
            self.question.setText("")
            self.field.setPlaceholderText("")
            self.feedback.setText(self._feedback)
            self.given.setText("")
            asked = ", ".join(quiz.KIND_LABELS[k] for k in quiz.KINDS if k in self._kinds)
            self.body.setText(
                "Press → to walk the next iteration: each phase's results are hidden, and "
                f"you compute them. Asked: {html.escape(asked or 'nothing')} (menu “Asks…”)."
            )
            return
        color = formulas.stage_color(ph.stage, self._high_contrast, self._dark)
        self.header.setText(
            f'<b><span style="color:{color}">Quiz · {formulas.notation_html(ph.title)}</span></b>'
        )
        self.feedback.setText(self._feedback)
        done_rows = []
        for rec in s.settled_in_phase():  # type: ignore[union-attr]
            mark = {"first": "✔", "hint": "✔ (after a hint)", "revealed": "revealed"}[rec.outcome]
            value = html.escape(fmt(rec.question.answer))
            done_rows.append(
                f"{self._q(rec.question.equation.quantity)} = {value}"
                f" &nbsp;{self._say(mark, 'good' if rec.outcome != 'revealed' else 'muted')}"
            )
        done = ""
        if done_rows:
            done = f'<p style="margin:2px">{" &nbsp;·&nbsp; ".join(done_rows)}</p>'
        if q is None:
            self.question.setText("")
            self.field.setPlaceholderText("→ next phase")
            msg = (
                "All asked quantities of this phase are settled. Press → for the next phase."
                if s.asked  # type: ignore[union-attr]
                else "Nothing to compute in this phase of the kinds asked. Press → to go on."
            )
            self.body.setText(f'{done}<p style="margin:2px">{msg}</p>')
            self.given.setText("")
            return
        e = q.equation
        left = len(s.pending)  # type: ignore[union-attr]
        rhs = self._q(e.symbolic if e.symbolic is not None else e.general)
        self.question.setText(f"{self._q(e.quantity)} {html.escape(e.relation)} {rhs} =")
        self.field.setPlaceholderText("your result, Enter")
        lhs = _GENERAL_LHS.get(q.kind, "")
        if q.kind == "delta" and e.layer == self.session.worked.last:  # type: ignore[union-attr]
            lhs = "δ<sub>k</sub>"
        general = self._say(f"{lhs} {html.escape(e.relation)} {self._q(e.general)}", "muted")
        count = f"{left} question{'s' if left != 1 else ''} left in this phase"
        self.body.setText(
            f'<p style="margin:2px">{general}</p>{done}'
            f'<p style="margin:2px;color:{p.muted}">{count} · Enter checks (3 significant '
            "figures) · Esc reveals</p>"
        )
        self.given.setText(self._given_html(q))

    def _apply_fonts(self) -> None:
        size = BASE_POINT_SIZE * self._scale
        body = QFont(self.font())
        body.setPointSizeF(size)
        for w in (
            self.question,
            self.field,
            self.feedback,
            self.body,
            self.given,
            self.score_label,
        ):
            w.setFont(body)
        small = QFont(body)
        small.setPointSizeF(size * 0.85)
        for w in (self.check_button, self.skip_button, self.kinds_button):
            w.setFont(small)
        head = QFont(body)
        head.setPointSizeF(size * 0.95)
        head.setBold(True)
        self.header.setFont(head)

    def _apply_colors(self) -> None:
        self._paint_formulas(
            [self._content, self.feedback, self.body, self.given],
            [self.header, self.score_label, self.question],
        )
