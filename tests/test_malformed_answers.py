"""Malformed answers of the detection and model servers, served over real HTTP:
each is a clear HomeSec error recorded on the clip (or is trimmed to size where
that serves the user better), the clip is kept, and nothing raises out."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import shutil
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.homesec.adapters.ai_task import parse_answer
from custom_components.homesec.engine.analyze.openai import (
    OpenAIAnalyzer,
    OpenAISettings,
)
from custom_components.homesec.engine.analyze.schema import DEFAULT_ACTIVITY_TYPES
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.errors import AnalyzerError
from custom_components.homesec.engine.interfaces import Analyzer
from custom_components.homesec.engine.models import (
    Clip,
    ClipState,
    ClipStatus,
    FilterResult,
    Stage,
    StageStatus,
)
from custom_components.homesec.engine.pipeline import ClipPipeline
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage

from .doubles.detection_server import DetectionServer
from .doubles.openai_server import GOOD_ANSWER, OpenAIServer
from .pipeline_parts import RecordingNotifier, run_blocking

NAN = float("nan")
PERSON = {"label": "person", "confidence": 0.9, "x_min": 120, "y_min": 100,
          "x_max": 220, "y_max": 260}  # fmt: skip
RED_BOX = (120 / 640, 100 / 360, 220 / 640, 260 / 360)
DEEP = b"[" * 100_000 + b"]" * 100_000


def _predictions(*items: Any) -> dict[str, Any]:
    return {"success": True, "predictions": list(items)}


# (mode, served, what the recorded error says)
BAD_DETECTIONS = {
    "a list": ("answer", [], "the answer is a list, not an object"),
    "text": ("answer", "ok", "the answer is text, not an object"),
    "null": ("answer", None, "the answer is null, not an object"),
    "failure": (
        "answer",
        {"success": False, "error": "model not loaded"},
        "reported a failure: model not loaded",
    ),
    "no predictions": ("answer", {"success": True}, "no predictions list"),
    "predictions object": (
        "answer",
        {"success": True, "predictions": {"label": "person"}},
        "no predictions list",
    ),
    "prediction a number": (
        "answer",
        _predictions(7),
        "malformed prediction 0: a number, not an object",
    ),
    "no label": ("answer", _predictions({**PERSON, "label": None}), "0: no label"),
    "label a number": ("answer", _predictions({**PERSON, "label": 0}), "0: no label"),
    "label a page long": (
        "answer",
        _predictions({**PERSON, "label": "person" * 1000}),
        "0: a label longer than 200 characters",
    ),
    "no confidence": (
        "answer",
        _predictions({k: v for k, v in PERSON.items() if k != "confidence"}),
        "confidence is not a number",
    ),
    "confidence text": (
        "answer",
        _predictions({**PERSON, "confidence": "0.9"}),
        "confidence is not a number",
    ),
    "confidence true": (
        "answer",
        _predictions({**PERSON, "confidence": True}),
        "confidence is not a number",
    ),
    "confidence NaN": (
        "answer",
        _predictions({**PERSON, "confidence": NAN}),
        "confidence is not a finite number",
    ),
    "confidence negative": (
        "answer",
        _predictions({**PERSON, "confidence": -0.5}),
        "confidence -0.5 is not between 0 and 1",
    ),
    "confidence a percentage": (
        "answer",
        _predictions({**PERSON, "confidence": 88}),
        "confidence 88 is not between 0 and 1",
    ),
    "no x_min": (
        "answer",
        _predictions({k: v for k, v in PERSON.items() if k != "x_min"}),
        "x_min is not a number",
    ),
    "y_max infinite": (
        "answer",
        _predictions({**PERSON, "y_max": float("inf")}),
        "y_max is not a finite number",
    ),
    "x_max beyond floats": (
        "raw",
        b'{"predictions": [{"label": "person", "confidence": 0.9, "x_min": 1,'
        b' "y_min": 1, "x_max": 1e999, "y_max": 9}]}',
        "x_max is not a finite number",
    ),
    "5000 predictions": (
        "answer",
        _predictions(*[PERSON] * 5000),
        "lists 5000 predictions (at most 1000 expected)",
    ),
    "HTML": ("raw", b"<html>Bad gateway</html>", "the answer is not JSON"),
    "not UTF-8": ("raw", b"\xff\xfe\xfa", "the answer is not JSON"),
    "nested 100000 deep": ("raw", DEEP, "the answer is not JSON"),
    "6 MB": ("huge", None, "the answer is larger than 4 MB"),
    "6 MB chunked": ("huge_stream", None, "the answer is larger than 4 MB"),
}

# (mode, served, what the recorded error says)
BAD_ANALYSES = {
    "a list": ("answer", [], "the answer has no message"),
    "no choices": ("answer", {"choices": []}, "the answer has no message"),
    "choices text": ("answer", {"choices": "ok"}, "the answer has no message"),
    "message text": (
        "answer",
        {"choices": [{"message": "ok"}]},
        "the answer has no message",
    ),
    "refusal object": (
        "answer",
        {"choices": [{"message": {"refusal": {"reason": "policy"}}}]},
        "the model refused: {'reason': 'policy'}",
    ),
    "no content": ("content", None, "the answer is not the requested JSON"),
    "content a number": ("content", 42, "the answer is not the requested JSON"),
    "content a list": (
        "content",
        "[1]",
        "not the requested JSON (Input should be a valid dictionary",
    ),
    "unknown risk": (
        "content",
        json.dumps({**GOOD_ANSWER, "risk_level": "extreme"}),
        "(risk_level: Input should be 'low', 'medium', 'high' or 'critical')",
    ),
    "blank summary": (
        "content",
        json.dumps({**GOOD_ANSWER, "summary": "   "}),
        "(summary: Value error, the summary is empty)",
    ),
    "no review flag": (
        "content",
        json.dumps({k: v for k, v in GOOD_ANSWER.items() if k != "requires_review"}),
        "(requires_review: Field required)",
    ),
    "content nested 100000 deep": (
        "content",
        "[" * 100_000,
        "the answer is not the requested JSON",
    ),
    "HTML": ("raw", b"<html>Bad gateway</html>", "the answer is not JSON"),
    "nested 100000 deep": ("raw", DEEP, "the answer is not JSON"),
    "6 MB": ("huge", None, "the answer is larger than 4 MB"),
    "6 MB chunked": ("huge_stream", None, "the answer is larger than 4 MB"),
}


def _serve(server: DetectionServer | OpenAIServer, mode: str, served: Any) -> None:
    server.mode = mode
    if mode == "raw":
        server.raw = served
    elif mode == "content" and isinstance(server, OpenAIServer):
        server.content = served
    else:
        server.answer = served


async def _process(
    tmp_path: Path, red_clip: Path, detector: RemoteDetector, analyzer: Analyzer | None
) -> tuple[ClipState, Clip, RecordingNotifier]:
    """Run the red-box clip through a pipeline with real SQLite and storage."""
    spooled = tmp_path / "spool" / "front_door_20261124_101500.mp4"
    spooled.parent.mkdir()
    shutil.copyfile(red_clip, spooled)
    clip = Clip(
        clip_id=spooled.stem,
        camera_name="front_door",
        local_path=spooled,
        start_ts=datetime.now(UTC),
        source_type="test",
    )
    notifier = RecordingNotifier("phone")
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    pipeline = ClipPipeline(
        storage=LocalStorage(tmp_path / "store", run_blocking),
        detector=detector,
        analyzer=analyzer,
        policy=DefaultAlertPolicy(PolicySettings(notify_on_motion=True)),
        notifiers=[notifier],
        repository=repository,
    )
    await pipeline.submit(clip)
    await pipeline.drain()
    state = await repository.get(clip.clip_id)
    await repository.close()
    assert state is not None
    return state, clip, notifier


def _kept(clip: Clip, state: ClipState) -> bool:
    """The clip is still in the spool and its stored copy is there too."""
    stored = clip.local_path.parents[1] / "store" / "front_door" / clip.local_path.name
    return (
        state.storage_uri == f"local:front_door/{stored.name}"
        and clip.local_path.is_file()
        and stored.read_bytes() == clip.local_path.read_bytes()
    )


@pytest.mark.parametrize(
    ("mode", "served", "message"),
    BAD_DETECTIONS.values(),
    ids=BAD_DETECTIONS.keys(),
)
async def test_a_malformed_detection_answer_is_a_clear_error_on_the_clip(
    tmp_path: Path,
    detection_server: DetectionServer,
    red_clip: Path,
    mode: str,
    served: Any,
    message: str,
) -> None:
    """Whatever the detection server answers, the clip records why and stays."""
    # Given a detection server answering one malformed way
    _serve(detection_server, mode, served)
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url), session, run_blocking
        )

        # When a clip goes through the pipeline (nothing may raise out of it)
        state, clip, notifier = await _process(tmp_path, red_clip, detector, None)

    # Then detection failed with a RemoteDetectorError that says why
    detect = state.stages[Stage.DETECT]
    assert detect.status is StageStatus.FAILED
    assert detect.error is not None
    assert detect.error.startswith("RemoteDetectorError: ")
    assert message in detect.error
    # Then the clip was finished in error after one request, stored and kept
    assert state.status is ClipStatus.ERROR
    assert len(detection_server.requests) == 1
    assert _kept(clip, state)
    assert notifier.alerts == []


@pytest.mark.parametrize(
    ("prediction", "box"),
    [
        ({**PERSON, "x_min": -50, "x_max": 900}, (0.0, 100 / 360, 1.0, 260 / 360)),
        ({**PERSON, "x_min": 220, "x_max": 120}, RED_BOX),
        ({**PERSON, "confidence": 1.0000001}, RED_BOX),
    ],
    ids=["beyond the frame", "corners swapped", "confidence a hair above 1"],
)  # fmt: skip
async def test_boxes_are_cut_to_the_frame(
    detection_server: DetectionServer,
    red_clip: Path,
    prediction: dict[str, Any],
    box: tuple[float, ...],
) -> None:
    """Boxes reaching past the frame or with swapped corners are put right."""
    # Given a server answering one such prediction for every frame
    _serve(detection_server, "answer", _predictions(prediction))
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url), session, run_blocking
        )

        # When a clip is scanned
        result = await detector.detect(_clip_at(red_clip))

    # Then the person is found in a box inside the frame, confidence at most 1
    assert result.best is not None
    found = result.best.box
    assert (found.x1, found.y1, found.x2, found.y2) == pytest.approx(box)
    assert 0 < result.confidence <= 1


async def test_a_box_outside_the_frame_is_no_detection(
    detection_server: DetectionServer, red_clip: Path
) -> None:
    """A prediction wholly outside the picture is dropped."""
    # Given a server reporting a person right of the 640 px wide frame
    outside = {**PERSON, "x_min": 700, "x_max": 800}
    _serve(detection_server, "answer", _predictions(outside))
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url, rules=DetectionRules()),
            session,
            run_blocking,
        )

        # When a clip is scanned
        result = await detector.detect(_clip_at(red_clip))

    # Then nothing was detected, every frame was sent
    assert result.detected_classes == []
    assert len(detection_server.requests) == result.frames_sampled == 12


def _clip_at(path: Path) -> Clip:
    return Clip(
        clip_id=path.stem,
        camera_name="front_door",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


def _analyzer(server: OpenAIServer, session: ClientSession) -> OpenAIAnalyzer:
    return OpenAIAnalyzer(
        OpenAISettings(base_url=server.url, api_key="sk-test", max_attempts=1),
        session,
        run_blocking,
        lambda camera: ("Front door", None),
    )


@pytest.mark.parametrize(
    ("mode", "served", "message"),
    BAD_ANALYSES.values(),
    ids=BAD_ANALYSES.keys(),
)
async def test_a_malformed_model_answer_is_a_clear_error_on_the_clip(
    tmp_path: Path,
    detection_server: DetectionServer,
    openai_server: OpenAIServer,
    red_clip: Path,
    mode: str,
    served: Any,
    message: str,
) -> None:
    """Whatever the model server answers, the clip records why, alerts, stays."""
    # Given a model server answering one malformed way
    _serve(openai_server, mode, served)
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url), session, run_blocking
        )

        # When a person clip goes through the pipeline
        state, clip, notifier = await _process(
            tmp_path, red_clip, detector, _analyzer(openai_server, session)
        )

    # Then the analysis failed with an AnalyzerError that says why
    analyze = state.stages[Stage.ANALYZE]
    assert analyze.status is StageStatus.FAILED
    assert analyze.error is not None
    assert analyze.error.startswith("AnalyzerError: ")
    assert message in analyze.error
    # Then the alert went out without a summary, and the clip is done and kept
    (alert,) = notifier.alerts
    assert alert.vlm_failed
    assert state.status is ClipStatus.DONE
    assert _kept(clip, state)


async def test_an_oversized_model_answer_is_trimmed(
    openai_server: OpenAIServer, red_clip: Path
) -> None:
    """Long summaries and lists are cut, impossible times and token counts dropped,
    unknown fields ignored, and text parts joined."""
    # Given a model answering too much, as a list of text parts, with odd usage
    answer = {
        **GOOD_ANSWER,
        "summary": "A courier " + "waits " * 1000,
        "observations": [f"note {n}" for n in range(1000)],
        "entities": [{"at_seconds": NAN, "entity": "person", "action": "waits"}],
        "mood": "calm",
    }
    openai_server.mode = "answer"
    openai_server.answer = {
        "choices": [
            {
                "message": {"content": [{"type": "text", "text": json.dumps(answer)}]},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": -5, "completion_tokens": NAN},
    }
    async with ClientSession() as session:
        # When a clip is analysed
        result = await _analyzer(openai_server, session).analyze(
            _clip_at(red_clip), _person()
        )

    # Then the summary is shortened, the lists too, and no usage is counted
    assert len(result.summary) == 600
    assert result.summary.endswith("…")
    assert result.observations[:2] == ["note 0", "note 1"]
    assert len(result.observations) == 21  # 20 notes + the timeline
    assert result.observations[-1] == "person: waits"
    assert result.usage is not None
    assert result.usage.total == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("A person waits at the door.", "(Input should be a valid dictionary"),
        (None, "(Input should be a valid dictionary"),
        ({"risk_level": "low"}, "(activity_type: Field required)"),
        (
            {"risk_level": 3, "activity_type": "visitor", "summary": "s"},
            "(risk_level: Input should be 'low', 'medium', 'high' or 'critical')",
        ),
        (
            {"risk_level": "low", "activity_type": "visitor", "summary": " "},
            "(summary: Value error, the summary is empty)",
        ),
        (
            {"risk_level": "low", "activity_type": "visitor", "summary": "s",
             "observations": [1, 2]},
            "(observations.0: Input should be a valid string)",
        ),
    ],
    ids=["text", "null", "missing fields", "risk a number", "blank summary",
         "observations numbers"],
)  # fmt: skip
def test_a_malformed_ai_task_answer_is_a_clear_error(data: Any, message: str) -> None:
    """An AI Task entity's unusable data is an AnalyzerError saying why."""
    # Given data an AI Task entity returned, when it is read, then it is refused
    with pytest.raises(AnalyzerError, match="did not return the requested data") as err:
        parse_answer(data, DEFAULT_ACTIVITY_TYPES)
    assert message in str(err.value)


def test_a_long_ai_task_answer_is_trimmed() -> None:
    """A long summary is shortened; a lone or missing observation is a list."""
    # Given AI Task data with a 5000 character summary and observations as text
    base = {"risk_level": "low", "activity_type": "visitor"}
    long = parse_answer({**base, "summary": "x" * 5000, "observations": "one"},
                        DEFAULT_ACTIVITY_TYPES)  # fmt: skip
    missing = parse_answer({**base, "summary": "s", "observations": None},
                           DEFAULT_ACTIVITY_TYPES)  # fmt: skip

    # Then it is read and trimmed
    assert len(long.summary) == 600
    assert long.observations == ["one"]
    assert missing.observations == []


def _person() -> FilterResult:
    return FilterResult(
        detected_classes=["person"], confidence=0.9, frames_sampled=1, model="t"
    )
