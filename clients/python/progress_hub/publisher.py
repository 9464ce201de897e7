"""Publishing job progress over REST, for workers: `Publisher` (blocking) and `AsyncPublisher`."""

import asyncio
import itertools
import time
import urllib.parse
import uuid

from . import _http
from ._retry import Backoff
from .errors import ApiError, JobCancelled, RetriesExhausted

TERMINAL = frozenset({"completed", "failed", "cancelled"})

_MISSING = object()


def _quote(job_id):
    return urllib.parse.quote(job_id, safe="")


class _Base:
    """State and request building shared by both forms."""

    def __init__(self, url, token, job_id=None, *, timeout=10.0, retries=8, backoff=0.2,
                 max_backoff=5.0, event_prefix=None):
        self.url = url.rstrip("/")
        self.session = _http.Session(self.url, timeout)
        self.token = token
        self.job_id = job_id
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._prefix = event_prefix or uuid.uuid4().hex[:16]
        self._counter = itertools.count(1)
        self._cancelled = False
        self.state = None  # the job as of the last answer

    def new_event_id(self):
        """A fresh event id: unique per publisher, reused by every retry of one call."""
        return f"{self._prefix}-{next(self._counter)}"

    def _job(self, job_id):
        job_id = job_id or self.job_id
        if not job_id:
            raise ValueError("no job id: pass job_id or call create() first")
        return job_id

    def _remember(self, job):
        if isinstance(job, dict):
            self.state = job
            if job.get("status") == "cancelled":
                self._cancelled = True
        return job

    @staticmethod
    def _event(event_id, **fields):
        body = {k: v for k, v in fields.items() if v is not _MISSING and v is not None}
        body["event_id"] = event_id
        return body

    def _create_plan(self, job_id, type, status, stage, message, metadata, owner):
        job_id = job_id or self.job_id or f"job-{uuid.uuid4().hex}"
        body = {"id": job_id}
        for key, value in (("type", type), ("status", status), ("stage", stage),
                           ("message", message), ("metadata", metadata), ("owner", owner)):
            if value is not None:
                body[key] = value
        return job_id, body

    def _delays(self):
        return Backoff(self.backoff, self.max_backoff)

    @staticmethod
    def _delay(delays, transient, attempt):
        if transient.stale and attempt == 0:
            return 0.0  # an idle keep-alive connection the server closed: retry on a new one
        return delays.next_delay(transient.retry_after or 0.0)

    def close(self):
        """Closes this thread's keep-alive connection (others close when their thread ends)."""
        self.session.close()


class Publisher(_Base):
    """Publishes one job's progress (bind it with `job_id=` or `create()`).

    Every event carries an `event_id` (generated, or yours), so a retry after a lost answer is
    applied once. Connection errors, 429 and 503 are retried with exponential back-off and full
    jitter, never sooner than the server's Retry-After. Publishing to a cancelled job raises
    `JobCancelled`; to a completed or failed one, `JobFinished`.
    """

    def _call(self, method, path, body=None, query=None, conflict_on_retry=None):
        delays = self._delays()
        last = None
        for attempt in range(self.retries + 1):
            try:
                return self.session.request(method, path, self.token, body, query)
            except _http.Transient as t:
                last = t
                if attempt == self.retries:
                    break
                time.sleep(self._delay(delays, t, attempt))
            except ApiError as e:
                # A retry of a call whose first answer was lost: the first attempt did it.
                if attempt > 0 and e.status == 409 and e.code == conflict_on_retry:
                    return None
                raise
        raise RetriesExhausted(f"{method} {path}: {last}") from last.cause

    # --- jobs -----------------------------------------------------------------------------

    def create(self, job_id=None, *, type=None, status=None, stage=None, message=None,
               metadata=None, owner=None):
        """Creates the job (an id is generated when none is given) and binds this publisher."""
        job_id, body = self._create_plan(job_id, type, status, stage, message, metadata, owner)
        job = self._call("POST", "/api/jobs", body, conflict_on_retry="job_exists")
        self.job_id = job_id
        return self._remember(job if job is not None else self.get(job_id))

    def get(self, job_id=None):
        return self._remember(self._call("GET", f"/api/jobs/{_quote(self._job(job_id))}"))

    def history(self, since=0, job_id=None, limit=None):
        query = {"since": since}
        if limit is not None:
            query["limit"] = limit
        answer = self._call("GET", f"/api/jobs/{_quote(self._job(job_id))}/events", query=query)
        return answer["events"]

    def cancel(self, job_id=None):
        """Cancels the job (any worker publishing to it then gets JobCancelled)."""
        job_id = self._job(job_id)
        job = self._call("POST", f"/api/jobs/{_quote(job_id)}/cancel",
                         conflict_on_retry="job_cancelled")
        return self._remember(job if job is not None else self.get(job_id))

    def cancelled(self, refresh=True):
        """Whether the job was cancelled; asks the server unless `refresh=False`."""
        if not self._cancelled and refresh:
            self.get()
        return self._cancelled

    # --- events ---------------------------------------------------------------------------

    def publish(self, *, event_id=None, job_id=None, **fields):
        """Publishes one event with any of the API's fields (status, progress, stage, ...)."""
        body = self._event(event_id or self.new_event_id(), **fields)
        try:
            job = self._call("POST", f"/api/jobs/{_quote(self._job(job_id))}/events", body)
        except JobCancelled:
            self._cancelled = True
            raise
        return self._remember(job)

    def start(self, stage=None, message=None, event_id=None):
        return self.publish(event_id=event_id, status="in_progress", stage=stage, message=message)

    def progress(self, progress, stage=None, message=None, *, eta_seconds=None, metadata=None,
                 event_id=None):
        return self.publish(event_id=event_id, progress=progress, stage=stage, message=message,
                            eta_seconds=eta_seconds, metadata=metadata)

    def stage(self, stage, message=None, *, progress=None, metadata=None, event_id=None):
        return self.publish(event_id=event_id, stage=stage, message=message, progress=progress,
                            metadata=metadata)

    def message(self, message, *, metadata=None, event_id=None):
        return self.publish(event_id=event_id, message=message, metadata=metadata)

    def complete(self, result=None, message=None, *, metadata=None, event_id=None):
        return self.publish(event_id=event_id, status="completed", result=result, message=message,
                            metadata=metadata)

    def fail(self, error, *, metadata=None, event_id=None):
        return self.publish(event_id=event_id, status="failed", error=str(error), metadata=metadata)


class AsyncPublisher(_Base):
    """The asyncio form of `Publisher`: the same methods, as coroutines.

    Each HTTP request runs in a worker thread (http.client blocks); back-off sleeps on the loop.
    """

    async def _call(self, method, path, body=None, query=None, conflict_on_retry=None):
        delays = self._delays()
        last = None
        for attempt in range(self.retries + 1):
            try:
                return await asyncio.to_thread(self.session.request, method, path, self.token,
                                               body, query)
            except _http.Transient as t:
                last = t
                if attempt == self.retries:
                    break
                await asyncio.sleep(self._delay(delays, t, attempt))
            except ApiError as e:
                if attempt > 0 and e.status == 409 and e.code == conflict_on_retry:
                    return None
                raise
        raise RetriesExhausted(f"{method} {path}: {last}") from last.cause

    async def create(self, job_id=None, *, type=None, status=None, stage=None, message=None,
                     metadata=None, owner=None):
        job_id, body = self._create_plan(job_id, type, status, stage, message, metadata, owner)
        job = await self._call("POST", "/api/jobs", body, conflict_on_retry="job_exists")
        self.job_id = job_id
        return self._remember(job if job is not None else await self.get(job_id))

    async def get(self, job_id=None):
        return self._remember(await self._call("GET", f"/api/jobs/{_quote(self._job(job_id))}"))

    async def history(self, since=0, job_id=None, limit=None):
        query = {"since": since}
        if limit is not None:
            query["limit"] = limit
        answer = await self._call("GET", f"/api/jobs/{_quote(self._job(job_id))}/events",
                                  query=query)
        return answer["events"]

    async def cancel(self, job_id=None):
        job_id = self._job(job_id)
        job = await self._call("POST", f"/api/jobs/{_quote(job_id)}/cancel",
                               conflict_on_retry="job_cancelled")
        return self._remember(job if job is not None else await self.get(job_id))

    async def cancelled(self, refresh=True):
        if not self._cancelled and refresh:
            await self.get()
        return self._cancelled

    async def publish(self, *, event_id=None, job_id=None, **fields):
        body = self._event(event_id or self.new_event_id(), **fields)
        try:
            job = await self._call("POST", f"/api/jobs/{_quote(self._job(job_id))}/events", body)
        except JobCancelled:
            self._cancelled = True
            raise
        return self._remember(job)

    async def start(self, stage=None, message=None, event_id=None):
        return await self.publish(event_id=event_id, status="in_progress", stage=stage, message=message)

    async def progress(self, progress, stage=None, message=None, *, eta_seconds=None,
                       metadata=None, event_id=None):
        return await self.publish(event_id=event_id, progress=progress, stage=stage, message=message,
                                  eta_seconds=eta_seconds, metadata=metadata)

    async def stage(self, stage, message=None, *, progress=None, metadata=None, event_id=None):
        return await self.publish(event_id=event_id, stage=stage, message=message, progress=progress,
                                  metadata=metadata)

    async def message(self, message, *, metadata=None, event_id=None):
        return await self.publish(event_id=event_id, message=message, metadata=metadata)

    async def complete(self, result=None, message=None, *, metadata=None, event_id=None):
        return await self.publish(event_id=event_id, status="completed", result=result, message=message,
                                  metadata=metadata)

    async def fail(self, error, *, metadata=None, event_id=None):
        return await self.publish(event_id=event_id, status="failed", error=str(error), metadata=metadata)
