// Reference server for the progress-hub BENCHMARK ONLY: not a product, not secure, no persistence.
// A minimal subset of progress-hub's wire protocol v1 (docs/protocol.md) on Node's `http` and the
// `ws` library (WebSocketServer in noServer mode). Subscriptions are a Map jobId -> Set<socket>;
// each event is serialized once (one Buffer) and that same Buffer is sent to every subscriber.
//
// Run: node node-ws-server.js --port N [--host 0.0.0.0]   (prints "listening <port>" when ready)
//
// REST: GET /health, POST /api/jobs, POST /api/jobs/{id}/events, POST /api/events/batch
// WS:   GET /ws/{jobId} and /progress/ws/{jobId} (subscribed on open; since= skips the snapshot if
//       the client already has it), GET /ws (subscribe / unsubscribe / ping messages). token= is ignored.
"use strict";
const http = require("node:http");
const crypto = require("node:crypto");
const { WebSocketServer } = require("ws");

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
const TEXT = { binary: false };
const jobs = new Map(); // id -> {id, status, seq, progress, stage, message, metadata, created_at, updated_at}
const subscribers = new Map(); // jobId -> Set<WebSocket>
let connections = 0;

const fail = (status, code, error) => ({ status, code, error });

function progressJson(job, replay) {
  return JSON.stringify({
    type: "progress", job_id: job.id, seq: job.seq, status: job.status, progress: job.progress,
    stage: job.stage, message: job.message, timestamp: job.updated_at, metadata: job.metadata,
    replay: replay || undefined,
  });
}

function broadcast(job) {
  const subs = subscribers.get(job.id);
  if (!subs) return;
  const frame = Buffer.from(progressJson(job)); // serialized and encoded once for all subscribers
  for (const ws of subs) ws.send(frame, TEXT);
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
  broadcast(job);
  return null;
}

function reply(res, status, body) {
  const s = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

function handle(req, res, b) {
  const path = req.url.split("?", 1)[0];
  if (path === "/health" && req.method === "GET") return reply(res, 200, '{"status":"ok"}');
  if (req.method !== "POST") return reply(res, 404, { error: "not found", code: "not_found" });
  const m = /^\/api\/jobs\/([^/]+)\/events$/.exec(path);
  if (m) {
    const job = jobs.get(decodeURIComponent(m[1]));
    if (!job) return reply(res, 404, { error: "no such job", code: "job_not_found" });
    if (!b) return reply(res, 400, { error: "body must be a JSON object", code: "invalid_json" });
    const f = applyEvent(job, b);
    return f ? reply(res, f.status, { error: f.error, code: f.code }) : reply(res, 200, job);
  }
  if (!b && (path === "/api/jobs" || path === "/api/events/batch"))
    return reply(res, 400, { error: "body must be a JSON object", code: "invalid_json" });
  if (path === "/api/jobs") {
    const id = b.id ?? crypto.randomUUID();
    if (typeof id !== "string" || !JOB_ID.test(id)) return reply(res, 400, { error: "bad job id", code: "invalid_job_id" });
    if (jobs.has(id)) return reply(res, 409, { error: "job exists", code: "job_exists" });
    const now = new Date().toISOString();
    const job = { id, status: "pending", seq: 1, progress: 0, stage: b.stage ?? null, message: b.message ?? null,
      metadata: b.metadata ?? {}, created_at: now, updated_at: now };
    jobs.set(id, job);
    return reply(res, 201, job);
  }
  if (path === "/api/events/batch") {
    if (!Array.isArray(b.events) || b.events.length < 1 || b.events.length > 1000)
      return reply(res, 400, { error: "events must be an array of 1-1000 events", code: "invalid_request" });
    let accepted = 0;
    const results = b.events.map((ev) => {
      const job = ev && jobs.get(ev.job_id);
      const f = !job ? fail(404, "job_not_found", "no such job") : applyEvent(job, ev);
      if (f) return { job_id: ev?.job_id, ok: false, code: f.code, error: f.error };
      accepted++;
      return { job_id: job.id, ok: true, seq: job.seq, status: job.status };
    });
    return reply(res, 200, { results, accepted, rejected: results.length - accepted });
  }
  reply(res, 404, { error: "not found", code: "not_found" });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let b = null;
    if (chunks.length) {
      try {
        b = JSON.parse(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      } catch {}
      if (!b || typeof b !== "object" || Array.isArray(b)) b = null;
    }
    handle(req, res, b);
  });
});
server.keepAliveTimeout = 0; // keep idle producer connections open

// --- WebSocket ---
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
const send = (ws, obj) => ws.send(JSON.stringify(obj));

function subscribe(ws, jobId, since, id) {
  const job = jobs.get(jobId);
  if (!job) {
    send(ws, { type: "error", code: "job_not_found", error: "no such job", id });
    return false;
  }
  send(ws, { type: "subscribed", job_id: job.id, status: job.status, seq: job.seq, recovered: false, id });
  if (since == null || since < job.seq) ws.send(progressJson(job, true)); // no history kept: state only
  let subs = subscribers.get(jobId);
  if (!subs) subscribers.set(jobId, (subs = new Set()));
  subs.add(ws);
  ws.jobs.add(jobId);
  return true;
}

function unsubscribe(ws, jobId) {
  const subs = subscribers.get(jobId);
  if (subs && subs.delete(ws) && subs.size === 0) subscribers.delete(jobId);
  return ws.jobs.delete(jobId);
}

function onMessage(data, isBinary) {
  const ws = this;
  if (isBinary) return ws.close(1003, "binary frames are not supported");
  let m;
  try {
    m = JSON.parse(data);
  } catch {}
  if (!m || typeof m !== "object" || Array.isArray(m))
    return ws.send('{"type":"error","code":"invalid_json","error":"not a JSON object"}');
  const id = m.id;
  if (m.type === "ping") return send(ws, { type: "pong", id, timestamp: new Date().toISOString() });
  if (m.type !== "subscribe" && m.type !== "unsubscribe")
    return send(ws, { type: "error", code: "unknown_type", error: "unknown type", id });
  if (typeof m.job_id !== "string") return send(ws, { type: "error", code: "missing_field", error: "job_id is required", id });
  if (m.type === "subscribe") return void subscribe(ws, m.job_id, Number.isInteger(m.since) ? m.since : null, id);
  const job = jobs.get(m.job_id);
  if (!unsubscribe(ws, m.job_id) || !job) return send(ws, { type: "error", code: "not_subscribed", error: "not subscribed", id });
  send(ws, { type: "unsubscribed", job_id: job.id, status: job.status, seq: job.seq, id });
}

function onClose() {
  for (const jobId of this.jobs) unsubscribe(this, jobId);
}

server.on("upgrade", (req, socket, head) => {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const m = /^(?:\/progress)?\/ws(?:\/([^/]+))?$/.exec(path);
  if (!m || (path.startsWith("/progress") && !m[1])) {
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    return;
  }
  const jobId = m[1] ? decodeURIComponent(m[1]) : null;
  const s = q < 0 ? null : new URLSearchParams(req.url.slice(q + 1)).get("since");
  const since = s != null && /^\d+$/.test(s) ? Number(s) : null;
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.jobs = new Set();
    ws.on("message", onMessage);
    ws.on("close", onClose);
    ws.on("error", () => {});
    send(ws, { type: "connection_established", connection_id: `c-${++connections}`, heartbeat_interval: 25,
      timestamp: new Date().toISOString() });
    if (jobId !== null && !subscribe(ws, jobId, since)) ws.close(4404, "job not found");
  });
});

function shutdown() {
  server.close();
  for (const ws of wss.clients) ws.close(1001, "server going away");
  setTimeout(() => process.exit(0), 50).unref();
  server.closeAllConnections?.();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

server.listen(Number(arg("--port", "8091")), arg("--host", "0.0.0.0"), () => {
  console.log(`listening ${server.address().port}`);
});
