#include "http/message.h"

namespace gyre::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const HeaderField& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const QueryParam& q : query) {
    if (q.name == name) return std::string_view(q.value);
  }
  return std::nullopt;
}

std::string_view Request::Param(std::string_view name) const {
  for (const PathParam& p : params) {
    if (p.name == name) return p.value;
  }
  return {};
}

}  // namespace gyre::http
