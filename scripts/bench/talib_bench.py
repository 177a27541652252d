#!/usr/bin/env python3
"""Times TA-Lib on the series the Rust indicator bench uses and cross-checks every value.

    scripts/bench/talib_bench.py DUMP_DIR [--out results.json] [--repeats 30]

DUMP_DIR is written by the Rust bench in dump mode:

    INDICATOR_DUMP_DIR=DUMP_DIR cargo bench -p stockpilot-domain --bench indicators

It holds series.f64 (high, low, close: 3 x n little-endian f64), meta.json (n and the
periods) and one <output>.f64 per stockpilot output series. This script times TA-Lib's C
library (through its PyPI wheel, which bundles it) on the same high/low/close with the same
periods, then compares TA-Lib's values with stockpilot's index by index.

The first run creates the virtualenv .venv-bench/ at the repository root with the pinned
wheels below and re-executes itself inside it; later runs reuse it.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Pinned: TA-Lib's manylinux wheels bundle the C library (no system package needed).
TALIB_REQUIREMENT = "TA-Lib==0.8.2"
NUMPY_REQUIREMENT = "numpy==2.2.6"
TOLERANCE = 1e-9

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("BENCH_VENV", ROOT / ".venv-bench"))


def ensure_venv():
    """Re-executes this script inside .venv-bench, creating and filling it first if needed."""
    python = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not python.exists():
        print(f"creating {VENV} with {TALIB_REQUIREMENT} {NUMPY_REQUIREMENT}", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    probe = subprocess.run(
        [str(python), "-c", "import talib, numpy; print(talib.__version__, numpy.__version__)"],
        capture_output=True,
        text=True,
    )
    wanted = f"{TALIB_REQUIREMENT.split('==')[1]} {NUMPY_REQUIREMENT.split('==')[1]}"
    if probe.returncode != 0 or probe.stdout.strip() != wanted:
        subprocess.check_call(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--only-binary=:all:", TALIB_REQUIREMENT, NUMPY_REQUIREMENT]
        )
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def main():
    ensure_venv()
    import argparse

    import numpy as np
    import talib
    from numpy.lib.stride_tricks import sliding_window_view

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump_dir", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--repeats", type=int, default=int(os.environ.get("TALIB_REPEATS", 30)))
    args = parser.parse_args()

    meta = json.loads((args.dump_dir / "meta.json").read_text())
    n = meta["bars"]
    raw = np.fromfile(args.dump_dir / "series.f64", dtype="<f8")
    assert raw.size == 3 * n, f"series.f64 holds {raw.size} values, expected {3 * n}"
    high, low, close = (np.ascontiguousarray(raw[i * n:(i + 1) * n]) for i in range(3))

    fast, slow, signal = meta["macd"]
    bb_period, bb_k = meta["bollinger"]
    calls = {
        "sma": lambda: talib.SMA(close, timeperiod=meta["sma"]),
        "ema": lambda: talib.EMA(close, timeperiod=meta["ema"]),
        "rsi": lambda: talib.RSI(close, timeperiod=meta["rsi"]),
        "macd": lambda: talib.MACD(close, fastperiod=fast, slowperiod=slow, signalperiod=signal),
        "bollinger": lambda: talib.BBANDS(
            close, timeperiod=bb_period, nbdevup=bb_k, nbdevdn=bb_k, matype=talib.MA_Type.SMA
        ),
        "atr": lambda: talib.ATR(high, low, close, timeperiod=meta["atr"]),
    }

    # Timing: one warm-up call, then `repeats` timed calls; each call allocates its outputs,
    # as each stockpilot call does.
    timings = {}
    results = {}
    for name, call in calls.items():
        results[name] = call()
        samples = []
        for _ in range(args.repeats):
            start = time.perf_counter_ns()
            call()
            samples.append(time.perf_counter_ns() - start)
        samples.sort()
        median = samples[len(samples) // 2]
        timings[name] = {
            "median_ns": median,
            "min_ns": samples[0],
            "mean_ns": sum(samples) / len(samples),
            "max_ns": samples[-1],
            "repeats": args.repeats,
            "bars_per_second": n / (median / 1e9),
        }
        print(f"talib {name:10s} median {median / 1e6:8.3f} ms  "
              f"{n / (median / 1e9) / 1e6:8.1f} M bars/s", file=sys.stderr)

    # Exact references where TA-Lib's running sums drift: two-pass window moments.
    windows = sliding_window_view(close, bb_period)
    ref_mean = np.full(n, np.nan)
    ref_std = np.full(n, np.nan)
    ref_mean[bb_period - 1:] = windows.mean(axis=1)
    ref_std[bb_period - 1:] = np.sqrt(((windows - ref_mean[bb_period - 1:, None]) ** 2).mean(axis=1))
    sma_windows = sliding_window_view(close, meta["sma"])
    ref_sma = np.full(n, np.nan)
    ref_sma[meta["sma"] - 1:] = sma_windows.mean(axis=1)
    references = {
        "sma": ref_sma,
        "bb_middle": ref_mean,
        "bb_upper": ref_mean + bb_k * ref_std,
        "bb_lower": ref_mean - bb_k * ref_std,
    }

    talib_outputs = {
        "sma": results["sma"],
        "ema": results["ema"],
        "rsi": results["rsi"],
        "macd": results["macd"][0],
        "macd_signal": results["macd"][1],
        "macd_hist": results["macd"][2],
        "bb_upper": results["bollinger"][0],
        "bb_middle": results["bollinger"][1],
        "bb_lower": results["bollinger"][2],
        "atr": results["atr"],
    }
    checks = {}
    for output, theirs in talib_outputs.items():
        ours = np.fromfile(args.dump_dir / f"{output}.f64", dtype="<f8")
        assert ours.size == n
        both = ~np.isnan(ours) & ~np.isnan(theirs)
        only_ours = int((~np.isnan(ours) & np.isnan(theirs)).sum())
        only_theirs = int((np.isnan(ours) & ~np.isnan(theirs)).sum())
        check = {
            "first_ours": int(np.argmax(~np.isnan(ours))),
            "first_talib": int(np.argmax(~np.isnan(theirs))),
            "compared": int(both.sum()),
            "only_ours": only_ours,
            "only_talib": only_theirs,
        }
        diff = np.abs(ours[both] - theirs[both])
        if output == "rsi":
            # Definition difference: a window without any movement is 50 here, 0 in TA-Lib.
            flat = (ours[both] == 50.0) & (theirs[both] == 0.0)
            check["flat_windows"] = int(flat.sum())
            diff = diff[~flat]
        scale = np.maximum(np.abs(theirs[both]), 1.0)
        check["max_abs_diff"] = float(diff.max()) if diff.size else 0.0
        check["max_rel_diff"] = float((np.abs(ours[both] - theirs[both]) / scale).max()) if diff.size else 0.0
        check["over_tolerance"] = int((diff > TOLERANCE).sum())
        if output in references:
            ref = references[output]
            ok = ~np.isnan(ref) & both
            check["ours_vs_exact_max_abs"] = float(np.abs(ours[ok] - ref[ok]).max())
            check["talib_vs_exact_max_abs"] = float(np.abs(theirs[ok] - ref[ok]).max())
        check["pass"] = check["over_tolerance"] == 0 and only_theirs == 0
        checks[output] = check
        print(f"check {output:12s} compared {check['compared']:8d}  max |diff| "
              f"{check['max_abs_diff']:.3e}  over 1e-9: {check['over_tolerance']}"
              + (f"  exact: ours {check['ours_vs_exact_max_abs']:.3e} "
                 f"talib {check['talib_vs_exact_max_abs']:.3e}" if output in references else ""),
              file=sys.stderr)

    report = {
        "bars": n,
        "tolerance": TOLERANCE,
        "talib_python_version": talib.__version__,
        "talib_c_version": talib.__ta_version__.decode() if isinstance(talib.__ta_version__, bytes)
        else str(talib.__ta_version__),
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "timings": timings,
        "checks": checks,
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
