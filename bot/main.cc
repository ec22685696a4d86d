// tollgate: the command line. `serve` runs the bot; the other subcommands are
// the operator's tools. Exit codes: 0 success, 1 a check found problems,
// 2 the command could not run (bad arguments, unreadable file, store down).
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "bot/service.h"
#include "storage/store.h"
#include "workflow/config.h"
#include "workflow/engine.h"

namespace tollgate {
namespace {

struct Options {
  std::string config = "examples/acme.json";
  std::string db = "sqlite:tollgate.db";
  std::string listen = "127.0.0.1:3000";
  std::string file;
};

// Prints the configuration's problems; returns the loaded directory when it has no errors.
std::shared_ptr<const Directory> load_checked(const std::string& path, bool quiet_ok) {
  LoadedConfig cfg = load_config_file(path);
  for (const ConfigIssue& i : cfg.issues) std::fprintf(stderr, "%s: %s\n", path.c_str(), format_issue(i).c_str());
  if (!cfg.ok()) {
    std::fprintf(stderr, "%s: %zu error(s)\n", path.c_str(), cfg.error_count());
    return nullptr;
  }
  if (!quiet_ok) {
    std::size_t resources = 0;
    for (const App& a : cfg.directory->apps) resources += a.resources.size();
    std::printf("%s: OK: %s, %zu people, %zu groups, %zu apps, %zu resources, %zu policies, %zu grants\n",
                path.c_str(), cfg.directory->organization.c_str(), cfg.directory->people.size(),
                cfg.directory->groups.size(), cfg.directory->apps.size(), resources,
                cfg.directory->policies.size(), cfg.directory->grants.size());
  }
  return cfg.directory;
}

int check_config(const Options& o) { return load_checked(o.file, false) ? 0 : 1; }

int migrate(const Options& o) {
  StoreOptions so;
  so.migrate = true;
  auto store = open_store(o.db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "migrate: %s\n", store.status().to_string().c_str());
    return 2;
  }
  auto v = (*store)->schema_version();
  std::printf("migrate: %s is at schema version %d\n", o.db.c_str(), v.ok() ? *v : -1);
  return 0;
}

int audit_verify(const Options& o) {
  StoreOptions so;
  so.migrate = false;
  auto store = open_store(o.db, so);
  if (!store.ok()) {
    std::fprintf(stderr, "audit verify: %s\n", store.status().to_string().c_str());
    return 2;
  }
  auto report = (*store)->verify_chain();
  if (!report.ok()) {
    std::fprintf(stderr, "audit verify: %s\n", report.status().to_string().c_str());
    return 2;
  }
  if (report->broken_seq) {
    std::printf("audit verify: BROKEN at event %lld: %s\n", static_cast<long long>(*report->broken_seq),
                report->problem.c_str());
    return 1;
  }
  std::printf("audit verify: %lld events, hash chain intact\n", static_cast<long long>(report->events));
  return 0;
}

int serve(const Options& o) {
  auto directory = load_checked(o.config, true);
  if (!directory) return 2;
  auto store = open_store(o.db);
  if (!store.ok()) {
    spdlog::error("cannot open the store {}: {}", o.db, store.status().to_string());
    return 2;
  }
  SystemClock clock;
  TaskService service(**store, std::make_shared<Engine>(directory, clock));
  spdlog::info("tollgate: store {} ready (schema {}), {} people, {} apps", o.db,
               current_schema_version(), directory->people.size(), directory->apps.size());
  spdlog::warn("the Slack edge is not built yet: this process holds the store open and "
               "waits for SIGINT or SIGTERM; it does not listen on {}", o.listen);

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down", sig);
  });
  io.run();
  if (Status s = flush_and_wait(**store); !s.ok()) {
    spdlog::error("flushing the store: {}", s.to_string());
    return 2;
  }
  spdlog::info("tollgate: stopped");
  return 0;
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

  CLI::App* serve = app.add_subcommand("serve", "Run the bot");
  serve->add_option("--config", o.config, "Configuration file")->envname("TOLLGATE_CONFIG");
  add_db(serve);
  serve->add_option("--listen", o.listen, "Address and port to listen on")->envname("TOLLGATE_LISTEN");

  CLI::App* check = app.add_subcommand("check-config", "Check a configuration file; list every problem");
  check->add_option("FILE", o.file, "Configuration file")->required();

  CLI::App* migrate = app.add_subcommand("migrate", "Bring the database schema up to date");
  add_db(migrate);

  CLI::App* audit = app.add_subcommand("audit", "The audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand("verify", "Check the event hash chain; name the first broken event");
  add_db(verify);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return tollgate::serve(o);
  if (check->parsed()) return tollgate::check_config(o);
  if (migrate->parsed()) return tollgate::migrate(o);
  if (verify->parsed()) return tollgate::audit_verify(o);
  return 2;
}
