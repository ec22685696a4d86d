// Slack's official Socket Mode client, @slack/socket-mode (pinned by package-lock.json),
// against the fake Slack's Socket Mode server (sandbox/fake_socket_mode.h): if the
// fake spoke anything but Slack's protocol, Slack's own client would not get through.
// The fake runs as tests/support/fake_slack_server (TOLLGATE_FAKE_SLACK_SERVER), driven
// over its stdin; the envelopes' payloads are Slack's own (tests/fixtures/slack/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SocketModeClient, LogLevel } from '@slack/socket-mode';
import { WebSocket } from 'undici';

const fixtures = fileURLToPath(new URL('../fixtures/slack/', import.meta.url));
const fixture = (name) => JSON.parse(readFileSync(`${fixtures}/socket_mode_${name}.json`, 'utf8'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The fake as a child process: one command a line in, one JSON line out.
class Fake {
  static async start(args = []) {
    const bin = process.env.TOLLGATE_FAKE_SLACK_SERVER;
    assert.ok(bin, 'TOLLGATE_FAKE_SLACK_SERVER names the fake_slack_server binary');
    const fake = new Fake();
    fake.child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    fake.lines = [];
    fake.waiters = [];
    createInterface({ input: fake.child.stdout }).on('line', (line) => {
      const w = fake.waiters.shift();
      if (w) w(line);
      else fake.lines.push(line);
    });
    fake.info = JSON.parse(await fake.next());
    return fake;
  }
  next() {
    if (this.lines.length) return Promise.resolve(this.lines.shift());
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async cmd(line) {
    this.child.stdin.write(`${line}\n`);
    return JSON.parse(await this.next());
  }
  send(conn, type, payload, accepts = false) {
    return this.cmd(`send ${conn} ${type} ${accepts ? 1 : 0} ${JSON.stringify(payload)}`);
  }
  async until(what, predicate, ms = 10000) {
    const end = performance.now() + ms; // monotonic: a step of the wall clock is no timeout
    for (;;) {
      const state = await this.cmd('state');
      if (predicate(state)) return state;
      if (performance.now() > end) assert.fail(`${what}; fake state: ${JSON.stringify(state)}`);
      await sleep(50);
    }
  }
  stop() {
    this.child.stdin.end();
    return new Promise((resolve) => this.child.on('exit', resolve));
  }
}

// A logger that keeps what the client logs (its ping/pong lines are how it shows them).
function recordingLogger() {
  const lines = [];
  let level = LogLevel.DEBUG;
  const keep = (...m) => lines.push(m.join(' '));
  return {
    lines,
    debug: keep, info: keep, warn: keep, error: keep,
    setLevel: (l) => { level = l; }, getLevel: () => level, setName: () => {},
  };
}

test('Slack\'s official client connects, acks envelopes, answers pings and follows a refresh', async (t) => {
  const fake = await Fake.start(['--ping-ms', '500']);
  const logger = recordingLogger();
  const client = new SocketModeClient({
    appToken: fake.info.app_token,
    logger,
    pingPongLoggingEnabled: true,
    // The fake pings every 500 ms: no reconnect unless its pings stop. 4 s, not the default
    // 30 s, so that a fake that never pinged would have lost its connection before the check
    // after the 5.6 s wait below; 8 pings' worth, so that a loaded machine's stall does not.
    serverPingTimeout: 4000,
    // No retries of apps.connections.open: the fake always answers it, and a test that fails
    // while the client is reconnecting must not leave it retrying against a fake that is gone
    // (the client's own default, 100 retries, would outlive ctest's timeout).
    clientOptions: { slackApiUrl: `${fake.info.api_url}/`, retryConfig: { retries: 0 } },
  });
  // The client first (so that it does not reconnect to a fake that is gone), then the fake.
  t.after(async () => {
    await client.disconnect();
    await fake.stop();
  });

  const seen = [];
  const named = [];
  client.on('app_mention', ({ envelope_id }) => named.push(['app_mention', envelope_id]));
  client.on('interactive', ({ envelope_id }) => named.push(['interactive', envelope_id]));
  client.on('slash_commands', ({ envelope_id }) => named.push(['slash_commands', envelope_id]));
  client.on('slack_event', async (e) => {
    seen.push(e);
    if (e.type === 'slash_commands') await e.ack({ response_type: 'ephemeral', text: 'No tasks waiting.' });
    else await e.ack();
  });

  await client.start(); // resolves on the fake's hello
  let state = await fake.until('one connection', (s) => s.connections.length === 1);
  assert.deepEqual(state.connections, [1]);
  assert.equal(state.connections_open_calls, 1);

  // events_api: the client emits the inner event's type and acks with the envelope_id.
  const events = fixture('envelope_events_api');
  const ev = await fake.send(1, 'events_api', events.payload);
  const evAck = await fake.cmd(`wait_ack ${ev.envelope_id} 5000`);
  assert.deepEqual(evAck, { envelope_id: ev.envelope_id, connection: 1, payload: {} });
  assert.equal(seen[0].type, 'events_api');
  assert.deepEqual(seen[0].body, events.payload);
  assert.equal(seen[0].retry_num, 0);
  assert.equal(seen[0].retry_reason, '');
  assert.equal(seen[0].accepts_response_payload, false);

  // interactive (a shortcut).
  const shortcut = fixture('envelope_interactive_shortcut');
  const ia = await fake.send(1, 'interactive', shortcut.payload);
  const iaAck = await fake.cmd(`wait_ack ${ia.envelope_id} 5000`);
  assert.deepEqual(iaAck, { envelope_id: ia.envelope_id, connection: 1, payload: {} });
  assert.deepEqual(seen[1].body, shortcut.payload);

  // slash_commands, answered in the ack.
  const command = fixture('envelope_slash_commands');
  const sc = await fake.send(1, 'slash_commands', command.payload, true);
  const scAck = await fake.cmd(`wait_ack ${sc.envelope_id} 5000`);
  assert.deepEqual(scAck, {
    envelope_id: sc.envelope_id,
    connection: 1,
    payload: { response_type: 'ephemeral', text: 'No tasks waiting.' },
  });
  assert.equal(seen[2].accepts_response_payload, true);
  assert.deepEqual(named, [
    ['app_mention', ev.envelope_id],
    ['interactive', ia.envelope_id],
    ['slash_commands', sc.envelope_id],
  ]);

  // A redelivery: same envelope_id, retry_attempt 1, retry_reason as Slack sends them.
  const again = await fake.cmd(`redeliver ${ev.envelope_id}`);
  assert.equal(again.envelope_id, ev.envelope_id);
  await fake.until('the redelivery acked', (s) => s.acks.filter((a) => a.envelope_id === ev.envelope_id).length === 2);
  assert.equal(seen[3].envelope_id, ev.envelope_id);
  assert.equal(seen[3].retry_num, 1);
  assert.equal(seen[3].retry_reason, 'timeout');

  // Pings both ways: the client's are answered with pongs, the fake's arrive (the client
  // would reconnect after serverPingTimeout without them). The client pings every 5 s.
  // More than a ping interval; then, on a slow machine, a little longer for the answers.
  await sleep(5600);
  const heard = (text) => logger.lines.some((l) => l.includes(text));
  for (let i = 0; i < 200 && !(heard('received pong from Slack server') &&
                               heard('received ping from Slack server')); ++i) await sleep(50);
  assert.ok(heard('received pong from Slack server'), 'a pong came back');
  assert.ok(heard('received ping from Slack server'), 'the fake pinged');
  state = await fake.cmd('state');
  assert.equal(state.opened, 1, 'no reconnect while pings flow');
  assert.deepEqual(state.connections, [1], 'the first connection still open');

  // disconnect refresh_requested: the client opens a new connection with a new URL.
  assert.deepEqual(await fake.cmd('disconnect 1 refresh_requested'), { ok: true });
  state = await fake.until('a second connection after the refresh',
    (s) => s.opened === 2 && s.connections.length === 1 && s.connections[0] === 2, 20000);
  assert.equal(state.connections_open_calls, 2);
  const after = await fake.send(-1, 'events_api', events.payload);
  const afterAck = await fake.cmd(`wait_ack ${after.envelope_id} 5000`);
  assert.equal(afterAck.connection, 2);

  // A connection closed without notice: the client reconnects by itself.
  assert.deepEqual(await fake.cmd('drop 2'), { ok: true });
  state = await fake.until('a third connection after the drop',
    (s) => s.opened === 3 && s.connections.length === 1 && s.connections[0] === 3, 20000);
  assert.equal(state.connections_open_calls, 3);
  assert.deepEqual(state.unparsed, [], 'the client sent nothing but acks');
});

test('the fake keeps Slack\'s rules: app token only, single-use tickets, hello, ack shapes', async (t) => {
  const fake = await Fake.start();
  let ws;
  t.after(async () => { // the socket first, then the fake
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => ws.addEventListener('close', resolve));
      ws.close();
      await closed;
    }
    await fake.stop();
  });
  const open = (auth, body = undefined) => fetch(`${fake.info.api_url}/apps.connections.open`, {
    method: 'POST',
    headers: auth ? { Authorization: auth } : {},
    body,
  }).then((r) => r.json());

  assert.deepEqual(await open(null), { ok: false, error: 'not_authed' });
  assert.deepEqual(await open(null, new URLSearchParams({ token: fake.info.app_token })),
    { ok: false, error: 'invalid_auth' }, 'the token belongs in the header');
  assert.deepEqual(await open('Bearer xapp-1-A0TEST-1-wrong'), { ok: false, error: 'invalid_auth' });
  assert.deepEqual(await open('Bearer xoxb-test-token'), { ok: false, error: 'not_allowed_token_type' });
  const opened = await open(`Bearer ${fake.info.app_token}`);
  assert.equal(opened.ok, true);
  assert.match(opened.url, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}&app_id=A0TEST$/);

  // The ticket opens one connection, which is greeted with hello.
  ws = new WebSocket(opened.url);
  const messages = [];
  ws.addEventListener('message', (e) => messages.push(JSON.parse(e.data)));
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', reject);
  });
  await fake.until('the connection', (s) => s.connections.length === 1);
  for (let i = 0; i < 500 && messages.length === 0; ++i) await sleep(20);
  assert.equal(messages[0].type, 'hello');
  assert.equal(messages[0].num_connections, 1);
  assert.deepEqual(messages[0].connection_info, { app_id: 'A0TEST' });
  assert.equal(typeof messages[0].debug_info.host, 'string');

  const reused = new WebSocket(opened.url);
  const refused = await new Promise((resolve) => {
    reused.addEventListener('open', () => resolve(false));
    reused.addEventListener('error', () => resolve(true));
  });
  assert.equal(refused, true, 'a used ticket opens nothing');
  assert.equal((await fake.cmd('state')).opened, 1);

  // Envelopes as Slack sends them; an ack without payload, and anything else kept aside.
  const sent = await fake.send(1, 'events_api', { type: 'event_callback', event: { type: 'app_mention' } });
  for (let i = 0; i < 500 && messages.length < 2; ++i) await sleep(20);
  assert.deepEqual(messages[1], {
    envelope_id: sent.envelope_id,
    type: 'events_api',
    payload: { type: 'event_callback', event: { type: 'app_mention' } },
    accepts_response_payload: false,
    retry_attempt: 0,
    retry_reason: '',
  });
  ws.send(JSON.stringify({ envelope_id: sent.envelope_id }));
  ws.send('{"type":"not an ack"}');
  assert.deepEqual(await fake.cmd(`wait_ack ${sent.envelope_id} 5000`),
    { envelope_id: sent.envelope_id, connection: 1, payload: null });
  await fake.until('the stray frame kept', (s) => s.unparsed.length === 1);

  const slash = await fake.send(1, 'slash_commands', { command: '/tasks' }, true);
  for (let i = 0; i < 500 && messages.length < 3; ++i) await sleep(20);
  assert.deepEqual(messages[2], {
    envelope_id: slash.envelope_id, type: 'slash_commands', payload: { command: '/tasks' },
    accepts_response_payload: true,
  });

  // disconnect, with each reason Slack sends; the socket stays open for the client to close.
  for (const reason of ['warning', 'link_disabled']) {
    assert.deepEqual(await fake.cmd(`disconnect 1 ${reason}`), { ok: true });
  }
  for (let i = 0; i < 500 && messages.length < 5; ++i) await sleep(20);
  assert.deepEqual(messages.slice(3).map((m) => [m.type, m.reason]),
    [['disconnect', 'warning'], ['disconnect', 'link_disabled']]);
  assert.equal(ws.readyState, WebSocket.OPEN);
  assert.deepEqual(await fake.cmd('send 7 events_api 0 {}'), { error: 'not_connected' });
});
