"""Cycling data readers: kept as a thin re-export of :mod:`twin.calibration.readers`
(one module per file format there), so existing imports keep working."""

from __future__ import annotations

import os  # noqa: F401  (tests patch data.os to simulate a full disk)

from twin.calibration.readers import *  # noqa: F403
from twin.calibration.readers import __all__  # noqa: F401
