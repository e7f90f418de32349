"""The chaos bench (bench/chaos.py) runs, finds nothing lost, and can fail."""

from __future__ import annotations

from pathlib import Path
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]


def _bench(*args: str) -> tuple[int, str]:
    """Run the bench in its own process; return its exit status and output."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.chaos", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _count(output: str, line: str) -> int:
    match = re.search(rf"^{line}: (\d+)$", output, re.MULTILINE)
    assert match is not None, output
    return int(match.group(1))


def test_quick_run_loses_no_clip_and_sends_no_alert_twice() -> None:
    """One seed of the CI mode: every fault class, nothing lost, nothing twice."""
    # Given the bench's quick mode with one seed
    # When it runs against the real engine with services going down and up
    status, output = _bench("--quick", "--seeds", "1")

    # Then every clip is accounted for, each alert went out once, and it passes
    assert _count(output, "clips lost") == 0, output
    assert _count(output, "duplicate alerts") == 0, output
    assert _count(output, "clips submitted") >= 60
    assert "clip store over its limit at the end" not in output
    assert status == 0, output


def test_a_clip_deleted_behind_the_engine_is_reported_lost() -> None:
    """A cleaner deleting unstored spooled clips makes the bench fail."""
    # Given a run in which spooled clips are deleted before they are stored
    # When the bench runs
    status, output = _bench("--seeds", "1", "--clips", "30", "--sabotage", "lose")

    # Then it reports the deleted clips lost, with their trace, and exits non-zero
    assert _count(output, "clips lost") > 0, output
    assert "bench: sabotage: deleted from the spool" in output
    assert status == 1


def test_a_stored_copy_deleted_behind_the_engine_is_lost_not_retired() -> None:
    """Only copies retention or the disk guard recorded deleting are retired."""
    # Given a run in which a cleaner deletes stored copies no retention chose,
    # while store retention deletes others (the store is over its limit)
    # When the bench runs
    status, output = _bench("--seeds", "1", "--clips", "30", "--sabotage", "unstore")

    # Then the cleaner's victims are reported lost, with their trace, while
    # the copies retention deleted are retired, and the bench exits non-zero
    assert _count(output, "clips lost") > 0, output
    assert "bench: sabotage: deleted from the clip store" in output
    retired = re.search(r"^clips retired .*by store retention (\d+)", output, re.M)
    assert retired is not None, output
    assert int(retired.group(1)) > 0, output
    assert status == 1


def test_a_clip_processed_again_from_scratch_is_reported_as_duplicate() -> None:
    """A clip resubmitted without its state alerts twice: the bench fails."""
    # Given a run in which finished clips are submitted again without their state
    # When the bench runs
    status, output = _bench("--seeds", "1", "--clips", "30", "--sabotage", "duplicate")

    # Then it reports the resubmitted clip's duplicate alerts and exits non-zero
    assert _count(output, "duplicate alerts") > 0, output
    assert "bench: sabotage: submitted again without its state" in output
    assert status == 1
