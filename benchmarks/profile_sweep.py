"""Profile the fast-mode sweep's per-design CPU: a fixed sample of the 240-design grid of
bench_scale.py run in this process under cProfile, after one design per strategy has set
up the shared simulations and anchors (what each sweep worker pays once).

Prints, per design, its cycle life, full-model cycle solves and CPU seconds; then where
the CPU went: IDAKLU's native integration, the rest of the cycle solves (PyBaMM's
experiment solve or the lean stepper of twin.stepper: step set-up, inputs, solutions), and everything outside the cycle solves (rows, step control,
set-up per design), and the 25 costliest functions. Writes nothing unless --stats PATH.

    PYTHONPATH=. python benchmarks/profile_sweep.py --designs 24
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import SWEEP_GRID, sweep_cases  # noqa: E402


def total(stats: pstats.Stats, file_part: str, function: str, column: int) -> float:
    """Summed time [s] of the functions `function` in files containing `file_part`
    (column 2: own time, 3: cumulative)."""
    return sum(v[column] for (file, _, name), v in stats.stats.items() if file_part in file and name == function)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=24, help="designs sampled from the grid (seed 0)")
    parser.add_argument("--stats", type=Path, default=None, help="write the cProfile statistics here")
    args = parser.parse_args(argv)
    from twin.experiments.sweep import RunSettings, resolve_mode, run_case, with_shared_inputs

    grid = sweep_cases()
    settings = with_shared_inputs(grid, RunSettings(mode=resolve_mode(None)))
    for strategy in SWEEP_GRID["strategies"]:  # warm: imports, shared simulations, anchors
        run_case(next(case for case in grid if case.strategy == strategy), settings)
    cases = sweep_cases(args.designs)
    profile = cProfile.Profile()
    rows = []
    start = time.process_time()
    profile.enable()
    for case in cases:
        cpu = time.process_time()
        row = run_case(case, settings)
        rows.append((case, row, time.process_time() - cpu))
    profile.disable()
    cpu_s = time.process_time() - start
    print("N:P  mAh/cm2  g/Ah  C  strategy  life  reason  solves  CPU [s]")
    for case, row, seconds in rows:
        d = case.design
        print(f"{d.np_ratio:g} {d.areal_capacity_mAh_cm2:g} {d.electrolyte_g_per_Ah:g} {case.protocol.charge_rate_C:g} "
              f"{case.strategy} {row.get('cycle_life')} {row.get('end_of_life_reason')} "
              f"{row.get('cycles_simulated')} {seconds:.3f}")
    stats = pstats.Stats(profile)
    solves = sum(row.get("cycles_simulated") or 0 for _, row, _ in rows)
    native = total(stats, "~", "<built-in method pybammsolvers.idaklu.solve>", 2)
    # cycle solves: PyBaMM's experiment solve and the lean stepper's (twin.stepper)
    pybamm_solve = (total(stats, "pybamm/simulation/simulation.py", "solve", 3)
                    + total(stats, "twin/stepper.py", "lean_cycle", 3))
    print(f"\n{len(cases)} designs, {solves} cycle solves ({solves / len(cases):.1f} per design), CPU {cpu_s:.2f} s "
          f"({cpu_s / max(solves, 1) * 1000:.1f} ms per solve, everything included)")
    print(f"IDAKLU native integration {native:.2f} s ({native / cpu_s:.0%}); rest of the cycle solves "
          f"{pybamm_solve - native:.2f} s ({(pybamm_solve - native) / cpu_s:.0%}); outside the cycle solves "
          f"{cpu_s - pybamm_solve:.2f} s ({(cpu_s - pybamm_solve) / cpu_s:.0%})")
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())
    if args.stats is not None:
        profile.dump_stats(str(args.stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
