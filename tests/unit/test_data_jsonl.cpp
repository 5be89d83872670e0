#include <doctest/doctest.h>
#include <algorithm>

#include <cstring>
#include <string>
#include <vector>

#include "data/jsonl.hpp"

using namespace mloop::data;

namespace {

class StringSource : public Source {
  public:
    explicit StringSource(std::string s) : m_data(std::move(s)) {}
    size_t read(char* dst, size_t n) override {
        n = std::min(n, m_data.size() - m_at);
        std::memcpy(dst, m_data.data() + m_at, n);
        m_at += n;
        return n;
    }

  private:
    std::string m_data;
    size_t m_at = 0;
};

struct Member {
    std::string key;
    JsonKind kind;
    std::string text;
    bool operator==(const Member&) const = default;
};

struct Rows : JsonRowHandler {
    std::vector<uint64_t> numbers;
    std::vector<std::vector<Member>> rows;
    void row(uint64_t number, std::span<const JsonField> fields) override {
        numbers.push_back(number);
        std::vector<Member> r;
        for (const auto& f : fields) {
            r.push_back({std::string(f.key), f.kind, std::string(f.text)});
        }
        rows.push_back(std::move(r));
    }
};

Rows parse(const std::string& text, size_t block = 4096) {
    StringSource src(text);
    JsonlOptions o;
    o.block_size = block;
    JsonlReader reader(src, o);
    Rows rows;
    reader.read_rows(rows);
    return rows;
}

std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const DataError& e) {
        return std::to_string(e.row()) + ":" + std::to_string(e.column()) + ": " + e.message();
    }
    return "no error";
}

}  // namespace

TEST_SUITE("data") {
    TEST_CASE("jsonl: members with their kinds; strings unescaped, numbers as written") {
        const Rows r = parse(
            "{\"a\": 1, \"b\": -2.5e3, \"c\": \"x\\\"y\\u00e9\\ud83d\\ude80\\n\", \"d\": true, "
            "\"e\": false, \"f\": null, \"g\": [1, {\"h\": \"]\"}], \"i\": {}}\n");
        REQUIRE(r.rows.size() == 1);
        const std::vector<Member> want = {{"a", JsonKind::number, "1"},
                                          {"b", JsonKind::number, "-2.5e3"},
                                          {"c", JsonKind::string, "x\"yé🚀\n"},
                                          {"d", JsonKind::true_, "true"},
                                          {"e", JsonKind::false_, "false"},
                                          {"f", JsonKind::null, "null"},
                                          {"g", JsonKind::array, "[1, {\"h\": \"]\"}]"},
                                          {"i", JsonKind::object, "{}"}};
        CHECK(r.rows[0] == want);
    }

    TEST_CASE("jsonl: rows are lines; blank lines are skipped; CRLF and a BOM are fine") {
        const Rows r = parse("\xef\xbb\xbf{\"a\":1}\r\n\n  \r\n{\"a\":2}\n{}");
        CHECK(r.numbers == std::vector<uint64_t>{1, 4, 5});
        CHECK(r.rows[2].empty());
    }

    TEST_CASE("jsonl: long lines across buffer refills") {
        std::string text;
        for (int i = 0; i < 200; ++i) {
            text += "{\"k\": \"" + std::string(static_cast<size_t>(i * 37 % 3000), 'x') +
                    "\", \"n\": " + std::to_string(i) + "}\n";
        }
        const Rows r = parse(text, 4096);
        REQUIRE(r.rows.size() == 200);
        CHECK(r.rows[199][1].text == "199");
        CHECK(r.rows[81][0].text.size() == 81 * 37 % 3000);
    }

    TEST_CASE("jsonl: malformed lines are errors with row and byte column") {
        CHECK(error_of("{\"a\":1}\n[1,2]\n") == "2:1: row is not a JSON object");
        CHECK(error_of("{\"a\":1,}\n") == "1:8: expected a member name in double quotes");
        CHECK(error_of("{\"a\" 1}\n") == "1:6: expected ':' after the member name");
        CHECK(error_of("{\"a\":1 \"b\":2}\n") == "1:8: expected ',' or '}' after a value");
        CHECK(error_of("{\"a\":01}\n") == "1:6: invalid number");
        CHECK(error_of("{\"a\":1.}\n") ==
              "1:6: invalid number: digits must follow the decimal point");
        CHECK(error_of("{\"a\":tru}\n") == "1:6: invalid literal: expected true, false or null");
        CHECK(error_of("{\"a\":\"x}\n") == "1:6: unterminated string");
        CHECK(error_of("{\"a\":\"x\ty\"}\n") == "1:8: control character 0x09 in a string");
        CHECK(error_of("{\"a\":\"caf\xe9\"}\n") == "1:10: invalid UTF-8 byte 0xe9");
        CHECK(error_of("{\"a\":\"\\q\"}\n") == "1:7: invalid escape '\\q'");
        CHECK(error_of("{\"a\":\"\\ud800\"}\n") ==
              "1:7: invalid \\u escape: a high surrogate without a low one");
        CHECK(error_of("{\"a\":1} x\n") == "1:9: text after the end of the object");
        CHECK(error_of("{\"a\":[1}\n") == "1:8: mismatched '}'");
        CHECK(error_of(std::string("{\"a\":1}\n{\"b\":\0}\n", 16)) == "2:6: unexpected byte 0x00");
    }

    TEST_CASE("jsonl: nesting deeper than the limit is an error, whatever the depth") {
        const std::string deep =
            "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}\n";
        CHECK(error_of(deep) == "1:69: nesting is deeper than 64 levels");
        const std::string ok = "{\"a\":" + std::string(63, '[') + std::string(63, ']') + "}\n";
        CHECK(parse(ok).rows.size() == 1);
    }
}
