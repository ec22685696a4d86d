// Time enters the engine only through a Clock passed in at construction, so
// that tests (and the reminder scheduler) can drive it.
#pragma once

#include <atomic>
#include <chrono>

namespace tollgate {

// Milliseconds since the Unix epoch, UTC. Everything Tollgate stores is in this unit.
using Time = std::chrono::sys_time<std::chrono::milliseconds>;
using Duration = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual Time now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : ms_(start.time_since_epoch().count()) {}
  Time now() const override { return Time(Duration(ms_.load())); }
  void set(Time t) { ms_.store(t.time_since_epoch().count()); }
  void advance(Duration d) { ms_.fetch_add(d.count()); }

 private:
  std::atomic<long long> ms_;
};

}  // namespace tollgate
