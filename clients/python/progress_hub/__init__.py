"""progress-hub client: publish job progress (`Publisher`, `AsyncPublisher`) and watch jobs
(`watch`)."""

from .errors import (ApiError, JobCancelled, JobFinished, JobNotFound, ProgressHubError,
                     RetriesExhausted, Unauthorized, WatchClosed)
from .publisher import TERMINAL, AsyncPublisher, Publisher
from .tokens import make_token
from .watcher import Watcher, should_reconnect, watch

__all__ = [
    "ApiError", "AsyncPublisher", "JobCancelled", "JobFinished", "JobNotFound",
    "ProgressHubError", "Publisher", "RetriesExhausted", "TERMINAL", "Unauthorized",
    "WatchClosed", "Watcher", "make_token", "should_reconnect", "watch",
]
