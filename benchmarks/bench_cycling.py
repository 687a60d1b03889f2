"""Benchmark: fast (cycle-skipping) against full cycle-life prediction (`make bench`).

For Li||NMC811 at 4 mAh/cm2 with N:P 0, 1, 2 and 3, both modes run in this one
process, and the script writes benchmarks/results.json, benchmarks/results.md and
benchmarks/fast_vs_full.png, and prints the table. Measured per design and mode:

* cold wall / CPU time: a fresh `predict_cycle_life` call (parameter values, PyBaMM
  discretisation and solver set-up of the experiment, then cycling). The built
  PyBaMM model is cached per process (twin.simulation.cached_model), and it is
  built once before any timing, so no timing includes building it;
* warm wall / CPU time: the same call with a simulator that has already been set up
  (discretised and solved once), i.e. the cycling alone;
* peak Python memory (tracemalloc) of a warm run, in a separate untimed pass;
* cycle life, relative cycle-life error, largest capacity difference over the
  common cycles (fraction of the initial capacity), largest swelling difference.

Then the wall time of a 24-design sweep (N:P 0, 1, 2, 3 x 2, 3, 4 mAh/cm2 x 0.3 and
0.5 C charge, the twin's baseline parameters) through experiments.sweep.run_sweep
in both modes, if the sweep module exists.

The long-life designs use a long-life electrolyte (overrides below) and 6 g/Ah of
electrolyte so that N:P >= 2 lives 500+ cycles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pybamm

from twin.design import CellDesign
from twin.files import write_atomic
from twin.fast import DEFAULT_INTERPOLATION_TOLERANCE, DEFAULT_TOLERANCE, RepresentativeCycler
from twin.protocol import Protocol
from twin.simulation import CHUNK_CYCLES, CellSimulator, Prediction, cached_model, predict_cycle_life

HERE = Path(__file__).resolve().parent

NP_RATIOS = (0.0, 1.0, 2.0, 3.0)
AREAL_CAPACITY_MAH_CM2 = 4.0
ELECTROLYTE_G_PER_AH = 6.0
# A long-life electrolyte: 0.15 % of the stripped Li goes dead at 1 mA/cm2 (baseline
# 1.2 %), slower and less fresh-surface SEI. Li CE ~99.7 %.
LONG_LIFE_OVERRIDES = {
    "Dead lithium fraction at reference current density": 0.0015,
    "Li-metal SEI rate constant [mol.m-2.s-1]": 2e-8,
    "Li-metal SEI fresh-surface fraction": 0.0003,
}
MAX_CYCLES = 3000
EOL_FRACTION = 0.8
LONG_LIFE_CYCLES = 500
REQUIRED_SPEEDUP = 20.0
MAX_LIFE_ERROR = 0.02
MAX_CAPACITY_DIFF = 0.01
SWEEP_GRID = {"np_ratios": (0.0, 1.0, 2.0, 3.0), "areal_capacities_mAh_cm2": (2.0, 3.0, 4.0),
              "electrolyte_g_per_Ah": (3.0,), "charge_rates_C": (0.3, 0.5)}


def timed(function: Callable[[], Prediction]) -> tuple[Prediction, float, float]:
    """Result, wall time [s] and CPU time of this process [s]."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def traced_peak_MB(function: Callable[[], Any]) -> float:
    """Peak memory [MB] Python allocated while `function` ran (tracemalloc)."""
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def compare(full: Prediction, fast: Prediction) -> dict[str, float | None]:
    a = full.cycles.set_index("cycle")
    b = fast.cycles.set_index("cycle")
    common = a.index.intersection(b.index)
    q0 = full.initial_capacity_mAh_cm2
    life_error = None
    if full.cycle_life and fast.cycle_life:
        life_error = (fast.cycle_life - full.cycle_life) / full.cycle_life
    return {
        "cycle_life_relative_error": life_error,
        "max_capacity_diff_fraction_of_initial": float(
            np.max(np.abs(a.loc[common, "discharge_capacity_mAh_cm2"] - b.loc[common, "discharge_capacity_mAh_cm2"]))
            / q0),
        "max_swelling_diff_pct_points": float(
            np.max(np.abs(a.loc[common, "swelling_pct"] - b.loc[common, "swelling_pct"]))),
        "max_dead_li_diff_mAh_cm2": float(
            np.max(np.abs(a.loc[common, "dead_li_mAh_cm2"] - b.loc[common, "dead_li_mAh_cm2"]))),
        "cycles_compared": int(len(common)),
    }


def bench_design(np_ratio: float, memory: bool) -> tuple[dict[str, Any], Prediction, Prediction]:
    design = CellDesign(cathode="NMC811", areal_capacity_mAh_cm2=AREAL_CAPACITY_MAH_CM2, np_ratio=np_ratio,
                        electrolyte_g_per_Ah=ELECTROLYTE_G_PER_AH)
    protocol = Protocol()
    common = {"eol_fraction": EOL_FRACTION, "max_cycles": MAX_CYCLES, "overrides": LONG_LIFE_OVERRIDES}

    def run(mode: str, simulator: CellSimulator | None = None) -> Prediction:
        return predict_cycle_life(design, protocol, mode=mode, simulator=simulator, **common)

    # cold: fresh simulators (discretisation and solver set-up included)
    fast_cold, fast_cold_wall, fast_cold_cpu = timed(lambda: run("fast"))
    full_cold, full_cold_wall, full_cold_cpu = timed(lambda: run("full"))
    # warm: simulators set up (and solved once) before the clock starts
    cycler = RepresentativeCycler(design, protocol, overrides=LONG_LIFE_OVERRIDES)
    cycler.cycle(cycler.initial_state)
    simulator = CellSimulator(design, protocol, overrides=LONG_LIFE_OVERRIDES)
    simulator.run(CHUNK_CYCLES)
    fast, fast_wall, fast_cpu = timed(lambda: run("fast", cycler))
    full, full_wall, full_cpu = timed(lambda: run("full", simulator))
    fast_peak = traced_peak_MB(lambda: run("fast", cycler)) if memory else None
    full_peak = traced_peak_MB(lambda: run("full", simulator)) if memory else None
    for a, b in ((fast, fast_cold), (full, full_cold)):  # warm and cold runs are the same computation
        assert a.cycle_life == b.cycle_life, "a warm run differs from its cold run"

    record = {
        "np_ratio": np_ratio,
        "full": {
            "cycle_life": full.cycle_life, "end_of_life_reason": full.end_of_life_reason,
            "cycles_simulated": int(len(full.cycles)),
            "wall_s_cold": full_cold_wall, "cpu_s_cold": full_cold_cpu,
            "wall_s_warm": full_wall, "cpu_s_warm": full_cpu, "peak_traced_MB": full_peak,
        },
        "fast": {
            "cycle_life": fast.cycle_life, "end_of_life_reason": fast.end_of_life_reason,
            "cycles_simulated": int(fast.extra["simulated_cycles"]),
            "wall_s_cold": fast_cold_wall, "cpu_s_cold": fast_cold_cpu,
            "wall_s_warm": fast_wall, "cpu_s_warm": fast_cpu, "peak_traced_MB": fast_peak,
        },
        "speedup_warm_wall": full_wall / fast_wall,
        "speedup_warm_cpu": full_cpu / fast_cpu,
        "speedup_cold_wall": full_cold_wall / fast_cold_wall,
        **compare(full, fast),
    }
    life = full.cycle_life or MAX_CYCLES
    record["long_lived"] = life >= LONG_LIFE_CYCLES
    record["meets_must_show"] = None if not record["long_lived"] else bool(
        record["speedup_warm_wall"] >= REQUIRED_SPEEDUP
        and record["cycle_life_relative_error"] is not None
        and abs(record["cycle_life_relative_error"]) <= MAX_LIFE_ERROR
        and record["max_capacity_diff_fraction_of_initial"] <= MAX_CAPACITY_DIFF)
    return record, full, fast


def bench_sweep(mode: str, workers: int) -> dict[str, Any] | None:
    """Wall time of the 24-design sweep through the sweep's Python API (None if absent)."""
    try:
        from twin.experiments.sweep import RunSettings, expand_grid, run_sweep
    except ImportError:
        return None
    cases = expand_grid(CellDesign(), Protocol(), SWEEP_GRID["np_ratios"], SWEEP_GRID["areal_capacities_mAh_cm2"],
                        SWEEP_GRID["electrolyte_g_per_Ah"], SWEEP_GRID["charge_rates_C"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sweep.csv"
        start = time.perf_counter()
        result = run_sweep(cases, RunSettings(mode=mode, eol_fraction=EOL_FRACTION, max_cycles=1000), out,
                           workers=workers)
        wall = time.perf_counter() - start
    table = result.table
    return {"mode": mode, "designs": len(cases), "rows": int(len(table)), "workers": workers,
            "wall_s": wall, "failed": int(table["error"].fillna("").astype(str).ne("").sum())
            if "error" in table else 0}


def plot(runs: list[tuple[dict[str, Any], Prediction, Prediction]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, height_ratios=(3, 1.3))
    for (record, full, fast), color in zip(runs, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        label = f"N:P {record['np_ratio']:g}"
        top.plot(full.cycles["cycle"], full.cycles["discharge_capacity_mAh_cm2"], color=color, lw=1.5,
                 label=f"{label} full ({record['full']['cycle_life']} cycles, "
                       f"{record['full']['wall_s_warm']:.1f} s)")
        simulated = fast.cycles[fast.cycles["simulated"]]
        top.plot(fast.cycles["cycle"], fast.cycles["discharge_capacity_mAh_cm2"], color=color, lw=1, ls="--")
        top.plot(simulated["cycle"], simulated["discharge_capacity_mAh_cm2"], "o", color=color, ms=3.5,
                 mfc="none", label=f"{label} fast ({record['fast']['cycles_simulated']} simulated, "
                                   f"{record['fast']['wall_s_warm']:.2f} s)")
        a = full.cycles.set_index("cycle")["discharge_capacity_mAh_cm2"]
        b = fast.cycles.set_index("cycle")["discharge_capacity_mAh_cm2"]
        common = a.index.intersection(b.index)
        bottom.plot(common, 100 * (b[common] - a[common]) / full.initial_capacity_mAh_cm2, color=color, lw=1)
    q0 = runs[0][1].initial_capacity_mAh_cm2
    top.axhline(EOL_FRACTION * q0, color="grey", lw=0.8, ls=":")
    top.set_ylabel("discharge capacity [mAh/cm2]")
    top.set_title("Li||NMC811 4 mAh/cm2, long-life electrolyte: full model vs fast (cycle skipping)\n"
                  "lines: every cycle; circles: cycles fast mode simulated", fontsize=10)
    top.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    bottom.axhspan(-100 * MAX_CAPACITY_DIFF, 100 * MAX_CAPACITY_DIFF, color="0.92")
    bottom.set_ylabel("fast - full\n[% of initial]")
    bottom.set_xlabel("cycle")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def markdown(results: dict[str, Any]) -> str:
    rows = [
        "| N:P | cycle life full | cycle life fast | life error | max capacity diff | "
        "full warm [s] | fast warm [s] | speed-up warm | speed-up CPU | full cold [s] | fast cold [s] | "
        "speed-up cold | simulated cycles (fast) | peak mem full / fast [MB] | meets must-show |",
        "|---" * 15 + "|",
    ]
    for d in results["designs"]:
        err = d["cycle_life_relative_error"]
        mem = (f"{d['full']['peak_traced_MB']:.0f} / {d['fast']['peak_traced_MB']:.0f}"
               if d["full"]["peak_traced_MB"] is not None else "not measured")
        rows.append(
            f"| {d['np_ratio']:g} | {d['full']['cycle_life']} | {d['fast']['cycle_life']} | "
            f"{'-' if err is None else f'{100 * err:+.2f} %'} | "
            f"{100 * d['max_capacity_diff_fraction_of_initial']:.2f} % | "
            f"{d['full']['wall_s_warm']:.2f} | {d['fast']['wall_s_warm']:.2f} | {d['speedup_warm_wall']:.1f}x | "
            f"{d['speedup_warm_cpu']:.1f}x | {d['full']['wall_s_cold']:.2f} | {d['fast']['wall_s_cold']:.2f} | "
            f"{d['speedup_cold_wall']:.1f}x | {d['fast']['cycles_simulated']} of {d['fast']['cycle_life']} | "
            f"{mem} | {'n/a (< 500 cycles)' if d['meets_must_show'] is None else ('yes' if d['meets_must_show'] else 'NO')} |")
    s = results["settings"]
    env = results["environment"]
    lines = [
        "# Fast vs full cycle-life prediction",
        "",
        f"Generated by `make bench` (`benchmarks/bench_cycling.py`) on {env['date']}: Python {env['python']}, "
        f"PyBaMM {env['pybamm']}, {env['cpus']} CPUs, load average {env['load_average_start']} at the start "
        f"(other work on the machine slows wall times; CPU times are less affected).",
        "",
        f"Designs: Li||{s['cathode']}, {s['areal_capacity_mAh_cm2']} mAh/cm2, N:P 0-3, {s['electrolyte_g_per_Ah']} "
        f"g/Ah electrolyte, protocol `{s['protocol']['name']}` ({s['protocol']['charge_rate_C']}C CC-CV / "
        f"{s['protocol']['discharge_rate_C']}C), end of life at {s['eol_fraction']:.0%} of the first capacity, "
        f"SPM. Long-life electrolyte overrides: "
        + ", ".join(f"{k} = {v}" for k, v in s["overrides"].items()) + ".",
        f"Fast mode tolerances: {s['fast_tolerance']} (states), {s['fast_interpolation_tolerance']} "
        "(interpolated capacity).",
        "",
        *rows,
        "",
        "* **warm**: the simulator was discretised and solved once before the clock started: the time is the "
        "cycling itself (and, for fast mode, its step control and the interpolation of skipped cycles). "
        "This is the must-show comparison.",
        "* **cold**: a fresh `predict_cycle_life` call, including the parameter values, PyBaMM's "
        "discretisation of the experiment and the solver set-up (about half a second per simulator). "
        "Neither includes building the PyBaMM model: it is cached per process and was built before any timing.",
        "* **max capacity diff**: largest |fast - full| discharge capacity over the common cycles, as a "
        "fraction of the initial capacity; skipped cycles are interpolated.",
        "* **peak mem**: peak Python allocation (tracemalloc) during a warm run, measured in a separate, "
        "untimed pass; it does not count memory the compiled solver allocates outside Python. "
        f"Process peak RSS at the end: {results['process_peak_rss_MB']:.0f} MB.",
        "* **meets must-show**: for designs living 500+ cycles: speed-up (warm) >= 20x, cycle life within 2 % "
        "and capacity curve within 1 % of the initial capacity.",
        "",
        "![capacity: full vs fast](fast_vs_full.png)",
        "",
    ]
    sweeps = results.get("sweeps")
    if sweeps:
        lines += ["## 24-design sweep", "",
                  f"N:P {', '.join(f'{v:g}' for v in SWEEP_GRID['np_ratios'])} x "
                  f"{', '.join(f'{v:g}' for v in SWEEP_GRID['areal_capacities_mAh_cm2'])} mAh/cm2 x charge "
                  f"{', '.join(f'{v:g}' for v in SWEEP_GRID['charge_rates_C'])} C, baseline parameters, 3 g/Ah, "
                  "through `experiments.sweep.run_sweep` (what `twin sweep` runs), fresh output; wall time "
                  "includes starting the worker processes and every design's set-up.", "",
                  "| mode | designs | rows | workers | wall [s] | failed |", "|---|---|---|---|---|---|"]
        for sw in sweeps:
            lines.append(f"| {sw['mode']} | {sw['designs']} | {sw['rows']} | {sw['workers']} | "
                         f"{sw['wall_s']:.1f} | {sw['failed']} |")
        lines.append("")
    else:
        lines += ["The 24-design sweep row is left out: `experiments.sweep` was not available.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where results.json/.md and the figure go")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--no-sweep", action="store_true", help="skip the 24-design sweep")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="sweep worker processes")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    cached_model("spm", ())  # build the model once, outside every timing
    runs = []
    for np_ratio in NP_RATIOS:
        record, full, fast = bench_design(np_ratio, memory=not args.no_memory)
        runs.append((record, full, fast))
        print(f"N:P {np_ratio:g}: full {record['full']['cycle_life']} cycles in {record['full']['wall_s_warm']:.2f} s, "
              f"fast {record['fast']['cycle_life']} cycles in {record['fast']['wall_s_warm']:.2f} s "
              f"({record['speedup_warm_wall']:.1f}x)", file=sys.stderr, flush=True)
    sweeps = []
    if not args.no_sweep:
        for mode in ("fast", "full"):
            sweep = bench_sweep(mode, args.workers)
            if sweep is None:
                break
            sweeps.append(sweep)
            print(f"sweep ({mode}): {sweep['rows']} rows in {sweep['wall_s']:.1f} s", file=sys.stderr, flush=True)
    peak_rss_kB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = {
        "generated_by": "benchmarks/bench_cycling.py",
        "environment": {
            "date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
            "pybamm": pybamm.__version__, "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average_start": round(load, 2),
        },
        "settings": {
            "cathode": "NMC811", "areal_capacity_mAh_cm2": AREAL_CAPACITY_MAH_CM2,
            "electrolyte_g_per_Ah": ELECTROLYTE_G_PER_AH, "overrides": LONG_LIFE_OVERRIDES,
            "protocol": Protocol().to_dict(), "eol_fraction": EOL_FRACTION, "max_cycles": MAX_CYCLES,
            "cell_model": "spm", "fast_tolerance": DEFAULT_TOLERANCE,
            "fast_interpolation_tolerance": DEFAULT_INTERPOLATION_TOLERANCE,
        },
        "timing_notes": {
            "warm": "simulator discretised and solved once before timing: cycling only",
            "cold": "fresh predict_cycle_life call: parameter values, discretisation, solver set-up, cycling",
            "model_build": "excluded from both: the built PyBaMM model is cached per process and built first",
            "peak_traced_MB": "tracemalloc peak of a warm run in a separate untimed pass (Python allocations only)",
        },
        "designs": [record for record, _, _ in runs],
        "sweeps": sweeps or None,
        "sweep_note": None if sweeps or args.no_sweep else "experiments.sweep not available: sweep row left out",
        # ru_maxrss is in kB on Linux
        "process_peak_rss_MB": peak_rss_kB / 1024,
    }
    write_atomic(args.out_dir / "results.json", json.dumps(results, indent=2) + "\n")
    text = markdown(results)
    write_atomic(args.out_dir / "results.md", text)
    plot(runs, args.out_dir / "fast_vs_full.png")
    print(text)
    failed = [d["np_ratio"] for d in results["designs"] if d["meets_must_show"] is False]
    if failed:
        print(f"must-show NOT met for N:P {failed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
