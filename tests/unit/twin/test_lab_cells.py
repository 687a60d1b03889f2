"""Lab cells: defaults a lab uses, and bad requests named before anything is solved."""

from __future__ import annotations

import pytest

from twin.lab_cells import DEFAULT_CURRENT_DENSITY_MA_CM2, DEFAULT_TEST_CYCLES, run_lab_cell
from twin.test_cells import TestCellError

pytestmark = pytest.mark.unit


def test_lab_defaults() -> None:
    # Li||Cu CE at 0.5 mA/cm2 (Adams et al. 2018), Li||Li at 1 mA/cm2
    assert DEFAULT_CURRENT_DENSITY_MA_CM2 == {"li-cu": 0.5, "li-li": 1.0}
    assert DEFAULT_TEST_CYCLES == {"li-cu": 20, "li-li": 1000}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cell": "li-na"}, "invalid test cell: cell: unknown lab cell 'li-na' (legal values: li-cu, li-li)"),
    ({"cell": "li-cu", "ce_protocol": "soak"},
     "invalid test cell: ce_protocol: unknown protocol 'soak' (legal values: repeated, reservoir)"),
    ({"cell": "li-cu", "cycles": 1}, "invalid test cell: cycles: a Li||Cu test needs at least 2 cycles"),
])
def test_bad_requests_are_named(kwargs: dict, message: str) -> None:
    cell = kwargs.pop("cell")
    with pytest.raises(TestCellError) as err:
        run_lab_cell(cell, **kwargs)
    assert str(err.value) == message
