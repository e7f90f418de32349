"""FTP source with real ftplib clients: only complete, allowed uploads go through."""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from datetime import UTC, datetime, timedelta
import ftplib
import io
import logging
from pathlib import Path
import socket

from PIL import Image
import pytest

from custom_components.homesec.engine.faults import Fault
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.sources.ftp import FtpSettings, FtpSource
from custom_components.homesec.engine.sources.readable import media_duration
from custom_components.homesec.engine.spool import Spool

from .helpers import wait_for
from .pipeline_parts import run_blocking

PASSWORD = "ftp-s3cret"


def _client(port: int, password: str = PASSWORD) -> ftplib.FTP:
    client = ftplib.FTP()
    client.connect("127.0.0.1", port, timeout=10)
    client.login("porch", password)
    return client


async def _session_then_stop(
    source: FtpSource, clips: list[Clip], session: Callable[[ftplib.FTP], None]
) -> None:
    """Run one camera session, wait for its clip, then stop the server."""

    def run() -> None:
        client = _client(source.port)
        session(client)
        client.quit()

    try:
        await run_blocking(run)
        await wait_for(lambda: bool(clips), what="the uploaded clip")
    finally:
        await source.stop()


async def _start(tmp_path: Path, **settings: object) -> tuple[FtpSource, list[Clip]]:
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    source = FtpSource(
        "porch",
        FtpSettings.model_validate(
            {
                "port": 0,
                "host": "127.0.0.1",
                "username": "porch",
                "password": PASSWORD,
                **settings,
            }
        ),
        tmp_path / "uploads",
        Spool(tmp_path / "spool"),
        run_blocking,
    )
    await source.start(sink)
    return source, clips


async def test_a_complete_upload_is_processed_once(
    socket_enabled: None, tmp_path: Path, motion_clip: Path
) -> None:
    """A camera logs in, makes a dated folder and uploads a clip."""
    # Given the camera's FTP server
    source, clips = await _start(tmp_path)
    data = motion_clip.read_bytes()

    # When the camera uploads a clip into a folder of its own
    def upload(client: ftplib.FTP) -> None:
        client.mkd("2026-11-24")
        client.cwd("2026-11-24")
        client.storbinary("STOR porch_120000.mp4", io.BytesIO(data))

    await _session_then_stop(source, clips, upload)

    # Then exactly one clip reaches the pipeline (nothing more once the server
    # stopped), moved into the spool intact, named as the camera named it
    assert len(clips) == 1
    assert clips[0].source_type == "ftp"
    assert clips[0].original_name == "2026-11-24/porch_120000.mp4"
    assert clips[0].local_path.read_bytes() == data
    assert not any((tmp_path / "uploads").rglob("*.mp4"))


async def test_a_clip_starts_its_length_before_its_upload_finished(
    socket_enabled: None, tmp_path: Path, motion_clip: Path
) -> None:
    """Cameras upload a clip once recorded: it started before it arrived."""
    # Given the camera's FTP server and a 4 s clip
    source, clips = await _start(tmp_path)
    data = motion_clip.read_bytes()
    before = datetime.now(UTC)

    # When the camera uploads it
    def upload(client: ftplib.FTP) -> None:
        client.storbinary("STOR porch_120000.mp4", io.BytesIO(data))

    await _session_then_stop(source, clips, upload)
    after = datetime.now(UTC)

    # Then the clip starts 4 s before the upload finished (its id says so too)
    length = timedelta(seconds=4)
    start = clips[0].start_ts
    assert before - length - timedelta(seconds=1) <= start <= after - length
    assert clips[0].clip_id == f"porch_{start:%Y%m%d_%H%M%S}"


def test_only_a_videos_header_gives_a_length(tmp_path: Path, motion_clip: Path) -> None:
    """A picture or a broken file has no length: it starts when it arrives."""
    # Given a 4 s clip, a picture and a file that is no video
    picture = tmp_path / "porch.jpg"
    Image.new("RGB", (64, 36), (90, 90, 90)).save(picture, format="JPEG")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00" * 2048)

    # When their lengths are read
    lengths = [media_duration(path) for path in (motion_clip, picture, broken)]

    # Then only the clip has one, its 4 s
    assert lengths == [timedelta(seconds=4), None, None]


async def test_hostile_and_broken_uploads_never_reach_the_pipeline(
    socket_enabled: None,
    tmp_path: Path,
    motion_clip: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad credentials, ../ names, other file types, aborted and cut uploads."""
    # Given the camera's FTP server with a 1 MB upload limit
    source, clips = await _start(tmp_path, max_upload_mb=1)
    data = motion_clip.read_bytes()
    replies: dict[str, str] = {}

    def attempts() -> None:
        # When a client uses a wrong password
        try:
            _client(source.port, password="wrong")
        except ftplib.error_perm as err:
            replies["login"] = str(err)
        client = _client(source.port)
        # And a client climbs out of its folder, or uploads a script
        for name in ("../escape.mp4", "a/../../escape.mp4", "run.sh"):
            try:
                client.storbinary(f"STOR {name}", io.BytesIO(data))
            except ftplib.error_perm as err:
                replies[name] = str(err)
        # And an upload is aborted half-way
        conn = client.transfercmd("STOR aborted.mp4")
        conn.sendall(data[: len(data) // 2])
        replies["abort"] = client.abort()
        conn.close()
        client.getresp()
        # And an upload is cut off (the connection closes early)
        conn = client.transfercmd("STOR cut.mp4")
        conn.sendall(data[: len(data) // 3])
        conn.close()
        client.voidresp()
        # And an upload is larger than allowed
        conn = client.transfercmd("STOR huge.mp4")
        with contextlib.suppress(OSError):  # cut off by the server: may be a reset
            conn.sendall(b"\0" * (2 * 1024 * 1024))
        conn.close()
        try:
            client.getresp()
        except ftplib.error_perm as err:
            replies["huge"] = str(err)
        # And last, a good upload in the same session (it marks the end)
        client.storbinary("STOR last.mp4", io.BytesIO(data))
        client.quit()

    try:
        await run_blocking(attempts)
        await wait_for(lambda: bool(clips), what="the last, good upload")
    finally:
        await source.stop()
    last = clips.pop()

    # Then each one was refused or dropped, and only the last one reached the
    # pipeline
    assert replies["login"].startswith("530")
    assert replies["../escape.mp4"].startswith("553")
    assert replies["a/../../escape.mp4"].startswith("553")
    assert replies["run.sh"].startswith("553")
    assert replies["abort"].startswith("426")
    assert replies["huge"].startswith("552")
    assert clips == []
    assert last.local_path.read_bytes() == data
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert not (tmp_path / "escape.mp4").exists()
    # And no password was logged
    assert PASSWORD not in caplog.text
    assert "wrong" not in caplog.text.replace("'porch'", "")
    assert any(
        "refused" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


async def test_anonymous_login_needs_to_be_enabled(
    socket_enabled: None, tmp_path: Path
) -> None:
    """Anonymous logins are refused unless the camera allows them."""
    # Given a server without and one with anonymous access
    closed, _ = await _start(tmp_path / "closed")
    opened, _ = await _start(tmp_path / "open", allow_anonymous=True)

    def anonymous(port: int) -> str:
        client = ftplib.FTP()
        client.connect("127.0.0.1", port, timeout=10)
        try:
            return client.login()
        except ftplib.error_perm as err:
            return str(err)
        finally:
            client.close()

    # When anonymous users log in
    try:
        refused = await run_blocking(anonymous, closed.port)
        allowed = await run_blocking(anonymous, opened.port)
    finally:
        await closed.stop()
        await opened.stop()

    # Then only the server that allows them lets them in
    assert refused.startswith("530")
    assert allowed.startswith("230")


HOSTILE_COMMANDS = [
    pytest.param(["STOR ../up.mp4"], id="STOR climbing out"),
    pytest.param(["STOR /../up.mp4"], id="STOR absolute climbing out"),
    pytest.param(["STOR /etc/passwd.mp4"], id="STOR into a missing absolute folder"),
    pytest.param(["STOR a\\..\\up.mp4"], id="STOR backslashes"),
    pytest.param(["STOR nul\0.mp4"], id="STOR NUL"),
    pytest.param(["STOR bell\a.mp4"], id="STOR control character"),
    pytest.param([f"STOR {'a' * 300}.mp4"], id="STOR very long name"),
    pytest.param(["STOR .hidden.mp4"], id="STOR hidden name"),
    pytest.param(["STOR .mp4"], id="STOR no stem"),
    pytest.param(["STOR .porch_20261124_120000.partial"], id="STOR reservation name"),
    pytest.param(["STOR .rec_0123456789ab.mp4"], id="STOR recording name"),
    pytest.param(["STOR clip.mp4.partial"], id="STOR partial suffix"),
    pytest.param(["STOR clip"], id="STOR no extension"),
    pytest.param(["STOU"], id="STOU server-chosen name"),
    pytest.param(["STOU clip.mp4"], id="STOU with a prefix"),
    pytest.param(["APPE clip.mp4"], id="APPE"),
    pytest.param(["MKD d", "RNFR d", "RNTO clip.mp4"], id="RNFR/RNTO into a name"),
    pytest.param(["RNFR clip.mp4", "RNTO clip.sh"], id="RNFR/RNTO out of a name"),
    pytest.param(["MKD ../out"], id="MKD climbing out"),
    pytest.param(["MKD .hidden"], id="MKD hidden"),
    pytest.param([f"MKD {'d' * 300}"], id="MKD very long"),
    pytest.param(["MKD " + "/".join("d" * 10)], id="MKD too deep"),
    pytest.param(["MKD d", "RMD d"], id="RMD"),
    pytest.param(["DELE clip.mp4"], id="DELE"),
    pytest.param(["MKD d", "SITE CHMOD 777 d"], id="SITE CHMOD"),
    pytest.param(["MFMT 20260101000000 clip.mp4"], id="MFMT"),
    pytest.param(["CWD ../.."], id="CWD climbing out"),
]


@pytest.mark.parametrize("commands", HOSTILE_COMMANDS)
async def test_every_command_goes_through_the_name_filter(
    socket_enabled: None, tmp_path: Path, motion_clip: Path, commands: list[str]
) -> None:
    """No command writes outside the upload folder or makes a clip unfiltered."""
    # Given the camera's FTP server, with nothing in its folders yet
    source, clips = await _start(tmp_path)
    data = motion_clip.read_bytes()
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    replies: list[str] = []

    def attempts() -> None:
        client = _client(source.port)
        # When a client sends the command (uploads send a real clip)
        for command in commands:
            upload = command.split(" ")[0] in ("STOR", "STOU", "APPE")
            try:
                if upload:
                    reply = client.storbinary(command, io.BytesIO(data))
                else:
                    reply = client.sendcmd(command)
            except ftplib.error_perm as err:
                reply = str(err)
            replies.append(reply)
        # And then uploads a good clip, which marks the end
        client.storbinary("STOR last.mp4", io.BytesIO(data))
        client.quit()

    try:
        await run_blocking(attempts)
        await wait_for(lambda: bool(clips), what="the last, good upload")
    finally:
        await source.stop()

    # Then the hostile command is refused, only the good upload became a clip,
    # and no file was written anywhere else
    assert replies[-1].startswith("5"), replies
    assert [clip.local_path.suffix for clip in clips] == [".mp4"]
    after = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert after - before == {clips[0].local_path}
    assert not any(p.name.startswith(".") for p in (tmp_path / "uploads").rglob("*"))


async def test_an_absolute_upload_path_stays_in_the_upload_folder(
    socket_enabled: None, tmp_path: Path, motion_clip: Path
) -> None:
    """``/`` is the camera's upload folder: absolute paths cannot leave it."""
    # Given the camera's FTP server
    source, clips = await _start(tmp_path)
    data = motion_clip.read_bytes()

    # When a camera uploads to an absolute path in a dated folder
    def upload(client: ftplib.FTP) -> None:
        client.mkd("/2026")
        client.storbinary("STOR /2026/abs.mp4", io.BytesIO(data))

    await _session_then_stop(source, clips, upload)

    # Then it arrived through the upload folder, and nothing exists at /2026
    assert clips[0].local_path.read_bytes() == data
    assert (tmp_path / "uploads" / "2026").is_dir()
    assert not Path("/2026").exists()


async def test_uploads_left_by_a_crash_are_adopted_or_deleted(
    socket_enabled: None,
    tmp_path: Path,
    motion_clip: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At start, complete uploads become clips; cut-off and refused ones go."""
    # Given an upload folder as a crash leaves it: a complete clip, an upload
    # cut off mid-way, a hidden file and a file of another type
    uploads = tmp_path / "uploads" / "2026-11-24"
    uploads.mkdir(parents=True)
    data = motion_clip.read_bytes()
    (uploads / "done.mp4").write_bytes(data)
    (uploads / "cut.mp4").write_bytes(data[:200])
    (uploads / ".hidden.mp4").write_bytes(data)
    (uploads / "notes.txt").write_bytes(b"x")

    # When the source starts
    source, clips = await _start(tmp_path)
    await source.stop()

    # Then the complete clip is handed over with its name, the rest is deleted,
    # and logged once
    assert [clip.local_path.read_bytes() == data for clip in clips] == [True]
    assert clips[0].original_name == "2026-11-24/done.mp4"
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    deleted = [r for r in caplog.records if "FTP uploads" in r.getMessage()]
    assert len(deleted) == 1
    assert "3" in deleted[0].getMessage()


async def test_a_port_in_use_is_the_sources_problem(
    tmp_path: Path, socket_enabled: None
) -> None:
    """Another server on the camera's port: unhealthy, "port in use", no crash."""
    # Given a port another program listens on
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        # When the FTP source starts on it
        source, _ = await _start(tmp_path, port=port)

    # Then it says why in the log's words and names the kind for users
    try:
        assert not source.healthy
        assert f"cannot listen on port {port}" in (source.problem or "")
        assert source.fault is Fault.PORT_IN_USE
    finally:
        await source.stop()
