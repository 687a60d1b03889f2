"""Which cells a fleet calibration fits, and where their results go."""

from pathlib import Path

import pytest

from twin.experiments.fleet import CellJob, FleetError, absolute_sqlite, fleet_jobs, summary_csv

pytestmark = pytest.mark.unit

TABLE = Path(__file__).parents[2] / "fixtures" / "anode_free_cu_lfp_subset.csv"
CELLS = ["AF00", "AF03", "AF22", "AF24", "AF25", "AF33"]


def test_all_cells_of_a_table_and_a_chosen_few():
    jobs = fleet_jobs([TABLE], "all", "auto")
    assert [job.cell_id for job in jobs] == CELLS
    assert jobs[0].name == "anode_free_cu_lfp_subset-AF00" and jobs[0].path.is_absolute()
    chosen = fleet_jobs([TABLE], "af22, AF03", "auto")  # ids match case-insensitively, in the order asked
    assert [job.cell_id for job in chosen] == ["AF22", "AF03"]


def test_bad_cell_lists_are_named():
    with pytest.raises(FleetError, match=r"^--cell: AF99 not in anode_free_cu_lfp_subset.csv$"):
        fleet_jobs([TABLE], "AF00,AF99", "auto")
    with pytest.raises(FleetError, match=r"holds 6 cells: give --cell all or --cell A,B$"):
        fleet_jobs([TABLE], None, "auto")
    with pytest.raises(FleetError, match=r"^the same cell is listed twice: anode_free_cu_lfp_subset-AF00$"):
        fleet_jobs([TABLE, TABLE], "AF00", "auto")


def test_relative_sqlite_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert absolute_sqlite("sqlite:///studies.db") == f"sqlite:///{tmp_path / 'studies.db'}"
    assert absolute_sqlite("sqlite:////data/studies.db") == "sqlite:////data/studies.db"
    assert absolute_sqlite("postgresql://u@h/db") == "postgresql://u@h/db"


def test_summary_has_one_line_per_cell_and_empty_missing_values():
    job = CellJob(Path("/x/cell.csv"))
    text = summary_csv([{"cell": job.name, "status": "failed", "loss": None, "error": "only 1 cycle"}])
    header, line = text.strip().splitlines()
    assert header.startswith("cell,data_file,cell_id,status,loss,")
    assert line.startswith("cell,,,failed,,") and line.endswith(",only 1 cycle")
