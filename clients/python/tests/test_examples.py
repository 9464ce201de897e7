"""The seed worker loops in examples/, run as workers would run them."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from conftest import token
from progress_hub import Publisher

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(server, *args, timeout=60):
    env = dict(os.environ, PROGRESS_HUB_URL=server.url,
               PROGRESS_HUB_TOKEN=token("worker", "publisher"))
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_seed001_analysis_worker_completes(server):
    job_id = "a-" + uuid.uuid4().hex[:8]
    final, _ = run_example(server, EXAMPLES / "seed001_analysis_worker.py",
                           "https://example.com/v.mp4", "--job-id", job_id,
                           "--step-seconds", "0.01")
    assert final["status"] == "completed" and final["result"]["url"] == "https://example.com/v.mp4"
    history = Publisher(server.url, token("r", "admin"), job_id).history()
    stages = [e["stage"] for e in history]
    for stage in ("setup", "download", "transcribe", "analyze"):
        assert stage in stages
    assert final["metadata"]["analyze_result"] == {"steps": 3}


def test_seed001_analysis_worker_reports_an_engine_failure(server):
    job_id = "a-" + uuid.uuid4().hex[:8]
    final, _ = run_example(server, EXAMPLES / "seed001_analysis_worker.py",
                           "https://example.com/v.mp4", "--job-id", job_id,
                           "--step-seconds", "0.01", "--fail-at", "transcribe")
    assert final["status"] == "failed" and final["error"] == "transcribe: transcribe failed at step 1"
    assert final["metadata"]["failed_stage"] == "transcribe"


def test_seed003_comfyui_monitor_completes_and_fails(server):
    job_id = "c-" + uuid.uuid4().hex[:8]
    final, _ = run_example(server, EXAMPLES / "seed003_comfyui_monitor.py", job_id,
                           "--poll-seconds", "0.01")
    assert final["status"] == "completed"
    assert final["result"] == {"output_path": "/outputs/prompt-1.png"}
    assert final["metadata"]["prompt_id"] == "prompt-1"
    job_id = "c-" + uuid.uuid4().hex[:8]
    final, _ = run_example(server, EXAMPLES / "seed003_comfyui_monitor.py", job_id,
                           "--poll-seconds", "0.01", "--fail")
    assert final["status"] == "failed" and final["error"] == "CUDA out of memory"


def test_seed003_comfyui_monitor_stops_when_the_job_is_cancelled(server):
    job_id = "c-" + uuid.uuid4().hex[:8]
    admin = Publisher(server.url, token("ops", "admin"), job_id)

    def cancel_when_running():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if admin.get().get("status") == "in_progress":
                    admin.cancel()
                    return
            except Exception:
                pass
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_when_running)
    canceller.start()
    final, stderr = run_example(server, EXAMPLES / "seed003_comfyui_monitor.py", job_id,
                                "--poll-seconds", "0.5")
    canceller.join()
    assert final["status"] == "cancelled"
    assert "cancelled" in stderr
