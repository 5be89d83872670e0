#include "process/command.hpp"

#include <fmt/format.h>

#include "util/text.hpp"

namespace mloop::process {

namespace {

// Characters no POSIX shell treats specially anywhere in a word ('~' and '=' only matter at
// the start of a word or of a command, so '~' is left out and '=' kept: this is for reading).
bool is_plain(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '@' || c == '%' || c == '+' || c == '=' || c == ':' || c == ',' || c == '.' ||
           c == '/' || c == '-';
}

std::string ansi_c_quote(std::string_view arg, bool escape_high) {
    std::string out = "$'";
    for (unsigned char c : arg) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\\' || c == '\'') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f || (escape_high && c >= 0x80)) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '\'';
    return out;
}

}  // namespace

std::string shell_quote(std::string_view arg) {
    if (arg.empty()) {
        return "''";
    }
    bool plain = true;
    bool control = false;
    for (unsigned char c : arg) {
        plain = plain && is_plain(c);
        control = control || c < 0x20 || c == 0x7f;
    }
    if (plain) {
        return std::string(arg);
    }
    const bool bad_utf8 = util::invalid_utf8_offset(arg) != std::string_view::npos;
    if (control || bad_utf8) {
        return ansi_c_quote(arg, bad_utf8);
    }
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    out += '\'';
    return out;
}

std::string describe(const Command& command) {
    std::string out = shell_quote(command.program);
    for (const auto& arg : command.args) {
        out += ' ';
        out += shell_quote(arg);
    }
    return out;
}

}  // namespace mloop::process
