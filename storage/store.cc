#include "storage/store.h"

#include <future>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace tollgate {

StatusOr<std::unique_ptr<Store>> open_store(const std::string& url, const StoreOptions& options) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return open_postgres_store(url, options);
  }
  std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
  if (path.empty()) return invalid_argument("no database path in \"" + url + "\"");
  return open_sqlite_store(path, options);
}

namespace {

template <typename Submit>
StatusOr<Decision> wait_for_decision(Submit&& submit) {
  std::promise<StatusOr<Decision>> p;
  auto f = p.get_future();
  submit([&p](StatusOr<Decision> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace

StatusOr<Decision> create_and_wait(Store& store, Store::Decide decide, std::string key) {
  return wait_for_decision([&](Store::DecisionDone done) {
    store.create(std::move(decide), std::move(done), std::move(key));
  });
}

StatusOr<Decision> update_and_wait(Store& store, TaskNumber number, Store::Decide decide,
                                   std::string key) {
  return wait_for_decision([&](Store::DecisionDone done) {
    store.update(number, std::move(decide), std::move(done), std::move(key));
  });
}

Status flush_and_wait(Store& store) {
  std::promise<Status> p;
  auto f = p.get_future();
  store.flush([&p](Status s) { p.set_value(std::move(s)); });
  return f.get();
}

}  // namespace tollgate
