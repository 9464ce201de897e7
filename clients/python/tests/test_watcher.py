import asyncio
import re
import signal
import threading
import time
import uuid

import pytest

from conftest import REPO, broadcast, token, until
from progress_hub import (JobNotFound, Publisher, Unauthorized, WatchClosed, should_reconnect,
                          watch)


def new_id():
    return "w-" + uuid.uuid4().hex[:12]


async def collect(watcher, timeout=60):
    async def run():
        return [s async for s in watcher]
    return await asyncio.wait_for(run(), timeout)


def test_the_close_code_table_matches_the_protocol_module():
    source = (REPO / "protocol/src/main/java/io/progresshub/protocol/CloseCode.java").read_text()
    table = {int(c): r == "true" for c, r in re.findall(r"\((\d{4}), (true|false),", source)}
    assert len(table) == 14
    for code, reconnect in table.items():
        assert should_reconnect(code) == reconnect, code
    assert should_reconnect(1006) and not should_reconnect(4999)


def test_a_watcher_sees_every_change_and_ends_after_the_terminal_state(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())

    async def run():
        watcher = watch(server.url, pub.job_id, token=token("viewer", "subscriber",
                                                               jobs=[pub.job_id]))
        task = asyncio.create_task(collect(watcher))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(pub.start)
        for i in range(5):
            await asyncio.to_thread(pub.stage, f"s{i}")
        await asyncio.to_thread(pub.complete, {"ok": 1})
        return await task

    states = asyncio.run(run())
    assert [s["seq"] for s in states] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert states[-1]["status"] == "completed" and states[-1]["result"] == {"ok": 1}


def test_since_resumes_after_the_given_seq(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    for i in range(4):
        pub.stage(f"s{i}")
    pub.fail("boom")
    states = asyncio.run(collect(watch(server.url, pub.job_id, token=publisher_token, since=3)))
    assert [s["seq"] for s in states] == [4, 5, 6]
    assert states[-1]["status"] == "failed"


def test_a_cancelled_job_ends_the_watch(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    pub.cancel()
    states = asyncio.run(collect(watch(server.url, pub.job_id, token=publisher_token)))
    assert [s["status"] for s in states] == ["cancelled"]


def test_terminal_close_codes_raise(server, publisher_token):
    async def first(watcher):
        async for state in watcher:
            return state

    with pytest.raises(JobNotFound):
        asyncio.run(first(watch(server.url, new_id(), token=publisher_token)))
    with pytest.raises(Unauthorized):
        asyncio.run(first(watch(server.url, new_id(), token="not-a-token")))
    with pytest.raises(Unauthorized):
        asyncio.run(first(watch(server.url, new_id(), token=token("x", ttl=-120))))
    bad = watch(server.url, "bad id!", token=publisher_token)
    with pytest.raises(WatchClosed) as closed:
        asyncio.run(first(bad))
    assert closed.value.code == 4400 and bad.reconnects == 0

    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())

    async def deleted():
        watcher = watch(server.url, pub.job_id, token=publisher_token)
        async for state in watcher:
            await asyncio.to_thread(pub.session.request, "DELETE", f"/api/jobs/{pub.job_id}",
                                    publisher_token)
        return state

    with pytest.raises(JobNotFound):
        asyncio.run(deleted())


def test_a_watcher_outlives_a_killed_and_restarted_server(own_server, publisher_token):
    srv = own_server()
    # enough retries to outlast a restart on a loaded machine
    pub = Publisher(srv.url, publisher_token, backoff=0.1, retries=20)
    pub.create(new_id())
    pub.start(stage="s0")

    def worker():
        for i in range(1, 6):
            pub.stage(f"s{i}")
            time.sleep(0.05)
        srv.kill()  # SIGKILL: no close frame, no shutdown
        restarter = threading.Timer(1.0, srv.start)
        restarter.start()
        for i in range(6, 11):
            pub.stage(f"s{i}")  # the first retries until the server is back
        restarter.join()
        pub.complete({"stages": 10})

    async def run():
        watcher = watch(srv.url, pub.job_id, token=publisher_token, initial_backoff=0.1,
                        max_backoff=1.0)
        task = asyncio.create_task(collect(watcher))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(worker)
        return watcher, await task

    watcher, states = asyncio.run(run())
    seqs = [s["seq"] for s in states]
    assert seqs == list(range(2, 14)), seqs  # every stage change once, in order
    assert states[-1]["status"] == "completed" and states[-1]["result"] == {"stages": 10}
    assert watcher.reconnects >= 1


def test_a_silent_connection_is_detected_and_replaced(own_server, publisher_token):
    srv = own_server("--heartbeat-interval", "1s")
    pub = Publisher(srv.url, publisher_token)
    pub.create(new_id())
    pub.start(stage="s0")

    async def run():
        watcher = watch(srv.url, pub.job_id, token=publisher_token, initial_backoff=0.1,
                        max_backoff=0.5, open_timeout=2)
        task = asyncio.create_task(collect(watcher))
        await asyncio.sleep(1.0)
        srv.proc.send_signal(signal.SIGSTOP)  # the socket stays open; nothing arrives
        await asyncio.sleep(4.0)
        srv.proc.send_signal(signal.SIGCONT)
        await asyncio.to_thread(pub.stage, "s1")
        await asyncio.to_thread(pub.complete)
        return watcher, await task

    watcher, states = asyncio.run(run())
    assert [s["seq"] for s in states] == [2, 3, 4]
    assert "heartbeat timeout" in watcher.disconnects
    assert watcher.reconnects >= 1


def test_a_server_going_away_is_a_reconnect(own_server, publisher_token):
    srv = own_server()
    pub = Publisher(srv.url, publisher_token, backoff=0.1, retries=20)
    pub.create(new_id())
    pub.start()

    async def run():
        watcher = watch(srv.url, pub.job_id, token=publisher_token, initial_backoff=0.1,
                        max_backoff=1.0)
        task = asyncio.create_task(collect(watcher))
        await asyncio.sleep(0.5)
        await asyncio.to_thread(srv.stop)  # graceful: close 1001
        await asyncio.to_thread(srv.start)
        await asyncio.to_thread(pub.complete)
        return watcher, await task

    watcher, states = asyncio.run(run())
    assert [s["seq"] for s in states] == [2, 3]
    assert watcher.reconnects >= 1


def test_on_broadcast_gets_the_jobs_broadcasts_and_the_iteration_yields_states_alone(
        server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    told, other = new_id(), new_id()
    pub.create(told)
    pub.create(other)
    pub.publish(job_id=told, status="in_progress", stage="download")
    heard = {"excluded": [], "kept": [], "other": []}

    async def run():
        watchers = {
            "excluded": watch(server.url, told, token=publisher_token,
                              on_broadcast=heard["excluded"].append),
            "kept": watch(server.url, told, token=publisher_token,
                          on_broadcast=heard["kept"].append),
            "other": watch(server.url, other, token=publisher_token,
                           on_broadcast=heard["other"].append),
        }
        tasks = {name: asyncio.create_task(collect(w)) for name, w in watchers.items()}
        await until(lambda: all(w.state for w in watchers.values()), what="the first states")

        def send():
            return [
                broadcast(server.url, told,
                          {"data": "first", "exclude": watchers["excluded"].connection_id}),
                broadcast(server.url, told, {"data": {"notice": "second"}}),
            ]

        assert await asyncio.to_thread(send) == [{"delivered": 1}, {"delivered": 2}]
        await until(lambda: len(heard["kept"]) == 2 and heard["excluded"], what="broadcasts")
        await asyncio.to_thread(pub.publish, job_id=told, status="completed")
        await asyncio.to_thread(pub.publish, job_id=other, status="cancelled")
        return {name: await task for name, task in tasks.items()}

    states = asyncio.run(run())
    assert [m["data"] for m in heard["kept"]] == ["first", {"notice": "second"}]
    assert [m["data"] for m in heard["excluded"]] == [{"notice": "second"}]
    assert heard["other"] == []
    message = heard["kept"][0]
    assert (message["job_id"], message["status"], message["seq"]) == (told, "in_progress", 2)
    assert message["timestamp"].endswith("Z") and "type" not in message
    # a broadcast is not a state: each watch yields its states alone, to the terminal one
    assert [s["seq"] for s in states["kept"]] == [s["seq"] for s in states["excluded"]] == [2, 3]
    assert [s["status"] for s in states["other"]] == ["pending", "cancelled"]
