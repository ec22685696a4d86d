// tollgate: the command line. `serve` runs the bot; the other subcommands are
// the operator's tools. Exit codes: 0 success, 1 a check found problems,
// 2 the command could not run (bad arguments, unreadable file, store down).
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "app/audit_export.h"
#include "app/audit_seal.h"
#include "base/time_text.h"
#include "cmd/tollgate/access_export.h"
#include "cmd/tollgate/environment.h"
#include "cmd/tollgate/process.h"
#include "connect/connector.h"
#include "storage/store.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

struct Options {
  ProcessOptions app;
  std::string db = "sqlite:tollgate.db";
  std::string file;
  std::int64_t since = 0;
  std::int64_t outbox_id = 0;  // outbox requeue --id; 0: every parked item
  std::string checkpoint;      // audit verify --checkpoint
  std::string public_key;      // audit verify --public-key
  std::string out;             // audit checkpoint --out
  std::string format = "csv";  // access export --format
  std::string app_id;          // connectors test APP
};

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// "provisioning: manual, by pat, quinn" and the like (people and groups as
// the configuration names them), saying plainly when Tollgate changes
// nothing in the app, and when a connector's secret is not in this
// environment.
std::string fulfilment_line(const App& a, bool grant) {
  const Fulfilment& f = a.fulfilment(grant);
  std::string what = grant ? "provisioning" : "deprovisioning";
  switch (f.mode) {
    case ProvisioningMode::automatic:
      return what +
             ": automatic: Tollgate changes nothing in the app (it reads who holds what "
             "from Tollgate: the ledger, the admin API)";
    case ProvisioningMode::manual:
      return what + ": manual, by " + joined(f.assignees);
    case ProvisioningMode::webhook:
    case ProvisioningMode::scim: {
      const std::string& env =
          f.mode == ProvisioningMode::scim ? f.connector.token_env : f.connector.secret_env;
      const char* value = std::getenv(env.c_str());
      bool unset = value == nullptr || *value == '\0';
      return what + ": " + connector_label(a, f) + " at " +
             f.connector.url.substr(0, f.connector.url.find_first_of("?#")) + ", by " +
             joined(f.assignees) + " if it fails" + (unset ? "; " + env + " is not set here" : "");
    }
  }
  return what;
}

void print_fulfilment(const App& a) {
  std::printf("  %s: %s\n  %s: %s\n", a.id.c_str(), fulfilment_line(a, true).c_str(), a.id.c_str(),
              fulfilment_line(a, false).c_str());
}

// Prints the configuration's problems; returns the directory when it has no errors.
std::shared_ptr<const Directory> load_checked(const std::string& path, bool quiet_ok) {
  LoadedConfig cfg = load_config_file(path);
  for (const ConfigIssue& i : cfg.issues)
    std::fprintf(stderr, "%s: %s\n", path.c_str(), format_issue(i).c_str());
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), cfg.error_count());
    return nullptr;
  }
  if (!quiet_ok) {
    std::size_t resources = 0;
    std::size_t time_bound = 0;  // with a max_duration: their grants end by themselves
    for (const App& a : cfg.directory->apps) {
      resources += a.resources.size();
      for (const Resource& r : a.resources) time_bound += r.max_duration ? 1 : 0;
    }
    std::printf(
        "%s: OK: %s, %zu people, %zu groups, %zu apps, %zu resources (%zu time-bound), %zu "
        "policies, %zu grants\n",
        path.c_str(), cfg.directory->organization.c_str(), cfg.directory->people.size(),
        cfg.directory->groups.size(), cfg.directory->apps.size(), resources, time_bound,
        cfg.directory->policies.size(), cfg.directory->grants.size());
    for (const App& a : cfg.directory->apps) print_fulfilment(a);
  }
  return cfg.directory;
}

int check_config(const Options& o) {
  return load_checked(o.file, false) ? 0 : 1;
}

// Tries each connector of one app with the secrets of this environment
// (connect::Connectors::test): a line per connector, "ok" or "FAIL", with
// what the system answered. 0 when every connector works or the app has
// none; 1 when one does not; 2 for a bad configuration or an unknown app.
int connectors_test(const Options& o) {
  std::shared_ptr<const Directory> directory = load_checked(o.file, true);
  if (!directory) return 2;
  const App* app = directory->app(o.app_id);
  if (app == nullptr) {
    std::vector<std::string> ids;
    for (const App& a : directory->apps) ids.push_back(a.id);
    std::fprintf(stderr, "connectors test: %s has no app \"%s\" (its apps: %s)\n", o.file.c_str(),
                 o.app_id.c_str(), joined(ids).c_str());
    return 2;
  }
  if (!is_connector(app->provisioning.mode) && !is_connector(app->deprovisioning.mode)) {
    std::printf(
        "connectors test: %s (%s) has no connector (provisioning %s, deprovisioning %s): "
        "nothing to test\n",
        app->id.c_str(), app->name.c_str(),
        std::string(provisioning_mode_name(app->provisioning.mode)).c_str(),
        std::string(provisioning_mode_name(app->deprovisioning.mode)).c_str());
    return 0;
  }
  connect::Connectors connectors;
  bool all_ok = true;
  for (const connect::CheckLine& line : connectors.test(*app)) {
    std::printf("%s %s — %s\n", line.ok ? "ok  " : "FAIL", line.what.c_str(), line.detail.c_str());
    all_ok = all_ok && line.ok;
  }
  return all_ok ? 0 : 1;
}

// Opens the store for an operator command; prints why it cannot and returns null.
std::unique_ptr<Store> open_for(const char* command, const std::string& db, bool migrate,
                                std::string audit_key = {}) {
  StoreOptions so;
  so.migrate = migrate;
  so.audit_key = std::move(audit_key);
  auto store = open_store(db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "%s: %s\n", command,
                 redact_database_text(store.status().to_string(), db).c_str());
    return nullptr;
  }
  return std::move(*store);
}

// The audit key for an operator command (TOLLGATE_AUDIT_KEY or a key file;
// made only when `create`, as serve makes it); prints why it cannot be read
// and returns nullopt.
std::optional<AuditKey> audit_key_for(const char* command, const std::string& db,
                                      bool create = false) {
  auto key = load_audit_key(db, create);
  if (!key.ok()) {
    std::fprintf(stderr, "%s: %s\n", command, key.status().message().c_str());
    return std::nullopt;
  }
  if (create && key->default_file)
    std::fprintf(stderr, "%s: %s\n", command, default_key_warning(*key).c_str());
  return std::move(*key);
}

int migrate(const Options& o) {
  // The key as serve finds or makes it: the open that creates the audit
  // head seals it, and no later one does (StoreOptions::seal_unsealed).
  auto key = audit_key_for("migrate", o.db, /*create=*/true);
  if (!key) return 2;
  auto store = open_for("migrate", o.db, true, std::move(key->bytes));
  if (!store) return 2;
  auto v = store->schema_version();
  std::printf("migrate: %s is at schema version %d\n", redact_database_url(o.db).c_str(),
              v.ok() ? *v : -1);
  return 0;
}

// Opens the store with the audit key and verifies the log into `report`.
// Returns 2 when the command cannot go on (prints why), else 0.
int verify_log(const char* command, const Options& o, std::unique_ptr<Store>& store,
               ChainReport& report) {
  auto key = audit_key_for(command, o.db);
  if (!key) return 2;
  store = open_for(command, o.db, false, std::move(key->bytes));
  if (!store) return 2;
  auto r = store->verify_chain();
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", command, r.status().to_string().c_str());
    return 2;
  }
  report = std::move(*r);
  if (report.intact() && report.sealed_from > 0 && !report.authenticated) {
    std::fprintf(stderr,
                 "%s: the log is sealed with an audit key (key id %s) from event %lld: set "
                 "TOLLGATE_AUDIT_KEY or TOLLGATE_AUDIT_KEY_FILE to verify it\n",
                 command, report.key_id.c_str(), static_cast<long long>(report.sealed_from));
    return 2;
  }
  return 0;
}

void print_broken(const char* command, const ChainReport& report) {
  if (report.broken_seq) {
    std::printf("%s: BROKEN at event %lld: %s\n", command,
                static_cast<long long>(*report.broken_seq), report.problem.c_str());
  } else {
    std::printf("%s: BROKEN: %s\n", command, report.problem.c_str());
  }
}

// What an intact log's verification proved, in one line.
std::string intact_summary(const ChainReport& r) {
  std::string s = std::to_string(r.events) + " events, hash chain intact; ";
  if (!r.authenticated) {
    return s +
           "not sealed with an audit key: this proves nothing against someone who can write "
           "the database";
  }
  s += "sealed with the audit key " + r.key_id + " on " + format_iso8601(r.sealed_at) +
       ": the head and every event from " + std::to_string(r.sealed_from) + " on are authenticated";
  if (r.sealed_from > 1) {
    s += " (events before " + std::to_string(r.sealed_from) + " are plain SHA-256 links)";
  }
  return s;
}

// Reads and checks the checkpoint file; prints why not and returns nullopt
// with the exit code in `code` (1: altered or signed by another key; 2: unreadable).
std::optional<Checkpoint> checkpoint_from(const Options& o, int& code) {
  std::ifstream in(o.checkpoint, std::ios::binary);
  std::string text(4096, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  code = 2;
  if (!in.eof() && in.fail()) {
    std::fprintf(stderr, "audit verify: cannot read the checkpoint %s\n", o.checkpoint.c_str());
    return std::nullopt;
  }
  auto cp = read_checkpoint(text, o.public_key);
  if (!cp.ok()) {
    if (cp.code() == Code::permission_denied) {
      code = 1;
      std::printf("audit verify: BROKEN: %s: %s\n", o.checkpoint.c_str(),
                  cp.status().message().c_str());
    } else {
      std::fprintf(stderr, "audit verify: %s: %s\n", o.checkpoint.c_str(),
                   cp.status().message().c_str());
    }
    return std::nullopt;
  }
  return std::move(*cp);
}

int audit_verify(const Options& o) {
  std::unique_ptr<Store> store;
  ChainReport report;
  std::optional<Checkpoint> cp;
  int code = 0;
  if (!o.checkpoint.empty() && !(cp = checkpoint_from(o, code))) return code;
  if ((code = verify_log("audit verify", o, store, report)) != 0) return code;
  if (cp) {
    if (Status s = check_checkpoint(*store, *cp, report); !s.ok()) {
      std::fprintf(stderr, "audit verify: %s\n", s.to_string().c_str());
      return 2;
    }
  }
  if (!report.intact()) {
    print_broken("audit verify", report);
    return 1;
  }
  std::string line = intact_summary(report);
  if (cp) {
    line += "; matches the checkpoint of " + std::to_string(cp->events) + " events (" + cp->at +
            ") signed by " + cp->public_key.substr(0, 16) + " (the key in " + o.public_key + ")";
  }
  std::printf("audit verify: %s\n", line.c_str());
  return 0;
}

// Writes a signed checkpoint of an intact log: its event count and head hash.
int audit_checkpoint(const Options& o) {
  std::unique_ptr<Store> store;
  ChainReport report;
  if (int code = verify_log("audit checkpoint", o, store, report); code != 0) return code;
  if (!report.intact()) {
    print_broken("audit checkpoint", report);
    std::printf("audit checkpoint: no checkpoint of a broken log\n");
    return 1;
  }
  auto text = sign_checkpoint(report.events, report.head_hash, SystemClock().now(),
                              env("TOLLGATE_AUDIT_SIGNING_KEY"), "TOLLGATE_AUDIT_SIGNING_KEY");
  if (!text.ok()) {
    std::fprintf(stderr, "audit checkpoint: %s\n", text.status().message().c_str());
    return 2;
  }
  if (o.out.empty()) {
    std::fputs(text->c_str(), stdout);
  } else if (!(std::ofstream(o.out, std::ios::binary | std::ios::trunc) << *text)) {
    std::fprintf(stderr, "audit checkpoint: cannot write %s\n", o.out.c_str());
    return 2;
  }
  std::fprintf(stderr, "audit checkpoint: %s\n", intact_summary(report).c_str());
  return 0;
}

// Seals a log found not sealed (migrated without a key, or its seal
// removed): from its next event on, under the key. Only for an operator who
// knows why the log is not sealed; it never makes a key.
int audit_seal(const Options& o) {
  auto key = audit_key_for("audit seal", o.db);
  if (!key) return 2;
  if (key->bytes.empty()) {
    std::fprintf(stderr, "audit seal: set TOLLGATE_AUDIT_KEY or TOLLGATE_AUDIT_KEY_FILE\n");
    return 2;
  }
  StoreOptions so;
  so.audit_key = std::move(key->bytes);
  so.seal_unsealed = true;
  auto store = open_store(o.db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "audit seal: %s\n",
                 redact_database_text(store.status().to_string(), o.db).c_str());
    return 2;
  }
  auto r = (*store)->verify_chain();
  if (!r.ok() || !r->intact()) {
    std::fprintf(stderr, "audit seal: %s\n",
                 r.ok() ? r->problem.c_str() : r.status().to_string().c_str());
    return 1;
  }
  std::printf("audit seal: %s\n", intact_summary(*r).c_str());
  return 0;
}

int audit_export(const Options& o) {
  auto store = open_for("audit export", o.db, false);
  if (!store) return 2;
  std::shared_ptr<const Directory> directory;
  if (!o.file.empty()) {
    directory = load_checked(o.file, true);
    if (!directory) return 2;
  }
  auto n = export_audit(*store, directory.get(), o.since, std::cout);
  if (!n.ok()) {
    std::fprintf(stderr, "audit export: %s\n", n.status().to_string().c_str());
    return 2;
  }
  std::fprintf(stderr, "audit export: %lld events\n", static_cast<long long>(*n));
  return 0;
}

// The access ledger for an auditor, one row a line (access_export.h).
int access_export(const Options& o) {
  auto format = parse_access_format(o.format);
  if (!format) {
    std::fprintf(stderr, "access export: --format must be csv or jsonl, not \"%s\"\n",
                 o.format.c_str());
    return 2;
  }
  auto store = open_for("access export", o.db, false);
  if (!store) return 2;
  auto n = export_access(*store, *format, std::cout);
  if (!n.ok()) {
    std::fprintf(stderr, "access export: %s\n", n.status().to_string().c_str());
    return 2;
  }
  std::fprintf(stderr, "access export: %lld rows\n", static_cast<long long>(*n));
  return 0;
}

// Parked outbox items, one a line: id, task, kind, recipient, attempts, last error.
int outbox_list(const Options& o) {
  auto store = open_for("outbox list", o.db, false);
  if (!store) return 2;
  auto parked = store->parked_outbox(10000);
  if (!parked.ok()) {
    std::fprintf(stderr, "outbox list: %s\n", parked.status().to_string().c_str());
    return 2;
  }
  for (const OutboxItem& it : *parked) {
    std::printf("%lld\ttask #%lld\t%s\t%s\t%d attempt(s)\t%s\n", static_cast<long long>(it.id),
                static_cast<long long>(it.effect.task),
                std::string(effect_kind_name(it.effect.kind)).c_str(),
                it.effect.recipient.empty() ? "-" : it.effect.recipient.c_str(), it.attempts,
                it.last_error.c_str());
  }
  std::fprintf(stderr, "outbox list: %zu parked\n", parked->size());
  return 0;
}

// Puts parked items back in line; a running server delivers them at its next poll.
int outbox_requeue(const Options& o) {
  auto store = open_for("outbox requeue", o.db, false);
  if (!store) return 2;
  std::promise<StatusOr<std::int64_t>> p;
  store->requeue_parked(o.outbox_id > 0 ? std::optional<std::int64_t>(o.outbox_id) : std::nullopt,
                        SystemClock().now(), [&p](StatusOr<std::int64_t> r) { p.set_value(r); });
  auto n = p.get_future().get();
  if (!n.ok()) {
    std::fprintf(stderr, "outbox requeue: %s\n", n.status().to_string().c_str());
    return 2;
  }
  std::printf("outbox requeue: %lld item(s) back in line\n", static_cast<long long>(*n));
  return o.outbox_id > 0 && *n == 0 ? 1 : 0;
}

int serve(const Options& o) {
  // Log lines are written by a background thread, so that a slow terminal or
  // pipe never stalls a network thread; when its queue is full, loggers wait
  // (nothing is dropped). 1024 lines of slack are ample for one writer
  // thread; every slot is allocated up front (about 400 bytes each).
  spdlog::init_thread_pool(1024, 1);
  auto logger = spdlog::create_async<spdlog::sinks::stderr_sink_mt>("tollgate");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  spdlog::set_default_logger(logger);
  if (const char* level = std::getenv("TOLLGATE_LOG_LEVEL"))
    spdlog::set_level(spdlog::level::from_str(level));
  Process process(o.app);
  if (Status s = process.start(); !s.ok()) {
    spdlog::error("tollgate serve: {}", s.to_string());
    return 2;
  }
  int code = process.run_until_signal();
  spdlog::shutdown();
  return code;
}

// The subcommands, as parsed.
struct Commands {
  CLI::App* serve;
  CLI::App* check;
  CLI::App* migrate;
  CLI::App* verify;
  CLI::App* seal;
  CLI::App* checkpoint;
  CLI::App* exporter;
  CLI::App* access_exporter;
  CLI::App* outbox_list;
  CLI::App* outbox_requeue;
  CLI::App* connectors_test;
};

void add_db(CLI::App* cmd, Options& o) {
  cmd->add_option("--db", o.db, "sqlite:PATH or postgresql://...")->envname("TOLLGATE_DB");
}

CLI::App* add_serve(CLI::App& app, Options& o) {
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the bot. Secrets come from the environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, "
      "SLACK_APP_TOKEN (Socket Mode)");
  serve->add_option("--config", o.app.config, "Configuration file")->envname("TOLLGATE_CONFIG");
  serve->add_option("--db", o.app.db, "sqlite:PATH or postgresql://...")->envname("TOLLGATE_DB");
  serve->add_option("--listen", o.app.listen, "Address and port to listen on")
      ->envname("TOLLGATE_LISTEN");
  serve->add_option("--threads", o.app.threads, "Network threads (default: one per core)")
      ->check(CLI::Range(0, 1024));
  serve->add_flag("--sandbox", o.app.sandbox,
                  "Run with a fake Slack workspace and its page at /sandbox instead of Slack "
                  "(the default when neither Slack secret is set)");
  serve->add_flag("--socket-mode", o.app.sandbox_socket_mode,
                  "With --sandbox: reach Tollgate through the fake Slack's Socket Mode server, "
                  "as SLACK_APP_TOKEN does with Slack, instead of signed HTTP requests");
  return serve;
}

void add_audit(CLI::App& app, Options& o, Commands& c) {
  CLI::App* audit = app.add_subcommand("audit", "The audit log");
  audit->require_subcommand(1);
  c.verify = audit->add_subcommand(
      "verify",
      "Check the event hash chain and its head with the audit key (TOLLGATE_AUDIT_KEY, or the "
      "key file); name the first broken event");
  add_db(c.verify, o);
  c.verify->add_option(
      "--checkpoint", o.checkpoint,
      "A checkpoint (audit checkpoint): fail when the log is behind it or differs");
  c.verify
      ->add_option("--public-key", o.public_key,
                   "PEM Ed25519 public key the checkpoint must be signed with (required with "
                   "--checkpoint)")
      ->envname("TOLLGATE_AUDIT_PUBLIC_KEY");
  c.seal = audit->add_subcommand(
      "seal",
      "Seal a log that is not sealed (migrated without a key, or its seal removed) as it now "
      "is, under the audit key: only if you know why it is not sealed");
  add_db(c.seal, o);
  c.checkpoint = audit->add_subcommand(
      "checkpoint",
      "Verify the log, then write its event count and head hash signed with the Ed25519 key in "
      "the PEM file TOLLGATE_AUDIT_SIGNING_KEY names");
  add_db(c.checkpoint, o);
  c.checkpoint->add_option("--out", o.out, "Write it to this file (default: standard output)");
  c.exporter = audit->add_subcommand(
      "export", "Write the event history as JSON lines, with hashes, to standard output");
  add_db(c.exporter, o);
  c.exporter->add_option("--since", o.since, "Only events after this sequence number");
  c.exporter
      ->add_option("--config", o.file, "Configuration file, for the actors' names and Slack ids")
      ->envname("TOLLGATE_CONFIG");
}

Commands add_commands(CLI::App& app, Options& o) {
  Commands c{};
  c.serve = add_serve(app, o);
  c.check = app.add_subcommand("check-config", "Check a configuration file; list every problem");
  c.check->add_option("FILE", o.file, "Configuration file")->required();
  c.migrate = app.add_subcommand("migrate", "Bring the database schema up to date");
  add_db(c.migrate, o);
  add_audit(app, o, c);
  CLI::App* access = app.add_subcommand("access", "The access ledger: who holds what");
  access->require_subcommand(1);
  c.access_exporter = access->add_subcommand(
      "export",
      "Write every row of the ledger (CSV with a header, or JSON lines) to standard output");
  add_db(c.access_exporter, o);
  c.access_exporter->add_option("--format", o.format, "csv (the default) or jsonl");
  CLI::App* outbox = app.add_subcommand("outbox", "Effects waiting for delivery");
  outbox->require_subcommand(1);
  c.outbox_list = outbox->add_subcommand("list", "List the parked items (given up on)");
  add_db(c.outbox_list, o);
  c.outbox_requeue =
      outbox->add_subcommand("requeue", "Put parked items back in line for delivery");
  add_db(c.outbox_requeue, o);
  c.outbox_requeue->add_option("--id", o.outbox_id, "Only this item (default: every parked item)");
  CLI::App* connectors = app.add_subcommand("connectors", "The apps' connectors (webhook, SCIM)");
  connectors->require_subcommand(1);
  c.connectors_test = connectors->add_subcommand(
      "test",
      "Try each connector of an app with the secrets of this environment: credentials, "
      "reachability, its SCIM groups or a signed ping; say what works (exit 1 if one does not)");
  c.connectors_test->add_option("APP", o.app_id, "The app's id in the configuration")->required();
  c.connectors_test->add_option("--config", o.file, "Configuration file")
      ->envname("TOLLGATE_CONFIG")
      ->required();
  return c;
}

int run(const Commands& c, const Options& o) {
  if (c.serve->parsed()) return serve(o);
  if (c.check->parsed()) return check_config(o);
  if (c.migrate->parsed()) return migrate(o);
  if (c.verify->parsed()) return audit_verify(o);
  if (c.checkpoint->parsed()) return audit_checkpoint(o);
  if (c.seal->parsed()) return audit_seal(o);
  if (c.exporter->parsed()) return audit_export(o);
  if (c.access_exporter->parsed()) return access_export(o);
  if (c.outbox_list->parsed()) return outbox_list(o);
  if (c.outbox_requeue->parsed()) return outbox_requeue(o);
  if (c.connectors_test->parsed()) return connectors_test(o);
  return 2;
}

}  // namespace
}  // namespace tollgate

int main(int argc, char** argv) {
  tollgate::Options o;
  CLI::App app{"Tollgate: access-change tasks from Slack, with an embedded workflow engine"};
  app.require_subcommand(1);
  tollgate::Commands commands = tollgate::add_commands(app, o);
  CLI11_PARSE(app, argc, argv);
  if (tollgate::Status s = tollgate::read_environment(o.app); !s.ok()) {
    std::fprintf(stderr, "tollgate: %s\n", s.message().c_str());
    return 2;
  }
  // The sandbox: asked for, or what a quick start without a Slack app gets.
  if (tollgate::Status s = tollgate::read_sandbox(o.app); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  return tollgate::run(commands, o);
}
