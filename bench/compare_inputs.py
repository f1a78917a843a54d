"""Do two checkouts give the same input analysis? The equality check of issue 13's speed work.

Runs `analyse_inputs` on bench_inputs' data (bench/out/inputs_<n>users, written by
`bench_inputs.py`) once per checkout, each in its own process with PYTHONPATH at that checkout,
and compares the JSON: the largest absolute difference of any number, and every other difference
(keys, lengths, strings, NaN against a number).

    python bench/compare_inputs.py /work/main .          # old checkout, new checkout
    python bench/compare_inputs.py /work/main . --users 20000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def dump(out: str, users: int) -> None:
    """analyse_inputs as bench_inputs calls it, JSON to `out`, wall and CPU per part to stderr.
    The library comes from PYTHONPATH: it is imported before bench_inputs (which puts its own
    checkout on sys.path)."""
    import northstar_lab

    sys.path.insert(0, str(HERE))
    import bench_inputs as b

    from northstar_lab.analysis import analyse
    from northstar_lab.data.load import load_inputs
    from northstar_lab.inputs.analyse import analyse_inputs
    from northstar_lab.settings import AnalysisSettings

    print(f"library: {northstar_lab.__file__}", file=sys.stderr)
    folder = b.write_data(users, 7)
    loaded = load_inputs(str(folder / "part-*.parquet"), str(folder / "users.csv"))
    analysis = analyse(loaded, AnalysisSettings(n_bootstrap=0, revenue_event="payment"))
    marks = [("start", time.perf_counter(), time.process_time())]

    def progress(msg: str, _f: float) -> None:
        marks.append((msg, time.perf_counter(), time.process_time()))

    result = analyse_inputs(
        analysis, loaded, b.NORTH_STAR, b.INPUTS, str(folder / "assignments.csv"),
        progress=progress,
    )  # fmt: skip
    for (name, t, c), (_, t2, c2) in zip(marks[1:], marks[2:], strict=False):
        print(f"  {name:<62} wall {t2 - t:6.2f} s  CPU {c2 - c:6.2f} s", file=sys.stderr)
    Path(out).write_text(result.to_json())


def differences(a, b, path: str = "") -> tuple[float, str, list[str]]:
    """(largest absolute difference of two numbers, where, every other difference)."""
    if isinstance(a, dict) and isinstance(b, dict):
        parts = [differences(a[k], b[k], f"{path}.{k}") for k in a.keys() & b.keys()]
        other = [f"{path}: keys {sorted(set(a) ^ set(b))}"] if set(a) != set(b) else []
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return 0.0, "", [f"{path}: {len(a)} against {len(b)} items"]
        pairs = enumerate(zip(a, b, strict=True))
        parts = [differences(x, y, f"{path}[{i}]") for i, (x, y) in pairs]
        other = []
    elif _number(a) and _number(b):
        if math.isnan(a) or math.isnan(b):
            return 0.0, "", [] if math.isnan(a) and math.isnan(b) else [f"{path}: {a} / {b}"]
        return abs(a - b), path, []
    else:
        return 0.0, "", [] if a == b else [f"{path}: {a!r} / {b!r}"]
    worst = max(parts, key=lambda p: p[0], default=(0.0, "", []))
    return worst[0], worst[1], other + [d for p in parts for d in p[2]]


def _number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old", nargs="?")
    p.add_argument("new", nargs="?")
    p.add_argument("--users", type=int, default=200_000)
    p.add_argument("--dump", help=argparse.SUPPRESS)  # the child process: write one JSON
    args = p.parse_args()
    if args.dump:
        dump(args.dump, args.users)
        return 0
    outs = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, checkout in (("old", args.old), ("new", args.new)):
            out = str(Path(tmp) / f"{name}.json")
            env = os.environ | {"PYTHONPATH": str(Path(checkout).resolve())}
            print(f"{name}: {checkout}")
            cmd = [sys.executable, __file__, "--dump", out, "--users", str(args.users)]
            subprocess.run(cmd, env=env, check=True)
            outs.append(json.loads(Path(out).read_text()))
    worst, where, other = differences(*outs)
    print(f"largest absolute difference {worst:.3g} at {where or '-'}; {len(other)} other")
    for line in other[:30]:
        print(f"  {line}")
    return 0 if not other and worst <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
