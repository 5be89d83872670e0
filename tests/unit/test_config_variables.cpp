#include <doctest/doctest.h>

#include "config/variables.hpp"

using namespace mloop::config;

TEST_CASE("split_variables separates literals and names") {
    auto r = split_variables("--data=${data.train} x ${run.dir}");
    REQUIRE(r.ok());
    const auto& p = r.value();
    REQUIRE(p.size() == 4);
    CHECK_FALSE(p[0].variable);
    CHECK(p[0].text == "--data=");
    CHECK(p[1].variable);
    CHECK(p[1].text == "data.train");
    CHECK(p[1].offset == 7);
    CHECK(p[2].text == " x ");
    CHECK(p[3].text == "run.dir");
}

TEST_CASE("$${ is a literal ${") {
    auto r = split_variables("cost $${x} ${project}");
    REQUIRE(r.ok());
    REQUIRE(r.value().size() == 2);
    CHECK(r.value()[0].text == "cost ${x} ");
    CHECK(r.value()[1].text == "project");
}

TEST_CASE("malformed variables are errors") {
    CHECK_FALSE(split_variables("${data.train").ok());
    CHECK(split_variables("${data.train").error().find("unterminated") != std::string::npos);
    CHECK_FALSE(split_variables("${}").ok());
    CHECK_FALSE(split_variables("${a b}").ok());
    CHECK(split_variables("$ and $HOME and {x}").ok());
}

TEST_CASE("expand substitutes and names unknown variables") {
    Lookup lookup = [](std::string_view n) -> std::optional<std::string> {
        if (n == "data.train") {
            return "data/train.csv";
        }
        return std::nullopt;
    };
    auto ok = expand("--data=${data.train}", lookup);
    REQUIRE(ok.ok());
    CHECK(ok.value() == "--data=data/train.csv");
    auto bad = expand("${data.eval}", lookup);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error() == "unknown variable '${data.eval}'");
}

TEST_CASE("durations") {
    CHECK(parse_duration("90s").value().count() == 90);
    CHECK(parse_duration("15m").value().count() == 900);
    CHECK(parse_duration("2h").value().count() == 7200);
    CHECK(parse_duration("30d").value().count() == 30 * 86400);
    CHECK(parse_duration("1h30m").value().count() == 5400);
    CHECK(parse_duration("500ms").value().count() == 1);
    CHECK(parse_duration("0s").value().count() == 0);
    CHECK_FALSE(parse_duration("30").ok());
    CHECK_FALSE(parse_duration("").ok());
    CHECK_FALSE(parse_duration("1w").ok());
    CHECK_FALSE(parse_duration("-5s").ok());
    CHECK_FALSE(parse_duration("1.5h").ok());
    CHECK_FALSE(parse_duration("99999999999999999999d").ok());
    CHECK(parse_duration("4000d").error().find("ten years") != std::string::npos);
    CHECK(format_duration(std::chrono::seconds(5400)) == "1h30m");
    CHECK(format_duration(std::chrono::seconds(0)) == "0s");
}
