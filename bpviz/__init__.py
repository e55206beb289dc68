"""bpviz: watch backpropagation, phase by phase."""

__version__ = "0.1.0"
