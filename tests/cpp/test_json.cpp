// The strict JSON reader and writer behind the safetensors header.
#include <gtest/gtest.h>
#include "tcltorch/json.h"

using namespace tcltorch;

namespace {

std::string err(const std::string& text) {
  try {
    parseJson(text);
  } catch (const JsonError& e) {
    return std::string(e.what()) + " @" + std::to_string(e.pos);
  }
  return "ok";
}

}  // namespace

TEST(Json, ParsesEveryKind) {
  Json j = parseJson(R"( {"a": [1, -2.5e1, true, false, null], "s": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} )");
  ASSERT_EQ(j.kind, Json::Object);
  const Json* a = j.find("a");
  ASSERT_TRUE(a && a->kind == Json::Array && a->arr.size() == 5);
  EXPECT_TRUE(a->arr[0].isInt);
  EXPECT_EQ(a->arr[0].i, 1);
  EXPECT_FALSE(a->arr[1].isInt);
  EXPECT_DOUBLE_EQ(a->arr[1].num, -25.0);
  EXPECT_TRUE(a->arr[2].b);
  EXPECT_EQ(a->arr[4].kind, Json::Null);
  EXPECT_EQ(j.find("s")->str, "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(j.find("o")->kind, Json::Object);
  EXPECT_EQ(j.find("missing"), nullptr);
}

TEST(Json, KeepsMemberOrderAndLargeIntegers) {
  Json j = parseJson(R"({"z":9223372036854775807,"a":-9223372036854775808,"m":9223372036854775808})");
  ASSERT_EQ(j.obj.size(), 3u);
  EXPECT_EQ(j.obj[0].first, "z");
  EXPECT_EQ(j.obj[0].second.i, INT64_MAX);
  EXPECT_EQ(j.obj[1].second.i, INT64_MIN);
  EXPECT_FALSE(j.obj[2].second.isInt);  // beyond int64: a number, not an integer
}

TEST(Json, RefusesWhatRfc8259Refuses) {
  EXPECT_EQ(err("{\"a\":1,}"), "expected a string key @7");
  EXPECT_EQ(err("[1,]"), "unexpected character @3");
  EXPECT_EQ(err("{\"a\":1,\"a\":2}"), "duplicate key \"a\" @7");
  EXPECT_EQ(err("01"), "unexpected text after the value @1");
  EXPECT_EQ(err("1."), "invalid number @2");
  EXPECT_EQ(err("-"), "invalid number @1");
  EXPECT_EQ(err("+1"), "unexpected character @0");
  EXPECT_EQ(err("NaN"), "unexpected character @0");
  EXPECT_EQ(err("\"a\tb\""), "control character in string @2");
  EXPECT_EQ(err("\"\\x\""), "bad escape in string @2");
  EXPECT_EQ(err("\"\\ud800\""), "unpaired surrogate in \\u escape @7");
  EXPECT_EQ(err("\"\\udc00\""), "unpaired surrogate in \\u escape @7");
  EXPECT_EQ(err("\"\xc0\x80\""), "invalid UTF-8 @1");  // overlong NUL
  EXPECT_EQ(err("\"\xed\xa0\x80\""), "invalid UTF-8 @1");  // a surrogate in UTF-8
  EXPECT_EQ(err("\"abc"), "unterminated string @4");
  EXPECT_EQ(err("tru"), "invalid literal @3");
  EXPECT_EQ(err("// c\n1"), "unexpected character @0");
  EXPECT_EQ(err(""), "unexpected end of text @0");
  EXPECT_EQ(err(std::string(100, '[') + std::string(100, ']')), "nested too deeply @65");
}

TEST(Json, WritesCompactEscapedText) {
  Json o;
  o.kind = Json::Object;
  Json arr;
  arr.kind = Json::Array;
  arr.arr = {Json::integer(-3), Json::integer(0)};
  o.obj.emplace_back("k\"\n\x01", Json::string("\xc3\xa9"));
  o.obj.emplace_back("a", arr);
  std::string text = writeJson(o);
  EXPECT_EQ(text, "{\"k\\\"\\n\\u0001\":\"\xc3\xa9\",\"a\":[-3,0]}");
  EXPECT_EQ(writeJson(parseJson(text)), text);
}
