"""Engine benchmark: steps per second of ``Network.step`` against PyTorch on the CPU.

For each net, batch size and dtype this times, interleaved in one run:

* ``net.step(X, Y, lr)``, the engine's notebook API (forward, Err, backward,
  update, keeping every u, o, σ′, δ and ∂Err/∂θ the views show);
* ``Trainer.step()``, what the app runs: the same step plus batch selection,
  the step-back history copy, the divergence check and the loss history;
* the same step written the way people write it in PyTorch: ``nn.Sequential``
  of ``nn.Linear`` + ``nn.Tanh`` (``nn.Sigmoid`` last), ``((y - ŷ)**2).sum()``,
  ``loss.backward()``, ``optim.SGD``, ``loss.item()``; same sizes, same initial
  weights, same batch.

Everything runs on one thread. Each timing block runs about ``--block`` seconds;
the blocks rotate (engine, torch, trainer, then torch, trainer, engine, ...) for
``--repeats`` rounds, and the table reports medians (the ratio is the median of
the per-round ratios, so a slow stretch of the machine hits both sides).

Small nets are bound by NumPy's fixed cost per call, so the table also gives the
NumPy calls one ``net.step`` makes, counted by running one step on arrays of a
counting ndarray subclass (every ufunc including operators such as ``a -= b``,
array function, ndarray method and indexing counts once; ``.T`` views do not),
and the time per step divided by that count.

PyTorch is not a dependency of bpviz. To compare against it::

    pip install torch==2.13.0 numpy

(a CPU wheel on the project's machines). Without torch the engine is timed alone.

Run from the repository root::

    python benchmarks/engine.py            # full run, a few minutes
    python benchmarks/engine.py --quick    # a rough look in about 30 s
"""

from __future__ import annotations

import os

# One BLAS thread, set before NumPy (or torch) loads its BLAS: threads never
# help a small net, and two threads collapse when the other core is busy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import types  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bpviz.engine import Network, Trainer, UpdateRule  # noqa: E402

try:
    import torch
except ImportError:  # the comparison is optional
    torch = None

try:
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None

LR = 0.01
#: (label, layer sizes, batch size)
CONFIGS = [
    ("2-4-4-1", (2, 4, 4, 1), 1),
    ("2-4-4-1", (2, 4, 4, 1), 10),
    ("2-8-8-8-8-1", (2, 8, 8, 8, 8, 1), 10),
    ("784-128-128-10", (784, 128, 128, 10), 128),
]
DTYPES = (np.float64, np.float32)
#: The Trainer's training set holds this many batches (it evaluates the whole
#: set once an epoch, as the app does).
BATCHES_PER_EPOCH = 16


# -- the three contestants -----------------------------------------------------


def make_data(sizes: tuple[int, ...], n: int, dtype, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ~ N(0, 1) and 0/1 targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = (rng.random((n, sizes[-1])) < 0.5).astype(dtype)
    return X, Y


def make_net(sizes: tuple[int, ...], dtype) -> Network:
    return Network(
        sizes, activation="tanh", output_activation="sigmoid", loss="sse", seed=1, dtype=dtype
    )


def engine_step(net: Network, X: np.ndarray, Y: np.ndarray) -> Callable[[], float]:
    def step() -> float:
        return net.step(X, Y, LR)

    return step


def trainer_step(sizes: tuple[int, ...], batch: int, dtype) -> Callable[[], float]:
    X, Y = make_data(sizes, batch * BATCHES_PER_EPOCH, dtype, seed=2)
    trainer = Trainer(make_net(sizes, dtype), X, Y, rule=UpdateRule(lr=LR), batch_size=batch)
    return trainer.step


def torch_step(net: Network, X: np.ndarray, Y: np.ndarray) -> Callable[[], float]:
    """The PyTorch step people write, starting from ``net``'s weights."""
    nn = torch.nn
    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[net.dtype]
    layers: list = []
    for k, (n_in, n_out) in enumerate(zip(net.sizes, net.sizes[1:], strict=False)):
        linear = nn.Linear(n_in, n_out, dtype=tdtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(net.weights[k].copy()))
            linear.bias.copy_(torch.from_numpy(net.biases[k].copy()))
        layers += [linear, nn.Tanh()]
    layers[-1] = nn.Sigmoid()
    model = nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = torch.from_numpy(X.copy()), torch.from_numpy(Y.copy())

    def step() -> float:
        optimizer.zero_grad()
        loss = ((y - model(x)) ** 2).sum()
        loss.backward()
        optimizer.step()
        return loss.item()

    step.model = model
    return step


def check_same_numbers(sizes: tuple[int, ...], batch: int, dtype) -> float:
    """Largest relative difference between engine and torch over 5 steps from the
    same weights: of Err at each step, and of the weights and biases after."""
    X, Y = make_data(sizes, batch, dtype, seed=0)
    net = make_net(sizes, dtype)
    t_step = torch_step(net, X, Y)
    e_step = engine_step(net, X, Y)
    worst = 0.0
    for _ in range(5):
        e, t = e_step(), t_step()
        worst = max(worst, abs(e - t) / max(abs(t), 1e-30))
    model = t_step.model
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for k, linear in enumerate(linears):
        for ours, theirs in ((net.weights[k], linear.weight), (net.biases[k], linear.bias)):
            theirs = theirs.detach().numpy()
            scale = max(float(np.abs(theirs).max()), 1e-30)
            worst = max(worst, float(np.abs(ours - theirs).max()) / scale)
    return worst


# -- timing --------------------------------------------------------------------


def time_block(step: Callable[[], float], n: int) -> float:
    """Steps per second over ``n`` steps."""
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - t0)


def warm_up(step: Callable[[], float]) -> None:
    """At least 150 steps and 0.2 s: past first-call costs, and round the
    Trainer's step-back ring (128 iterations) once, so its pages are mapped."""
    t0 = time.perf_counter()
    n = 0
    while n < 150 or time.perf_counter() - t0 < 0.2:
        step()
        n += 1


def calibrate(step: Callable[[], float], seconds: float) -> int:
    """Steps that take about ``seconds``."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dt = time.perf_counter() - t0
        if dt > 0.02:
            return max(1, int(n * seconds / dt))
        n *= 4


def interleaved(
    steps: dict[str, Callable[[], float]], seconds: float, repeats: int
) -> dict[str, list[float]]:
    """Steps/s of each contestant, ``repeats`` rounds, rotating the order."""
    for step in steps.values():
        warm_up(step)
    counts = {name: calibrate(step, seconds) for name, step in steps.items()}
    names = list(steps)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            rates[name].append(time_block(steps[name], counts[name]))
    return rates


# -- counting NumPy calls ------------------------------------------------------


class _Count:
    calls = 0
    depth = 0  # > 0 inside a counted call: NumPy calling NumPy is not counted


def _tally() -> None:
    if _Count.depth == 0:
        _Count.calls += 1


def _plain(x):
    return x.view(np.ndarray) if isinstance(x, CountingArray) else x


def _counted(result):
    if type(result) is np.ndarray:
        return result.view(CountingArray)
    return result


def _call(func, *args, **kwargs):
    """Run one NumPy call on plain arrays, counting it once."""
    _tally()
    _Count.depth += 1
    try:
        return func(*[_plain(a) for a in args], **{k: _plain(v) for k, v in kwargs.items()})
    finally:
        _Count.depth -= 1


class CountingArray(np.ndarray):
    """An ndarray that counts the NumPy calls made on it."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        result = _call(getattr(ufunc, method), *inputs, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _counted(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _counted(_call(func, *args, **kwargs))


#: ndarray methods the engine and the trainer may call in a step
COUNTED_METHODS = ("dot", "sum", "fill", "copy", "item", "max", "min", "take", "reshape",
                   "ravel", "astype", "clip", "__getitem__", "__setitem__")  # fmt: skip


def _counting_method(name: str):
    method = getattr(np.ndarray, name)

    def counted(self, *args, **kwargs):
        return _counted(_call(method, self, *args, **kwargs))

    return counted


for _name in COUNTED_METHODS:
    setattr(CountingArray, _name, _counting_method(_name))


class _CountingFunction:
    """A NumPy function or ufunc that counts its calls; its attributes pass through."""

    def __init__(self, func) -> None:
        self._func = func

    def __call__(self, *args, **kwargs):
        return _counted(_call(self._func, *args, **kwargs))

    def __getattr__(self, name: str):
        return getattr(self._func, name)


class _CountingNumpy(types.ModuleType):
    """Stands in for ``numpy`` inside the engine's modules while counting: its
    functions count their calls, and the arrays they create are CountingArrays."""

    def __getattr__(self, name: str):
        obj = getattr(np, name)
        if isinstance(obj, np.ufunc | types.FunctionType | types.BuiltinFunctionType) or (
            type(obj).__name__ == "_ArrayFunctionDispatcher"
        ):
            return _CountingFunction(obj)
        return obj  # types, dtypes, submodules, constants


@contextlib.contextmanager
def counting_numpy() -> Iterator[None]:
    """Make the engine's modules create CountingArrays and count NumPy calls."""
    proxy = _CountingNumpy("numpy")
    modules = [
        m
        for name, m in sys.modules.items()
        if name.startswith("bpviz.engine") and getattr(m, "np", None) is np
    ]
    for m in modules:
        m.np = proxy
    try:
        yield
    finally:
        for m in modules:
            m.np = np


def count_calls(make_step: Callable[[], Callable[[], float]]) -> int:
    """NumPy calls made by one step (after two warm-up steps)."""
    with counting_numpy():
        step = make_step()
        step()
        step()
        _Count.calls = 0
        step()
        return _Count.calls


# -- the run -------------------------------------------------------------------


@dataclass
class Row:
    label: str
    batch: int
    dtype: str
    engine: float
    trainer: float
    torch: float | None
    ratio: float | None
    trainer_ratio: float | None
    calls: int
    trainer_calls: int
    check: float | None


def run_config(label, sizes, batch, dtype, seconds, repeats) -> Row:
    X, Y = make_data(sizes, batch, dtype, seed=0)
    steps = {"engine": engine_step(make_net(sizes, dtype), X, Y)}
    if torch is not None:
        steps["torch"] = torch_step(make_net(sizes, dtype), X, Y)
    steps["trainer"] = trainer_step(sizes, batch, dtype)
    rates = interleaved(steps, seconds, repeats)
    med = {name: statistics.median(r) for name, r in rates.items()}
    ratio = trainer_ratio = check = None
    if torch is not None:
        ratio = statistics.median(
            e / t for e, t in zip(rates["engine"], rates["torch"], strict=True)
        )
        trainer_ratio = statistics.median(
            e / t for e, t in zip(rates["trainer"], rates["torch"], strict=True)
        )
        check = check_same_numbers(sizes, batch, dtype)
    calls = count_calls(lambda: engine_step(make_net(sizes, dtype), X, Y))
    trainer_calls = count_calls(lambda: trainer_step(sizes, batch, dtype))
    return Row(
        label,
        batch,
        np.dtype(dtype).name,
        med["engine"],
        med["trainer"],
        med.get("torch"),
        ratio,
        trainer_ratio,
        calls,
        trainer_calls,
        check,
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = "?"
    with contextlib.suppress(Exception):
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info['name']} {info['version']}"
    parts = [
        f"{cpu}, {os.cpu_count()} logical CPUs",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
        f"NumPy {np.__version__} ({blas})",
        f"PyTorch {torch.__version__}" if torch is not None else "PyTorch not installed",
    ]
    return "; ".join(parts)


def markdown(rows: list[Row]) -> str:
    def num(x, fmt):
        return "–" if x is None else format(x, fmt)

    lines = [
        "| net | batch | dtype | `net.step` steps/s | torch steps/s | × torch "
        "| `Trainer.step` steps/s | × torch | calls/step | µs/call |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        us_per_call = 1e6 / r.engine / r.calls
        lines.append(
            f"| {r.label} | {r.batch} | {r.dtype} | {r.engine:,.0f} | {num(r.torch, ',.0f')} "
            f"| {num(r.ratio, '.1f')} | {r.trainer:,.0f} | {num(r.trainer_ratio, '.1f')} "
            f"| {r.calls} ({r.trainer_calls}) | {us_per_call:.2f} |"
        )
    return "\n".join(lines)


#: The matrix products of one 784-128-128-10 step at batch 128 (biases as an extra
#: column), as (rows, inner, columns): forward ×3, backprop ×2, gradients ×3.
WIDE_PRODUCTS = (
    ("forward 1", 128, 785, 128),
    ("forward 2", 128, 129, 128),
    ("forward 3", 10, 129, 128),
    ("backprop 3→2", 128, 10, 128),
    ("backprop 2→1", 128, 128, 128),
    ("gradient 1", 128, 128, 785),
    ("gradient 2", 128, 128, 129),
    ("gradient 3", 10, 128, 129),
)


def products_table(repeats: int) -> str:
    """µs of each matrix product of the wide net's step, NumPy ``dot`` against ``torch.mm``.

    Both on one thread, same shapes and dtypes, operands in cache; the sum says
    how much of a step the BLAS libraries alone decide (NumPy ships OpenBLAS,
    torch's CPU wheel MKL).
    """
    rng = np.random.default_rng(0)
    lines = ["| product (m×k·k×n) | dtype | NumPy µs | torch µs | NumPy / torch |",
             "|---|---|---:|---:|---:|"]  # fmt: skip
    for dtype in DTYPES:
        total_np = total_torch = 0.0
        for name, m, k, n in WIDE_PRODUCTS:
            a = rng.normal(size=(m, k)).astype(dtype)
            b = rng.normal(size=(k, n)).astype(dtype)
            out = np.empty((m, n), dtype)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            tout = torch.empty((m, n), dtype=ta.dtype)

            def best(f, number=50):
                f()
                return min(timeit.repeat(f, number=number, repeat=repeats)) / number * 1e6

            t_np = best(lambda a=a, b=b, out=out: np.dot(a, b, out=out))
            t_torch = best(lambda ta=ta, tb=tb, tout=tout: torch.mm(ta, tb, out=tout))
            total_np += t_np
            total_torch += t_torch
            lines.append(
                f"| {name} ({m}×{k}·{k}×{n}) | {np.dtype(dtype).name} | {t_np:.1f} "
                f"| {t_torch:.1f} | {t_np / t_torch:.2f} |"
            )
        lines.append(
            f"| **all eight** | {np.dtype(dtype).name} | **{total_np:.0f}** "
            f"| **{total_torch:.0f}** | **{total_np / total_torch:.2f}** |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short blocks, 3 rounds")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 9)")
    parser.add_argument(
        "--block", type=float, default=None, help="seconds per timing block (default 0.25)"
    )
    parser.add_argument("--only", default=None, help="run only nets whose label contains this")
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    seconds = args.block or (0.08 if args.quick else 0.25)
    if torch is not None:
        torch.set_num_threads(1)
    for dtype in DTYPES:  # creates the engine's per-dtype constants outside counting
        X, Y = make_data((2, 1), 1, dtype, seed=0)
        make_net((2, 1), dtype).step(X, Y, LR)
    limits = threadpool_limits(1) if threadpool_limits is not None else contextlib.nullcontext()
    if torch is None:
        print(
            "PyTorch is not installed: timing the engine alone. For the comparison:\n"
            "    pip install torch==2.13.0 numpy\n",
            file=sys.stderr,
        )
    rows = []
    with limits:
        for label, sizes, batch in CONFIGS:
            if args.only and args.only not in label:
                continue
            for dtype in DTYPES:
                row = run_config(label, sizes, batch, dtype, seconds, repeats)
                rows.append(row)
                print(
                    f"{label:>15} batch {batch:>3} {row.dtype}: engine {row.engine:>9,.0f}/s"
                    + (
                        f"  torch {row.torch:>7,.0f}/s  ×{row.ratio:.1f}"
                        f"  (Err agrees to {row.check:.0e})"
                        if row.torch
                        else ""
                    )
                    + f"  trainer {row.trainer:>9,.0f}/s  calls {row.calls}",
                    file=sys.stderr,
                )
        products = None
        if torch is not None and (not args.only or "784" in args.only):
            products = products_table(repeats)
    today = datetime.date.today().isoformat()
    print(f"{today}; {machine()}; one thread; median of {repeats} interleaved rounds.\n")
    print(markdown(rows))
    if products is not None:
        print("\nMatrix products of the 784-128-128-10 step alone (best of "
              f"{repeats}, operands in cache):\n")  # fmt: skip
        print(products)
    bad = [
        r
        for r in rows
        if r.check is not None and r.check > (1e-9 if r.dtype == "float64" else 1e-3)
    ]
    if bad:
        print(
            "\nMISMATCH: engine and torch disagree on Err for "
            + ", ".join(f"{r.label} batch {r.batch} {r.dtype}" for r in bad),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
