#include <doctest/doctest.h>

#include <csignal>

#include "error/error.hpp"

using namespace mloop::error;

TEST_CASE("exit codes follow SPEC §3 in order") {
    const auto codes = exit_codes();
    REQUIRE(codes.size() == 7);
    const int expected[] = {0, 1, 2, 3, 4, 130, 143};
    for (size_t i = 0; i < codes.size(); ++i) {
        CHECK(static_cast<int>(codes[i].code) == expected[i]);
        CHECK(std::string(codes[i].meaning).size() > 10);
    }
}

TEST_CASE("each error type maps to its exit code") {
    CHECK(CheckFailed("x").code() == ExitCode::check_failed);
    CHECK(UsageError("x").code() == ExitCode::usage);
    CHECK(ExternalError("x").code() == ExitCode::external);
    CHECK(RegistryError("x").code() == ExitCode::registry);
    CHECK(Interrupted(SIGINT).code() == ExitCode::sigint);
    CHECK(Interrupted(SIGTERM).code() == ExitCode::sigterm);
    CHECK(ConfigError({}).code() == ExitCode::usage);
    CHECK(UsageError("x", "try y").hint() == "try y");
}

TEST_CASE("locations print as file:line:col") {
    CHECK(Location{"mloop.yaml", 3, 7}.str() == "mloop.yaml:3:7");
    CHECK(Location{"mloop.yaml", 3, 0}.str() == "mloop.yaml:3");
    CHECK(Location{"mloop.yaml", 0, 0}.str() == "mloop.yaml");
}

TEST_CASE("a config error summarises its diagnostics") {
    ConfigError one({{Severity::error, {"m.yaml", 2, 3}, "bad key", ""}});
    CHECK(std::string(one.what()) == "m.yaml:2:3: bad key");
    ConfigError two({{Severity::error, {"m.yaml", 2, 3}, "a", ""},
                     {Severity::error, {"m.yaml", 4, 1}, "b", ""}});
    CHECK(std::string(two.what()) == "m.yaml: 2 errors in the project file");
    CHECK(two.diagnostics().size() == 2);
}
