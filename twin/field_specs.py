"""One source for the facts about a design or protocol field: unit, bounds, help.

`CellDesign` and `Protocol` declare each field with `spec_field`, which stores a
`FieldSpec` in the dataclass field's metadata. Validation (`validate_fields`), the CLI
options (`twin.experiments.options`), the sweep's axes (`numeric_fields`) and the
calibration's design fields are generated from it, so a new input is declared once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SPEC_KEY = "twin_spec"


@dataclass(frozen=True)
class FieldSpec:
    """What a design or protocol field means and which values it takes.

    Attributes
    ----------
    unit
        Unit of the value ("" for a plain number or a name), e.g. "mAh/cm2".
    help
        One line for people (CLI help, docs); the unit is added by `help_text`.
    minimum, maximum
        Legal range (inclusive); None: unbounded on that side.
    check
        The rule (and so the message) `validate_fields` applies: "number" (finite, not
        negative, within the range; zero only if `allow_zero`), "positive" (above zero,
        at most `maximum`), "minutes" (zero or more, at most `maximum`), "count" (a whole number within the
        range), "choice" (one of `choices`), "range" (a number within the range),
        "optional-range" (None or a number within the range), "none" (checked elsewhere).
    flag
        The CLI option that sets it, if any ("--np-ratio").
    choices
        Legal values of a "choice" field.
    allow_zero
        Whether a "number" may be zero.
    noun
        What a "choice" is a choice of, for its message ("chemistry").
    """

    unit: str
    help: str
    minimum: float | None = None
    maximum: float | None = None
    check: str = "number"
    flag: str | None = None
    choices: tuple[str, ...] = ()
    allow_zero: bool = True
    noun: str = "value"

    def help_text(self) -> str:
        """'Cathode areal capacity [mAh/cm2].' -- the help with its unit."""
        unit = f" [{self.unit}]" if self.unit else ""
        head, sep, tail = self.help.partition(";")
        return f"{head}{unit}{sep}{tail}."

    @property
    def numeric(self) -> bool:
        """Whether the field is a number (a possible sweep axis)."""
        return self.check in ("number", "positive", "minutes", "count", "range", "optional-range")


def spec_field(default: Any, **spec: Any) -> Any:
    """A dataclass field with default `default` and a `FieldSpec(**spec)` in its metadata."""
    return dataclasses.field(default=default, metadata={SPEC_KEY: FieldSpec(**spec)})


def field_specs(cls: type) -> dict[str, FieldSpec]:
    """Field name -> FieldSpec of a dataclass declared with `spec_field`, in order."""
    return {f.name: f.metadata[SPEC_KEY] for f in dataclasses.fields(cls) if SPEC_KEY in f.metadata}


def field_defaults(cls: type) -> dict[str, Any]:
    """Field name -> default value of a dataclass."""
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def numeric_fields(cls: type) -> list[str]:
    """The numeric fields of a dataclass declared with `spec_field` (sweepable)."""
    return [name for name, spec in field_specs(cls).items() if spec.numeric]


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def check_value(name: str, value: Any, spec: FieldSpec, fail: Callable[[str, str], Exception]) -> None:
    """Raise `fail(name, message)` when `value` breaks `spec`'s rule."""
    lo, hi = spec.minimum, spec.maximum
    if spec.check == "choice":
        if value not in spec.choices:
            raise fail(name, f"unknown {spec.noun} {value!r} (known: {', '.join(spec.choices)})")
    elif spec.check == "number":
        if not _is_number(value):
            raise fail(name, f"must be a number, got {value!r}")
        if math.isnan(value) or math.isinf(value):
            raise fail(name, f"must be a finite number, got {value}")
        if value < 0:
            raise fail(name, f"must not be negative, got {value}")
        if value == 0 and not spec.allow_zero:
            raise fail(name, "must be greater than zero")
        if not lo <= value <= hi:
            raise fail(name, f"must lie between {lo} and {hi}, got {value}")
    elif spec.check == "positive":
        if not _is_number(value) or math.isnan(value):
            raise fail(name, f"must be a number, got {value!r}")
        if value <= 0:
            raise fail(name, f"must be greater than zero, got {value}")
        if value > hi:
            raise fail(name, f"must be at most {hi}, got {value}")
    elif spec.check == "minutes":
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise fail(name, f"must be zero or a positive number of minutes, got {value!r}")
        if spec.maximum is not None and value > spec.maximum:
            raise fail(name, f"must be at most {spec.maximum:g} minutes, got {value!r}")
    elif spec.check == "count":
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            raise fail(name, f"must be a whole number of at least {lo}, got {value!r}")
        if hi is not None and value > hi:
            raise fail(name, f"must be at most {hi}, got {value}")
    elif spec.check in ("range", "optional-range"):
        if value is None and spec.check == "optional-range":
            return
        if not _is_number(value) or math.isnan(value) or not lo <= value <= hi:
            unit = f" {spec.unit}" if spec.unit else ""
            raise fail(name, f"must lie between {lo} and {hi}{unit}, got {value!r}")
    elif spec.check != "none":
        raise ValueError(f"unknown field check {spec.check!r}")


def validate_fields(obj: Any, fail: Callable[[str, str], Exception]) -> None:
    """Check every field of dataclass instance `obj` against its spec, in declaration
    order; raise `fail(field, message)` for the first that breaks its rule."""
    for name, spec in field_specs(type(obj)).items():
        check_value(name, getattr(obj, name), spec, fail)
