#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sys/resource.h>
#include <thread>
#include <unordered_map>
#include <vector>

#include <climits>

#include "http/net.h"

namespace tollgate::http {
namespace {

using Clock = std::chrono::steady_clock;

// Shares of the body budget by body size, so that no one size can shut out a
// smaller one: a body over kLargeBody may fill 3/4 of the budget, one over
// kSmallBody 7/8, and a small one all of it. Bodies are read before their
// signature is checked, so anyone may send them: an unsigned flood of one
// size leaves Slack's commands (< 2 KiB) the last quarter or eighth, and its
// clicks (tens of KiB) the quarter above large bodies.
constexpr std::size_t kLargeBody = 64 * 1024;
constexpr std::size_t kSmallBody = 16 * 1024;
// A body waiting for room in the budget looks again after 5 ms, then twice
// as long each time (so that a crowd of waiters costs a few wake-ups each).
constexpr std::chrono::milliseconds kBudgetPoll{5};
// How long accepting pauses after an error (out of descriptors, say): the
// connection waiting in the backlog would fail again at once, in a busy loop.
constexpr std::chrono::milliseconds kAcceptPause{100};

// The body budget (ServerOptions::body_budget): bytes reserved by the bodies
// being read or handled. Thread-safe.
class BodyBudget {
 public:
  explicit BodyBudget(std::size_t total) : total_(total) {}
  // Reserves `n` bytes; false (nothing reserved) when they do not fit.
  bool take(std::size_t n) {
    std::size_t room = n > kLargeBody   ? total_ - total_ / 4
                       : n > kSmallBody ? total_ - total_ / 8
                                        : total_;
    std::size_t used = used_.load();
    do {
      if (n > room || used > room - n) return false;
    } while (!used_.compare_exchange_weak(used, used + n));
    return true;
  }
  void give(std::size_t n) { used_.fetch_sub(n); }

 private:
  const std::size_t total_;
  std::atomic<std::size_t> used_{0};
};

// Expected ends of a connection: handled quietly.
bool is_quiet_close(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
         ec == beast::error::timeout || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == ssl::error::stream_truncated ||
         ec == net::error::broken_pipe;
}

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close_if_idle() = 0;
};

}  // namespace

// State shared by the listener and every session.
struct Server::Impl {
  ServerOptions options;
  Handler handler;
  // Shared so that a Request's `resume` can hold it weakly: a Request kept after the server
  // is gone (in a handler's or a test's hands) must not outlive the executor it names.
  std::shared_ptr<net::io_context> ioc_owner = std::make_shared<net::io_context>();
  net::io_context& ioc = *ioc_owner;
  std::optional<ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> accept_pause;  // on the acceptor's strand
  // Never less than a largest body needs (a large one may use 3/4 of it).
  BodyBudget budget{std::max(options.body_budget, options.body_limit / 3 * 4 + 4096)};
  int max_connections = options.max_connections;
  // Keeps the threads running while requests wait on something other than
  // Asio (the store): without it, run() returns once the acceptor closes.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::uint16_t bound_port = 0;

  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::mutex mu;  // guards sessions and in_flight's condition
  std::condition_variable idle_cv;
  int in_flight = 0;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;

  Impl(ServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)) {}
  // Sessions still queued in the io_context are destroyed with it; they
  // unregister themselves, so the registry must outlive it: destroy it first.
  ~Impl() {
    accept_pause.reset();
    acceptor.reset();
    ioc_owner.reset();
  }

  std::size_t body_limit_for(std::string_view target) const {
    for (const PathBodyLimit& p : options.path_body_limits) {
      if (target.substr(0, p.prefix.size()) == p.prefix)
        return std::min(p.body_limit, options.body_limit);
    }
    return options.body_limit;
  }

  std::uint64_t add(std::weak_ptr<SessionBase> s) {
    std::lock_guard lock(mu);
    sessions.emplace(++next_id, std::move(s));
    return next_id;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu);
    sessions.erase(id);
  }
  void request_started() {
    std::lock_guard lock(mu);
    ++in_flight;
  }
  void request_finished() {
    std::lock_guard lock(mu);
    if (--in_flight == 0) idle_cv.notify_all();
  }

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
};

namespace {

template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(Server::Impl& server, tcp::socket socket, Args&&... args)
      : server_(server),
        stream_(std::move(socket), std::forward<Args>(args)...),
        budget_wait_(stream_.get_executor()) {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  ~Session() override {
    release_body();
    server_.remove(id_);
    server_.connections.fetch_sub(1);
  }

  void run() {
    id_ = server_.add(this->weak_from_this());
    // Start on the connection's strand.
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->start(); });
  }

  void close_if_idle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->busy_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (!ec) self->do_read();
                              });
    } else {
      do_read();
    }
  }

  void do_read() {
    if (server_.stopping.load()) return do_close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.header_limit));
    parser_->body_limit(server_.options.body_limit);
    buffer_.max_size(server_.options.header_limit + server_.options.body_limit + 4096);
    beast::get_lowest_layer(stream_).expires_after(server_.options.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        beast::bind_front_handler(&Session::on_header, this->shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    started_ = Clock::now();
    busy_ = true;
    server_.request_started();
    std::size_t limit = server_.body_limit_for(parser_->get().target());
    auto length = parser_->content_length();
    if (length && *length > limit) {
      // Refused without reading the body; the connection cannot be reused.
      return send(
          Response::text(413, "request body larger than " + std::to_string(limit) + " bytes\n"),
          /*force_close=*/true);
    }
    parser_->body_limit(limit);
    // Room for the body, before a byte of it is read (Beast reserves the
    // declared length at once); a chunked body may grow to the limit.
    body_need_ = length ? *length : parser_->chunked() ? limit : 0;
    budget_deadline_ = Clock::now() + server_.options.body_wait;
    budget_poll_ = kBudgetPoll;
    reserve_body();
  }

  // Reserves the body's room in the budget, then reads it; polls while there
  // is none, until the deadline, then answers 503.
  void reserve_body() {
    if (body_need_ == 0 || server_.budget.take(body_need_)) {
      body_reserved_ = body_need_;
      return read_body();
    }
    if (Clock::now() >= budget_deadline_) {
      Response busy = Response::text(503, "too many request bodies at once; try again\n");
      busy.headers.emplace_back("Retry-After", "1");
      return send(std::move(busy), /*force_close=*/true);
    }
    budget_wait_.expires_at(std::min(Clock::now() + budget_poll_, budget_deadline_));
    budget_poll_ *= 2;
    budget_wait_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec) {
        self->busy_ = false;
        self->server_.request_finished();
        return self->do_close();
      }
      self->reserve_body();
    });
  }

  void release_body() {
    if (body_reserved_ > 0) server_.budget.give(body_reserved_);
    body_reserved_ = 0;
  }

  void read_body() {
    beast::get_lowest_layer(stream_).expires_after(server_.options.body_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, this->shared_from_this()));
  }

  void on_body(error_code ec, std::size_t) {
    if (ec == bhttp::error::body_limit) {
      return send(Response::text(413, "request body too large\n"), true);
    }
    if (ec) {
      busy_ = false;
      server_.request_finished();
      return on_read_error(ec);
    }
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    req.remote = remote_;
    // Back onto the server's threads (not this connection's strand: the work's answer comes
    // back to the strand through the handler's callback), so the work runs even if the client
    // has gone (its answer is then dropped). Once the server is destroyed there is no thread
    // to go back to: the work runs where it is.
    req.resume = [ioc = std::weak_ptr<net::io_context>(server_.ioc_owner)](
                     std::function<void()> work) {
      if (auto c = ioc.lock()) return net::post(*c, std::move(work));
      work();
    };
    keep_alive_ = msg.keep_alive();
    method_ = req.method;
    path_ = req.path;
    // The handler may answer from any thread: come back to this strand.
    auto self = this->shared_from_this();
    server_.handler(std::move(req), [self](Response res) {
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->send(std::move(res), false); });
    });
  }

  void on_read_error(error_code ec) {
    if (ec == bhttp::error::body_limit) {  // the declared Content-Length is over the limit
      started_ = Clock::now();
      busy_ = true;
      server_.request_started();
      std::size_t limit = server_.body_limit_for(parser_->get().target());
      return send(
          Response::text(413, "request body larger than " + std::to_string(limit) + " bytes\n"),
          true);
    }
    if (ec == bhttp::error::header_limit) {
      started_ = Clock::now();
      busy_ = true;
      server_.request_started();
      return send(Response::text(431, "request header fields too large\n"), true);
    }
    if (ec == beast::error::timeout) {
      // A slow or idle client: drop it without a word.
      return do_close();
    }
    if (!is_quiet_close(ec)) {
      // A malformed request: answer 400 once and close.
      if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() ||
          ec == bhttp::error::bad_method || ec == bhttp::error::bad_target) {
        started_ = Clock::now();
        busy_ = true;
        server_.request_started();
        return send(Response::text(400, "malformed HTTP request\n"), true);
      }
    }
    do_close();
  }

  void send(Response res, bool force_close) {
    release_body();  // the request is handled: its body is gone
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>();
    out->version(11);
    out->result(static_cast<unsigned>(res.status));
    out->set(bhttp::field::server, "tollgate");
    if (!res.content_type.empty()) out->set(bhttp::field::content_type, res.content_type);
    for (auto& [k, v] : res.headers) out->set(k, v);
    out->body() = std::move(res.body);
    bool keep = keep_alive_ && !force_close && !server_.stopping.load();
    out->keep_alive(keep);
    out->prepare_payload();
    status_ = res.status;
    beast::get_lowest_layer(stream_).expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, *out,
                       [self = this->shared_from_this(), out, keep](error_code ec, std::size_t) {
                         self->on_write(ec, keep);
                       });
  }

  void on_write(error_code ec, bool keep) {
    busy_ = false;
    if (server_.options.on_request) {
      server_.options.on_request(
          {method_, path_, status_,
           std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_),
           remote_});
    }
    server_.request_finished();
    if (ec || !keep) return do_close();
    do_read();
  }

  void do_close() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](error_code) {
        error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  Server::Impl& server_;
  Stream stream_;
  net::steady_timer budget_wait_;
  std::size_t body_need_ = 0;
  std::size_t body_reserved_ = 0;
  Clock::time_point budget_deadline_{};
  std::chrono::milliseconds budget_poll_{kBudgetPoll};
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::uint64_t id_ = 0;
  std::string remote_;
  bool busy_ = false;
  bool keep_alive_ = false;
  std::string method_;
  std::string path_;
  int status_ = 0;
  Clock::time_point started_{};
};

}  // namespace

void Server::Impl::do_accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || stopping.load()) return;
  if (ec && ec != net::error::connection_aborted) {
    // Out of descriptors (EMFILE, ENFILE) or memory: the connection stays in
    // the backlog, and accepting again now would fail again now, forever.
    // Pause; connections already open are served meanwhile.
    accept_pause->expires_after(kAcceptPause);
    accept_pause->async_wait([this](error_code e) {
      if (!e && !stopping.load()) do_accept();
    });
    return;
  }
  if (!ec) {
    if (connections.fetch_add(1) >= max_connections) {
      connections.fetch_sub(1);
      error_code ignored;
      socket.close(ignored);
    } else {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (tls) {
        std::make_shared<Session<ssl::stream<beast::tcp_stream>>>(*this, std::move(socket), *tls)
            ->run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket))->run();
      }
    }
  }
  do_accept();
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() {
  if (!impl_->threads.empty()) stop(std::chrono::milliseconds(0));
}

Status Server::start() {
  Impl& s = *impl_;
  if (!s.options.tls_cert_file.empty() || !s.options.tls_key_file.empty()) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    s.tls->use_certificate_chain_file(s.options.tls_cert_file, ec);
    if (!ec) s.tls->use_private_key_file(s.options.tls_key_file, ssl::context::pem, ec);
    if (ec) return unavailable("cannot load the TLS certificate or key: " + ec.message());
  }
  error_code ec;
  auto address = net::ip::make_address(s.options.address, ec);
  if (ec) return invalid_argument("not an IP address: " + s.options.address);
  tcp::endpoint ep(address, s.options.port);
  s.acceptor.emplace(net::make_strand(s.ioc));
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return unavailable("cannot listen on " + s.options.address + ":" +
                       std::to_string(s.options.port) + ": " + ec.message());
  s.bound_port = s.acceptor->local_endpoint().port();
  s.accept_pause.emplace(s.acceptor->get_executor());
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0)
    s.max_connections = std::min(s.max_connections, connection_cap(files.rlim_cur));
  s.do_accept();
  s.work.emplace(s.ioc.get_executor());
  int n = s.options.threads > 0
              ? s.options.threads
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  return {};
}

std::uint16_t Server::port() const {
  return impl_->bound_port;
}
int Server::open_connections() const {
  return impl_->connections.load();
}
int Server::max_connections() const {
  return impl_->max_connections;
}

int Server::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.threads.empty()) return 0;
  s.stopping.store(true);
  net::post(s.acceptor->get_executor(), [&s] {
    error_code ignored;
    s.acceptor->close(ignored);
    s.accept_pause->cancel();
  });
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(s.mu);
    for (auto& [id, w] : s.sessions) {
      if (auto p = w.lock()) live.push_back(std::move(p));
    }
  }
  for (auto& p : live) p->close_if_idle();
  live.clear();
  int unanswered = 0;
  {
    std::unique_lock lock(s.mu);
    s.idle_cv.wait_for(lock, grace, [&s] { return s.in_flight == 0; });
    unanswered = s.in_flight;
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  return unanswered;
}

namespace {

// The most descriptors a process may have: Linux's fs.nr_open, else 2^20.
std::uint64_t open_files_ceiling() {
  constexpr std::uint64_t kDefault = 1024 * 1024;
  std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "r");
  if (f == nullptr) return kDefault;
  unsigned long long n = 0;
  bool read = std::fscanf(f, "%llu", &n) == 1;
  std::fclose(f);
  return read && n > 0 ? n : kDefault;
}

}  // namespace

std::uint64_t open_files_target(std::uint64_t soft, std::uint64_t hard) {
  // An unlimited hard limit cannot be a soft one (Linux refuses more than
  // fs.nr_open): the ceiling then.
  std::uint64_t target = hard == RLIM_INFINITY ? open_files_ceiling() : hard;
  if (soft == RLIM_INFINITY) return target;
  return std::max(soft, target);
}

std::uint64_t raise_open_files_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return 0;
  std::uint64_t target = open_files_target(files.rlim_cur, files.rlim_max);
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur < target) {
    rlimit raised = files;
    raised.rlim_cur = static_cast<rlim_t>(target);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) files = raised;
  }
  return files.rlim_cur == RLIM_INFINITY ? target : files.rlim_cur;
}

int connection_cap(std::uint64_t open_files) {
  constexpr std::uint64_t kKept = 128;
  std::uint64_t kept = std::min(kKept, open_files / 2);
  return static_cast<int>(std::clamp<std::uint64_t>(open_files - kept, 1, INT_MAX));
}

}  // namespace tollgate::http
