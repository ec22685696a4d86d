#include "cmd/tollgate/access_export.h"

#include <iterator>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/time_text.h"
#include "storage/store.h"
#include "workflow/task.h"

namespace tollgate {
namespace {

// The most rows Store::holdings returns at once.
constexpr int kMaxRows = 100000;

std::string time_text(const std::optional<Time>& t) {
  return t ? format_iso8601(*t) : std::string();
}
std::string task_text(TaskNumber n) {
  return n != 0 ? std::to_string(n) : std::string();
}

// One CSV field, quoted when RFC 4180 wants it. A field a spreadsheet would
// read as a formula (= + - @, a tab or CR first) gets a leading ' (OWASP's
// advice for CSV injection): ids come from the configuration, not from
// whoever opens the file.
std::string csv_field(std::string_view v) {
  std::string text(v);
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos)
    text.insert(0, 1, '\'');
  v = text;
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(v);
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void write_csv(const Holding& h, std::ostream& out) {
  const std::string fields[] = {h.person,
                                h.app,
                                h.resource,
                                format_iso8601(h.since),
                                time_text(h.expires_at),
                                task_text(h.task),
                                std::string(grant_source_name(h.how)),
                                time_text(h.last_used),
                                task_text(h.ending_task)};
  std::string line;
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) line += ',';
    line += csv_field(fields[i]);
  }
  out << line << "\r\n";
}

void write_jsonl(const Holding& h, std::ostream& out) {
  rapidjson::StringBuffer b;
  json::Writer w(b);
  auto time = [&w](std::string_view key, const std::optional<Time>& t) {
    json::key(w, key);
    if (t) {
      json::string(w, format_iso8601(*t));
    } else {
      w.Null();
    }
  };
  auto task = [&w](std::string_view key, TaskNumber n) {
    json::key(w, key);
    if (n != 0) {
      w.Int64(n);
    } else {
      w.Null();
    }
  };
  w.StartObject();
  json::kv(w, "person", h.person);
  json::kv(w, "app", h.app);
  json::kv(w, "resource", h.resource);
  time("since", h.since);
  time("expires_at", h.expires_at);
  task("granted_by_task", h.task);
  json::kv(w, "how", grant_source_name(h.how));
  time("last_used", h.last_used);
  task("ending_task", h.ending_task);
  w.EndObject();
  out << json::text(b) << '\n';
}

}  // namespace

std::optional<AccessFormat> parse_access_format(std::string_view name) {
  if (name == "csv") return AccessFormat::csv;
  if (name == "jsonl") return AccessFormat::jsonl;
  return std::nullopt;
}

StatusOr<std::int64_t> export_access(Store& store, AccessFormat format, std::ostream& out) {
  ASSIGN_OR_RETURN(std::vector<Holding> rows, store.holdings({.limit = kMaxRows}));
  if (rows.size() >= static_cast<std::size_t>(kMaxRows)) {
    return Status{Code::unavailable, "the ledger has " + std::to_string(kMaxRows) +
                                         " rows or more; this export reads at most " +
                                         std::to_string(kMaxRows - 1)};
  }
  if (format == AccessFormat::csv) {
    out << "person,app,resource,since,expires_at,granted_by_task,how,last_used,ending_task\r\n";
  }
  for (const Holding& h : rows) {
    if (format == AccessFormat::csv) {
      write_csv(h, out);
    } else {
      write_jsonl(h, out);
    }
  }
  out.flush();
  if (!out) return Status{Code::internal, "cannot write the export"};
  return static_cast<std::int64_t>(rows.size());
}

}  // namespace tollgate
