// The readers' byte-scanning kernels, each in three builds: AVX-512BW, AVX2 and portable C++.
// The CPU is asked once which it can run (MLOOP_SIMD=scalar|avx2|avx512 lowers the choice, for
// tests and benchmarks); the binary itself is built for plain x86-64 and runs anywhere. Each
// instruction set's kernels sit in their own `#pragma GCC target` region of simd.cpp rather than
// in a file built with -mavx2: that way nothing outside them (the dispatch, the portable kernel,
// library code inlined into either) can pick up an instruction the CPU may lack.
//
// Every kernel reads whole 64-byte blocks: callers keep k_padding readable bytes after the
// data they pass, and bits past the data are ignored.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mloop::data::simd {

inline constexpr size_t k_padding = 64;

enum class Level { scalar, avx2, avx512 };
// The level the kernels below run at: the best the CPU has, or lower as MLOOP_SIMD asks.
Level level();
const char* level_name(Level l);
// Whether this CPU can run `l` (whatever MLOOP_SIMD says): tests compare every level it can.
bool supported(Level l);

// The CSV structural index of p[0, n): the offsets (plus `base`) of delimiters and newlines
// outside quotes go to `seps` (room for n + 64 entries), and for each 64-byte block one mask
// of the bytes that need a closer look in any field ('"', '\r', NUL and every byte >= 0x80)
// goes to `specials`. `in_quotes` carries the quote state from one call to the next (all ones
// inside a quoted field): every '"' toggles it, which is RFC 4180's grammar when the quotes
// inside quoted fields are doubled and no unquoted field holds one. Returns the number of
// separators written.
size_t csv_index(const char* p, size_t n, char delimiter, uint64_t& in_quotes, uint32_t base,
                 uint32_t* seps, uint64_t* specials);
// The same at a given level, which must be supported().
size_t csv_index(Level l, const char* p, size_t n, char delimiter, uint64_t& in_quotes,
                 uint32_t base, uint32_t* seps, uint64_t* specials);

// The first byte in [p, end) that ends the plain run of a JSON string: '"', '\\', a control
// character (< 0x20) or a byte >= 0x80; `end` when there is none.
const char* json_string_stop(const char* p, const char* end);
const char* json_string_stop(Level l, const char* p, const char* end);

// How many bytes in p[0, n) equal `byte`.
uint64_t count_byte(const char* p, size_t n, char byte);
uint64_t count_byte(Level l, const char* p, size_t n, char byte);

}  // namespace mloop::data::simd
