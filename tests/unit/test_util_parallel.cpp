#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "util/parallel.hpp"

using namespace mloop::util;

TEST_SUITE("util/parallel") {
    TEST_CASE("parallel_for runs every index once and passes the first error on") {
        std::vector<std::atomic<int>> seen(1000);
        parallel_for(seen.size(), 3, [&](size_t i) { seen[i]++; });
        int once = 0;
        for (auto& s : seen) {
            once += s.load() == 1;
        }
        CHECK(once == 1000);
        CHECK_THROWS_WITH(parallel_for(100, 2,
                                       [](size_t i) {
                                           if (i == 42) {
                                               throw std::runtime_error("boom");
                                           }
                                       }),
                          "boom");
    }

    TEST_CASE("run_both runs both tasks, the second on its own thread when there are cores") {
        const auto self = std::this_thread::get_id();
        std::thread::id first;
        std::thread::id second;
        run_both([&] { first = std::this_thread::get_id(); },
                 [&] { second = std::this_thread::get_id(); });
        CHECK(first == self);
        CHECK(second != std::thread::id());
        CHECK((default_threads() > 1) == (second != self));
    }

    TEST_CASE("run_both waits for both and rethrows the first task's error before the second's") {
        std::atomic<bool> second_done{false};
        CHECK_THROWS_WITH(run_both([] { throw std::runtime_error("first"); },
                                   [&] {
                                       std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                       second_done = true;
                                       throw std::runtime_error("second");
                                   }),
                          "first");
        CHECK(second_done);
        CHECK_THROWS_WITH(run_both([] {}, [] { throw std::runtime_error("second"); }), "second");
    }
}
