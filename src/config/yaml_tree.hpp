// A YAML document as a plain tree with source positions, built from yaml-cpp's graph under
// hard bounds. yaml-cpp shares the nodes of aliases, so `&x [*x]` is a cycle and ten levels
// of ten aliases expand to 10^10 nodes: every walk of ours goes over this tree instead, which
// is finite and small by construction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error/error.hpp"

namespace mloop::config {

struct Mark {
    int line = 0;  // 1-based; 0 when unknown
    int column = 0;
};

struct Node {
    enum class Kind : uint8_t { null, scalar, sequence, map };
    struct Entry;

    Kind kind = Kind::null;
    bool plain = true;  // a scalar written without quotes or tag (may be a number, bool, null)
    Mark mark;
    std::string text;            // scalars
    std::vector<Node> items;     // sequences
    std::vector<Entry> entries;  // maps, in file order (duplicates are reported when read)

    bool is_null() const { return kind == Kind::null; }
    bool is_scalar() const { return kind == Kind::scalar; }
    bool is_sequence() const { return kind == Kind::sequence; }
    bool is_map() const { return kind == Kind::map; }
};

struct Node::Entry {
    std::string key;
    Mark key_mark;
    Node value;
};

const char* kind_name(Node::Kind kind);

struct YamlLimits {
    size_t max_bytes = 1 << 20;  // a project file is small; 1 MiB is generous
    size_t max_line_bytes = 64 << 10;
    int max_depth = 64;
    size_t max_nodes = 100'000;  // after alias expansion
};

// Parses `text` (the contents of `file`). On failure, appends located diagnostics and returns
// nullopt. An empty document yields a null node.
std::optional<Node> parse_yaml(std::string_view text, const std::string& file,
                               std::vector<error::Diagnostic>& diagnostics,
                               const YamlLimits& limits = {});

}  // namespace mloop::config
