"""Stack pressure laws: how the pressure on a Li-metal cell sets its plated Li's porosity.

The porous plated Li is denser under pressure (Louli et al., J. Electrochem. Soc. 166,
A1291, 2019, anode-free NMC532||Cu pouch cells at 75-2205 kPa; Fang et al., Nat. Energy
6, 987, 2021, Li deposits approach full density near 350 kPa):

    eps(P) = eps_dense + (eps_loose - eps_dense) / (1 + P / P_c)

with eps_loose = 0.55 unpressed, eps_dense = 0.05, P_c = 300 kPa (A: chosen so the
twin's former constant 0.3 is the value at the 300 kPa reference pressure of the coin
cells its CE anchors come from). The layer of dead Li wrapped in SEI follows the same
form between 0.85 unpressed and 0.15, 0.5 at 300 kPa (A: the twin's former constant at
the reference; mossy, SEI-entangled dead Li is loose without pressure, Niu et al.,
Nat. Energy 4, 551, 2019 and Fang et al. 2021; the unpressed end was sized with the
swelling after cycle 50 of Niu et al. in view). The pressure also scales the dead-Li
and fresh-SEI losses: `twin.submodels.deposit_morphology`.
"""

from __future__ import annotations

DEPOSIT_POROSITY_UNPRESSED = 0.55
DEPOSIT_POROSITY_DENSE = 0.05
PRESSURE_HALF_EFFECT_KPA = 300.0
DEAD_LAYER_POROSITY_UNPRESSED = 0.85
DEAD_LAYER_POROSITY_DENSE = 0.15


def deposit_porosity(stack_pressure_kPa: float) -> float:
    """Porosity [-] of Li plated under `stack_pressure_kPa` [kPa] (>= 0)."""
    if not stack_pressure_kPa >= 0:
        raise ValueError(f"stack pressure must be a non-negative number of kPa, got {stack_pressure_kPa}")
    return DEPOSIT_POROSITY_DENSE + (DEPOSIT_POROSITY_UNPRESSED - DEPOSIT_POROSITY_DENSE) / (
        1 + stack_pressure_kPa / PRESSURE_HALF_EFFECT_KPA)


def dead_layer_porosity(stack_pressure_kPa: float) -> float:
    """Porosity [-] of the dead-Li/SEI layer under `stack_pressure_kPa` [kPa] (>= 0)."""
    if not stack_pressure_kPa >= 0:
        raise ValueError(f"stack pressure must be a non-negative number of kPa, got {stack_pressure_kPa}")
    return DEAD_LAYER_POROSITY_DENSE + (DEAD_LAYER_POROSITY_UNPRESSED - DEAD_LAYER_POROSITY_DENSE) / (
        1 + stack_pressure_kPa / PRESSURE_HALF_EFFECT_KPA)
