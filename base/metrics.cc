#include "base/metrics.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace tollgate {
namespace {

namespace prom = prometheus;

const prom::Histogram::BucketBoundaries kBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::optional<prom::MetricType> type_of(const std::string& type) {
  if (type == "counter") return prom::MetricType::Counter;
  if (type == "gauge") return prom::MetricType::Gauge;
  if (type == "histogram") return prom::MetricType::Histogram;
  return std::nullopt;
}

prom::Labels to_labels(const Metrics::Labels& labels) {
  return prom::Labels(labels.begin(), labels.end());
}

// A label's rank in the order the family's callers give: known names first, in that order.
std::size_t rank(const std::vector<std::string>& order, const std::string& name) {
  return static_cast<std::size_t>(std::find(order.begin(), order.end(), name) - order.begin());
}

}  // namespace

struct Metrics::Impl {
  // One metric name: its prometheus-cpp family (of the one type it has) and what we keep beside.
  struct Family {
    prom::MetricType type = prom::MetricType::Counter;
    std::string help;
    std::vector<std::string> label_order;  // from the first labelled call
    prom::Family<prom::Counter>* counters = nullptr;
    prom::Family<prom::Gauge>* gauges = nullptr;
    prom::Family<prom::Histogram>* histograms = nullptr;
    std::function<double()> read;  // a gauge read on scrape
  };

  mutable std::mutex mu;  // guards `families` (the registry has its own lock)
  prom::Registry registry;
  std::map<std::string, Family> families;

  // The family `name`, created as `type` if new; null if it has another type, or if
  // prometheus-cpp refuses the name (it throws for a name that is no metric name).
  Family* family(const std::string& name, prom::MetricType type) {
    auto it = families.find(name);
    if (it != families.end()) return it->second.type == type ? &it->second : nullptr;
    Family f;
    f.type = type;
    try {
      switch (type) {
        case prom::MetricType::Counter:
          f.counters = &prom::BuildCounter().Name(name).Register(registry);
          break;
        case prom::MetricType::Gauge:
          f.gauges = &prom::BuildGauge().Name(name).Register(registry);
          break;
        case prom::MetricType::Histogram:
          f.histograms = &prom::BuildHistogram().Name(name).Register(registry);
          break;
        default:
          return nullptr;
      }
    } catch (const std::exception&) {
      return nullptr;
    }
    return &families.emplace(name, std::move(f)).first->second;
  }

  static void learn_order(Family& f, const Labels& labels) {
    if (!f.label_order.empty() || labels.empty()) return;
    for (const auto& [name, value] : labels) f.label_order.push_back(name);
  }

  // Puts each sample's labels in the family's order and the samples in a stable order.
  static void arrange(const Family& f, prom::MetricFamily& out) {
    for (prom::ClientMetric& m : out.metric) {
      std::stable_sort(m.label.begin(), m.label.end(), [&f](const auto& a, const auto& b) {
        return rank(f.label_order, a.name) < rank(f.label_order, b.name);
      });
    }
    std::sort(out.metric.begin(), out.metric.end(), [](const auto& a, const auto& b) {
      return std::lexicographical_compare(
          a.label.begin(), a.label.end(), b.label.begin(), b.label.end(),
          [](const auto& x, const auto& y) {
            return std::tie(x.name, x.value) < std::tie(y.name, y.value);
          });
    });
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::describe(const std::string& name, const std::string& type, const std::string& help) {
  auto t = type_of(type);
  if (!t) return;
  std::lock_guard lock(impl_->mu);
  if (Impl::Family* f = impl_->family(name, *t)) f->help = help;
}

void Metrics::inc(const std::string& name, const Labels& labels, double by) {
  std::lock_guard lock(impl_->mu);
  Impl::Family* f = impl_->families.count(name) ? &impl_->families.at(name) : nullptr;
  if (f == nullptr) f = impl_->family(name, prom::MetricType::Counter);
  if (f == nullptr) return;
  Impl::learn_order(*f, labels);
  try {
    if (f->counters != nullptr) f->counters->Add(to_labels(labels)).Increment(by);
    if (f->gauges != nullptr) f->gauges->Add(to_labels(labels)).Increment(by);
  } catch (const std::exception&) {
    // A label name prometheus-cpp refuses: the sample is dropped, the process goes on.
  }
}

void Metrics::observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard lock(impl_->mu);
  Impl::Family* f = impl_->family(name, prom::MetricType::Histogram);
  if (f == nullptr) return;
  Impl::learn_order(*f, labels);
  try {
    f->histograms->Add(to_labels(labels), kBuckets).Observe(seconds);
  } catch (const std::exception&) {
    // As in inc(): a refused label name ("le" among them) drops the sample.
  }
}

void Metrics::gauge(const std::string& name, const std::string& help,
                    std::function<double()> read) {
  std::lock_guard lock(impl_->mu);
  Impl::Family* f = impl_->family(name, prom::MetricType::Gauge);
  if (f == nullptr) return;
  f->help = help;
  f->read = std::move(read);
}

std::string Metrics::render() const {
  // Gauges are read without the lock held: a reader may take locks of its own.
  std::vector<std::pair<std::string, std::function<double()>>> reads;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [name, f] : impl_->families) {
      if (f.read) reads.emplace_back(name, f.read);
    }
  }
  std::vector<std::pair<std::string, double>> values;
  for (const auto& [name, read] : reads) values.emplace_back(name, read());

  std::lock_guard lock(impl_->mu);
  for (const auto& [name, v] : values) impl_->families.at(name).gauges->Add({}).Set(v);
  std::map<std::string, prom::MetricFamily> collected;
  for (prom::MetricFamily& mf : impl_->registry.Collect()) {
    std::string name = mf.name;
    collected.emplace(std::move(name), std::move(mf));
  }
  // Every family described, in name order; prometheus-cpp leaves out one with no sample yet.
  std::vector<prom::MetricFamily> out;
  for (const auto& [name, f] : impl_->families) {
    prom::MetricFamily mf;
    if (auto c = collected.find(name); c != collected.end()) mf = std::move(c->second);
    mf.name = name;
    mf.help = f.help;
    mf.type = f.type;
    Impl::arrange(f, mf);
    out.push_back(std::move(mf));
  }
  return prom::TextSerializer().Serialize(out);
}

}  // namespace tollgate
