#include "render/dot.hpp"

namespace mloop::render {

namespace {

std::string attr_list(const DotAttrs& attrs) {
    std::string out;
    for (const auto& [k, v] : attrs) {
        out += out.empty() ? "" : ", ";
        out += k + "=" + dot_quote(v);
    }
    return out;
}

}  // namespace

std::string dot_quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                break;
            default:
                out += c;
        }
    }
    return out + "\"";
}

std::string dot_text(const DotGraph& g) {
    std::string out = "digraph " + dot_quote(g.name) + " {\n";
    for (const auto& [k, v] : g.graph_attrs) {
        out += "  " + k + "=" + dot_quote(v) + ";\n";
    }
    if (!g.node_defaults.empty()) {
        out += "  node [" + attr_list(g.node_defaults) + "];\n";
    }
    if (!g.edge_defaults.empty()) {
        out += "  edge [" + attr_list(g.edge_defaults) + "];\n";
    }
    for (const auto& n : g.nodes) {
        DotAttrs attrs{{"label", n.label}};
        attrs.insert(attrs.end(), n.attrs.begin(), n.attrs.end());
        out += "  " + dot_quote(n.id) + " [" + attr_list(attrs) + "];\n";
    }
    for (const auto& e : g.edges) {
        out += "  " + dot_quote(e.from) + " -> " + dot_quote(e.to);
        if (!e.label.empty()) {
            out += " [label=" + dot_quote(e.label) + "]";
        }
        out += ";\n";
    }
    return out + "}\n";
}

}  // namespace mloop::render
