"""The Python examples of clients/python/README.md and docs/clients.md, run as written.

Each runnable block follows an `<!-- example: NAME -->` line; the examples read the server's URL
and a token from PROGRESS_HUB_URL and PROGRESS_HUB_TOKEN. A named block that went missing fails
the test, so an example cannot drop out of the docs unnoticed.
"""

import os
import re
import subprocess
import sys
import time

import pytest

from conftest import REPO, SECRET, Server, token
from progress_hub import Publisher

README = REPO / "clients/python/README.md"
CLIENTS = REPO / "docs/clients.md"
BLOCK = re.compile(r"<!-- example: ([\w-]+) -->\n```(\w+)\n(.*?)\n```", re.S)


def examples(path, language="python"):
    return {name: code for name, lang, code in BLOCK.findall(path.read_text())
            if lang == language}


def example(path, name):
    found = examples(path)
    assert name in found, f"{path.name} has no python block marked <!-- example: {name} -->"
    return found[name]


def test_every_marked_python_block_is_run_here():
    assert set(examples(README)) == {"python-publisher", "python-async-publisher",
                                     "python-client", "python-watch", "python-make-token"}
    assert set(examples(CLIENTS)) == {"clients-python"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A server of this module's own: the examples use fixed job ids."""
    srv = Server(tmp_path_factory.mktemp("examples") / "data").start()
    yield srv
    srv.stop()


def start(hub, path, name, tmp_path, **env):
    script = tmp_path / f"{name}.py"
    script.write_text(example(path, name))
    env = dict(os.environ, PROGRESS_HUB_URL=hub.url,
               PROGRESS_HUB_TOKEN=token("worker", "publisher"), **env)
    return subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(hub, path, name, tmp_path, timeout=60, **env):
    proc = start(hub, path, name, tmp_path, **env)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def admin(hub, job_id=None):
    return Publisher(hub.url, token("ops", "admin"), job_id)


# The order matters: the worker example creates job-42, which the watch examples follow.

def test_the_worker_example_publishes_job_42_to_its_end(hub, tmp_path):
    run(hub, README, "python-publisher", tmp_path)
    job = admin(hub, "job-42").get()
    assert job["status"] == "completed" and job["result"] == {"captions": "s3://bucket/job-42.vtt"}
    assert "transcribe" in [e["stage"] for e in admin(hub, "job-42").history()]


def test_the_async_worker_example(hub, tmp_path):
    job_id, status = run(hub, README, "python-async-publisher", tmp_path).split()
    assert status == "completed" and admin(hub, job_id).get()["result"] == {"ok": True}


def test_the_single_job_watch_example_ends_with_the_terminal_state(hub, tmp_path):
    lines = run(hub, README, "python-watch", tmp_path).splitlines()
    assert lines[-1].split()[1] == "completed"


def test_the_progress_client_example_follows_two_jobs(hub, tmp_path):
    pub = admin(hub)
    pub.create("job-43")
    proc = start(hub, README, "python-client", tmp_path)
    try:
        time.sleep(0.5)  # whether it subscribes before or after these, it ends the same way
        pub.start(stage="render")
        pub.complete({"frames": 24})
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert any(line.startswith("job-42 ") and " completed " in line for line in lines), out
    assert lines and [line for line in lines if line.startswith("job-43 ")][-1].split()[2] \
        == "completed", out


def test_the_make_token_example_mints_a_token_the_server_accepts(hub, tmp_path):
    minted = run(hub, README, "python-make-token", tmp_path,
                 PROGRESS_HUB_JWT_SECRET=SECRET).strip()
    assert Publisher(hub.url, minted).create()["status"] == "pending"


def test_the_python_example_of_docs_clients_md(hub, tmp_path):
    lines = run(hub, CLIENTS, "clients-python", tmp_path).splitlines()
    assert lines[-1].split()[:2] == [str(admin(hub, "job-42").get()["seq"]), "completed"]
