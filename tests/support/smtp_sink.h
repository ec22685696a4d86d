// A real SMTP server on loopback for tests: tests/support/smtp_server.py run
// by Debian's python3 (python3-aiosmtpd), with STARTTLS and AUTH required.
// Each mail it receives is a JSON file in its folder.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <rapidjson/document.h>

#include "tests/support/tls.h"

namespace tollgate::testing {

struct ReceivedMail {
  std::string mail_from;
  std::vector<std::string> rcpt_tos;
  std::string data;  // the message as received
  std::string login;
  bool tls = false;
};

class SmtpSink {
 public:
  static constexpr const char* kUser = "tollgate";
  static constexpr const char* kPassword = "s3cret pass";

  // `dir`: a folder for the certificate and the mails.
  explicit SmtpSink(const std::string& dir) : dir_(dir + "/mail") {
    std::filesystem::create_directories(dir_);
    cert_ = make_certificate(dir, "smtp", "IP:127.0.0.1");
    if (!cert_.ok) return;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    std::string script = std::string(TOLLGATE_SOURCE_DIR) + "/tests/support/smtp_server.py";
    std::vector<std::string> args = {"/usr/bin/python3", script, dir_,     cert_.cert,
                                     cert_.key,          kUser,  kPassword};
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    FILE* f = fdopen(out[0], "r");
    char line[128] = {0};
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
      std::sscanf(line, "PORT %d", &port_);
    }
    if (f != nullptr) std::fclose(f);
  }
  ~SmtpSink() {
    if (stdin_ >= 0) close(stdin_);  // the server stops when its stdin closes
    if (pid_ > 0) {
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }

  bool ok() const { return port_ > 0; }
  int port() const { return port_; }
  const std::string& cert() const { return cert_.cert; }
  std::string url(const std::string& password = kPassword) const {
    std::string p;
    for (char c : password) p += c == ' ' ? std::string("%20") : std::string(1, c);
    return "smtp://" + std::string(kUser) + ":" + p + "@127.0.0.1:" + std::to_string(port_);
  }

  // The mails received so far, in order.
  std::vector<ReceivedMail> mails() const {
    std::vector<ReceivedMail> out;
    for (int n = 1;; ++n) {
      std::ifstream f(dir_ + "/" + std::to_string(n) + ".json");
      if (!f) break;
      std::stringstream ss;
      ss << f.rdbuf();
      rapidjson::Document d;
      d.Parse(ss.str().c_str());
      if (!d.IsObject()) break;
      ReceivedMail m;
      m.mail_from = d["mail_from"].GetString();
      for (const auto& r : d["rcpt_tos"].GetArray()) m.rcpt_tos.emplace_back(r.GetString());
      m.data = d["data"].GetString();
      m.login = d["login"].GetString();
      m.tls = d["tls"].GetBool();
      out.push_back(std::move(m));
    }
    return out;
  }

  // Waits up to `timeout` for at least `n` mails.
  std::vector<ReceivedMail> wait_for(
      std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto m = mails();
      if (m.size() >= n || std::chrono::steady_clock::now() > until) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  std::string dir_;
  CertFiles cert_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int port_ = 0;
};

}  // namespace tollgate::testing
