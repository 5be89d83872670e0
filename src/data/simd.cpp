#include "data/simd.hpp"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace mloop::data::simd {

namespace {

// Bit i of the result is set when bit i of `quotes` starts or continues a quoted run: the
// prefix XOR, done with shifts so that it needs no carry-less multiply.
inline uint64_t prefix_xor(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

inline void flatten(uint64_t bits, uint32_t base, uint32_t* out, size_t& n) {
    while (bits != 0) {
        out[n++] = base + static_cast<uint32_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
    }
}

// The bits of a block's first n bytes.
inline uint64_t below(size_t n) {
    return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
}

struct Masks {
    uint64_t quote, sep, special;
};

// Each kernel below is compiled three times from simd_kernels.inc, once per instruction set,
// each inside its own namespace and target region with its own `K` of block classifiers.

namespace scalar_k {
struct K {
    static Masks csv(const char* p, char delim) {
        Masks m{0, 0, 0};
        for (int i = 0; i < 64; ++i) {
            const auto c = static_cast<unsigned char>(p[i]);
            const uint64_t bit = uint64_t{1} << i;
            if (c == '"') {
                m.quote |= bit;
            } else if (c == static_cast<unsigned char>(delim) || c == '\n') {
                m.sep |= bit;
            } else if (c == '\r' || c == 0 || c >= 0x80) {
                m.special |= bit;
            }
        }
        return m;
    }
    static uint64_t json_stop(const char* p) {
        uint64_t m = 0;
        for (int i = 0; i < 64; ++i) {
            const auto c = static_cast<unsigned char>(p[i]);
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
                m |= uint64_t{1} << i;
            }
        }
        return m;
    }
    static uint64_t eq(const char* p, char byte) {
        uint64_t m = 0;
        for (int i = 0; i < 64; ++i) {
            m |= static_cast<uint64_t>(p[i] == byte) << i;
        }
        return m;
    }
};
#include "data/simd_kernels.inc"
}  // namespace scalar_k

#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,popcnt")
namespace avx2_k {
struct K {
    static uint64_t mask(__m256i lo, __m256i hi) {
        const auto a = static_cast<uint32_t>(_mm256_movemask_epi8(lo));
        const auto b = static_cast<uint32_t>(_mm256_movemask_epi8(hi));
        return a | (static_cast<uint64_t>(b) << 32);
    }
    static Masks csv(const char* p, char delim) {
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        const __m256i q = _mm256_set1_epi8('"');
        const __m256i d = _mm256_set1_epi8(delim);
        const __m256i nl = _mm256_set1_epi8('\n');
        const __m256i cr = _mm256_set1_epi8('\r');
        const __m256i zero = _mm256_setzero_si256();
        Masks m;
        m.quote = mask(_mm256_cmpeq_epi8(lo, q), _mm256_cmpeq_epi8(hi, q));
        m.sep = mask(_mm256_or_si256(_mm256_cmpeq_epi8(lo, d), _mm256_cmpeq_epi8(lo, nl)),
                     _mm256_or_si256(_mm256_cmpeq_epi8(hi, d), _mm256_cmpeq_epi8(hi, nl)));
        // movemask takes each byte's top bit, which is set exactly for bytes >= 0x80.
        m.special =
            mask(_mm256_or_si256(
                     lo, _mm256_or_si256(_mm256_cmpeq_epi8(lo, cr), _mm256_cmpeq_epi8(lo, zero))),
                 _mm256_or_si256(
                     hi, _mm256_or_si256(_mm256_cmpeq_epi8(hi, cr), _mm256_cmpeq_epi8(hi, zero))));
        return m;
    }
    // '"', '\\', and bytes below 0x20 or at/above 0x80: as signed bytes, those compare less
    // than 0x20.
    static __m256i stop(__m256i v) {
        return _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')),
                                               _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))),
                               _mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));
    }
    static uint64_t json_stop(const char* p) {
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
        return mask(stop(lo), stop(hi));
    }
    static uint64_t eq(const char* p, char byte) {
        const __m256i b = _mm256_set1_epi8(byte);
        return mask(
            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), b),
            _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), b));
    }
};
#include "data/simd_kernels.inc"
}  // namespace avx2_k
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx2,bmi,bmi2,popcnt")
namespace avx512_k {
struct K {
    static Masks csv(const char* p, char delim) {
        const __m512i v = _mm512_loadu_si512(p);
        Masks m;
        m.quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
        m.sep = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(delim)) |
                _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
        m.special = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r')) |
                    _mm512_cmpeq_epi8_mask(v, _mm512_setzero_si512()) | _mm512_movepi8_mask(v);
        return m;
    }
    static uint64_t json_stop(const char* p) {
        const __m512i v = _mm512_loadu_si512(p);
        return _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')) |
               _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) |
               _mm512_cmplt_epi8_mask(v, _mm512_set1_epi8(0x20));
    }
    static uint64_t eq(const char* p, char byte) {
        return _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p), _mm512_set1_epi8(byte));
    }
};
#include "data/simd_kernels.inc"
}  // namespace avx512_k
#pragma GCC pop_options

Level best_supported() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt")) {
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
            return Level::avx512;
        }
        return Level::avx2;
    }
    return Level::scalar;
}

Level detect() {
    Level best = best_supported();
    // A lower level may be asked for (tests run every kernel; benchmarks compare them).
    if (const char* want = std::getenv("MLOOP_SIMD"); want != nullptr) {
        const std::string_view w = want;
        if (w == "scalar") {
            best = Level::scalar;
        } else if (w == "avx2" && best == Level::avx512) {
            best = Level::avx2;
        }
    }
    return best;
}

}  // namespace

Level level() {
    static const Level l = detect();
    return l;
}

bool supported(Level l) {
    static const Level best = best_supported();
    return static_cast<int>(l) <= static_cast<int>(best);
}

const char* level_name(Level l) {
    switch (l) {
        case Level::avx512:
            return "avx512";
        case Level::avx2:
            return "avx2";
        case Level::scalar:
            break;
    }
    return "scalar";
}

size_t csv_index(const char* p, size_t n, char delimiter, uint64_t& in_quotes, uint32_t base,
                 uint32_t* seps, uint64_t* specials) {
    return csv_index(level(), p, n, delimiter, in_quotes, base, seps, specials);
}

size_t csv_index(Level l, const char* p, size_t n, char delimiter, uint64_t& in_quotes,
                 uint32_t base, uint32_t* seps, uint64_t* specials) {
    switch (l) {
        case Level::avx512:
            return avx512_k::csv_index(p, n, delimiter, in_quotes, base, seps, specials);
        case Level::avx2:
            return avx2_k::csv_index(p, n, delimiter, in_quotes, base, seps, specials);
        case Level::scalar:
            break;
    }
    return scalar_k::csv_index(p, n, delimiter, in_quotes, base, seps, specials);
}

const char* json_string_stop(const char* p, const char* end) {
    return json_string_stop(level(), p, end);
}

const char* json_string_stop(Level l, const char* p, const char* end) {
    switch (l) {
        case Level::avx512:
            return avx512_k::json_stop(p, end);
        case Level::avx2:
            return avx2_k::json_stop(p, end);
        case Level::scalar:
            break;
    }
    return scalar_k::json_stop(p, end);
}

uint64_t count_byte(const char* p, size_t n, char byte) {
    return count_byte(level(), p, n, byte);
}

uint64_t count_byte(Level l, const char* p, size_t n, char byte) {
    switch (l) {
        case Level::avx512:
            return avx512_k::count(p, n, byte);
        case Level::avx2:
            return avx2_k::count(p, n, byte);
        case Level::scalar:
            break;
    }
    return scalar_k::count(p, n, byte);
}

}  // namespace mloop::data::simd
