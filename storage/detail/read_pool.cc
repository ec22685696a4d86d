#include "storage/detail/read_pool.h"

namespace tollgate::detail {

Status ReadPool::open(int n, const Open& open) {
  for (int i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(auto c, open());
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
  }
  return {};
}

std::unique_ptr<Connection> ReadPool::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  std::unique_ptr<Connection> c = std::move(free_.back());
  free_.pop_back();
  return c;
}

void ReadPool::give_back(std::unique_ptr<Connection> c) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(c));
  }
  cv_.notify_one();
}

}  // namespace tollgate::detail
