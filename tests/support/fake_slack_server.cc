// fake_slack_server: the fake Slack (sandbox/fake_slack.h) as a process, so
// that tests in other languages (tests/socket_mode/, with Slack's official
// Socket Mode client) can drive it.
//
// On start it prints one line, {"api_url":"http://127.0.0.1:P/api","app_token":"xapp-..."}.
// Then it reads commands from stdin, one a line, and answers each with one
// line of JSON on stdout ({"error":"..."} when it cannot do it):
//   send CONN TYPE ACCEPTS PAYLOAD   CONN a connection id or -1 (any), ACCEPTS 0|1,
//                                    PAYLOAD a JSON object -> {"envelope_id":ID}
//   wait_ack ID MS                   -> {"envelope_id":ID,"connection":C,"payload":P|null}
//   redeliver ID                     -> {"envelope_id":ID}
//   disconnect CONN REASON           -> {"ok":true}
//   drop CONN                        -> {"ok":true}
//   wait_connections N MS            -> {"ok":true,"connections":[ids]}
//   state                            -> {"connections":[ids],"opened":N,"acks":[...],
//                                        "unparsed":[...],"connections_open_calls":N}
// It exits when stdin closes. --ping-ms N: the server pings each client every N ms
// (default 5000).
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "base/json.h"
#include "sandbox/fake_slack.h"

namespace {

using tollgate::json::quote;
using tollgate::sandbox::FakeSlack;
using tollgate::sandbox::FakeSocketMode;
using tollgate::sandbox::SocketModeAck;
using tollgate::sandbox::SocketModeEnvelope;

std::string ids_json(const std::vector<int>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

std::string ack_json(const SocketModeAck& a) {
  return "{\"envelope_id\":" + quote(a.envelope_id) +
         ",\"connection\":" + std::to_string(a.connection) +
         ",\"payload\":" + (a.payload.empty() ? "null" : a.payload) + "}";
}

std::string state_json(FakeSlack& slack) {
  FakeSocketMode& sm = slack.socket_mode();
  std::string acks = "[";
  for (const SocketModeAck& a : sm.acks()) acks += (acks.size() > 1 ? "," : "") + ack_json(a);
  std::string unparsed = "[";
  for (const std::string& u : sm.unparsed())
    unparsed += (unparsed.size() > 1 ? "," : "") + quote(u);
  return "{\"connections\":" + ids_json(sm.connections()) +
         ",\"opened\":" + std::to_string(sm.connections_opened()) + ",\"acks\":" + acks +
         "],\"unparsed\":" + unparsed + "],\"connections_open_calls\":" +
         std::to_string(slack.calls("apps.connections.open").size()) + "}";
}

std::string rest_of(std::istringstream& in) {
  std::string rest;
  std::getline(in >> std::ws, rest);
  return rest;
}

std::string run(FakeSlack& slack, const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  FakeSocketMode& sm = slack.socket_mode();
  if (cmd == "send") {
    int conn = 0, accepts = 0;
    SocketModeEnvelope e;
    in >> conn >> e.type >> accepts;
    e.accepts_response_payload = accepts != 0;
    e.payload = rest_of(in);
    auto id = sm.send(e, conn);
    return id ? "{\"envelope_id\":" + quote(*id) + "}" : "{\"error\":\"not_connected\"}";
  }
  if (cmd == "wait_ack") {
    std::string id;
    long ms = 0;
    in >> id >> ms;
    auto ack = sm.wait_ack(id, std::chrono::milliseconds(ms));
    return ack ? ack_json(*ack) : "{\"error\":\"no_ack\"}";
  }
  if (cmd == "redeliver") {
    std::string id;
    in >> id;
    auto again = sm.redeliver(id);
    return again ? "{\"envelope_id\":" + quote(*again) + "}" : "{\"error\":\"not_redelivered\"}";
  }
  if (cmd == "disconnect" || cmd == "drop") {
    int conn = 0;
    std::string reason;
    in >> conn >> reason;
    bool done = cmd == "drop" ? sm.drop(conn) : sm.disconnect(conn, reason);
    return done ? "{\"ok\":true}" : "{\"error\":\"not_connected\"}";
  }
  if (cmd == "wait_connections") {
    int n = 0;
    long ms = 0;
    in >> n >> ms;
    bool ok = sm.wait_connections(n, std::chrono::milliseconds(ms));
    return std::string("{\"ok\":") + (ok ? "true" : "false") +
           ",\"connections\":" + ids_json(sm.connections()) + "}";
  }
  if (cmd == "state") return state_json(slack);
  return "{\"error\":\"unknown_command\"}";
}

}  // namespace

int main(int argc, char** argv) {
  FakeSlack::Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--ping-ms")
      options.socket_mode_ping_interval = std::chrono::milliseconds(std::stol(argv[i + 1]));
  }
  FakeSlack slack(options);
  std::cout << "{\"api_url\":" << quote(slack.api_url())
            << ",\"app_token\":" << quote(slack.options().app_token) << "}" << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::cout << run(slack, line) << std::endl;
  }
  return 0;
}
