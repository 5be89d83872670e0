// A content address: the SHA-256 of an object's raw bytes, written "sha256:<64 hex>" as
// sha256sum, OCI and in-toto print it (SPEC §1).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mloop::store {

struct Digest {
    std::array<uint8_t, 32> bytes{};

    // 64 lowercase hex digits.
    std::string hex() const;
    // "sha256:" + hex(), the form stored in the registry and shown to users.
    std::string str() const;
    // Accepts exactly "sha256:" followed by 64 lowercase hex digits, the only form str() makes,
    // so a digest has one spelling wherever it is compared as text.
    static std::optional<Digest> parse(std::string_view text);

    auto operator<=>(const Digest&) const = default;
};

}  // namespace mloop::store

template <>
struct std::hash<mloop::store::Digest> {
    // The bytes are already uniformly distributed; any eight of them make a good hash.
    size_t operator()(const mloop::store::Digest& d) const noexcept {
        size_t h = 0;
        std::memcpy(&h, d.bytes.data(), sizeof h);
        return h;
    }
};
