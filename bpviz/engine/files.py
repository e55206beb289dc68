"""Reading input files safely: regular files only, and never more than a limit.

A FIFO would block the reader until someone writes to it, ``/dev/zero``
never ends, and a directory is not a document. :func:`read_regular_file`
refuses all of them *before* reading: the file is opened without blocking
(``O_NONBLOCK``, so even a FIFO with no writer returns at once), checked
with ``fstat`` on the open descriptor (no race between the check and the
read), and read up to a stated size limit. Pure standard library.
"""

from __future__ import annotations

import os
import stat

__all__ = ["FileRefused", "read_regular_file", "size_text"]


class FileRefused(OSError):
    """The path is not a regular file, is too large or cannot be read.

    ``str(exc)`` and ``exc.reason`` are the reason only (the caller names the
    file), e.g. ``"is a FIFO, not a regular file"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def size_text(n: int) -> str:
    """``256 MiB``, ``1.5 GiB``: a byte count as people read it."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            value = n / size
            return f"{value:,.0f} {unit}" if value == int(value) else f"{value:,.1f} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_regular_file(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    FileRefused
        For anything else: not a regular file (directory, FIFO, device,
        socket), larger than ``limit`` (the limit is in the reason), or an
        error reading it.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:  # Windows; POSIX opens a directory and fstat tells
        raise FileRefused("is a directory, not a regular file") from None
    except (OSError, TypeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise FileRefused(f"cannot read the file ({reason})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise FileRefused(
                f"the file has {size_text(st.st_size)}, more than the limit of {size_text(limit)}"
            )
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 24, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while being read
                raise FileRefused(f"the file is larger than the limit of {size_text(limit)}")
        return b"".join(chunks)
    except OSError as exc:
        if isinstance(exc, FileRefused):
            raise
        raise FileRefused(f"cannot read the file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
