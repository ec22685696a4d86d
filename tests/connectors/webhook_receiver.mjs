// A Standard Webhooks receiver (https://www.standardwebhooks.com) for Tollgate's webhook
// connector tests, verifying with the reference library (standardwebhooks) on 127.0.0.1.
//
//   node webhook_receiver.mjs --port 0 --secret whsec_... [--stdin-lifeline]
//
// Prints exactly one line to stdout, "listening <port>"; logs go to stderr. With
// --stdin-lifeline it exits when its stdin closes (the launcher's pipe: no orphans).
//
// POST /hook: the signature is checked over the raw body; a bad signature, a changed body or a
// timestamp outside +-5 minutes answers 401. A webhook-id already answered 2xx answers 409
// "replay" (a redelivery after a non-2xx answer is accepted: senders retry under the same id).
// Otherwise 200, unless /control/answer said otherwise.
//
// Control endpoints (no auth):
//   GET  /control/deliveries  every delivery POSTed to /hook from outside, in order:
//        [{id, timestamp, signature, headers, body, verified, error, answered}]
//   GET  /control/probes      the same for the receiver's own replays and tampers
//   POST /control/answer  {status, count}  the next `count` verified, non-replayed deliveries
//        are answered `status` (a 2xx one counts as delivered)
//   POST /control/replay  {index}  re-POSTs delivery `index` exactly (same headers and body) to
//        /hook; answers {status}
//   POST /control/tamper  {index}  the same with one body byte changed; answers {status}
//   POST /control/confirm {url, body}  signs `body` under a fresh id with standardwebhooks and
//        POSTs it to `url`; answers {status, body, id, timestamp, signature}
//   POST /control/reset   forgets deliveries, ids and pending answers
import crypto from "node:crypto";
import http from "node:http";
import express from "express";
import standardwebhooks from "standardwebhooks";

const { Webhook } = standardwebhooks;

function parseArgs(argv) {
  const args = { port: 0, secret: "", lifeline: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === "--port") args.port = Number(argv[++i]);
    else if (a === "--secret") args.secret = argv[++i];
    else if (a === "--stdin-lifeline") args.lifeline = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.secret) throw new Error("--secret is required");
  return args;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => console.error("webhook_receiver:", ...m);
const wh = new Webhook(args.secret);

let deliveries = [];
let probes = [];
let delivered = new Set();  // webhook-ids answered 2xx
let answers = { status: 200, count: 0 };
// Local ports of the receiver's own replay/tamper connections: what arrives from them is a probe.
const probePorts = new Set();

function reset() {
  deliveries = [];
  probes = [];
  delivered = new Set();
  answers = { status: 200, count: 0 };
}

const app = express();
app.disable("x-powered-by");

app.post("/hook", express.raw({ type: () => true, limit: "5mb" }), (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body.toString("utf8") : "";
  const id = req.get("webhook-id") ?? "";
  const record = {
    id,
    timestamp: req.get("webhook-timestamp") ?? "",
    signature: req.get("webhook-signature") ?? "",
    headers: { ...req.headers },
    body,
    verified: false,
    error: "",
    answered: 0,
  };
  (probePorts.has(req.socket.remotePort) ? probes : deliveries).push(record);

  let status = 200;
  let text = "ok";
  try {
    wh.verify(body, req.headers);
    record.verified = true;
  } catch (e) {
    record.error = String(e?.message ?? e);
    status = 401;
    text = record.error;
  }
  if (record.verified && delivered.has(id)) {
    status = 409;
    text = "replay";
    record.error = "replay";
  } else if (record.verified && answers.count > 0) {
    --answers.count;
    status = answers.status;
    text = `answered ${status} as told`;
  }
  if (record.verified && status >= 200 && status < 300) delivered.add(id);
  record.answered = status;
  res.status(status).type("text/plain").send(text);
});

// POSTs `body` (a string or bytes) with `headers` to http://127.0.0.1:<port>/hook from a connection of its own.
function postToSelf(headers, body) {
  const h = { ...headers };
  for (const k of ["host", "connection", "content-length", "transfer-encoding", "keep-alive"])
    delete h[k];
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  h["content-length"] = String(buf.length);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.address().port, path: "/hook", method: "POST",
        headers: h, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("socket", (s) => s.on("connect", () => probePorts.add(s.localPort)));
    req.on("error", reject);
    req.end(buf);
  });
}

const control = express.Router();
control.use(express.json({ limit: "5mb" }));
control.get("/deliveries", (req, res) => res.json(deliveries));
control.get("/probes", (req, res) => res.json(probes));
control.post("/answer", (req, res) => {
  const { status, count = 1 } = req.body ?? {};
  if (!Number.isInteger(status)) return res.status(400).json({ error: "status is required" });
  answers = { status, count };
  res.json({ ok: true });
});
const byIndex = (req, res) => {
  const d = deliveries[req.body?.index];
  if (!d) res.status(404).json({ error: `no delivery ${req.body?.index}` });
  return d;
};
control.post("/replay", async (req, res, next) => {
  const d = byIndex(req, res);
  if (!d) return;
  try {
    res.json({ status: await postToSelf(d.headers, d.body) });
  } catch (e) {
    next(e);
  }
});
control.post("/tamper", async (req, res, next) => {
  const d = byIndex(req, res);
  if (!d) return;
  // One byte changed: the first character flipped in its lowest bit (an empty body gains one).
  const b = Buffer.from(d.body, "utf8");
  const tampered = b.length === 0 ? Buffer.from(" ") : Buffer.concat([Buffer.from([b[0] ^ 1]), b.subarray(1)]);
  try {
    res.json({ status: await postToSelf(d.headers, tampered) });
  } catch (e) {
    next(e);
  }
});
control.post("/confirm", async (req, res, next) => {
  const { url, body } = req.body ?? {};
  if (typeof url !== "string" || typeof body !== "string")
    return res.status(400).json({ error: "url and body (a string) are required" });
  const id = `msg_${crypto.randomBytes(12).toString("hex")}`;
  const date = new Date();
  const timestamp = String(Math.floor(date.getTime() / 1000));
  const signature = wh.sign(id, date, body);
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "webhook-id": id,
                 "webhook-timestamp": timestamp, "webhook-signature": signature },
      body,
    });
    res.json({ status: r.status, body: await r.text(), id, timestamp, signature });
  } catch (e) {
    res.json({ status: 0, body: String(e?.cause?.message ?? e?.message ?? e), id, timestamp,
               signature });
  }
});
control.post("/reset", (req, res) => {
  reset();
  res.json({ ok: true });
});
app.use("/control", control);

app.use((err, req, res, next) => {
  log("error:", err?.stack ?? err);
  if (!res.headersSent) res.status(500).json({ error: String(err?.message ?? err) });
});

const server = app.listen(args.port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
  log(`listening on 127.0.0.1:${server.address().port}`);
});

if (args.lifeline) {
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
}
process.on("SIGTERM", () => process.exit(0));
