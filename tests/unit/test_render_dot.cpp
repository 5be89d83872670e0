#include <doctest/doctest.h>

#include "render/dot.hpp"

using namespace mloop::render;

TEST_SUITE("render") {
    TEST_CASE("dot quotes ids and labels, escaping quotes, backslashes and newlines") {
        CHECK(dot_quote("plain") == "\"plain\"");
        CHECK(dot_quote("a \"b\" \\c\nd") == "\"a \\\"b\\\" \\\\c\\nd\"");
    }

    TEST_CASE("a graph has its attributes, nodes and edges") {
        DotGraph g;
        g.name = "lineage";
        g.graph_attrs = {{"rankdir", "LR"}};
        g.node_defaults = {{"shape", "box"}};
        g.nodes = {{"sha256:ab", "dataset train\nsha256:ab", {{"shape", "cylinder"}}},
                   {"run/4", "run 4", {}}};
        g.edges = {{"sha256:ab", "run/4", "input"}, {"run/4", "churn@3", ""}};
        CHECK(dot_text(g) ==
              "digraph \"lineage\" {\n"
              "  rankdir=\"LR\";\n"
              "  node [shape=\"box\"];\n"
              "  \"sha256:ab\" [label=\"dataset train\\nsha256:ab\", shape=\"cylinder\"];\n"
              "  \"run/4\" [label=\"run 4\"];\n"
              "  \"sha256:ab\" -> \"run/4\" [label=\"input\"];\n"
              "  \"run/4\" -> \"churn@3\";\n"
              "}\n");
    }
}
