"""Screenshots of HomeSec in a real Home Assistant, for the README.

Starts the development instance (script/develop_instance.py, demo camera and
its clip), logs in with headless Chromium (Playwright driving the system's
``chromium``) and saves PNGs of the integration's camera form, the demo
camera's device page, the notification drawer, the clip library and a zone
drawn over the camera's latest snapshot.

    script/screenshots            # writes docs/images/*.png
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parents[1]
USERNAME, PASSWORD = "dev", "homesec-dev"
SIZE = {"width": 1280, "height": 860}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_instance(process: subprocess.Popen[str]) -> str:
    """The instance's URL, once it is provisioned and the demo clip dropped."""
    assert process.stdout is not None
    while line := await asyncio.to_thread(process.stdout.readline):
        print(line, end="")
        if line.startswith("Home Assistant with HomeSec: "):
            return line.split(": ", 1)[1].strip()
    raise SystemExit("The development instance stopped before it was ready")


async def log_in(page: Page, base: str) -> None:
    """Log in through the login form (tokens kept for later page loads)."""
    await page.goto(f"{base}/")
    await page.get_by_label("Username").fill(USERNAME)
    await page.locator("input[type=password]").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{base}/home/**", timeout=30_000)


async def device_page(page: Page, base: str) -> None:
    """The demo camera's device page: its controls, sensors and activity."""
    device_id = await page.evaluate(
        """() => Object.values(document.querySelector('home-assistant').hass.devices)
            .find((d) => d.name === 'Demo camera').id"""
    )
    await page.goto(f"{base}/config/devices/device/{device_id}")


async def notification(page: Page, base: str) -> None:
    """The notification drawer with HomeSec's alert."""
    await page.goto(f"{base}/home/overview")
    await page.wait_for_timeout(1500)
    await page.get_by_text("Notifications", exact=True).click()


async def library(page: Page, base: str) -> None:
    """Media > HomeSec > Demo camera > today's clips."""
    await page.goto(f"{base}/media-browser/browser")
    for title in ("HomeSec", "Demo camera", re.compile(r"\d{4} \(\d+\)")):
        await page.wait_for_timeout(1500)
        exact = isinstance(title, str)
        await page.get_by_text(title, exact=exact).filter(visible=True).first.click()


async def camera_form(page: Page, base: str) -> None:
    """Settings > HomeSec > Add camera: the first step of the camera form."""
    await page.goto(f"{base}/config/integrations/integration/homesec")
    await page.wait_for_timeout(1500)
    await page.get_by_role("button", name="Add camera").click()


async def zones_form(page: Page, base: str) -> None:
    """The demo camera's zones step: a driveway zone over its latest snapshot."""
    await page.goto(f"{base}/config/integrations/integration/homesec")
    await page.wait_for_timeout(1500)
    # The second Configure button is the camera's (the first is the hub's).
    await page.get_by_role("button", name="Configure").nth(1).click()
    await page.wait_for_timeout(1500)
    await page.get_by_text("Tune detection and zones").first.click()
    await page.get_by_role("button", name="Submit").click()
    await page.wait_for_timeout(1500)
    await page.get_by_role("button", name="Submit").click()
    await page.wait_for_timeout(1500)
    await page.locator("textarea").first.fill("driveway: 0,0.55 1,0.55 1,1 0,1")
    await page.get_by_role("button", name="Submit").click()


SHOTS: dict[str, Callable[[Page, str], Awaitable[None]]] = {
    "camera_form": camera_form,
    "device_page": device_page,
    "notification": notification,
    "library": library,
    "zones_form": zones_form,
}


async def take(base: str, out: Path, settle_ms: int) -> None:
    """Log in once, then save each screenshot."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = await browser.new_page(viewport=SIZE)  # type: ignore[arg-type]
        await log_in(page, base)
        for name, show in SHOTS.items():
            await show(page, base)
            await page.wait_for_timeout(settle_ms)
            await page.screenshot(path=out / f"{name}.png")
            print(f"screenshots: {out / name}.png")
        await browser.close()


async def run(out: Path, settle_ms: int) -> int:
    """Start the instance, wait for the demo clip, take the screenshots, stop."""
    dev = Path(tempfile.mkdtemp(prefix="homesec-screenshots-"))
    process = subprocess.Popen(  # noqa: ASYNC220 - runs for the whole script
        [sys.executable, str(ROOT / "script" / "develop_instance.py"),
         "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A fresh instance of its own: the developer's .dev stays as it is.
        env={**os.environ, "PYTHONUNBUFFERED": "1", "HOMESEC_DEV_DIR": str(dev)},
    )  # fmt: skip
    try:
        base = await wait_for_instance(process)
        await asyncio.sleep(15)  # the demo clip is processed and alerts
        await take(base, out, settle_ms)
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(process.wait, 60)
        if process.poll() is None:
            process.kill()
        shutil.rmtree(dev, ignore_errors=True)
    return 0


def main() -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--settle-ms", type=int, default=3000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(run(args.out, args.settle_ms))


if __name__ == "__main__":
    raise SystemExit(main())
