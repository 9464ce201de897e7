"""Exceptions raised by the progress-hub client."""


class ProgressHubError(Exception):
    """Base class of every error this package raises."""


class ApiError(ProgressHubError):
    """The server answered a REST call with an error status (after any retries)."""

    def __init__(self, status, code, message, retry_after=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class JobCancelled(ApiError):
    """The job was cancelled: the worker should stop."""


class JobFinished(ApiError):
    """The job already completed or failed: nothing more can be published to it."""


class JobNotFound(ProgressHubError):
    """No such job, it was deleted, or the token may not see it (REST 404, close 4404)."""


class Unauthorized(ProgressHubError):
    """The token was refused (REST 401, close 4401): get a new token first."""


class WatchClosed(ProgressHubError):
    """The server closed a watch with a code after which reconnecting cannot help."""

    def __init__(self, code, reason=""):
        super().__init__(f"closed with {code}: {reason}" if reason else f"closed with {code}")
        self.code = code
        self.reason = reason


class SubscribeRefused(ProgressHubError):
    """The server refused to watch a job on a shared connection (e.g. `too_many_subscriptions`,
    `invalid_job_id`); `code` is the protocol's error code."""

    def __init__(self, job_id, code, message=""):
        super().__init__(f"{job_id}: {code}: {message}" if message else f"{job_id}: {code}")
        self.job_id = job_id
        self.code = code
        self.message = message


class RetriesExhausted(ProgressHubError):
    """A retried operation failed on every attempt; __cause__ holds the last failure."""
