// Short names for Asio and Beast, for source files only (never a public header). Asio and
// Beast are compiled once in net_impl.cc.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace tollgate {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// A TLS client context for Slack and the mail server: peers verified against
// the system's trust store (or SSL_CERT_FILE), nothing older than TLS 1.2.
// Host names are checked per connection (ssl::host_name_verification).
inline void configure_tls_client(ssl::context& ctx) {
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
}
}  // namespace tollgate
