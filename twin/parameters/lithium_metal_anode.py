"""Parameters of the lithium-metal anode and its degradation, shared by every cathode.

Where each number comes from (S: source, A: assumption of this product, tuned so the
baseline behaves like a LiPF6-carbonate Li||NMC cell; calibration replaces them):

* Li metal molar volume 1.2996e-5 m3/mol = 6.94 g/mol / 0.534 g/cm3 (S: physics notes;
  gives 4.85 um per mAh/cm2 of dense Li).
* Li/electrolyte exchange-current density: Xu et al., J. Electrochem. Soc. 166, A3456
  (2019), as in PyBaMM's Xu2019 set (S).
* Li conductivity 1.0776e7 S/m, OCP 0 V (S: Xu2019 set).
* Dead-Li fraction 0.8 % of stripped Li at 1 mA/cm2 for a deep deposit, rising with
  the plating current density as (J/J_ref)^0.5 and for the fine first 0.1 mAh/cm2 of a
  plating (below) (A: chosen so the baseline Li||Cu CE is ~98.3 % at 1 mA/cm2 and
  1 mAh/cm2 and falls with current density as the Li||Cu data compiled for
  Electrolytomics do; dead Li, not SEI, dominates the loss, ~70 % of it at 0.5 mA/cm2,
  as titration GC shows: Fang et al., Nature 572, 511, 2019).
* SEI: 0.1 % of every plated or stripped mole re-forms SEI on fresh Li, plus a
  surface-area-proportional growth of 1.5e-8 mol/m2/s at 25 degC (A: together ~0.3 % per
  cycle; the time-proportional part is kept small so that, with its 38 kJ/mol, warm
  cells still gain from coarser deposits as measured).
* Formation: the first 0.02 mAh/cm2 of SEI on a fresh surface is built by 20 % of the
  plating current (A: a first-cycle Li||Cu CE about 2 points below the later cycles at
  1 mAh/cm2, as the formation cycles of Adams et al. 2018 show qualitatively).
* Foil conversion: each mole stripped turns 0.15 mol of the dense foil into porous Li
  (slowing as the unconverted foil runs low; `twin.submodels.porous_foil`) (A: sized to
  the +48 % thickness of the first 50 cycles of Niu et al., Nat. Energy 4, 551, 2019).
* Surface area: roughening raises the active Li area from 1 to at most 6 times the
  geometric area, 0.01 m2 per mol of Li cycled (A).
* Plated deposit porosity 0.3 and dead-Li layer porosity 0.5 with Bruggeman
  exponent 3 for the layer's ionic resistance (A; the tortuous dead-Li layer of Xu
  et al. 2019).
* SEI volume 3e-5 m3 per mol of Li in SEI (A: Li2CO3/LiF-rich SEI, ~35 g/mol per Li,
  ~1.2 g/cm3 porous).
* Electrolyte: 1200 kg/m3; 0.16 kg of electrolyte consumed (made useless) per mol of Li
  that forms SEI (A: an anion-derived SEI takes about one salt anion per 4-5 Li, ~40 g of
  LiFSI, and the salt is ~20-25 wt% of the electrolyte, which stops working once its salt
  is gone; carbonate SEI takes ~0.09 kg of solvent per mol of Li plus gassing. Sized so
  that a 3 g/Ah Li||NMC cell lives well under half as long as a flooded one, as Liu et
  al., Nat. Energy 4, 180, 2019 report for lean vs flooded cells).

Salt and solvent consumed apart (`twin.submodels.electrolyte_consumption`,
`twin.submodels.salt_depletion`):

* The 0.16 kg/mol above stays the electrolyte mass made useless per SEI Li; of it, the
  salt's share is nu M_salt (nu mol of salt per mol of SEI Li) and the rest is solvent.
* Baseline salt: 1 M LiPF6 (151.9 g/mol). nu = 0.1 mol/mol (A): LiPF6 + 2 Li+ + 2 e- ->
  3 LiF + PF3 takes one salt per 2 SEI Li, and in a carbonate the LiF-type (anion-route)
  share of the SEI Li is taken as 0.2, the rest coming from solvent reduction (EC + 2 Li+
  + 2 e- -> Li2CO3 + C2H4, or LEDC) that XPS of carbonate SEI on Li shows to dominate.
  The LiFSI presets raise nu (anion-derived SEI, `twin.strategy_presets`).
* Salt concentration c = c_fresh x (salt left / initial salt) / (solvent left / initial
  solvent), the solvent's density held constant. Its effect on the conductivity is read
  from the parameter set's conductivity law at the same relative concentration,
  kappa(c_e0 c / c_fresh) (A: for a concentrated LiFSI ether the carbonate law's shape
  stands in for its own).

Conditions (temperature, stack pressure, plated amount), see
`twin.submodels.deposit_morphology` and `twin.parameters.stack_pressure`:

* SEI growth activation energy 38 kJ/mol (S: "SEI growth activation energy" of
  PyBaMM's OKane2022 set, O'Kane et al., Phys. Chem. Chem. Phys. 24, 7909, 2022).
* Li-metal exchange-current activation energy 35 kJ/mol (A: the charge-transfer value
  of the Chen2020 set's electrodes; the Xu2019 Li-metal law has no temperature term).
* Deposit coarsening activation energy 25 kJ/mol (A: sized so Li||Cu CE rises from 20
  to 60 degC as Wang et al., Nat. Energy 4, 664, 2019 measure, against the 38 kJ/mol
  faster SEI corrosion); reference temperature 25 degC.
* Nucleation stage: the first 0.1 mAh/cm2 of a plating on bare substrate forms fine
  nuclei that lose 3x more per mole; Li under the deposit (a foil) counts as plated Li,
  so cells cycled over a foil skip the stage (A: Pei et al., Nano Lett. 17, 1132, 2017
  measure nucleation on Cu; for nucleation then
  coarsening; sized to Adams et al., Adv. Energy Mater. 8, 1702097, 2018: CE rises
  with plated capacity).
* Stack pressure: the coin cells the CE anchors come from are taken at 300 kPa (A: a
  coin-cell spring); the dead-Li and fresh-SEI losses scale as
  ((1 + P_ref/P_c) / (1 + P/P_c))^(1/2) with P_c = 300 kPa (A: sized to the life gain
  from 75 to 1200 kPa of Louli et al., J. Electrochem. Soc. 166, A1291, 2019).
"""

from __future__ import annotations

import pybamm
from pybamm.input.parameters.lithium_ion.Xu2019 import (
    li_metal_electrolyte_exchange_current_density_Xu2019,
)

from twin.parameters.activation import activation_parameter_values
from twin.parameters.li_metal import LithiumMetalParameters as P
from twin.units import LI_MOLAR_VOLUME_M3_PER_MOL, mol_per_m2_from_mAh_per_cm2

# Conditions the CE anchors were measured at (A: coin cell at room temperature).
REFERENCE_TEMPERATURE_K = 298.15
REFERENCE_STACK_PRESSURE_PA = 3.0e5
LI_METAL_KINETICS_ACTIVATION_ENERGY_J_MOL = 35000.0


def li_metal_exchange_current_density(c_e, c_Li, T):
    """Xu2019 Li/electrolyte exchange-current density [A.m-2] with an Arrhenius factor
    (activation energy LI_METAL_KINETICS_ACTIVATION_ENERGY_J_MOL, 1 at 25 degC)."""
    arrhenius = pybamm.exp(LI_METAL_KINETICS_ACTIVATION_ENERGY_J_MOL / pybamm.constants.R
                           * (1 / REFERENCE_TEMPERATURE_K - 1 / T))
    return li_metal_electrolyte_exchange_current_density_Xu2019(c_e, c_Li, T) * arrhenius


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
        "Exchange-current density for lithium metal electrode [A.m-2]": li_metal_exchange_current_density,
        "Negative current collector thickness [m]": 8e-6,
        # finite Li inventory
        P.initial_active_li: 0.0,
        P.reference_li_amount: 1.5,
        P.availability_reference_amount: 1e-4,
        P.deposit_porosity: 0.3,
        P.foil_conversion_per_stripped_li: 0.15,
        P.initial_porous_foil_li: 0.0,
        # SEI on Li metal
        P.sei_rate_constant: 1.5e-8,
        P.sei_fresh_surface_fraction: 0.001,
        P.sei_reference_thickness: 1e-6,
        P.sei_molar_volume: 3e-5,
        P.initial_sei_li: 0.0,
        P.sei_formation_amount: mol_per_m2_from_mAh_per_cm2(0.02),
        P.sei_formation_share: 0.2,
        # dead Li
        P.dead_li_fraction: 0.008,
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
        P.electrolyte_per_sei_li: 0.16,
        P.initial_electrolyte_mass: 0.12,
        P.wetting_sharpness: 20.0,
        # salt and solvent apart: 1 M LiPF6 baseline (see the module docstring)
        P.salt_per_sei_li: 0.1,
        P.salt_molar_mass: 0.1519,
        P.nominal_salt_concentration: 1000.0,
        # salt of the fresh electrolyte: c_fresh x volume (follows the electrolyte mass given)
        P.initial_salt: pybamm.Parameter(P.nominal_salt_concentration)
        * pybamm.Parameter(P.initial_electrolyte_mass) / pybamm.Parameter(P.electrolyte_density),
        # conditions: temperature and stack pressure laws (twin.submodels.deposit_morphology)
        P.sei_activation_energy: 38000.0,
        P.deposit_coarsening_activation_energy: 25000.0,
        P.morphology_reference_temperature: REFERENCE_TEMPERATURE_K,
        P.nucleation_li_amount: mol_per_m2_from_mAh_per_cm2(0.1),
        P.nucleation_loss_enhancement: 3.0,
        P.stack_pressure: REFERENCE_STACK_PRESSURE_PA,
        P.reference_stack_pressure: REFERENCE_STACK_PRESSURE_PA,
        P.stack_pressure_half_effect: 3.0e5,
        # stack thickness outside the anode (set from the design)
        P.stack_thickness_excluding_anode: 100e-6,
        # activation transient over the first cycles (twin.parameters.activation)
        **activation_parameter_values(),
    }


def citations() -> list[str]:
    pybamm.citations.register("Xu2019")
    return ["Xu2019"]
