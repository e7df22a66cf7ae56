// JSON text written by hand on hot paths (prediction log lines, feature responses), where building a JSON
// document first would cost more than the rest of the line.
//
// AppendJsonString writes `s` as a JSON string literal: quotes, backslash and control characters escaped
// (\n \t ... or \u00XX), every other byte copied, so valid UTF-8 in is valid JSON out.
#pragma once

#include <string>
#include <string_view>

namespace gyre {

// `Out` is std::string or fmt::memory_buffer (anything with append(first, last) and push_back).
template <typename Out>
void AppendJsonString(Out& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto put = [&out](std::string_view text) { out.append(text.data(), text.data() + text.size()); };
  out.push_back('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(s.substr(plain, i - plain));
    plain = i + 1;
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      case '\b': put("\\b"); break;
      case '\f': put("\\f"); break;
      default:
        put("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  put(s.substr(plain));
  out.push_back('"');
}

}  // namespace gyre
