#include <doctest/doctest.h>

#include <unordered_set>

#include "store/digest.hpp"
#include "store/sha256.hpp"

using namespace mloop::store;

TEST_SUITE("store") {
    TEST_CASE("a digest prints as sha256:<64 hex> and parses back") {
        const std::string text =
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        const auto d = Digest::parse(text);
        REQUIRE(d.has_value());
        CHECK(d->bytes[0] == 0xe3);
        CHECK(d->bytes[31] == 0x55);
        CHECK(d->str() == text);
        CHECK(d->hex() == text.substr(7));
    }

    TEST_CASE("digest parsing accepts only the canonical spelling") {
        const std::string hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        CHECK_FALSE(Digest::parse(hex).has_value());                          // no prefix
        CHECK_FALSE(Digest::parse("sha1:" + hex).has_value());                // other algorithm
        CHECK_FALSE(Digest::parse("sha256:" + hex.substr(1)).has_value());    // 63 digits
        CHECK_FALSE(Digest::parse("sha256:" + hex + "0").has_value());        // 65 digits
        CHECK_FALSE(Digest::parse("sha256:E3" + hex.substr(2)).has_value());  // upper case
        CHECK_FALSE(Digest::parse("sha256:g3" + hex.substr(2)).has_value());  // not hex
        CHECK_FALSE(Digest::parse("").has_value());
    }

    TEST_CASE("digests order bytewise and hash into unordered containers") {
        const Digest a = sha256("a");
        const Digest b = sha256("b");
        CHECK(a != b);
        CHECK((a < b) == (a.hex() < b.hex()));
        std::unordered_set<Digest> set{a, b, sha256("a")};
        CHECK(set.size() == 2);
        CHECK(set.count(sha256("b")) == 1);
    }
}
