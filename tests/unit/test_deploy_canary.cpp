#include <doctest/doctest.h>

#include "deploy/target.hpp"

using mloop::config::Environment;
using mloop::deploy::canary_split;

TEST_SUITE("deploy") {
    TEST_CASE("canary steps: the canary's share rounded up, the stable keeps a pod until 100%") {
        Environment four;
        four.replicas = 4;
        CHECK(canary_split(four, 25) == std::pair<int, int>{1, 3});
        CHECK(canary_split(four, 50) == std::pair<int, int>{2, 2});
        CHECK(canary_split(four, 60) == std::pair<int, int>{3, 1});
        CHECK(canary_split(four, 99) == std::pair<int, int>{4, 1});
        CHECK(canary_split(four, 100) == std::pair<int, int>{4, 0});
        Environment one;
        one.replicas = 1;
        CHECK(canary_split(one, 10) == std::pair<int, int>{1, 1});
        CHECK(canary_split(one, 100) == std::pair<int, int>{1, 0});
        Environment ten;
        ten.replicas = 10;
        CHECK(canary_split(ten, 1) == std::pair<int, int>{1, 9});
        CHECK(canary_split(ten, 33) == std::pair<int, int>{4, 6});
    }
}
