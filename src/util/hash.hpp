// A fast 64-bit hash of short byte strings (categories, cells) and an open-addressing index over
// such hashes. The hash takes a word at a time, multiply-xorshift mixed so that its high and low
// bits both vary; not for anything an attacker chooses to collide on at scale, nor stored: only
// within one process.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

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

// An open-addressing index from hashes to the positions of entries the caller keeps (categories,
// distinct cells): linear probing, never more than half full.
class HashIndex {
  public:
    HashIndex() : m_hash(64), m_slot(64) {}

    // The entry with hash `h` for which same(entry) holds, and false; else `next` (the position
    // the caller is about to fill) is entered under `h`, and true.
    template <class Same>
    std::pair<uint32_t, bool> find_or_insert(uint64_t h, uint32_t next, Same&& same) {
        const size_t mask = m_slot.size() - 1;
        size_t i = static_cast<size_t>(h >> 32) & mask;
        for (; m_slot[i] != 0; i = (i + 1) & mask) {
            if (m_hash[i] == h && same(m_slot[i] - 1)) {
                return {m_slot[i] - 1, false};
            }
        }
        m_hash[i] = h;
        m_slot[i] = next + 1;
        if (2 * ++m_size > m_slot.size()) {
            grow();
        }
        return {next, true};
    }

  private:
    void grow() {
        std::vector<uint64_t> hash(2 * m_slot.size());
        std::vector<uint32_t> slot(2 * m_slot.size());
        const size_t mask = slot.size() - 1;
        for (size_t j = 0; j < m_slot.size(); ++j) {
            if (m_slot[j] != 0) {
                size_t i = static_cast<size_t>(m_hash[j] >> 32) & mask;
                while (slot[i] != 0) {
                    i = (i + 1) & mask;
                }
                hash[i] = m_hash[j];
                slot[i] = m_slot[j];
            }
        }
        m_hash = std::move(hash);
        m_slot = std::move(slot);
    }

    std::vector<uint64_t> m_hash;  // per slot: its entry's hash
    std::vector<uint32_t> m_slot;  // per slot: the entry's position + 1, 0 when free
    size_t m_size = 0;
};

}  // namespace mloop::util
