"""The error of an unusable population prior (its own module: both calibration.prior
and calibration.fleet_prior raise it, and prior reads fleet files, so neither may
import the other for it)."""

from twin.errors import TwinInputError


class PriorError(TwinInputError):
    """A prior file or fleet that cannot be used (the message names the problem)."""


__all__ = ["PriorError"]
