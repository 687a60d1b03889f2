"""The Li||Cu Coulombic-efficiency test, bare and with each electrolyte strategy: the
number labs report, simulated by the twin's coin-cell model.

    python examples/li_cu_test.py --cycles 20
"""

from __future__ import annotations

import argparse

import twin


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--current-density", type=float, default=0.5, help="[mA/cm2]")
    parser.add_argument("--family", default="electrolyte", help="strategy family to test")
    args = parser.parse_args(argv)

    strategies = [None] + [name for name in twin.strategy_names()
                           if twin.get_strategy(name).family == args.family]
    ce = {}
    for strategy in strategies:
        result = twin.li_cu(strategy, cycles=args.cycles, current_density_mA_cm2=args.current_density)
        ce[strategy or "bare Cu"] = result.coulombic_efficiency
        print(f"{strategy or 'bare Cu':32} CE {100 * result.coulombic_efficiency:.2f} %")
    return ce


if __name__ == "__main__":
    main()
