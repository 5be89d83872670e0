#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

int main(int argc, char** argv) {
    // The library logs progress at info level; the CLI sets the level from -v, tests keep quiet.
    spdlog::set_level(spdlog::level::warn);
    doctest::Context context(argc, argv);
    return context.run();
}
