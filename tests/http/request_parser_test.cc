// The connection's request parser (http/request_parser.h) fed the way the server feeds it, on the inputs
// fuzz/http_request_fuzz found (kept in fuzz/corpus/http_request_fuzz/regress-*).
#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <string>

namespace gyre::http::internal {
namespace {

// Feeds `text` `step` bytes at a time, consuming what the parser used; returns the final error code.
boost::beast::error_code Feed(RequestParser& parser, const std::string& text, size_t step) {
  boost::beast::flat_buffer in;
  boost::beast::error_code ec;
  for (size_t fed = 0; fed < text.size() && !parser.is_done();) {
    size_t n = std::min(step, text.size() - fed);
    auto buf = in.prepare(n);
    std::copy_n(text.data() + fed, n, static_cast<char*>(buf.data()));
    in.commit(n);
    fed += n;
    size_t used = parser.Put(in.data(), ec);
    in.consume(used);
    if (ec == boost::beast::http::error::need_more) continue;
    if (ec) return ec;
  }
  return ec;
}

// Beast 1.74's parse_chunk_header asserted n >= 5 (aborting builds without NDEBUG, the server's test
// build included) when the final chunk's "0\r\n" had been seen and exactly one more byte arrived.
TEST(RequestParserTest, FinalChunkArrivingByteByByteCompletes) {
  const std::string text =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  for (size_t step : {1, 2, 3, 4, 5, 7, 64}) {
    RequestData data;
    RequestParser parser(&data);
    parser.eager(true);
    boost::beast::error_code ec = Feed(parser, text, step);
    EXPECT_FALSE(ec && ec != boost::beast::http::error::need_more) << step << ": " << ec.message();
    EXPECT_TRUE(parser.is_done()) << step;
    EXPECT_EQ(data.body, "abc") << step;
  }
}

// Reset forgets the previous request's spans: an error answered before the next request line arrives
// used to read the stale target past the end of the cleared arena (std::out_of_range, issue 20).
TEST(RequestParserTest, ResetForgetsThePreviousRequest) {
  RequestData data;
  {
    RequestParser parser(&data);
    parser.eager(true);
    EXPECT_FALSE(Feed(parser, "GET /a/long/target?x=1 HTTP/1.1\r\nHost: t\r\n\r\n", 64));
    EXPECT_EQ(data.View(data.target), "/a/long/target?x=1");
  }
  data.Reset();
  EXPECT_EQ(data.target.size, 0u);
  EXPECT_TRUE(data.View(data.target).empty());
  EXPECT_TRUE(data.View(RequestData::Span{1000, 5}).empty());  // a span outside the arena reads as empty
}

TEST(RequestParserTest, TransferCodingsOtherThanChunkedAreRefused) {
  for (const char* coding : {"gzip", "gzip, chunked", "deflate", "identity", "chunked, chunked"}) {
    RequestData data;
    RequestParser parser(&data);
    parser.eager(true);
    boost::beast::error_code ec =
        Feed(parser, std::string("POST / HTTP/1.1\r\nTransfer-Encoding: ") + coding + "\r\n\r\n", 64);
    EXPECT_EQ(ec, boost::beast::http::error::bad_transfer_encoding) << coding;
    EXPECT_EQ(data.unsupported_transfer_coding, coding);
  }
}

}  // namespace
}  // namespace gyre::http::internal
