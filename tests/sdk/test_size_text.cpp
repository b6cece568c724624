// quantforge/size_text.hpp: max_shard_size text as huggingface_hub reads it (decimal units) plus binary units.
#include <catch2/catch.hpp>

#include "quantforge/size_text.hpp"

using qf::sdk::parse_size_text;

TEST_CASE("sizes in bytes, decimal and binary units", "[size_text]") {
  CHECK(parse_size_text("123") == 123);
  CHECK(parse_size_text("5GB") == 5000000000ull);
  CHECK(parse_size_text("2MB") == 2000000);
  CHECK(parse_size_text("150kb") == 150000);
  CHECK(parse_size_text("4GiB") == 4ull << 30);
  CHECK(parse_size_text("1.5MiB") == 1572864);
  CHECK(parse_size_text("7B") == 7);
}

TEST_CASE("size text that is not a size names the option and the text", "[size_text]") {
  CHECK_THROWS_WITH(parse_size_text("GB"), Catch::Contains("max_shard_size \"GB\" does not start with a number"));
  CHECK_THROWS_WITH(parse_size_text("5XB"), Catch::Contains("unknown unit"));
  CHECK_THROWS_WITH(parse_size_text("0.1B", "limit"), Catch::Contains("limit \"0.1B\" must be at least 1 byte"));
}
