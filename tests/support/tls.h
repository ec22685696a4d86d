// Self-signed certificates for TLS tests (made with the openssl command), and
// a one-shot HTTPS GET that trusts a given CA file.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/support/http_client.h"

namespace tollgate::testing {

struct CertFiles {
  std::string cert;
  std::string key;
  bool ok = false;
};

// A certificate for `san` ("IP:127.0.0.1" or "DNS:localhost"), valid for a day.
inline CertFiles make_certificate(const std::string& dir, const std::string& name,
                                  const std::string& san) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key", false};
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=tollgate-test -addext "
      "subjectAltName=" +
      san + " -keyout " + f.key + " -out " + f.cert + " >/dev/null 2>&1";
  f.ok = std::system(cmd.c_str()) == 0;
  return f;
}

// GET https://127.0.0.1:port/target, verifying the server against `ca_file`.
HttpResult https_get(std::uint16_t port, const std::string& target, const std::string& ca_file);

}  // namespace tollgate::testing
