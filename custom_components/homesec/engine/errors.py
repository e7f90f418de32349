"""Stage errors, carried as values with their cause preserved."""

from __future__ import annotations

from .models import Stage


class HomeSecError(Exception):
    """Base class of every HomeSec engine error."""


class CredentialsRejected(HomeSecError):  # noqa: N818 - names what happened
    """A service refused the stored credentials: the user must enter new ones."""

    def __init__(self, service: str, message: str) -> None:
        """``service`` names the credential: dropbox, postgres, openai, remote."""
        super().__init__(message)
        self.service = service


class StageError(HomeSecError):
    """A pipeline stage failed for one clip; returned, not raised."""

    stage: Stage

    def __init__(self, clip_id: str, message: str, cause: BaseException) -> None:
        """Keep the clip, a readable message and the original exception."""
        super().__init__(f"{self.stage.value} failed for {clip_id}: {message}")
        self.clip_id = clip_id
        self.__cause__ = cause

    @property
    def cause(self) -> BaseException:
        """The original exception."""
        assert self.__cause__ is not None
        return self.__cause__


class UploadError(StageError):
    """Storing the clip failed."""

    stage = Stage.UPLOAD


class DetectError(StageError):
    """Detection could not run on the clip."""

    stage = Stage.DETECT


class AnalyzeError(StageError):
    """The analyzer failed or answered something unusable."""

    stage = Stage.ANALYZE


class NotifyError(StageError):
    """A notifier failed to deliver an alert."""

    stage = Stage.NOTIFY


class DetectorUnavailable(HomeSecError):  # noqa: N818 - names what happened
    """The detector cannot answer now (network, timeout, server error, busy).

    Worth trying again: the clip waits in the spool, unfinished, and is
    detected once the detector answers.
    """


class StateStoreError(HomeSecError):
    """The state store could not be reached or written."""


class VideoDecodeError(HomeSecError):
    """A clip is not a readable video (empty, truncated or corrupt)."""


class ModelFileError(HomeSecError):
    """A detection model is missing, corrupt, or not a YOLO detection model."""


class AnalyzerError(HomeSecError):
    """The model call failed or its answer is unusable."""


class AnalysisSkipped(HomeSecError):  # noqa: N818 - not a failure
    """Analysis was not attempted (cooldown or budget); not a failure."""

    def __init__(self, reason: str, *, alert: bool) -> None:
        """``alert`` tells whether the clip may still raise an alert."""
        super().__init__(reason)
        self.reason = reason
        self.alert = alert
