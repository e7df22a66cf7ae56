// Private to the http module: a Beast parser that writes a request into storage the connection reuses,
// instead of Beast's allocating basic_fields, so steady-state parsing does not touch the heap.
//
// Beast copies nothing it hands us and may move its input buffer between put() calls, so the request
// line and fields are copied into RequestData::head (an arena that keeps its capacity) and recorded as
// offsets; Views() turns them into string_views once the header is complete. Not thread-safe: one parser
// per connection, one request at a time. A parser is single-use (Beast's rule): emplace a new one per
// request; RequestData survives.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace gyre::http::internal {

struct RequestData {
  struct Span {
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  std::string head;  // method, target, then each field's name and value, back to back
  Span method;
  Span target;
  int version = 11;
  std::vector<std::pair<Span, Span>> field_spans;
  std::vector<HeaderField> fields;  // filled by Views()
  std::string body;
  // A Transfer-Encoding other than "chunked" (gzip, "gzip, chunked", ...): gyre decodes none, so the
  // request is refused with 501 naming it instead of its body being read as the next request.
  std::string unsupported_transfer_coding;

  // Forgets the previous request entirely: spans into the cleared `head` must not survive it (an error
  // answered before the next request line arrives would otherwise read past the end of `head`).
  void Reset() {
    head.clear();
    method = Span{};
    target = Span{};
    version = 11;
    unsupported_transfer_coding.clear();
    field_spans.clear();
    fields.clear();
    body.clear();
  }
  // The text of a span; empty for a span that does not lie inside `head` (never throws).
  std::string_view View(Span s) const {
    if (s.offset > head.size()) return {};
    return std::string_view(head).substr(s.offset, s.size);
  }
  Span Append(std::string_view text) {
    Span s{static_cast<uint32_t>(head.size()), static_cast<uint32_t>(text.size())};
    head.append(text);
    return s;
  }
  // Builds `fields` from field_spans; call after the header is complete (head no longer grows).
  void Views() {
    fields.clear();
    for (const auto& [name, value] : field_spans) fields.push_back(HeaderField{View(name), View(value)});
  }
};

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  explicit RequestParser(RequestData* data) : data_(data) {}

  // put(), guarded against Beast 1.74's parse_chunk_header, which asserts n >= 5 (an abort in builds
  // without NDEBUG: the test and debug presets) when a final chunk's "0\r\n" was seen and one more byte
  // arrives. A chunked message cannot complete with fewer than 5 unconsumed bytes ("0\r\n\r\n"; Beast
  // consumes the final chunk only with its trailer), so with fewer this uses nothing and says need_more.
  std::size_t Put(boost::asio::const_buffer buffer, boost::beast::error_code& ec) {
    if (is_header_done() && chunked() && !is_done() && buffer.size() < 5) {
      ec = boost::beast::http::error::need_more;
      return 0;
    }
    return put(buffer, ec);
  }

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  static std::string_view Std(string_view s) { return std::string_view(s.data(), s.size()); }
  // True for a Transfer-Encoding value that is "chunked" alone (any case, surrounding blanks allowed).
  static bool IsChunkedOnly(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    constexpr std::string_view kChunked = "chunked";
    if (v.size() != kChunked.size()) return false;
    for (size_t i = 0; i < v.size(); ++i) {
      if ((v[i] | 0x20) != kChunked[i]) return false;
    }
    return true;
  }

  void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                       error_code&) override {
    data_->method = data_->Append(Std(method));
    data_->target = data_->Append(Std(target));
    data_->version = version;
  }
  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = boost::beast::http::error::bad_version;  // never a response on a server socket
  }
  void on_field_impl(boost::beast::http::field field, string_view name, string_view value,
                     error_code& ec) override {
    if (field == boost::beast::http::field::transfer_encoding && !IsChunkedOnly(Std(value))) {
      data_->unsupported_transfer_coding.assign(value.data(), std::min<size_t>(value.size(), 64));
      ec = boost::beast::http::error::bad_transfer_encoding;
      return;
    }
    RequestData::Span n = data_->Append(Std(name));
    RequestData::Span v = data_->Append(Std(value));
    data_->field_spans.emplace_back(n, v);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const& content_length, error_code&) override {
    // Beast has already refused a Content-Length over body_limit. Reserve at most 1 MiB up front anyway:
    // a client that announces 16 MiB and then trickles should not pin 16 MiB per connection.
    if (content_length) data_->body.reserve(static_cast<size_t>(std::min<std::uint64_t>(*content_length, 1 << 20)));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    data_->body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    data_->body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  RequestData* data_;
};

}  // namespace gyre::http::internal
