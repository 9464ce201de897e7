"""REST calls over keep-alive connections (stdlib http.client), and which failures a retry
can fix."""

import http.client
import json
import threading
import urllib.parse

from .errors import ApiError, JobCancelled, JobFinished, JobNotFound, Unauthorized

# Statuses after which nothing was applied and a later attempt may succeed.
RETRY_STATUSES = {429, 503}


class Transient(Exception):
    """A failure worth retrying; retry_after is the server's Retry-After in seconds, if any."""

    def __init__(self, cause, retry_after=None, stale=False):
        super().__init__(str(cause))
        self.cause = cause
        self.retry_after = retry_after
        self.stale = stale  # failed on a kept-alive connection the server may have closed


def _retry_after(headers):
    value = headers.get("Retry-After") if headers is not None else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(status, body, retry_after=None):
    code = body.get("code", "") if isinstance(body, dict) else ""
    message = body.get("error", "") if isinstance(body, dict) else str(body)
    if status == 401:
        return Unauthorized(f"401 {code}: {message}")
    if status == 404 and code == "job_not_found":
        return JobNotFound(message or "job not found")
    if status == 409 and code == "job_cancelled":
        return JobCancelled(status, code, message)
    if status == 409 and code == "job_finished":
        return JobFinished(status, code, message)
    return ApiError(status, code, message, retry_after)


class Session:
    """Keep-alive HTTP connections to one server, one per thread (the server limits new
    connections per address and second, so a busy worker should not open one per event)."""

    def __init__(self, base_url, timeout=10.0):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.https = parts.scheme == "https"
        self.netloc = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = cls(self.netloc, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self):
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def close(self):
        self._drop()

    def request(self, method, path, token=None, body=None, query=None):
        """Sends one request; returns the decoded JSON answer (None for an empty one).

        Raises Transient for connection errors, timeouts, 429 and 503, and the matching
        ProgressHubError for every other error status.
        """
        target = self.prefix + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = "Bearer " + (token() if callable(token) else token)
        reused = getattr(self._local, "conn", None) is not None
        try:
            conn = self._connection()
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            if resp.will_close:
                self._drop()
        except (http.client.HTTPException, OSError) as e:  # refused, reset, timeout, ...
            self._drop()
            raise Transient(e, stale=reused) from e
        status = resp.status
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = {"error": raw.decode("utf-8", "replace")}
        if 200 <= status < 300:
            return decoded
        retry_after = _retry_after(resp.headers)
        err = error_for(status, decoded or {}, retry_after)
        if status in RETRY_STATUSES:
            raise Transient(err, retry_after)
        raise err
