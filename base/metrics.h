// Process metrics in the Prometheus text exposition format (version 0.0.4).
// Debian 12 has no prometheus-cpp package, so this is a small registry of
// labelled counters, histograms and read-on-scrape gauges. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tollgate {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Declares a metric (once, before use). `type`: "counter", "gauge" or "histogram".
  void describe(const std::string& name, const std::string& type, const std::string& help);
  void inc(const std::string& name, const Labels& labels = {}, double by = 1);
  // Histograms use fixed buckets, in seconds, from 0.5 ms to 10 s.
  void observe(const std::string& name, const Labels& labels, double seconds);
  // A gauge read when scraped.
  void gauge(const std::string& name, const std::string& help, std::function<double()> read);

  std::string render() const;

 private:
  struct Histogram {
    std::vector<double> counts;  // per bucket, cumulative on render
    double sum = 0;
    double count = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, double> values;         // rendered label set -> value
    std::map<std::string, Histogram> histograms;  // rendered label set -> histogram
    std::function<double()> read;
  };
  static std::string render_labels(const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace tollgate
