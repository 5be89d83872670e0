#include "config/yaml_tree.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include "util/text.hpp"

namespace mloop::config {

namespace {

using error::Diagnostic;
using error::Severity;

// Line and column (in characters) of a byte offset.
Mark mark_at(std::string_view text, size_t offset) {
    Mark m{1, 1};
    size_t line_start = 0;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++m.line;
            line_start = i + 1;
        }
    }
    int col = 1;
    for (size_t i = line_start; i < offset && i < text.size(); ++i) {
        col += (static_cast<unsigned char>(text[i]) & 0xc0) != 0x80;
    }
    m.column = col;
    return m;
}

void add(std::vector<Diagnostic>& out, const std::string& file, Mark m, std::string message,
         std::string hint = {}) {
    out.push_back(
        Diagnostic{Severity::error, {file, m.line, m.column}, std::move(message), std::move(hint)});
}

// Flow collections ([ and {) nested beyond the limit, found before yaml-cpp recurses into them
// (its own guard reports the end of the file as the place). Quoted strings and comments are
// skipped; a stray bracket in a plain scalar only counts towards a limit no real file reaches.
bool check_flow_depth(std::string_view text, const std::string& file, const YamlLimits& limits,
                      std::vector<Diagnostic>& out) {
    int depth = 0;
    char quote = 0;
    bool comment = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') {
            comment = false;
            continue;
        }
        if (comment) {
            continue;
        }
        if (quote != 0) {
            if (c == '\\' && quote == '"') {
                ++i;
            } else if (c == quote) {
                quote = 0;
            }
            continue;
        }
        if (c == '#' &&
            (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
            comment = true;
        } else if ((c == '"' || c == '\'') &&
                   (i == 0 ||
                    std::string_view(" \t\n[{,:").find(text[i - 1]) != std::string_view::npos)) {
            quote = c;
        } else if (c == '[' || c == '{') {
            if (++depth > limits.max_depth) {
                add(out, file, mark_at(text, i),
                    fmt::format("nesting is deeper than {} levels", limits.max_depth));
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return true;
}

// Checks that hold before any YAML is parsed, so hostile bytes never reach yaml-cpp and every
// complaint has a position.
bool prescan(std::string_view text, const std::string& file, const YamlLimits& limits,
             std::vector<Diagnostic>& out) {
    if (text.size() > limits.max_bytes) {
        add(out, file, mark_at(text, limits.max_bytes),
            fmt::format("project file is {}, more than the limit of {}",
                        util::format_bytes(static_cast<double>(text.size())),
                        util::format_bytes(static_cast<double>(limits.max_bytes))),
            "keep data out of mloop.yaml and name it under 'data:' instead");
        return false;
    }
    if (const size_t bad = util::invalid_utf8_offset(text); bad != std::string_view::npos) {
        add(out, file, mark_at(text, bad),
            fmt::format("invalid UTF-8 byte 0x{:02x}", static_cast<unsigned char>(text[bad])),
            "save the file as UTF-8");
        return false;
    }
    size_t line_start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '\n') {
            if (i - line_start > limits.max_line_bytes) {
                add(out, file, mark_at(text, line_start),
                    fmt::format("line is {} long, more than the limit of {}",
                                util::format_bytes(static_cast<double>(i - line_start)),
                                util::format_bytes(static_cast<double>(limits.max_line_bytes))));
                return false;
            }
            line_start = i + 1;
            continue;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 && c != '\t' && c != '\r') {
            add(out, file, mark_at(text, i),
                fmt::format("control character 0x{:02x} is not allowed in YAML", c));
            return false;
        }
    }
    return check_flow_depth(text, file, limits, out);
}

// yaml-cpp's messages for tab indentation ("illegal map value") say nothing of tabs; when the
// failing line or the one before starts with a tab, say what is wrong.
std::optional<int> tab_indented_line(std::string_view text, int line0) {
    int line = 0;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (line == line0 || line == line0 - 1) {
            std::string_view l = text.substr(start, end - start);
            const size_t first = l.find_first_not_of(" \t");
            if (first != std::string_view::npos && l.substr(0, first).find('\t') != l.npos) {
                return line;
            }
        }
        if (line > line0 || end == text.size()) {
            break;
        }
        ++line;
        start = end + 1;
    }
    return std::nullopt;
}

Mark mark_of(const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) {
        return {};
    }
    return {m.line + 1, m.column + 1};
}

class Converter {
  public:
    Converter(const std::string& file, const YamlLimits& limits, std::vector<Diagnostic>& out)
        : m_file(file), m_limits(limits), m_out(out) {}

    bool convert(const YAML::Node& in, Node& node, int depth) {
        node.mark = mark_of(in);
        if (++m_nodes > m_limits.max_nodes) {
            add(m_out, m_file, node.mark,
                fmt::format("document expands to more than {} nodes", m_limits.max_nodes),
                "YAML aliases (*name) that repeat other aliases multiply; write the values out");
            return false;
        }
        if (depth > m_limits.max_depth) {
            add(m_out, m_file, node.mark,
                fmt::format("nesting is deeper than {} levels", m_limits.max_depth),
                "an alias that refers to its own anchor (&x [*x]) nests without end");
            return false;
        }
        switch (in.Type()) {
            case YAML::NodeType::Undefined:
            case YAML::NodeType::Null:
                node.kind = Node::Kind::null;
                return true;
            case YAML::NodeType::Scalar:
                node.kind = Node::Kind::scalar;
                node.text = in.Scalar();
                node.plain = in.Tag() == "?";
                return true;
            case YAML::NodeType::Sequence:
                node.kind = Node::Kind::sequence;
                node.items.reserve(in.size());
                for (const auto& child : in) {
                    node.items.emplace_back();
                    if (!convert(child, node.items.back(), depth + 1)) {
                        return false;
                    }
                }
                return true;
            case YAML::NodeType::Map:
                node.kind = Node::Kind::map;
                for (const auto& kv : in) {
                    Node::Entry e;
                    e.key_mark = mark_of(kv.first);
                    if (!kv.first.IsScalar()) {
                        add(m_out, m_file, e.key_mark, "mapping keys must be plain names");
                        return false;
                    }
                    e.key = kv.first.Scalar();
                    if (!convert(kv.second, e.value, depth + 1)) {
                        return false;
                    }
                    if (e.value.is_null() && e.value.mark.line == 0) {
                        e.value.mark = e.key_mark;
                    }
                    node.entries.push_back(std::move(e));
                }
                return true;
        }
        return true;
    }

  private:
    const std::string& m_file;
    const YamlLimits& m_limits;
    std::vector<Diagnostic>& m_out;
    size_t m_nodes = 0;
};

}  // namespace

const char* kind_name(Node::Kind kind) {
    switch (kind) {
        case Node::Kind::null:
            return "null";
        case Node::Kind::scalar:
            return "a scalar";
        case Node::Kind::sequence:
            return "a list";
        case Node::Kind::map:
            return "a mapping";
    }
    return "?";
}

std::optional<Node> parse_yaml(std::string_view text, const std::string& file,
                               std::vector<Diagnostic>& diagnostics, const YamlLimits& limits) {
    if (!prescan(text, file, limits, diagnostics)) {
        return std::nullopt;
    }
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::DeepRecursion& e) {
        add(diagnostics, file, {e.mark.line + 1, e.mark.column + 1},
            fmt::format("nesting is deeper than {} levels", limits.max_depth));
        return std::nullopt;
    } catch (const YAML::Exception& e) {
        Mark m{e.mark.line + 1, e.mark.column + 1};
        if (e.mark.is_null()) {
            m = {};
        }
        if (const auto tab_line = tab_indented_line(text, e.mark.line)) {
            add(diagnostics, file, {*tab_line + 1, 1}, "tab character used for indentation",
                "YAML indents with spaces only");
        } else {
            add(diagnostics, file, m, e.msg);
        }
        return std::nullopt;
    }
    if (docs.empty()) {
        return Node{};
    }
    if (docs.size() > 1) {
        add(diagnostics, file, mark_of(docs[1]), "project file holds more than one YAML document",
            "remove the '---' separator");
        return std::nullopt;
    }
    Node root;
    Converter conv(file, limits, diagnostics);
    if (!conv.convert(docs[0], root, 0)) {
        return std::nullopt;
    }
    return root;
}

}  // namespace mloop::config
