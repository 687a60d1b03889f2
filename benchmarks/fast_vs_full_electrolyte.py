"""Where fast mode's electrolyte departs from full mode's, and what limits its steps.

A diagnostic for the dry-out cliff of lean designs (not a report generator): runs one
design in full and in fast mode, prints at every cycle fast mode simulated the electrolyte
error in cycles of full mode's consumption at that cycle (+: fast has too much left), the
capacity error [% of the first capacity] and the electrolyte left [cycles of consumption];
with --steps, for every step tried, the error-control ratio, its integration part (and the
state that sets it: 5 is the electrolyte, 6 the foil converted to porous Li) and its
interpolation part, and the step limit. Module constants of twin.cycle_skipping can be set
for a study (--set DRY_OUT_SCALE_CYCLES=0.1), and both modes solved at another rtol
(--rtol 1e-9; full mode's own error at the cliff is full at 1e-7 minus full at 1e-9).

    PYTHONPATH=. python benchmarks/fast_vs_full_electrolyte.py --cathode LFP --steps
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import twin.cycle_skipping as cs
from twin.api import predict
from twin.design import CellDesign


def _record_steps(log: list[tuple]) -> None:
    """Wrap the integrator's error estimate so each tried step is logged."""
    integrator = cs.CycleSkippingIntegrator
    error, interpolation = integrator._error, integrator._interpolation_error

    def interpolation_logged(self, point, h, slope, result):
        self._last_interpolation = interpolation(self, point, h, slope, result)
        return self._last_interpolation

    def error_logged(self, point, h, slope, predicted, result):
        ratio, factor = error(self, point, h, slope, predicted, result)
        scale = self.state_scale.copy()
        scale[cs.ELECTROLYTE] = self._electrolyte_scale(point)
        deviation = np.abs(result.end_state - self._predict(point, h + 1, slope)) / scale
        integration = (h - 1) / 2 * deviation[self.accumulating]
        log.append((point.n, h, ratio, integration.max() / self.tolerance,
                    self.accumulating[int(np.argmax(integration))],
                    self._last_interpolation / self.interpolation_tolerance, self._step_limit(point)))
        return ratio, factor

    integrator._error, integrator._interpolation_error = error_logged, interpolation_logged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cathode", default="LFP")
    parser.add_argument("--np-ratio", type=float, default=2.0)
    parser.add_argument("--electrolyte-amount", type=float, default=3.0, help="g/Ah")
    parser.add_argument("--areal-capacity", type=float, default=4.0, help="mAh/cm2")
    parser.add_argument("--strategy", default="iodine-carbon-host")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="set a twin.cycle_skipping module constant")
    parser.add_argument("--steps", action="store_true", help="log every step tried")
    parser.add_argument("--rtol", type=float, default=None,
                        help="solver rtol for both modes (atol 1e-2 x rtol); default the twin's 1e-7")
    args = parser.parse_args()
    for item in args.set:
        name, value = item.split("=")
        if not hasattr(cs, name):
            parser.error(f"twin.cycle_skipping has no constant {name}")
        setattr(cs, name, float(value))
    if args.rtol is not None:
        import twin.cycling as cycling

        solver_class = cycling._ReusingIDAKLUSolver
        cycling._ReusingIDAKLUSolver = lambda **_: solver_class(rtol=args.rtol, atol=1e-2 * args.rtol)
    design = CellDesign(cathode=args.cathode, np_ratio=args.np_ratio, electrolyte_g_per_Ah=args.electrolyte_amount,
                        areal_capacity_mAh_cm2=args.areal_capacity)
    full = predict(design, strategies=args.strategy, mode="full").cycles
    log: list[tuple] = []
    if args.steps:
        _record_steps(log)
    start = time.perf_counter()
    fast = predict(design, strategies=args.strategy, mode="fast").cycles
    seconds = time.perf_counter() - start
    q0 = full["discharge_capacity_mAh_cm2"].iloc[0]
    n = min(len(fast), len(full))
    capacity_error = np.abs(fast["discharge_capacity_mAh_cm2"].to_numpy()[:n]
                            - full["discharge_capacity_mAh_cm2"].to_numpy()[:n]).max() / q0
    print(f"life fast {len(fast)} full {len(full)}; {int(fast['simulated'].sum())} solves in {seconds:.1f} s; "
          f"largest capacity error {100 * capacity_error:.2f} % of the first")
    consumption = -full.set_index("cycle")["electrolyte_g_per_Ah"].diff()
    both = fast[fast["simulated"]].merge(full, on="cycle", suffixes=("_fast", "_full"))
    per_cycle = both["cycle"].map(consumption)
    table = pd.DataFrame({
        "cycle": both["cycle"],
        "left_cycles": both["electrolyte_g_per_Ah_full"] / per_cycle,
        "electrolyte_error_cycles": (both["electrolyte_g_per_Ah_fast"] - both["electrolyte_g_per_Ah_full"]) / per_cycle,
        "capacity_error_pct": 100 * (both["discharge_capacity_mAh_cm2_fast"]
                                     - both["discharge_capacity_mAh_cm2_full"]) / q0,
    })
    print(table.to_string(index=False))
    for n_start, h, ratio, integration, state, interpolation, limit in log:
        print(f"n={n_start} h={h} ratio={ratio:.2f} integration={integration:.2f} (state {state}) "
              f"interpolation={interpolation:.2f} limit={limit}")


if __name__ == "__main__":
    main()
