"""One error hierarchy: every deliberate error is a TwinError, in an input branch
(exit 2) or a runtime branch (exit 1); the old names stay importable where they were."""

import pytest

from twin.errors import DesignError, ProtocolError, SimulationError, TwinError, TwinInputError, TwinRuntimeError


def input_error_classes():
    from twin.calibration.data import DataError
    from twin.calibration.search_space import RecipeError
    from twin.calibration.study import CalibrationError
    from twin.calibration.synthetic import SyntheticDataError
    from twin.errors import OptionError
    from twin.experiments.sweep import SweepError
    from twin.strategies import StrategyError
    from twin.test_cells import TestCellError

    return [DataError, RecipeError, CalibrationError, SyntheticDataError, SweepError, StrategyError,
            TestCellError, DesignError, ProtocolError, OptionError]


def test_every_input_error_is_a_twin_input_error_and_a_value_error():
    for cls in input_error_classes():
        assert issubclass(cls, TwinInputError) and issubclass(cls, ValueError), cls
        assert cls.exit_code == 2, cls


def test_solver_failures_are_runtime_errors_that_exit_1():
    from twin.test_cells import TestCellSolverError

    for cls in (SimulationError, TestCellSolverError):
        assert issubclass(cls, TwinRuntimeError) and issubclass(cls, TwinError)
        assert not issubclass(cls, ValueError)
        assert cls.exit_code == 1


def test_design_and_protocol_errors_name_their_field_as_the_argument():
    err = DesignError("np_ratio", "must not be negative, got -1.0")
    assert str(err) == "invalid design: np_ratio: must not be negative, got -1.0"
    assert err.argument == err.field == "np_ratio"
    assert ProtocolError("v_min", "x").argument == "v_min"


@pytest.mark.parametrize(("error", "exit_code", "output"), [
    (DesignError("np_ratio", "must not be negative, got -1.0"), 2,
     "Error: invalid design: np_ratio: must not be negative, got -1.0\n"),
    (TwinInputError("storage 'foo://bar' is not a database URL", argument="storage"), 2,
     "Error: --storage 'foo://bar' is not a database URL\n"),
    (TwinInputError("study 'x' fitted other parameters; use another study_name for this recipe",
                    argument="study_name"), 2,
     "Error: study 'x' fitted other parameters; use another --study for this recipe\n"),
    (SimulationError("no cycle was simulated"), 1, "Error: SimulationError: no cycle was simulated\n"),
    (ValueError("from a library"), 1, "Error: ValueError: from a library\n"),
])
def test_the_cli_maps_errors_to_exit_codes_by_type_and_arguments_to_flags(error, exit_code, output):
    import click
    from click.testing import CliRunner

    from twin.experiments.options import handle_errors

    @click.command()
    @handle_errors
    def cli() -> None:
        raise error

    result = CliRunner().invoke(cli, [])
    assert (result.exit_code, result.output) == (exit_code, output)


def test_an_unexpected_bug_is_not_hidden():
    import click
    from click.testing import CliRunner

    from twin.experiments.options import handle_errors

    @click.command()
    @handle_errors
    def cli() -> None:
        raise KeyError("bug")

    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_prediction_option_errors_name_the_argument():
    from twin.design import CellDesign
    from twin.errors import OptionError
    from twin.experiments.options import cli_message
    from twin.simulation import predict_cycle_life

    with pytest.raises(OptionError, match="^eol_fraction must lie between 0 and 1, got 1.5$") as err:
        predict_cycle_life(CellDesign(), eol_fraction=1.5)
    assert err.value.argument == "eol_fraction"
    assert cli_message(err.value) == "--eol must lie between 0 and 1, got 1.5"
