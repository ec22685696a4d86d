#include "connect/connector.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <set>

#include "connect/internal.h"

namespace tollgate::connect {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::done:
      return "done";
    case Outcome::accepted:
      return "accepted";
    case Outcome::transient:
      return "transient";
    case Outcome::failed:
      return "failed";
  }
  return "failed";
}

std::string shown_url(const std::string& url) {
  return snippet(url.substr(0, url.find_first_of("?#")), 200);
}

Result result(Outcome outcome, std::string answer, int http_status) {
  Result r;
  r.outcome = outcome;
  r.answer = std::move(answer);
  r.http_status = http_status;
  return r;
}

Result http_failure(const HttpResponse& a, const std::string& url, const std::string& text) {
  if (a.status == 0) {
    return result(Outcome::transient,
                  "no answer from " + shown_url(url) + ": " + snippet(a.error, 160));
  }
  std::string answer = "HTTP " + std::to_string(a.status) + " from " + shown_url(url);
  if (a.status >= 300 && a.status < 400) answer += " (redirects are not followed)";
  if (!text.empty()) answer += ": " + text;
  bool transient = a.status == 408 || a.status == 429 || a.status >= 500;
  Result r = result(transient ? Outcome::transient : Outcome::failed, answer, a.status);
  if (a.status == 429) r.retry_after = a.retry_after;
  return r;
}

namespace {

// Runs `start` (which hands its completion a T) and waits for it; nullopt when the
// connectors stop first.
template <typename T>
std::optional<T> wait_for(HttpClient& http,
                          const std::function<void(std::function<void(T)>)>& start) {
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<T> value;
  };
  auto slot = std::make_shared<Slot>();
  start([slot](T v) {
    std::lock_guard lock(slot->mu);
    slot->value = std::move(v);
    slot->cv.notify_all();
  });
  std::unique_lock lock(slot->mu);
  while (!slot->value && !http.stopped()) slot->cv.wait_for(lock, std::chrono::milliseconds(100));
  return std::move(slot->value);
}

}  // namespace

struct Connectors::Impl {
  Options options;
  SystemClock system_clock;
  std::shared_ptr<HttpClient> http = std::make_shared<HttpClient>();

  Time now() const { return options.clock != nullptr ? options.clock->now() : system_clock.now(); }

  // The secret a connector's `var` names, read now; failed when it is not set.
  StatusOr<std::string> secret(const std::string& var, const char* field) const {
    if (var.empty()) return invalid_argument(std::string("the connector has no ") + field);
    std::optional<std::string> value = options.env(var);
    if (!value || value->empty())
      return invalid_argument("environment variable " + var + " is not set");
    return *value;
  }

  // What stops a call before any request: the URL, the secret.
  StatusOr<std::string> ready(ProvisioningMode mode, const Connector& c) const {
    if (!is_connector(mode))
      return invalid_argument("provisioning mode " + std::string(provisioning_mode_name(mode)) +
                              " has no connector");
    RETURN_IF_ERROR(check_url(c.url));
    return mode == ProvisioningMode::webhook ? secret(c.secret_env, "secret_env")
                                             : secret(c.token_env, "token_env");
  }

  void fail_later(std::function<void(Result)> done, std::string why) {
    http->post(
        [done = std::move(done), why = std::move(why)] { done(result(Outcome::failed, why)); });
  }

  CheckLine check(const App& app, ProvisioningMode mode, const Connector& c,
                  const std::string& label);
};

Connectors::Connectors(Options options) : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  if (!impl_->options.env) {
    impl_->options.env = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
}

Connectors::~Connectors() {
  stop();
}

void Connectors::run(ProvisioningMode mode, const Connector& connector, const Job& job,
                     std::function<void(Result)> done) {
  auto secret = impl_->ready(mode, connector);
  if (!secret.ok()) return impl_->fail_later(std::move(done), secret.status().message());
  if (mode == ProvisioningMode::scim) return run_scim(impl_->http, connector, *secret, job, done);
  if (job.idempotency_id.empty())
    return impl_->fail_later(std::move(done), "the delivery has no idempotency id");
  // A fresh timestamp each call: a retry is signed anew.
  Time now = impl_->now();
  deliver_webhook(impl_->http, connector, *secret, job.idempotency_id, webhook_event(job, now), now,
                  std::move(done));
}

CheckLine Connectors::Impl::check(const App& app, ProvisioningMode mode, const Connector& c,
                                  const std::string& label) {
  CheckLine line;
  bool webhook = mode == ProvisioningMode::webhook;
  line.what = label + ": " + (webhook ? "webhook " : "SCIM ") + shown_url(c.url);
  if (http->on_thread()) {
    line.detail = "not checked: test() was called on the connectors' own thread";
    return line;
  }
  auto secret = ready(mode, c);
  if (!secret.ok()) {
    line.detail = secret.status().message();
    return line;
  }
  if (webhook) {
    Time t = now();
    static std::atomic<int> pings{0};  // two pings in one millisecond differ too
    std::string id = "tollgate-ping-" + std::to_string(t.time_since_epoch().count()) + "-" +
                     std::to_string(++pings);
    auto r = wait_for<Result>(*http, [&](std::function<void(Result)> done) {
      deliver_webhook(http, c, *secret, id, ping_event(app.id, t), t, std::move(done));
    });
    if (!r) {
      line.detail = "not checked: the connectors stopped";
      return line;
    }
    line.ok = r->outcome == Outcome::done || r->outcome == Outcome::accepted;
    line.detail = (line.ok ? "signed ping delivered: " : "signed ping refused: ") + r->answer;
    return line;
  }
  std::vector<std::string> groups;
  std::set<std::string> seen;
  for (const Resource& r : app.resources) {
    if (!r.scim_group.empty() && seen.insert(r.scim_group).second) groups.push_back(r.scim_group);
  }
  using Answer = std::pair<bool, std::string>;
  auto a = wait_for<Answer>(*http, [&](std::function<void(Answer)> done) {
    check_scim(http, c, *secret, groups, [done = std::move(done)](bool ok, std::string detail) {
      done(Answer(ok, std::move(detail)));
    });
  });
  if (!a) {
    line.detail = "not checked: the connectors stopped";
    return line;
  }
  line.ok = a->first;
  line.detail = a->second;
  if (groups.empty()) line.detail += "; no resource names a scim_group";
  return line;
}

std::vector<CheckLine> Connectors::test(const App& app) {
  std::vector<CheckLine> lines;
  const Fulfilment& p = app.provisioning;
  const Fulfilment& d = app.deprovisioning;
  bool same = p.mode == d.mode && p.connector.url == d.connector.url &&
              p.connector.secret_env == d.connector.secret_env &&
              p.connector.token_env == d.connector.token_env;
  if (is_connector(p.mode)) {
    lines.push_back(impl_->check(app, p.mode, p.connector,
                                 same ? "provisioning and deprovisioning" : "provisioning"));
  }
  if (is_connector(d.mode) && !(same && is_connector(p.mode))) {
    lines.push_back(impl_->check(app, d.mode, d.connector, "deprovisioning"));
  }
  return lines;
}

void Connectors::stop() {
  if (impl_) impl_->http->stop();
}

}  // namespace tollgate::connect
