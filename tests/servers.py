"""Real servers started by the tests (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
import shutil
import subprocess
import sys
import tempfile

PG_ROOT = Path("/usr/lib/postgresql")


def free_port() -> int:
    """A free TCP port on 127.0.0.1, found by a child process.

    The test harness blocks sockets in this process until a test enables them.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); "
            "print(s.getsockname()[1])",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(out.stdout)


class Postgres:
    """A throwaway PostgreSQL cluster owned by the postgres user."""

    def __init__(self) -> None:
        """Create the cluster (initdb) in a temporary folder."""
        # iterdir, not glob: the loop protection would report glob here
        versions = sorted(PG_ROOT.iterdir()) if PG_ROOT.is_dir() else []
        if not versions:
            raise RuntimeError("PostgreSQL is not installed (script/setup installs it)")
        self.bin = versions[-1] / "bin"
        self.folder = Path(tempfile.mkdtemp(prefix="homesec-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )

    @property
    def dsn(self) -> str:
        """The SQLAlchemy asyncpg URL of the ``postgres`` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -F -c fsync=off"
        options += f" -k {self.folder}"
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
            str(self.folder / "log"), "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once (as a crash or an outage would)."""
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"
        )

    def remove(self) -> None:
        """Stop if running and delete the cluster."""
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D",
             str(self.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


class Mosquitto:
    """A throwaway Mosquitto MQTT broker on 127.0.0.1 (anonymous access)."""

    def __init__(self) -> None:
        """Write its configuration; nothing runs before ``start``."""
        self.folder = Path(tempfile.mkdtemp(prefix="homesec-mqtt-"))
        self.port = free_port()
        self.log = self.folder / "mosquitto.log"
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            f"log_dest file {self.log}\n"
            "user root\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the broker and wait until it listens."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = subprocess.Popen(
            [binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if self.log.exists() and "running" in self.log.read_text():
                return
            if self._process.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        log = self.log.read_text() if self.log.exists() else ""
        msg = f"Mosquitto did not start: {log}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the broker and delete its folder."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait()
            self._process = None
        shutil.rmtree(self.folder, ignore_errors=True)
