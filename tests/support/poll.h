// Waiting in a test for what another thread or process does: a condition checked
// again and again until it holds or a deadline passes.
#pragma once

#include <chrono>
#include <thread>

namespace tollgate::testing {

// Whether `p()` held before `timeout` (checked once more at the deadline). `p` is checked
// every `every`; `between` runs after each miss (a test's manual clock moved on, say).
template <typename Pred, typename Between>
bool poll_until(Pred p, std::chrono::milliseconds timeout, std::chrono::milliseconds every,
                Between between) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p()) return true;
    std::this_thread::sleep_for(every);
    between();
  }
  return p();
}

template <typename Pred>
bool poll_until(Pred p, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
  return poll_until(p, timeout, every, [] {});
}

}  // namespace tollgate::testing
