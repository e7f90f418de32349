"""Every time a user or a camera gives is normalised before it is compared."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
import zoneinfo

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest

from custom_components.homesec.camera_settings import CameraSettings
from custom_components.homesec.const import DOMAIN, SUBENTRY_CAMERA
from custom_components.homesec.engine.clip_names import clip_start, clip_time
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.field_values import time_of_day

from .helpers import FolderHub

NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("22:00", time(22, 0)),
        ("22:00:00", time(22, 0)),
        ("22:00:30", time(22, 0, 30)),
        (" 22:00:30.75 ", time(22, 0, 30)),
        ("22:00+02:00", time(22, 0)),
        (time(22, 0, tzinfo=UTC), time(22, 0)),
        ("", None),
        (None, None),
    ],
)
def test_times_of_day_are_read_in_every_form(given: object, expected: time) -> None:
    """With or without seconds, fractions or an offset: one naive time."""
    # Given a time of day as a user or a stored entry gives it
    # When it is read
    parsed = time_of_day(given)

    # Then it is the wall-clock time, naive, to the second
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is None


@pytest.mark.parametrize("given", ["25:00", "22h00", "tonight", 2200])
def test_a_time_of_day_that_is_none_is_refused(given: object) -> None:
    """Impossible hours, other formats and numbers are refused."""
    # Given something that is not a time of day
    # When it is read
    # Then it is refused with a ValueError
    with pytest.raises(ValueError):
        time_of_day(given)


def _camera(start: str, end: str) -> CameraSettings:
    return CameraSettings(
        subentry_id="s", camera_id="c", title="C", source_type="folder",
        quiet_start=start, quiet_end=end,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "now", "quiet"),
    [
        ("22:00", "06:30:00", time(23, 0), True),
        ("22:00", "06:30:00", time(6, 29, 59), True),
        ("22:00", "06:30:00", time(6, 30), False),
        ("22:00:30", "23:00", time(22, 0, 29, 999999), False),
        ("22:00:30", "23:00", time(22, 0, 30, 500000), True),
        ("22:00", "06:30", time(23, 0, tzinfo=UTC), True),
        ("22:00", "22:00:00", time(22, 0), False),
        ("22:00", "22:00:00", time(3, 0), False),
    ],
)
def test_quiet_hours_compare_normalised_times(
    start: str, end: str, now: time, quiet: bool
) -> None:
    """Seconds, midnight, equal ends and an aware time compare as they should."""
    # Given a camera's quiet hours
    camera = _camera(start, end)

    # When a time is checked against them
    # Then it is quiet exactly within them (equal ends: never)
    assert camera.in_quiet_hours(now) is quiet


def test_quiet_hours_read_aware_datetimes_in_the_home_zone() -> None:
    """An aware UTC datetime is compared in Home Assistant's time zone."""
    # Given quiet hours 22:00-06:30 in a home in Berlin (UTC+1 in November)
    previous = dt_util.get_default_time_zone()
    dt_util.set_default_time_zone(zoneinfo.ZoneInfo("Europe/Berlin"))
    camera = _camera("22:00", "06:30")
    try:
        # When 21:30 UTC (22:30 in Berlin) and 20:30 UTC (21:30 there) are checked
        late = camera.in_quiet_hours(datetime(2026, 11, 24, 21, 30, tzinfo=UTC))
        early = camera.in_quiet_hours(datetime(2026, 11, 24, 20, 30, tzinfo=UTC))
        offset = camera.in_quiet_hours(
            datetime(2026, 11, 24, 23, 30, tzinfo=timezone(timedelta(hours=2)))
        )
    finally:
        dt_util.set_default_time_zone(previous)

    # Then the home's clock decides
    assert late is True
    assert early is False
    assert offset is True  # 21:30 UTC


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (datetime(2026, 11, 24, 11, 0), datetime(2026, 11, 24, 11, 0, tzinfo=UTC)),
        (
            datetime(2026, 11, 24, 13, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
        ),
        (datetime(1970, 1, 1, tzinfo=UTC), NOW),
        (datetime(1970, 1, 1), NOW),
        (NOW + timedelta(hours=2), NOW),  # a camera clock in local time, UTC+2
        (datetime(2099, 1, 1, tzinfo=UTC), NOW),
        (NOW + timedelta(minutes=4), NOW + timedelta(minutes=4)),
    ],
)
def test_clip_times_are_utc_and_plausible(given: datetime, expected: datetime) -> None:
    """Naive is UTC; before 2000 or ahead of now, the arrival time is used."""
    # Given a time a camera or source gave for a clip
    # When it becomes the clip's start
    started = clip_time(given, NOW)

    # Then it is aware UTC and plausible
    assert started == expected
    assert started.tzinfo is UTC


def test_a_camera_clock_reset_to_1970_gets_a_current_clip_id(tmp_path: Path) -> None:
    """A clip whose file says 1970 is named and dated by its arrival."""
    # Given a file a camera with a reset clock wrote
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x")
    before = datetime.now(UTC).replace(microsecond=0)

    # When the spool adopts it with that time
    clip = Spool(tmp_path / "spool").adopt(
        path, "porch", "folder", datetime(1970, 1, 1)
    )

    # Then its id and start are of now, not 1970
    started = clip_start(clip.clip_id)
    assert started is not None
    assert started >= before
    assert clip.start_ts >= before
    assert clip.local_path.stat().st_mtime >= before.timestamp()


@pytest.mark.parametrize(
    ("clip_id", "expected"),
    [
        ("porch_20261124_120000", datetime(2026, 11, 24, 12, tzinfo=UTC)),
        ("porch_20261124_120000_2", datetime(2026, 11, 24, 12, tzinfo=UTC)),
        ("porch_19700101_000000", datetime(1970, 1, 1, tzinfo=UTC)),
        ("porch_20261332_120000", None),
        ("porch_20260230_120000", None),
        ("porch_20261124_250000", None),
        ("porch_2026112_120000", None),
        ("porch", None),
    ],
)
def test_clip_ids_with_impossible_dates_have_no_start(
    clip_id: str, expected: datetime | None
) -> None:
    """Invalid dates in an id are no start at all, never an error."""
    # Given a clip id
    # When its start is read
    # Then it is the UTC time it names, or None
    assert clip_start(clip_id) == expected


async def test_quiet_hours_form_refuses_equal_ends(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """Equal start and end, written differently, are refused."""
    # Given the form adding a camera
    flow = await hass.config_entries.subentries.async_init(
        (folder_hub.entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    common = {"name": "Garden", "source_type": "folder"}

    # When quiet hours start and end at the same time, written differently
    same = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], common | {"quiet_start": "22:00", "quiet_end": "22:00:00"}
    )

    # Then they are refused: such quiet hours would never be quiet
    assert same["errors"] == {"quiet_end": "quiet_hours_empty"}


async def test_searching_clips_with_naive_and_aware_times(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A naive start and an aware end are compared, not an error."""
    # Given a hub
    # When clips are searched from a naive start to an aware end
    answer = await hass.services.async_call(
        DOMAIN,
        "search_clips",
        {"start": "2026-11-24 08:00:00", "end": "2026-11-25T23:00:00+00:00"},
        blocking=True,
        return_response=True,
    )

    # Then the search answers (nothing matches)
    assert answer == {"clips": []}
