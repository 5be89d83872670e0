// A fast 64-bit hash of short byte strings (categories, cells), for open-addressing tables: a
// word at a time, multiply-xorshift mixed so that its high and low bits both vary. Not for
// anything an attacker chooses to collide on at scale, nor stored: only within one process.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace mloop::util {

inline uint64_t hash_bytes(std::string_view x) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ x.size();
    const char* p = x.data();
    size_t n = x.size();
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    if (n > 0) {
        uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w) * 0x94D049BB133111EBULL;
    }
    h ^= h >> 29;
    return h * 0xBF58476D1CE4E5B9ULL;
}

}  // namespace mloop::util
