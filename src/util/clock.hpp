// Elapsed time on the monotonic clock, in the registry's unit (milliseconds).
#pragma once

#include <chrono>
#include <cstdint>

namespace mloop::util {

inline int64_t ms_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t)
        .count();
}

}  // namespace mloop::util
