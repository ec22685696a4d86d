// Process metrics in the Prometheus text exposition format (version 0.0.4).
// The values live in a prometheus-cpp registry (Debian's prometheus-cpp-dev, its core library
// only) and render() writes them with its TextSerializer; /metrics is served by our own HTTP
// server (edge/router.cc), not by prometheus-cpp's exposer. Thread-safe.
//
// Output contract: families sorted by name, each with its "# HELP" and "# TYPE" lines (also
// while it has no sample yet); a family's labels in the order its first labelled call gave them
// (so `{type="message",handling="own"}`, not prometheus-cpp's alphabetical order); label values
// escaped (backslash, double quote, line feed).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tollgate {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Declares a metric (before use, or again to change its help). `type`: "counter", "gauge"
  // or "histogram"; another type, or another type than the name already has, is ignored.
  void describe(const std::string& name, const std::string& type, const std::string& help);
  // Adds `by` to a counter (created undescribed if need be) or a gauge. A counter never goes
  // down: a negative `by` is ignored for one.
  void inc(const std::string& name, const Labels& labels = {}, double by = 1);
  // Histograms use fixed buckets, in seconds, from 0.5 ms to 10 s.
  void observe(const std::string& name, const Labels& labels, double seconds);
  // A gauge read when scraped (without any lock of this registry held). A second call for the
  // same name replaces the reader.
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate
