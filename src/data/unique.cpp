#include "data/unique.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace mloop::data {

namespace {

constexpr size_t k_chunk = size_t{1} << 20;
constexpr size_t k_header = sizeof(uint64_t) + sizeof(uint32_t);

}  // namespace

UniqueSet::UniqueSet() : m_slots(1024) {}
UniqueSet::~UniqueSet() = default;
UniqueSet::UniqueSet(UniqueSet&&) noexcept = default;
UniqueSet& UniqueSet::operator=(UniqueSet&&) noexcept = default;

size_t UniqueSet::memory() const {
    return m_slots.size() * sizeof(Slot) + m_arena_bytes;
}

uint64_t UniqueSet::store(std::string_view value, uint64_t pos) {
    const size_t need = k_header + value.size();
    if (m_chunks.empty() || m_used + need > m_chunk_sizes.back()) {
        // Small sets stay small: chunks grow from 64 KiB to 1 MiB.
        const size_t grown =
            std::min(k_chunk, (size_t{64} << 10) << std::min<size_t>(m_chunks.size(), 4));
        const size_t size = std::max(grown, need);
        m_chunks.emplace_back(new char[size]);
        m_chunk_sizes.push_back(size);
        m_arena_bytes += size;
        m_used = 0;
    }
    char* at = m_chunks.back().get() + m_used;
    const auto len = static_cast<uint32_t>(value.size());
    std::memcpy(at, &pos, sizeof pos);
    std::memcpy(at + sizeof pos, &len, sizeof len);
    if (!value.empty()) {
        std::memcpy(at + k_header, value.data(), value.size());
    }
    const uint64_t ref = (static_cast<uint64_t>(m_chunks.size() - 1) << 32 | m_used) + 1;
    m_used += need;
    return ref;
}

std::string_view UniqueSet::value_at(uint64_t ref) const {
    const uint64_t r = ref - 1;
    const char* at = m_chunks[r >> 32].get() + (r & 0xffffffffu);
    uint32_t len = 0;
    std::memcpy(&len, at + sizeof(uint64_t), sizeof len);
    return {at + k_header, len};
}

uint64_t UniqueSet::hash(std::string_view v) {
    return std::hash<std::string_view>{}(v);  // murmur: low and high bits both vary
}

bool UniqueSet::insert(std::string_view value, uint64_t h, uint64_t pos) {
    if ((m_size + 1) * 4 > m_slots.size() * 3) {
        grow();
    }
    const size_t mask = m_slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        Slot& s = m_slots[i];
        if (s.ref == 0) {
            s.hash = h;
            s.ref = store(value, pos);
            ++m_size;
            return true;
        }
        if (s.hash == h && value_at(s.ref) == value) {
            return false;
        }
    }
}

bool UniqueSet::contains(std::string_view value) const {
    const uint64_t h = hash(value);
    const size_t mask = m_slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const Slot& s = m_slots[i];
        if (s.ref == 0) {
            return false;
        }
        if (s.hash == h && value_at(s.ref) == value) {
            return true;
        }
    }
}

void UniqueSet::reserve(size_t values) {
    size_t slots = m_slots.size();
    while (values * 4 > slots * 3) {
        slots *= 2;
    }
    if (slots > m_slots.size()) {
        rehash(slots);
    }
}

void UniqueSet::rehash(size_t slots) {
    std::vector<Slot, util::HugeAllocator<Slot>> old(slots);
    old.swap(m_slots);
    const size_t mask = m_slots.size() - 1;
    for (const Slot& s : old) {
        if (s.ref == 0) {
            continue;
        }
        size_t i = s.hash & mask;
        while (m_slots[i].ref != 0) {
            i = (i + 1) & mask;
        }
        m_slots[i] = s;
    }
}

void UniqueSet::for_each(const std::function<void(std::string_view, uint64_t)>& f) const {
    for (const Slot& s : m_slots) {
        if (s.ref == 0) {
            continue;
        }
        const uint64_t r = s.ref - 1;
        const char* at = m_chunks[r >> 32].get() + (r & 0xffffffffu);
        uint64_t pos = 0;
        std::memcpy(&pos, at, sizeof pos);
        f(value_at(s.ref), pos);
    }
}

}  // namespace mloop::data
