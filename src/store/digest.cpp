#include "store/digest.hpp"

namespace mloop::store {

namespace {

constexpr std::string_view k_prefix = "sha256:";
constexpr char k_hex_digits[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

}  // namespace

std::string Digest::hex() const {
    std::string out(bytes.size() * 2, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = k_hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = k_hex_digits[bytes[i] & 0xf];
    }
    return out;
}

std::string Digest::str() const {
    std::string out(k_prefix);
    out += hex();
    return out;
}

std::optional<Digest> Digest::parse(std::string_view text) {
    if (text.size() != k_prefix.size() + 64 || text.substr(0, k_prefix.size()) != k_prefix) {
        return std::nullopt;
    }
    text.remove_prefix(k_prefix.size());
    Digest d;
    for (size_t i = 0; i < d.bytes.size(); ++i) {
        const int hi = hex_value(text[2 * i]);
        const int lo = hex_value(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        d.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return d;
}

}  // namespace mloop::store
