"""Real progress-hub servers for the tests.

The server command is $PROGRESS_HUB (the repository's `progress-hub` script, or a jar run with
$JAVA_HOME's java), else the checkout's `progress-hub` script (which finds a JDK and builds the
jar when it is stale).
"""

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from progress_hub import make_token

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SECRET = base64.b64encode(os.urandom(32)).decode()


def server_command():
    path = os.environ.get("PROGRESS_HUB") or str(REPO / "progress-hub")
    if path.endswith(".jar"):
        java_home = os.environ.get("JAVA_HOME")
        java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
        return [java, "-jar", path]
    return [path]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One progress-hub process; restart() keeps the port and the data directory."""

    def __init__(self, data_dir, *extra_args):
        self.port = free_port()
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server.log"

    def start(self, timeout=60.0):
        env = dict(os.environ, PROGRESS_HUB_JWT_SECRET=SECRET)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            server_command() + ["serve", "--port", str(self.port), "--data-dir",
                                str(self.data_dir)] + self.extra_args,
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server not healthy after {timeout}s:\n{self.log()}")

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: no shutdown, no close frames."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def restart(self):
        self.kill()
        return self.start()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def token(sub="worker", role="publisher", ttl=3600, **claims):
    return make_token(SECRET, sub, role, ttl, **claims)


def broadcast(url, job_id, body):
    """`POST /api/jobs/{job_id}/broadcast` as an admin; returns the answer (`{"delivered": n}`)."""
    request = urllib.request.Request(
        f"{url}/api/jobs/{job_id}/broadcast", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + token("ops", "admin"),
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


async def until(check, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("shared") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture
def own_server(tmp_path):
    """A server of the test's own, for tests that kill or pause it."""
    servers = []

    def make(*extra_args):
        srv = Server(tmp_path / f"data{len(servers)}", *extra_args).start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        if srv.proc is not None and srv.proc.poll() is None:
            if srv.proc.returncode is None:
                try:
                    srv.proc.send_signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
        srv.stop()


@pytest.fixture
def publisher_token():
    return token("worker", "publisher")


@pytest.fixture
def admin_token():
    return token("admin", "admin")
