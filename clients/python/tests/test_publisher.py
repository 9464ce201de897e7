import asyncio
import time
import uuid

import pytest

from conftest import token
from helpers import BusyStub, LossyProxy
from progress_hub import (AsyncPublisher, JobCancelled, JobFinished, JobNotFound, Publisher,
                          RetriesExhausted, Unauthorized)


def new_id():
    return "t-" + uuid.uuid4().hex[:12]


def test_a_worker_publishes_a_whole_job(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    job = pub.create(type="demo", metadata={"lang": "en"})
    assert job["status"] == "pending" and job["seq"] == 1 and pub.job_id == job["id"]
    assert pub.start(stage="setup")["status"] == "in_progress"
    assert pub.progress(40, stage="transcribe", message="chunk 4/10")["progress"] == 40
    assert pub.stage("analyze")["stage"] == "analyze"
    assert pub.message("almost there")["message"] == "almost there"
    done = pub.complete({"captions": "s3://x"})
    assert done["status"] == "completed" and done["result"] == {"captions": "s3://x"}
    assert done["seq"] == 6
    assert [e["seq"] for e in pub.history()] == [1, 2, 3, 4, 5, 6]
    with pytest.raises(JobFinished):
        pub.progress(50)
    assert not pub.cancelled()


def test_a_failure_is_published_with_its_error(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    pub.progress(10)
    failed = pub.fail(RuntimeError("disk full"))
    assert failed["status"] == "failed" and failed["error"] == "disk full"


def test_the_same_event_id_is_applied_once(server, publisher_token):
    pub = Publisher(server.url, publisher_token)
    pub.create(new_id())
    first = pub.progress(30, event_id="chunk-3")
    again = pub.progress(30, event_id="chunk-3")
    assert again["seq"] == first["seq"]
    other = Publisher(server.url, publisher_token, pub.job_id)  # a restarted worker
    assert other.progress(30, event_id="chunk-3")["seq"] == first["seq"]
    assert [e["seq"] for e in pub.history(since=1)] == [first["seq"]]


def test_a_retry_after_a_lost_answer_does_not_duplicate_the_event(server, publisher_token):
    proxy = LossyProxy(server.port)
    try:
        pub = Publisher(proxy.url, publisher_token, backoff=0.05)
        pub.create(new_id())
        pub.start()
        proxy.drop_answers = 1
        state = pub.progress(50, stage="encode")
        assert proxy.dropped == 1
        assert state["seq"] == 3
        proxy.drop_answers = 1  # the complete reaches the server, its answer does not
        assert pub.complete({"ok": True})["seq"] == 4
        history = Publisher(server.url, publisher_token, pub.job_id).history()
        assert [e["seq"] for e in history] == [1, 2, 3, 4]
        # a create whose answer was lost is not refused as job_exists on its retry
        proxy.drop_answers = 1
        job_id = new_id()
        assert pub.create(job_id)["id"] == job_id and pub.job_id == job_id
    finally:
        proxy.close()


@pytest.mark.parametrize("status", [503, 429])
def test_busy_answers_are_retried_after_retry_after_with_the_same_event_id(status):
    stub = BusyStub(busy=2, status=status, retry_after="1")
    try:
        pub = Publisher(stub.url, "t", "j", backoff=0.01)
        assert pub.progress(20)["seq"] == 2
        (t0, b0), (t1, b1), (t2, b2) = stub.requests
        assert b0["event_id"] == b1["event_id"] == b2["event_id"]
        assert t1 - t0 >= 0.95 and t2 - t1 >= 0.95
        pub.progress(30)
        assert stub.requests[3][1]["event_id"] != b0["event_id"]
    finally:
        stub.close()


def test_connection_errors_are_retried_then_given_up():
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pub = Publisher(f"http://127.0.0.1:{port}", "t", "j", retries=3, backoff=0.01)
    started = time.monotonic()
    with pytest.raises(RetriesExhausted):
        pub.progress(1)
    assert time.monotonic() - started < 5


def test_a_cancel_reaches_the_worker(server, publisher_token, admin_token):
    worker = Publisher(server.url, publisher_token)
    worker.create(new_id())
    worker.progress(10)
    assert not worker.cancelled()
    Publisher(server.url, admin_token, worker.job_id).cancel()
    assert worker.cancelled()
    with pytest.raises(JobCancelled):
        worker.progress(20)
    other = Publisher(server.url, publisher_token, worker.job_id)
    with pytest.raises(JobCancelled):
        other.complete()
    assert other.cancelled(refresh=False)


def test_errors_are_typed(server, publisher_token):
    with pytest.raises(JobNotFound):
        Publisher(server.url, publisher_token, new_id()).progress(1)
    with pytest.raises(Unauthorized):
        Publisher(server.url, "not-a-token", new_id()).create()
    with pytest.raises(Unauthorized):
        Publisher(server.url, token("w", "publisher", ttl=-120)).create()


def test_the_async_publisher(server, publisher_token, admin_token):
    async def run():
        pub = AsyncPublisher(server.url, publisher_token)
        await pub.create(type="async")
        await pub.start(stage="a")
        states = await asyncio.gather(*(pub.progress(p, event_id=f"p{p}") for p in (10, 20)))
        assert {s["progress"] for s in states} <= {10, 20}
        assert (await pub.progress(10, event_id="p10"))["seq"] in {s["seq"] for s in states}
        done = await pub.complete({"n": 1})
        assert done["status"] == "completed" and done["seq"] == 5

        worker = AsyncPublisher(server.url, publisher_token)
        await worker.create()
        assert not await worker.cancelled()
        await AsyncPublisher(server.url, admin_token, worker.job_id).cancel()
        with pytest.raises(JobCancelled):
            await worker.progress(5)
        assert await worker.cancelled(refresh=False)

    asyncio.run(run())
