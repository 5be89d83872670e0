#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "data/csv.hpp"
#include "data/simd.hpp"

using namespace mloop::data;

namespace {

// Hands out a string in reads of at most `step` bytes.
class StringSource : public Source {
  public:
    explicit StringSource(std::string s, size_t step = 1 << 20)
        : m_data(std::move(s)), m_step(step) {}
    size_t read(char* dst, size_t n) override {
        n = std::min({n, m_step, m_data.size() - m_at});
        std::memcpy(dst, m_data.data() + m_at, n);
        m_at += n;
        return n;
    }

  private:
    std::string m_data;
    size_t m_step;
    size_t m_at = 0;
};

struct Rows : CsvRowHandler {
    std::vector<uint64_t> numbers;
    std::vector<std::vector<std::string>> rows;
    void row(uint64_t number, std::span<const std::string_view> fields) override {
        numbers.push_back(number);
        rows.emplace_back(fields.begin(), fields.end());
    }
};

struct Parsed {
    std::vector<std::string> header;
    Rows rows;
};

Parsed parse(const std::string& text, size_t block = 4096, size_t step = 1 << 20) {
    StringSource src(text, step);
    CsvOptions o;
    o.block_size = block;
    CsvReader reader(src, o);
    Parsed p;
    p.header = reader.read_header();
    reader.read_rows(p.rows);
    return p;
}

// The message of the DataError that parsing `text` throws, as "row:column: message".
std::string error_of(const std::string& text, size_t block = 4096) {
    try {
        parse(text, block);
    } catch (const DataError& e) {
        return std::to_string(e.row()) + ":" + std::to_string(e.column()) + ": " + e.message();
    }
    return "no error";
}

// A plain reference reader for RFC 4180 (no checks), to compare the fast one against.
std::vector<std::vector<std::string>> reference(const std::string& s) {
    std::vector<std::vector<std::string>> out;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false;
    size_t i = s.compare(0, 3, "\xef\xbb\xbf") == 0 ? 3 : 0;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < s.size() && s[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            row.push_back(field);
            field.clear();
        } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        } else if (c == '\n') {
            row.push_back(field);
            field.clear();
            if (!(row.size() == 1 && row[0].empty())) {
                out.push_back(row);
            }
            row.clear();
        } else {
            field += c;
        }
    }
    if (!field.empty() || !row.empty()) {
        row.push_back(field);
        out.push_back(row);
    }
    return out;
}

}  // namespace

TEST_SUITE("data") {
    TEST_CASE("csv: plain rows, numbered as a spreadsheet numbers them") {
        const Parsed p = parse("a,b,c\n1,2,3\n4,5,6\n");
        CHECK(p.header == std::vector<std::string>{"a", "b", "c"});
        REQUIRE(p.rows.rows.size() == 2);
        CHECK(p.rows.rows[0] == std::vector<std::string>{"1", "2", "3"});
        CHECK(p.rows.rows[1] == std::vector<std::string>{"4", "5", "6"});
        CHECK(p.rows.numbers == std::vector<uint64_t>{2, 3});
    }

    TEST_CASE("csv: quotes, doubled quotes, newlines in quotes, CRLF, BOM, no final newline") {
        const Parsed p = parse(
            "\xef\xbb\xbfid,text\r\n1,\"a, b\"\r\n2,\"say \"\"hi\"\"\"\r\n3,\"two\nlines\"\r\n"
            "4,\"\"\r\n5,last");
        CHECK(p.header == std::vector<std::string>{"id", "text"});
        REQUIRE(p.rows.rows.size() == 5);
        CHECK(p.rows.rows[0][1] == "a, b");
        CHECK(p.rows.rows[1][1] == "say \"hi\"");
        CHECK(p.rows.rows[2][1] == "two\nlines");
        CHECK(p.rows.rows[3][1] == "");
        CHECK(p.rows.rows[4][1] == "last");
        CHECK(p.rows.numbers == std::vector<uint64_t>{2, 3, 4, 5, 6});
    }

    TEST_CASE("csv: blank lines are skipped but counted") {
        const Parsed p = parse("a,b\n\n1,2\r\n\r\n3,4\n\n");
        REQUIRE(p.rows.rows.size() == 2);
        CHECK(p.rows.numbers == std::vector<uint64_t>{3, 5});
    }

    TEST_CASE("csv: a header-only file has no rows; an empty file is an error") {
        CHECK(parse("a,b\n").rows.rows.empty());
        CHECK(parse("a,b").header == std::vector<std::string>{"a", "b"});
        CHECK(error_of("") == "0:0: file is empty: there is no header row");
        CHECK(error_of("\xef\xbb\xbf") == "0:0: file is empty: there is no header row");
        CHECK(error_of("\n\n") == "0:0: file is empty: there is no header row");
    }

    TEST_CASE("csv: malformed rows are errors that say where") {
        CHECK(error_of("a,b,c\n1,2,3\n1,2\n") == "3:3: row has 2 fields where the header has 3");
        CHECK(error_of("a,b\n1,2,3,4\n") == "2:3: row has 4 fields where the header has 2");
        CHECK(error_of("a,b\n1,\"unterminated\n2,3\n") ==
              "2:2: unterminated quoted field: the quote opened in this row is never closed "
              "before the end of the file");
        CHECK(error_of("a,b\n1,x\"y\"\n") == "2:2: quote inside an unquoted field");
        CHECK(error_of("a,b\n1,\"x\"y\n") ==
              "2:2: text follows the closing quote of a quoted field");
        CHECK(error_of("a,b\n1,\"x\"y\"\"\n") ==
              "2:2: text follows the closing quote of a quoted field");
        CHECK(error_of(std::string("a,b\n1,x\0y\n", 10)) == "2:2: NUL byte in the field");
        CHECK(error_of("a,b\n1,caf\xe9\n") == "2:2: invalid UTF-8 byte 0xe9");
        CHECK(error_of("a,b\n1,x\ry\n") == "2:2: carriage return inside an unquoted field");
        CHECK(error_of("a,b,a\n1,2,3\n") ==
              "1:3: column 'a' appears twice in the header (also column 1)");
    }

    TEST_CASE("csv: a field longer than the limit is an error, with bounded memory") {
        StringSource src("a,b\n1,\"" + std::string(20000, 'x') + "\"\n");
        CsvOptions o;
        o.block_size = 4096;
        o.max_row_bytes = 8192;
        CsvReader reader(src, o);
        reader.read_header();
        Rows rows;
        try {
            reader.read_rows(rows);
            FAIL("no error");
        } catch (const DataError& e) {
            CHECK(e.row() == 2);
            CHECK(e.column() == 2);
            CHECK(e.column_name() == "b");
            CHECK(e.message() == "field is longer than the limit of 8.0 KiB");
        }
    }

    TEST_CASE("csv: quotes and CRLF across block boundaries read the same at every size") {
        // Fields placed so that quotes, doubled quotes and CR/LF pairs fall on every offset of
        // the 64-byte SIMD blocks and of 4 KiB buffers.
        std::mt19937 rng(7);
        std::string text = "k,v,w\r\n";
        for (int i = 0; i < 3000; ++i) {
            std::string v;
            const int kind = static_cast<int>(rng() % 5);
            const int len = static_cast<int>(rng() % 90);
            for (int k = 0; k < len; ++k) {
                v += static_cast<char>('a' + rng() % 26);
            }
            if (kind == 1) {
                v = "\"" + v + "\"\"" + v + "\"";
            } else if (kind == 2) {
                v = "\"" + v + "\r\n, \"\"q\"\"\n" + v + "\"";
            } else if (kind == 3) {
                v = "\"\"";
            }
            text += std::to_string(i) + "," + v + ",é" + (rng() % 2 ? "\r\n" : "\n");
        }
        const auto want = reference(text);
        for (size_t block : {size_t{4096}, size_t{5000}, size_t{1} << 16, size_t{1} << 20}) {
            for (size_t step : {size_t{7}, size_t{4096}, size_t{1} << 20}) {
                INFO("block ", block, " step ", step);
                const Parsed p = parse(text, block, step);
                std::vector<std::vector<std::string>> got{p.header};
                got.insert(got.end(), p.rows.rows.begin(), p.rows.rows.end());
                CHECK(got == want);
            }
        }
    }

    TEST_CASE("csv: the SIMD index agrees with a byte-at-a-time one, at every level") {
        // Random text over the bytes the index cares about, with quotes and CR/LF pairs on
        // every offset of the 64-byte blocks, indexed in one call or in several (the quote
        // state carried between them), starting inside or outside a quoted field, with
        // garbage after the end; each level this CPU has must give what the loop below gives.
        std::vector<simd::Level> levels;
        for (auto l : {simd::Level::scalar, simd::Level::avx2, simd::Level::avx512}) {
            if (simd::supported(l)) {
                levels.push_back(l);
            }
        }
        std::mt19937_64 rng(11);
        const std::string bytes("ab,\"\n\r\x01\xc3\xa9\0\t\xef\xbb\xbf", 14);
        const std::vector<std::string> pieces = {"\"",           "\"\"", "\r\n", ",",     "\n",
                                                 "\xef\xbb\xbf", "x",    "yy",   "\",\"", "\"\r\n"};
        size_t mismatches = 0;
        for (int iter = 0; iter < 3000; ++iter) {
            const size_t len = rng() % 600;
            std::string text;
            while (text.size() < len) {
                if (iter % 2 == 0) {
                    text += bytes[rng() % bytes.size()];
                } else {
                    text += pieces[rng() % pieces.size()];
                }
            }
            text.resize(len);
            std::string buf = text;
            for (size_t i = 0; i < simd::k_padding; ++i) {
                buf += bytes[rng() % bytes.size()];
            }
            const bool quoted_at_start = rng() % 4 == 0;
            const auto base = static_cast<uint32_t>(rng() % 100000);
            std::vector<size_t> cuts;  // where each call ends: multiples of 64, then len
            for (size_t at = 0; at < len;) {
                const size_t step = rng() % 3 == 0 ? len - at : (1 + rng() % 4) * 64;
                at = std::min(len, at + step);
                cuts.push_back(at);
            }

            bool quoted = quoted_at_start;
            std::vector<uint32_t> want;
            std::vector<uint64_t> want_specials(len / 64 + 1);
            for (size_t i = 0; i < len; ++i) {
                const auto c = static_cast<unsigned char>(text[i]);
                if (c == '"') {
                    quoted = !quoted;
                } else if ((c == ',' || c == '\n') && !quoted) {
                    want.push_back(base + static_cast<uint32_t>(i));
                }
                if (c == '"' || c == '\r' || c == 0 || c >= 0x80) {
                    want_specials[i / 64] |= uint64_t{1} << (i % 64);
                }
            }
            for (const auto level : levels) {
                uint64_t q = quoted_at_start ? ~uint64_t{0} : 0;
                std::vector<uint32_t> seps(len + 64 * cuts.size() + 64);
                std::vector<uint64_t> specials(len / 64 + 1);
                size_t n = 0;
                size_t at = 0;
                for (const size_t cut : cuts) {
                    n += simd::csv_index(level, buf.data() + at, cut - at, ',', q,
                                         base + static_cast<uint32_t>(at), seps.data() + n,
                                         specials.data() + at / 64);
                    at = cut;
                }
                seps.resize(n);
                specials.resize((len + 63) / 64);
                want_specials.resize((len + 63) / 64);
                const bool same = seps == want && specials == want_specials &&
                                  (q == ~uint64_t{0}) == quoted && (q == 0) == !quoted;
                if (!same && ++mismatches <= 3) {
                    INFO("level ", simd::level_name(level), " iteration ", iter, " length ", len);
                    CHECK(seps == want);
                    CHECK(specials == want_specials);
                    CHECK((q != 0) == quoted);
                }
                const size_t m = len / 2;
                CHECK(simd::count_byte(level, buf.data(), m, '"') ==
                      static_cast<uint64_t>(std::count(text.begin(), text.begin() + m, '"')));
                const char* stop = simd::json_string_stop(level, buf.data(), buf.data() + len);
                const auto want_stop = std::find_if(text.begin(), text.end(), [](char ch) {
                    const auto c = static_cast<unsigned char>(ch);
                    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
                });
                CHECK(stop - buf.data() == want_stop - text.begin());
            }
        }
        CHECK(mismatches == 0);
        MESSAGE("SIMD levels compared: ", levels.size(),
                "; in use: ", std::string(simd::level_name(simd::level())));
    }

    TEST_CASE("csv: a BOM, CRLF and quoted newlines read the same at every block size") {
        // The reader's own handling of block ends: each record placed so that its quotes and
        // line ends fall on the boundaries of 64-byte blocks and of small buffers.
        std::string text = "\xef\xbb\xbfid,text\r\n";
        std::vector<std::vector<std::string>> want = {{"id", "text"}};
        for (int i = 0; i < 400; ++i) {
            const std::string pad(static_cast<size_t>(i % 67), 'p');
            text += std::to_string(i) + ",\"" + pad + "\"\"\"\"\r\n" + pad + ",\n\"\r\n";
            want.push_back({std::to_string(i), pad + "\"\"\r\n" + pad + ",\n"});
        }
        for (size_t block : {size_t{4096}, size_t{4160}, size_t{65536}}) {
            for (size_t step : {size_t{1}, size_t{63}, size_t{65}, size_t{1} << 20}) {
                INFO("block ", block, " step ", step);
                const Parsed p = parse(text, block, step);
                std::vector<std::vector<std::string>> got{p.header};
                got.insert(got.end(), p.rows.rows.begin(), p.rows.rows.end());
                CHECK(got == want);
                CHECK(p.rows.numbers.size() == 400);
            }
        }
    }
}
