#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "render/validation.hpp"

using namespace mloop;

namespace {

data::Report failing() {
    data::Report r;
    r.dataset = "train";
    r.path = "data/train.csv";
    r.format = "csv";
    r.rows = 4000;
    data::Expectation ok;
    ok.kind = "type";
    ok.column = "age";
    ok.expected = "type int";
    ok.checked = 4000;
    data::Expectation bad;
    bad.kind = "values";
    bad.column = "plan";
    bad.expected = "in a|b";
    bad.checked = 4000;
    bad.failed = 8;
    bad.verdict = data::Verdict::fail;
    bad.samples = {{"", 10, "'<b>`x`</b>'"}, {"", 11, "'c'"}};
    r.expectations = {ok, bad};
    r.unique = {{"customer_id", 3999, 327680}};
    r.passed = false;
    return r;
}

}  // namespace

TEST_SUITE("render") {
    TEST_CASE("shares are shown as percentages, tiny ones as <0.01%") {
        CHECK(render::percent(0) == "0%");
        CHECK(render::percent(0.01) == "1%");
        CHECK(render::percent(0.00025) == "0.03%");
        CHECK(render::percent(0.00001) == "<0.01%");
        CHECK(render::percent(1.0 / 3) == "33.33%");
    }

    TEST_CASE("the table lists what did not pass, with samples, and the memory of unique") {
        const std::string t = render::validation_table({failing()}, {});
        CHECK(t ==
              "FAIL  data    train  data/train.csv  4000 rows, 1 of 2 expectations failed\n"
              "      expectation  column  failed  fraction  allowed  verdict  samples\n"
              "      in a|b       plan         8     0.20%       0%  FAIL     row 10: "
              "'<b>`x`</b>', row 11: 'c', …\n"
              "      unique customer_id: 3999 values, 320.0 KiB of memory\n");
        const std::string all = render::validation_table({failing()}, {true});
        CHECK(all.find("      type int     age          0        0%       0%  pass\n") !=
              std::string::npos);
    }

    TEST_CASE("markdown escapes what would break a table or a page") {
        const std::string md =
            render::validation_markdown({true, true, "mloop.yaml", "x"}, {failing()});
        CHECK(md.find("✅ **config** <code>mloop.yaml</code> — x") != std::string::npos);
        CHECK(md.find("| ❌ | train | <code>data/train.csv</code> | 4000 | 1 of 2 expectations "
                      "failed |") != std::string::npos);
        CHECK(md.find("| in a&#124;b | plan | 8 | 0.20% | 0% | FAIL | row 10 "
                      "<code>'&lt;b&gt;&#96;x&#96;&lt;/b&gt;'</code>, row 11 <code>'c'</code> |") !=
              std::string::npos);
    }

    TEST_CASE("a report survives the registry's JSON") {
        data::Report r = failing();
        r.problem = data::DataProblem{"x.csv", 3, 2, "b", "NUL byte in the field", "h"};
        const data::Report back = data::report_from_json(data::to_json(r));
        CHECK(data::to_json(back) == data::to_json(r));
        CHECK(back.problem->location() == "x.csv:3:2");
        CHECK(back.problem->text() == "column 'b': NUL byte in the field");
    }
}
