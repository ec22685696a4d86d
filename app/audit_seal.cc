#include "app/audit_seal.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "storage/store.h"
#include "base/time_text.h"

namespace tollgate {
namespace {

constexpr std::size_t kMinKeyBytes = 32;
constexpr std::size_t kMaxKeyBytes = 64;
constexpr std::size_t kMaxKeyFile = 1024;
constexpr const char* kKeyVariable = "TOLLGATE_AUDIT_KEY";
constexpr const char* kKeyFileVariable = "TOLLGATE_AUDIT_KEY_FILE";
constexpr std::string_view kCheckpointTitle = "tollgate audit checkpoint v1";

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes of an even count of hex digits; nullopt for anything else.
std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

bool lower_hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A variable's value; nullopt when unset. Set but empty is a value (refused later).
std::optional<std::string> variable(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string errno_text() {
  return std::strerror(errno);
}

// A secret file's text: a regular file (not followed through a link) owned
// by this process's user, no access for group or others, at most
// kMaxKeyFile bytes. A file another user owns is refused: that user could
// have chosen the key. Code::not_found when it does not exist.
StatusOr<std::string> read_secret_file(const std::string& path, const std::string& name) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(name + ": " + path + " does not exist");
    return invalid_argument(name + ": cannot read " + path + ": " + errno_text());
  }
  struct stat st {};
  std::string text;
  Status s;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    s = invalid_argument(name + ": " + path + " is not a regular file");
  } else if (st.st_uid != ::geteuid()) {
    s = invalid_argument(name + ": " + path + " is owned by uid " + std::to_string(st.st_uid) +
                         ", not by this process's user (uid " + std::to_string(::geteuid()) +
                         "): chown it");
  } else if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    s = invalid_argument(name + ": " + path + " is open to group or others (mode " + mode +
                         "): chmod 600 " + path);
  } else if (static_cast<std::size_t>(st.st_size) > kMaxKeyFile) {
    s = invalid_argument(name + ": " + path + " is too large for a key");
  } else {
    text.resize(static_cast<std::size_t>(st.st_size));
    ssize_t n = ::read(fd, text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size()))
      s = invalid_argument(name + ": cannot read " + path);
  }
  ::close(fd);
  if (!s.ok()) return s;
  return text;
}

// The folder a path is in ("." for a bare name).
std::string folder_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Flushes a folder's entries, so that a file just linked into it survives a
// crash. False (errno set) when it cannot.
bool sync_folder(const std::string& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Makes the key file with a fresh random key: written to a temporary file
// of an unpredictable name beside it (mkstemp: no stale or planted file
// blocks it), flushed, then linked into place and the folder flushed, so
// that no reader ever sees it half written, it survives a crash, and two
// processes starting at once end with one key (the second link fails and
// that process reads the first one's). Returns whether this call made it.
StatusOr<bool> create_key_file(const std::string& path) {
  unsigned char key[kMinKeyBytes];
  if (RAND_bytes(key, sizeof key) != 1) return internal_error("no random bytes for the audit key");
  std::string text = hex(std::string_view(reinterpret_cast<char*>(key), sizeof key)) + "\n";
  OPENSSL_cleanse(key, sizeof key);
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // 0600, O_EXCL
  if (fd < 0) {
    return invalid_argument(std::string("cannot create the audit key file ") + path + ": " +
                            errno_text() + " (set " + kKeyVariable + " or " + kKeyFileVariable +
                            ")");
  }
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(text.data(), text.size());
  if (!written) {
    ::unlink(tmp.c_str());
    return invalid_argument("cannot write the audit key file " + path + ": " + errno_text());
  }
  int linked = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return invalid_argument("cannot create the audit key file " + path + ": " +
                            std::strerror(link_errno));
  }
  if (linked == 0 && !sync_folder(folder_of(path))) {
    return invalid_argument("cannot flush the folder of the audit key file " + path + ": " +
                            errno_text());
  }
  return linked == 0;
}

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// An Ed25519 key from a PEM file: the private key, or (`public_only`) a public one.
StatusOr<PKey> read_pem_key(const std::string& path, const std::string& name, bool public_only) {
  std::string text;
  if (public_only) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
    if (!bio) return invalid_argument(name + ": cannot read " + path);
    PKey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
      return invalid_argument(name + ": " + path + " is not an Ed25519 public key in PEM");
    return key;
  }
  auto secret = read_secret_file(path, name);
  if (!secret.ok()) return secret.status();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(secret->data(), static_cast<int>(secret->size())), BIO_free);
  PKey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr,
           EVP_PKEY_free);
  OPENSSL_cleanse(secret->data(), secret->size());
  if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
    return invalid_argument(name + ": " + path + " is not an Ed25519 private key in PEM");
  return key;
}

std::string raw_public_key(EVP_PKEY* key) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof raw) return {};
  return std::string(reinterpret_cast<char*>(raw), len);
}

std::string checkpoint_body(std::int64_t events, const std::string& head, const std::string& at) {
  return std::string(kCheckpointTitle) + "\nevents: " + std::to_string(events) + "\nhead: " + head +
         "\nat: " + at + "\n";
}

// The value of line `name: value`; nullopt when the line is not that.
std::optional<std::string_view> field(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() + 2 || line.substr(0, name.size()) != name ||
      line.substr(name.size(), 2) != ": ")
    return std::nullopt;
  return line.substr(name.size() + 2);
}

bool iso_text(std::string_view at) {
  if (at.empty() || at.size() > 40) return false;
  for (char c : at) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == ':' || c == '.' || c == 'T' || c == 'Z'))
      return false;
  }
  return true;
}

}  // namespace

std::string audit_key_file(const std::string& db_url) {
  if (auto named = variable(kKeyFileVariable); named && !named->empty()) return *named;
  if (is_postgres_url(db_url)) return {};
  std::string path = db_url.rfind("sqlite:", 0) == 0 ? db_url.substr(7) : db_url;
  return path + ".audit-key";
}

StatusOr<std::string> parse_audit_key(std::string_view text, const std::string& name) {
  std::string_view t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  auto bytes = unhex(t);
  if (!bytes || bytes->size() < kMinKeyBytes || bytes->size() > kMaxKeyBytes) {
    return invalid_argument(name +
                            " must be 64 to 128 hexadecimal digits (a key of 32 to 64 bytes; "
                            "`openssl rand -hex 32` makes one), not " +
                            std::to_string(t.size()) + " characters of that form");
  }
  return std::move(*bytes);
}

StatusOr<AuditKey> load_audit_key(const std::string& db_url, bool create) {
  auto from_env = variable(kKeyVariable);
  auto named_file = variable(kKeyFileVariable);
  if (from_env && named_file) {
    return invalid_argument(std::string("set ") + kKeyVariable + " or " + kKeyFileVariable +
                            ", not both");
  }
  if (from_env) {
    auto bytes = parse_audit_key(*from_env, kKeyVariable);
    if (!bytes.ok()) return bytes.status();
    return AuditKey{std::move(*bytes), kKeyVariable, false, false};
  }
  if (named_file && named_file->empty())
    return invalid_argument(std::string(kKeyFileVariable) + " is set but empty");
  // PostgreSQL: no default file. One made in the working directory would be
  // lost with the container, and the log with it (nothing appends to a log
  // sealed under a lost key).
  if (is_postgres_url(db_url) && !named_file) {
    if (!create) return AuditKey{};
    return invalid_argument(std::string("with PostgreSQL, set ") + kKeyVariable +
                            " (64 hex digits: `openssl rand -hex 32`) or " + kKeyFileVariable +
                            " (an existing key file), and back it up with the database "
                            "credentials: a lost key stops every write to the audit log");
  }
  AuditKey key;
  key.source = audit_key_file(db_url);
  key.default_file = !named_file.has_value();
  std::string name = named_file ? std::string(kKeyFileVariable) + " (" + key.source + ")"
                                : "the audit key file " + key.source;
  auto text = read_secret_file(key.source, name);
  if (text.code() == Code::not_found && create && !is_postgres_url(db_url)) {
    auto made = create_key_file(key.source);
    if (!made.ok()) return made.status();
    key.created = *made;
    text = read_secret_file(key.source, name);
  }
  if (text.code() == Code::not_found && !named_file) return AuditKey{};
  if (!text.ok()) return text.status();
  auto bytes = parse_audit_key(*text, name);
  OPENSSL_cleanse(text->data(), text->size());
  if (!bytes.ok()) return bytes.status();
  key.bytes = std::move(*bytes);
  return key;
}

std::string default_key_warning(const AuditKey& key) {
  return std::string(key.created ? "made the audit key file " : "the audit key is read from ") +
         key.source + " because " + kKeyVariable +
         " is not set: this protects nothing against someone who can read that folder; in "
         "production set " +
         kKeyVariable + " (kept outside the database's host)";
}

StatusOr<std::string> sign_checkpoint(std::int64_t events, const std::string& head, Time at,
                                      const std::string& key_path, const std::string& name) {
  if (key_path.empty()) return invalid_argument(name + " is not set: a PEM Ed25519 private key");
  auto key = read_pem_key(key_path, name, false);
  if (!key.ok()) return key.status();
  std::string body = checkpoint_body(events, head, format_iso8601(at));
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char sig[64];
  std::size_t len = sizeof sig;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(body.data()),
                     body.size()) != 1 ||
      len != sizeof sig) {
    return internal_error("Ed25519 signing failed");
  }
  return body + "public_key: " + hex(raw_public_key(key->get())) +
         "\nsignature: " + hex(std::string_view(reinterpret_cast<char*>(sig), len)) + "\n";
}

StatusOr<Checkpoint> read_checkpoint(std::string_view text, const std::string& pinned_key_path) {
  if (pinned_key_path.empty()) {
    return invalid_argument(
        "a checkpoint is only checked against a public key you hold: pass --public-key PEM "
        "(or set TOLLGATE_AUDIT_PUBLIC_KEY); the key written in the checkpoint proves nothing, "
        "whoever forges one writes their own");
  }
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < 7) {
    auto nl = text.find('\n');
    if (nl == std::string_view::npos) return invalid_argument("a checkpoint's lines end with \\n");
    lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  if (lines.size() != 6 || !text.empty() || lines[0] != kCheckpointTitle)
    return invalid_argument("not a tollgate audit checkpoint (v1, six lines)");
  auto events = field(lines[1], "events");
  auto head = field(lines[2], "head");
  auto at = field(lines[3], "at");
  auto pub = field(lines[4], "public_key");
  auto sig = field(lines[5], "signature");
  Checkpoint cp;
  if (!events || events->size() > 18 || (*events)[0] == '-' || (*events)[0] == '+' ||
      std::from_chars(events->data(), events->data() + events->size(), cp.events).ptr !=
          events->data() + events->size() ||
      !head || !lower_hex(*head, 64) || !at || !iso_text(*at) || !pub || !lower_hex(*pub, 64) ||
      !sig || !lower_hex(*sig, 128)) {
    return invalid_argument("a checkpoint line is malformed");
  }
  cp.head = std::string(*head);
  cp.at = std::string(*at);
  cp.public_key = std::string(*pub);
  cp.signature = std::string(*sig);
  std::string raw_pub = *unhex(cp.public_key), raw_sig = *unhex(cp.signature);
  {
    auto pinned = read_pem_key(pinned_key_path, "--public-key", true);
    if (!pinned.ok()) return pinned.status();
    if (raw_public_key(pinned->get()) != raw_pub) {
      return permission_denied("the checkpoint is signed by another key (" +
                               cp.public_key.substr(0, 16) + "…), not the one in " +
                               pinned_key_path);
    }
  }
  PKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                       reinterpret_cast<const unsigned char*>(raw_pub.data()),
                                       raw_pub.size()),
           EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string body = checkpoint_body(cp.events, cp.head, cp.at);
  if (!key || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw_sig.data()),
                       raw_sig.size(), reinterpret_cast<const unsigned char*>(body.data()),
                       body.size()) != 1) {
    return permission_denied("the checkpoint's signature does not verify: it was altered");
  }
  return cp;
}

Status check_checkpoint(Store& store, const Checkpoint& cp, ChainReport& report) {
  if (!report.intact()) return {};
  if (report.events < cp.events) {
    report.broken_seq = report.events + 1;
    report.problem = "the log has " + std::to_string(report.events) +
                     " events, fewer than the checkpoint's " + std::to_string(cp.events) + " of " +
                     cp.at + ": it was rolled back";
    return {};
  }
  std::string hash = std::string(64, '0');
  if (cp.events > 0) {
    auto e = store.events(cp.events - 1, 1);
    if (!e.ok()) return e.status();
    if (e->empty() || (*e)[0].seq != cp.events)
      return internal_error("event " + std::to_string(cp.events) + " cannot be read");
    hash = (*e)[0].hash;
  }
  if (hash != cp.head) {
    report.broken_seq = cp.events;
    report.problem = "event " + std::to_string(cp.events) +
                     " does not have the hash the checkpoint of " + cp.at +
                     " signed: the log was rewritten up to it";
  }
  return {};
}

}  // namespace tollgate
