"""Growth of the electrochemically active Li-metal surface area as deposits roughen."""

from __future__ import annotations

import pybamm

from twin.submodels.options import on_current_collector


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
            area = on_current_collector(pybamm.Parameter("Initial Li-metal surface area factor"))
        return {"Li-metal surface area factor": area}

    def set_rhs(self, variables):
        if not self.active:
            return
        area = variables["Li-metal surface area factor"]
        plate = variables["Lithium plating rate [mol.m-2.s-1]"]
        strip = variables["Lithium stripping rate [mol.m-2.s-1]"]
        gamma = pybamm.Parameter("Li-metal surface area growth per cycled lithium [m2.mol-1]")
        area_max = pybamm.Parameter("Maximum Li-metal surface area factor")
        self.rhs = {area: gamma * (plate + strip) * (area_max - area) / (area_max - 1)}

    def set_initial_conditions(self, variables):
        if not self.active:
            return
        area = variables["Li-metal surface area factor"]
        self.initial_conditions = {area: pybamm.Parameter("Initial Li-metal surface area factor")}
