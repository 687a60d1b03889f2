"""Cycling protocols from TOML files.

A protocol file is a flat TOML table with the fields of `twin.protocol.Protocol`
plus an optional `description`; the name defaults to the file's stem:

    name = "fast-charge"
    description = "1C CC-CV charge, 1C discharge"
    charge_rate_C = 1.0
    discharge_rate_C = 1.0
    cv_cutoff_C = 0.05
    rest_after_charge_min = 10
    rest_after_discharge_min = 10
    # v_max / v_min [V] default to the cathode's window
    checkup_every = 50       # a slow cycle every 50 cycles (0 = none)
    checkup_rate_C = 0.1
    temperature_degC = 25    # optional: replaces the design's temperature

Unknown keys, wrong types and out-of-range values raise `ProtocolError` naming the
field (and the file).

Named protocols ship with the package (`standard`, `fast-charge`, `checkup`):
`protocol_names()` lists them, `load_named_protocol("fast-charge")` reads one (a path
to your own file works too).
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from importlib.resources import files

from twin.errors import ProtocolError
from twin.protocol import Protocol

# Keys a protocol file may hold besides the Protocol fields.
FILE_ONLY_KEYS = ("description",)
# TOML has separate integer and float types; these fields take either.
_NUMBER_FIELDS = {
    "charge_rate_C", "discharge_rate_C", "v_max", "v_min", "cv_cutoff_C",
    "rest_after_charge_min", "rest_after_discharge_min", "checkup_rate_C", "temperature_degC",
}


def protocol_from_mapping(values: dict[str, Any], default_name: str = "default") -> Protocol:
    """A validated Protocol from a mapping of protocol fields (as read from TOML)."""
    known = [f.name for f in fields(Protocol)]
    allowed = set(known) | set(FILE_ONLY_KEYS)
    for key, value in values.items():
        if key not in allowed:
            raise ProtocolError(key, f"unknown protocol field (known: {', '.join([*known, *FILE_ONLY_KEYS])})")
        if isinstance(value, dict):
            raise ProtocolError(key, "must be a value, not a table")
    description = values.get("description")
    if description is not None and not isinstance(description, str):
        raise ProtocolError("description", f"must be a string, got {description!r}")
    name = values.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise ProtocolError("name", f"must be a non-empty string, got {name!r}")
    kwargs = {key: value for key, value in values.items() if key not in FILE_ONLY_KEYS}
    kwargs["name"] = name
    for key in _NUMBER_FIELDS & kwargs.keys():
        value = kwargs[key]
        if isinstance(value, int) and not isinstance(value, bool):
            kwargs[key] = float(value)
    return Protocol(**kwargs)


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate the protocol in TOML file `path`.

    Raises ProtocolError (a ValueError) for a missing or unreadable file, invalid
    TOML, unknown keys or bad values; the message names the file and the field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProtocolError("file", f"{path}: no such protocol file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ProtocolError("file", f"{path}: cannot be read ({err})") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProtocolError("file", f"{path}: not valid TOML ({err})") from None
    try:
        return protocol_from_mapping(values, default_name=path.stem)
    except ProtocolError as err:
        raise ProtocolError(err.field, f"{_detail(err)} (in {path})") from None
    except TypeError as err:  # a Protocol validator met a value of the wrong type
        raise ProtocolError("file", f"{path}: {err}") from None


def _bundled_protocols():  # -> importlib.resources Traversable
    # The project's layout keeps the named protocols in experiments/protocols/, installed
    # as package data under twin/experiments/; read as files, nothing is imported.
    return files("twin") / "experiments" / "protocols"


def protocol_names() -> list[str]:
    """Names of the protocols that ship with the package, sorted."""
    return sorted(p.name[:-len(".toml")] for p in _bundled_protocols().iterdir() if p.name.endswith(".toml"))


def protocol_path(name_or_path: str | Path) -> Path:
    """The TOML file of a protocol: `name_or_path` if it is an existing file, else the
    named protocol that ships with the package.

    Raises
    ------
    ProtocolError
        Neither a file nor a named protocol (the message lists the names).
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    names = protocol_names()
    if str(name_or_path) in names:
        return Path(str(_bundled_protocols() / f"{name_or_path}.toml"))
    raise ProtocolError("name", f"{str(name_or_path)!r} is neither a file nor a named protocol "
                                f"(named: {', '.join(names)})")


def load_named_protocol(name_or_path: str | Path) -> Protocol:
    """A named protocol (see `protocol_names`) or one from a TOML file, validated.

    Parameters
    ----------
    name_or_path : str or Path
        "standard", "fast-charge", "checkup", or the path of a protocol file.

    Returns
    -------
    Protocol
        Rates in C, rests in minutes, voltages in V.
    """
    return load_protocol(protocol_path(name_or_path))


def _detail(err: ProtocolError) -> str:
    """The message of a ProtocolError without its "invalid protocol: field: " prefix."""
    prefix = f"invalid protocol: {err.field}: "
    text = str(err)
    return text[len(prefix):] if text.startswith(prefix) else text
