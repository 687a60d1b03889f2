"""The forecast band reaches the longest-lived member, and the posterior mixture's quantiles."""

import numpy as np
import pytest

from twin.calibration.forecast import Member, MemberCurve, build_forecast, extend_curve
from twin.calibration.posterior import mixture_quantiles, posterior_weights, predictive_sd


def member_curve(length: int, ce: float, weight: float, eol: int | None) -> MemberCurve:
    cycles = np.arange(1, length + 1)
    return MemberCurve(Member(0, 0.01, {}, 1.0, weight), cycles, 0.9 * ce ** (cycles - 1.0), eol, "fast")


def test_band_reaches_the_longest_member_even_when_a_light_member_dies_early():
    curves = [member_curve(25, 0.99, 0.008, 23), member_curve(400, 0.9995, 1.0, None),
              member_curve(300, 0.999, 1.0, 224)]
    forecast = build_forecast(curves, 0.8, 1000)
    assert len(forecast.cycles) == 400 and forecast.cycles[-1] == 400
    assert np.all(np.isfinite(forecast.p10)) and np.all(np.isfinite(forecast.p90))
    assert np.all(forecast.p10 <= forecast.p50) and np.all(forecast.p50 <= forecast.p90)


def test_a_member_is_continued_at_its_last_fade_ratio_and_never_gains_capacity():
    extended = extend_curve(np.array([1.0, 0.9, 0.81]), 5)
    assert extended == pytest.approx([1.0, 0.9, 0.81, 0.729, 0.6561])
    assert extend_curve(np.array([0.5, 0.6]), 4).tolist() == [0.5, 0.6, 0.6, 0.6]
    assert extend_curve(np.array([0.5, 0.0]), 3).tolist() == [0.5, 0.0, 0.0]


def test_mixture_of_one_gaussian_has_its_quantiles():
    means = np.array([[0.5, 0.6]])
    p10, p50, p90 = mixture_quantiles(means, np.array([1.0]), np.array([0.1, 0.02]))
    assert p50 == pytest.approx([0.5, 0.6], abs=1e-9)
    assert p90 - p50 == pytest.approx([0.128155 * 1, 0.0256310], rel=1e-4)
    assert p50 - p10 == pytest.approx([0.128155, 0.0256310], rel=1e-4)


def test_band_widens_with_distance_from_the_fitted_cycles():
    sd = predictive_sd(np.array([10, 30, 60, 130]), 30, 0.01, 1e-3)
    assert sd[0] == sd[1] == pytest.approx(0.01)
    assert sd[3] == pytest.approx(np.hypot(0.01, 0.1))


def test_posterior_weights_favour_the_better_fit_and_the_prior():
    w = posterior_weights(np.array([0.0, 4e-4]), 0.01)  # SSE difference of 4 sigma^2: exp(-2)
    assert w[1] / w[0] == pytest.approx(np.exp(-2.0))
    w = posterior_weights(np.array([0.0, 0.0]), 0.01, np.array([0.0, 2.0]))
    assert w[1] / w[0] == pytest.approx(np.exp(-1.0))


def test_end_of_life_quantiles_have_the_band_s_width_when_every_member_agrees():
    # three identical members (zero ensemble spread) but a noise-and-discrepancy band:
    # the end-of-life quantiles come from that band, so they are not one cycle
    curves = [member_curve(200, 0.995, 1.0, 45) for _ in range(3)]
    sd = predictive_sd(np.arange(1, 201), 10, 0.01, 5e-4)

    def band(cycles, stack, weights):
        return tuple(mixture_quantiles(stack, weights / weights.sum(), predictive_sd(cycles, 10, 0.01, 5e-4)))

    forecast = build_forecast(curves, 0.8, 1000, band)
    assert forecast.eol_cycle_p10 < forecast.eol_cycle_p50 < forecast.eol_cycle_p90
    # P(EOL <= n) = P(capacity at n < threshold) first reaches 10 % at the P10 cycle:
    # there the members' curve is less than 1.2816 predictive sd above the threshold,
    # one cycle earlier it was more
    threshold = 0.8 * forecast.p50[0]
    n = forecast.eol_cycle_p10
    z = (0.9 * 0.995 ** (np.array([n - 2, n - 1])) - threshold) / sd[[n - 2, n - 1]]
    assert z[0] > 1.2816 > z[1]
    # without the noise the same members give one end of life
    flat = build_forecast(curves, 0.8, 1000)
    first_below = int(np.flatnonzero(0.995 ** np.arange(200) < 0.8)[0]) + 1  # cycle 46
    assert flat.eol_cycle_p10 == flat.eol_cycle_p50 == flat.eol_cycle_p90 == first_below


def test_the_upper_end_of_life_is_followed_past_the_longest_member():
    # the member stops at its end of life; the band's P90 is still above the threshold
    # there, so the P90 end of life is found on the continued band, not dropped
    curves = [member_curve(45, 0.995, 1.0, 45)]

    def band(cycles, stack, weights):
        return tuple(mixture_quantiles(stack, weights / weights.sum(), predictive_sd(cycles, 10, 0.01, 5e-4)))

    forecast = build_forecast(curves, 0.8, 1000, band)
    assert len(forecast.cycles) == 45
    assert forecast.eol_cycle_p90 is not None and forecast.eol_cycle_p90 > 45
