// An allocator for large, long-lived buffers (a column of a million values): blocks of 4 MiB
// and more are mapped on their own, aligned to 2 MiB, with transparent huge pages asked for
// (where the kernel leaves them to madvise, as Debian's does), so that filling one faults once
// per 2 MiB instead of once per 4 KiB page: in a VM the faults were a third of a monitor run.
// Smaller blocks come from the usual heap. Advice only: where it is not taken, pages are 4 KiB.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace mloop::util {

constexpr size_t k_huge_page = size_t{2} << 20;

// Asks for transparent huge pages under the whole 2 MiB pages within [begin, end).
inline void advise_huge_pages(uintptr_t begin, uintptr_t end) {
    const uintptr_t first = (begin + k_huge_page - 1) & ~(uintptr_t{k_huge_page} - 1);
    const uintptr_t last = end & ~(uintptr_t{k_huge_page} - 1);
    if (last > first) {
        ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
}

template <typename T>
struct HugeAllocator {
    using value_type = T;
    static constexpr size_t k_huge = k_huge_page;
    static constexpr size_t k_threshold = size_t{4} << 20;

    HugeAllocator() = default;
    template <typename U>
    HugeAllocator(const HugeAllocator<U>&) noexcept {}

    T* allocate(size_t n) {
        if (n > SIZE_MAX / sizeof(T) / 2) {
            throw std::bad_array_new_length();
        }
        const size_t bytes = n * sizeof(T);
        if (bytes < k_threshold) {
            return std::allocator<T>().allocate(n);
        }
        const size_t length = round_up(bytes);
        // Mapped with room to align, and the slack unmapped on both sides.
        void* p = ::mmap(nullptr, length + k_huge, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw std::bad_alloc();
        }
        const auto raw = reinterpret_cast<uintptr_t>(p);
        const uintptr_t aligned = (raw + k_huge - 1) & ~(uintptr_t{k_huge} - 1);
        if (aligned > raw) {
            ::munmap(p, aligned - raw);
        }
        if (const size_t tail = raw + length + k_huge - (aligned + length); tail > 0) {
            ::munmap(reinterpret_cast<void*>(aligned + length), tail);
        }
        advise_huge_pages(aligned, aligned + length);
        return reinterpret_cast<T*>(aligned);
    }

    void deallocate(T* p, size_t n) noexcept {
        const size_t bytes = n * sizeof(T);
        if (bytes < k_threshold) {
            std::allocator<T>().deallocate(p, n);
        } else {
            ::munmap(p, round_up(bytes));
        }
    }

    template <typename U>
    bool operator==(const HugeAllocator<U>&) const noexcept {
        return true;
    }

  private:
    static size_t round_up(size_t bytes) { return (bytes + k_huge - 1) & ~(k_huge - 1); }
};

}  // namespace mloop::util
