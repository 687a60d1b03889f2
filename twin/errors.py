"""Error types of the twin: one per kind of user mistake or failure.

Each carries a message meant for a battery engineer, so the CLI can print it as is.
"""


class TwinError(Exception):
    """Base class for every error the twin raises on purpose."""


class DesignError(TwinError, ValueError):
    """An invalid cell design; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"invalid design: {field}: {message}")


class ProtocolError(TwinError, ValueError):
    """An invalid cycling protocol; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"invalid protocol: {field}: {message}")


class OptionError(TwinError, ValueError):
    """An unknown model option or option value."""


class SimulationError(TwinError, RuntimeError):
    """The solver failed in a way that is not an end of life."""
