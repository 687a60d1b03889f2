"""Cycling protocols: CC-CV charge, CC discharge, rests, voltage window, check-ups."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from twin.errors import ProtocolError
from twin.field_specs import spec_field, validate_fields

# Voltage windows per cathode chemistry [V] (Li-metal counter electrode at 0 V).
DEFAULT_VOLTAGE_WINDOW_V: dict[str, tuple[float, float]] = {
    "NMC811": (2.8, 4.2),
    "NMC622": (2.8, 4.2),
    "NMC532": (3.0, 4.2),
    "LFP": (2.5, 3.6),
}
# Upper cut-off voltages [V] a protocol may charge each cathode to: where its OCP fit
# holds (the Xu2019 NMC532 fit reaches only 4.35 V, at an empty cathode; the Chen2020
# NMC811 fit, measured to 4.3 V, is taken to 4.5 V, the highest cut-off of the fade
# data in twin.parameters.cathode_fade; LFP's plateau ends at 3.45 V).
UPPER_CUTOFF_RANGE_V: dict[str, tuple[float, float]] = {
    "NMC811": (3.9, 4.5),
    "NMC622": (3.9, 4.5),
    "NMC532": (3.9, 4.3),
    "LFP": (3.45, 3.9),
}
# Longest rest after a charge or discharge [min]: 10 h, as `twin simulate --rest` allows;
# longer rests are storage tests, which this protocol does not describe.
MAX_REST_MIN = 600.0


@dataclass(frozen=True)
class Protocol:
    """One repeated cycle: CC charge to v_max, CV hold to cv_cutoff_C, rest,
    CC discharge to v_min, rest. Voltages of None take the chemistry's window."""

    charge_rate_C: float = spec_field(0.3, unit="C", help="CC charge rate; then CV to cv_cutoff_C",
                                      check="positive", minimum=0.0, maximum=10.0, flag="--charge-rate")
    discharge_rate_C: float = spec_field(0.5, unit="C", help="CC discharge rate", check="positive",
                                         minimum=0.0, maximum=20.0, flag="--discharge-rate")
    # the cathode's own range (UPPER_CUTOFF_RANGE_V) is checked by voltage_window
    v_max: float | None = spec_field(None, unit="V", help="Upper (charge) cut-off voltage vs Li; sets the "
                                     "accessible capacity and the cathode fade (None: the chemistry's)",
                                     check="optional-range", minimum=1.0, maximum=5.0, flag="--upper-cutoff")
    v_min: float | None = spec_field(None, unit="V", help="Lower cut-off voltage (None: the chemistry's)",
                                     check="optional-range", minimum=1.0, maximum=5.0)
    cv_cutoff_C: float = spec_field(0.05, unit="C", help="End of the CV hold", check="positive",
                                    minimum=0.0, maximum=1.0)
    rest_after_charge_min: float = spec_field(10.0, unit="min", help="Rest after the charge", check="minutes",
                                              minimum=0.0, maximum=MAX_REST_MIN)
    rest_after_discharge_min: float = spec_field(10.0, unit="min", help="Rest after the discharge",
                                                 check="minutes", minimum=0.0, maximum=MAX_REST_MIN)
    name: str = spec_field("default", unit="", help="Name of the protocol", check="none")
    # Check-up: every `checkup_every`-th cycle (cycles N, 2N, ...) is a slow CC-CV /
    # CC cycle at `checkup_rate_C`, as labs do to track capacity; 0 = none.
    checkup_every: int = spec_field(0, unit="cycles", help="Check-up period (0: none)", check="none")
    checkup_rate_C: float = spec_field(0.1, unit="C", help="Check-up charge and discharge rate", check="positive",
                                       minimum=0.0, maximum=10.0)
    # Test temperature [degC]; None keeps the design's temperature.
    temperature_degC: float | None = spec_field(None, unit="degC", help="Test temperature (None: the design's)",
                                                check="optional-range", minimum=-30, maximum=80)

    def __post_init__(self) -> None:
        validate_protocol(self)

    def voltage_window(self, cathode: str) -> tuple[float, float]:
        """(lower, upper) cut-off voltage [V] for `cathode`; ProtocolError when the upper
        one lies outside the cathode's UPPER_CUTOFF_RANGE_V or not above the lower."""
        lo, hi = DEFAULT_VOLTAGE_WINDOW_V[cathode]
        v_min = self.v_min if self.v_min is not None else lo
        v_max = self.v_max if self.v_max is not None else hi
        top_lo, top_hi = UPPER_CUTOFF_RANGE_V[cathode]
        if not top_lo <= v_max <= top_hi:
            raise ProtocolError("v_max", f"{v_max} V is outside the {cathode} upper cut-off range "
                                         f"{top_lo} to {top_hi} V")
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


def validate_protocol(protocol: Protocol) -> None:
    """Raise ProtocolError naming the first invalid field of `protocol` (each field's
    rule is in its `FieldSpec`; the rules below involve two fields)."""
    validate_fields(protocol, ProtocolError)
    if protocol.v_max is not None and protocol.v_min is not None and protocol.v_min >= protocol.v_max:
        raise ProtocolError("v_min", f"{protocol.v_min} V must be below v_max {protocol.v_max} V")
    _validate_checkup(protocol)


def _validate_checkup(protocol: Protocol) -> None:
    every = protocol.checkup_every
    if isinstance(every, bool) or not isinstance(every, int) or every < 0 or every == 1:
        raise ProtocolError("checkup_every",
                            f"must be 0 (no check-ups) or a whole number of at least 2, got {every!r}")
    if every and protocol.checkup_rate_C <= protocol.cv_cutoff_C:
        raise ProtocolError("checkup_rate_C", f"{protocol.checkup_rate_C} C must be above the CV "
                            f"cut-off cv_cutoff_C {protocol.cv_cutoff_C} C")
