#include "tests/support/tollgate_process.h"

#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <signal.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace tollgate::testing {

struct TollgateProcess::Reader {
  int fd = -1;
  std::thread thread;
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::string text;
  bool eof = false;

  void run() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      std::lock_guard lock(mu);
      if (n <= 0) {
        eof = true;
        cv.notify_all();
        return;
      }
      text.append(buf, static_cast<std::size_t>(n));
      cv.notify_all();
    }
  }
  ~Reader() {
    if (thread.joinable()) thread.join();
    if (fd >= 0) ::close(fd);
  }
};

TollgateProcess::TollgateProcess(ProcessOptions options) : options_(std::move(options)) {}

TollgateProcess::~TollgateProcess() {
  if (pid_ > 0) kill9();
}

bool TollgateProcess::start(std::chrono::seconds timeout) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return false;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("TOLLGATE_", 0) == 0 || kv.rfind("SLACK_", 0) == 0) continue;
    env_strings.push_back(kv);
  }
  env_strings.push_back("TOLLGATE_CONFIG=" + options_.config);
  env_strings.push_back("TOLLGATE_DB=" + options_.db);
  env_strings.push_back("TOLLGATE_LISTEN=127.0.0.1:0");
  if (!options_.slack_api_url.empty())
    env_strings.push_back("SLACK_API_URL=" + options_.slack_api_url);
  if (!options_.token.empty()) env_strings.push_back("SLACK_BOT_TOKEN=" + options_.token);
  if (!options_.secret.empty()) env_strings.push_back("SLACK_SIGNING_SECRET=" + options_.secret);
  bool keyed = false;
  for (const auto& [k, v] : options_.env) {
    env_strings.push_back(k + "=" + v);
    keyed = keyed || k.rfind("TOLLGATE_AUDIT_KEY", 0) == 0;
  }
  if (!keyed) env_strings.push_back(std::string("TOLLGATE_AUDIT_KEY=") + kTestAuditKeyHex);
  std::vector<std::string> args{TOLLGATE_BINARY, "serve"};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  if (!options_.program.empty()) args = options_.program;

  // Everything the child needs is built before fork(): in a process with
  // other threads, the child may only call async-signal-safe functions (a
  // malloc could wait forever for a lock another thread held at the fork).
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::dup2(pipefd[1], STDERR_FILENO);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::execve(argv[0], argv.data(), envp.data());
    static const char kFailed[] = "execve failed\n";
    (void)!::write(STDERR_FILENO, kFailed, sizeof kFailed - 1);
    ::_exit(127);
  }
  ::close(pipefd[1]);
  reader_ = std::make_shared<Reader>();
  reader_->fd = pipefd[0];
  reader_->thread = std::thread([r = reader_] { r->run(); });

  const std::string marker = "listening on ";
  std::unique_lock lock(reader_->mu);
  bool ok = reader_->cv.wait_for(lock, timeout, [&] {
    std::size_t at = reader_->text.find(marker);
    return reader_->eof ||
           (at != std::string::npos && reader_->text.find('\n', at) != std::string::npos);
  });
  if (!ok || reader_->eof) return false;
  // "listening on http://ADDRESS:PORT (...)" (any address: 127.0.0.2, ::1)
  // or "listening on PORT": the digits after the word's last colon.
  std::size_t at = reader_->text.find(marker) + marker.size();
  std::string word = reader_->text.substr(at, reader_->text.find_first_of(" \n", at) - at);
  std::size_t colon = word.rfind(':');
  port_ = static_cast<std::uint16_t>(
      std::atoi(word.c_str() + (colon == std::string::npos ? 0 : colon + 1)));
  return port_ != 0;
}

int TollgateProcess::stop(int sig, std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (reader_ && reader_->thread.joinable()) reader_->thread.join();
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -1000;
}

void TollgateProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (reader_ && reader_->thread.joinable()) reader_->thread.join();
}

std::string TollgateProcess::log() const {
  if (!reader_) return {};
  std::lock_guard lock(reader_->mu);
  return reader_->text;
}

bool TollgateProcess::wait_for_log(const std::string& text,
                                   std::chrono::milliseconds timeout) const {
  if (!reader_) return false;
  std::unique_lock lock(reader_->mu);
  return reader_->cv.wait_for(lock, timeout,
                              [&] { return reader_->text.find(text) != std::string::npos; });
}

}  // namespace tollgate::testing
