"""Default alert policy with per-camera overrides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from .errors import AnalysisSkipped, AnalyzeError
from .interfaces import AlertPolicy
from .models import AlertDecision, AlertReason, AnalysisResult, FilterResult, RiskLevel
from .text import first_line

OUTSIDE_ZONES = "nothing was seen in one of the camera's zones"


class PolicySettings(BaseModel):
    """The hub's default rules: what is worth a summary, what alerts."""

    model_config = ConfigDict(frozen=True)

    trigger_classes: frozenset[str] = frozenset({"person", "vehicle", "animal"})
    """Detected classes that make a clip worth a summary."""
    cooldown: timedelta = timedelta(0)
    """No summary for a camera's clips this long after its last alert."""
    min_risk_level: RiskLevel = RiskLevel.HIGH
    notify_on_activity_types: frozenset[str] = frozenset()
    notify_on_motion: bool = False
    require_zone: bool = False
    """Only objects standing in one of the camera's zones alert."""


class PolicyOverrides(BaseModel):
    """Per-camera rules; a field left as None keeps the hub's value."""

    model_config = ConfigDict(frozen=True)

    min_risk_level: RiskLevel | None = None
    notify_on_activity_types: frozenset[str] | None = None
    notify_on_motion: bool | None = None
    require_zone: bool | None = None

    def apply(self, base: PolicySettings) -> PolicySettings:
        """Return ``base`` with only the fields set here replaced."""
        return base.model_copy(update=self.model_dump(exclude_none=True))


class DefaultAlertPolicy(AlertPolicy):
    """Notify on risk, on listed activities, or on any detection when asked to."""

    def __init__(
        self,
        defaults: PolicySettings,
        overrides: Mapping[str, PolicyOverrides] | None = None,
    ) -> None:
        """Keep the hub defaults and the per-camera overrides."""
        self._defaults = defaults
        self._overrides = dict(overrides or {})
        self._last_alert: dict[str, datetime] = {}
        self._listeners: list[Callable[[], None]] = []

    def use_rules(self, other: DefaultAlertPolicy) -> None:
        """Take ``other``'s hub rules and camera overrides; cooldowns stay."""
        self._defaults = other._defaults
        self._overrides = dict(other._overrides)

    def watch(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each alert that starts a cooldown."""
        self._listeners.append(listener)

    def cooldowns(self) -> dict[str, datetime]:
        """Each camera's last alert (when its cooldown began)."""
        return dict(self._last_alert)

    def restore_cooldowns(
        self, last_alerts: Mapping[str, datetime], now: datetime
    ) -> None:
        """Take the cameras' last alerts back; those out of their cooldown go."""
        self._last_alert.update(
            (camera, last)
            for camera, last in last_alerts.items()
            if now - last < self.settings_for(camera).cooldown
        )

    def settings_for(self, camera_name: str) -> PolicySettings:
        """The effective settings of one camera."""
        override = self._overrides.get(camera_name)
        return override.apply(self._defaults) if override else self._defaults

    def skip_analysis(
        self, camera_name: str, detections: FilterResult, now: datetime
    ) -> str | None:
        """A trigger class (or any detection with notify on motion), no cooldown."""
        rules = self.settings_for(camera_name)
        if rules.require_zone and not detections.zones:
            return OUTSIDE_ZONES
        found = set(detections.detected_classes)
        if not found & rules.trigger_classes and not (found and rules.notify_on_motion):
            return "no trigger class"
        last = self._last_alert.get(camera_name)
        if last is not None and now - last < rules.cooldown:
            minutes = rules.cooldown.total_seconds() / 60
            return f"the camera is in its {minutes:g} min cooldown after an alert"
        return None

    def alerted(self, camera_name: str, now: datetime) -> None:
        """Start the camera's cooldown."""
        self._last_alert[camera_name] = now
        if self.settings_for(camera_name).cooldown:
            for listener in self._listeners:
                listener()

    def decide(
        self,
        camera_name: str,
        detections: FilterResult,
        analysis: AnalysisResult | None,
        unavailable: str | None = None,
    ) -> AlertDecision:
        """Return whether to notify, with a readable reason.

        ``unavailable`` says why a wanted analysis is missing (failed, or over
        budget): the clip had a trigger class, so it alerts without a summary.
        """
        rules = self.settings_for(camera_name)
        if rules.require_zone and not detections.zones:
            return AlertDecision(notify=False, reason=OUTSIDE_ZONES)
        if analysis is None and unavailable and detections.detected_classes:
            classes = ", ".join(detections.detected_classes)
            return AlertDecision(
                notify=True,
                reason=f"{classes} detected; no summary because {unavailable}",
                code=AlertReason.ANALYSIS_UNAVAILABLE,
            )
        if analysis is not None:
            if analysis.risk_level.rank >= rules.min_risk_level.rank:
                return AlertDecision(
                    notify=True,
                    reason=(
                        f"risk level {analysis.risk_level.value} is at or above "
                        f"{rules.min_risk_level.value}"
                    ),
                    code=AlertReason.RISK_AT_OR_ABOVE,
                    params={
                        "risk_level": analysis.risk_level.value,
                        "min_risk_level": rules.min_risk_level.value,
                    },
                )
            if analysis.activity_type in rules.notify_on_activity_types:
                return AlertDecision(
                    notify=True,
                    reason=f"activity {analysis.activity_type} is on the notify list",
                    code=AlertReason.ACTIVITY_LISTED,
                    params={"activity_type": analysis.activity_type},
                )
        if rules.notify_on_motion and detections.detected_classes:
            classes = ", ".join(detections.detected_classes)
            return AlertDecision(
                notify=True,
                reason=f"notify on motion is on and {classes} was seen",
                code=AlertReason.MOTION_ALERTS_ON,
            )
        if analysis is None:
            return AlertDecision(
                notify=False,
                reason="no analysis and notify on motion is off",
                code=AlertReason.NO_ANALYSIS,
            )
        return AlertDecision(
            notify=False,
            reason=(
                f"risk level {analysis.risk_level.value} is below "
                f"{rules.min_risk_level.value} and activity "
                f"{analysis.activity_type} is not on the notify list"
            ),
            code=AlertReason.BELOW_THRESHOLD,
            params={
                "risk_level": analysis.risk_level.value,
                "min_risk_level": rules.min_risk_level.value,
            },
        )


STATIONARY = "every object found stands where an earlier clip showed it"


def decide_from(
    policy: AlertPolicy,
    camera_name: str,
    detected: FilterResult,
    analysis: AnalysisResult | AnalyzeError | AnalysisSkipped | None,
) -> AlertDecision:
    """The policy's decision from what detection and analysis gave.

    A failed analysis, or one skipped by a budget that still lets the clip
    alert, is an unavailable summary: the policy alerts without one. A clip
    whose objects all stood still since an earlier clip never alerts.
    """
    if detected.stationary:
        return AlertDecision(notify=False, reason=STATIONARY)
    usable = analysis if isinstance(analysis, AnalysisResult) else None
    unavailable = cause = None
    if isinstance(analysis, AnalyzeError):
        unavailable = f"the analysis failed ({first_line(analysis.cause)})"
        cause = "failed"
    elif isinstance(analysis, AnalysisSkipped) and analysis.alert:
        unavailable = analysis.reason
        cause = "budget"
    decision = policy.decide(camera_name, detected, usable, unavailable=unavailable)
    if cause and decision.code == AlertReason.ANALYSIS_UNAVAILABLE:
        return decision.model_copy(update={"params": {"cause": cause}})
    return decision
