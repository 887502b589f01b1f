"""`make bench`: run every bench/bench_*.py, print a table, write bench/results.json.

Each benchmark module has ``run(full: bool) -> list[dict]``; a row is
    {"name": str, "value": float, "unit": str, "target": str, "ok": bool | None, "note": str}
`make bench` exits 1 when a benchmark failed to run or any target was missed (printed as MISSED),
and rewrites the README's figures table from the results it recorded (bench/report.py).
Benchmarks report ratios against a reference measured in the same run where the target is a
comparison (the machines are shared and noisy), and absolute figures otherwise.

    .venv/bin/python bench/run.py [--quick] [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import report  # noqa: E402 - after the path is set


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, not for the figures)")
    ap.add_argument("--only", action="append", default=[], help="run only bench_NAME.py (repeatable)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    files = sorted(HERE.glob("bench_*.py"))
    if args.only:
        files = [f for f in files if f.stem.removeprefix("bench_") in args.only]
    rows, failures = [], []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for f in files:
        t0 = time.perf_counter()
        print(f"== {f.stem} ...", flush=True)
        try:
            for row in load(f).run(full=not args.quick):
                row.setdefault("bench", f.stem.removeprefix("bench_"))
                row.setdefault("when", started)   # a partial run (--only) keeps the other rows' own dates
                rows.append(row)
                print(f"   {row['name']}: {row['value']:.4g} {row['unit']}  (target {row['target']})", flush=True)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            failures.append(f.stem)
            traceback.print_exc()
        print(f"   ({time.perf_counter() - t0:.1f} s)", flush=True)
    width = max((len(r["name"]) for r in rows), default=10)
    print()
    print(f"{'benchmark':<{width}}  {'value':>12}  {'unit':<8}  {'target':<22}  verdict")
    print("-" * (width + 60))
    for r in rows:
        verdict = {True: "ok", False: "MISSED", None: "-"}[r.get("ok")]
        print(f"{r['name']:<{width}}  {r['value']:>12.4g}  {r['unit']:<8}  {r['target']:<22}  {verdict}"
              + (f"  {r['note']}" if r.get("note") else ""))
    out = Path(args.out)
    ran = {f.stem.removeprefix("bench_") for f in files}
    if args.only and out.exists():  # a partial run replaces only its own benchmarks' rows
        old = json.loads(out.read_text())
        rows = [{**r, "when": r.get("when", old.get("when"))} for r in old.get("results", [])
                if r.get("bench") not in ran] + rows
        failures = [f for f in old.get("failed", []) if f.removeprefix("bench_") not in ran] + failures
    out.write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "quick": args.quick, "results": rows, "failed": failures}, indent=2))
    print(f"\nwrote {out}")
    if out.resolve() == report.RESULTS and not args.quick:
        report.main([])
    lost = report.missed(rows)
    if lost:
        print(f"\n{len(lost)} target(s) MISSED: " + "; ".join(f"{r['name']} = {r['value']:.4g} {r['unit']} "
                                                         f"(target {r['target']})" for r in lost))
    if failures:
        print(f"benchmarks that failed to run: {', '.join(failures)}")
    return report.exit_status(rows, failures)


if __name__ == "__main__":
    sys.exit(main())
