"""ProgressClient: many jobs on one multiplexed connection, against real servers.

The server accepts a token until its exp plus 30 s of clock skew, so a token whose exp lies 27 s
in the past works for about 3 s after it is minted, then the connection is closed with 4401.
"""

import asyncio
import threading
import time
import urllib.request
import uuid

import pytest

from conftest import broadcast, token, until
from progress_hub import (JobNotFound, ProgressClient, ProgressHubError, Publisher,
                          SubscribeRefused, Unauthorized, token_expiry)


def new_id():
    return "m-" + uuid.uuid4().hex[:12]


def admin_token(ttl=3600):
    return token("ops", "admin", ttl=ttl)


def fast(url, **options):
    """A client with short back-off, as a test needs."""
    return ProgressClient(url, **{"initial_backoff": 0.1, "max_backoff": 1.0, **options})


async def collect(watch, timeout=60):
    async def run():
        return [s async for s in watch]
    return await asyncio.wait_for(run(), timeout)


async def first(watch, timeout=20):
    return await asyncio.wait_for(watch.__anext__(), timeout)


def test_token_expiry_reads_exp_without_verifying():
    assert token_expiry(token("a", ttl=100)) == pytest.approx(time.time() + 100, abs=2)
    assert token_expiry("not-a-token") is None
    assert token_expiry("a.e30.b") is None  # {} has no exp


def test_a_hundred_jobs_share_one_connection(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    jobs = [new_id() for _ in range(100)]
    for job_id in jobs:
        pub.create(job_id)

    async def run():
        async with fast(server.url, token=admin_token()) as client:
            watches = [client.watch(job_id) for job_id in jobs]
            assert [(await first(w))["seq"] for w in watches] == [1] * 100

            def finish():
                for job_id in jobs:
                    pub.publish(job_id=job_id, status="in_progress")
                    pub.publish(job_id=job_id, status="completed", result={"job": job_id})

            tails = asyncio.gather(*(collect(w) for w in watches))
            await asyncio.to_thread(finish)
            return client, await tails

    client, tails = asyncio.run(run())
    for job_id, states in zip(jobs, tails):
        assert [s["seq"] for s in states] == [2, 3], job_id
        assert states[-1]["result"] == {"job": job_id}
    assert client.connects == 1 and client.reconnects == 0


def test_watches_of_several_jobs_survive_a_killed_and_restarted_server(own_server,
                                                                       publisher_token):
    srv = own_server()
    pub = Publisher(srv.url, publisher_token, backoff=0.1, retries=20)
    jobs = [new_id() for _ in range(4)]
    for job_id in jobs:
        pub.create(job_id)

    def worker():
        for job_id in jobs:
            pub.publish(job_id=job_id, status="in_progress", stage="s0")
        for i in range(1, 4):
            for job_id in jobs:
                pub.publish(job_id=job_id, stage=f"s{i}")
        srv.kill()  # SIGKILL: no close frame, no shutdown
        restarter = threading.Timer(1.0, srv.start)
        restarter.start()
        for i in range(4, 7):
            for job_id in jobs:
                pub.publish(job_id=job_id, stage=f"s{i}")  # the first retries until the server is back
        restarter.join()
        for job_id in jobs:
            pub.publish(job_id=job_id, status="completed", result={"stages": 6})

    async def run():
        client = fast(srv.url, token=admin_token())
        watches = [client.watch(job_id) for job_id in jobs]
        runs = asyncio.gather(*(collect(w) for w in watches))
        await until(lambda: all(w.state for w in watches), what="the first states")
        await asyncio.to_thread(worker)
        results = await runs
        await client.close()
        return client, results

    client, results = asyncio.run(run())
    for states in results:
        assert [s["seq"] for s in states] == list(range(1, 10))  # once each, in order
        assert states[-1]["status"] == "completed"
    assert client.reconnects >= 1 and client.connects >= 2


def test_a_watch_outlives_its_first_token_on_the_same_connection(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    calls = []

    async def get_token():  # async: a token service the application awaits
        calls.append(time.monotonic())
        # The first has about 3 s left; later ones live 3 s (plus the server's skew).
        return admin_token(ttl=-27) if len(calls) == 1 else admin_token(ttl=3)

    async def run():
        async with fast(server.url, get_token=get_token) as client:
            watch = client.watch(pub.job_id)
            assert (await first(watch))["seq"] == 1
            connection = client.connection_id
            await asyncio.sleep(5)  # well past the moment the first token would close it
            await asyncio.to_thread(pub.stage, "after-refresh")
            state = await first(watch)
            return client, connection, state

    client, connection, state = asyncio.run(run())
    assert state["seq"] == 2 and state["stage"] == "after-refresh"
    assert client.connects == 1 and client.connection_id == connection
    assert client.disconnects == []
    assert client.refreshes >= 2 and len(calls) >= 3


def test_a_4401_asks_get_token_once_more_and_resumes(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    calls = []

    def get_token():  # sync: the first token runs out and its refresh is refused
        calls.append(time.monotonic())
        return [admin_token(ttl=-27), "not-a-token"][len(calls) - 1] if len(calls) <= 2 \
            else admin_token()

    async def run():
        async with fast(server.url, get_token=get_token) as client:
            watch = client.watch(pub.job_id)
            assert (await first(watch))["seq"] == 1
            await until(lambda: client.connects == 2 and client.connected, what="a reconnect")
            await asyncio.to_thread(pub.start, "after-4401")
            await asyncio.to_thread(pub.complete)
            return client, await collect(watch)

    client, states = asyncio.run(run())
    assert [s["seq"] for s in states] == [2, 3]
    assert client.connects == 2
    assert len(client.disconnects) == 1 and client.disconnects[0].startswith("close 4401")
    assert client.last_error["code"] == "unauthorized"  # the refused refresh
    assert len(calls) == 3


def test_a_second_4401_in_a_row_raises_unauthorized(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    calls = []

    def get_token():
        calls.append(1)
        return admin_token(ttl=-120)  # past the skew: refused at once

    async def run():
        async with fast(server.url, get_token=get_token) as client:
            with pytest.raises(Unauthorized):
                await first(client.watch(pub.job_id))
            return client

    client = asyncio.run(run())
    assert len(calls) == 2 and client.connects == 2


def test_a_fixed_token_refused_raises_unauthorized_without_retrying(server):
    async def run():
        async with fast(server.url, token="not-a-token") as client:
            with pytest.raises(Unauthorized):
                await first(client.watch(new_id()))
            return client

    assert asyncio.run(run()).connects == 1


def test_a_refused_subscribe_ends_that_watch_alone(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())

    async def run():
        async with fast(server.url, token=admin_token()) as client:
            good = client.watch(pub.job_id)
            missing = client.watch(new_id())
            bad = client.watch("bad id!")
            with pytest.raises(JobNotFound):
                await first(missing)
            with pytest.raises(SubscribeRefused) as refused:
                await first(bad)
            assert refused.value.code == "invalid_job_id"
            assert (await first(good))["seq"] == 1
            await asyncio.to_thread(pub.fail, "boom")
            return client, await collect(good)

    client, states = asyncio.run(run())
    assert [s["status"] for s in states] == ["failed"]
    assert client.connects == 1


def test_a_job_deleted_while_watched_ends_that_watch_with_job_not_found(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    doomed = pub.create(new_id())["id"]
    kept = Publisher(server.url, publisher_token)
    kept.create(new_id())

    def delete(job_id):
        request = urllib.request.Request(f"{server.url}/api/jobs/{job_id}", method="DELETE",
                                         headers={"Authorization": f"Bearer {publisher_token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204

    async def run():
        async with fast(server.url, token=admin_token()) as client:
            gone = client.watch(doomed)
            other = client.watch(kept.job_id)
            assert (await first(gone))["seq"] == 1
            assert (await first(other))["seq"] == 1
            await asyncio.to_thread(delete, doomed)
            with pytest.raises(JobNotFound):
                await first(gone)
            await asyncio.to_thread(kept.start)
            await asyncio.to_thread(kept.complete, {"ok": True})
            return client, await collect(other)

    client, states = asyncio.run(run())
    assert [s["status"] for s in states] == ["in_progress", "completed"]
    assert client.connects == 1


def test_since_and_a_second_watch_of_the_same_job(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    for i in range(3):
        pub.start(f"s{i}")

    async def run():
        async with fast(server.url, token=admin_token()) as client:
            one = client.watch(pub.job_id, since=2)
            assert (await first(one))["seq"] == 3
            assert (await first(one))["seq"] == 4
            two = client.watch(pub.job_id)  # starts with the latest state
            assert (await first(two))["seq"] == 4
            await asyncio.to_thread(pub.complete)
            return await collect(one), await collect(two)

    one, two = asyncio.run(run())
    assert [s["seq"] for s in one] == [5]
    assert [s["seq"] for s in two] == [5]


def test_a_silent_connection_is_replaced(own_server, publisher_token):
    import signal

    srv = own_server("--heartbeat-interval", "1s")
    pub = Publisher(srv.url, publisher_token)
    pub.create(new_id())

    async def run():
        async with fast(srv.url, token=admin_token(), open_timeout=2) as client:
            watch = client.watch(pub.job_id)
            assert (await first(watch))["seq"] == 1
            srv.proc.send_signal(signal.SIGSTOP)  # the socket stays open; nothing arrives
            await asyncio.sleep(4.0)
            srv.proc.send_signal(signal.SIGCONT)
            await asyncio.to_thread(pub.start, "s1")
            await asyncio.to_thread(pub.complete)
            return client, await collect(watch)

    client, states = asyncio.run(run())
    assert [s["seq"] for s in states] == [2, 3]
    assert "heartbeat timeout" in client.disconnects
    assert client.reconnects >= 1


def test_close_ends_every_watch(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())

    async def run():
        client = fast(server.url, token=admin_token())
        watch = client.watch(pub.job_id)
        assert (await first(watch))["seq"] == 1
        rest = asyncio.create_task(collect(watch))
        await client.close()
        assert await rest == []
        with pytest.raises(ProgressHubError):
            client.watch(pub.job_id)

    asyncio.run(run())


def test_a_1001_with_a_retry_hint_waits_at_least_the_hint_before_reconnecting():
    """A scripted server that closes every connection after auth as a draining node does."""
    import websockets

    connected_at = []

    async def handler(ws, path=None):
        connected_at.append(time.monotonic())
        await ws.send('{"type":"connection_established","connection_id":"c","heartbeat_interval":25}')
        await ws.recv()  # auth
        await ws.send('{"type":"authenticated","sub":"a","role":"admin","id":"auth"}')
        await ws.close(1001, "server shutting down; retry_after_ms=700")

    async def run():
        async with websockets.serve(handler, "127.0.0.1", 0) as stub:
            port = stub.sockets[0].getsockname()[1]
            client = ProgressClient(f"http://127.0.0.1:{port}", token="t", initial_backoff=0.02,
                                    max_backoff=0.1)  # back-off alone: under 0.1 s
            async with client:
                client.watch("job-x")
                await until(lambda: len(connected_at) >= 3, 10, "two reconnects")
            return client

    client = asyncio.run(run())
    gaps = [b - a for a, b in zip(connected_at, connected_at[1:])]
    assert all(gap >= 0.7 for gap in gaps), gaps
    assert all(gap < 5 for gap in gaps), gaps
    assert client.disconnects[:2] == ["close 1001", "close 1001"]


def test_on_broadcast_hears_of_watched_jobs_alone_and_exclude_leaves_a_connection_out(
        server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    told, other = new_id(), new_id()
    pub.create(told)
    pub.create(other)
    pub.publish(job_id=told, status="in_progress", stage="download")
    heard, heard_by_other = [], []

    async def on_broadcast(message):  # a coroutine is awaited
        await asyncio.sleep(0)
        heard.append(message)

    def failing(message):  # a callback that raises must not end the watch
        heard_by_other.append(message)
        raise RuntimeError("the application's bug")

    async def run():
        async with fast(server.url, token=admin_token(), on_broadcast=on_broadcast) as both, \
                fast(server.url, token=admin_token(), on_broadcast=failing) as other_only:
            told_watch, other_watch = both.watch(told), both.watch(other)
            other_only_watch = other_only.watch(other)
            assert (await first(told_watch))["seq"] == 2
            await first(other_watch)
            await first(other_only_watch)

            def send():
                return [
                    broadcast(server.url, told, {"data": {"notice": "maintenance at 10:00"}}),
                    broadcast(server.url, other, {"data": 1, "exclude": both.connection_id}),
                    broadcast(server.url, other, {"data": 2}),
                ]

            assert await asyncio.to_thread(send) == [{"delivered": 1}] * 2 + [{"delivered": 2}]
            await until(lambda: len(heard) == 2 and len(heard_by_other) == 2, what="broadcasts")
            tails = asyncio.gather(collect(told_watch), collect(other_watch),
                                   collect(other_only_watch))
            await asyncio.to_thread(pub.publish, job_id=told, status="completed")
            await asyncio.to_thread(pub.publish, job_id=other, status="in_progress")
            await asyncio.to_thread(pub.publish, job_id=other, status="completed")
            return await tails

    told_tail, other_tail, other_only_tail = asyncio.run(run())
    assert [(m["job_id"], m["data"]) for m in heard] == [
        (told, {"notice": "maintenance at 10:00"}), (other, 2)]
    assert heard[0]["status"] == "in_progress" and heard[0]["seq"] == 2
    assert heard[0]["timestamp"].endswith("Z") and "type" not in heard[0]
    assert [(m["job_id"], m["data"]) for m in heard_by_other] == [(other, 1), (other, 2)]
    # a broadcast is not a state: each watch yields its states alone, to the terminal one
    assert [s["seq"] for s in told_tail] == [3]
    assert [s["status"] for s in other_tail] == [s["status"] for s in other_only_tail] \
        == ["in_progress", "completed"]
