"""Watching many jobs over one multiplexed WebSocket (`/ws`, protocol v1): `ProgressClient`."""

import asyncio
import inspect
import json
import time
import urllib.parse
from datetime import datetime

import websockets
import websockets.exceptions as wsx

from ._retry import Backoff
from .errors import (JobNotFound, ProgressHubError, RetriesExhausted, SubscribeRefused,
                     Unauthorized, WatchClosed)
from .tokens import token_expiry
from .watcher import TERMINAL, deliver_broadcast, retry_after, should_reconnect

# Subscribe errors after which asking again later can succeed (on the same connection).
RETRYABLE_ERRORS = frozenset({"store_unavailable", "rate_limited", "shutting_down"})

_END = object()  # queued to a JobWatch when the client is closed


def ws_endpoint(url):
    """ws(s)://host:port/ws from an http(s) or ws(s) base URL."""
    parts = urllib.parse.urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"not an http(s) or ws(s) URL: {url}")
    return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws", "", ""))


class _Reconnect(Exception):
    def __init__(self, why, floor=0.0, unauthorized=False, after=0.0):
        super().__init__(why)
        self.floor = floor
        self.unauthorized = unauthorized
        self.after = after  # the server's retry hint, waited on top of the back-off


class _Subscription:
    """One watched job on the shared connection; every `JobWatch` of it reads the same states."""

    def __init__(self, job_id, since):
        self.job_id = job_id
        self.last_seq = since or 0
        self.state = None
        self.watches = set()
        self.pending_id = None  # the id of a subscribe not yet answered


class JobWatch:
    """One job's states from a `ProgressClient`: an async iterator of the `progress` messages'
    job states, as dicts, each `seq` once and in order, ending after the terminal state.

    `close()` stops watching early. A subscribe the server refuses raises `JobNotFound` or
    `SubscribeRefused`; a connection that cannot go on raises the client's final error.
    """

    def __init__(self, client, sub):
        self.job_id = sub.job_id
        self.state = None
        self._client = client
        self._sub = sub
        self._queue = asyncio.Queue()
        self._done = False

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            self.close()
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        self.state = item
        if item.get("status") in TERMINAL:
            self.close()
        return item

    def close(self):
        """Stops watching: the job is unsubscribed once no other watch of it is left."""
        if not self._done:
            self._done = True
            self._client._leave(self._sub, self)

    def _put(self, item):
        if not self._done:
            self._queue.put_nowait(item)


class ProgressClient:
    """Watches any number of jobs over one WebSocket to `/ws`.

    `async with ProgressClient(url, get_token=fetch_token) as client:` then
    `async for state in client.watch("job-42"): ...` (several watches may run at once).

    Like the JavaScript client it authenticates with a first `auth` message; reconnects after
    network failures and the protocol's reconnect close codes (1001, 1006, 1011, 4008, 4429) with
    exponential back-off and full jitter (`initial_backoff` doubling to `max_backoff`, reset by a
    connection that stayed up `stable_after` seconds), after a 1001 from a server shutting down
    at least the `retry_after_ms` its close reason carries; resubscribes every job with `since` = the
    last `seq` it gave out and drops any state at or below it; replaces a connection on which
    nothing (not even a heartbeat) arrives for `heartbeat_timeout` seconds (default 2.5 announced
    heartbeat intervals). Final close codes end every watch with `Unauthorized` (4401),
    `WatchClosed` (the others).

    Tokens: a fixed `token`, or `get_token`, a callable (sync or async) returning one. With
    `get_token` a fresh token is sent on the open socket `refresh_margin` seconds (at most half
    its life) before the current one's `exp`, so the connection is never cut; after a 4401 it is
    asked once more and the client reconnects; a second 4401 in a row raises `Unauthorized`.

    `on_broadcast`, a function or coroutine function, is called with each administrator's
    broadcast to a job the client watches (`POST /api/jobs/{id}/broadcast`) as a dict: `job_id`,
    `status` and `seq` (the job's when it was sent), `data`, `timestamp`, like the JavaScript
    client's `broadcast` event. A broadcast is not a state: no watch yields it, and one sent while
    the client is disconnected is not replayed. It runs on the connection's reader: a coroutine is
    awaited before the next message is read, so keep it short.

    Counters for the curious: `connects`, `reconnects`, `refreshes`, `disconnects` (why each
    connection ended), `connection_id` (the server's id of the current connection), `last_error`
    (the last `error` message from the server).
    """

    def __init__(self, url, token=None, *, get_token=None, on_broadcast=None, initial_backoff=0.5,
                 max_backoff=20.0, max_reconnects=None, open_timeout=10.0,
                 heartbeat_timeout=None, refresh_margin=60.0, stable_after=5.0,
                 close_timeout=1.0):
        if token is None and get_token is None:
            raise ValueError("pass token or get_token")
        self.url = ws_endpoint(url)
        self.token = token
        self.get_token = get_token
        self.on_broadcast = on_broadcast
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.max_reconnects = max_reconnects
        self.open_timeout = open_timeout
        self.heartbeat_timeout = heartbeat_timeout
        self.refresh_margin = refresh_margin
        self.stable_after = stable_after
        self.close_timeout = close_timeout
        self.connects = 0
        self.reconnects = 0
        self.refreshes = 0
        self.disconnects = []
        self.connection_id = None
        self.last_error = None
        self._subs = {}
        self._outbox = None  # the current connection's send queue, once authenticated
        self._task = None
        self._refresh_task = None
        self._retry_tasks = set()
        self._used_token = None
        self._refusals = 0  # 4401s since the last successful authentication
        self._next_id = 0
        self._closed = False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    @property
    def connected(self):
        """Whether the socket is open and authenticated."""
        return self._outbox is not None

    def watch(self, job_id, since=None):
        """Watches `job_id` (after seq `since`, if given) on the shared connection; returns a
        `JobWatch` to iterate. A job watched twice shares one subscription: the second watch
        starts with the latest state. Call it inside a running event loop."""
        if not isinstance(job_id, str) or not job_id:
            raise ValueError(f"job_id: {job_id!r} (expected: a non-empty string)")
        if self._closed:
            raise ProgressHubError("client is closed")
        sub = self._subs.get(job_id)
        if sub is None:
            sub = _Subscription(job_id, since)
            self._subs[job_id] = sub
            self._subscribe(sub)
        watch = JobWatch(self, sub)
        if sub.state is not None and sub.state["seq"] > (since or 0):
            watch._put(sub.state)
        sub.watches.add(watch)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return watch

    async def close(self):
        """Closes the connection for good; every open watch ends."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._end_all(_END)

    # --- connection ---------------------------------------------------------------------------

    async def _run(self):
        delays = Backoff(self.initial_backoff, self.max_backoff)
        self._refusals = 0
        while True:
            try:
                await self._connection(delays)
            except _Reconnect as r:
                self.disconnects.append(str(r))
                if r.unauthorized:
                    self._refusals += 1
                    if self.get_token is None or self._refusals >= 2:
                        self._end_all(Unauthorized(f"{r}: the token was refused"))
                        return
                if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                    self._end_all(RetriesExhausted(f"gave up after {self.reconnects} reconnects: {r}"))
                    return
                await asyncio.sleep(r.after + delays.next_delay(r.floor))
                self.reconnects += 1
            except ProgressHubError as e:
                self.disconnects.append(str(e))
                self._end_all(e)
                return
            except Exception as e:  # a bug here must end the watches, not leave them waiting
                self.disconnects.append(repr(e))
                self._end_all(ProgressHubError(f"watching failed: {e!r}"))
                return

    async def _connection(self, delays):
        """Runs one connection until it ends; raises _Reconnect or a final error."""
        try:
            token = await self._fresh_token()
        except Exception as e:  # the application's token source failed: try again later
            raise _Reconnect(f"get_token failed: {e!r}") from e
        try:
            ws = await websockets.connect(self.url, open_timeout=self.open_timeout,
                                          close_timeout=self.close_timeout, ping_interval=None,
                                          max_size=4 * 1024 * 1024)
        except wsx.InvalidStatusCode as e:
            raise self._refused(e.status_code) from e
        except (OSError, asyncio.TimeoutError, wsx.InvalidHandshake) as e:
            raise _Reconnect(f"connect failed: {e!r}") from e
        self.connects += 1
        outbox = asyncio.Queue()
        writer = asyncio.create_task(self._write(ws, outbox))
        authenticated_at = None
        try:
            self._used_token = token
            outbox.put_nowait({"type": "auth", "token": token, "id": "auth"})
            timeout = self.open_timeout  # until authenticated
            heartbeat_timeout = self.heartbeat_timeout or 25 * 2.5
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout)
                except asyncio.TimeoutError:
                    raise _Reconnect("heartbeat timeout" if authenticated_at else
                                     "no authentication in time") from None
                except wsx.ConnectionClosed as e:
                    raise self._closed_with(e.code, e.reason) from None
                try:
                    msg = json.loads(raw)
                    kind = msg.get("type")
                except (ValueError, AttributeError):
                    continue  # not a message of this protocol version: skip it
                if kind == "connection_established":
                    self.connection_id = msg.get("connection_id")
                    interval = float(msg.get("heartbeat_interval") or 25)
                    heartbeat_timeout = self.heartbeat_timeout or interval * 2.5
                elif kind == "authenticated":
                    self._schedule_refresh(msg, min_delay=1.0 if msg.get("id") == "refresh" else 0.0)
                    if authenticated_at is None:
                        authenticated_at = time.monotonic()
                        timeout = heartbeat_timeout
                        self._refusals = 0
                        self._outbox = outbox
                        for sub in self._subs.values():
                            sub.pending_id = None
                            self._subscribe(sub)
                elif kind == "subscribed":
                    self._on_subscribed(msg)
                elif kind == "progress":
                    self._on_progress(msg)
                elif kind == "unsubscribed":
                    self._on_unsubscribed(msg)
                elif kind == "broadcast":
                    if msg.get("job_id") in self._subs:  # not one unwatched in the meantime
                        await deliver_broadcast(self.on_broadcast, msg)
                elif kind == "error":
                    self._on_error(msg, delays)
        finally:
            self._outbox = None
            for task in (writer, self._refresh_task, *self._retry_tasks):
                if task is not None:
                    task.cancel()
            self._retry_tasks.clear()
            # The back-off starts over only after a connection that lasted: a server that
            # accepts and then drops every connection at once is not hammered.
            if authenticated_at and time.monotonic() - authenticated_at >= self.stable_after:
                delays.reset()
            ws.transport.abort()

    async def _write(self, ws, outbox):
        while True:
            msg = await outbox.get()
            try:
                await ws.send(json.dumps(msg))
            except wsx.ConnectionClosed:
                return  # the reader sees the close and decides

    def _send(self, msg):
        if self._outbox is not None:
            self._outbox.put_nowait(msg)

    async def _fresh_token(self):
        if self.get_token is None:
            return self.token
        token = self.get_token()
        return await token if inspect.isawaitable(token) else token

    def _refused(self, status):
        """A handshake answered with an HTTP error instead of an upgrade."""
        if status == 401:
            return _Reconnect("handshake refused with 401", unauthorized=True)
        if status == 429 or status >= 500:
            return _Reconnect(f"handshake refused with {status}", floor=self.initial_backoff)
        return ProgressHubError(f"handshake refused with HTTP {status}")

    def _closed_with(self, code, reason):
        if should_reconnect(code):
            # 4429: back off before trying again, however small the jitter came out. 1001 from a
            # server shutting down: wait its hint first, which spreads its clients' returns.
            return _Reconnect(f"close {code}", floor=self.initial_backoff if code == 4429 else 0.0,
                              after=retry_after(reason) if code == 1001 else 0.0)
        if code == 4401:
            return _Reconnect(f"close 4401 {reason}".rstrip(), unauthorized=True)
        return WatchClosed(code, reason)

    # --- tokens -------------------------------------------------------------------------------

    def _schedule_refresh(self, authenticated, min_delay):
        if self._refresh_task is not None:
            self._refresh_task.cancel()
            self._refresh_task = None
        if self.get_token is None:
            return
        # The token's own exp first: the server's expires_at adds its clock skew.
        expires = token_expiry(self._used_token) or _iso_seconds(authenticated.get("expires_at"))
        if expires is None:
            return
        left = expires - time.time()
        margin = min(self.refresh_margin, max(0.0, left / 2))
        # min_delay: a token source handing out tokens that are already expired must not spin.
        self._refresh_task = asyncio.create_task(self._refresh(max(min_delay, left - margin)))

    async def _refresh(self, delay):
        await asyncio.sleep(delay)
        try:
            token = await self._fresh_token()
        except Exception as e:  # keep the connection; try again while the old token still works
            self.last_error = {"type": "error", "code": "token", "error": repr(e)}
            self._refresh_task = asyncio.create_task(self._refresh(5.0))
            return
        if self._outbox is None:
            return
        self._used_token = token
        self.refreshes += 1
        self._send({"type": "auth", "token": token, "id": "refresh"})

    # --- subscriptions ------------------------------------------------------------------------

    def _subscribe(self, sub):
        if self._outbox is None:
            return  # sent once the connection is authenticated
        self._next_id += 1
        sub.pending_id = f"s{self._next_id}"
        msg = {"type": "subscribe", "job_id": sub.job_id, "id": sub.pending_id}
        if sub.last_seq > 0:
            msg["since"] = sub.last_seq
        self._send(msg)

    def _leave(self, sub, watch):
        sub.watches.discard(watch)
        if not sub.watches and self._subs.get(sub.job_id) is sub:
            del self._subs[sub.job_id]
            self._next_id += 1
            self._send({"type": "unsubscribe", "job_id": sub.job_id, "id": f"u{self._next_id}"})

    def _on_subscribed(self, msg):
        sub = self._subs.get(msg.get("job_id"))
        if sub is None or (msg.get("id") and msg.get("id") != sub.pending_id):
            return
        sub.pending_id = None
        if msg.get("recovered") is False and sub.last_seq > 0 and msg.get("seq", 0) < sub.last_seq:
            # The server could not honour `since` (it is behind us): its states are the truth now.
            sub.last_seq = 0

    def _on_progress(self, msg):
        sub = self._subs.get(msg.get("job_id"))
        seq = msg.get("seq")
        if sub is None or not isinstance(seq, int) or seq <= sub.last_seq:
            return
        sub.last_seq = seq
        state = {k: v for k, v in msg.items() if k not in ("type", "replay")}
        sub.state = state
        for watch in list(sub.watches):
            watch._put(state)

    def _on_unsubscribed(self, msg):
        # Unasked (no id): the server ended the subscription because the job was deleted; the
        # error after it cannot name the job, this does. Our own unsubscribes carry an id.
        sub = self._subs.get(msg.get("job_id"))
        if msg.get("id") is not None or sub is None:
            return
        del self._subs[sub.job_id]
        for watch in list(sub.watches):
            watch._put(JobNotFound(sub.job_id))

    def _on_error(self, msg, delays):
        self.last_error = msg
        request = msg.get("id")
        sub = next((s for s in self._subs.values() if request and s.pending_id == request), None)
        if sub is None:
            return  # a refused refresh keeps the old token; not_subscribed after a race
        code = msg.get("code", "")
        if code in RETRYABLE_ERRORS:
            task = asyncio.create_task(self._subscribe_later(sub, request, delays.next_delay()))
            self._retry_tasks.add(task)
            task.add_done_callback(self._retry_tasks.discard)
            return
        del self._subs[sub.job_id]
        error = (JobNotFound(sub.job_id) if code == "job_not_found"
                 else SubscribeRefused(sub.job_id, code, msg.get("error", "")))
        for watch in list(sub.watches):
            watch._put(error)

    async def _subscribe_later(self, sub, request, delay):
        await asyncio.sleep(delay)
        if self._subs.get(sub.job_id) is sub and sub.pending_id == request:
            self._subscribe(sub)

    def _end_all(self, item):
        subs, self._subs = self._subs, {}
        for sub in subs.values():
            for watch in list(sub.watches):
                watch._put(item)


def _iso_seconds(value):
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
