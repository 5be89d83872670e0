#include "stats/numeric.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "util/huge_alloc.hpp"

namespace mloop::stats {

namespace {

double pairwise(const double* a, size_t n) {
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (size_t j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        size_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (size_t j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

// Order-preserving map from doubles to unsigned integers: flip every bit of negatives, only
// the sign bit of the rest.
inline uint64_t to_key(double d) {
    const auto u = std::bit_cast<uint64_t>(d);
    return (u >> 63) != 0 ? ~u : u | (uint64_t{1} << 63);
}

inline double from_key(uint64_t k) {
    return std::bit_cast<double>((k >> 63) != 0 ? k & ~(uint64_t{1} << 63) : ~k);
}

// The radix sort's two key buffers, kept by each thread from one sort to the next and grown as
// needed, on huge pages: each pass scatters to 256 places at once, which on 4 KiB pages misses
// the TLB at nearly every store (a million values sorted in 60 ms against 14 ms), and fresh
// pages for every sort would be zeroed by the kernel each time.
class Scratch {
  public:
    Scratch() = default;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { release(); }

    uint64_t* get(size_t n) {
        if (n > m_size) {
            release();
            m_data = util::HugeAllocator<uint64_t>().allocate(n);
            m_size = n;
        }
        return m_data;
    }

  private:
    void release() {
        if (m_data != nullptr) {
            util::HugeAllocator<uint64_t>().deallocate(m_data, m_size);
            m_data = nullptr;
            m_size = 0;
        }
    }
    uint64_t* m_data = nullptr;
    size_t m_size = 0;
};

thread_local Scratch t_keys;
thread_local Scratch t_tmp;
thread_local Scratch t_work;

}  // namespace

double* thread_scratch(size_t n) {
    return reinterpret_cast<double*>(t_work.get(n));
}

double numpy_sum(std::span<const double> values) {
    return pairwise(values.data(), values.size());
}

double numpy_mean(std::span<const double> values) {
    return numpy_sum(values) / static_cast<double>(values.size());
}

double numpy_std(std::span<const double> values) {
    const double mean = numpy_mean(values);
    size_t i = 0;
    auto next = [&] {
        const double d = values[i++] - mean;
        return d * d;
    };
    const double ss = numpy_sum_stream(values.size(), next);
    return std::sqrt(ss / static_cast<double>(values.size()));
}

void sort_doubles(std::vector<double>& values) {
    const size_t n = values.size();
    if (n < 256) {
        // Small inputs: the counting passes cost more than they save.
        std::vector<uint64_t> keys(n);
        for (size_t i = 0; i < n; ++i) {
            keys[i] = to_key(values[i]);
        }
        for (size_t i = 1; i < n; ++i) {
            const uint64_t k = keys[i];
            size_t j = i;
            for (; j > 0 && keys[j - 1] > k; --j) {
                keys[j] = keys[j - 1];
            }
            keys[j] = k;
        }
        for (size_t i = 0; i < n; ++i) {
            values[i] = from_key(keys[i]);
        }
        return;
    }
    // Eight passes of a byte; the histograms of all eight come from one read. (Measured on 1M
    // normal values: bytes beat 11-bit and 16-bit digits, whose scatter misses the cache.)
    constexpr int k_bits = 8;
    constexpr int k_passes = 8;
    constexpr size_t k_radix = size_t{1} << k_bits;
    std::vector<std::array<uint32_t, k_radix>> hist(k_passes);
    for (auto& h : hist) {
        h.fill(0);
    }
    uint64_t* src = t_keys.get(n);
    uint64_t* dst = t_tmp.get(n);
    for (size_t i = 0; i < n; ++i) {
        const uint64_t k = to_key(values[i]);
        src[i] = k;
        for (int p = 0; p < k_passes; ++p) {
            ++hist[p][(k >> (p * k_bits)) & (k_radix - 1)];
        }
    }
    for (int p = 0; p < k_passes; ++p) {
        auto& h = hist[p];
        const int shift = p * k_bits;
        // A digit every key shares moves nothing: skip the pass.
        if (h[(src[0] >> shift) & (k_radix - 1)] == n) {
            continue;
        }
        uint32_t sum = 0;
        for (auto& c : h) {
            const uint32_t c0 = c;
            c = sum;
            sum += c0;
        }
        for (size_t i = 0; i < n; ++i) {
            const uint64_t k = src[i];
            dst[h[(k >> shift) & (k_radix - 1)]++] = k;
        }
        std::swap(src, dst);
    }
    for (size_t i = 0; i < n; ++i) {
        values[i] = from_key(src[i]);
    }
}

FiniteValues finite_values(std::span<const double> column) {
    FiniteValues out;
    out.values.reserve(column.size());
    for (const double v : column) {
        if (std::isfinite(v)) {
            out.values.push_back(v);
        } else if (std::isnan(v)) {
            ++out.missing;
        } else {
            ++out.infinite;
        }
    }
    return out;
}

bool more_unique_than(std::span<const double> a, std::span<const double> b, size_t cap) {
    if (cap < 32) {
        // The caps of the auto rule (5) and of binning (20): the values seen, in a short list.
        uint64_t seen[32];
        size_t count = 0;
        for (const auto side : {a, b}) {
            for (const double v : side) {
                const auto bits = std::bit_cast<uint64_t>(v + 0.0);  // -0.0 + 0.0 is +0.0
                if (first_match(seen, count, bits) >= count) [[unlikely]] {
                    if (count == cap) {
                        return true;
                    }
                    seen[count++] = bits;
                }
            }
        }
        return false;
    }
    // Open addressing over the bit patterns; the table never holds more than cap + 1 values.
    size_t size = 16;
    while (size < 4 * (cap + 1)) {
        size *= 2;
    }
    std::vector<uint64_t> table(size);
    std::vector<bool> used(size);
    size_t count = 0;
    auto add = [&](double v) {
        const auto bits = std::bit_cast<uint64_t>(v + 0.0);  // -0.0 + 0.0 is +0.0
        size_t h = static_cast<size_t>((bits * 0x9E3779B97F4A7C15ull) >> 32) & (size - 1);
        while (used[h]) {
            if (table[h] == bits) {
                return false;
            }
            h = (h + 1) & (size - 1);
        }
        used[h] = true;
        table[h] = bits;
        return ++count > cap;
    };
    for (const double v : a) {
        if (add(v)) {
            return true;
        }
    }
    for (const double v : b) {
        if (add(v)) {
            return true;
        }
    }
    return false;
}

}  // namespace mloop::stats
