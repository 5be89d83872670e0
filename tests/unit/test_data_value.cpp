#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>

#include "data/value.hpp"

using namespace mloop::data;

TEST_SUITE("data") {
    TEST_CASE("int: optional sign and digits within int64, nothing else") {
        CHECK(parse_int("0") == 0);
        CHECK(parse_int("42") == 42);
        CHECK(parse_int("-17") == -17);
        CHECK(parse_int("+5") == 5);
        CHECK(parse_int("007") == 7);
        CHECK(parse_int("9223372036854775807") == INT64_MAX);
        CHECK(parse_int("-9223372036854775808") == INT64_MIN);
        CHECK_FALSE(parse_int("9223372036854775808"));
        CHECK_FALSE(parse_int("-9223372036854775809"));
        CHECK_FALSE(parse_int("99999999999999999999"));
        for (const char* bad : {"", "-", "+", "1.0", "1e3", " 1", "1 ", "0x10", "1_000", "--1"}) {
            INFO(bad);
            CHECK_FALSE(parse_int(bad));
        }
    }

    TEST_CASE("float: finite decimal numbers; NaN and infinity are not") {
        CHECK(parse_float("1.5") == 1.5);
        CHECK(parse_float("-0.25") == -0.25);
        CHECK(parse_float("+2") == 2.0);
        CHECK(parse_float(".5") == 0.5);
        CHECK(parse_float("5.") == 5.0);
        CHECK(parse_float("1e3") == 1000.0);
        CHECK(parse_float("1.5E-2") == 0.015);
        CHECK(parse_float("42") == 42.0);
        for (const char* bad : {"", "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e400",
                                "1e", "1.2.3", " 1", "1 ", "0x1p3", "+-1", "abc", "1,5"}) {
            INFO(bad);
            CHECK_FALSE(parse_float(bad));
        }
    }

    TEST_CASE("float: the fast path and fast_float read every spelling alike") {
        // Runs of digits of every length around the fast path's 15, with and without a sign, a
        // point, an exponent or a stray byte, each read from a buffer the field ends inside (so
        // that a read past the field's end would be seen by the sanitizer, and as a wrong value).
        std::mt19937_64 rng(20261208);
        const std::string bytes = "0123456789012345678999.-+eE x/:";
        for (int round = 0; round < 200000; ++round) {
            std::string s;
            const int shape = static_cast<int>(rng() % 4);
            if (rng() % 4 == 0) {
                s += rng() % 2 == 0 ? '-' : '+';
            }
            if (shape < 3) {  // [digits][.digits], the lengths spread over 0 to 20
                for (uint64_t k = rng() % 21; k > 0; --k) {
                    s += static_cast<char>('0' + rng() % 10);
                }
                if (rng() % 3 != 0) {
                    s += '.';
                    for (uint64_t k = rng() % 21; k > 0; --k) {
                        s += static_cast<char>('0' + rng() % 10);
                    }
                }
                if (shape == 2) {  // and a stray byte somewhere
                    s.insert(rng() % (s.size() + 1), 1, bytes[rng() % bytes.size()]);
                }
            } else {
                for (uint64_t k = rng() % 12; k > 0; --k) {
                    s += bytes[rng() % bytes.size()];
                }
            }
            const std::unique_ptr<char[]> field(new char[s.size() + 1]);
            std::memcpy(field.get(), s.data(), s.size());
            field[s.size()] = '7';  // a digit just past the end must not be read as one
            const std::string_view view(field.get(), s.size());
            double fast = 0;
            double slow = 0;
            const bool fast_ok = parse_float(view, fast);
            const bool slow_ok = parse_float_slow(view, slow);
            INFO("'" << s << "'");
            REQUIRE(fast_ok == slow_ok);
            if (fast_ok) {
                REQUIRE(fast == slow);
                REQUIRE(std::signbit(fast) == std::signbit(slow));
            }
        }
        CHECK(parse_float("12345678") == 12345678.0);
        CHECK(parse_float("1234567890123456") == 1234567890123456.0);
        CHECK(parse_float("0.12345678901234") == 0.12345678901234);
        CHECK(parse_float("-00000000000001.5") == -1.5);
    }

    TEST_CASE("bool: true/false in any case, and 1/0") {
        CHECK(parse_bool("true") == true);
        CHECK(parse_bool("TRUE") == true);
        CHECK(parse_bool("False") == false);
        CHECK(parse_bool("1") == true);
        CHECK(parse_bool("0") == false);
        for (const char* bad : {"", "yes", "no", "t", "f", "2", "truee", "01", " true"}) {
            INFO(bad);
            CHECK_FALSE(parse_bool(bad));
        }
    }

    TEST_CASE("datetime: ISO 8601 dates and date-times, range-checked") {
        CHECK(parse_datetime("1970-01-01") == 0);
        CHECK(parse_datetime("1970-01-02") == 86400);
        CHECK(parse_datetime("2000-03-01T00:00:00Z") == 951868800);
        CHECK(parse_datetime("2023-11-08T00:22:21Z") == 1699402941);
        CHECK(parse_datetime("2023-11-08T00:22:21") == 1699402941);
        CHECK(parse_datetime("2023-11-08 00:22:21") == 1699402941);
        CHECK(parse_datetime("2023-11-08T00:22") == 1699402920);
        CHECK(parse_datetime("2023-11-08T00:22:21.123456789Z") == 1699402941);
        CHECK(parse_datetime("2023-11-08T02:22:21+02:00") == 1699402941);
        CHECK(parse_datetime("2023-11-07T23:22:21-01:00") == 1699402941);
        CHECK(parse_datetime("2024-02-29") == 1709164800);  // a leap day
        for (const char* bad : {"",
                                "2023",
                                "2023-11",
                                "2023-1-08",
                                "2023-13-01",
                                "2023-00-10",
                                "2023-02-29",
                                "1900-02-29",
                                "2023-04-31",
                                "2023-11-08T24:00:00",
                                "2023-11-08T12:60",
                                "2023-11-08T12:00:60",
                                "2023-11-08T12:00:00.Z",
                                "2023-11-08T12:00:00.1234567890",
                                "2023-11-08T12:00:00+2",
                                "2023-11-08T12:00:00+24:00",
                                "2023-11-08X12:00",
                                "2023-11-08T12:00:00ZZ",
                                "2023-11-08 ",
                                "08/11/2023",
                                "yesterday"}) {
            INFO(bad);
            CHECK_FALSE(parse_datetime(bad));
        }
    }

    TEST_CASE("invalid UTF-8 is found at its first byte") {
        CHECK(invalid_utf8("plain ascii text, long enough to take the fast path once") ==
              std::string_view::npos);
        CHECK(invalid_utf8("café 🚀 ✓") == std::string_view::npos);
        CHECK(invalid_utf8("caf\xff") == 3);
        CHECK(invalid_utf8("abc\xc3") == 3);           // truncated
        CHECK(invalid_utf8("\xc0\xaf") == 0);          // overlong
        CHECK(invalid_utf8("\xed\xa0\x80") == 0);      // a surrogate
        CHECK(invalid_utf8("\xf4\x90\x80\x80") == 0);  // above U+10FFFF
        const std::string long_prefix(100, 'x');
        CHECK(invalid_utf8(long_prefix + "\x80") == 100);
    }

    TEST_CASE("values are shown quoted, shortened at a character, control bytes escaped") {
        CHECK(display_value("abc") == "'abc'");
        CHECK(display_value("a\nb\tc\x01") == "'a\\nb\\tc\\x01'");
        CHECK(display_value(std::string(50, 'x'), 10) == "'xxxxxxxxxx…'");
        // Never cut inside a character: the result stays valid UTF-8.
        const std::string shown = display_value("ééééééé", 5);
        CHECK(invalid_utf8(shown) == std::string_view::npos);
        CHECK(shown == "'ééé…'");
    }
}
