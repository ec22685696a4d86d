// The audit log's keys, and signed checkpoints of it.
//
// The audit key (HMAC-SHA-256, storage's StoreOptions::audit_key) comes from
// TOLLGATE_AUDIT_KEY: 64 to 128 hexadecimal digits (32 to 64 bytes; `openssl
// rand -hex 32` makes one), kept outside the database. Unset, it is read from
// a key file: TOLLGATE_AUDIT_KEY_FILE, else beside the SQLite database
// (PATH.audit-key), which `serve` and `migrate` create once (0600, random,
// owned by the process's user). PostgreSQL has no default file: a file made
// in the working directory is lost with a container, and a log sealed under
// a lost key takes no more events; TOLLGATE_AUDIT_KEY or an existing
// TOLLGATE_AUDIT_KEY_FILE is required there. A key file only protects the
// log against someone who can write the database but cannot read the file's
// folder.
//
// A checkpoint is the event count and the last event's hash, signed with
// Ed25519 (private key: a PEM file named by TOLLGATE_AUDIT_SIGNING_KEY, as
// `openssl genpkey -algorithm ed25519` writes it). Kept outside Tollgate (a
// mail, a ticket, another machine), it lets `audit verify --checkpoint` tell
// a log rolled back behind it or rewritten before it. Its text:
//
//   tollgate audit checkpoint v1
//   events: 42
//   head: <64 hex digits: the hash of event 42; 64 zeros for 0 events>
//   at: 2026-11-26T10:42:07.123Z
//   public_key: <64 hex digits: the raw Ed25519 public key>
//   signature: <128 hex digits: Ed25519 over the first four lines>
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace tollgate {

struct ChainReport;
class Store;

struct AuditKey {
  std::string bytes;     // raw, 32 to 64 bytes; empty: none found
  std::string source;    // "TOLLGATE_AUDIT_KEY" or the key file's path
  bool created = false;  // the key file was made just now
  // From a key file Tollgate chose (not TOLLGATE_AUDIT_KEY, nor a file the
  // operator named): it sits beside the data it protects.
  bool default_file = false;
};

// The key file used when TOLLGATE_AUDIT_KEY is not set (see above).
std::string audit_key_file(const std::string& db_url);

// A key written as 64 to 128 hexadecimal digits (an even count); `name` (a
// variable or a file) is named in the error, the text never is.
StatusOr<std::string> parse_audit_key(std::string_view text, const std::string& name);

// TOLLGATE_AUDIT_KEY, else the key file. `create`: make the key file
// (exclusively, 0600, from the system's random generator) when it does not
// exist, except with PostgreSQL, where `create` without either variable, or
// with a missing TOLLGATE_AUDIT_KEY_FILE, is an error naming both; without
// `create` a missing default file (or PostgreSQL without either variable)
// gives an empty key, and a missing TOLLGATE_AUDIT_KEY_FILE an error. A key
// file that is a link, is owned by another user, or is readable or writable
// by group or others is refused. Code::invalid_argument naming the variable
// or file.
StatusOr<AuditKey> load_audit_key(const std::string& db_url, bool create);
// What to tell the operator when the key came from a default key file.
std::string default_key_warning(const AuditKey& key);

struct Checkpoint {
  std::int64_t events = 0;
  std::string head;        // 64 hex digits
  std::string at;          // ISO 8601, as written
  std::string public_key;  // 64 hex digits
  std::string signature;   // 128 hex digits
};

// The checkpoint of a log whose last event (number `events`) has hash
// `head`, signed with the Ed25519 key in the PEM file at `key_path`, as text.
// `name` (TOLLGATE_AUDIT_SIGNING_KEY) is named in errors.
StatusOr<std::string> sign_checkpoint(std::int64_t events, const std::string& head, Time at,
                                      const std::string& key_path, const std::string& name);

// Reads a checkpoint's text and checks that it is signed by the PEM public
// key at `pinned_key_path`. That key is required (invalid_argument when
// empty): the key written in the checkpoint proves nothing, since whoever
// forges a checkpoint writes their own. Code::permission_denied when the
// signature or the key does not match; invalid_argument when the text is not
// a checkpoint.
StatusOr<Checkpoint> read_checkpoint(std::string_view text, const std::string& pinned_key_path);

// Compares the log with a checkpoint, on top of `report` (verify_chain's):
// a log with fewer events was rolled back; a log whose event at the
// checkpoint's count has another hash was rewritten. Sets report's problem
// and broken_seq then; leaves an already broken report alone.
Status check_checkpoint(Store& store, const Checkpoint& checkpoint, ChainReport& report);

}  // namespace tollgate
