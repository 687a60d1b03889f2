"""Growth of the electrochemically active Li-metal surface area as deposits roughen."""

from __future__ import annotations

import pybamm

from twin.parameters.li_metal import LithiumMetalParameters
from twin.submodels.options import on_current_collector

LI = LithiumMetalParameters()


class SurfaceRoughening(pybamm.BaseSubModel):
    """Surface area factor A (active area / geometric area) as a state.

    dA/dt = gamma (plated + stripped rate) (A_max - A) / (A_max - 1): every mole of
    Li moved roughens the surface, saturating at A_max. "false" keeps A at its
    initial value.
    """

    def __init__(self, param, options):
        super().__init__(param, "negative", options=options)
        self.active = options["surface roughening"] == "true"

    def get_fundamental_variables(self):
        if self.active:
            area = pybamm.Variable("Li-metal surface area factor", domain="current collector")
        else:
            area = on_current_collector(LI.initial_area_factor)
        return {"Li-metal surface area factor": area}

    def set_rhs(self, variables):
        if not self.active:
            return
        area = variables["Li-metal surface area factor"]
        plate = variables["Lithium plating rate [mol.m-2.s-1]"]
        strip = variables["Lithium stripping rate [mol.m-2.s-1]"]
        gamma = LI.surface_area_growth
        area_max = LI.maximum_area_factor
        self.rhs = {area: gamma * (plate + strip) * (area_max - area) / (area_max - 1)}

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        area = variables["Li-metal surface area factor"]
        self.initial_conditions = {area: LI.initial_area_factor}
