"""Literature validation suite: the twin's shipped presets against published cells.

Every ``validation/literature/*.toml`` file is one published case: its conditions,
the published number or trend, the source (with DOI) and which values are
assumptions. Each case is run with the shipped parameter sets and strategy presets
only (never tuned per case; full cells in fast mode), and the suite writes
``validation/literature.json`` and ``validation/literature.md``: case, published,
twin, ratio (twin / published where a number is published) and whether the trend
is right. Run from the repository root:

    .venv/bin/python experiments/validate_literature.py          # ~ a few minutes
    .venv/bin/python experiments/validate_literature.py --case niu2019-pouch-swelling

Case kinds (``kind`` in the file):

* ``li_cu_ce_vs_capacity``: repeated Li||Cu CE at several plated capacities;
* ``li_cu_ce_over_cycles``: repeated Li||Cu CE cycle by cycle at several capacities
  (the activation transient: rising after cycle 1, settling sooner at higher capacity);
* ``li_cu_inactive_split``: dead Li vs SEI Li after Li||Cu cycles;
* ``li_cu_ce_vs_temperature``: repeated Li||Cu CE at several temperatures;
* ``li_cu_ce_vs_current``: repeated Li||Cu CE at several current densities;
* ``full_cell_life_vs``: full-cell cycle life as one design field varies;
* ``full_cell_course``: swelling and capacity retention of one full cell over cycles;
* ``full_cell_fade_vs``: capacity lost by cycle N as one design or protocol field varies
  (e.g. the upper cut-off voltage);
* ``dendrite_flag``: the Chazalviel dendrite flag of a design's CC charge;
* ``li_li_lifespan``: symmetric Li||Li lifespans of electrolyte presets (longest first).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CASES_DIR = REPO / "validation" / "literature"
OUT_JSON = REPO / "validation" / "literature.json"
OUT_MD = REPO / "validation" / "literature.md"
# A published number is matched when the twin is within this factor of it.
WITHIN_FACTOR = 2.0
REQUIRED_KEYS = ("id", "title", "kind", "source", "conditions", "published", "assumptions")


class CaseError(ValueError):
    """A malformed case file; the message names the file and the problem."""


def load_case(path: Path) -> dict[str, Any]:
    """One case file, checked for the keys every case needs."""
    try:
        case = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise CaseError(f"{path.name}: cannot read: {err}") from err
    missing = [key for key in REQUIRED_KEYS if key not in case]
    if missing:
        raise CaseError(f"{path.name}: missing key {missing[0]!r}")
    if not case["source"].get("doi"):
        raise CaseError(f"{path.name}: the source needs a DOI")
    if case["kind"] not in RUNNERS:
        raise CaseError(f"{path.name}: unknown kind {case['kind']!r} (known: {', '.join(RUNNERS)})")
    return case


def load_cases(directory: Path = CASES_DIR) -> list[dict[str, Any]]:
    return [load_case(path) for path in sorted(directory.glob("*.toml"))]


# ---------------------------------------------------------------------------------------
# Runners: each returns {"twin": ..., "ratio": float | None, "trend_right": bool | None, ...}


def _li_cu_ce(strategy: str, j: float, q: float, cycles: int,
              extra: dict[str, float] | None = None) -> Any:
    from twin.anchoring import coin_cell_overrides
    from twin.strategies import prepare
    from twin.test_cells import LiCuTest, run_li_cu

    parameters = {**coin_cell_overrides(prepare([strategy]), j), **(extra or {})}
    test = LiCuTest(current_density_mA_cm2=j, capacity_mAh_cm2=q, cycles=cycles,
                    discard_cycles=min(3, cycles - 1))
    return run_li_cu(test, parameters)


def run_ce_vs_capacity(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    ces = {q: _li_cu_ce(c["strategy"], c["current_density_mA_cm2"], q, c["cycles"]).average_coulombic_efficiency
           for q in c["capacities_mAh_cm2"]}
    values = [ces[q] for q in c["capacities_mAh_cm2"]]
    rising = all(b > a for a, b in zip(values, values[1:]))
    twin_ce = ces[p["at_capacity_mAh_cm2"]]
    return {
        "twin": {f"CE at {q:g} mAh/cm2": round(ce, 5) for q, ce in ces.items()},
        "twin_value": twin_ce,
        "ratio": (1 - twin_ce) / (1 - p["value"]),
        "trend_right": rising if p["trend"] == "increasing" else not rising,
    }


def _settled_cycle(ces: list[float], tolerance: float) -> int:
    """First cycle (1-based) from which every CE stays within `tolerance` of the last."""
    final = ces[-1]
    settled = len(ces)
    for k in range(len(ces), 0, -1):
        if abs(ces[k - 1] - final) > tolerance:
            break
        settled = k
    return settled


def run_ce_over_cycles(case: dict[str, Any]) -> dict[str, Any]:
    """Li||Cu CE cycle by cycle at several capacities: it rises after cycle 1 and settles
    in fewer cycles at a higher plated capacity per cycle."""
    c, p = case["conditions"], case["published"]
    twin: dict[str, Any] = {}
    settled: dict[float, int] = {}
    rises = True
    for q in c["capacities_mAh_cm2"]:
        ces = [float(x) for x in _li_cu_ce(c["strategy"], c["current_density_mA_cm2"], q,
                                           c["cycles"]).cycles["coulombic_efficiency"]]
        settled[q] = _settled_cycle(ces, c["settled_within"])
        rises = rises and ces[1] < ces[p["rising_until_cycle"] - 1]
        twin.update({f"{q:g} mAh/cm2: CE {k}": round(ces[k - 1], 4) for k in c["report_cycles"]})
        twin[f"{q:g} mAh/cm2: settled by cycle"] = settled[q]
    values = [settled[q] for q in c["capacities_mAh_cm2"]]
    faster = all(b < a for a, b in zip(values, values[1:]))
    return {"twin": twin, "twin_value": values[-1], "ratio": None,
            "trend_right": rises and (faster if p["trend"] == "settles_faster_at_higher_capacity" else not faster)}


def run_inactive_split(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    result = _li_cu_ce(c["strategy"], c["current_density_mA_cm2"], c["capacity_mAh_cm2"], c["cycles"])
    last = result.cycles.iloc[-1]
    dead, sei = float(last["dead_li_mAh_cm2"]), float(last["sei_li_mAh_cm2"])
    share = dead / (dead + sei)
    return {
        "twin": {"dead Li mAh/cm2": round(dead, 5), "SEI Li mAh/cm2": round(sei, 5),
                 "dead share": round(share, 3), "CE": round(result.average_coulombic_efficiency, 4)},
        "twin_value": share,
        "ratio": None,
        "trend_right": share > p["value"],
    }


def run_ce_vs_temperature(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    ces = {t: _li_cu_ce(c["strategy"], c["current_density_mA_cm2"], c["capacity_mAh_cm2"], c["cycles"],
                        {"Ambient temperature [K]": t + 273.15}).average_coulombic_efficiency
           for t in c["temperatures_degC"]}
    values = [ces[t] for t in c["temperatures_degC"]]
    rising = all(b > a for a, b in zip(values, values[1:]))
    return {
        "twin": {f"CE at {t:g} degC": round(ce, 5) for t, ce in ces.items()},
        "twin_value": values[-1],
        "ratio": None,
        "trend_right": rising if p["trend"] == "increasing" else not rising,
    }


def run_ce_vs_current(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    ces = {j: _li_cu_ce(c["strategy"], j, c["capacity_mAh_cm2"], c["cycles"]).average_coulombic_efficiency
           for j in c["current_densities_mA_cm2"]}
    values = [ces[j] for j in c["current_densities_mA_cm2"]]
    falling = all(b < a for a, b in zip(values, values[1:]))
    return {
        "twin": {f"CE at {j:g} mA/cm2": round(ce, 5) for j, ce in ces.items()},
        "twin_value": values[-1],
        "ratio": None,
        "trend_right": falling if p["trend"] == "decreasing" else not falling,
    }


def _design_protocol(conditions: dict[str, Any]) -> tuple[Any, Any]:
    from twin.design import CellDesign
    from twin.protocol import Protocol

    return CellDesign(**conditions.get("design", {})), Protocol(**conditions.get("protocol", {}))


def _predict(design: Any, protocol: Any, strategy: str | None, max_cycles: int) -> Any:
    from twin.simulation import predict_cycle_life

    return predict_cycle_life(design, protocol, max_cycles=max_cycles, mode="fast",
                              strategies=[strategy] if strategy else None)


def run_life_vs(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    design, protocol = _design_protocol(c)
    if c["vary"] not in {f.name for f in fields(design)}:
        return {"twin": f"not modelled: the design has no field {c['vary']!r}", "twin_value": None,
                "ratio": None, "trend_right": None}
    lives = {}
    for value in c["values"]:
        prediction = _predict(replace(design, **{c["vary"]: value}), protocol, c.get("strategy"), c["max_cycles"])
        lives[value] = prediction.cycle_life if prediction.cycle_life is not None else math.inf
    values = [lives[v] for v in c["values"]]
    ratio = values[-1] / values[0] if values[0] not in (0, math.inf) else None
    rising = all(b > a for a, b in zip(values, values[1:]))
    falling = all(b < a for a, b in zip(values, values[1:]))
    right = rising if p["trend"] == "increasing" else falling
    published_ratio = p.get("value")
    if published_ratio is not None and ratio is not None:
        # a published bound ("at most half"): the twin's ratio must respect it
        right = right and (ratio <= published_ratio if p["trend"] == "decreasing" else ratio >= published_ratio)
    return {
        "twin": {f"life at {c['vary']} = {v:g}": (None if math.isinf(n) else n) for v, n in lives.items()},
        "twin_value": ratio,
        "ratio": None if (ratio is None or published_ratio is None) else ratio / published_ratio,
        "trend_right": right,
    }


def run_fade_vs(case: dict[str, Any]) -> dict[str, Any]:
    """Capacity lost by cycle `cycles` (1 - Q_N / Q_1) as a design or protocol field
    takes `values`; ratio: the last value's loss over the first's, against the published
    ratio."""
    c, p = case["conditions"], case["published"]
    design, protocol = _design_protocol(c)
    on_design = c["vary"] in {f.name for f in fields(design)}
    if not on_design and c["vary"] not in {f.name for f in fields(protocol)}:
        return {"twin": f"not modelled: no design or protocol field {c['vary']!r}", "twin_value": None,
                "ratio": None, "trend_right": None}
    from twin.simulation import predict_cycle_life

    losses = {}
    for value in c["values"]:
        d = replace(design, **{c["vary"]: value}) if on_design else design
        pr = protocol if on_design else replace(protocol, **{c["vary"]: value})
        # a low end-of-life threshold: the run must reach cycle N
        prediction = predict_cycle_life(d, pr, max_cycles=c["cycles"], mode="fast", eol_fraction=0.05,
                                        strategies=[c["strategy"]] if c.get("strategy") else None)
        q = prediction.cycles["discharge_capacity_mAh_cm2"].to_numpy()
        losses[value] = 1 - q[-1] / q[0] if len(q) >= c["cycles"] else math.nan
    values = [losses[v] for v in c["values"]]
    rising = all(b > a for a, b in zip(values, values[1:]))
    ratio = values[-1] / values[0] if values[0] > 0 else None
    return {
        "twin": {f"loss by cycle {c['cycles']} at {c['vary']} = {v:g}": round(x, 5) for v, x in losses.items()},
        "twin_value": ratio,
        "ratio": None if ratio is None or p.get("value") is None else ratio / p["value"],
        "trend_right": rising if p["trend"] == "increasing" else not rising,
    }


def run_course(case: dict[str, Any]) -> dict[str, Any]:
    c, p = case["conditions"], case["published"]
    design, protocol = _design_protocol(c)
    prediction = _predict(design, protocol, c.get("strategy"), c["max_cycles"])
    cycles = prediction.cycles.set_index("cycle")
    q0 = float(cycles["discharge_capacity_mAh_cm2"].iloc[0])

    def at(column: str, cycle: int) -> float | None:
        """Value at `cycle`, or at the last cycle before it when the cell reached end
        of life first (the capacity then is below 80 %, as the forecast says)."""
        earlier = cycles.index[cycles.index <= cycle]
        return float(cycles.loc[earlier[-1], column]) if len(earlier) else None

    s50, s200 = at("swelling_pct", 50), at("swelling_pct", 200)
    last = int(cycles.index[-1])
    reached = last >= 200
    retention = at("discharge_capacity_mAh_cm2", 200) / q0
    added = None if (s50 is None or s200 is None) else s200 - s50
    twin = {"swelling % at 50": s50,
            ("swelling % added 50-200" if reached else f"swelling % added 50-{last}"): added,
            ("capacity retention at 200" if reached else f"capacity retention at end of life (cycle {last})"):
                retention,
            "cycle life (80 %)": prediction.cycle_life}
    ratios = {"swelling at 50": None if s50 is None else s50 / p["swelling_pct_at_50"],
              "swelling added 50-200": added / p["swelling_pct_added_50_to_200"] if reached else None,
              "retention at 200": retention / p["capacity_retention_at_200"] if reached else None}
    slows = None if added is None or s50 is None else added / 150 < s50 / 50
    return {"twin": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in twin.items()},
            "twin_value": s50, "ratio": ratios["swelling at 50"], "ratios": ratios, "trend_right": slows}


def run_dendrite_flag(case: dict[str, Any]) -> dict[str, Any]:
    from twin.cell_parameters import parameter_values
    from twin.dendrite import assess_dendrite_risk

    design, protocol = _design_protocol(case["conditions"])
    risk = assess_dendrite_risk(design, protocol, parameter_values(design, protocol))
    return {"twin": {"flag": risk.flag, "reason": risk.reason or "none",
                     "J* mA/cm2": round(risk.limiting_current_density_mA_cm2, 1),
                     "charge mA/cm2": risk.charge_current_density_mA_cm2},
            "twin_value": risk.flag, "ratio": None, "trend_right": not risk.flag}


def run_li_li_lifespan(case: dict[str, Any]) -> dict[str, Any]:
    """Li||Li lifespans [cycles] of several electrolyte presets at one current density
    and capacity; the published number is a lower bound on the first preset's life."""
    from twin.lab_cells import run_lab_cell

    c, p = case["conditions"], case["published"]
    results = {}
    for strategy in c["strategies"]:
        result, _ = run_lab_cell("li-li", [strategy], current_density_mA_cm2=c["current_density_mA_cm2"],
                                 capacity_mAh_cm2=c["capacity_mAh_cm2"], cycles=c["max_cycles"],
                                 foil_thickness_um=c["foil_thickness_um"],
                                 overpotential_limit_V=c["overpotential_limit_V"])
        results[strategy] = result
    lives = [r.cycles_completed for r in results.values()]
    first = c["strategies"][0]
    return {
        "twin": {f"{s}: cycles": r.cycles_completed for s, r in results.items()}
        | {f"{s}: end": r.end_reason for s, r in results.items()},
        "twin_value": lives[0],
        "ratio": lives[0] / p["value"],
        "trend_right": all(a > b for a, b in zip(lives, lives[1:])) and results[first].cycles_completed > 0,
    }


RUNNERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "li_cu_ce_vs_capacity": run_ce_vs_capacity,
    "li_cu_ce_over_cycles": run_ce_over_cycles,
    "li_cu_inactive_split": run_inactive_split,
    "li_cu_ce_vs_temperature": run_ce_vs_temperature,
    "li_cu_ce_vs_current": run_ce_vs_current,
    "full_cell_life_vs": run_life_vs,
    "full_cell_course": run_course,
    "full_cell_fade_vs": run_fade_vs,
    "dendrite_flag": run_dendrite_flag,
    "li_li_lifespan": run_li_li_lifespan,
}


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    result = RUNNERS[case["kind"]](case)
    ratios = [r for r in (result.get("ratios") or {"": result["ratio"]}).values() if r is not None]
    result.update({
        "id": case["id"], "title": case["title"], "source": case["source"],
        "published": case["published"], "assumptions": case["assumptions"],
        "within_factor": all(1 / WITHIN_FACTOR <= r <= WITHIN_FACTOR for r in ratios) if ratios else None,
        "elapsed_s": round(time.perf_counter() - start, 1),
    })
    return result


# ---------------------------------------------------------------------------------------
# Report


def _published_text(published: dict[str, Any]) -> str:
    return "; ".join(f"{k} = {v}" for k, v in published.items() if k != "quantity")


def _twin_text(twin: Any) -> str:
    if isinstance(twin, dict):
        return "; ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in twin.items())
    return str(twin)


def _mark(value: bool | None) -> str:
    return "n/a" if value is None else ("right" if value else "WRONG")


def render_markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "# Literature validation",
        "",
        "Shipped presets and parameter sets only, never tuned per case (full cells in fast mode).",
        "Generated by `make validate-literature` (experiments/validate_literature.py) from",
        "validation/literature/*.toml. ratio = twin / published (loss 1 - CE for CE numbers);",
        f"within 2x means {1 / WITHIN_FACTOR:g} <= ratio <= {WITHIN_FACTOR:g}.",
        "",
        "| case | published | twin | ratio | within 2x | trend |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ratios = r.get("ratios") or {"": r["ratio"]}
        ratio = ", ".join(f"{k} {v:.2f}".strip() for k, v in ratios.items() if v is not None) or "-"
        lines.append(f"| {r['id']} | {_published_text(r['published'])} | {_twin_text(r['twin'])} | {ratio} | "
                     f"{_mark(r['within_factor'])} | {_mark(r['trend_right'])} |")
    right = sum(1 for r in results if r["trend_right"])
    judged = sum(1 for r in results if r["trend_right"] is not None)
    within = sum(1 for r in results if r["within_factor"])
    compared = sum(1 for r in results if r["within_factor"] is not None)
    outside = [r["id"] for r in results if r["within_factor"] is False]
    lines += [
        "", f"Trends right: {right} of {judged} judged ({len(results)} cases).",
        f"Published numbers within 2x: {within} of {compared} compared"
        + (f" (outside: {', '.join(outside)})." if outside else "."),
        "", "## Sources and assumptions", "",
    ]
    for r in results:
        lines.append(f"* **{r['id']}**: {r['title']}. {r['source']['citation']}, doi {r['source']['doi']}.")
        lines.extend(f"  - A: {a}" for a in r["assumptions"])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", help="run only this case id (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print the table, write nothing")
    args = parser.parse_args(argv)
    try:
        cases = load_cases()
    except CaseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.case:
        known = {c["id"] for c in cases}
        unknown = [c for c in args.case if c not in known]
        if unknown:
            print(f"error: unknown case {unknown[0]!r} (known: {', '.join(sorted(known))})", file=sys.stderr)
            return 2
        cases = [c for c in cases if c["id"] in args.case]
    results = []
    for case in cases:
        print(f"{case['id']} ...", file=sys.stderr, flush=True)
        results.append(run_case(case))
    text = render_markdown(results)
    if args.no_write:
        print(text)
        return 0
    from twin.files import write_atomic

    write_atomic(OUT_JSON, json.dumps(results, indent=1, default=str))
    write_atomic(OUT_MD, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
