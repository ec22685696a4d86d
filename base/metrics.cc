#include "base/metrics.h"

#include <cstdio>

namespace tollgate {
namespace {

constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Bucket bounds as written by hand: "0.0005", "2.5".
std::string bound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string Metrics::render_labels(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first + "=\"" + escape(labels[i].second) + "\"";
  }
  return out + "}";
}

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.type = type;
  f.help = help;
}

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mu_);
  families_[name].values[key] += by;
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mu_);
  Histogram& h = families_[name].histograms[key];
  if (h.counts.empty()) h.counts.assign(std::size(kBuckets), 0);
  for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
    if (seconds <= kBuckets[i]) {
      h.counts[i] += 1;
      break;
    }
  }
  h.sum += seconds;
  h.count += 1;
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<double()> read) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  f.type = "gauge";
  f.help = help;
  f.read = std::move(read);
}

std::string Metrics::render() const {
  // Gauges are read without the lock held: a reader may take locks of its own.
  std::map<std::string, std::function<double()>> reads;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      if (f.read) reads.emplace(name, f.read);
    }
  }
  std::map<std::string, double> gauge_values;
  for (const auto& [name, read] : reads) gauge_values[name] = read();

  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    if (auto g = gauge_values.find(name); g != gauge_values.end()) {
      out += name + " " + number(g->second) + "\n";
    }
    for (const auto& [labels, v] : f.values) out += name + labels + " " + number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      std::string inner = labels.empty() ? "" : labels.substr(1, labels.size() - 2) + ",";
      double cumulative = 0;
      for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
        cumulative += h.counts[i];
        out += name + "_bucket{" + inner + "le=\"" + bound(kBuckets[i]) + "\"} " +
               number(cumulative) + "\n";
      }
      out += name + "_bucket{" + inner + "le=\"+Inf\"} " + number(h.count) + "\n";
      out += name + "_sum" + labels + " " + number(h.sum) + "\n";
      out += name + "_count" + labels + " " + number(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace tollgate
