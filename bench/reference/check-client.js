// Self-check client for check.sh (benchmark reference servers only): node check-client.js <baseUrl>
"use strict";
const WebSocket = require("ws");
const base = process.argv[2];
const wsBase = base.replace(/^http/, "ws");
const job = `check-${process.pid}-${Date.now()}`;

function assert(cond, what) {
  if (!cond) throw new Error(`FAILED: ${what}`);
}
async function post(path, body) {
  const r = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
// Opens a WebSocket and collects parsed messages; wait(n) resolves once n messages arrived.
function open(url) {
  const ws = new WebSocket(url);
  const got = [];
  let waiter = null;
  ws.on("message", (d) => {
    got.push(JSON.parse(d));
    if (waiter && got.length >= waiter.n) waiter.resolve();
  });
  const wait = (n) =>
    got.length >= n ? Promise.resolve(got) : new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`FAILED: ${url}: ${got.length}/${n} messages: ${JSON.stringify(got)}`)), 3000);
      waiter = { n, resolve: () => { clearTimeout(t); resolve(got); } };
    });
  return { ws, got, wait, opened: new Promise((res, rej) => { ws.once("open", res); ws.once("error", rej); }) };
}

(async () => {
  const h = await fetch(base + "/health");
  assert(h.status === 200 && (await h.json()).status === "ok", "GET /health");
  let r = await post("/api/jobs", { id: job });
  assert(r.status === 201 && r.body.id === job && r.body.seq === 1 && r.body.status === "pending", `create: ${JSON.stringify(r)}`);
  assert((await post("/api/jobs", { id: job })).status === 409, "duplicate create is 409");

  const single = open(`${wsBase}/ws/${job}?token=ignored`);
  await single.wait(3);
  const [ce, sub, snap] = single.got;
  assert(ce.type === "connection_established" && ce.connection_id, "connection_established");
  assert(sub.type === "subscribed" && sub.job_id === job && sub.seq === 1 && sub.status === "pending" && sub.recovered === false, `subscribed: ${JSON.stringify(sub)}`);
  assert(snap.type === "progress" && snap.seq === 1 && snap.status === "pending", `snapshot: ${JSON.stringify(snap)}`);

  const multi = open(`${wsBase}/ws`);
  await multi.opened;
  multi.ws.send(JSON.stringify({ type: "ping", id: "p1" }));
  multi.ws.send(JSON.stringify({ type: "subscribe", job_id: job, id: "s1" }));
  await multi.wait(4);
  assert(multi.got[1].type === "pong" && multi.got[1].id === "p1", "pong");
  assert(multi.got[2].type === "subscribed" && multi.got[2].id === "s1" && multi.got[3].seq === 1, "multiplexed subscribe");

  const events = [{ progress: 10, message: "a" }, { progress: 50, stage: "two", metadata: { k: 1 } }, { status: "completed" }];
  const seqs = [];
  for (const ev of events) {
    r = await post(`/api/jobs/${job}/events`, ev);
    assert(r.status === 200, `publish: ${JSON.stringify(r)}`);
    seqs.push(r.body.seq);
  }
  assert(seqs.join() === "2,3,4", `publish seqs ${seqs}`);
  for (const [name, c, skip] of [["single", single, 3], ["multi", multi, 4]]) {
    const live = (await c.wait(skip + 3)).slice(skip);
    assert(live.map((m) => m.seq).join() === "2,3,4", `${name} live seqs: ${JSON.stringify(live)}`);
    assert(live.map((m) => m.status).join() === "in_progress,in_progress,completed", `${name} statuses`);
    const m = live[1];
    assert(m.type === "progress" && m.job_id === job && m.progress === 50 && m.stage === "two" && m.message === "a"
      && m.metadata.k === 1 && /^\d{4}-\d\d-\d\dT.*Z$/.test(m.timestamp), `${name} message shape: ${JSON.stringify(m)}`);
  }
  assert((await post(`/api/jobs/${job}/events`, { progress: 1 })).status === 409, "event after terminal is 409");

  await post("/api/jobs", { id: job + "-b" });
  r = await post("/api/events/batch", { events: [{ job_id: job + "-b", progress: 5 }, { job_id: job + "-b", progress: 6 }, { job_id: "nope", progress: 1 }] });
  assert(r.status === 200 && r.body.results.map((x) => `${x.ok}:${x.seq}`).join() === "true:2,true:3,false:undefined", `batch: ${JSON.stringify(r.body)}`);

  const resumed = open(`${wsBase}/ws/${job}-b?since=3`); // already up to date: no snapshot
  await resumed.wait(2);
  await new Promise((res) => setTimeout(res, 100));
  assert(resumed.got.length === 2 && resumed.got[1].type === "subscribed" && resumed.got[1].seq === 3, `since: ${JSON.stringify(resumed.got)}`);

  for (const c of [single, multi, resumed]) c.ws.close();
  console.log("ok");
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
