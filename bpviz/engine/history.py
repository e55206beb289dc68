"""A loss history whose memory stays bounded however long the run.

The newest :data:`EXACT` points of a series are kept exactly; older points
are folded into *buckets* of consecutive points, each remembering the first
and last x (iteration) it covers, how many points it holds and the min and
max of every y column. When there are more than :data:`MAX_BUCKETS` buckets,
neighbours are merged pairwise, so the bucket width doubles and the memory
stays flat: a 90-minute lecture left playing keeps the same few megabytes as
a ten-minute one.

Drawn as pyqtgraph's "peak" downsampling draws (each bucket a vertical
stroke from its max to its min at its first x, see :meth:`Envelope.pairs`),
an envelope looks the same as every point drawn at any zoom where a pixel
column spans at least one bucket: the min and max of a pixel column are the
min and max of the buckets in it (a bucket straddling two columns shows its
extremes in the one holding its first x). Zoomed in closer than one bucket
per pixel, a bucket shows as one stroke. The first ``EXACT + MAX_BUCKETS``
points are never merged (buckets start one point wide), so runs of a few
hundred thousand iterations are exact.

Pure NumPy; NaN (a missing test Err) is ignored by min and max (a bucket of
NaN only is NaN), with no warnings.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["CHUNK", "EXACT", "MAX_BUCKETS", "CompactSeries", "Envelope"]

#: Newest points kept exactly.
EXACT = 1 << 18
#: Points folded into buckets at a time (the exact part holds EXACT to EXACT + CHUNK).
CHUNK = 1 << 13
#: Buckets kept at most before neighbours are merged (halving their number).
MAX_BUCKETS = 1 << 15


class Envelope(NamedTuple):
    """Buckets of consecutive points: x range, point count, min and max per y column.

    ``first``, ``last`` and ``count`` are (n,) int64; ``lo`` and ``hi`` are
    (n, k) float64.
    """

    first: np.ndarray
    last: np.ndarray
    count: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def __len__(self) -> int:  # type: ignore[override]
        return int(self.first.shape[0])

    @property
    def n_points(self) -> int:
        """Points the buckets stand for."""
        return int(self.count.sum())

    def pairs(self, column: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """x and y to draw, two points per bucket: (first, max), (first, min).

        The order pyqtgraph's peak downsampling uses, so envelopes and
        downsampled exact points join into one curve.
        """
        n = len(self)
        x = np.repeat(self.first.astype(np.float64), 2)
        y = np.empty(2 * n, dtype=np.float64)
        y[0::2] = self.hi[:, column]
        y[1::2] = self.lo[:, column]
        return x, y

    @classmethod
    def empty(cls, k: int = 1) -> Envelope:
        z = np.empty(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), np.empty((0, k)), np.empty((0, k)))


class CompactSeries:
    """Points ``(x, y[0..k-1])`` appended in order: exact newest, bucketed older.

    Parameters
    ----------
    k : int
        Number of y columns (1 for batch Err; 2 for training and test Err).
    exact, chunk, max_buckets : int, optional
        Default :data:`EXACT`, :data:`CHUNK`, :data:`MAX_BUCKETS` (read when
        the series is made).
    """

    __slots__ = (
        "_b_count",
        "_b_first",
        "_b_hi",
        "_b_last",
        "_b_lo",
        "_cap",
        "_x",
        "_y",
        "_y0",
        "_y1",
        "_y2",
        "chunk",
        "exact",
        "k",
        "max_buckets",
        "n_buckets",
        "n_compacted",
        "n_exact",
        "width",
    )

    def __init__(
        self,
        k: int = 1,
        exact: int | None = None,
        chunk: int | None = None,
        max_buckets: int | None = None,
    ) -> None:
        self.k = int(k)
        self.exact = EXACT if exact is None else int(exact)
        self.chunk = CHUNK if chunk is None else int(chunk)
        self.max_buckets = MAX_BUCKETS if max_buckets is None else int(max_buckets)
        self._cap = min(1024, self.exact + self.chunk)
        self._x = np.empty(self._cap, dtype=np.int64)
        self._y = np.empty((self._cap, self.k), dtype=np.float64)
        self._columns()
        self.n_exact = 0
        self.n_compacted = 0  # points in buckets
        self.n_buckets = 0
        self.width = 1  # points per new bucket
        self._b_first = np.empty(0, dtype=np.int64)
        self._b_last = np.empty(0, dtype=np.int64)
        self._b_count = np.empty(0, dtype=np.int64)
        self._b_lo = np.empty((0, self.k))
        self._b_hi = np.empty((0, self.k))

    # -- sizes -----------------------------------------------------------------

    def __len__(self) -> int:
        return self.n_compacted + self.n_exact

    @property
    def at_bound(self) -> bool:
        """True once buckets have been merged: the buffers have their largest size."""
        return self.width > 1

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers."""
        arrays = (self._x, self._y, self._b_first, self._b_last, self._b_count, self._b_lo)
        return sum(a.nbytes for a in arrays) + self._b_hi.nbytes

    def _columns(self) -> None:
        """Views of the first y columns (the per-iteration fast paths write through them)."""
        k = self.k
        self._y0 = self._y[:, 0]
        self._y1 = self._y[:, 1] if k > 1 else None
        self._y2 = self._y[:, 2] if k > 2 else None

    # -- adding ------------------------------------------------------------------

    def append1(self, x: int, y: float) -> None:
        """Add one point to a one-column series (the per-iteration fast path)."""
        n = self.n_exact
        if n == self._cap:
            self._make_room()
            n = self.n_exact
        self._x[n] = x
        self._y0[n] = y
        self.n_exact = n + 1

    def append3(self, x: int, a: float, b: float, c: float) -> None:
        """Add one point to a three-column series (the per-iteration fast path)."""
        n = self.n_exact
        if n == self._cap:
            self._make_room()
            n = self.n_exact
        self._x[n] = x
        self._y0[n] = a
        self._y1[n] = b  # type: ignore[index]
        self._y2[n] = c  # type: ignore[index]
        self.n_exact = n + 1

    def append(self, x: int, *y: float) -> None:
        """Add one point (as many y values as columns)."""
        n = self.n_exact
        if n == self._cap:
            self._make_room()
            n = self.n_exact
        self._x[n] = x
        self._y[n] = y
        self.n_exact = n + 1

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Add many points: ``x`` (m,), ``y`` (m, k)."""
        x = np.asarray(x, dtype=np.int64)
        y = np.asarray(y, dtype=np.float64).reshape(len(x), self.k)
        i = 0
        while i < len(x):
            if self.n_exact == self._cap:
                self._make_room()
            take = min(len(x) - i, self._cap - self.n_exact)
            self._x[self.n_exact : self.n_exact + take] = x[i : i + take]
            self._y[self.n_exact : self.n_exact + take] = y[i : i + take]
            self.n_exact += take
            i += take

    def extend_envelope(self, env: Envelope) -> None:
        """Add buckets before any exact point (restoring a saved history)."""
        if self.n_exact:
            raise ValueError("buckets go before the exact points")
        m = len(env)
        if not m:
            return
        self._reserve_buckets(self.n_buckets + m)
        s = slice(self.n_buckets, self.n_buckets + m)
        self._b_first[s], self._b_last[s], self._b_count[s] = env.first, env.last, env.count
        self._b_lo[s], self._b_hi[s] = env.lo, env.hi
        self.n_buckets += m
        self.n_compacted += int(env.count.sum())
        self.width = max(self.width, int(env.count.max()))
        while self.n_buckets > self.max_buckets:
            self._merge()

    def _make_room(self) -> None:
        """Grow the exact buffer up to exact + chunk; when full, fold its oldest chunk."""
        full = self.exact + self.chunk
        if self._cap < full:
            cap = min(2 * self._cap, full)
            x = np.empty(cap, dtype=np.int64)
            y = np.empty((cap, self.k), dtype=np.float64)
            x[: self.n_exact] = self._x[: self.n_exact]
            y[: self.n_exact] = self._y[: self.n_exact]
            self._x, self._y, self._cap = x, y, cap
            self._columns()
            return
        width = min(self.width, self.chunk)
        c = (self.n_exact - self.exact) // width * width
        self._fold(c, width)

    def _fold(self, c: int, width: int) -> None:
        """Fold the oldest ``c`` exact points (a multiple of ``width``) into buckets."""
        m = c // width
        self._reserve_buckets(self.n_buckets + m)
        s = slice(self.n_buckets, self.n_buckets + m)
        xs = self._x[:c].reshape(m, width)
        ys = self._y[:c].reshape(m, width, self.k)
        self._b_first[s] = xs[:, 0]
        self._b_last[s] = xs[:, -1]
        self._b_count[s] = width
        self._b_lo[s] = np.fmin.reduce(ys, axis=1)
        self._b_hi[s] = np.fmax.reduce(ys, axis=1)
        self.n_buckets += m
        self.n_compacted += c
        rest = self.n_exact - c
        self._x[:rest] = self._x[c : self.n_exact]
        self._y[:rest] = self._y[c : self.n_exact]
        self.n_exact = rest
        while self.n_buckets > self.max_buckets:
            self._merge()

    def _reserve_buckets(self, n: int) -> None:
        cap = self._b_first.shape[0]
        if n <= cap:
            return
        # Never more than max_buckets + chunk at once (a fold adds at most chunk).
        cap = max(n, min(max(2 * cap, 64), self.max_buckets + self.chunk))
        for name in ("_b_first", "_b_last", "_b_count"):
            old = getattr(self, name)
            new = np.empty(cap, dtype=np.int64)
            new[: self.n_buckets] = old[: self.n_buckets]
            setattr(self, name, new)
        for name in ("_b_lo", "_b_hi"):
            old = getattr(self, name)
            new = np.empty((cap, self.k), dtype=np.float64)
            new[: self.n_buckets] = old[: self.n_buckets]
            setattr(self, name, new)

    def _merge(self) -> None:
        """Merge neighbouring buckets pairwise (an odd last one stays); new ones get wider."""
        n = self.n_buckets
        m = n // 2
        a, b = slice(0, 2 * m, 2), slice(1, 2 * m, 2)
        first = self._b_first[a].copy()
        last = self._b_last[b].copy()
        count = self._b_count[a] + self._b_count[b]
        lo = np.fmin(self._b_lo[a], self._b_lo[b])
        hi = np.fmax(self._b_hi[a], self._b_hi[b])
        self._b_first[:m], self._b_last[:m], self._b_count[:m] = first, last, count
        self._b_lo[:m], self._b_hi[:m] = lo, hi
        if n % 2:
            for arr in (self._b_first, self._b_last, self._b_count, self._b_lo, self._b_hi):
                arr[m] = arr[n - 1]
        self.n_buckets = m + n % 2
        self.width *= 2

    # -- reading -------------------------------------------------------------------

    @property
    def x(self) -> np.ndarray:
        """x of the exact points (a view)."""
        return self._x[: self.n_exact]

    def y(self, column: int = 0) -> np.ndarray:
        """One y column of the exact points (a view)."""
        return self._y[: self.n_exact, column]

    def envelope(self) -> Envelope:
        """The buckets (views)."""
        n = self.n_buckets
        return Envelope(
            self._b_first[:n], self._b_last[:n], self._b_count[:n], self._b_lo[:n], self._b_hi[:n]
        )

    def envelope_from(self, point: int) -> Envelope:
        """The buckets holding points from index ``point`` on (the first may start before it)."""
        if point >= self.n_compacted:
            return Envelope.empty(self.k)
        ends = np.cumsum(self._b_count[: self.n_buckets])
        j = int(np.searchsorted(ends, point, side="right"))
        env = self.envelope()
        return Envelope(*(a[j:] for a in env))

    # -- undo --------------------------------------------------------------------------

    def truncate(self, n: int) -> None:
        """Forget the points after the first ``n`` (whole buckets only, inside the envelope)."""
        n = max(0, int(n))
        if n >= self.n_compacted:
            self.n_exact = min(self.n_exact, n - self.n_compacted)
            return
        self.n_exact = 0
        ends = np.cumsum(self._b_count[: self.n_buckets])
        self.n_buckets = int(np.searchsorted(ends, n, side="right"))
        self.n_compacted = int(ends[self.n_buckets - 1]) if self.n_buckets else 0
