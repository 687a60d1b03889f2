"""Cycling protocols: CC-CV charge, CC discharge, rests, voltage window, check-ups."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from twin.errors import ProtocolError

# Voltage windows per cathode chemistry [V] (Li-metal counter electrode at 0 V).
DEFAULT_VOLTAGE_WINDOW_V: dict[str, tuple[float, float]] = {
    "NMC811": (2.8, 4.2),
    "LFP": (2.5, 3.6),
}
# Longest rest after a charge or discharge [min]: 10 h, as `twin simulate --rest` allows;
# longer rests are storage tests, which this protocol does not describe.
MAX_REST_MIN = 600.0


@dataclass(frozen=True)
class Protocol:
    """One repeated cycle: CC charge to v_max, CV hold to cv_cutoff_C, rest,
    CC discharge to v_min, rest. Voltages of None take the chemistry's window."""

    charge_rate_C: float = 0.3
    discharge_rate_C: float = 0.5
    v_max: float | None = None
    v_min: float | None = None
    cv_cutoff_C: float = 0.05
    rest_after_charge_min: float = 10.0
    rest_after_discharge_min: float = 10.0
    name: str = "default"
    # Check-up: every `checkup_every`-th cycle (cycles N, 2N, ...) is a slow CC-CV /
    # CC cycle at `checkup_rate_C`, as labs do to track capacity; 0 = none.
    checkup_every: int = 0
    checkup_rate_C: float = 0.1
    # Test temperature [degC]; None keeps the design's temperature.
    temperature_degC: float | None = None

    def __post_init__(self) -> None:
        validate_protocol(self)

    def voltage_window(self, cathode: str) -> tuple[float, float]:
        lo, hi = DEFAULT_VOLTAGE_WINDOW_V[cathode]
        v_min = self.v_min if self.v_min is not None else lo
        v_max = self.v_max if self.v_max is not None else hi
        if v_min >= v_max:  # one bound given, the other the chemistry's default
            field = "v_min" if self.v_min is not None else "v_max"
            raise ProtocolError(field, f"the {cathode} window would be {v_min} V to {v_max} V: "
                                       "v_min must be below v_max")
        return v_min, v_max

    def is_checkup(self, cycle: int) -> bool:
        """Whether cycle number `cycle` (1-based) is a check-up cycle."""
        return self.checkup_every > 0 and cycle % self.checkup_every == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Protocol:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ProtocolError(unknown[0], f"unknown protocol field (known: {', '.join(sorted(known))})")
        return cls(**values)


def _positive(name: str, value: Any, maximum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ProtocolError(name, f"must be a number, got {value!r}")
    if value <= 0:
        raise ProtocolError(name, f"must be greater than zero, got {value}")
    if value > maximum:
        raise ProtocolError(name, f"must be at most {maximum}, got {value}")


def validate_protocol(protocol: Protocol) -> None:
    _positive("charge_rate_C", protocol.charge_rate_C, 10.0)
    _positive("discharge_rate_C", protocol.discharge_rate_C, 20.0)
    _positive("cv_cutoff_C", protocol.cv_cutoff_C, 1.0)
    for name in ("rest_after_charge_min", "rest_after_discharge_min"):
        value = getattr(protocol, name)
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or value < 0):
            raise ProtocolError(name, f"must be zero or a positive number of minutes, got {value!r}")
        if value > MAX_REST_MIN:  # the cap of `twin simulate --rest`
            raise ProtocolError(name, f"must be at most {MAX_REST_MIN:g} minutes, got {value!r}")
    for name in ("v_max", "v_min"):
        value = getattr(protocol, name)
        if value is not None and (not isinstance(value, (int, float)) or math.isnan(value)
                                  or not 1.0 <= value <= 5.0):
            raise ProtocolError(name, f"must lie between 1.0 and 5.0 V, got {value!r}")
    if protocol.v_max is not None and protocol.v_min is not None and protocol.v_min >= protocol.v_max:
        raise ProtocolError("v_min", f"{protocol.v_min} V must be below v_max {protocol.v_max} V")
    _validate_checkup(protocol)
    t = protocol.temperature_degC
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t)
                          or not -30 <= t <= 80):
        raise ProtocolError("temperature_degC", f"must lie between -30 and 80 degC, got {t!r}")


def _validate_checkup(protocol: Protocol) -> None:
    every = protocol.checkup_every
    if isinstance(every, bool) or not isinstance(every, int) or every < 0 or every == 1:
        raise ProtocolError("checkup_every",
                            f"must be 0 (no check-ups) or a whole number of at least 2, got {every!r}")
    _positive("checkup_rate_C", protocol.checkup_rate_C, 10.0)
    if every and protocol.checkup_rate_C <= protocol.cv_cutoff_C:
        raise ProtocolError("checkup_rate_C", f"{protocol.checkup_rate_C} C must be above the CV "
                            f"cut-off cv_cutoff_C {protocol.cv_cutoff_C} C")
