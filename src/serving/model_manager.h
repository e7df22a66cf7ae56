// ModelManager: keeps the servable behind each model URI current — TensorFlow Serving's source → loader →
// manager split. The source is the registry (a resolver turns models:/ato@champion into a version and its
// package folder); the loader is Servable::Load; the manager swaps the pointer atomically once the new
// version has loaded whole.
//
// Contract:
// - Get(uri) never blocks on loading and never returns a half-loaded model; requests holding the previous
//   servable finish on it (shared ownership), so a swap fails no request.
// - Refresh() re-resolves every URI; a changed version is loaded off to the side and then swapped in. A
//   version that fails to load leaves the old one serving; the failure is counted and kept as that URI's
//   error (Error(uri)), so each deployment reports its own model's failure, never another's.
// - Thread-safe. Polling runs on one background thread (StartPolling); Stop() joins it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "serving/servable.h"

namespace gyre::serving {

struct ResolvedModel {
  std::string name;
  std::string version;
  std::string package_dir;  // local folder holding gyre-model.json
};
using ModelResolver = std::function<Result<ResolvedModel>(const std::string& uri)>;

class ModelManager {
 public:
  explicit ModelManager(ModelResolver resolver) : resolver_(std::move(resolver)) {}
  ~ModelManager() { Stop(); }

  // Resolves and loads `uri` now. If it cannot be loaded yet (no such alias, a broken package) the URI is
  // still followed — its handle holds null until a Refresh loads it — and the error is returned.
  // Adding a URI twice is a no-op.
  Status Add(const std::string& uri);
  // The current servable of `uri`; null if it was never added.
  std::shared_ptr<const Servable> Get(const std::string& uri) const;
  // A lock-free handle to `uri`'s current servable, valid for the manager's life (hot paths keep it and
  // load() per request instead of looking the URI up); null if it was never added.
  using Handle = const std::atomic<std::shared_ptr<const Servable>>*;
  Handle HandleOf(const std::string& uri) const;

  // Re-resolves every URI and swaps in changed versions (or first versions). Returns the first load error;
  // whatever was serving keeps serving.
  Status Refresh();
  void StartPolling(int64_t interval_us);
  void Stop();

  int64_t swaps() const { return swaps_.load(); }
  int64_t failed_loads() const { return failed_loads_.load(); }
  // Why `uri`'s newest resolution or load failed; OK once it loads (or was never tried).
  Status Error(const std::string& uri) const;

 private:
  struct Slot {
    std::atomic<std::shared_ptr<const Servable>> current;
    Status error;  // guarded by mu_
  };
  void SetError(Slot& slot, Status error);
  Result<std::shared_ptr<const Servable>> Load(const std::string& uri);

  ModelResolver resolver_;
  mutable std::mutex mu_;  // guards slots_' shape (not the pointers inside) and each slot's error
  std::map<std::string, std::unique_ptr<Slot>> slots_;
  std::atomic<int64_t> swaps_{0}, failed_loads_{0};
  std::mutex refresh_mu_;  // one refresh at a time

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

}  // namespace gyre::serving
