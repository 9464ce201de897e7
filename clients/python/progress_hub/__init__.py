"""progress-hub client: publish job progress (`Publisher`, `AsyncPublisher`) and watch jobs
(`ProgressClient`: many jobs on one connection; `watch`: one connection per job)."""

from .client import JobWatch, ProgressClient
from .errors import (ApiError, JobCancelled, JobFinished, JobNotFound, ProgressHubError,
                     RetriesExhausted, SubscribeRefused, Unauthorized, WatchClosed)
from .publisher import TERMINAL, AsyncPublisher, Publisher
from .tokens import make_token, token_expiry
from .watcher import Watcher, should_reconnect, watch

__all__ = [
    "ApiError", "AsyncPublisher", "JobCancelled", "JobFinished", "JobNotFound", "JobWatch",
    "ProgressClient", "ProgressHubError", "Publisher", "RetriesExhausted", "SubscribeRefused",
    "TERMINAL", "Unauthorized", "WatchClosed", "Watcher", "make_token", "should_reconnect",
    "token_expiry", "watch",
]
