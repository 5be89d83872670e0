#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "process/mask.hpp"

using namespace mloop::process;

TEST_SUITE("process") {
    TEST_CASE("mask replaces every occurrence and leaves the rest alone") {
        const std::vector<std::string> secrets{"hunter22"};
        CHECK(mask("pw=hunter22 again hunter22hunter22.", secrets) == "pw=*** again ******.");
        CHECK(mask("nothing secret here", secrets) == "nothing secret here");
        CHECK(mask("hunter2 is not it", secrets) == "hunter2 is not it");
        CHECK(mask("", secrets).empty());
        CHECK(mask("abc", {}) == "abc");
        CHECK(mask("abc", {""}) == "abc");  // an empty secret would match everywhere
    }

    TEST_CASE("the longest secret wins where two start at the same place") {
        const std::vector<std::string> secrets{"abcd", "abcdefgh"};
        CHECK(mask("xabcdefghx", secrets) == "x***x");
        CHECK(mask("xabcdefx", secrets) == "x***efx");
        // Leftmost first: "cdef" starts later than "abcd" and loses the overlap.
        CHECK(mask("abcdef", {"abcd", "cdef"}) == "***ef");
    }

    TEST_CASE("a secret split across chunks is caught wherever the split falls") {
        const std::vector<std::string> secrets{"ghp_S3cr3tT0ken", "S3cr3t", "passw0rd!"};
        const std::string text =
            "start ghp_S3cr3tT0ken mid S3cr3tT0 passw0rd passw0rd! end ghp_S3cr3t S3cr3t";
        const std::string whole = mask(text, secrets);
        CHECK(whole == "start *** mid ***T0 passw0rd *** end ghp_*** ***");
        for (size_t a = 0; a <= text.size(); ++a) {
            for (size_t b = a; b <= text.size(); b += 3) {
                Masker m(secrets);
                std::string out = m.feed(text.substr(0, a));
                out += m.feed(text.substr(a, b - a));
                out += m.feed(text.substr(b));
                out += m.flush();
                INFO("split at " << a << " and " << b);
                REQUIRE(out == whole);
            }
        }
    }

    TEST_CASE("byte-at-a-time feeding never holds back more than the longest secret minus one") {
        const std::string secret = "0123456789abcdef";
        Masker m({secret});
        const std::string text = "x0123456789abcdeX 0123456789abcdef 01234";
        std::string out;
        for (char c : text) {
            out += m.feed(std::string_view(&c, 1));
            CHECK(m.held() <= secret.size() - 1);
        }
        CHECK(m.held() == 5);  // "01234" could still become the secret
        out += m.flush();
        CHECK(out == "x0123456789abcdeX *** 01234");
    }

    TEST_CASE("output that cannot start a secret is passed on at once") {
        Masker m({"tok_abcdef"});
        CHECK(m.feed("epoch 1 loss 0.25\n") == "epoch 1 loss 0.25\n");
        CHECK(m.held() == 0);
        CHECK(m.feed("value tok_a") == "value ");
        CHECK(m.held() == 5);
        CHECK(m.feed("x\n") == "tok_ax\n");
        CHECK(m.flush().empty());
    }

    TEST_CASE("secrets_from_environment picks named and secret-looking variables") {
        std::vector<std::string> storage{
            "PATH=/usr/bin:/bin",
            "GITHUB_TOKEN=ghp_0123456789",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI",
            "api_key=lowercase-key",
            "DB_PASSWORD_FILE=/run/secrets/db",
            "MY_SECRET=shh",  // too short to mask
            "EMPTY_TOKEN=",
            "HF_TOKEN=ghp_0123456789",  // duplicate value
            "WANDB_API=wandb-value-1",
            "SECRETIVE=plain-value",
            "SECRET_THING=not-matched",  // "SECRET" must be the suffix
            "malformed",
        };
        std::vector<char*> envp;
        for (auto& s : storage) {
            envp.push_back(s.data());
        }
        envp.push_back(nullptr);
        const auto secrets = secrets_from_environment({"WANDB_API", "ABSENT"}, envp.data());
        CHECK(secrets == std::vector<std::string>{"/run/secrets/db", "ghp_0123456789",
                                                  "lowercase-key", "wJalrXUtnFEMI",
                                                  "wandb-value-1"});
        CHECK(secrets_from_environment({}, nullptr).empty());
    }
}
