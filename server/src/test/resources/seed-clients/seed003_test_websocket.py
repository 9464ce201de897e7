# Seed client, verbatim from seeds/003_2d5db580d8030ce4.txt ("Python Testing Script"), apart from
# the URI: it comes from the command line (lines marked "# harness").
# Usage: /usr/bin/python3 seed003_test_websocket.py ws://HOST:PORT/ws/JOB_ID?token=JWT
import sys  # harness
SEED_URI = sys.argv[1]  # harness

import asyncio
import websockets
import json

async def test_websocket():
    uri = SEED_URI  # harness; seed: "ws://192.168.50.135:8328/ws/test-job-1"

    async with websockets.connect(uri) as websocket:
        print(f"Connected to {uri}")

        # Listen for messages
        async for message in websocket:
            data = json.loads(message)
            print(f"Received: {data['type']} - {data}")

            if data.get('status') in ['completed', 'failed']:
                break

# Run the test
asyncio.run(test_websocket())
