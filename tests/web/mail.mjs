// The mails tests/support/smtp_server.py received (one JSON file each, 1.json, 2.json, … in its
// folder), and the text part of a MIME message: enough of RFC 2045/2046 for what libcurl's MIME
// API writes (a multipart/alternative of base64 parts, or a single part).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// The mails received so far, in order: {mail_from, rcpt_tos, data, login, tls}.
export function receivedMails(dir) {
  const out = [];
  for (let n = 1; existsSync(join(dir, `${n}.json`)); ++n) {
    out.push(JSON.parse(readFileSync(join(dir, `${n}.json`), "utf8")));
  }
  return out;
}

// Header lines unfolded, and the body, of one message or part.
function split(raw) {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? "" : raw.slice(at).replace(/^\r?\n\r?\n/, "");
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decode(part) {
  const cte = (part.headers["content-transfer-encoding"] || "").toLowerCase();
  if (cte === "base64") return Buffer.from(part.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (cte === "quoted-printable") {
    const bytes = part.body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return part.body;
}

// The decoded parts of a message whose type starts with `type` ("text/plain", "text/html").
function parts(raw, type) {
  const message = split(raw);
  const contentType = message.headers["content-type"] || "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!boundary) return contentType.toLowerCase().startsWith(type) ? [decode(message)] : [];
  const out = [];
  for (const chunk of message.body.split(`--${boundary[1]}`).slice(1)) {
    if (chunk.startsWith("--")) break;  // the closing delimiter
    out.push(...parts(chunk.replace(/^\r?\n/, ""), type));
  }
  return out;
}

export function textPart(raw) {
  return parts(raw, "text/plain").join("\n");
}
export function htmlPart(raw) {
  return parts(raw, "text/html").join("\n");
}
export function subject(raw) {
  return split(raw).headers.subject || "";
}
