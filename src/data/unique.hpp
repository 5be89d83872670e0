// The set of values a `unique` column has shown so far: the one check whose memory grows with
// the data (with the number of distinct values), so it counts what it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "util/huge_alloc.hpp"

namespace mloop::data {

class UniqueSet {
  public:
    UniqueSet();
    ~UniqueSet();
    UniqueSet(UniqueSet&&) noexcept;
    UniqueSet& operator=(UniqueSet&&) noexcept;

    // Adds `value`, first seen at `pos`; false when it was there already.
    bool insert(std::string_view value, uint64_t pos) { return insert(value, hash(value), pos); }
    // The same with hash(value) known, after prefetch(): the table is large and each value
    // lands anywhere in it, so checking asks for the slot's cache line a row ahead of need.
    bool insert(std::string_view value, uint64_t h, uint64_t pos);
    void prefetch(uint64_t h) const { __builtin_prefetch(&m_slots[h & (m_slots.size() - 1)]); }
    static uint64_t hash(std::string_view value);
    bool contains(std::string_view value) const;

    // Makes room for `values` in all without growing again: growing doubles the table, each
    // time on fresh memory the kernel must zero, and moves every slot (bench/data: a third of
    // the `unique` check's time on a million values).
    void reserve(size_t values);

    size_t size() const { return m_size; }
    // Bytes held: the table and the copies of the values.
    size_t memory() const;

    // Each value with the position it was first seen at, in no particular order.
    void for_each(const std::function<void(std::string_view value, uint64_t pos)>& f) const;

  private:
    struct Slot {
        uint64_t hash;
        uint64_t ref;  // 0: empty; else 1 + the entry's offset in the arena
    };
    uint64_t store(std::string_view value, uint64_t pos);
    std::string_view value_at(uint64_t ref) const;
    void grow() { rehash(m_slots.size() * 2); }
    void rehash(size_t slots);

    // On huge pages where the kernel grants them: each value lands anywhere in a table of tens
    // of megabytes, which on 4 KiB pages misses the TLB at nearly every row.
    std::vector<Slot, util::HugeAllocator<Slot>> m_slots;
    size_t m_size = 0;
    // Values live in chunks, so that growing never copies them: [u64 pos][u32 length][bytes].
    std::vector<std::unique_ptr<char[]>> m_chunks;
    std::vector<size_t> m_chunk_sizes;
    size_t m_used = 0;  // bytes used in the last chunk
    size_t m_arena_bytes = 0;
};

}  // namespace mloop::data
