# Seed client, verbatim from seeds/002_7522a67abc656806.txt ("Python Client (with websockets
# library)"), apart from the URI: it comes from the command line (lines marked "# harness").
# Usage: /usr/bin/python3 seed002_monitor_job.py ws://HOST:PORT/progress/ws/JOB_ID?token=JWT
import sys  # harness
SEED_URI = sys.argv[1]  # harness

import asyncio
import json
import websockets

async def monitor_job(job_id: str):
    uri = SEED_URI  # harness; seed: f"ws://localhost:8000/progress/ws/{job_id}"
    
    async with websockets.connect(uri) as websocket:
        async for message in websocket:
            data = json.loads(message)
            
            if data.get('job_id'):
                print(f"Status: {data['status']}")
                if data.get('progress') is not None:
                    print(f"Progress: {data['progress']:.1f}%")
                if data.get('message'):
                    print(f"Message: {data['message']}")
                print("-" * 30)

# Usage
asyncio.run(monitor_job('job-123'))
