#include "connect/http.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <curl/curl.h>
#include <map>
#include <mutex>
#include <thread>

#include <boost/url/parse.hpp>

#include "base/encoding.h"
#include "base/libcurl.h"

namespace tollgate::connect {
namespace {


// Where to find the CA certificates when the environment says (as OpenSSL's own default
// does): libcurl reads neither variable itself.
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// One request: its libcurl handle and what has come back so far.
struct Transfer {
  std::function<void(HttpResponse)> done;
  HttpResponse response;
  std::string body;         // the request's, for CURLOPT_POSTFIELDS (not copied by libcurl)
  std::string retry_after;  // the raw header of the last response
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  Transfer() = default;
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;
  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

// The answer, up to kMaxAnswer bytes; then the transfer is cut short (CURLE_WRITE_ERROR,
// told apart by `truncated`): a hostile server cannot make us read without end.
std::size_t on_body(char* data, std::size_t size, std::size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::size_t len = size * n;
  std::size_t room = kMaxAnswer - std::min(kMaxAnswer, t->response.body.size());
  t->response.body.append(data, std::min(len, room));
  if (len > room) {
    t->response.truncated = true;
    return 0;
  }
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) t->retry_after.clear();  // a new response (after a 100)
  auto colon = line.find(':');
  if (colon != std::string_view::npos && iequals(line.substr(0, colon), "retry-after")) {
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    t->retry_after = std::string(v.substr(0, 100));
  }
  return size * n;
}

Time system_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace

// The transfers run on one thread of ours in a libcurl multi handle (as mail/smtp.cc's do):
// many calls at once without a thread each. curl_multi_poll() sleeps until a socket is
// ready, a second passes, or send()/post()/stop() wake it with curl_multi_wakeup().
struct HttpClient::Impl {
  std::string ca_file = env("SSL_CERT_FILE"), ca_path = env("SSL_CERT_DIR");
  CURLM* multi = nullptr;

  std::mutex mu;
  std::vector<std::unique_ptr<Transfer>> queued;  // guarded by mu
  std::vector<std::function<void()>> tasks;       // guarded by mu
  std::atomic<bool> stopping{false};
  std::map<CURL*, std::unique_ptr<Transfer>> running;  // the thread's own
  std::mutex join_mu;
  std::thread thread;
  std::atomic<std::thread::id> thread_id;
  // Started by the first send() or post(), which loads libcurl: a server whose connectors
  // are never called never maps it. Without libcurl the thread still runs the tasks, and
  // every request fails with `unusable`.
  std::once_flag started;
  std::string unusable;              // set before the thread starts, read only after
  std::condition_variable no_curl;  // wakes the thread when there is no multi to wake

  ~Impl() {
    if (thread.joinable()) thread.detach();  // only when the thread itself ends last
    running.clear();
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  // The thread holds the Impl too, so that a client dropped by one of its own completions
  // stays alive until its loop has ended.
  static void start(const std::shared_ptr<Impl>& impl) {
    std::call_once(impl->started, [&impl] {
      if (impl->stopping) return;  // nothing will run: libcurl is not loaded for it
      Status loaded = load_libcurl();
      if (loaded.ok()) impl->multi = curl_multi_init();
      if (impl->multi == nullptr)
        impl->unusable = loaded.ok() ? "libcurl cannot start" : loaded.message();
      std::lock_guard lock(impl->join_mu);
      if (impl->stopping) return;
      impl->thread = std::thread([impl] { impl->run(); });
      impl->thread_id = impl->thread.get_id();
    });
  }

  void wake() {
    if (multi != nullptr) {
      curl_multi_wakeup(multi);
      return;
    }
    std::lock_guard lock(mu);  // so that the thread cannot miss it between check and wait
    no_curl.notify_all();
  }

  // Sleeps until a socket is ready, a second passes, or wake().
  void wait() {
    if (multi != nullptr) {
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
      return;
    }
    std::unique_lock lock(mu);
    no_curl.wait_for(lock, std::chrono::seconds(1),
                     [this] { return stopping || !queued.empty() || !tasks.empty(); });
  }

  void stop() {
    {
      std::lock_guard lock(join_mu);  // a start() after this one starts no thread
      stopping = true;
    }
    // Waits for a start() under way (it writes `multi`, which wake() reads); a later one does
    // nothing.
    std::call_once(started, [] {});
    wake();
    std::lock_guard lock(join_mu);
    if (!thread.joinable()) return;
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }

  std::unique_ptr<Transfer> transfer(HttpRequest r, std::function<void(HttpResponse)> done);

  void enqueue(std::unique_ptr<Transfer> t) {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      queued.push_back(std::move(t));
    }
    wake();
  }

  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      tasks.push_back(std::move(task));
    }
    wake();
  }

  void run() {
    while (!stopping) {
      std::vector<std::unique_ptr<Transfer>> fresh;
      std::vector<std::function<void()>> todo;
      {
        std::lock_guard lock(mu);
        fresh.swap(queued);
        todo.swap(tasks);
      }
      for (auto& task : todo) {
        if (stopping) break;
        task();
      }
      for (auto& t : fresh) {
        if (multi == nullptr || curl_multi_add_handle(multi, t->easy) != CURLM_OK) {
          HttpResponse r;
          r.error = "libcurl took no new transfer";
          if (!stopping) t->done(std::move(r));
          continue;
        }
        CURL* easy = t->easy;
        running.emplace(easy, std::move(t));
      }
      if (multi != nullptr) {
        int active = 0;
        curl_multi_perform(multi, &active);
        finish_done();
      }
      if (stopping) break;
      bool more = false;
      {
        std::lock_guard lock(mu);
        more = !queued.empty() || !tasks.empty();
      }
      if (!more) wait();
    }
    for (auto& [easy, t] : running) curl_multi_remove_handle(multi, easy);
    running.clear();
    std::lock_guard lock(mu);
    queued.clear();
    tasks.clear();
  }

  // Completes the transfers libcurl has finished.
  void finish_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode rc = msg->data.result;  // msg is gone once the handle is removed
      curl_multi_remove_handle(multi, easy);
      auto it = running.find(easy);
      if (it == running.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      running.erase(it);
      complete(*t, rc);
      if (stopping) return;
      t->done(std::move(t->response));
    }
  }

  static void complete(Transfer& t, CURLcode rc) {
    HttpResponse& r = t.response;
    long code = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
    bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && r.truncated);
    if (!answered || code < 100 || code > 999) {
      r.status = 0;
      r.body.clear();
      r.error = t.error[0] != '\0' ? std::string(t.error) : curl_easy_strerror(rc);
      return;
    }
    r.status = static_cast<int>(code);
    if (!t.retry_after.empty()) r.retry_after = parse_retry_after(t.retry_after, system_now());
  }
};

std::unique_ptr<Transfer> HttpClient::Impl::transfer(HttpRequest r,
                                                     std::function<void(HttpResponse)> done) {
  auto t = std::make_unique<Transfer>();
  t->done = std::move(done);
  t->body = std::move(r.body);
  t->easy = curl_easy_init();
  if (t->easy == nullptr) return nullptr;
  for (const std::string& h : r.headers) {
    curl_slist* longer = curl_slist_append(t->headers, h.c_str());
    if (longer == nullptr) return nullptr;
    t->headers = longer;
  }
  if (r.method != "GET") {
    // No "Expect: 100-continue" round trip before a body.
    curl_slist* longer = curl_slist_append(t->headers, "Expect:");
    if (longer == nullptr) return nullptr;
    t->headers = longer;
  }
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  if (!ca_path.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, ca_path.c_str());
  if (r.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  long ms = std::max(1L, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  return t;
}

HttpClient::HttpClient() : impl_(std::make_shared<Impl>()) {}

HttpClient::~HttpClient() {
  stop();
}

void HttpClient::send(HttpRequest request, std::function<void(HttpResponse)> done) {
  if (impl_->stopping) return;
  Impl::start(impl_);
  auto t = impl_->multi == nullptr ? nullptr : impl_->transfer(std::move(request), done);
  if (t == nullptr) {
    std::string why = impl_->multi == nullptr ? impl_->unusable : "libcurl is out of memory";
    impl_->post([done = std::move(done), why = std::move(why)] {
      HttpResponse r;
      r.error = why;
      done(std::move(r));
    });
    return;
  }
  impl_->enqueue(std::move(t));
}

void HttpClient::post(std::function<void()> task) {
  Impl::start(impl_);
  impl_->post(std::move(task));
}

void HttpClient::stop() {
  impl_->stop();
}

bool HttpClient::stopped() const {
  return impl_->stopping;
}

bool HttpClient::on_thread() const {
  return std::this_thread::get_id() == impl_->thread_id;
}

Status check_url(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (u.has_error()) return invalid_argument("\"" + snippet(url, 100) + "\" is not a URL");
  std::string scheme(u->scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "https" && scheme != "http")
    return invalid_argument("\"" + snippet(url, 100) + "\" is neither https:// nor http://");
  if (u->host().empty()) return invalid_argument("\"" + snippet(url, 100) + "\" has no host");
  if (u->has_userinfo())
    return invalid_argument("a connector URL carries no credentials (they go in token_env)");
  if (scheme == "https") return Status{};
  bool loopback = false;
  switch (u->host_type()) {
    case boost::urls::host_type::ipv4:
      loopback = (u->host_ipv4_address().to_uint() >> 24) == 127;
      break;
    case boost::urls::host_type::ipv6:
      // ::1, or ::ffff:127.x.x.x.
      loopback =
          u->host_ipv6_address().is_loopback() ||
          (u->host_ipv6_address().is_v4_mapped() && u->host_ipv6_address().to_bytes()[12] == 127);
      break;
    case boost::urls::host_type::name:
      loopback = iequals(u->encoded_host(), "localhost");
      break;
    default:
      break;
  }
  if (!loopback) return invalid_argument("http:// is only for loopback; use https://");
  return Status{};
}

std::string snippet(std::string_view text, std::size_t max) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(c));
    if (out.size() >= max) break;
  }
  if (out.size() >= max) {
    // Cut at a character's start, never inside a UTF-8 sequence.
    out.resize(max);
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
    out += "…";
  }
  return out;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Time now) {
  using std::chrono::seconds;
  constexpr long long kDay = 24 * 3600;
  if (value.empty()) return std::nullopt;
  long long s = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s);
  if (end == value.data() + value.size()) {
    if (ec == std::errc::result_out_of_range)
      s = kDay;
    else if (ec != std::errc())
      return std::nullopt;
    return std::chrono::milliseconds(seconds(std::clamp(s, 0LL, kDay)));
  }
  if (std::any_of(value.begin(), value.end(), [](char c) { return c < 0x20; })) return std::nullopt;
  time_t at = curl_getdate(std::string(value).c_str(), nullptr);
  if (at == -1) return std::nullopt;
  long long delay = static_cast<long long>(at) -
                    std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  return std::chrono::milliseconds(seconds(std::clamp(delay, 0LL, kDay)));
}

}  // namespace tollgate::connect
