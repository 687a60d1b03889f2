"""The latent space both population priors work in: log10 of the log-scaled parameters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_latent(values: np.ndarray, log: Sequence[bool]) -> np.ndarray:
    """Parameter values (N x P) -> latent (log10 of column j where ``log[j]``; values
    floored at 1e-300 so a zero maps to a finite number)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    out = values.copy()
    for j, is_log in enumerate(log):
        if is_log:
            out[:, j] = np.log10(np.maximum(values[:, j], 1e-300))
    return out


__all__ = ["to_latent"]
