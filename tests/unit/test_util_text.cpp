#include <doctest/doctest.h>

#include "util/text.hpp"

using namespace mloop::util;

TEST_CASE("edit distance counts transpositions as one edit") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "abc") == 0);
    CHECK(edit_distance("train", "tarin") == 1);
    CHECK(edit_distance("comand", "command") == 1);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("did you mean suggests only plausible names, best first") {
    const std::vector<std::string> keys = {"command", "params", "metrics", "artifacts", "inputs"};
    CHECK(did_you_mean("comand", keys) == "did you mean 'command'?");
    CHECK(did_you_mean("param", keys) == "did you mean 'params'?");
    CHECK(did_you_mean("zzzzzz", keys).empty());
    const std::vector<std::string> two = {"min", "max"};
    CHECK(did_you_mean("mix", two) == "did you mean 'min' or 'max'?");
    CHECK(nearest("command", keys).empty());  // an exact name is not a suggestion
}

TEST_CASE("quote escapes control characters and shortens") {
    CHECK(quote("abc") == "'abc'");
    CHECK(quote(std::string("a\nb\x01", 4)) == "'a\\nb\\x01'");
    CHECK(quote("abcdef", 3) == "'abc…'");
}

TEST_CASE("invalid UTF-8 is found at its byte") {
    CHECK(invalid_utf8_offset("plain ascii") == std::string_view::npos);
    CHECK(invalid_utf8_offset("caf\xc3\xa9 ok") == std::string_view::npos);
    CHECK(invalid_utf8_offset("ab\xff") == 2);
    CHECK(invalid_utf8_offset("ab\xc3") == 2);                   // truncated sequence
    CHECK(invalid_utf8_offset("\xc0\x80") == 0);                 // overlong NUL
    CHECK(invalid_utf8_offset("\xed\xa0\x80") == 0);             // surrogate
    CHECK(invalid_utf8_offset("\xf4\x90\x80\x80") == 0);         // beyond U+10FFFF
    CHECK(invalid_utf8_offset("12345678901234\xe2\x82") == 14);  // after the 8-byte fast path
    CHECK(invalid_utf8_offset("\xf0\x9f\x98\x80") == std::string_view::npos);
}

TEST_CASE("byte counts read like people write them") {
    CHECK(format_bytes(512) == "512 B");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(10.0 * 1024 * 1024) == "10.0 MiB");
}

TEST_CASE("join and affixes") {
    const std::vector<std::string> v = {"a", "b"};
    CHECK(join(v, ", ") == "a, b");
    CHECK(join(v, ", ", "'") == "'a', 'b'");
    CHECK(starts_with("mloop.yaml", "mloop"));
    CHECK_FALSE(starts_with("ml", "mloop"));
    CHECK(ends_with("x.csv.gz", ".gz"));
    CHECK_FALSE(ends_with("gz", ".gz"));
}
