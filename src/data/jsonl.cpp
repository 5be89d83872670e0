#include "data/jsonl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "data/simd.hpp"
#include "data/value.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::data {

namespace {

inline bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

}  // namespace

struct JsonlReader::Impl {
    JsonlReader& owner;
    Source& source;
    JsonlOptions options;

    std::unique_ptr<char[]> buf;
    size_t cap = 0;
    size_t filled = 0;
    size_t line_start = 0;
    bool eof = false;
    bool first = true;

    const char* line = nullptr;  // the line being parsed
    std::string_view key;        // the member being parsed, for messages
    std::vector<JsonField> fields;
    std::string scratch;

    Impl(JsonlReader& o, Source& s, JsonlOptions opts) : owner(o), source(s), options(opts) {
        cap = std::min(std::max<size_t>(options.block_size, 4096), options.max_row_bytes);
        buf.reset(new char[cap + simd::k_padding]);
        std::memset(buf.get() + cap, 0, simd::k_padding);
    }

    void refill() {
        if (line_start > 0) {
            std::memmove(buf.get(), buf.get() + line_start, filled - line_start);
            filled -= line_start;
            line_start = 0;
        }
        if (filled == cap) {
            if (cap >= options.max_row_bytes) {
                throw DataError(
                    fmt::format("row is longer than the limit of {}",
                                util::format_bytes(static_cast<double>(options.max_row_bytes))),
                    owner.m_row + 1, 0);
            }
            const size_t new_cap = std::min(cap * 2, options.max_row_bytes);
            std::unique_ptr<char[]> nb(new char[new_cap + simd::k_padding]);
            std::memcpy(nb.get(), buf.get(), filled);
            std::memset(nb.get() + new_cap, 0, simd::k_padding);
            buf = std::move(nb);
            cap = new_cap;
        }
        try {
            while (filled < cap) {
                const size_t got = source.read(buf.get() + filled, cap - filled);
                if (got == 0) {
                    eof = true;
                    break;
                }
                filled += got;
            }
        } catch (const DataError& e) {
            throw DataError(e.message(), owner.m_row + 1, 0, {}, e.hint());
        }
    }

    void run(JsonRowHandler& handler) {
        size_t scanned = 0;  // bytes after line_start known to hold no newline
        for (;;) {
            if (first && (filled >= 3 || eof)) {
                first = false;
                if (options.first_part && filled >= 3 &&
                    std::memcmp(buf.get(), "\xef\xbb\xbf", 3) == 0) {
                    line_start = 3;
                }
            }
            const char* b = buf.get();
            const size_t from = line_start + scanned;
            const void* nl = from < filled ? std::memchr(b + from, '\n', filled - from) : nullptr;
            if (nl != nullptr) {
                const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - b);
                parse(b + line_start, b + end, handler);
                line_start = end + 1;
                scanned = 0;
                continue;
            }
            if (eof) {
                if (line_start < filled) {
                    parse(b + line_start, b + filled, handler);
                    line_start = filled;
                }
                if (owner.m_row == 0 && options.first_part) {
                    throw DataError("file is empty", 0, 0, {},
                                    "a JSON-lines file holds one JSON object per line");
                }
                return;
            }
            scanned = filled - line_start;
            refill();
        }
    }

    [[noreturn]] void fail(const char* at, const std::string& message, std::string hint = {}) {
        throw DataError(message, owner.m_row, static_cast<uint64_t>(at - line) + 1,
                        std::string(key), std::move(hint));
    }

    void skip_ws(const char*& s, const char* e) {
        while (s < e && is_ws(*s)) {
            ++s;
        }
    }

    void parse(const char* p, const char* e, JsonRowHandler& handler) {
        line = p;
        key = {};
        ++owner.m_row;
        const char* s = p;
        skip_ws(s, e);
        if (s == e) {
            return;  // a blank line
        }
        if (*s != '{') {
            fail(s, "row is not a JSON object", "each line of a JSON-lines file holds one object");
        }
        ++s;
        fields.clear();
        scratch.clear();
        scratch.reserve(static_cast<size_t>(e - p));
        skip_ws(s, e);
        if (s < e && *s == '}') {
            ++s;
        } else {
            for (;;) {
                if (s >= e || *s != '"') {
                    fail(s, "expected a member name in double quotes");
                }
                key = {};
                const std::string_view k = string(s, e);
                key = k;
                skip_ws(s, e);
                if (s >= e || *s != ':') {
                    fail(s, "expected ':' after the member name");
                }
                ++s;
                skip_ws(s, e);
                JsonField f{k, {}, JsonKind::null, static_cast<uint32_t>(s - p)};
                value(s, e, f);
                fields.push_back(f);
                skip_ws(s, e);
                if (s < e && *s == ',') {
                    ++s;
                    skip_ws(s, e);
                    continue;
                }
                if (s < e && *s == '}') {
                    ++s;
                    break;
                }
                fail(s, "expected ',' or '}' after a value");
            }
        }
        key = {};
        skip_ws(s, e);
        if (s != e) {
            fail(s, "text after the end of the object");
        }
        ++owner.m_data_rows;
        handler.row(owner.m_row, fields);
    }

    // s is at the opening quote; returns the unescaped text and leaves s past the closing one.
    std::string_view string(const char*& s, const char* e) {
        const char* open = s;
        const char* start = s + 1;
        const char* q = simd::json_string_stop(start, e);
        if (q < e && *q == '"') {
            s = q + 1;
            return {start, static_cast<size_t>(q - start)};
        }
        // Check the rest (UTF-8, control characters, escapes) and see whether it needs copying.
        bool escaped = false;
        const char* at = q;
        for (;;) {
            if (at >= e) {
                fail(open, "unterminated string");
            }
            const auto c = static_cast<unsigned char>(*at);
            if (c == '"') {
                break;
            }
            if (c == '\\') {
                escaped = true;
                at += 2;
            } else if (c < 0x20) {
                fail(at, fmt::format("control character 0x{:02x} in a string", c),
                     "write it as an escape such as \\n or \\u0000");
            } else if (c >= 0x80) {
                const size_t n = std::min<size_t>(4, static_cast<size_t>(e - at));
                const std::string_view seq(at, n);
                const size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                const size_t bad = invalid_utf8(seq.substr(0, std::min(len, n)));
                if (bad != std::string_view::npos || n < len || c < 0xc2) {
                    fail(at, fmt::format("invalid UTF-8 byte 0x{:02x}", c));
                }
                at += len;
            } else {
                ++at;
            }
            at = simd::json_string_stop(at, e);
        }
        s = at + 1;
        if (!escaped) {
            return {start, static_cast<size_t>(at - start)};
        }
        const size_t out = scratch.size();
        for (const char* c = start; c < at; ++c) {
            if (*c != '\\') {
                scratch.push_back(*c);
                continue;
            }
            ++c;
            switch (*c) {
                case '"':
                case '\\':
                case '/':
                    scratch.push_back(*c);
                    break;
                case 'b':
                    scratch.push_back('\b');
                    break;
                case 'f':
                    scratch.push_back('\f');
                    break;
                case 'n':
                    scratch.push_back('\n');
                    break;
                case 'r':
                    scratch.push_back('\r');
                    break;
                case 't':
                    scratch.push_back('\t');
                    break;
                case 'u': {
                    uint32_t cp = hex4(c - 1, at);
                    c += 4;
                    if (cp >= 0xdc00 && cp <= 0xdfff) {
                        fail(c - 5, "invalid \\u escape: a low surrogate without a high one");
                    }
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        if (c + 2 >= at || c[1] != '\\' || c[2] != 'u') {
                            fail(c - 5, "invalid \\u escape: a high surrogate without a low one");
                        }
                        const uint32_t lo = hex4(c + 1, at);
                        if (lo < 0xdc00 || lo > 0xdfff) {
                            fail(c + 1, "invalid \\u escape: a high surrogate without a low one");
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        c += 6;
                    }
                    append_utf8(scratch, cp);
                    break;
                }
                default:
                    fail(c - 1, fmt::format("invalid escape '\\{}'",
                                            static_cast<unsigned char>(*c) < 0x80 ? *c : '?'));
            }
        }
        return std::string_view(scratch).substr(out);
    }

    // The value of "\uXXXX" at `esc` (the backslash).
    uint32_t hex4(const char* esc, const char* end) {
        if (end - esc < 6) {
            fail(esc, "invalid \\u escape: four hexadecimal digits must follow");
        }
        uint32_t v = 0;
        for (int i = 2; i < 6; ++i) {
            const int h = hex_value(esc[i]);
            if (h < 0) {
                fail(esc, "invalid \\u escape: four hexadecimal digits must follow");
            }
            v = v * 16 + static_cast<uint32_t>(h);
        }
        return v;
    }

    void value(const char*& s, const char* e, JsonField& f) {
        if (s >= e) {
            fail(s, "expected a value");
        }
        const char* start = s;
        switch (*s) {
            case '"':
                f.kind = JsonKind::string;
                f.text = string(s, e);
                return;
            case 't':
                literal(s, e, "true");
                f.kind = JsonKind::true_;
                break;
            case 'f':
                literal(s, e, "false");
                f.kind = JsonKind::false_;
                break;
            case 'n':
                literal(s, e, "null");
                f.kind = JsonKind::null;
                break;
            case '{':
            case '[':
                f.kind = *s == '{' ? JsonKind::object : JsonKind::array;
                nested(s, e);
                break;
            default:
                if (*s == '-' || is_digit(*s)) {
                    number(s, e);
                    f.kind = JsonKind::number;
                    break;
                }
                fail(s, *s >= 0x20 && *s < 0x7f ? fmt::format("unexpected character '{}'", *s)
                                                : fmt::format("unexpected byte 0x{:02x}",
                                                              static_cast<unsigned char>(*s)));
        }
        f.text = std::string_view(start, static_cast<size_t>(s - start));
    }

    void literal(const char*& s, const char* e, std::string_view word) {
        if (static_cast<size_t>(e - s) < word.size() ||
            std::memcmp(s, word.data(), word.size()) != 0) {
            fail(s, "invalid literal: expected true, false or null");
        }
        s += word.size();
        end_of_value(s, e);
    }

    void end_of_value(const char* s, const char* e) {
        if (s < e && !is_ws(*s) && *s != ',' && *s != '}' && *s != ']') {
            fail(s, fmt::format("unexpected character after a value"));
        }
    }

    void number(const char*& s, const char* e) {
        const char* start = s;
        if (*s == '-') {
            ++s;
        }
        if (s >= e || !is_digit(*s)) {
            fail(start, "invalid number");
        }
        if (*s == '0') {
            ++s;
        } else {
            while (s < e && is_digit(*s)) {
                ++s;
            }
        }
        if (s < e && *s == '.') {
            ++s;
            if (s >= e || !is_digit(*s)) {
                fail(start, "invalid number: digits must follow the decimal point");
            }
            while (s < e && is_digit(*s)) {
                ++s;
            }
        }
        if (s < e && (*s == 'e' || *s == 'E')) {
            ++s;
            if (s < e && (*s == '+' || *s == '-')) {
                ++s;
            }
            if (s >= e || !is_digit(*s)) {
                fail(start, "invalid number: digits must follow the exponent");
            }
            while (s < e && is_digit(*s)) {
                ++s;
            }
        }
        if (s < e && !is_ws(*s) && *s != ',' && *s != '}' && *s != ']') {
            fail(start, "invalid number");
        }
    }

    // Skips an object or array: brackets matched up to k_max_depth, strings checked.
    void nested(const char*& s, const char* e) {
        uint64_t stack = 0;  // bit d: level d+1 is an array
        int depth = 0;
        while (s < e) {
            const char c = *s;
            if (c == '{' || c == '[') {
                if (depth + 1 >= k_max_depth) {  // the row's own object is one level
                    fail(s, fmt::format("nesting is deeper than {} levels", k_max_depth));
                }
                stack = (stack << 1) | (c == '[' ? 1 : 0);
                ++depth;
                ++s;
            } else if (c == '}' || c == ']') {
                if ((stack & 1) != (c == ']' ? 1u : 0u)) {
                    fail(s, fmt::format("mismatched '{}'", c));
                }
                stack >>= 1;
                --depth;
                ++s;
                if (depth == 0) {
                    end_of_value(s, e);
                    return;
                }
            } else if (c == '"') {
                string(s, e);
            } else if (static_cast<unsigned char>(c) >= 0x80) {
                fail(s, fmt::format("invalid UTF-8 byte 0x{:02x}", static_cast<unsigned char>(c)));
            } else if (static_cast<unsigned char>(c) < 0x20 && !is_ws(c)) {
                fail(s, fmt::format("control character 0x{:02x}", static_cast<unsigned char>(c)));
            } else {
                ++s;
            }
        }
        fail(s, "unterminated object or array");
    }
};

JsonlReader::JsonlReader(Source& source, JsonlOptions options)
    : m_impl(std::make_unique<Impl>(*this, source, options)) {}

JsonlReader::~JsonlReader() = default;

void JsonlReader::read_rows(JsonRowHandler& handler) {
    m_impl->run(handler);
}

uint64_t jsonl_next_record(int fd, uint64_t from, uint64_t end, const std::string& display,
                           const std::atomic<bool>* cancel) {
    return scan_file(fd, from, end, display, cancel,
                     [](const char* bytes, size_t n, uint64_t at) -> std::optional<uint64_t> {
                         if (const void* nl = std::memchr(bytes, '\n', n)) {
                             return at +
                                    static_cast<uint64_t>(static_cast<const char*>(nl) - bytes) + 1;
                         }
                         return std::nullopt;
                     });
}

}  // namespace mloop::data
