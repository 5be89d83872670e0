#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "render/format.hpp"

using namespace mloop::render;

namespace {

struct Utc {
    Utc() {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

constexpr int64_t k_t = 1748736000123;  // 2025-06-01T00:00:00.123Z

}  // namespace

TEST_SUITE("render") {
    TEST_CASE("times: ISO 8601 in UTC for JSON, local time for people") {
        Utc utc;
        CHECK(iso8601(k_t) == "2025-06-01T00:00:00.123Z");
        CHECK(iso8601(0) == "1970-01-01T00:00:00.000Z");
        CHECK(local_time(k_t) == "2025-06-01 00:00:00 +0000");
        CHECK(local_minute(k_t + 61'000) == "2025-06-01 00:01");
    }

    TEST_CASE("relative ages") {
        Utc utc;
        CHECK(relative_age(k_t, k_t) == "just now");
        CHECK(relative_age(k_t, k_t + 999) == "just now");
        CHECK(relative_age(k_t, k_t + 12'000) == "12s ago");
        CHECK(relative_age(k_t, k_t + 3 * 60'000 + 5'000) == "3m ago");
        CHECK(relative_age(k_t, k_t + 5 * 3'600'000) == "5h ago");
        CHECK(relative_age(k_t, k_t + 2 * 86'400'000) == "2d ago");
        CHECK(relative_age(k_t, k_t + 40LL * 86'400'000) == "2025-06-01");
        CHECK(relative_age(k_t + 5000, k_t) == "just now");  // a clock a little ahead
    }

    TEST_CASE("durations") {
        CHECK(duration(0) == "0ms");
        CHECK(duration(850) == "850ms");
        CHECK(duration(12'449) == "12.4s");
        CHECK(duration(185'000) == "3m05s");
        CHECK(duration(3'720'000) == "1h02m");
        CHECK(duration(183'600'000) == "2d03h");
        CHECK(duration(-5) == "0ms");
    }

    TEST_CASE("numbers, deltas and percentages") {
        CHECK(number(0.84123456) == "0.8412");
        CHECK(number(12.5) == "12.5");
        CHECK(number(200) == "200");
        CHECK(number(-3) == "-3");
        CHECK(number(0.0000123) == "1.23e-05");
        CHECK(number(1.5e12) == "1500000000000");
        CHECK(number(2.5e20) == "2.5e+20");
        CHECK(signed_number(0.0118) == "+0.0118");
        CHECK(signed_number(-0.03) == "-0.03");
        CHECK(signed_number(0) == "0");
        CHECK(signed_percent(1.4) == "+1.40%");
        CHECK(signed_percent(-7.894) == "-7.89%");
        CHECK(signed_percent(-0.0001) == "+0.00%");
    }

    TEST_CASE("digests, commits and command lines") {
        CHECK(short_digest(
                  "sha256:3ba7e71f0801899dad14d6275e89342325b4a129388ca2990cd099050fe91cdd") ==
              "sha256:3ba7e71f0801");
        CHECK(short_digest("sha256:abc") == "sha256:abc");
        CHECK(short_commit("0123456789abcdef0123", false) == "0123456789ab");
        CHECK(short_commit("0123456789abcdef0123", true) == "0123456789ab+dirty");
        CHECK(command_line(R"(["python3","train.py","--note","two words","it's",""])") ==
              "python3 train.py --note 'two words' 'it'\\''s' ''");
        CHECK(command_line("not json") == "not json");
    }
}
