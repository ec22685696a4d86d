// The type check can fail: payloads/ holds known-bad payloads (bad-*.json, each with one mistake
// Slack's types forbid) beside good ones (good-*.json, one of each kind), and check.mjs must report
// every bad one and no good one. Run by ctest as SlackTypes.CheckRefusesKnownBadPayloads:
//   node --test tests/slack_types/selftest/selftest.test.mjs
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { check, clear, dedupe } from '../check.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const payloads = path.join(here, 'payloads');
const script = path.join(here, '..', 'check.mjs');
const names = fs.readdirSync(payloads).filter((n) => n.endsWith('.json')).sort();
const bad = names.filter((n) => n.startsWith('bad-'));
const good = names.filter((n) => n.startsWith('good-'));

function cli(...args) {
  return spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
}

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-slack-types-selftest-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('every known-bad payload is reported, and no good one', () => {
  assert.ok(bad.length >= 10 && good.length >= 10, `${bad.length} bad and ${good.length} good payloads`);
  const result = check(payloads);
  const reported = new Set(result.errors.flatMap((e) => e.files));
  assert.deepEqual(bad.filter((n) => !reported.has(n)), [], 'bad payloads the check let through');
  assert.deepEqual(good.filter((n) => reported.has(n)), [], 'good payloads the check refused');
  // Two good payloads are the same (good-chat.update*.json): checked once. The truncated file
  // and the unknown kind are not payloads.
  assert.equal(result.payloads, names.length - 2);
  assert.equal(result.distinct, names.length - 3);
});

test('each error names the kind, the file and the place in the payload', () => {
  const { errors } = check(payloads);
  const of = (file) => errors.find((e) => e.files.includes(file));
  const section = of('bad-section-unknown-property.json');
  assert.equal(section.kind, 'chat.postMessage');
  assert.equal(section.file, 'bad-section-unknown-property.json');
  assert.equal(section.path, 'blocks[0].txt');
  assert.match(section.message[0], /'txt' does not exist in type 'SectionBlock'/);
  assert.equal(of('bad-button-mrkdwn-text.json').path, 'blocks[0].elements[0].text.type');
  assert.equal(of('bad-home-view-with-title.json').path, 'view.title');
  assert.equal(of('bad-unknown-kind.json').kind, 'chat.postMesage');
});

test('the command fails on them, naming each bad file', () => {
  const r = cli(payloads, '--max-shown', '1000');
  assert.equal(r.status, 1, r.stdout + r.stderr);
  for (const n of bad) assert.ok(r.stdout.includes(` from ${n}`), `${n} not in the output:\n${r.stdout}`);
  assert.match(r.stdout, new RegExp(`slack types: ${names.length - 2} payloads \\(${names.length - 3} distinct, \\d+ shapes\\) checked: \\d+ errors`));
});

test('the command passes on the good ones alone', (t) => {
  const dir = tempDir(t);
  for (const n of good) fs.copyFileSync(path.join(payloads, n), path.join(dir, n));
  const r = cli(dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`slack types: ${good.length} payloads \\(${good.length - 1} distinct, \\d+ shapes\\) checked: 0 errors`));
});

test('payloads that differ only in free text and ids are checked once, other differences apart', () => {
  const message = (channel, text, style) => ({
    kind: 'chat.postMessage',
    payload: { channel, text, blocks: [{ type: 'actions', block_id: `b${text}`, elements: [
      { type: 'button', action_id: 'approve', value: text, style, text: { type: 'plain_text', text } }] }] },
  });
  const { shapes, distinct } = dedupe([
    { file: '1-1.json', ...message('D1', 'Task #1', 'primary') },
    { file: '1-2.json', ...message('D2', 'Task #2', 'primary') },
    { file: '1-3.json', ...message('D2', 'Task #2', 'primary') },
    { file: '1-4.json', ...message('D3', 'Task #3', 'danger') },
    { file: '1-5.json', kind: 'chat.update', payload: { ...message('D3', 'Task #3', 'danger').payload, ts: '1.2' } },
  ]);
  assert.equal(distinct, 4);
  assert.deepEqual(shapes.map((s) => s.files), [['1-1.json', '1-2.json', '1-3.json'], ['1-4.json'], ['1-5.json']]);
  assert.equal(shapes[0].payload.channel, '', 'what is checked is the shape, free strings blanked');
  assert.equal(shapes[0].payload.blocks[0].elements[0].style, 'primary');
});

test('a check that saw no payload fails', (t) => {
  const dir = tempDir(t);
  const r = cli(dir);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /no payload in/);
  assert.equal(cli(path.join(dir, 'missing')).status, 1);
});

test('--clear creates the folder and removes only the payload files', (t) => {
  const dir = path.join(tempDir(t), 'payloads');
  assert.equal(cli('--clear', dir).status, 0);
  fs.writeFileSync(path.join(dir, '123-4.json'), '{}');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'kept');
  assert.equal(clear(dir), 1);
  assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
});
