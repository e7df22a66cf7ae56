#include "core/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace gyre {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(JsonTextTest, EscapesWhatJsonRequires) {
  EXPECT_EQ(Quoted(""), "\"\"");
  EXPECT_EQ(Quoted("plain"), "\"plain\"");
  EXPECT_EQ(Quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Quoted(std::string("\x01\x1f\0z", 4)), "\"\\u0001\\u001f\\u0000z\"");
  EXPECT_EQ(Quoted("Zürich 東京 /"), "\"Zürich 東京 /\"");  // UTF-8 and '/' as they are
}

// Random strings of ASCII, control characters and UTF-8: the text parses back to the same string and equals
// what nlohmann::json writes.
TEST(JsonTextTest, RoundTripsAndMatchesNlohmann) {
  std::mt19937_64 rng(11);
  const std::vector<std::string> pieces = {"a", "Z", " ", "\"", "\\", "\n", "\x7f", "\x01", "é", "€", "😀", "/", "\t"};
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    for (size_t n = rng() % 12; n > 0; --n) s += pieces[rng() % pieces.size()];
    std::string text = Quoted(s);
    EXPECT_EQ(nlohmann::json::parse(text).get<std::string>(), s);
    EXPECT_EQ(text, nlohmann::json(s).dump());
  }
}

}  // namespace
}  // namespace gyre
