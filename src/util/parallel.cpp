#include "util/parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace mloop::util {

unsigned default_threads() {
    // The CPUs this process may run on (a container's cpuset), not all the machine has.
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        return static_cast<unsigned>(CPU_COUNT(&set));
    }
    return std::max(1U, std::thread::hardware_concurrency());
}

void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn) {
    parallel_for_workers(n, threads, [&](size_t i, unsigned) { fn(i); });
}

void parallel_for_workers(size_t n, unsigned threads,
                          const std::function<void(size_t, unsigned)>& fn) {
    if (threads == 0) {
        threads = default_threads();
    }
    const size_t workers = std::min<size_t>(threads, n);
    if (workers <= 1) {
        for (size_t i = 0; i < n; ++i) {
            fn(i, 0);
        }
        return;
    }
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex first_mutex;
    std::exception_ptr first;
    const auto work = [&](unsigned worker) {
        while (!failed.load(std::memory_order_relaxed)) {
            const size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) {
                return;
            }
            try {
                fn(i, worker);
            } catch (...) {
                const std::lock_guard lock(first_mutex);
                if (!first) {
                    first = std::current_exception();
                }
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (size_t w = 1; w < workers; ++w) {
        try {
            pool.emplace_back(work, static_cast<unsigned>(w));
        } catch (const std::system_error&) {
            break;  // out of threads: the ones we have share the work
        }
    }
    work(0);
    for (std::thread& t : pool) {
        t.join();
    }
    if (first) {
        std::rethrow_exception(first);
    }
}

void run_both(const std::function<void()>& first, const std::function<void()>& second) {
    std::exception_ptr failed[2];
    const auto guarded = [&failed](const std::function<void()>& fn, int i) {
        try {
            fn();
        } catch (...) {
            failed[i] = std::current_exception();
        }
    };
    std::thread side;
    if (default_threads() > 1) {
        try {
            side = std::thread(guarded, std::cref(second), 1);
        } catch (const std::system_error&) {
            // out of threads: one after the other
        }
    }
    guarded(first, 0);
    if (side.joinable()) {
        side.join();
    } else {
        guarded(second, 1);
    }
    for (const auto& e : failed) {
        if (e) {
            std::rethrow_exception(e);
        }
    }
}

}  // namespace mloop::util
