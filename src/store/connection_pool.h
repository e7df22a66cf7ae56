// A bounded pool of open connections of one backend, shared by the Database implementations.
// Thread-safe. Acquire() hands out an idle connection, opens a new one while fewer than max_open are open,
// or waits for one to come back. The Lease returns its connection on destruction unless the connection
// reports broken(), in which case it is closed and a fresh one is opened next time.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace gyre::store {

template <typename Conn>
class ConnectionPool {
 public:
  using Factory = std::function<Result<std::unique_ptr<Conn>>()>;

  ConnectionPool(Factory factory, size_t max_open) : factory_(std::move(factory)), max_open_(max_open) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Conn* operator->() const { return conn_.get(); }
    Conn& operator*() const { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Result<Lease> Acquire() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      available_.wait(lock, [&] { return !idle_.empty() || open_ < max_open_; });
      if (!idle_.empty()) {
        std::unique_ptr<Conn> conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(conn));
      }
      ++open_;  // reserve the slot before opening outside the lock
    }
    Result<std::unique_ptr<Conn>> conn = factory_();
    if (!conn.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
      available_.notify_one();
      return conn.status();
    }
    return Lease(this, std::move(conn).value());
  }

 private:
  void Release(std::unique_ptr<Conn> conn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conn->broken()) {
        --open_;
      } else {
        idle_.push_back(std::move(conn));
      }
    }
    available_.notify_one();
  }

  Factory factory_;
  const size_t max_open_;
  std::mutex mu_;
  std::condition_variable available_;
  size_t open_ = 0;
  std::vector<std::unique_ptr<Conn>> idle_;
};

// A Database whose every call runs on a pooled connection of type Conn (a Connection with broken()).
// The backends differ only in their connections and in how a write transaction begins.
template <typename Conn>
class PooledDatabase : public Database {
 public:
  PooledDatabase(Dialect dialect, std::string description, std::string begin_sql,
                 typename ConnectionPool<Conn>::Factory factory, size_t max_open)
      : dialect_(dialect),
        description_(std::move(description)),
        begin_sql_(std::move(begin_sql)),
        pool_(std::move(factory), max_open) {}

  Dialect dialect() const override { return dialect_; }
  std::string description() const override { return description_; }

  Status Execute(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    return conn->Execute(sql, params);
  }

  Result<QueryResult> Query(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    return conn->Query(sql, params);
  }

  Status Transaction(const std::function<Status(Connection&)>& body) override {
    GYRE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    GYRE_RETURN_IF_ERROR(conn->ExecuteScript(begin_sql_));
    Status status = body(*conn);
    if (status.ok()) status = conn->ExecuteScript("COMMIT");
    if (!status.ok() && !conn->broken()) (void)conn->ExecuteScript("ROLLBACK");
    return status;
  }

 protected:
  // Opens a connection now, so a bad location or unreachable server fails at Open time.
  Status CheckConnection() { return pool_.Acquire().status(); }

 private:
  const Dialect dialect_;
  const std::string description_;
  const std::string begin_sql_;
  ConnectionPool<Conn> pool_;
};

}  // namespace gyre::store
