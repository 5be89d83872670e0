#include <doctest/doctest.h>

#include <chrono>

#include "config/yaml_tree.hpp"

using namespace mloop::config;
using mloop::error::Diagnostic;

namespace {

struct Parsed {
    std::optional<Node> node;
    std::vector<Diagnostic> diags;
};

Parsed parse(std::string_view text) {
    Parsed p;
    p.node = parse_yaml(text, "t.yaml", p.diags);
    return p;
}

std::string first(const Parsed& p) {
    REQUIRE_FALSE(p.diags.empty());
    return p.diags.front().where.str() + ": " + p.diags.front().message;
}

}  // namespace

TEST_CASE("a document becomes a tree with 1-based positions") {
    auto p = parse("project: x\ndata:\n  train: data/train.csv\nlist: [1, 'two']\n");
    REQUIRE(p.node);
    REQUIRE(p.node->is_map());
    REQUIRE(p.node->entries.size() == 3);
    CHECK(p.node->entries[0].key == "project");
    CHECK(p.node->entries[0].key_mark.line == 1);
    CHECK(p.node->entries[0].key_mark.column == 1);
    const Node& data = p.node->entries[1].value;
    REQUIRE(data.is_map());
    CHECK(data.entries[0].value.text == "data/train.csv");
    CHECK(data.entries[0].value.mark.line == 3);
    CHECK(data.entries[0].value.mark.column == 10);
    const Node& list = p.node->entries[2].value;
    REQUIRE(list.items.size() == 2);
    CHECK(list.items[0].plain);
    CHECK_FALSE(list.items[1].plain);  // quoted: a string, whatever it looks like
}

TEST_CASE("an empty document is a null node") {
    auto p = parse("");
    REQUIRE(p.node);
    CHECK(p.node->is_null());
    auto c = parse("# only a comment\n");
    REQUIRE(c.node);
    CHECK(c.node->is_null());
}

TEST_CASE("hostile documents are refused with a location, quickly") {
    const auto start = std::chrono::steady_clock::now();

    SUBCASE("alias bomb, 10 levels of 10") {
        std::string s = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
        for (int i = 1; i < 10; ++i) {
            s += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
            for (int k = 0; k < 10; ++k) {
                s += (k ? ", *a" : "*a") + std::to_string(i - 1);
            }
            s += "]\n";
        }
        auto p = parse(s);
        CHECK_FALSE(p.node);
        CHECK(first(p).find("expands to more than 100000 nodes") != std::string::npos);
        CHECK(p.diags.front().where.line > 0);
    }
    SUBCASE("self-referencing alias") {
        auto p = parse("&x [*x]");
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:1:1: nesting is deeper than 64 levels");
    }
    SUBCASE("100 000-deep flow nesting on one line") {
        auto p = parse("a: " + std::string(100000, '[') + std::string(100000, ']'));
        CHECK_FALSE(p.node);
        CHECK(first(p).find("t.yaml:1:1: line is") == 0);
    }
    SUBCASE("100 000-deep flow nesting over many lines") {
        std::string s = "a:\n";
        for (int i = 0; i < 100000; ++i) {
            s += "[\n";
        }
        auto p = parse(s);
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:66:1: nesting is deeper than 64 levels");
    }
    SUBCASE("brackets inside quotes and comments do not count") {
        std::string s = "a: '" + std::string(100, '[') + "'\nb: \"" + std::string(100, '{') +
                        "\"\n# " + std::string(100, '[') + "\n";
        auto p = parse(s);
        CHECK(p.node);
        CHECK(p.diags.empty());
    }
    SUBCASE("10 MB scalar") {
        auto p = parse("a: " + std::string(10 << 20, 'x'));
        CHECK_FALSE(p.node);
        CHECK(first(p).find("project file is 10.0 MiB, more than the limit of 1.0 MiB") !=
              std::string::npos);
    }
    SUBCASE("a long line") {
        auto p = parse("a: 1\nb: " + std::string(70000, 'x') + "\n");
        CHECK_FALSE(p.node);
        CHECK(first(p).find("t.yaml:2:1: line is 68.4 KiB long") == 0);
    }
    SUBCASE("invalid UTF-8") {
        auto p = parse("a: 1\nb: \"caf\xc3\xa9 \xff\"\n");
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:2:10: invalid UTF-8 byte 0xff");
    }
    SUBCASE("NUL byte") {
        auto p = parse(std::string("a: 1\nb: x\0y\n", 11));
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:2:5: control character 0x00 is not allowed in YAML");
    }
    SUBCASE("tabs for indentation") {
        auto p = parse("train:\n\tcommand: [a]\n");
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:2:1: tab character used for indentation");
        CHECK(p.diags.front().hint == "YAML indents with spaces only");
    }
    SUBCASE("two documents") {
        auto p = parse("a: 1\n---\nb: 2\n");
        CHECK_FALSE(p.node);
        CHECK(first(p) == "t.yaml:3:1: project file holds more than one YAML document");
    }
    SUBCASE("a syntax error keeps yaml-cpp's position") {
        auto p = parse("a: [1, 2\n");
        CHECK_FALSE(p.node);
        CHECK(first(p).find("t.yaml:") == 0);
    }
    SUBCASE("complex keys") {
        auto p = parse("? [a]\n: 1\n");
        CHECK_FALSE(p.node);
        CHECK(first(p).find("mapping keys must be plain names") != std::string::npos);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    CHECK(ms < 1000);
}

TEST_CASE("duplicate keys are kept for the reader to report") {
    auto p = parse("a: 1\na: 2\n");
    REQUIRE(p.node);
    CHECK(p.node->entries.size() == 2);
}
