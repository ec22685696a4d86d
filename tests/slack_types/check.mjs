#!/usr/bin/env node
// Type-checks every payload Tollgate sent to the fake Slack against Slack's own TypeScript
// definitions (@slack/types, @slack/web-api's argument types; see payload_types.ts), under
// strict tsc.
//
//   node tests/slack_types/check.mjs DIR [--out GENERATED_DIR] [--max-shown N]
//   node tests/slack_types/check.mjs --clear DIR    (before the suites: DIR created, emptied of payloads)
//
// DIR holds the files the fake Slack writes when TOLLGATE_SLACK_PAYLOADS names it (sandbox/
// fake_slack.cc): one `{"kind": K, "payload": P}` per file. Payloads that differ only in free text
// and ids (see `shape`) are checked once. Each one checked becomes an object literal assigned to a
// const of its kind's type, so that excess-property checks apply to every nested block, element
// and text object. Prints each error with the payload's kind, a file it came from, the JSON path
// and tsc's diagnostic, then a summary line; exits 1 on any error and also when DIR holds no
// payload at all (a check that saw nothing must not pass), 2 on a usage error or when tsc cannot
// run.
//
// The generated TypeScript goes to a temporary folder that is removed afterwards, or with --out
// to GENERATED_DIR, kept for a look (the files of an earlier check there are replaced).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const typesFile = path.join(here, 'payload_types.ts');
const tscBin = path.join(here, 'node_modules', 'typescript', 'bin', 'tsc');

export const KINDS = [
  'chat.postMessage', 'chat.update', 'chat.postEphemeral', 'response_url',
  'views.open', 'views.push', 'views.update', 'views.publish',
  'command_ack', 'view_submission_ack',
];

// How the generated sources are cut: a file holds at most FILE_LINES lines (one property or
// element per line), and one tsc run at most RUN_LINES. tsc holds a whole program in memory
// (about 0.7 KB per line here) and slows down more than linearly as it grows, so a large
// recording is checked in several runs of bounded size, one after the other; within a run,
// TypeScript 7 checks the files in parallel.
const FILE_LINES = 20000;
const RUN_LINES = 300000;

// Reads DIR: every *.json file, in name order. Returns the payloads and the problems of the
// files that are not a {kind, payload} record of a known kind.
export function readPayloads(dir) {
  const payloads = [];
  const problems = [];
  let names;
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    problems.push({ file: dir, message: `cannot read the payload directory: ${e.message}` });
    return { payloads, problems };
  }
  for (const name of names) {
    let record;
    try {
      record = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch (e) {
      problems.push({ file: name, message: `not JSON: ${e.message}` });
      continue;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      problems.push({ file: name, message: 'not a {"kind", "payload"} object' });
    } else if (!KINDS.includes(record.kind)) {
      problems.push({ file: name, kind: String(record.kind), message: `unknown kind ${JSON.stringify(record.kind)} (known: ${KINDS.join(', ')})` });
    } else if (record.payload === null || typeof record.payload !== 'object' || Array.isArray(record.payload)) {
      problems.push({ file: name, kind: record.kind, message: 'the payload is not a JSON object' });
    } else {
      payloads.push({ file: name, kind: record.kind, payload: record.payload });
    }
  }
  return { payloads, problems };
}

// Properties whose string values are free text or identifiers: wherever these names appear in the
// types payload_types.ts uses, a string value is typed `string`, never a literal or template type
// (grep the .d.ts of @slack/types and @slack/web-api's request types when updating them), so
// payloads that differ only in such values get the same verdict from tsc. What tsc checks is the
// shape itself, blanked values included, so that should one of these names ever get a literal
// type, the check fails on it (and the name leaves this list) rather than merging payloads whose
// verdicts differ.
const FREE_STRINGS = new Set([
  'text', 'value', 'block_id', 'action_id', 'callback_id', 'private_metadata', 'external_id',
  'channel', 'ts', 'thread_ts', 'user', 'user_id', 'trigger_id', 'view_id', 'hash', 'alt_text',
  'image_url', 'url', 'initial_value', 'initial_user', 'initial_date', 'initial_time',
  'accessibility_label', 'fallback',
]);

// The payload with the string values of FREE_STRINGS properties blanked: its shape.
export function shape(value, key = null) {
  if (Array.isArray(value)) return value.map((v) => shape(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v, k)]));
  }
  return typeof value === 'string' && FREE_STRINGS.has(key) ? '' : value;
}

// Payloads of one kind and one shape, checked once: thousands of assignment messages differ only
// in names, numbers and ids. Returns the shapes [{kind, payload: the shape, files: [...]}] in
// first-seen order, and how many distinct payloads there were.
export function dedupe(payloads) {
  const byShape = new Map();
  const distinct = new Set();
  for (const p of payloads) {
    distinct.add(`${p.kind}\u0000${JSON.stringify(p.payload)}`);
    const blanked = shape(p.payload);
    const key = `${p.kind}\u0000${JSON.stringify(blanked)}`;
    const seen = byShape.get(key);
    if (seen) seen.files.push(p.file);
    else byShape.set(key, { kind: p.kind, payload: blanked, files: [p.file] });
  }
  return { shapes: [...byShape.values()], distinct: distinct.size };
}

function pathStep(parent, key) {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

// Writes `value` as a TypeScript literal, one property or element per line, appending to `lines`
// and recording in `paths` the JSON path each line belongs to (so a diagnostic's line names the
// place in the payload).
function emitLiteral(value, indent, prefix, suffix, jsonPath, lines, paths) {
  const pad = '  '.repeat(indent);
  const push = (text, p) => { lines.push(text); paths.push(p); };
  if (Array.isArray(value) ? value.length === 0 : value === null || typeof value !== 'object' || Object.keys(value).length === 0) {
    push(`${pad}${prefix}${JSON.stringify(value)}${suffix}`, jsonPath);
    return;
  }
  const isArray = Array.isArray(value);
  push(`${pad}${prefix}${isArray ? '[' : '{'}`, jsonPath);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  entries.forEach(([key, v], i) => {
    // `__proto__` as a plain key would set the prototype; computed, it is a property.
    const name = isArray ? '' : key === '__proto__' ? '["__proto__"]: '
      : /^[A-Za-z_$][\w$]*$/.test(key) ? `${key}: ` : `${JSON.stringify(key)}: `;
    emitLiteral(v, indent + 1, name, i + 1 < entries.length ? ',' : '', pathStep(jsonPath, key), lines, paths);
  });
  push(`${pad}${isArray ? ']' : '}'}${suffix}`, jsonPath);
}

// Generates the TypeScript sources for the payloads to check (`entries`) into `outDir`: files
// payloads-N.ts, grouped into tsc runs, each with its tsconfig-R.json. Returns the runs as
// [{tsconfig, files: Map(file name -> {owners, paths})}], where owners[line - 1] is the entry a
// line of the file belongs to and paths[line - 1] the JSON path in it.
export function generate(entries, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const typesPath = path.relative(outDir, typesFile).split(path.sep).join('/');
  const typesImport = typesPath.startsWith('.') ? typesPath : `./${typesPath}`;
  const runs = [];
  let run = null;
  let file = null;
  const flushFile = () => {
    if (file === null) return;
    fs.writeFileSync(path.join(outDir, file.name), `${file.lines.join('\n')}\n`);
    run.files.set(file.name, { owners: file.owners, paths: file.paths });
    run.lines += file.lines.length;
    file = null;
  };
  entries.forEach((entry, i) => {
    if (file !== null && file.lines.length >= FILE_LINES) flushFile();
    if (file === null && (run === null || run.lines >= RUN_LINES)) {
      run = { tsconfig: `tsconfig-${runs.length}.json`, files: new Map(), lines: 0 };
      runs.push(run);
    }
    if (file === null) {
      file = {
        name: `payloads-${runs.length - 1}-${run.files.size}.ts`,
        lines: [
          '// Generated by tests/slack_types/check.mjs: every payload checked, as a literal of its type.',
          `import type { PayloadOfKind } from ${JSON.stringify(typesImport)};`,
        ],
        paths: [null, null],
        owners: [null, null],
      };
    }
    const before = file.lines.length;
    emitLiteral(entry.payload, 0, `export const p${i}: PayloadOfKind[${JSON.stringify(entry.kind)}] = `, ';', '',
      file.lines, file.paths);
    for (let l = before; l < file.lines.length; l++) file.owners.push(entry);
  });
  flushFile();
  for (const r of runs) {
    const tsconfig = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022'],
        module: 'preserve',
        moduleResolution: 'bundler',
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        types: [],
      },
      files: [typesPath, ...r.files.keys()],
    };
    fs.writeFileSync(path.join(outDir, r.tsconfig), `${JSON.stringify(tsconfig, null, 2)}\n`);
  }
  return runs;
}

// Runs the pinned tsc (strict, no emit) on one generated project; returns its diagnostics as
// [{file, line, column, code, message: [first line, ...continuation lines]}].
export function runTsc(tsconfig) {
  if (!fs.existsSync(tscBin)) {
    throw new Error(`${tscBin} is missing: run "npm ci --prefix ${here}" (scripts/deps.sh does)`);
  }
  const r = spawnSync(process.execPath, [tscBin, '-p', tsconfig, '--strict', '--noEmit', '--pretty', 'false'],
    { cwd: path.dirname(tsconfig), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  const diagnostics = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/.exec(line);
    if (m) {
      diagnostics.push({ file: m[1], line: Number(m[2]), column: Number(m[3]), code: m[5], message: [m[6]] });
    } else if (line.trim() !== '' && diagnostics.length > 0 && /^\s/.test(line)) {
      diagnostics[diagnostics.length - 1].message.push(line.trim());
    } else if (line.trim() !== '') {
      diagnostics.push({ file: null, line: 0, column: 0, code: '', message: [line.trim()] });
    }
  }
  if (r.status !== 0 && diagnostics.length === 0) {
    throw new Error(`tsc exited with ${r.status ?? r.signal} and no diagnostic: ${r.stderr.trim()}`);
  }
  return diagnostics;
}

// Checks every payload in `dir`. Returns {payloads, distinct, shapes, errors: [{kind, file, files,
// path, code, message}], ms}; `out` keeps the generated sources there instead of in a temporary
// folder.
export function check(dir, { out } = {}) {
  const started = process.hrtime.bigint();
  const { payloads, problems } = readPayloads(dir);
  const { shapes, distinct } = dedupe(payloads);
  const errors = problems.map((p) => ({ kind: p.kind ?? '?', file: p.file, files: [p.file], path: '', code: '', message: [p.message] }));
  if (shapes.length > 0) {
    const outDir = out ? path.resolve(out) : fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-slack-types-'));
    try {
      if (out && fs.existsSync(outDir)) {
        for (const name of fs.readdirSync(outDir)) {
          if (/^(payloads-\d+-\d+\.ts|tsconfig-\d+\.json)$/.test(name)) fs.rmSync(path.join(outDir, name));
        }
      }
      for (const run of generate(shapes, outDir)) {
        for (const d of runTsc(path.join(outDir, run.tsconfig))) {
          const generated = d.file && run.files.get(path.basename(d.file));
          const entry = generated ? generated.owners[d.line - 1] : null;
          if (entry) {
            errors.push({ kind: entry.kind, file: entry.files[0], files: entry.files, path: generated.paths[d.line - 1] ?? '',
              code: d.code, message: d.message });
          } else {
            errors.push({ kind: '?', file: d.file ? `${d.file}:${d.line}:${d.column}` : 'tsc', files: [], path: '',
              code: d.code, message: d.message });
          }
        }
      }
    } finally {
      if (!out) fs.rmSync(outDir, { recursive: true, force: true });
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { payloads: payloads.length, distinct, shapes: shapes.length, errors, ms };
}

export function formatError(e) {
  const where = e.path ? ` at ${e.path}` : '';
  const others = e.files.length > 1 ? ` (and ${e.files.length - 1} more of its shape)` : '';
  const [first, ...rest] = e.message;
  // tsc's chain goes from the whole payload down to the cause: keep the first line and the cause.
  const cause = rest.length > 0 ? `\n      ${rest[rest.length - 1]}` : '';
  return `  ${e.kind} from ${e.file}${others}${where}:\n    ${e.code ? `${e.code}: ` : ''}${first}${cause}`;
}

// The files the fake Slack writes: <pid>-<seq>.json.
const PAYLOAD_FILE = /^\d+-\d+\.json$/;

// Creates DIR if need be and removes the payload files in it (and nothing else), so that a check
// sees only the payloads of this run.
export function clear(dir) {
  fs.mkdirSync(dir, { recursive: true });
  let removed = 0;
  for (const name of fs.readdirSync(dir)) {
    if (PAYLOAD_FILE.test(name)) {
      fs.rmSync(path.join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}

function main(argv) {
  const usage = 'usage: node check.mjs DIR [--out GENERATED_DIR] [--max-shown N]\n       node check.mjs --clear DIR';
  let dir = null;
  let out;
  let maxShown = 50;
  let clearing = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--clear') clearing = true;
    else if (a === '--out' && i + 1 < argv.length) out = argv[++i];
    else if (a === '--max-shown' && i + 1 < argv.length) maxShown = Number(argv[++i]);
    else if (a === '-h' || a === '--help') { console.log(usage); return 0; }
    else if (!a.startsWith('-') && dir === null) dir = a;
    else { console.error(usage); return 2; }
  }
  if (dir === null || !Number.isFinite(maxShown)) { console.error(usage); return 2; }
  if (clearing) {
    const removed = clear(dir);
    console.log(`slack types: ${dir} ready for payloads (${removed} old ones removed)`);
    return 0;
  }
  let result;
  try {
    result = check(dir, { out });
  } catch (e) {
    console.error(`slack types: ${e.message}`);
    return 2;
  }
  const { payloads, distinct, shapes, errors, ms } = result;
  for (const e of errors.slice(0, maxShown)) console.log(formatError(e));
  if (errors.length > maxShown) console.log(`  ... and ${errors.length - maxShown} more errors (--max-shown N shows more)`);
  console.log(`slack types: ${payloads} payloads (${distinct} distinct, ${shapes} shapes) checked: ` +
    `${errors.length} errors (${(ms / 1000).toFixed(1)} s)`);
  if (payloads === 0) {
    console.log(`slack types: no payload in ${dir}: nothing was checked, which is a failure ` +
      '(did the tests run with TOLLGATE_SLACK_PAYLOADS naming this directory?)');
    return 1;
  }
  return errors.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
