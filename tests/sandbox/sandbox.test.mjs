// The sandbox page in Debian's headless Chromium, driven by playwright-core.
//
// Starts the real `tollgate serve --sandbox` (a fresh SQLite file, the example
// company), opens http://127.0.0.1:PORT/sandbox and does what people would do
// there: requests, clicks, modals, thread replies, the App Home. Every click
// travels as Slack's would: the page asks the sandbox, which signs a payload
// and POSTs it to Tollgate. Outcomes are read back from the page and from the
// admin API. Screenshots go to $TOLLGATE_SCREENSHOTS.
//
// Run by ctest (Sandbox.Browser), or: node --test tests/sandbox/sandbox.test.mjs
// with TOLLGATE_BINARY, TOLLGATE_SOURCE_DIR and optionally CHROMIUM set.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { eventually } from "../support/eventually.mjs";

const binary = process.env.TOLLGATE_BINARY;
// TOLLGATE_SANDBOX_MODE=socket: the same walk with `serve --sandbox --socket-mode`, where the
// page's actions reach Tollgate as Socket Mode envelopes on the connections it holds to the fake.
const socketMode = process.env.TOLLGATE_SANDBOX_MODE === "socket";
const source = process.env.TOLLGATE_SOURCE_DIR;
const shots = process.env.TOLLGATE_SCREENSHOTS || join(tmpdir(), "tollgate-sandbox-screenshots");
const apiToken = "sandbox-test-admin-token-0123456789";
const people = { bo: "U0BO", carl: "U0CARL", dana: "U0DANA", eve: "U0EVE", finn: "U0FINN", gita: "U0GITA", hugo: "U0HUGO",
                 lina: "U0SBLINA" };

let server, base, browser, page, dir, log = "";
let bulk = {};  // the tasks the App Home test approved in bulk

function startServer() {
  return new Promise((resolve, reject) => {
    // TOLLGATE_SLACK_PAYLOADS goes through: the sandbox's fake Slack records what Tollgate sends
    // there for the type check (tests/slack_types).
    const env = Object.fromEntries(Object.entries(process.env).filter(
      ([k]) => !k.startsWith("SLACK_") && (!k.startsWith("TOLLGATE_") || k === "TOLLGATE_SLACK_PAYLOADS")));
    env.TOLLGATE_API_TOKEN = apiToken;
    server = spawn(binary, ["serve", "--sandbox", ...(socketMode ? ["--socket-mode"] : []),
                            "--listen", "127.0.0.1:0",
                            "--config", join(source, "examples/acme.json"), "--db", `sqlite:${dir}/sandbox.db`],
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

async function task(n) {
  const r = await fetch(`${base}/api/v1/tasks/${n}`, { headers: { Authorization: `Bearer ${apiToken}` } });
  assert.equal(r.status, 200, `GET /api/v1/tasks/${n}`);
  return r.json();
}
async function shot(name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

// Switches the page to `who`, and waits for their workspace to be shown.
async function as(who) {
  await page.selectOption("#person", people[who]);
  await page.waitForFunction((id) => S.state && S.state.user === id, people[who]);
}
async function say(text) {
  if (!(await page.locator("#tab-messages.on").count())) await page.click("#tab-messages");
  await page.fill("#composer", text);
  await page.press("#composer", "Enter");
}
// The DM about task #n (its header names it).
function dm(n) {
  return page.locator("#messages .msg", { has: page.locator(".header-block", { hasText: `#${n}:` }) });
}
async function request(who, what) {
  await as(who);
  const replies = page.locator("#messages .msg.ephemeral", { hasText: "Requested" });
  const earlier = await replies.count();
  await say(`/tasks request ${what}`);
  const reply = replies.nth(earlier);
  await reply.waitFor();
  const n = Number(/ as #(\d+)/.exec(await reply.innerText())[1]);
  assert.ok(n > 0);
  return n;
}

before(async () => {
  assert.ok(binary && source, "TOLLGATE_BINARY and TOLLGATE_SOURCE_DIR must be set");
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "tollgate-sandbox-"));
  base = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.errors = errors;
  if (socketMode) {
    // Tollgate holds its Socket Mode connections to the fake before the walk starts.
    await eventually("Socket Mode connected", async () => {
      const r = await fetch(`${base}/readyz`);
      return r.status === 200 && /socket mode: 2 of 2 connections open/.test(await r.text());
    });
  }
  await page.goto(`${base}/sandbox`);
  await page.waitForSelector("#person option", { state: "attached" });
});

after(async () => {
  if (page) assert.deepEqual(page.errors, [], "the page threw");
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the page shows the configured people and renders Tollgate's Block Kit", async () => {
  const options = await page.locator("#person option").allInnerTexts();
  assert.equal(options.length, 28);
  assert.ok(options.includes("Dana Reyes · VP Engineering"));
  // A person without a Slack id gets one made up; Tollgate finds them by email.
  assert.ok(await page.locator(`#person option[value="${people.lina}"]`).count());
  await as("bo");
  await say("/tasks help");
  await page.locator("#messages .msg.ephemeral", { hasText: "your access-change tasks" }).waitFor();
  // mrkdwn: *bold* and `code` are rendered, not shown raw.
  const help = page.locator("#messages .msg.ephemeral", { hasText: "your access-change tasks" });
  assert.equal(await help.locator("b", { hasText: "/tasks" }).count(), 1);
  assert.ok(await help.locator("code").count() > 3);
  await say("/nope");
  await page.locator("#messages .msg.ephemeral", { hasText: "/nope is not a valid command" }).waitFor();
});

test("a request is approved through two steps, clicked in the page by two people", async () => {
  const n = await request("bo", "aws/prod-readonly -- debugging the payments outage");
  await shot("01-requester-asks");

  await as("dana");
  const first = dm(n);
  await first.waitFor();
  // Block Kit as Slack draws it: the header, the fields, the context, the buttons and their styles.
  assert.match(await first.locator(".header-block").innerText(), new RegExp(`Access request #${n}: Bo Chen`));
  assert.ok(await first.locator(".fields").count());
  assert.ok(await first.locator(".context").count());
  assert.equal(await first.locator("button.btn.primary", { hasText: "Approve" }).count(), 1);
  assert.equal(await first.locator("button.btn.danger", { hasText: "Deny" }).count(), 1);
  // The request is time-bound, so the step offers "Approve for…" beside "View details": the two
  // secondary actions are Slack's overflow menu (2 to 5 options).
  assert.equal(await first.getByRole("button", { name: "More actions" }).count(), 1);
  assert.equal(await first.getByRole("button", { name: "View details" }).count(), 0);
  await shot("02-manager-sees-request");
  // Deny asks first (the button's confirm object); Cancel sends nothing.
  await first.getByRole("button", { name: "Deny" }).click();
  const confirm = page.locator("#dialog-root .modal");
  await confirm.waitFor();
  assert.match(await confirm.innerText(), /Are you sure\?[\s\S]*Deny Bo Chen's request\?/);
  await shot("02b-deny-confirm");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await confirm.waitFor({ state: "detached" });
  assert.equal((await task(n)).state, "reviewing");
  await first.getByRole("button", { name: "Approve" }).click();
  // The message is updated in place: no buttons left, marked edited, the decision shown.
  await first.getByRole("button", { name: "Approve" }).waitFor({ state: "detached" });
  assert.match(await first.innerText(), /Dana Reyes/);
  assert.equal(await first.locator(".edited").count(), 1);
  await shot("03-manager-approved");

  await as("eve");
  const second = dm(n);
  await second.waitFor();
  assert.match(await second.innerText(), /Step 2 of 2/);
  await second.getByRole("button", { name: "Approve" }).click();
  await second.getByRole("button", { name: "Approve" }).waitFor({ state: "detached" });
  await shot("04-owner-approved");

  const t = await eventually("both steps decided", async () => {
    const t = await task(n);
    const reviews = t.steps.filter((s) => s.kind === "review");
    return reviews.every((s) => s.state === "done") ? t : null;
  });
  const reviews = t.steps.filter((s) => s.kind === "review");
  assert.deepEqual(reviews.map((s) => [s.outcome, s.decided_by]), [["approve", "dana"], ["approve", "eve"]]);
  assert.notEqual(t.state, "reviewing");

  // The requester is told, in their own DM.
  await as("bo");
  await page.locator("#messages .msg", { hasText: "approved by Eve Adams" }).first().waitFor();
  await shot("05-requester-told");
});

test("a reply in a task message's thread becomes a comment on the task", async () => {
  const n = await request("finn", "github/maintainer -- reviewing the deploy pipeline");
  await as("dana");
  const message = dm(n);
  await message.waitFor();
  await message.locator(".replies", { hasText: "Reply in thread" }).click();
  await page.fill("#thread-composer", "Checked with Finn's lead: fine for the quarter");
  await page.press("#thread-composer", "Enter");
  // The reply is in the thread at once, as in Slack…
  await page.locator("#thread-list .msg", { hasText: "Checked with Finn's lead" }).waitFor();
  // …and Tollgate records it on the task.
  const comment = await eventually("the comment on the task", async () => {
    const t = await task(n);
    return t.comments.find((c) => c.text === "Checked with Finn's lead: fine for the quarter");
  });
  assert.equal(comment.author, "dana");
  assert.equal(await message.locator(".replies", { hasText: "1 reply" }).count(), 1);
  await shot("06-thread-reply");
  await page.click("#thread-close");
  // The task's details (View details, in the message's overflow menu beside "Approve for…")
  // list it among the comments.
  await message.getByRole("button", { name: "More actions" }).click();
  await page.getByRole("menuitem", { name: "View details" }).click();
  const details = page.locator("#modal-root .modal");
  await details.waitFor();
  assert.match(await details.innerText(), /Checked with Finn's lead: fine for the quarter/);
  await shot("07-details-show-comment");
  await details.getByRole("button", { name: "Close" }).first().click();
  await details.waitFor({ state: "detached" });
});

test("the App Home counts change when tasks are acted on in bulk", async () => {
  const a = await request("carl", "snowflake/analyst -- quarterly dashboards");
  const b = await request("bo", "okta/app-admin -- SSO setup for the new CI");
  await as("dana");
  await page.click("#tab-home");
  const requests = page.locator("#home button.btn", { hasText: /^Requests \(\d+\)$/ });
  await requests.waitFor();
  const before = Number(/\((\d+)\)/.exec(await requests.innerText())[1]);
  assert.ok(before >= 2, `Requests (${before})`);
  await shot("08-home-before");
  // Tick both rows, then "Approve selected": one modal, one comment for all.
  for (const n of [a, b]) {
    await page.locator(`#home [data-block-id="row:${n}"] input[type=checkbox]`).check();
  }
  await page.locator("#home button.btn", { hasText: "Approve selected" }).click();
  const modal = page.locator(".modal[data-view-id]");
  await modal.waitFor();
  assert.match(await modal.locator("header").innerText(), /2 tasks/);
  await modal.getByRole("textbox").fill("Both fine, reviewed together");
  await modal.locator("button[data-submit]").click();
  // The modal turns into the report.
  await page.locator(".modal header", { hasText: "2 of 2 done" }).waitFor();
  await shot("09-bulk-report");
  await page.locator(".modal footer button", { hasText: "Close" }).click();
  await page.locator(".modal").waitFor({ state: "detached" });
  await eventually("the home counts to drop by 2", async () => {
    const text = await requests.innerText();
    return Number(/\((\d+)\)/.exec(text)[1]) === before - 2;
  });
  await shot("10-home-after");
  for (const n of [a, b]) {
    const t = await task(n);
    assert.deepEqual([t.steps[0].outcome, t.steps[0].decided_by], ["approve", "dana"]);
    assert.ok(t.comments.some((c) => c.text === "Both fine, reviewed together"));
  }
  await page.click("#tab-messages");
  bulk = { a, b };
});

test("a task is reassigned with the user picker of a modal", async () => {
  // Task a (Snowflake analyst) is now with its app owner, Gita.
  const n = bulk.a;
  await as("gita");
  const message = dm(n);
  await message.waitFor();
  await message.getByRole("button", { name: "More actions" }).click();
  await page.getByRole("menuitem", { name: "Reassign…" }).click();
  const modal = page.locator("#modal-root .modal");
  await modal.waitFor();
  assert.match(await modal.locator("header").innerText(), new RegExp(`Reassign #${n}`));
  await modal.getByLabel("Reassign to").selectOption(people.hugo);
  await modal.getByRole("textbox").fill("Hugo runs the analyst role this quarter");
  await shot("14-reassign-modal");
  await modal.locator("button[data-submit]").click();
  await modal.waitFor({ state: "detached" });
  const t = await eventually("the reassignment", async () => {
    const t = await task(n);
    return t.assignees.includes("hugo") ? t : null;
  });
  assert.ok(!t.assignees.includes("gita"));
  // Hugo has the task in his DM, with its buttons.
  await as("hugo");
  await dm(n).getByRole("button", { name: "Approve" }).waitFor();
  await shot("15-new-assignee");
});

test("a deny modal with a missing required reason shows Slack's error", async () => {
  const n = await request("carl", "github/admin -- org-wide branch protection");
  await as("dana");
  const message = dm(n);
  await message.waitFor();
  // This step wants a reason to deny: the button opens a modal (no confirm dialog).
  await message.getByRole("button", { name: "Deny" }).click();
  const modal = page.locator("#modal-root .modal");
  await modal.waitFor();
  assert.match(await modal.locator("header").innerText(), new RegExp(`Deny #${n}`));
  // Empty: Slack's client refuses before anything is sent.
  await modal.locator("button[data-submit]").click();
  const error = modal.locator(".input-error");
  await error.waitFor();
  assert.equal(await error.innerText(), "Please complete this required field.");
  await shot("11-deny-reason-required");
  assert.equal((await task(n)).state, "reviewing");
  // Blank: sent, and Tollgate's own error is shown under the field.
  await modal.getByRole("textbox").fill("   ");
  await modal.locator("button[data-submit]").click();
  await eventually("Tollgate's error", async () => {
    const text = await error.innerText().catch(() => "");
    return text !== "" && text !== "Please complete this required field." ? text : null;
  });
  assert.match(await error.innerText(), /reason/i);
  assert.equal((await task(n)).state, "reviewing");
  await shot("12-deny-blank-refused");
  // A reason: the modal closes and the request is denied.
  await modal.getByRole("textbox").fill("Admin is not needed for branch protection");
  await modal.locator("button[data-submit]").click();
  await page.locator("#modal-root .modal").waitFor({ state: "detached" });
  const t = await eventually("the denial", async () => {
    const t = await task(n);
    return t.state === "denied" ? t : null;
  });
  assert.deepEqual([t.steps[0].outcome, t.steps[0].decided_by], ["deny", "dana"]);
  await message.getByRole("button", { name: "Deny" }).waitFor({ state: "detached" });
  await shot("13-denied");
});

// Finding: the page turned any <target|label> of mrkdwn into a link, javascript: included.
// Only http, https and mailto become links; anything else is shown as text.
test("links in messages go only to http, https and mailto", async () => {
  const html = await page.evaluate(() => mrkdwn(
    "<javascript:alert(document.domain)|js> <JavaScript:alert(1)> < javascript:x|sp> " +
    "<data:text/html,hi|data> <vbscript:x|vb> <https://example.com/a?b=1|web> <http://example.com> " +
    "<mailto:security@example.com|mail>"));
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs, ["https://example.com/a?b=1", "http://example.com", "mailto:security@example.com"]);
  assert.ok(html.includes("js") && html.includes("data"), "the others are shown as text: " + html);
});

// The sandbox's API answers only with the page's session; the page sends it on every call.
test("the page's calls carry its session, and a call without it is refused", async () => {
  const session = await page.evaluate(() => SESSION);
  assert.match(session, /^[0-9a-f]{32}$/);
  const without = await page.evaluate(async () => (await fetch("/sandbox/api/people")).status);
  assert.equal(without, 403);
  const withIt = await page.evaluate(async () => (await sandboxFetch("people")).status);
  assert.equal(withIt, 200);
});
