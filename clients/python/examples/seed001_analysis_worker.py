#!/usr/bin/env python3
"""A video-analysis worker publishing its progress to progress-hub (asyncio).

The worker loop of the FastAPI WebSocket task (seed 001): `handle_analysis_request` runs the
engine with a `ProgressTracker` (update_progress / stage_completed / error_occurred) and reports
task completion or failure. There the tracker broadcast to WebSockets itself; here it publishes
to progress-hub, which stores, replays and fans out, and a cancelled job stops the worker.

    PROGRESS_HUB_URL=http://127.0.0.1:8080 PROGRESS_HUB_TOKEN=... \\
        python3 seed001_analysis_worker.py https://example.com/video.mp4 [--job-id ID]
"""

import argparse
import asyncio
import json
import os
import sys

from progress_hub import AsyncPublisher, JobCancelled


class ProgressTracker:
    """The seed's tracker, over progress-hub. `progress` is 0.0-1.0 as in the seed."""

    def __init__(self, publisher: AsyncPublisher):
        self.publisher = publisher
        self.stage = None  # the stage running now, for error reports

    async def update_progress(self, stage: str, progress: float, message: str = ""):
        self.stage = stage
        await self.publisher.progress(round(progress * 100, 2), stage=stage, message=message or None)

    async def stage_completed(self, stage: str, result: dict = None):
        await self.publisher.stage(stage, f"{stage} done",
                                   metadata={f"{stage}_result": result} if result else None)

    async def error_occurred(self, stage: str, error: str):
        await self.publisher.fail(f"{stage}: {error}", metadata={"failed_stage": stage})


class FakeEngine:
    """Stands in for MindTubeEngine: three stages of a few steps each."""

    STAGES = [("download", 3), ("transcribe", 4), ("analyze", 3)]

    def __init__(self, step_seconds=0.05, fail_at=None):
        self.step_seconds = step_seconds
        self.fail_at = fail_at

    async def analyze_video_with_progress(self, url, options, progress_tracker):
        total = sum(steps for _, steps in self.STAGES)
        done = 0
        for stage, steps in self.STAGES:
            await progress_tracker.update_progress(stage, done / total, f"{stage} started")
            for step in range(1, steps + 1):
                if stage == self.fail_at:
                    raise RuntimeError(f"{stage} failed at step {step}")
                await asyncio.sleep(self.step_seconds)
                done += 1
                await progress_tracker.update_progress(stage, done / total,
                                                       f"{stage} {step}/{steps}")
            await progress_tracker.stage_completed(stage, {"steps": steps})
        return {"url": url, "summary": "a video about progress bars", "options": options}


async def handle_analysis_request(publisher, url, options, engine):
    """Creates the job, runs the engine, completes or fails the job; returns its final state."""
    await publisher.create(type="video_analysis", metadata={"url": url})
    await publisher.start(stage="setup", message="analysis started")
    tracker = ProgressTracker(publisher)
    try:
        result = await engine.analyze_video_with_progress(url, options, tracker)
        return await publisher.complete(result, "analysis complete")
    except JobCancelled:
        print("job cancelled: stopping", file=sys.stderr)
        return await publisher.get()
    except Exception as e:  # the seed reports every engine error as task_failed
        await tracker.error_occurred(tracker.stage or "setup", str(e))
        return await publisher.get()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--job-id")
    parser.add_argument("--step-seconds", type=float, default=0.05)
    parser.add_argument("--fail-at", help="make the fake engine fail in this stage")
    args = parser.parse_args()
    publisher = AsyncPublisher(os.environ.get("PROGRESS_HUB_URL", "http://127.0.0.1:8080"),
                               os.environ["PROGRESS_HUB_TOKEN"], args.job_id)
    engine = FakeEngine(args.step_seconds, args.fail_at)
    final = await handle_analysis_request(publisher, args.url, {"lang": "en"}, engine)
    print(json.dumps(final))


if __name__ == "__main__":
    asyncio.run(main())
