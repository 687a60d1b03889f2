"""Parameters of the lithium-metal anode and its degradation, shared by every cathode.

Where each number comes from (S: source, A: assumption of this product, tuned so the
baseline behaves like a LiPF6-carbonate Li||NMC cell; calibration replaces them):

* Li metal molar volume 1.2996e-5 m3/mol = 6.94 g/mol / 0.534 g/cm3 (S: physics notes;
  gives 4.85 um per mAh/cm2 of dense Li).
* Li/electrolyte exchange-current density: Xu et al., J. Electrochem. Soc. 166, A3456
  (2019), as in PyBaMM's Xu2019 set (S).
* Li conductivity 1.0776e7 S/m, OCP 0 V (S: Xu2019 set).
* Dead-Li fraction 1.2 % of stripped Li at 1 mA/cm2, rising with the plating current
  density as (J/J_ref)^0.5 (A: chosen so the baseline Li||Cu CE is ~98 % at 1 mA/cm2 and
  falls with current density as the Li||Cu data compiled for Electrolytomics do;
  dead Li, not SEI, dominates the loss, as titration GC shows: Fang et al., Nature
  572, 511, 2019).
* SEI: 0.2 % of every plated or stripped mole re-forms SEI on fresh Li, plus a
  surface-area-proportional growth of 1.5e-7 mol/m2/s (A: together ~0.6 % per cycle).
* Surface area: roughening raises the active Li area from 1 to at most 6 times the
  geometric area, 0.01 m2 per mol of Li cycled (A).
* Plated deposit porosity 0.3 and dead-Li layer porosity 0.5 with Bruggeman
  exponent 3 for the layer's ionic resistance (A; the tortuous dead-Li layer of Xu
  et al. 2019).
* SEI volume 3e-5 m3 per mol of Li in SEI (A: Li2CO3/LiF-rich SEI, ~35 g/mol per Li,
  ~1.2 g/cm3 porous).
* Electrolyte: 1200 kg/m3; 0.06 kg of electrolyte consumed per mol of Li that forms
  SEI (A: about half a carbonate solvent molecule plus salt per Li).
"""

from __future__ import annotations

import pybamm
from pybamm.input.parameters.lithium_ion.Xu2019 import (
    li_metal_electrolyte_exchange_current_density_Xu2019,
)

from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.units import LI_MOLAR_VOLUME_M3_PER_MOL


def lithium_metal_anode_parameter_values() -> dict:
    """Li-metal anode and degradation parameters (dimensional, SI)."""
    return {
        # Li metal electrode (PyBaMM half-cell names)
        "Negative electrode thickness [m]": 50e-6,
        "Negative electrode conductivity [S.m-1]": 10776000.0,
        "Negative electrode OCP [V]": 0.0,
        "Negative electrode OCP entropic change [V.K-1]": 0.0,
        "Negative electrode charge transfer coefficient": 0.5,
        "Negative electrode double-layer capacity [F.m-2]": 0.2,
        P.li_partial_molar_volume: LI_MOLAR_VOLUME_M3_PER_MOL,
        "Exchange-current density for lithium metal electrode [A.m-2]":
            li_metal_electrolyte_exchange_current_density_Xu2019,
        "Negative current collector thickness [m]": 8e-6,
        # finite Li inventory
        P.initial_active_li: 0.0,
        P.reference_li_amount: 1.5,
        P.availability_reference_amount: 1e-4,
        P.deposit_porosity: 0.3,
        # SEI on Li metal
        P.sei_rate_constant: 1.5e-7,
        P.sei_fresh_surface_fraction: 0.002,
        P.sei_reference_thickness: 1e-6,
        P.sei_molar_volume: 3e-5,
        P.initial_sei_li: 0.0,
        # dead Li
        P.dead_li_fraction: 0.012,
        P.dead_li_exponent: 0.5,
        P.dead_li_reference_current_density: 10.0,
        P.plating_current_density: 10.0,
        P.dead_li_revival_rate: 0.0,
        P.dead_li_layer_porosity: 0.5,
        P.dead_li_layer_bruggeman: 3.0,
        P.initial_dead_li: 0.0,
        # surface roughening
        P.surface_area_growth: 0.01,
        P.maximum_area_factor: 6.0,
        P.initial_area_factor: 1.0,
        # electrolyte consumption and dry-out
        P.electrolyte_density: 1200.0,
        P.electrolyte_per_sei_li: 0.06,
        P.initial_electrolyte_mass: 0.12,
        P.wetting_sharpness: 20.0,
        # stack thickness outside the anode (set from the design)
        P.stack_thickness_excluding_anode: 100e-6,
    }


def citations() -> list[str]:
    pybamm.citations.register("Xu2019")
    return ["Xu2019"]
