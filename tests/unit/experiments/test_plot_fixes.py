"""Plot details: heatmap subtitle inside the figure, whole trial numbers (the µm label is
checked on a real prediction figure in tests/integration/test_compare_and_plots.py)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

from twin.calibration.figures import history_figure
from twin.experiments.plots import sweep_heatmap_figure


def test_sweep_heatmap_subtitle_fits_inside_the_figure() -> None:
    rows = []
    for np_ratio in (0.0, 1.0):
        for capacity in (2.0, 4.0):
            rows.append({"np_ratio": np_ratio, "areal_capacity_mAh_cm2": capacity, "cycle_life": 100.0 + capacity,
                         "max_cycles": 500, "error": "", "cathode": "NMC811", "strategy": "fluorinated-ether",
                         "electrolyte_g_per_Ah": 3.0, "charge_rate_C": 0.3, "discharge_rate_C": 0.5,
                         "temperature_degC": 25.0, "cell_model": "spm", "mode": "fast", "eol_fraction": 0.8})
    figure = sweep_heatmap_figure(pd.DataFrame(rows))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()  # constrained layout places the title on draw
    renderer = figure.canvas.get_renderer()
    box = figure._suptitle.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= figure.bbox.width


def test_history_ticks_are_whole_trial_numbers() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    for value in (3.0, 2.0, 2.5):
        study.add_trial(optuna.trial.create_trial(value=value))
    figure = history_figure(study)
    figure.canvas.draw()
    ticks = figure.axes[0].get_xticks()
    assert np.allclose(ticks, np.round(ticks))
