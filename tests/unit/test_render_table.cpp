#include <doctest/doctest.h>

#include "render/table.hpp"

using namespace mloop::render;

TEST_SUITE("render") {
    TEST_CASE("a table aligns columns, right-aligns numbers and trims trailing blanks") {
        Table t({{"ID", Align::right}, {"STATE"}, {"auc", Align::right}, {"MODEL"}});
        t.add({"9", "succeeded", "0.84", "churn@6"});
        t.add({"10", "crashed", "", ""});
        CHECK(t.text() ==
              "ID  STATE       auc  MODEL\n"
              " 9  succeeded  0.84  churn@6\n"
              "10  crashed\n");
        CHECK(t.text(false) ==
              " 9  succeeded  0.84  churn@6\n"
              "10  crashed\n");
    }

    TEST_CASE("widths count characters, not bytes") {
        Table t({{"Δ"}, {"x"}});
        t.add({"→ 3", "a"});
        t.add({"1 → 3", "b"});
        CHECK(t.text() ==
              "Δ      x\n"
              "→ 3    a\n"
              "1 → 3  b\n");
        CHECK(display_width("sha256:…") == 8);
    }

    TEST_CASE("empty columns can be dropped, and any column by index") {
        Table t({{"A"}, {"B"}, {"C"}});
        t.add({"1", "", "x"});
        t.add({"2"});  // a short row is padded
        t.drop_empty_columns();
        CHECK(t.columns() == 2);
        CHECK(t.text() == "A  C\n1  x\n2\n");
        t.drop_column(0);
        CHECK(t.text() == "C\nx\n\n");
    }

    TEST_CASE("styles wrap the text, not the padding") {
        Table t({{"S"}, {"N"}});
        t.add({Cell("ok", "\033[32m"), "1"});
        t.add({"failed", "2"});
        CHECK(t.text(false) == "\033[32mok\033[0m      1\nfailed  2\n");
    }

    TEST_CASE("markdown escapes pipes and newlines and marks right alignment") {
        Table t({{"metric"}, {"Δ", Align::right}});
        t.add({"a|b", "+1"});
        t.add({"two\nlines", ""});
        CHECK(t.markdown() ==
              "| metric | Δ |\n"
              "| --- | ---: |\n"
              "| a\\|b | +1 |\n"
              "| two<br>lines |  |\n");
    }

    TEST_CASE("key-value lines pad the keys") {
        CHECK(key_values({{"state", "succeeded"}, {"exit code", "0"}, {"empty", ""}}, "  ") ==
              "  state      succeeded\n"
              "  exit code  0\n"
              "  empty\n");
    }
}
