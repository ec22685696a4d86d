// The task page behind every email link (web/), in Debian's headless Chromium.
//
// Starts a small company's `tollgate serve --sandbox` (a fresh SQLite file, the fake Slack) with
// TOLLGATE_PUBLIC_URL, TOLLGATE_LINK_KEY and a plain local SMTP relay (tests/support/
// smtp_server.py --plain). Its reviewer, Rhea, is told by email only; the requesters are on
// Slack. Requests are opened through the admin API; Rhea's mail is read at the sink, and its link
// opened in the browser: she approves, is refused a deny without the reason her step asks, acts on
// two tasks at once from her inbox. Tampered, expired and foreign links, a session that is gone
// and forged forms are refused with their pages; axe-core finds nothing serious on the task page
// and the inbox. The outcomes are read back from the admin API and the requester's DM in the fake
// Slack. Screenshots go to $TOLLGATE_SCREENSHOTS.
//
// Run by ctest (TaskPage.BrowserActsFromTheEmailLink), or: node --test tests/web/task_page.test.mjs
// with TOLLGATE_BINARY, TOLLGATE_SOURCE_DIR and optionally CHROMIUM and TOLLGATE_SCREENSHOTS set.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { eventually } from "../support/eventually.mjs";
import { receivedMails, textPart } from "./mail.mjs";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");

const binary = process.env.TOLLGATE_BINARY;
const source = process.env.TOLLGATE_SOURCE_DIR;
const shots = process.env.TOLLGATE_SCREENSHOTS || join(tmpdir(), "tollgate-task-page-screenshots");
const apiToken = "task-page-test-admin-token-0123456789";
const linkKey = "task-page-test-link-key-0123456789abcdef";
const reviewer = { id: "rhea", name: "Rhea Novak", email: "rhea@acme.test" };
const slackIds = { bo: "U0BO", carl: "U0CARL", ines: "U0INES" };

// Rhea reviews her reports' requests and hears of them by email only (no Slack id: the sandbox
// makes one up, U0SBRHEA, which no DM goes to). Every request step wants a reason to deny, and
// may be reassigned to Maria.
const company = {
  organization: "Acme",
  people: [
    { id: "maria", name: "Maria Lopez", email: "maria@acme.test", slack_user_id: "U0MARIA", title: "CEO" },
    { id: "rhea", name: reviewer.name, email: reviewer.email, notify: ["email"], manager: "maria",
      title: "Engineering Manager" },
    { id: "bo", name: "Bo Chen", email: "bo@acme.test", slack_user_id: "U0BO", manager: "rhea",
      title: "Backend Engineer" },
    { id: "carl", name: "Carl Novak", email: "carl@acme.test", slack_user_id: "U0CARL", manager: "rhea",
      title: "Frontend Engineer" },
    { id: "ines", name: "Ines Costa", email: "ines@acme.test", slack_user_id: "U0INES", manager: "rhea",
      title: "Data Scientist" },
  ],
  admins: ["maria"],
  apps: [
    { id: "aws", name: "AWS", owners: ["maria"],
      provisioning: { mode: "automatic" }, deprovisioning: { mode: "automatic" },
      request_policy: "manager-approves", revocation_policy: "manager-confirms",
      resources: [
        { id: "prod-readonly", name: "Production read-only" },
        { id: "prod-admin", name: "Production admin", sensitive: true },
        { id: "billing", name: "Billing console" },
        { id: "logs", name: "Log archive" },
      ] },
  ],
  policies: [
    { id: "manager-approves", name: "Manager approves", kind: "request",
      steps: [{ reviewers: { type: "manager" }, fallback: ["maria"], require_reason: ["deny"],
                allow_reassign: true, reassign_to: ["maria"] }] },
    { id: "manager-confirms", name: "Manager confirms removal", kind: "revocation",
      steps: [{ reviewers: { type: "manager" }, fallback: ["maria"] }] },
  ],
};

let server, smtp, base, browser, context, page, dir, mailDir, log = "";
let sandboxSession;
const shared = {};  // what one test leaves for the next: task numbers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// tests/support/smtp_server.py --plain: no TLS, no AUTH; it stops when its stdin closes.
function startSmtp() {
  return new Promise((resolve, reject) => {
    smtp = spawn("/usr/bin/python3", [join(source, "tests/support/smtp_server.py"), "--plain", mailDir],
                 { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error("the SMTP sink did not start")), 10000);
    smtp.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /PORT (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    smtp.on("exit", (code) => reject(new Error(`the SMTP sink exited (${code})`)));
  });
}

function startServer(port, smtpPort) {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(
      ([k]) => !k.startsWith("SLACK_") && (!k.startsWith("TOLLGATE_") || k === "TOLLGATE_SLACK_PAYLOADS")));
    Object.assign(env, {
      TOLLGATE_API_TOKEN: apiToken,
      TOLLGATE_PUBLIC_URL: `http://127.0.0.1:${port}`,
      TOLLGATE_LINK_KEY: linkKey,
      TOLLGATE_LINK_TTL: "7d",
      TOLLGATE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?starttls=off`,
      TOLLGATE_SMTP_FROM: "Tollgate <tollgate@acme.test>",
    });
    const config = join(dir, "company.json");
    writeFileSync(config, JSON.stringify(company, null, 2));
    server = spawn(binary, ["serve", "--sandbox", "--listen", `127.0.0.1:${port}`, "--config", config,
                            "--db", `sqlite:${dir}/tollgate.db`],
                   { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => reject(new Error("tollgate did not start:\n" + log)), 15000);
    const read = (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
    };
    server.stdout.on("data", read);
    server.stderr.on("data", read);
    server.on("exit", (code) => reject(new Error(`tollgate exited (${code}):\n${log}`)));
  });
}

async function api(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiToken}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json().catch(() => null) };
}
async function task(n) {
  const r = await api("GET", `/api/v1/tasks/${n}`);
  assert.equal(r.status, 200, `GET /api/v1/tasks/${n}`);
  return r.json;
}
const review = (t) => t.steps.find((s) => s.kind === "review");
async function request(requester, resource, justification) {
  const r = await api("POST", "/api/v1/requests", { requester, app: "aws", resource, justification });
  assert.equal(r.status, 201, `POST /api/v1/requests: ${JSON.stringify(r.json)}`);
  assert.ok(r.json.task > 0);
  return r.json.task;
}
async function shot(name, on = page) {
  await on.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// The link in Rhea's mail about task #n (its text part), once the mail has arrived.
async function mailedLink(n) {
  return eventually(`Rhea's mail about #${n}`, () => {
    for (const mail of receivedMails(mailDir)) {
      if (!mail.rcpt_tos.includes(reviewer.email)) continue;
      const text = textPart(mail.data);
      if (!new RegExp(`#${n}(?!\\d)`).test(text)) continue;
      const link = /(https?:\/\/\S+?\/t\/[A-Za-z0-9_.-]+)/.exec(text);
      assert.ok(link, `the mail about #${n} has a task link:\n${text}`);
      (shared.links ??= []).push(link[1]);
      return link[1];
    }
    return null;
  });
}

// A link token signed as web/links.cc signs one: base64url(payload) "." base64url(HMAC-SHA256 of
// the purpose and the payload), the payload "l1\n<task>\n<person>\n<expires, ms since the epoch>".
function forgeToken({ task: n, person, expires }, key = linkKey) {
  const payload = `l1\n${n}\n${person}\n${expires}`;
  const mac = createHmac("sha256", key).update("tollgate-link\n" + payload).digest();
  return `${Buffer.from(payload).toString("base64url")}.${mac.toString("base64url")}`;
}

// The DM of a Slack user in the fake Slack, read as the sandbox page reads it.
async function slackMessages(slackId) {
  if (!sandboxSession) {
    const html = await (await fetch(`${base}/sandbox`)).text();
    sandboxSession = /name="tollgate-sandbox-session" content="([^"]+)"/.exec(html)[1];
  }
  const r = await fetch(`${base}/sandbox/api/state?user=${encodeURIComponent(slackId)}`,
                        { headers: { "X-Sandbox-Session": sandboxSession } });
  assert.equal(r.status, 200, "GET /sandbox/api/state");
  return (await r.json()).messages;
}

async function flash() {
  const f = page.locator("#flash");
  await f.waitFor();
  assert.equal(await f.getAttribute("role"), "status");
  return { text: (await f.innerText()).trim(), error: /\berror\b/.test((await f.getAttribute("class")) || "") };
}
// Clicks a form's button and waits for the page it leads to (the form's 303, then that page),
// which may have the address of the one it left.
async function submit(button) {
  const loaded = page.waitForEvent("load");
  await button.click();
  await loaded;
}
// The form of the page's action labelled `label`.
function actionForm(label) {
  return page.locator("form.action", { has: page.getByRole("button", { name: label, exact: true }) });
}
// An h1's text, on whatever page the browser is on.
async function heading(on = page) {
  return (await on.locator("h1").first().innerText()).trim();
}

// axe-core in a context that may run it (the pages' CSP forbids inline and injected scripts):
// the same session's cookies, bypassCSP. No violation of impact serious or critical.
async function axe(path, name) {
  const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  try {
    await ctx.addCookies(await context.cookies(`${base}/t/`));
    const p = await ctx.newPage();
    const r = await p.goto(`${base}${path}`);
    assert.equal(r.status(), 200, `GET ${path}`);
    await p.addScriptTag({ path: axePath });
    const result = await p.evaluate(() => axe.run());
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of result.violations) {
      console.log(`axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes: ` +
                  `${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`);
    }
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.html).join(" | ")}`), [],
                     `serious or critical accessibility violations on ${path}`);
    assert.ok(result.passes.length > 0, "axe ran its checks");
  } finally {
    await ctx.close();
  }
}

before(async () => {
  assert.ok(binary && source, "TOLLGATE_BINARY and TOLLGATE_SOURCE_DIR must be set");
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "tollgate-task-page-"));
  mailDir = join(dir, "mail");
  mkdirSync(mailDir);
  const smtpPort = await startSmtp();
  // TOLLGATE_PUBLIC_URL must be the address the browser uses, so the port is chosen first. It
  // was free when chosen, but another test running at once (ctest -j) may take it before serve
  // binds it: serve then exits saying it cannot listen, and another port is tried, afresh.
  for (let attempt = 1; ; ++attempt) {
    try {
      base = await startServer(await freePort(), smtpPort);
      break;
    } catch (e) {
      if (attempt === 3 || !/cannot listen on/.test(String(e.message))) throw e;
      log = "";
      for (const f of readdirSync(dir)) {
        if (f.startsWith("tollgate.db")) rmSync(join(dir, f), { force: true });
      }
    }
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
});

after(async () => {
  if (page) assert.deepEqual(page.errors, [], "the page threw");
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  if (smtp && smtp.exitCode === null) {
    const exited = new Promise((r) => smtp.once("exit", r));
    smtp.stdin.end();
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("an email-only reviewer opens the mailed link and approves in the browser", async () => {
  const n = await request("bo", "prod-readonly", "debugging the payments outage");
  assert.deepEqual((await task(n)).assignees, ["rhea"]);
  const link = await mailedLink(n);
  assert.ok(link.startsWith(`${base}/t/`), `the link is under TOLLGATE_PUBLIC_URL: ${link}`);

  // The link answers 303 with the session cookie to a page of Tollgate's own (/t/open/N), which
  // moves on to the task: the browser lands on it, the token gone.
  const landed = await page.goto(link);
  assert.equal(landed.status(), 200);
  const hop = landed.request().redirectedFrom();
  assert.ok(hop && hop.url() === link, "the link redirects");
  const opened = await hop.response();
  assert.equal(opened.status(), 303);
  const setCookie = (await opened.allHeaders())["set-cookie"] || "";
  assert.match(setCookie, /^tg_session=[^;]+/);
  assert.match(setCookie, /;\s*Path=\/t(;|$)/i);
  assert.match(setCookie, /;\s*HttpOnly/i);
  assert.match(setCookie, /;\s*SameSite=Strict/i);
  assert.doesNotMatch(setCookie, /;\s*Secure/i, "no Secure cookie over http");
  assert.equal(landed.url(), `${base}/t/open/${n}`);
  await page.waitForURL(`${base}/t/tasks/${n}`);
  const [cookie] = (await context.cookies(`${base}/t/`)).filter((c) => c.name === "tg_session");
  assert.ok(cookie, "the session cookie is set");
  assert.deepEqual([cookie.path, cookie.httpOnly, cookie.sameSite, cookie.secure], ["/t", true, "Strict", false]);

  // The page: the request, its sections, Rhea's step marked as hers, her actions.
  assert.match(await heading(), new RegExp(`^Access request #${n}: `));
  const sections = (await page.locator("h2").allInnerTexts()).map((s) => s.trim());
  for (const s of ["Details", "Insights", "Execution plan", "Comments", "Your actions"]) {
    assert.ok(sections.includes(s), `a section "${s}" among ${JSON.stringify(sections)}`);
  }
  const mine = page.locator(".mine");
  assert.equal(await mine.count(), 1, "one step of the plan is the viewer's");
  assert.match(await mine.innerText(), /\(you\)/);
  assert.equal(await page.getByRole("link", { name: "All my tasks" }).getAttribute("href"), "/t/inbox");
  assert.equal(await actionForm("Approve").count(), 1);
  assert.equal(await actionForm("Deny").count(), 1);
  assert.equal(await actionForm("Approve").getByLabel("Comment (optional)").count(), 1);
  assert.equal(await actionForm("Deny").getByLabel("Reason (required)").count(), 1);
  assert.equal(await page.locator("form#comment-form textarea#comment-text[name=text]").count(), 1);
  assert.equal(await page.locator("select#reassign-to").count(), 1);
  assert.equal(await page.getByRole("button", { name: "Reassign", exact: true }).count(), 1);
  await shot("01-task-page-from-the-mail");

  // The same page on a phone: nothing wider than the screen.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 360, height: 740 });
  await phone.goto(`${base}/t/tasks/${n}`);
  await phone.screenshot({ path: join(shots, "02-task-page-phone.png"), fullPage: false });
  await shot("02b-task-page-phone-full", phone);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 360, `the page fits a 360px screen (scrollWidth ${overflow})`);
  await phone.close();

  // A comment, then the approval with one.
  await page.fill("#comment-text", "Checked the on-call rota: Bo is on it this week");
  await submit(page.getByRole("button", { name: "Comment", exact: true }));
  assert.equal(page.url(), `${base}/t/tasks/${n}`);
  assert.equal((await flash()).error, false);
  await page.locator("text=Checked the on-call rota").first().waitFor();

  await actionForm("Approve").locator("textarea[name=comment]").fill("Fine for the outage, read-only");
  await submit(actionForm("Approve").getByRole("button", { name: "Approve", exact: true }));
  assert.equal(page.url(), `${base}/t/tasks/${n}`);
  const result = await flash();
  assert.equal(result.error, false, `the approval's result: ${result.text}`);
  assert.match(result.text, /approv/i);
  assert.equal(await page.getByRole("button", { name: "Approve", exact: true }).count(), 0,
               "no Approve left on a decided step");
  await shot("03-approved-in-the-browser");

  const t = await task(n);
  assert.deepEqual([review(t).outcome, review(t).decided_by], ["approve", "rhea"]);
  assert.notEqual(t.state, "reviewing");
  assert.ok(t.comments.some((c) => c.author === "rhea" && c.text === "Checked the on-call rota: Bo is on it this week"),
            JSON.stringify(t.comments));
  assert.ok(t.comments.some((c) => c.author === "rhea" && c.text === "Fine for the outage, read-only") ||
            review(t).comment === "Fine for the outage, read-only", JSON.stringify(t));

  // Bo, on Slack, is told in his DM.
  await eventually("the outcome in Bo's DM", async () => {
    const messages = await slackMessages(slackIds.bo);
    return messages.some((m) => {
      const s = JSON.stringify(m);
      return s.includes(`#${n}`) && /approved by/i.test(s) && s.includes(reviewer.name);
    });
  });
  shared.approved = n;
});

test("a deny without the reason the step asks for is refused on the page", async () => {
  const n = await request("carl", "prod-admin", "rotating the admin keys");
  // Followed from another site (a webmail's page): the SameSite=Strict session still opens.
  const link = await mailedLink(n);
  await context.clearCookies();
  await page.setContent(`<a id="mail-link" href="${link}">Open the task</a>`);
  await page.click("#mail-link");
  await page.waitForURL(`${base}/t/tasks/${n}`);
  const deny = actionForm("Deny");
  const reason = deny.locator("textarea[name=comment]");
  // The browser itself would ask for the reason when the field says it is required: that check
  // is set aside, so the server's own refusal is what is tested.
  await deny.evaluate((form) => { form.noValidate = true; });
  await reason.fill("");
  await submit(deny.getByRole("button", { name: "Deny", exact: true }));
  assert.equal(page.url(), `${base}/t/tasks/${n}`);
  const result = await flash();
  assert.equal(result.error, true, `a refusal: ${result.text}`);
  assert.match(result.text, /reason/i);
  await shot("04-deny-without-reason-refused");
  const t = await task(n);
  assert.equal(t.state, "reviewing");
  assert.equal(review(t).outcome, null);
  shared.reviewing = n;
});

test("tampered, expired and foreign links, and a missing session, get their pages", async () => {
  const n = shared.reviewing;
  const good = (await mailedLink(n)).split("/t/")[1];
  const dot = good.indexOf(".");
  // One character of the signature changed (its first: all six of its bits count).
  const tampered = good.slice(0, dot + 1) + (good[dot + 1] === "A" ? "B" : "A") + good.slice(dot + 2);
  const fresh = await browser.newContext();
  try {
    const p = await fresh.newPage();
    let r = await p.goto(`${base}/t/${tampered}`);
    assert.equal(r.status(), 400);
    assert.equal(await heading(p), "This link is not valid");
    await shot("05-tampered-link", p);

    // Another task in a token signed for this one: the signature no longer matches.
    const [payload, mac] = good.split(".");
    const claims = Buffer.from(payload, "base64url").toString().split("\n");
    assert.deepEqual([claims[0], claims[1], claims[2]], ["l1", String(n), "rhea"]);
    const otherTask = Buffer.from(["l1", String(shared.approved), "rhea", claims[3]].join("\n")).toString("base64url");
    r = await p.goto(`${base}/t/${otherTask}.${mac}`);
    assert.equal(r.status(), 400);
    r = await p.goto(`${base}/t/not-a-token`);
    assert.equal(r.status(), 400);
    assert.equal(await heading(p), "This link is not valid");

    r = await p.goto(`${base}/t/${forgeToken({ task: n, person: "rhea", expires: Date.now() - 60000 })}`);
    assert.equal(r.status(), 410);
    assert.equal(await heading(p), "This link has expired");
    await shot("06-expired-link", p);

    // Signed with the key, but for someone not involved in the task, or nobody at all.
    for (const person of ["ines", "nobody"]) {
      r = await p.goto(`${base}/t/${forgeToken({ task: n, person, expires: Date.now() + 3600000 })}`);
      assert.equal(r.status(), 403, person);
      assert.equal(await heading(p), "This link no longer opens this task");
    }
    await shot("07-link-not-for-this-person", p);
    // A token signed with another key is tampered with.
    r = await p.goto(`${base}/t/${forgeToken({ task: n, person: "rhea", expires: Date.now() + 3600000 },
                                             "another-key-of-at-least-32-characters!!")}`);
    assert.equal(r.status(), 400);
    assert.equal((await fresh.cookies(`${base}/t/`)).length, 0, "no refused link starts a session");

    // No session: the task page and the inbox say so.
    for (const path of [`/t/tasks/${n}`, "/t/inbox"]) {
      r = await p.goto(`${base}${path}`);
      assert.equal(r.status(), 401, path);
      assert.equal(await heading(p), "Your session has ended");
    }
    await shot("08-no-session", p);
  } finally {
    await fresh.close();
  }
  assert.equal((await task(n)).state, "reviewing");
});

test("a form that did not come from the page is refused, and changes nothing", async () => {
  const n = shared.reviewing;
  await page.goto(`${base}/t/tasks/${n}`);
  // The page is served with a CSP that allows no inline script.
  const csp = (await (await page.goto(`${base}/t/tasks/${n}`)).allHeaders())["content-security-policy"] || "";
  assert.match(csp, /default-src|script-src/, `a Content-Security-Policy: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline/);

  const approve = actionForm("Approve");
  const action = new URL(await approve.getAttribute("action") || `/t/tasks/${n}`, `${base}/t/tasks/${n}`).href;
  const fields = await approve.evaluate((form) => [...new FormData(form)].map(([k, v]) => [k, String(v)]));
  assert.ok(fields.some(([k, v]) => k === "csrf" && v.length > 0), `a hidden csrf field: ${JSON.stringify(fields)}`);
  const cookie = (await context.cookies(`${base}/t/`)).find((c) => c.name === "tg_session");
  const post = (form, origin) => fetch(action, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: `tg_session=${cookie.value}`,
               Origin: origin },
    body: new URLSearchParams(form.map(([k, v]) => [k, k === "comment" ? "forged" : v])).toString(),
  });
  const forged = /<h1[^>]*>\s*This form did not come from Tollgate\s*<\/h1>/;

  let r = await post(fields.filter(([k]) => k !== "csrf"), base);
  assert.equal(r.status, 403, "a POST without csrf");
  assert.match(await r.text(), forged);
  r = await post(fields.map(([k, v]) => [k, k === "csrf" ? v.slice(0, -2) + (v.endsWith("AA") ? "BB" : "AA") : v]), base);
  assert.equal(r.status, 403, "a POST with a wrong csrf");
  assert.match(await r.text(), forged);
  r = await post(fields, "http://evil.test");
  assert.equal(r.status, 403, "a POST from another origin");
  assert.match(await r.text(), forged);

  const t = await task(n);
  assert.equal(t.state, "reviewing");
  assert.equal(review(t).outcome, null);
  assert.ok(!t.comments.some((c) => c.text === "forged"));
});

test("two tasks approved at once from the inbox, each with the one comment", async () => {
  const a = await request("ines", "billing", "cost report for Q4");
  const b = await request("bo", "logs", "tracing a customer's failed payments");
  await mailedLink(b);
  await page.getByRole("link", { name: "All my tasks" }).click();
  await page.waitForURL(/\/t\/inbox/);
  assert.equal(await heading(), "All my tasks");
  const tabs = page.locator("nav[aria-label=Tabs]");
  const requests = tabs.getByRole("link", { name: /^Requests \(\d+\)$/ });
  assert.equal(await requests.count(), 1);
  // a, b and the task still being reviewed.
  assert.equal(/\((\d+)\)/.exec(await requests.innerText())[1], "3");
  const yours = (await page.locator("h2").allInnerTexts()).map((s) => s.trim());
  assert.ok(yours.includes("Your access"), `a section "Your access" among ${JSON.stringify(yours)}`);
  for (const n of [a, b, shared.reviewing]) {
    assert.match(await page.locator(`#pick-${n}`).getAttribute("value"), new RegExp(`^${n}:\\d+$`));
  }
  await shot("09-inbox");

  await page.check(`#pick-${a}`);
  await page.check(`#pick-${b}`);
  await page.fill("#bulk-comment", "Both fine, reviewed together");
  await submit(page.locator("form#bulk").getByRole("button", { name: "Approve selected" }));
  assert.match(page.url(), /\/t\/inbox(\?|$)/);
  const result = await flash();
  assert.equal(result.error, false, `the bulk result: ${result.text}`);
  await shot("10-inbox-after-bulk-approve");
  assert.equal(/\((\d+)\)/.exec(await tabs.getByRole("link", { name: /^Requests \(\d+\)$/ }).innerText())[1], "1");

  for (const n of [a, b]) {
    const t = await task(n);
    assert.deepEqual([review(t).outcome, review(t).decided_by], ["approve", "rhea"], `#${n}`);
    assert.ok(t.comments.some((c) => c.author === "rhea" && c.text === "Both fine, reviewed together") ||
              review(t).comment === "Both fine, reviewed together", `#${n}: ${JSON.stringify(t.comments)}`);
  }
  assert.equal((await task(shared.reviewing)).state, "reviewing", "an unticked task is left alone");
});

test("no link's token reaches Tollgate's log", () => {
  assert.ok(shared.links && shared.links.length > 0, "links were opened");
  for (const link of shared.links) {
    const token = link.slice(link.indexOf("/t/") + 3);
    assert.ok(!log.includes(token), `the log holds the token of ${link}`);
  }
  assert.match(log, /path=\/t\/<token> status=303/, "a link's request is logged, its token left out");
});

test("the task page and the inbox have no serious or critical accessibility violation", async () => {
  await axe(`/t/tasks/${shared.reviewing}`, "task page");
  await axe(`/t/tasks/${shared.approved}`, "decided task page");
  await axe("/t/inbox", "inbox");
});
