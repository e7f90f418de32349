"""The minimum risk level is inclusive, at the hub and in per-camera overrides."""

from __future__ import annotations

import pytest

from custom_components.homesec.engine.models import (
    AnalysisResult,
    FilterResult,
    RiskLevel,
)
from custom_components.homesec.engine.policy import (
    DefaultAlertPolicy,
    PolicyOverrides,
    PolicySettings,
)

PERSON = FilterResult(
    detected_classes=["person"], confidence=0.9, frames_sampled=4, model="m"
)


def _policy(
    hub_minimum: RiskLevel, cameras: dict[str, RiskLevel] | None = None
) -> DefaultAlertPolicy:
    """The one place these tests build a policy: hub minimum, camera minimums."""
    return DefaultAlertPolicy(
        PolicySettings(min_risk_level=hub_minimum),
        {
            camera: PolicyOverrides(min_risk_level=minimum)
            for camera, minimum in (cameras or {}).items()
        },
    )


def _analysis(risk: RiskLevel) -> AnalysisResult:
    return AnalysisResult(risk_level=risk, activity_type="passerby", summary="s")


@pytest.mark.parametrize("minimum", list(RiskLevel))
def test_risk_equal_to_the_minimum_alerts(minimum: RiskLevel) -> None:
    """A clip whose risk is exactly the minimum alerts, saying so."""
    # Given a hub alerting from ``minimum`` (no activity list, no motion rule)
    policy = _policy(minimum)

    # When a person clip is analysed at exactly that risk
    decision = policy.decide("door", PERSON, _analysis(minimum))

    # Then it alerts because the risk is at the minimum
    assert decision.notify
    assert decision.reason == (
        f"risk level {minimum.value} is at or above {minimum.value}"
    )


@pytest.mark.parametrize("minimum", list(RiskLevel)[1:])
def test_risk_just_below_the_minimum_does_not_alert(minimum: RiskLevel) -> None:
    """One level below the minimum is not enough."""
    # Given a hub alerting from ``minimum``
    policy = _policy(minimum)
    below = list(RiskLevel)[minimum.rank - 1]

    # When a person clip is analysed one level lower
    decision = policy.decide("door", PERSON, _analysis(below))

    # Then it does not alert
    assert not decision.notify
    assert f"below {minimum.value}" in decision.reason


@pytest.mark.parametrize(
    ("camera", "risk", "notify"),
    [
        # the hub's own minimum (high) for a camera without an override
        ("door", RiskLevel.HIGH, True),
        ("door", RiskLevel.MEDIUM, False),
        # an override lower than the hub (medium): medium alerts there
        ("yard", RiskLevel.MEDIUM, True),
        ("yard", RiskLevel.LOW, False),
        # an override higher than the hub (critical): high is not enough there
        ("street", RiskLevel.CRITICAL, True),
        ("street", RiskLevel.HIGH, False),
    ],
)
def test_camera_override_minimum_is_inclusive(
    camera: str, risk: RiskLevel, notify: bool
) -> None:
    """A camera's own minimum replaces the hub's, and equality alerts there too."""
    # Given a hub alerting from high, a yard from medium and a street from critical
    policy = _policy(
        RiskLevel.HIGH, {"yard": RiskLevel.MEDIUM, "street": RiskLevel.CRITICAL}
    )

    # When a person clip of the camera is analysed at ``risk``
    decision = policy.decide(camera, PERSON, _analysis(risk))

    # Then it alerts exactly when the risk reaches the camera's minimum
    assert decision.notify is notify, decision.reason
