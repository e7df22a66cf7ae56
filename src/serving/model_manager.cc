#include "serving/model_manager.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

namespace gyre::serving {

Result<std::shared_ptr<const Servable>> ModelManager::Load(const std::string& uri) {
  GYRE_ASSIGN_OR_RETURN(ResolvedModel resolved, resolver_(uri));
  auto servable = Servable::Load(resolved.package_dir, resolved.name, resolved.version);
  if (!servable.ok()) {
    return Status(servable.status().code(),
                  fmt::format("{} (version {} of '{}'): {}", uri, resolved.version, resolved.name,
                              servable.status().message()));
  }
  return servable;
}

Status ModelManager::Add(const std::string& uri) {
  {
    std::lock_guard lock(mu_);
    if (slots_.count(uri)) return Status::OK();
  }
  auto loaded = Load(uri);
  std::lock_guard lock(mu_);
  auto& slot = slots_[uri];
  if (!slot) slot = std::make_unique<Slot>();
  if (!loaded.ok()) {
    slot->error = loaded.status();
    ++failed_loads_;
    return loaded.status();
  }
  slot->current.store(std::move(*loaded));
  slot->error = Status::OK();
  return Status::OK();
}

std::shared_ptr<const Servable> ModelManager::Get(const std::string& uri) const {
  Handle h = HandleOf(uri);
  return h == nullptr ? nullptr : h->load();
}

ModelManager::Handle ModelManager::HandleOf(const std::string& uri) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(uri);
  return it == slots_.end() ? nullptr : &it->second->current;
}

Status ModelManager::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  std::vector<std::pair<std::string, Slot*>> slots;
  {
    std::lock_guard lock(mu_);
    for (auto& [uri, slot] : slots_) slots.emplace_back(uri, slot.get());
  }
  Status first;
  for (auto& [uri, slot] : slots) {
    auto resolved = resolver_(uri);
    Status status = resolved.status();
    if (resolved.ok()) {
      std::shared_ptr<const Servable> current = slot->current.load();
      if (current != nullptr && current->version() == resolved->version && current->name() == resolved->name) {
        SetError(*slot, Status::OK());
        continue;
      }
      auto loaded = Servable::Load(resolved->package_dir, resolved->name, resolved->version);
      if (loaded.ok()) {
        slot->current.store(std::move(*loaded));
        SetError(*slot, Status::OK());
        ++swaps_;
        continue;
      }
      status = Status(loaded.status().code(), fmt::format("{} (version {}): {}", uri, resolved->version,
                                                          loaded.status().message()));
    }
    ++failed_loads_;
    SetError(*slot, status);
    if (first.ok()) first = status;
  }
  return first;
}

void ModelManager::StartPolling(int64_t interval_us) {
  std::lock_guard lock(poll_mu_);
  if (poller_.joinable()) return;
  stopping_ = false;
  // The poller keeps the normal priority (unlike the writers, core/background_thread.h): its work is rare,
  // and an alias move must go live promptly even when the request threads keep every core busy.
  poller_ = std::thread([this, interval_us] {
    std::unique_lock lock(poll_mu_);
    while (!poll_cv_.wait_for(lock, std::chrono::microseconds(interval_us), [this] { return stopping_; })) {
      lock.unlock();
      (void)Refresh();  // failures are counted and kept per URI (Error); the old versions keep serving
      lock.lock();
    }
  });
}

void ModelManager::Stop() {
  std::thread poller;
  {
    std::lock_guard lock(poll_mu_);
    stopping_ = true;
    poller = std::move(poller_);
  }
  poll_cv_.notify_all();
  if (poller.joinable()) poller.join();
}

void ModelManager::SetError(Slot& slot, Status error) {
  std::lock_guard lock(mu_);
  slot.error = std::move(error);
}

Status ModelManager::Error(const std::string& uri) const {
  std::lock_guard lock(mu_);
  auto it = slots_.find(uri);
  if (it == slots_.end()) return Status::NotFound(fmt::format("model {} is not followed", uri));
  return it->second->error;
}

}  // namespace gyre::serving
