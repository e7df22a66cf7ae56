// Checks the server's steady-state promise: once a keep-alive connection is warm, answering a request
// on a plain route allocates nothing. Counts every operator new in the process while only the server
// works (the client side of the measurement uses preallocated buffers and raw syscalls).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "http/server.h"
#include "test_client.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

// The replacement operator new below is malloc-based, so its matching delete is free(); GCC cannot see that
// the pair is consistent once both are inlined into library code, and warns.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace gyre::http {
namespace {

// Sends `batch` (n pipelined requests) and reads until n responses have arrived, without allocating.
bool RoundTrip(int fd, const std::string& batch, int n, char* buffer, size_t capacity) {
  if (::send(fd, batch.data(), batch.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(batch.size())) return false;
  size_t have = 0;
  int seen = 0;
  while (seen < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    ssize_t got = ::recv(fd, buffer + have, capacity - have, 0);
    if (got <= 0) return false;
    have += static_cast<size_t>(got);
    seen = 0;
    for (size_t i = 0; i + 12 <= have; ++i) {
      if (std::memcmp(buffer + i, "HTTP/1.1 200", 12) == 0) ++seen;
    }
  }
  return true;
}

TEST(ServerAllocationTest, WarmKeepAliveRequestsDoNotAllocate) {
  ServerOptions options;
  options.port = 0;
  options.threads = 1;
  auto server = Server::Create(options);
  ASSERT_TRUE(server.ok());
  (*server)->router().Add("GET", "/v1/items/{id}", [](const Request& req) -> Result<Response> {
    return Response(200, R"({"ok":true})");
  });
  ASSERT_TRUE((*server)->Start().ok());

  testing::RawClient client((*server)->port());
  ASSERT_TRUE(client.connected());
  int fd = -1;
  {
    // Reach into the client for its descriptor: send a first request the normal way to warm up.
    ASSERT_TRUE(client.Send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_TRUE(client.Read());
  }
  fd = client.fd();

  constexpr int kBatch = 50;
  std::string health, items;
  for (int i = 0; i < kBatch; ++i) {
    health += "GET /health HTTP/1.1\r\nHost: t\r\nUser-Agent: alloc-test\r\n\r\n";
    items += "GET /v1/items/abc%20" + std::to_string(i % 10) + "?q=1&r=two HTTP/1.1\r\nHost: t\r\n\r\n";
  }
  std::string buffer(1 << 20, '\0');
  // Warm-up: buffers, handler memory and scratch vectors reach their steady sizes.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(RoundTrip(fd, health, kBatch, buffer.data(), buffer.size()));
    ASSERT_TRUE(RoundTrip(fd, items, kBatch, buffer.data(), buffer.size()));
  }

  int64_t before = g_allocations.load();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(RoundTrip(fd, health, kBatch, buffer.data(), buffer.size()));
    ASSERT_TRUE(RoundTrip(fd, items, kBatch, buffer.data(), buffer.size()));
  }
  int64_t allocations = g_allocations.load() - before;
  EXPECT_EQ(allocations, 0) << "over " << 2 * 10 * kBatch << " requests";
  EXPECT_TRUE((*server)->Shutdown().ok());
}

}  // namespace
}  // namespace gyre::http
