"""Watching a job over WebSocket (protocol v1), with reconnect and resume."""

import asyncio
import inspect
import json
import logging
import re
import urllib.parse

import websockets
import websockets.exceptions as wsx

from ._retry import Backoff
from .errors import JobNotFound, ProgressHubError, RetriesExhausted, Unauthorized, WatchClosed

TERMINAL = frozenset({"completed", "failed", "cancelled"})

_log = logging.getLogger("progress_hub")

# docs/protocol.md, "Close codes" (protocol module: CloseCode).
RECONNECT_CODES = frozenset({1001, 1011, 4008, 4429})
FINAL_CODES = frozenset({1000, 1002, 1003, 1007, 1008, 1009, 4400, 4401, 4403, 4404})


def should_reconnect(code):
    """Whether a close with `code` calls for a reconnect (with since): the table's reconnect
    codes, abnormal closure (1006) and other 1xxx transport failures; not unknown 4xxx codes."""
    if code in RECONNECT_CODES:
        return True
    if code in FINAL_CODES:
        return False
    return code is None or (code < 4000 and code != 1000)


_RETRY_HINT = re.compile(r"(?:^|[;\s])retry_after_ms=(\d{1,9})\b")


def retry_after(reason):
    """The reconnect delay, in seconds, that a server shutting down asks for in the reason of its
    1001 close (`server shutting down; retry_after_ms=2140`); 0.0 when the reason has none.
    Each connection gets its own, so that a stopping node's clients come back spread out."""
    match = _RETRY_HINT.search(reason or "")
    return int(match.group(1)) / 1000.0 if match else 0.0


def ws_url(url, job_id, since=None, token_in_query=None):
    """ws(s)://host:port/ws/{job_id}?since=N from an http(s) or ws(s) base URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + "/ws/" + urllib.parse.quote(job_id, safe="")
    query = {}
    if since is not None:
        query["since"] = str(since)
    if token_in_query:
        query["token"] = token_in_query
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, urllib.parse.urlencode(query), ""))


async def deliver_broadcast(on_broadcast, msg):
    """Hands an administrator's `broadcast` message to the application's `on_broadcast`, as a
    dict without `type`; a coroutine is awaited, so broadcasts keep their order. A callback that
    raises is logged: it must not end the watch."""
    if on_broadcast is None:
        return
    message = {k: v for k, v in msg.items() if k != "type"}
    try:
        result = on_broadcast(message)
        if inspect.isawaitable(result):
            await result
    except Exception:
        _log.warning("on_broadcast failed for a broadcast to %s", message.get("job_id"),
                     exc_info=True)


class _Reconnect(Exception):
    def __init__(self, why, floor=0.0, after=0.0):
        super().__init__(why)
        self.floor = floor
        self.after = after  # the server's retry hint, waited on top of the back-off


class Watcher:
    """An async iterator over a job's states: the `progress` messages' job states, as dicts,
    each `seq` once and in order, ending after the terminal state.

    It reconnects after network failures and the protocol's reconnect close codes (1001, 1011,
    4008, 4429, 1006) with exponential back-off and full jitter, resuming with `since` = the last
    `seq` it yielded, so nothing is missed or repeated. A connection on which nothing (not even a
    heartbeat) arrives for `heartbeat_timeout` seconds (default 2.5 heartbeat intervals, as
    announced by the server) is taken as dead and replaced. Final close codes raise:
    4401 `Unauthorized`, 4404 `JobNotFound`, the others `WatchClosed`.

    `token` is a string or a callable returning one (called on every connect, so it can refresh).

    `on_broadcast`, a function or coroutine function, is called with each administrator's
    broadcast to the job (`POST /api/jobs/{id}/broadcast`) as a dict: `job_id`, `status` and `seq`
    (the job's when it was sent), `data`, `timestamp`. A broadcast is not a state: it is never
    yielded, and one sent while the watcher is disconnected is not replayed. It is read while the
    iteration waits for the next state.
    """

    def __init__(self, url, job_id, token=None, *, since=None, on_broadcast=None,
                 initial_backoff=0.25, max_backoff=30.0, max_reconnects=None, open_timeout=10.0,
                 heartbeat_timeout=None, close_timeout=1.0):
        self.url = url
        self.job_id = job_id
        self.token = token
        self.on_broadcast = on_broadcast
        self.last_seq = since
        self.state = None
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_reconnects = max_reconnects
        self.open_timeout = open_timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.close_timeout = close_timeout
        self.connects = 0  # connections opened
        self.reconnects = 0  # connects after the first
        self.disconnects = []  # why each connection ended, e.g. "close 1001", "heartbeat timeout"
        self.last_error = None  # the last `error` message from the server
        self.connection_id = None  # the server's id of the current connection

    def __aiter__(self):
        return self._run()

    def _token(self):
        return self.token() if callable(self.token) else self.token

    async def _run(self):
        delays = Backoff(self.initial_backoff, self.max_backoff)
        while True:
            ws = None
            try:
                token = self._token()
                headers = {"Authorization": "Bearer " + token} if token else None
                try:
                    ws = await websockets.connect(
                        ws_url(self.url, self.job_id, self.last_seq), extra_headers=headers,
                        open_timeout=self.open_timeout, close_timeout=self.close_timeout,
                        ping_interval=None, max_size=4 * 1024 * 1024)
                except wsx.InvalidStatusCode as e:
                    self._refused(e.status_code)
                except (OSError, asyncio.TimeoutError, wsx.InvalidHandshake) as e:
                    raise _Reconnect(f"connect failed: {e!r}") from e
                self.connects += 1
                timeout = self.open_timeout
                while True:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout)
                    except asyncio.TimeoutError:
                        ws.transport.abort()
                        raise _Reconnect("heartbeat timeout") from None
                    except wsx.ConnectionClosed as e:
                        self._closed(e.code, e.reason)
                    msg = json.loads(raw)
                    kind = msg.get("type")
                    if kind == "connection_established":
                        self.connection_id = msg.get("connection_id")
                        interval = float(msg.get("heartbeat_interval") or 25)
                        timeout = self.heartbeat_timeout or interval * 2.5
                    elif kind == "subscribed":
                        delays.reset()
                        if not msg.get("recovered") and self.last_seq is not None:
                            # The since could not be honoured: what follows is the truth.
                            self.last_seq = None
                    elif kind == "progress":
                        seq = msg.get("seq")
                        if self.last_seq is not None and seq <= self.last_seq:
                            continue
                        self.last_seq = seq
                        state = {k: v for k, v in msg.items() if k not in ("type", "replay")}
                        self.state = state
                        yield state
                        if state.get("status") in TERMINAL:
                            await ws.close()
                            return
                    elif kind == "broadcast":
                        await deliver_broadcast(self.on_broadcast, msg)
                    elif kind == "error":
                        self.last_error = msg
            except _Reconnect as r:
                self.disconnects.append(str(r))
                if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                    raise RetriesExhausted(f"gave up after {self.reconnects} reconnects: {r}")
                await asyncio.sleep(r.after + delays.next_delay(r.floor))
                self.reconnects += 1
            finally:
                if ws is not None and not ws.closed:
                    ws.transport.abort()

    def _refused(self, status):
        """A handshake answered with an HTTP error instead of an upgrade."""
        if status == 401:
            raise Unauthorized("handshake refused with 401")
        if status == 404:
            raise JobNotFound(self.job_id)
        if status == 429 or status >= 500:
            raise _Reconnect(f"handshake refused with {status}", floor=self.initial_backoff)
        raise ProgressHubError(f"handshake refused with HTTP {status}")

    def _closed(self, code, reason):
        if should_reconnect(code):
            # 4429: back off before trying again, however small the jitter came out.
            raise _Reconnect(f"close {code}", floor=1.0 if code == 4429 else 0.0,
                             after=retry_after(reason) if code == 1001 else 0.0)
        if code == 4401:
            raise Unauthorized(f"closed with 4401: {reason}")
        if code == 4404:
            raise JobNotFound(self.job_id)
        raise WatchClosed(code, reason)


def watch(url, job_id, token=None, **options):
    """`async for state in watch("http://host:8080", "job-42", token=t): ...`

    Returns a `Watcher` (see it for the options and the counters it keeps)."""
    return Watcher(url, job_id, token, **options)
