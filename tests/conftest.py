import os

# Qt needs a platform before it is imported; offscreen works without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_addoption(parser):
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite the worked-iteration handouts in tests/engine/worked_golden (then "
        "read the diff before committing it)",
    )
