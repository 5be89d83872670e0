// Secret masking (SPEC §8): every occurrence of a secret becomes "***" before a byte is
// printed, logged or stored.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::process {

// Masks a stream that arrives in chunks of arbitrary size. A secret split across two reads is
// still caught: feed() holds back a tail that could be the start of a secret (never more than
// the longest secret's length minus one) until the next chunk or flush() decides it. Matching
// is leftmost, then longest: the result of any split equals mask() of the whole text.
class Masker {
  public:
    // Empty values are dropped (they would match everywhere); duplicates are merged.
    explicit Masker(std::vector<std::string> secrets);

    std::string feed(std::string_view chunk);  // what is safe to emit now
    std::string flush();                       // the held-back tail, masked; call at end of stream
    size_t held() const { return m_pending.size(); }
    bool empty() const { return m_secrets.empty(); }

  private:
    std::string scan(bool final);

    std::vector<std::string> m_secrets;  // longest first
    std::array<bool, 256> m_first{};     // bytes a secret can start with: the scan's fast skip
    std::string m_pending;
};

// One-shot masking for registry strings and messages.
std::string mask(std::string_view text, const std::vector<std::string>& secrets);

// The secret values in an environment (envp as `environ`, NAME=value entries): the variables
// listed in `named` (train.secrets) and every variable whose name ends in _TOKEN, _KEY or
// _SECRET or contains PASSWORD. Names are compared without regard to case, so github_token
// counts too: masking a value that was not secret costs little, printing one that was is the
// failure SPEC §8 forbids. Values shorter than 4 bytes are ignored (empty ones too): a
// one-character "secret" such as DEBUG_KEY=1 would turn every '1' in the training log into
// "***" and make the log useless, while a value that short protects nothing. Longest first,
// without duplicates.
std::vector<std::string> secrets_from_environment(const std::vector<std::string>& named,
                                                  char** envp);

inline constexpr size_t k_min_secret_len = 4;

}  // namespace mloop::process
