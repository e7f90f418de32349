"""Run and provision a development Home Assistant for script/develop."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp
from develop_checks import CAMERA_NAME, check

ROOT = Path(__file__).resolve().parents[1]
DEV = Path(os.environ.get("HOMESEC_DEV_DIR", ROOT / ".dev"))
CONFIG = DEV / "config"
DEMO_FOLDER = CONFIG / "demo_camera"
USERNAME = "dev"
PASSWORD = "homesec-dev"
CLIENT_ID = "http://127.0.0.1/"
CONFIGURATION_YAML = """\
# Development instance of HomeSec (made by script/develop).
homeassistant:
  name: HomeSec development
  time_zone: UTC
  unit_system: metric
  country: US
  currency: USD
  elevation: 0
  latitude: 0
  longitude: 0
  media_dirs:
    local: {media}

# What a user's default_config brings that matters to HomeSec: the history,
# logbook and media panels (with the recorder they read), camera streams and the
# Companion app's notify services. default_config itself also starts discovery
# (zeroconf, ssdp, dhcp, bluetooth, usb) and cloud, which need the network.
frontend:
config:
automation:
script:
recorder:
history:
logbook:
media_source:
stream:
mobile_app:

logger:
  default: warning
  logs:
    custom_components.homesec: debug
"""


def _storage(key: str, version: int, data: dict[str, Any], minor: int = 1) -> str:
    return json.dumps(
        {"version": version, "minor_version": minor, "key": key, "data": data}
    )


def prepare_config(port: int) -> None:
    """Create the config folder, link the integration, pin HTTP to loopback."""
    (CONFIG / ".storage").mkdir(parents=True, exist_ok=True)
    (CONFIG / "custom_components").mkdir(exist_ok=True)
    DEMO_FOLDER.mkdir(exist_ok=True)
    link = CONFIG / "custom_components" / "homesec"
    if not link.is_symlink():
        link.symlink_to(ROOT / "custom_components" / "homesec")
    config_yaml = CONFIG / "configuration.yaml"
    (DEV / "media").mkdir(exist_ok=True)
    config_yaml.write_text(CONFIGURATION_YAML.format(media=DEV / "media"))
    onboarding = CONFIG / ".storage" / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(
            _storage("onboarding", 4, {"done": ["core_config", "analytics"]})
        )
    # Home Assistant keeps its HTTP settings in .storage/http (not YAML): bind to
    # loopback only, with every other setting at Home Assistant's defaults.
    from homeassistant.components.http.config import (  # noqa: PLC0415
        HTTP_STORAGE_SCHEMA,
    )

    http = dict(
        HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port})
    )
    http.update(created_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()))
    http.update(error=None, error_message=None)
    (CONFIG / ".storage" / "http").write_text(
        _storage(
            "http",
            2,
            {"stable": http, "pending": None, "yaml_migration_done": True},
            minor=2,
        )
    )


def make_demo_clip(dest: Path) -> None:
    """Encode a short clip with a moving box, written next to ``dest`` first."""
    tmp = dest.with_suffix(".mp4.part")
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "color=c=0x404040:size=640x360:rate=15:duration=4",
            "-f", "lavfi", "-i", "color=c=white:size=80x80:rate=15:duration=4",
            "-filter_complex", "[0][1]overlay=x='mod(t*160,560)':y=140:shortest=1",
            "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
            "-f", "mp4", str(tmp),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    tmp.rename(dest)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Instance:
    """A running Home Assistant and an authenticated API client."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        """Talk to the instance at ``base``."""
        self.session = session
        self.base = base
        self.token = ""

    async def wait_ready(self, process: subprocess.Popen[bytes], limit: float) -> None:
        """Wait for the HTTP server to answer."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"Home Assistant exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.get(f"{self.base}/manifest.json") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.5)
        raise SystemExit("Home Assistant did not answer in time")

    async def login(self) -> None:
        """Create the owner on first start, else log in; keep an access token."""
        async with self.session.get(f"{self.base}/api/onboarding") as resp:
            # 404 once onboarding is complete
            onboarding = await resp.json() if resp.status == 200 else []
            steps = {step["step"]: step["done"] for step in onboarding}
        if not steps.get("user", True):
            async with self.session.post(
                f"{self.base}/api/onboarding/users",
                json={
                    "client_id": CLIENT_ID,
                    "name": "Developer",
                    "username": USERNAME,
                    "password": PASSWORD,
                    "language": "en",
                },
            ) as resp:
                resp.raise_for_status()
                code = (await resp.json())["auth_code"]
        else:
            code = await self._login_flow()
        async with self.session.post(
            f"{self.base}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": CLIENT_ID,
            },
        ) as resp:
            resp.raise_for_status()
            self.token = (await resp.json())["access_token"]
        if not steps.get("integration", True):
            await self.post(
                "/api/onboarding/integration",
                {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID},
            )

    async def _login_flow(self) -> str:
        async with self.session.post(
            f"{self.base}/auth/login_flow",
            json={
                "client_id": CLIENT_ID,
                "handler": ["homeassistant", None],
                "redirect_uri": CLIENT_ID,
            },
        ) as resp:
            flow = await resp.json()
        async with self.session.post(
            f"{self.base}/auth/login_flow/{flow['flow_id']}",
            json={"client_id": CLIENT_ID, "username": USERNAME, "password": PASSWORD},
        ) as resp:
            result = await resp.json()
        if result.get("type") != "create_entry":
            raise SystemExit(f"Login as {USERNAME} failed: {result}")
        return str(result["result"])

    async def get(self, path: str) -> Any:
        """GET an API path as JSON."""
        async with self.session.get(
            f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"}
        ) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST JSON to an API path."""
        async with self.session.post(
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        ) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def ws(self, *commands: dict[str, Any]) -> list[Any]:
        """Run websocket commands and return their results."""
        results = []
        async with self.session.ws_connect(f"{self.base}/api/websocket") as sock:
            await sock.receive_json()
            await sock.send_json({"type": "auth", "access_token": self.token})
            if (await sock.receive_json())["type"] != "auth_ok":
                raise SystemExit("websocket authentication failed")
            for number, command in enumerate(commands, start=1):
                await sock.send_json({"id": number, **command})
                while (reply := await sock.receive_json()).get("id") != number:
                    pass
                if not reply.get("success"):
                    raise SystemExit(f"websocket {command['type']} failed: {reply}")
                results.append(reply["result"])
        return results

    async def wait_running(self, limit: float = 120) -> None:
        """Wait until Home Assistant finished starting (config entries set up)."""
        deadline = time.monotonic() + limit
        while (await self.get("/api/config")).get("state") != "RUNNING":
            if time.monotonic() > deadline:
                raise SystemExit("Home Assistant did not finish starting")
            await asyncio.sleep(0.5)

    async def provision(self) -> None:
        """Create the hub and the demo camera unless they exist."""
        entries = await self.get("/api/config/config_entries/entry?domain=homesec")
        if entries:
            entry_id = entries[0]["entry_id"]
        else:
            flow = await self.post(
                "/api/config/config_entries/flow", {"handler": "homesec"}
            )
            # Embedded defaults: local storage and SQLite, motion detection,
            # no analyzer, persistent notifications.
            for step in (
                {"storage_type": "local", "state_store": "sqlite"},
                {},
                {"detector": "motion"},
                {"analyzer": "none"},
                {},
            ):
                flow = await self.post(
                    f"/api/config/config_entries/flow/{flow['flow_id']}", step
                )
            if flow.get("type") != "create_entry":
                raise SystemExit(f"Adding the hub failed: {flow}")
            entry_id = flow["result"]["entry_id"]
        subentries = await self.ws(
            {"type": "config_entries/subentries/list", "entry_id": entry_id}
        )
        if not subentries[0]:
            flow = await self.post(
                "/api/config/config_entries/subentries/flow",
                {"handler": [entry_id, "camera"]},
            )
            flow = await self.post(
                f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
                {
                    "name": CAMERA_NAME,
                    "source_type": "folder",
                    "notify_on_motion": "on",
                },
            )
            flow = await self.post(
                f"/api/config/config_entries/subentries/flow/{flow['flow_id']}",
                {"watch_folder": str(DEMO_FOLDER), "settle_seconds": 2},
            )
            if flow.get("type") != "create_entry":
                raise SystemExit(f"Adding the demo camera failed: {flow}")


async def run(port: int, checking: bool) -> int:
    """Start Home Assistant, provision it, then check or keep it running."""
    prepare_config(port)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    base = f"http://127.0.0.1:{port}"
    log_path = DEV / "home-assistant.log"
    hass_bin = Path(sys.executable).with_name("hass")
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, runs for long
            [str(hass_bin), "-c", str(CONFIG), "--skip-pip"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            # The demo's media folder (clips) stays inside .dev, as /media would
            # be on Home Assistant OS.
            env={**os.environ, "HOMESEC_MEDIA_DIR": str(DEV / "media")},
        )
    try:
        async with aiohttp.ClientSession() as session:
            instance = Instance(session, base)
            await instance.wait_ready(process, limit=120)
            await instance.login()
            await instance.wait_running()
            await instance.provision()
            dropped_at = datetime.now(UTC)
            demo = DEMO_FOLDER / f"demo_{dropped_at:%Y%m%d_%H%M%S}.mp4"
            await asyncio.to_thread(make_demo_clip, demo)
            print(f"Home Assistant with HomeSec: {base}")
            print(f"Login: {USERNAME} / {PASSWORD}")
            print(f"Demo camera folder (drop clips here): {DEMO_FOLDER}")
            print(f"Log: {log_path}")
            if checking:
                await check(instance, dropped_at)
                return 0
        return await asyncio.to_thread(process.wait)
    except asyncio.CancelledError:
        return 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--port", type=int, help="default 8123; with --check a free port"
    )
    parser.add_argument("--check", action="store_true")
    parser.add_argument(
        "--fresh", action="store_true", help="start from an empty .dev/config"
    )
    args = parser.parse_args()
    if args.fresh:
        shutil.rmtree(CONFIG, ignore_errors=True)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        port = args.port or (free_port() if args.check else 8123)
        return asyncio.run(run(port, args.check))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
