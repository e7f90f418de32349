"""The words of an alert, in the user's language, shared by every notification.

The texts are the ``common`` strings of HomeSec's translations, loaded once for
Home Assistant's language (again when it changes) so that the engine can word
an alert's reason while it builds the alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..engine.models import Alert, AlertDecision, AlertReason, RiskLevel
from ..links import AlertLinks

PREFIX = f"component.{DOMAIN}.common."
ACTIVITY_PREFIX = f"component.{DOMAIN}.selector.activity_type.options."
NOTIFY_CODES = frozenset(
    {"risk_at_or_above", "activity_listed", "motion_alerts_on", "analysis_unavailable"}
)
"""The reasons an alert can have (each has a ``reason_<code>`` text)."""


class _Placeholders(dict[str, str]):
    """Placeholders where one a translation has but the code lacks stays as is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class AlertWording:
    """Turns alerts into titles and messages a person reads at a glance."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing is loaded until ``async_load``."""
        self._hass = hass
        self._texts: dict[str, str] = {}

    @classmethod
    @callback
    def cached(cls, hass: HomeAssistant) -> AlertWording:
        """A wording from the texts already loaded (by a running hub)."""
        wording = cls(hass)
        for category in ("common", "selector"):
            wording._texts |= async_get_cached_translations(
                hass, hass.config.language, category, DOMAIN
            )
        return wording

    async def async_load(self) -> None:
        """Load the texts of Home Assistant's current language."""
        language = self._hass.config.language
        texts: dict[str, str] = {}
        for category in ("common", "selector"):
            texts |= await async_get_translations(
                self._hass, language, category, [DOMAIN]
            )
        self._texts = texts

    def async_follow_language(self) -> CALLBACK_TYPE:
        """Reload the texts when the language changes; returns the unsubscribe."""

        async def _changed(_: Event) -> None:
            await self.async_load()

        return self._hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _changed)

    def text(self, key: str, **placeholders: str) -> str:
        """One text with its placeholders filled in."""
        template = self._texts.get(PREFIX + key, key)
        return template.format_map(_Placeholders(placeholders))

    def labels(self, classes: Iterable[str], *, capitalize: bool = True) -> str:
        """What was seen, such as ``Person, vehicle`` (``Motion`` for nothing)."""
        names = [
            self._texts.get(f"{PREFIX}label_{name}", name.replace("_", " "))
            for name in classes
        ] or [self.text("label_motion")]
        seen = ", ".join(names)
        return seen[:1].upper() + seen[1:] if capitalize else seen

    def activity(self, name: str) -> str:
        """An activity type's name (a user's own type as they wrote it)."""
        return self._texts.get(ACTIVITY_PREFIX + name, name.replace("_", " "))

    def when(self, ts: datetime) -> str:
        """The local time, with the date unless it is today."""
        local = dt_util.as_local(ts)
        if local.date() == dt_util.now().date():
            return local.strftime("%H:%M")
        return local.strftime("%Y-%m-%d %H:%M")

    def risk(self, level: RiskLevel) -> str:
        """A risk level's name."""
        return self.text(f"risk_{level.value}")

    def reason(self, decision: AlertDecision) -> str:
        """Why a clip alerts, in the user's words (its log sentence if unknown)."""
        code = decision.code.value if decision.code else None
        if code not in NOTIFY_CODES:
            return decision.reason
        params = dict(decision.params)
        for key in ("risk_level", "min_risk_level"):
            if key in params:
                params[key] = self.risk(RiskLevel(params[key]))
        if "activity_type" in params:
            params["activity_type"] = self.activity(params["activity_type"])
        key = f"reason_{code}"
        if cause := params.pop("cause", None):
            key = f"{key}_{cause}"
        return self.text(key, **params)

    def title(self, alert: Alert, camera: str) -> str:
        """``<camera>: <what was seen>``."""
        return self.text(
            "alert_title", camera=camera, seen=self.labels(alert.detected_classes)
        )

    def quick(self, classes: Iterable[str], camera: str, *, summary: bool) -> str:
        """The word at detection, before the summary (or the clip, without one)."""
        key = "quick_message" if summary else "quick_message_clip"
        return self.text(key, seen=self.labels(classes), camera=camera)

    def message(
        self,
        alert: Alert,
        camera: str,
        links: AlertLinks | None = None,
        *,
        markdown: bool = False,
    ) -> str:
        """What, where, when, the summary, why, and the links."""
        seen = self.labels(alert.detected_classes)
        time = self.when(alert.ts)
        if markdown:
            seen, camera = f"**{seen}**", f"**{camera}**"
        lines = [self.text("alert_seen", seen=seen, camera=camera, time=time)]
        if alert.summary:
            lines.append(alert.summary)
        lines.append(self.text("alert_why", reason=alert.notify_reason))
        if (
            alert.risk_level is not None
            and alert.reason != AlertReason.RISK_AT_OR_ABOVE
        ):
            lines.append(self.text("alert_risk", risk=self.risk(alert.risk_level)))
        if alert.upload_failed:
            lines.append(self.text("alert_upload_failed"))
        if links is not None:
            lines += self._links(links, markdown=markdown)
        return ("\n\n" if markdown else "\n").join(lines)

    def _links(self, links: AlertLinks, *, markdown: bool) -> list[str]:
        if markdown:
            shown = [f"[{self.text('open_clip')}]({links.clip})"]
            if links.snapshot:
                shown.insert(0, f"![{self.text('snapshot')}]({links.snapshot})")
            return shown
        shown = [self.text("clip_link", url=links.clip)]
        if links.snapshot:
            shown.append(self.text("snapshot_link", url=links.snapshot))
        return shown
