// Work shared over the cores: an index loop, and two tasks at once.
#pragma once

#include <cstddef>
#include <functional>

namespace mloop::util {

// One thread per core (at least one).
unsigned default_threads();

// Calls fn(0) … fn(n - 1) on up to `threads` threads (the caller's among them), each taking
// the next index as it finishes one. The first exception stops the rest and is rethrown here.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn);
// The same, telling fn which worker (0 … threads - 1) runs it, for per-worker state.
void parallel_for_workers(size_t n, unsigned threads,
                          const std::function<void(size_t index, unsigned worker)>& fn);

// Runs `first` on this thread and `second` on a thread of its own when there is more than one
// core (else one after the other), and returns when both are done. An exception from either is
// rethrown here, `first`'s before `second`'s.
void run_both(const std::function<void()>& first, const std::function<void()>& second);

}  // namespace mloop::util
