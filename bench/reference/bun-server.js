// Reference server for the progress-hub BENCHMARK ONLY: not a product, not secure, no persistence.
// A minimal subset of progress-hub's wire protocol v1 (docs/protocol.md) on Bun's built-in HTTP and
// WebSocket server, using Bun's native pub/sub (one topic per job; each event is serialized once
// and server.publish() fans the same frame out to every subscriber).
//
// Run: bun bun-server.js --port N [--host 0.0.0.0]   (prints "listening <port>" when ready)
//
// REST: GET /health, POST /api/jobs, POST /api/jobs/{id}/events, POST /api/events/batch
// WS:   GET /ws/{jobId} and /progress/ws/{jobId} (subscribed on open; since= skips the snapshot if
//       the client already has it), GET /ws (subscribe / unsubscribe / ping messages). token= is ignored.

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
};

const JOB_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const NEXT = {
  pending: ["queued", "in_progress", "failed", "cancelled"],
  queued: ["in_progress", "failed", "cancelled"],
  in_progress: ["completed", "failed", "cancelled"],
};
const jobs = new Map(); // id -> {id, status, seq, progress, stage, message, metadata, created_at, updated_at}
let connections = 0;

const json = (status, body) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
const fail = (status, code, error) => ({ status, code, error });

function progressJson(job, replay) {
  return JSON.stringify({
    type: "progress", job_id: job.id, seq: job.seq, status: job.status, progress: job.progress,
    stage: job.stage, message: job.message, timestamp: job.updated_at, metadata: job.metadata,
    replay: replay || undefined,
  });
}

// Validates then applies one event; returns null on success or a failure {status, code, error}.
function applyEvent(job, ev) {
  if (TERMINAL.has(job.status))
    return fail(409, job.status === "cancelled" ? "job_cancelled" : "job_finished", `job is ${job.status}`);
  const { status, progress, stage, message, metadata } = ev;
  if (progress !== undefined && !(typeof progress === "number" && progress >= 0 && progress <= 100))
    return fail(400, "invalid_request", "progress must be a number 0-100");
  if ((stage != null && typeof stage !== "string") || (message != null && typeof message !== "string"))
    return fail(400, "invalid_request", "stage and message must be strings");
  if (metadata != null && (typeof metadata !== "object" || Array.isArray(metadata)))
    return fail(400, "invalid_request", "metadata must be an object");
  if (status !== undefined && !(status in NEXT) && !TERMINAL.has(status))
    return fail(400, "invalid_request", `unknown status ${status}`);
  let next = job.status;
  if (status !== undefined && status !== job.status) {
    if (!NEXT[job.status].includes(status)) return fail(409, "invalid_transition", `${job.status} -> ${status}`);
    next = status;
  } else if (progress !== undefined && (next === "pending" || next === "queued")) {
    next = "in_progress";
  }
  job.status = next;
  if (progress !== undefined) job.progress = progress;
  if (next === "completed") job.progress = 100;
  if (stage !== undefined) job.stage = stage;
  if (message !== undefined) job.message = message;
  if (metadata) for (const k in metadata) metadata[k] === null ? delete job.metadata[k] : (job.metadata[k] = metadata[k]);
  job.seq++;
  job.updated_at = new Date().toISOString();
  server.publish(job.id, progressJson(job)); // serialized once, fanned out natively
  return null;
}

async function body(req) {
  try {
    const b = await req.json();
    return b && typeof b === "object" && !Array.isArray(b) ? b : null;
  } catch {
    return null;
  }
}

function sendSubscription(ws, jobId, since, id) {
  const job = jobs.get(jobId);
  if (!job) {
    ws.send(JSON.stringify({ type: "error", code: "job_not_found", error: "no such job", id }));
    return false;
  }
  ws.send(JSON.stringify({ type: "subscribed", job_id: job.id, status: job.status, seq: job.seq, recovered: false, id }));
  if (since == null || since < job.seq) ws.send(progressJson(job, true)); // no history kept: state only
  ws.subscribe(jobId);
  return true;
}

function upgrade(req, server, jobId) {
  const q = req.url.indexOf("?");
  const s = q < 0 ? null : new URLSearchParams(req.url.slice(q + 1)).get("since");
  const since = s != null && /^\d+$/.test(s) ? Number(s) : null;
  if (server.upgrade(req, { data: { jobId, since } })) return undefined;
  return json(400, { error: "WebSocket upgrade expected", code: "invalid_request" });
}

const server = Bun.serve({
  port: Number(arg("--port", "8090")),
  hostname: arg("--host", "0.0.0.0"),
  idleTimeout: 255, // HTTP keep-alive (seconds, Bun's max)
  routes: {
    "/health": new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } }),
    "/api/jobs": {
      POST: async (req) => {
        const b = await body(req);
        if (!b) return json(400, { error: "body must be a JSON object", code: "invalid_json" });
        const id = b.id ?? crypto.randomUUID();
        if (typeof id !== "string" || !JOB_ID.test(id)) return json(400, { error: "bad job id", code: "invalid_job_id" });
        if (jobs.has(id)) return json(409, { error: "job exists", code: "job_exists" });
        const now = new Date().toISOString();
        const job = { id, status: "pending", seq: 1, progress: 0, stage: b.stage ?? null, message: b.message ?? null,
          metadata: b.metadata ?? {}, created_at: now, updated_at: now };
        jobs.set(id, job);
        return json(201, job);
      },
    },
    "/api/jobs/:id/events": {
      POST: async (req) => {
        const job = jobs.get(req.params.id);
        if (!job) return json(404, { error: "no such job", code: "job_not_found" });
        const b = await body(req);
        if (!b) return json(400, { error: "body must be a JSON object", code: "invalid_json" });
        const f = applyEvent(job, b);
        return f ? json(f.status, { error: f.error, code: f.code }) : json(200, job);
      },
    },
    "/api/events/batch": {
      POST: async (req) => {
        const b = await body(req);
        if (!b || !Array.isArray(b.events) || b.events.length < 1 || b.events.length > 1000)
          return json(400, { error: "events must be an array of 1-1000 events", code: "invalid_request" });
        let accepted = 0;
        const results = b.events.map((ev) => {
          const job = ev && jobs.get(ev.job_id);
          const f = !job ? fail(404, "job_not_found", "no such job") : applyEvent(job, ev);
          if (f) return { job_id: ev?.job_id, ok: false, code: f.code, error: f.error };
          accepted++;
          return { job_id: job.id, ok: true, seq: job.seq, status: job.status };
        });
        return json(200, { results, accepted, rejected: results.length - accepted });
      },
    },
    "/ws": (req, server) => upgrade(req, server, null),
    "/ws/:id": (req, server) => upgrade(req, server, req.params.id),
    "/progress/ws/:id": (req, server) => upgrade(req, server, req.params.id),
  },
  fetch: () => json(404, { error: "not found", code: "not_found" }),
  websocket: {
    perMessageDeflate: false,
    maxPayloadLength: 64 * 1024,
    open(ws) {
      ws.send(JSON.stringify({ type: "connection_established", connection_id: `c-${++connections}`,
        heartbeat_interval: 25, timestamp: new Date().toISOString() }));
      const { jobId, since } = ws.data;
      if (jobId !== null && !sendSubscription(ws, jobId, since)) ws.close(4404, "job not found");
    },
    message(ws, raw) {
      if (typeof raw !== "string") return ws.close(1003, "binary frames are not supported");
      let m;
      try {
        m = JSON.parse(raw);
      } catch {}
      if (!m || typeof m !== "object" || Array.isArray(m))
        return ws.send('{"type":"error","code":"invalid_json","error":"not a JSON object"}');
      const id = m.id;
      if (m.type === "ping") return ws.send(JSON.stringify({ type: "pong", id, timestamp: new Date().toISOString() }));
      if (m.type !== "subscribe" && m.type !== "unsubscribe")
        return ws.send(JSON.stringify({ type: "error", code: "unknown_type", error: "unknown type", id }));
      if (typeof m.job_id !== "string")
        return ws.send(JSON.stringify({ type: "error", code: "missing_field", error: "job_id is required", id }));
      if (m.type === "subscribe") return void sendSubscription(ws, m.job_id, Number.isInteger(m.since) ? m.since : null, id);
      const job = jobs.get(m.job_id);
      if (!ws.isSubscribed(m.job_id) || !job)
        return ws.send(JSON.stringify({ type: "error", code: "not_subscribed", error: "not subscribed", id }));
      ws.unsubscribe(m.job_id);
      ws.send(JSON.stringify({ type: "unsubscribed", job_id: job.id, status: job.status, seq: job.seq, id }));
    },
  },
});

process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
process.on("SIGINT", () => process.exit(0));
console.log(`listening ${server.port}`);
