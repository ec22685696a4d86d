// An in-memory SCIM 2.0 server (RFC 7643/7644) for Tollgate's SCIM connector tests: scimmy's
// resources and scimmy-routers' endpoints on express 4, mounted at /scim/v2 on 127.0.0.1 with
// bearer-token auth. /control (no auth) lets a test look inside and misbehave on purpose.
//
//   node scim_server.mjs --port 0 --token TOKEN [--groups Engineering,Admins]
//                        [--users '[{"userName":"ada","email":"ada@x","displayName":"Ada"}]']
//                        [--stdin-lifeline]
//
// Prints exactly one line to stdout, "listening <port>"; logs go to stderr. With
// --stdin-lifeline it exits when its stdin closes (the launcher's pipe: no orphans).
//
// Control endpoints:
//   GET  /control/state  {users: [...], groups: [{id, displayName, members: [userName...]}],
//                         requests: N}   N counts every request that reached /scim/v2
//   POST /control/users  {userName, email, displayName}        adds a user, answers it
//   POST /control/fail   {status, count, retry_after?, body?}  the next `count` SCIM requests
//                        answer `status` with a SCIM error (or `body`), Retry-After if given
//   POST /control/down   {ms}  for `ms` every SCIM request has its TCP connection destroyed
//   POST /control/reset  back to the state at start (users, groups, counters, no faults)
import crypto from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

function parseArgs(argv) {
  const args = { port: 0, token: "", groups: ["Engineering"], users: [], lifeline: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === "--port") args.port = Number(argv[++i]);
    else if (a === "--token") args.token = argv[++i];
    else if (a === "--groups") args.groups = argv[++i].split(",").filter((g) => g.length > 0);
    else if (a === "--users") args.users = JSON.parse(argv[++i]);
    else if (a === "--stdin-lifeline") args.lifeline = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.token) throw new Error("--token is required");
  return args;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => console.error("scim_server:", ...m);

// ---- The directory: users and groups by id, in insertion order. ----

let users = new Map();
let groups = new Map();
let requests = 0;
let failNext = { count: 0 };
let downUntil = 0;

const now = () => new Date().toISOString();
const newId = () => crypto.randomUUID();
const clone = (o) => JSON.parse(JSON.stringify(o));

function userRecord({ userName, email, displayName }) {
  const t = now();
  const u = { id: newId(), userName, active: true, meta: { created: t, lastModified: t } };
  if (displayName) u.displayName = displayName;
  if (email) u.emails = [{ value: email, type: "work", primary: true }];
  return u;
}

function reset() {
  users = new Map();
  groups = new Map();
  for (const u of args.users) {
    const r = userRecord(u);
    users.set(r.id, r);
  }
  for (const g of args.groups) {
    const t = now();
    const r = { id: newId(), displayName: g, members: [], meta: { created: t, lastModified: t } };
    groups.set(r.id, r);
  }
  requests = 0;
  failNext = { count: 0 };
  downUntil = 0;
}
reset();

const userNameTaken = (name, exceptId) =>
  [...users.values()].some((u) => u.id !== exceptId && u.userName.toLowerCase() === name.toLowerCase());
const displayNameTaken = (name, exceptId) =>
  [...groups.values()].some((g) => g.id !== exceptId && g.displayName === name);

// What scimmy hands an ingress handler is a schema instance; storage keeps plain JSON.
function plain(instance) {
  const o = clone(instance);
  delete o.schemas;
  delete o.meta;
  return o;
}

// Members are a set by value: scimmy's PATCH "add" appends a member already present again.
function dedupeMembers(members = []) {
  const seen = new Set();
  const out = [];
  for (const m of members) {
    if (!m || seen.has(m.value)) continue;
    if (!users.has(m.value) && !groups.has(m.value))
      throw new SCIMMY.Types.Error(400, "invalidValue", `Member ${m.value} does not exist`);
    seen.add(m.value);
    const target = users.get(m.value);
    out.push({ value: m.value, display: target ? target.userName : groups.get(m.value).displayName,
               type: target ? "User" : "Group" });
  }
  return out;
}

// egress for both resources: one by id (404 when absent), or the filtered list. Pagination and
// sorting are scimmy's ListResponse's (startIndex/count from the query).
function egress(store) {
  return (resource) => {
    const all = [...store.values()].map(clone);
    if (resource.id) {
      const found = all.find((r) => r.id === resource.id);
      if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      return found;
    }
    return resource.filter ? resource.filter.match(all) : all;
  };
}

function degress(store) {
  return (resource) => {
    if (!store.delete(resource.id))
      throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    if (store === users) {
      for (const g of groups.values()) g.members = g.members.filter((m) => m.value !== resource.id);
    }
  };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, instance) => {
    const data = plain(instance);
    if (userNameTaken(data.userName, resource.id))
      throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${data.userName} is taken`);
    const t = now();
    if (resource.id) {
      const old = users.get(resource.id);
      if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      const u = { ...data, id: old.id, meta: { created: old.meta.created, lastModified: t } };
      users.set(u.id, u);
      return clone(u);
    }
    const u = { ...data, id: newId(), meta: { created: t, lastModified: t } };
    if (u.active === undefined) u.active = true;
    users.set(u.id, u);
    return clone(u);
  })
  .egress(egress(users))
  .degress(degress(users));

SCIMMY.Resources.declare(SCIMMY.Resources.Group)
  .ingress((resource, instance) => {
    const data = plain(instance);
    if (displayNameTaken(data.displayName, resource.id))
      throw new SCIMMY.Types.Error(409, "uniqueness", `displayName ${data.displayName} is taken`);
    const t = now();
    const members = dedupeMembers(data.members);
    if (resource.id) {
      const old = groups.get(resource.id);
      if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
      const g = { ...data, members, id: old.id, meta: { created: old.meta.created, lastModified: t } };
      groups.set(g.id, g);
      return clone(g);
    }
    const g = { ...data, members, id: newId(), meta: { created: t, lastModified: t } };
    groups.set(g.id, g);
    return clone(g);
  })
  .egress(egress(groups))
  .degress(degress(groups));

// ---- HTTP ----

const scimError = (status, detail, scimType) => ({
  schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  detail,
});

const app = express();
app.disable("x-powered-by");

// Faults first: they apply to every SCIM request, authenticated or not.
app.use("/scim/v2", (req, res, next) => {
  ++requests;
  if (performance.now() < downUntil) {
    req.socket.destroy();
    return;
  }
  if (failNext.count > 0) {
    --failNext.count;
    if (failNext.retry_after !== undefined) res.set("Retry-After", String(failNext.retry_after));
    res.status(failNext.status).type("application/scim+json");
    if (failNext.body === undefined) res.send(scimError(failNext.status, "Injected failure"));
    else res.send(typeof failNext.body === "string" ? failNext.body : JSON.stringify(failNext.body));
    return;
  }
  next();
});

app.use(
  "/scim/v2",
  new SCIMMYRouters({
    type: "bearer",
    docUri: "https://datatracker.ietf.org/doc/html/rfc6750",
    handler: (req) => {
      if (req.header("Authorization") !== `Bearer ${args.token}`)
        throw new Error("Missing or invalid bearer token");
      return undefined;  // no /Me: no authenticated SCIM user
    },
    context: () => ({}),
  }),
);

const control = express.Router();
control.use(express.json());
control.get("/state", (req, res) => {
  const userName = (id) => users.get(id)?.userName ?? id;
  res.json({
    users: [...users.values()].map(clone),
    groups: [...groups.values()].map((g) => ({
      id: g.id,
      displayName: g.displayName,
      members: g.members.map((m) => userName(m.value)),
    })),
    requests,
  });
});
control.post("/users", (req, res) => {
  const { userName, email, displayName } = req.body ?? {};
  if (!userName) return res.status(400).json({ error: "userName is required" });
  if (userNameTaken(userName)) return res.status(409).json({ error: "userName is taken" });
  const u = userRecord({ userName, email, displayName });
  users.set(u.id, u);
  res.status(201).json(u);
});
control.post("/fail", (req, res) => {
  const { status, count = 1, retry_after, body } = req.body ?? {};
  if (!Number.isInteger(status)) return res.status(400).json({ error: "status is required" });
  failNext = { status, count, retry_after, body };
  res.json({ ok: true });
});
control.post("/down", (req, res) => {
  downUntil = performance.now() + Number(req.body?.ms ?? 0);
  res.json({ ok: true });
});
control.post("/reset", (req, res) => {
  reset();
  res.json({ ok: true });
});
app.use("/control", control);

// Last resort: errors scimmy-routers passes on (after answering) are logged, never rethrown
// (express' own handler would destroy the connection).
app.use((err, req, res, next) => {
  log("error:", err?.stack ?? err);
  if (!res.headersSent) res.status(500).json(scimError(500, String(err?.message ?? err)));
});

const server = app.listen(args.port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
  log(`listening on 127.0.0.1:${server.address().port}`);
});
server.keepAliveTimeout = 30000;

if (args.lifeline) {
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("close", () => process.exit(0));
}
process.on("SIGTERM", () => process.exit(0));
