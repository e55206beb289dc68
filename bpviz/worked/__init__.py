"""A worked backprop iteration as plain data, and its renderers (no Qt).

:mod:`.expr` holds the expression tree and its printers (Qt rich text,
LaTeX, plain text); :mod:`.model` turns an engine snapshot into
:class:`~bpviz.worked.model.Equation` records in the notes' order;
:mod:`.handout` lays out a document of one iteration and writes it as
Markdown, LaTeX or HTML (the PDF is drawn with Qt by :mod:`bpviz.handout_pdf`).
"""

from .expr import HtmlPrinter, LatexPrinter, PlainPrinter, fmt, interval
from .model import Equation, Worked, neuron_number, theta_label

__all__ = [
    "Equation",
    "HtmlPrinter",
    "LatexPrinter",
    "PlainPrinter",
    "Worked",
    "fmt",
    "interval",
    "neuron_number",
    "theta_label",
]
