"""The CLI's figures: they live in the twin layer (`twin.plots`), re-exported here so
the commands and older imports keep working."""

from twin.plots import (  # noqa: F401
    DPI,
    comparison_figure,
    design_title,
    life_text,
    new_figure,
    plot_comparison,
    plot_prediction,
    plot_sweep_heatmap,
    prediction_figure,
    save_figure,
    sweep_heatmap_figure,
)
