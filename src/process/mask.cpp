#include "process/mask.hpp"

#include <algorithm>
#include <cctype>

namespace mloop::process {

namespace {

constexpr std::string_view k_replacement = "***";

void sort_longest_first(std::vector<std::string>& values) {
    std::sort(values.begin(), values.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    values.erase(std::unique(values.begin(), values.end()), values.end());
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

bool looks_secret(std::string_view name) {
    const std::string n = upper(name);
    const std::string_view v = n;
    return v.ends_with("_TOKEN") || v.ends_with("_KEY") || v.ends_with("_SECRET") ||
           v.find("PASSWORD") != std::string_view::npos;
}

}  // namespace

Masker::Masker(std::vector<std::string> secrets) : m_secrets(std::move(secrets)) {
    std::erase_if(m_secrets, [](const std::string& s) { return s.empty(); });
    sort_longest_first(m_secrets);
    for (const auto& s : m_secrets) {
        m_first[static_cast<unsigned char>(s.front())] = true;
    }
}

std::string Masker::feed(std::string_view chunk) {
    if (m_secrets.empty()) {
        return std::string(chunk);
    }
    m_pending.append(chunk);
    return scan(false);
}

std::string Masker::flush() {
    return scan(true);
}

// Emits from m_pending everything that is decided. A position is undecided when the bytes from
// it to the end are a proper prefix of some secret that is at least as long as any secret
// matching there: one more chunk could complete the longer match, so it waits.
std::string Masker::scan(bool final) {
    const std::string_view text = m_pending;
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    size_t keep_from = text.size();
    while (i < text.size()) {
        size_t j = i;
        while (j < text.size() && !m_first[static_cast<unsigned char>(text[j])]) {
            ++j;
        }
        out.append(text.substr(i, j - i));
        i = j;
        if (i == text.size()) {
            break;
        }
        const std::string_view rest = text.substr(i);
        const std::string* hit = nullptr;
        bool undecided = false;
        for (const auto& s : m_secrets) {
            if (rest.size() >= s.size()) {
                if (rest.starts_with(s)) {
                    hit = &s;
                    break;
                }
            } else if (!final && std::string_view(s).starts_with(rest)) {
                undecided = true;
                break;
            }
        }
        if (undecided) {
            keep_from = i;
            break;
        }
        if (hit != nullptr) {
            out += k_replacement;
            i += hit->size();
        } else {
            out += text[i];
            ++i;
        }
    }
    m_pending.erase(0, keep_from);
    return out;
}

std::string mask(std::string_view text, const std::vector<std::string>& secrets) {
    Masker masker(secrets);
    std::string out = masker.feed(text);
    out += masker.flush();
    return out;
}

std::vector<std::string> secrets_from_environment(const std::vector<std::string>& named,
                                                  char** envp) {
    std::vector<std::string> out;
    for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry = *e;
        const size_t eq = entry.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            continue;
        }
        const std::string_view name = entry.substr(0, eq);
        const std::string_view value = entry.substr(eq + 1);
        if (value.size() < k_min_secret_len) {
            continue;
        }
        const bool listed = std::find(named.begin(), named.end(), name) != named.end();
        if (listed || looks_secret(name)) {
            out.emplace_back(value);
        }
    }
    sort_longest_first(out);
    return out;
}

}  // namespace mloop::process
