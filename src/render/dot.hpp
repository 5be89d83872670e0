// Graphviz DOT documents: `mloop lineage --format dot | dot -Tsvg > lineage.svg`. Every id and
// label is a quoted string with its quotes, backslashes and newlines escaped, so any name a user
// gave (a path with spaces, a quote) still makes a valid graph.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mloop::render {

using DotAttrs = std::vector<std::pair<std::string, std::string>>;

struct DotNode {
    std::string id;
    std::string label;  // '\n' starts a new line in the box
    DotAttrs attrs;     // shape, style, … (values are quoted too)
};

struct DotEdge {
    std::string from;
    std::string to;
    std::string label;  // empty: none
};

struct DotGraph {
    std::string name = "G";
    DotAttrs graph_attrs;
    DotAttrs node_defaults;
    DotAttrs edge_defaults;
    std::vector<DotNode> nodes;
    std::vector<DotEdge> edges;
};

// "…" with \ " and newlines escaped as DOT reads them.
std::string dot_quote(std::string_view s);

std::string dot_text(const DotGraph& g);

}  // namespace mloop::render
