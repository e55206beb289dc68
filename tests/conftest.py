import os

# Qt needs a platform before it is imported; offscreen works without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
