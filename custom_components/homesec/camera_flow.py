"""Camera subentries: name and alerts, detection, zones, then its source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME

from .camera_common import (
    camera_id_of,
    common_data,
    common_schema,
    quiet_hours_errors,
    shown_common,
)
from .camera_fields import (
    CAMERA_RULE_KEYS,
    areas_data,
    detection_data,
    detection_schema,
    hub_rules_text,
    read_areas,
    zone_placeholders,
    zones_schema,
)
from .const import (
    CONF_CAMERA_ID,
    CONF_REQUIRE_ZONE,
    CONF_SOURCE_TYPE,
    CONF_TUNE_DETECTION,
    SOURCE_FOLDER,
    SOURCE_FTP,
    SOURCE_HA_CAMERA,
    SOURCE_RTSP,
)
from .engine.detect.zones import masks_text, zones_text
from .settings import HubSettings
from .source_kinds import SOURCE_KINDS, CheckContext
from .zone_preview import async_preview


class CameraSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a camera: common settings, then its source."""

    _common: dict[str, Any]
    _drawn: tuple[str, str] | None = None
    """The zones and masks (as text) the form's picture shows."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Name the camera and choose where its clips come from."""
        errors: dict[str, str] = {}
        if user_input is not None:
            camera_id = camera_id_of(user_input[CONF_NAME])
            taken = {sub.unique_id for sub in self._get_entry().subentries.values()}
            errors = quiet_hours_errors(user_input)
            if not camera_id:
                errors[CONF_NAME] = "invalid_name"
            elif camera_id in taken:
                errors[CONF_NAME] = "name_exists"
            elif not errors:
                self._common = {**user_input, CONF_CAMERA_ID: camera_id}
                return await self._after_common()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                common_schema(self._hub(), with_source=True), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the common settings; the source's own step follows."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = quiet_hours_errors(user_input)
            if not camera_id_of(user_input[CONF_NAME]):
                errors[CONF_NAME] = "invalid_name"
            elif not errors:
                self._common = {
                    **user_input,
                    CONF_SOURCE_TYPE: subentry.data[CONF_SOURCE_TYPE],
                    CONF_CAMERA_ID: subentry.data[CONF_CAMERA_ID],
                }
                return await self._after_common()
        suggested: Mapping[str, Any] = user_input or {
            **shown_common(subentry.data),
            CONF_NAME: subentry.title,
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                common_schema(self._hub(), with_source=False), suggested
            ),
            errors=errors,
        )

    async def _after_common(self) -> SubentryFlowResult:
        """Detection and zones when asked for, then the source."""
        if self._common.get(CONF_TUNE_DETECTION):
            return await self.async_step_detection()
        return await self._source_step(self._common[CONF_SOURCE_TYPE], None)

    async def async_step_detection(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The camera's own detection rules and alert targets (empty: the hub's)."""
        hub = self._hub()
        schema = detection_schema(self.hass, hub)
        if user_input is not None:
            previous = self._previous_data()
            self._common.update(detection_data(user_input, previous, schema))
            return await self.async_step_zones()
        return self.async_show_form(
            step_id="detection",
            data_schema=self.add_suggested_values_to_schema(
                schema, self._previous_data()
            ),
            description_placeholders={
                "name": self._common[CONF_NAME],
                **hub_rules_text(hub),
            },
        )

    async def async_step_zones(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Zones and masks, drawn over the camera's latest snapshot.

        Changed areas are drawn first; submitting them unchanged goes on.
        """
        shown = self._previous_data() if user_input is None else user_input
        zones, masks, errors, line = read_areas(shown)
        texts = (zones_text(zones), masks_text(masks))
        if user_input is not None and not errors and texts == self._drawn:
            require = bool(user_input.get(CONF_REQUIRE_ZONE))
            self._common.update(areas_data(zones, masks, require))
            return await self._source_step(self._common[CONF_SOURCE_TYPE], None)
        if not errors:
            self._drawn = texts
        url = await async_preview(
            self.hass, await self._latest_snapshot(), zones, masks
        )
        name = self._common[CONF_NAME]
        return self.async_show_form(
            step_id="zones",
            data_schema=self.add_suggested_values_to_schema(zones_schema(), shown),
            errors=errors,
            description_placeholders={
                **zone_placeholders(),
                "name": name,
                "line": line,
                "preview": f"![{name}]({url})",
            },
        )

    async def _latest_snapshot(self) -> bytes | None:
        """The camera's latest snapshot while the hub runs, else None."""
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return None
        camera_id = self._common[CONF_CAMERA_ID]
        jpeg: bytes | None = await entry.runtime_data.clips.async_latest_snapshot(
            camera_id
        )
        return jpeg

    async def async_step_folder(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Folder settings."""
        return await self._source_step(SOURCE_FOLDER, user_input)

    async def async_step_rtsp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """RTSP streams, motion sensitivity and recording bounds."""
        return await self._source_step(SOURCE_RTSP, user_input)

    async def async_step_ftp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The camera's FTP account."""
        return await self._source_step(SOURCE_FTP, user_input)

    async def async_step_ha_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Which Home Assistant camera, and what starts a recording."""
        return await self._source_step(SOURCE_HA_CAMERA, user_input)

    async def async_step_reconfigure_rtsp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """An RTSP camera, reconfigured (an empty password keeps the stored one)."""
        return await self._source_step(SOURCE_RTSP, user_input)

    async def async_step_reconfigure_ftp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """An FTP camera, reconfigured (an empty password keeps the stored one)."""
        return await self._source_step(SOURCE_FTP, user_input)

    async def _source_step(
        self, source_type: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        kind = SOURCE_KINDS[source_type]
        previous = self._previous_data()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = dict(user_input)
            for key in kind.secret_fields:  # an empty field keeps the stored one
                if not settings.get(key) and previous.get(key):
                    settings[key] = previous[key]
            errors = await kind.check(
                self.hass,
                settings,
                CheckContext(self._get_entry(), self._common[CONF_CAMERA_ID], previous),
            )
            if not errors:
                return self._save(settings)
        suggested = dict(user_input or previous)
        if user_input is None and not previous and kind.suggest is not None:
            suggested = await kind.suggest(self.hass, self._common[CONF_CAMERA_ID])
        for key in kind.secret_fields:  # never shown back
            suggested.pop(key, None)
        # Reconfiguring with stored secrets, the texts say empty keeps them.
        secrets = any(previous.get(key) for key in kind.secret_fields)
        return self.async_show_form(
            step_id=f"reconfigure_{source_type}" if secrets else source_type,
            data_schema=self.add_suggested_values_to_schema(kind.schema(), suggested),
            errors=errors,
            description_placeholders={
                "name": self._common[CONF_NAME],
                "rtsp_url_example": "rtsp://192.168.1.20:554/stream1",
            },
        )

    def _hub(self) -> HubSettings:
        return HubSettings.from_entry(self._get_entry())

    def _previous_data(self) -> Mapping[str, Any]:
        if self.source == "reconfigure":
            return self._get_reconfigure_subentry().data
        return {}

    def _rules_data(self) -> dict[str, Any]:
        """The detection and zone settings: as just entered, else as they were."""
        tuned = self._common.get(CONF_TUNE_DETECTION)
        given = self._common if tuned else self._previous_data()
        return {key: given[key] for key in CAMERA_RULE_KEYS if key in given}

    def _save(self, settings: dict[str, Any]) -> SubentryFlowResult:
        common = self._common
        data = {
            **common_data(common, self._previous_data(), self._hub()),
            **self._rules_data(),
            **settings,
        }
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=common[CONF_NAME],
                data=data,
            )
        return self.async_create_entry(
            title=common[CONF_NAME], data=data, unique_id=common[CONF_CAMERA_ID]
        )
