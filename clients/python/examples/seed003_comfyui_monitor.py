#!/usr/bin/env python3
"""Relays a ComfyUI generation's progress to progress-hub (blocking form).

The worker loop of the job-progress service (seed 003): `monitor_comfyui_job` polls ComfyUI's
status every 2 s, sends each one as a progress update (status, progress, estimated_remaining,
output_path) and stops when the generation completed or failed. Here the updates go to
progress-hub, and the loop also stops when someone cancels the job.

    PROGRESS_HUB_URL=http://127.0.0.1:8080 PROGRESS_HUB_TOKEN=... \\
        python3 seed003_comfyui_monitor.py JOB_ID [--poll-seconds 2]
"""

import argparse
import json
import os
import sys
import time

from progress_hub import JobCancelled, Publisher


class FakeComfyUI:
    """Stands in for get_comfyui_job_status: a prompt that advances 20 points per poll."""

    def __init__(self, fail=False):
        self.polls = 0
        self.fail = fail

    def get_comfyui_job_status(self, prompt_id):
        self.polls += 1
        progress = min(100, self.polls * 20)
        if self.fail and progress >= 60:
            return {"status": "failed", "progress": progress, "error": "CUDA out of memory"}
        if progress >= 100:
            return {"status": "completed", "progress": 100, "estimated_remaining": 0,
                    "output_path": f"/outputs/{prompt_id}.png"}
        return {"status": "processing", "progress": progress,
                "estimated_remaining": (100 - progress) // 10}


def monitor_comfyui_job(publisher, comfyui, job_id, prompt_id, poll_seconds=2.0):
    """Relays ComfyUI's status until the generation ends or the job is cancelled."""
    publisher.job_id = job_id
    while True:
        if publisher.cancelled():
            print(f"job {job_id} cancelled: stop polling prompt {prompt_id}", file=sys.stderr)
            return publisher.state
        status = comfyui.get_comfyui_job_status(prompt_id)
        try:
            if status:
                state = status.get("status", "processing")
                if state == "completed":
                    return publisher.complete({"output_path": status.get("output_path")},
                                              "generation complete")
                if state == "failed":
                    return publisher.fail(status.get("error", "generation failed"))
                publisher.progress(status.get("progress", 0), stage="generation",
                                   message="Generation in progress",
                                   eta_seconds=status.get("estimated_remaining"),
                                   metadata={"prompt_id": prompt_id})
        except JobCancelled:
            print(f"job {job_id} cancelled: stop polling prompt {prompt_id}", file=sys.stderr)
            return publisher.get()
        time.sleep(poll_seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job_id")
    parser.add_argument("--prompt-id", default="prompt-1")
    parser.add_argument("--poll-seconds", type=float, default=2.0)
    parser.add_argument("--fail", action="store_true", help="make the fake generation fail")
    args = parser.parse_args()
    publisher = Publisher(os.environ.get("PROGRESS_HUB_URL", "http://127.0.0.1:8080"),
                          os.environ["PROGRESS_HUB_TOKEN"])
    publisher.create(args.job_id, type="comfyui", status="queued")
    final = monitor_comfyui_job(publisher, FakeComfyUI(args.fail), args.job_id, args.prompt_id,
                                args.poll_seconds)
    print(json.dumps(final))


if __name__ == "__main__":
    main()
