// qf::sdk::json::Writer: escaping, UTF-8, numbers that read back exactly, layout, and misuse.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>

#include "quantforge/json_writer.hpp"

using qf::sdk::json::MisuseError;
using qf::sdk::json::ValueError;
using qf::sdk::json::Writer;
using qf::sdk::json::format_double;
using qf::sdk::json::quote;

TEST_CASE("json strings: quotes, backslashes and every control character are escaped", "[sdk][json]") {
  CHECK(quote("a\"b\\c/d") == R"("a\"b\\c/d")");  // '/' needs no escape and gets none, as Python
  CHECK(quote("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(quote(std::string("\0\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(quote("\x7f") == "\"\x7f\"");  // DEL is not a control character for JSON
  for (int c = 0; c < 0x20; ++c) {
    const std::string q = quote(std::string(1, char(c)));
    CHECK(q.size() >= 4);
    CHECK(q[1] == '\\');
  }
}

TEST_CASE("json strings: UTF-8 passes through, or is escaped with ensure_ascii", "[sdk][json]") {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // é € 😀
  CHECK(quote(text) == "\"" + text + "\"");
  CHECK(quote(text, true) == R"("caf\u00e9 \u20ac \ud83d\ude00")");  // Python's json.dumps(text)
  CHECK(quote("\x7f", true) == R"("\u007f")");
}

TEST_CASE("json strings: invalid UTF-8 is a ValueError naming the byte", "[sdk][json]") {
  for (const char* bad : {"\xff", "a\xc3", "\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
                          "\xf4\x90\x80\x80" /* > U+10FFFF */, "\x80"}) {
    CAPTURE(bad);
    REQUIRE_THROWS_AS(quote(bad), ValueError);
  }
  REQUIRE_THROWS_WITH(quote("ok\xff"), Catch::Contains("byte 2"));
  // A ValueError is an invalid_argument: guard() reports it as the user's error.
  REQUIRE_THROWS_AS(quote("\xff"), std::invalid_argument);
}

TEST_CASE("json numbers: doubles are the shortest text that reads back exactly", "[sdk][json]") {
  CHECK(format_double(0.01) == "0.01");
  CHECK(format_double(1.0) == "1.0");  // stays a float for Python readers
  CHECK(format_double(-2.0) == "-2.0");
  CHECK(format_double(0.1 + 0.2) == "0.30000000000000004");
  CHECK(format_double(1e300) == "1e+300");
  // Python's repr layout: positional for exponents -4..15.
  CHECK(format_double(1e15) == "1000000000000000.0");
  CHECK(format_double(1e16) == "1e+16");
  CHECK(format_double(1.5e-5) == "1.5e-05");
  CHECK(format_double(0.0001) == "0.0001");
  CHECK(format_double(-4.3342700424735715e+21) == "-4.3342700424735715e+21");
  CHECK(std::strtod(format_double(5e-324).c_str(), nullptr) == 5e-324);
  CHECK(std::strtod(format_double(std::numeric_limits<double>::max()).c_str(), nullptr) ==
        std::numeric_limits<double>::max());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isfinite(v)) continue;
    const std::string text = format_double(v);
    INFO(text);
    REQUIRE(std::strtod(text.c_str(), nullptr) == v);
    REQUIRE(text.size() <= 24);
  }
  REQUIRE_THROWS_AS(format_double(std::numeric_limits<double>::quiet_NaN()), ValueError);
  REQUIRE_THROWS_AS(format_double(std::numeric_limits<double>::infinity()), ValueError);
}

TEST_CASE("json writer: compact and indented layouts", "[sdk][json]") {
  Writer c;
  c.begin_object().field("b", 4).field("s", "x").field("t", true).field("n", nullptr).field("d", 0.5);
  c.key("a").begin_array().value(int64_t(-1)).value(uint64_t(18446744073709551615ull)).end_array();
  c.key("e").begin_object().end_object().key("f").begin_array().end_array().end_object();
  CHECK(c.str() == R"({"b":4,"s":"x","t":true,"n":null,"d":0.5,"a":[-1,18446744073709551615],"e":{},"f":[]})");

  // indent 2 is Python's json.dumps(indent=2) / nlohmann's dump(2).
  Writer p(2);
  p.begin_object().key("m").begin_object().field("k", 1).end_object();
  p.key("l").begin_array().value(1).value("two").end_array().key("e").begin_object().end_object().end_object();
  CHECK(p.str() == "{\n  \"m\": {\n    \"k\": 1\n  },\n  \"l\": [\n    1,\n    \"two\"\n  ],\n  \"e\": {}\n}");

  Writer py = Writer::python_default();
  py.begin_object().field("a", 1).key("l").begin_array().value(true).value(nullptr).end_array().end_object();
  CHECK(py.str() == R"({"a": 1, "l": [true, null]})");

  Writer scalar;
  scalar.value("top");
  CHECK(scalar.str() == "\"top\"");
}

TEST_CASE("json writer: misuse is a MisuseError saying what was wrong", "[sdk][json]") {
  auto misuse = [](auto&& steps, const char* what) {
    CAPTURE(what);
    Writer w;
    REQUIRE_THROWS_AS(steps(w), MisuseError);
    Writer again;
    REQUIRE_THROWS_WITH(steps(again), Catch::Contains(what));
  };
  misuse([](Writer& w) { w.begin_object().value(1); }, "without its key");
  misuse([](Writer& w) { w.begin_array().key("k"); }, "outside an object");
  misuse([](Writer& w) { w.begin_object().key("a").key("b"); }, "right after another key");
  misuse([](Writer& w) { w.begin_object().end_array(); }, "without a matching '['");
  misuse([](Writer& w) { w.end_object(); }, "without a matching '{'");
  misuse([](Writer& w) { w.begin_object().key("a").end_object(); }, "has no value");
  misuse([](Writer& w) { w.value(1).value(2); }, "second top-level value");
  misuse([](Writer& w) { w.begin_object().str(); }, "closed");
  misuse([](Writer& w) { w.str(); }, "before any value");
  REQUIRE_THROWS_AS(Writer(-1), MisuseError);
  // Not an invalid_argument: guard() reports misuse as a bug in the plugin, not the user's error.
  Writer w;
  bool user_error = false;
  try {
    w.end_array();
  } catch (const std::invalid_argument&) {
    user_error = true;
  } catch (const std::logic_error&) {
  }
  CHECK_FALSE(user_error);
}
