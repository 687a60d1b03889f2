"""Strategies by name: the presets, and names resolved against presets and user files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from twin.strategies.files import load_strategy_file
from twin.strategies.schema import Strategy, StrategyError

def presets() -> dict[str, Strategy]:
    """The built-in strategies by name (see `twin.strategy_presets`)."""
    from twin.strategy_presets import PRESETS  # late: the presets table is built on first use

    return PRESETS


def get_strategy(name: str, extra: Mapping[str, Strategy] | None = None) -> Strategy:
    """A preset or a strategy from `extra` (e.g. loaded files) by name."""
    known = {**presets(), **(extra or {})}
    if name not in known:
        close = [n for n in known if name.lower() in n or n in name.lower()]
        hint = f"; did you mean {', '.join(close[:3])}?" if close else ""
        raise StrategyError(f"unknown strategy {name!r}{hint} (see `twin strategies list`)")
    return known[name]


def parse_strategy_spec(spec: str) -> list[str]:
    """'lhce+carbon-fiber-host' -> ['lhce', 'carbon-fiber-host']: one sweep/compare axis
    value naming strategies combined in one cell."""
    names = [part.strip() for part in str(spec).split("+")]
    if not spec or any(not n for n in names):
        raise StrategyError(f"empty strategy name in {spec!r} (use NAME or NAME+NAME)")
    return names


def resolve(items: Iterable[str | Strategy], files: Iterable[str | Path] = (),
            replace_presets: bool = False) -> list[Strategy]:
    """Strategy objects for names (presets or the strategies in `files`) and objects;
    every strategy loaded from `files` is included too. A file whose strategy has a
    preset's name is refused unless `replace_presets` (it would silently change
    what that name means)."""
    loaded = [load_strategy_file(path) for path in files]
    if not replace_presets:
        shadowing = [(s.name, s.origin) for s in loaded if s.name in presets()]
        if shadowing:
            name, origin = shadowing[0]
            raise StrategyError(f"strategy file {origin}: name {name!r} is a preset; rename it or pass "
                                "--replace-preset to use the file instead of the preset")
    by_name = {s.name: s for s in loaded}
    result: list[Strategy] = []
    for item in items:
        result.append(item if isinstance(item, Strategy) else get_strategy(str(item), by_name))
    for strategy in loaded:
        if all(s.name != strategy.name for s in result):
            result.append(strategy)
    return result
