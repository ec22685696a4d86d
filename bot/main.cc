// tollgate: the command line. `serve` runs the bot; the other subcommands are
// the operator's tools. Exit codes: 0 success, 1 a check found problems,
// 2 the command could not run (bad arguments, unreadable file, store down).
#include <cstdio>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "bot/audit_export.h"
#include "bot/process.h"
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
};

std::string env(const char* name, std::string fallback = {}) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
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
    for (const App& a : cfg.directory->apps) resources += a.resources.size();
    std::printf(
        "%s: OK: %s, %zu people, %zu groups, %zu apps, %zu resources, %zu policies, %zu grants\n",
        path.c_str(), cfg.directory->organization.c_str(), cfg.directory->people.size(),
        cfg.directory->groups.size(), cfg.directory->apps.size(), resources,
        cfg.directory->policies.size(), cfg.directory->grants.size());
  }
  return cfg.directory;
}

int check_config(const Options& o) {
  return load_checked(o.file, false) ? 0 : 1;
}

// Opens the store for an operator command; prints why it cannot and returns null.
std::unique_ptr<Store> open_for(const char* command, const std::string& db, bool migrate) {
  StoreOptions so;
  so.migrate = migrate;
  auto store = open_store(db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "%s: %s\n", command, store.status().to_string().c_str());
    return nullptr;
  }
  return std::move(*store);
}

int migrate(const Options& o) {
  auto store = open_for("migrate", o.db, true);
  if (!store) return 2;
  auto v = store->schema_version();
  std::printf("migrate: %s is at schema version %d\n", o.db.c_str(), v.ok() ? *v : -1);
  return 0;
}

int audit_verify(const Options& o) {
  auto store = open_for("audit verify", o.db, false);
  if (!store) return 2;
  auto report = store->verify_chain();
  if (!report.ok()) {
    std::fprintf(stderr, "audit verify: %s\n", report.status().to_string().c_str());
    return 2;
  }
  if (report->broken_seq) {
    std::printf("audit verify: BROKEN at event %lld: %s\n",
                static_cast<long long>(*report->broken_seq), report->problem.c_str());
    return 1;
  }
  std::printf("audit verify: %lld events, hash chain intact\n",
              static_cast<long long>(report->events));
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
  // (nothing is dropped).
  spdlog::init_thread_pool(8192, 1);
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

}  // namespace
}  // namespace tollgate

int main(int argc, char** argv) {
  using tollgate::Options;
  Options o;
  CLI::App app{"Tollgate: access-change tasks from Slack, with an embedded workflow engine"};
  app.require_subcommand(1);
  auto add_db = [&](CLI::App* cmd) {
    cmd->add_option("--db", o.db, "sqlite:PATH or postgresql://...")->envname("TOLLGATE_DB");
  };

  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the bot. Secrets come from the environment: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN");
  serve->add_option("--config", o.app.config, "Configuration file")->envname("TOLLGATE_CONFIG");
  serve->add_option("--db", o.app.db, "sqlite:PATH or postgresql://...")->envname("TOLLGATE_DB");
  serve->add_option("--listen", o.app.listen, "Address and port to listen on")
      ->envname("TOLLGATE_LISTEN");
  serve->add_option("--threads", o.app.threads, "Network threads (default: one per core)");
  serve->add_flag("--sandbox", o.app.sandbox,
                  "Run with a fake Slack workspace and its page at /sandbox instead of Slack "
                  "(the default when neither Slack secret is set)");

  CLI::App* check =
      app.add_subcommand("check-config", "Check a configuration file; list every problem");
  check->add_option("FILE", o.file, "Configuration file")->required();

  CLI::App* migrate = app.add_subcommand("migrate", "Bring the database schema up to date");
  add_db(migrate);

  CLI::App* audit = app.add_subcommand("audit", "The audit log");
  audit->require_subcommand(1);
  CLI::App* verify =
      audit->add_subcommand("verify", "Check the event hash chain; name the first broken event");
  add_db(verify);
  CLI::App* exporter = audit->add_subcommand(
      "export", "Write the event history as JSON lines, with hashes, to standard output");
  add_db(exporter);
  exporter->add_option("--since", o.since, "Only events after this sequence number");
  exporter
      ->add_option("--config", o.file, "Configuration file, for the actors' names and Slack ids")
      ->envname("TOLLGATE_CONFIG");

  CLI::App* outbox = app.add_subcommand("outbox", "Effects waiting for delivery");
  outbox->require_subcommand(1);
  CLI::App* outbox_list = outbox->add_subcommand("list", "List the parked items (given up on)");
  add_db(outbox_list);
  CLI::App* outbox_requeue =
      outbox->add_subcommand("requeue", "Put parked items back in line for delivery");
  add_db(outbox_requeue);
  outbox_requeue->add_option("--id", o.outbox_id, "Only this item (default: every parked item)");

  CLI11_PARSE(app, argc, argv);
  using tollgate::env;
  o.app.tls_cert = env("TOLLGATE_TLS_CERT");
  o.app.tls_key = env("TOLLGATE_TLS_KEY");
  o.app.signing_secret = env("SLACK_SIGNING_SECRET");
  o.app.bot_token = env("SLACK_BOT_TOKEN");
  o.app.slack_api_url = env("SLACK_API_URL", "https://slack.com/api");
  o.app.team_id = env("SLACK_TEAM_ID");
  o.app.api_token = env("TOLLGATE_API_TOKEN");
  o.app.smtp_url = env("TOLLGATE_SMTP_URL");
  o.app.smtp_from = env("TOLLGATE_SMTP_FROM", "Tollgate <tollgate@localhost>");
  if (std::string t = env("TOLLGATE_SCHEDULER_INTERVAL_MS"); !t.empty()) {
    o.app.scheduler_interval = std::chrono::milliseconds(std::stoll(t));
  }
  o.app.deliver = env("TOLLGATE_DELIVERY", "on") != "off";
  if (std::string t = env("TOLLGATE_OUTBOX_LEASE_MS"); !t.empty()) {
    o.app.outbox_lease = std::chrono::milliseconds(std::stoll(t));
  }
  if (std::string t = env("TOLLGATE_HEADER_TIMEOUT_MS"); !t.empty()) {
    o.app.header_timeout = std::chrono::milliseconds(std::stoll(t));
  }
  // The sandbox: asked for, or what a quick start without a Slack app gets.
  std::string sandbox_env = env("TOLLGATE_SANDBOX", "auto");
  if (sandbox_env != "on" && sandbox_env != "off" && sandbox_env != "auto") {
    std::fprintf(stderr, "TOLLGATE_SANDBOX must be on, off or auto, not %s\n", sandbox_env.c_str());
    return 2;
  }
  if (sandbox_env == "on") o.app.sandbox = true;
  if (!o.app.sandbox && sandbox_env != "off" && o.app.bot_token.empty() &&
      o.app.signing_secret.empty()) {
    o.app.sandbox = true;
  }
  if (serve->parsed()) return tollgate::serve(o);
  if (check->parsed()) return tollgate::check_config(o);
  if (migrate->parsed()) return tollgate::migrate(o);
  if (verify->parsed()) return tollgate::audit_verify(o);
  if (exporter->parsed()) return tollgate::audit_export(o);
  if (outbox_list->parsed()) return tollgate::outbox_list(o);
  if (outbox_requeue->parsed()) return tollgate::outbox_requeue(o);
  return 2;
}
