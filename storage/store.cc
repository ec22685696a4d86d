#include "storage/store.h"

#include <algorithm>
#include <cctype>
#include <future>
#include <string_view>
#include <vector>

#include "storage/detail/access.h"
#include "storage/detail/codec.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace tollgate {

StatusOr<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  if (!options.audit_key.empty()) RETURN_IF_ERROR(codec::check_audit_key(options.audit_key));
  if (is_postgres_url(url)) return open_postgres_store(url, options);
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return invalid_argument("no database path in \"" + url + "\"");
  return open_sqlite_store(path, options);
}

namespace {

// The secret parts of a PostgreSQL URL: the user and password of its
// authority (up to its last '@', wherever libpq would take it to end), and
// the values of its user and *password* parameters. Empty for other URLs.
struct Credentials {
  std::string_view userinfo;  // "user:password", as written
  std::vector<std::string_view> users;
  std::vector<std::string_view> passwords;
};

void add_parameters(std::string_view query, Credentials& c) {
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq + 1 == pair.size()) continue;
    std::string_view name = pair.substr(0, eq);
    if (name == "user") c.users.push_back(pair.substr(eq + 1));
    if (name.find("password") != std::string_view::npos) c.passwords.push_back(pair.substr(eq + 1));
  }
}

Credentials credentials_of(std::string_view url) {
  Credentials c;
  if (!is_postgres_url(url)) return c;
  std::string_view rest = url.substr(url.find("://") + 3);
  auto q = rest.find('?');
  std::string_view authority = rest.substr(0, q);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    c.userinfo = authority.substr(0, at);
    auto colon = c.userinfo.find(':');
    c.users.push_back(c.userinfo.substr(0, colon));
    if (colon != std::string_view::npos) c.passwords.push_back(c.userinfo.substr(colon + 1));
  }
  if (q != std::string_view::npos) add_parameters(rest.substr(q + 1), c);
  return c;
}

// Replaces every occurrence of `secret` in `text`.
void replace_all(std::string& text, std::string_view secret, std::string_view by) {
  if (secret.empty()) return;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + by.size()))
    text.replace(at, secret.size(), by);
}

// Percent-decoded, as libpq reads (and may quote) it.
std::string decoded(std::string_view s) {
  std::string out;
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) && hex(s[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

template <typename Submit>
StatusOr<Decision> wait_for_decision(Submit&& submit) {
  std::promise<StatusOr<Decision>> p;
  auto f = p.get_future();
  submit([&p](StatusOr<Decision> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

bool is_postgres_url(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

StatusOr<Decision> create_and_wait(Store& store, Store::Decide decide, std::string key) {
  return wait_for_decision([&](Store::DecisionDone done) {
    store.create(std::move(decide), std::move(done), std::move(key));
  });
}

StatusOr<Decision> update_and_wait(Store& store, TaskNumber number, Store::Decide decide,
                                   std::string key) {
  return wait_for_decision([&](Store::DecisionDone done) {
    store.update(number, std::move(decide), std::move(done), std::move(key));
  });
}

Status flush_and_wait(Store& store) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.flush([&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

Status write_access_and_wait(Store& store, std::vector<AccessChange> changes,
                             std::vector<Effect> effects) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.write_access(std::move(changes), std::move(effects),
                     [&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

StatusOr<std::vector<Holding>> replay_access(const std::vector<StoredEvent>& events) {
  std::vector<Holding> ledger;
  for (const StoredEvent& e : events) RETURN_IF_ERROR(detail::replay_access_event(e.event, ledger));
  return ledger;
}

std::string redact_database_url(std::string_view url) {
  Credentials c = credentials_of(url);
  std::string out(url);
  std::size_t authority = out.find("://") + 3;
  if (!c.userinfo.empty()) out.replace(authority, c.userinfo.size(), "***");
  auto q = out.find('?');
  if (q == std::string::npos) return out;
  std::string query = "&" + out.substr(q + 1);
  for (std::string_view v : c.users) replace_all(query, "user=" + std::string(v), "user=***");
  for (std::string_view v : c.passwords) replace_all(query, "=" + std::string(v), "=***");
  return out.substr(0, q + 1) + query.substr(1);
}

std::string redact_database_text(std::string text, std::string_view url) {
  Credentials c = credentials_of(url);
  if (c.users.empty() && c.passwords.empty()) return text;
  replace_all(text, url, redact_database_url(url));
  for (std::string_view p : c.passwords) {
    replace_all(text, p, "***");
    replace_all(text, decoded(p), "***");
  }
  // A user name is no secret of the same kind, and may be a common word: it
  // goes where it is quoted, as libpq quotes it.
  for (std::string_view u : c.users) {
    replace_all(text, '"' + std::string(u) + '"', "\"***\"");
    replace_all(text, '"' + decoded(u) + '"', "\"***\"");
  }
  return text;
}

}  // namespace tollgate
