#include <doctest/doctest.h>

#include "lineage/graph.hpp"
#include "render/dot.hpp"
#include "render/tree.hpp"
#include "test_lineage_fixture.hpp"

using namespace mloop;
using namespace lineage_test;

namespace {

std::string up(Fixture& f, const registry::Ref& ref) {
    return render::tree_text(lineage::tree_of(lineage::upstream(f.db(), ref)));
}

std::string down(Fixture& f, const registry::Ref& ref) {
    return render::tree_text(lineage::tree_of(lineage::downstream(f.db(), ref)));
}

}  // namespace

TEST_SUITE("lineage") {
    TEST_CASE("upstream of a model version: run, commit, params, data with its verdict, code") {
        Fixture f;
        CHECK(up(f, registry::VersionRef{"m", 1, {}}) ==
              "m@1 (production)\n"
              "└── produced by run 1  train  succeeded  2025-06-01 00:01\n"
              "    ├── commit c1c1c1c1c1c1 (main)\n"
              "    ├── params\n"
              "    │   ├── C = 1.0\n"
              "    │   └── max_iter = 200\n"
              "    ├── dataset train  data/train.csv  sha256:111111111111  validation passed\n"
              "    └── code train.py  sha256:333333333333\n");
    }

    TEST_CASE("upstream of a trial names its sweep") {
        Fixture f;
        CHECK(up(f, registry::VersionRef{"m", 2, {}}) ==
              "m@2\n"
              "└── produced by run 3  trial  succeeded  2025-06-01 00:03\n"
              "    ├── commit c1c1c1c1c1c1 (main)\n"
              "    ├── params\n"
              "    │   ├── C = 0.1\n"
              "    │   └── max_iter = 200\n"
              "    ├── dataset train  data/train.csv  sha256:111111111111  validation passed\n"
              "    ├── code train.py  sha256:333333333333\n"
              "    └── trial of run 2  sweep  succeeded  2025-06-01 00:02\n");
    }

    TEST_CASE("upstream of a run: stages with the run a cached one came from, produced inputs") {
        Fixture f;
        CHECK(up(f, registry::RunRef{5}) ==
              "run 5  train  failed  2025-06-01 00:05\n"
              "├── commit c1c1c1c1c1c1\n"
              "├── params\n"
              "│   ├── C = 2.0\n"
              "│   └── penalty = l1\n"
              "├── dataset train  data/train.csv  sha256:222222222222  not validated\n"
              "├── file base/model.json  sha256:444444444444\n"
              "│   └── produced by run 1  train  succeeded  2025-06-01 00:01\n"
              "├── stage prep  cached\n"
              "│   └── cached from run 4  train  succeeded  2025-06-01 00:04\n"
              "└── stage fit  failed\n");
    }

    TEST_CASE("upstream of an evaluation: the version it evaluated") {
        Fixture f;
        CHECK(up(f, registry::RunRef{6}) ==
              "run 6  evaluate  succeeded  2025-06-01 00:06\n"
              "├── dataset eval  data/train.csv  sha256:222222222222  not validated\n"
              "└── evaluates m@1 (production)\n"
              "    └── produced by run 1  train  succeeded  2025-06-01 00:01\n");
    }

    TEST_CASE("downstream of a dataset: every run and version, transitively") {
        Fixture f;
        registry::DatasetRef d{D1, registry::Datasets(f.db()).by_digest(D1), "data/train.csv"};
        CHECK(down(f, d) ==
              "dataset data/train.csv  sha256:111111111111  validation passed\n"
              "├── used by run 3  trial  succeeded  2025-06-01 00:03\n"
              "│   └── m@2\n"
              "└── used by run 1  train  succeeded  2025-06-01 00:01\n"
              "    ├── m@1 (production)\n"
              "    │   └── evaluated by run 6  evaluate  succeeded  2025-06-01 00:06\n"
              "    └── artifact model.json  sha256:444444444444\n"
              "        └── used by run 5  train  failed  2025-06-01 00:05\n");
    }

    TEST_CASE("downstream of a run: versions, trials, cached stages; a node met twice") {
        Fixture f;
        CHECK(down(f, registry::RunRef{2}) ==
              "run 2  sweep  succeeded  2025-06-01 00:02\n"
              "└── trial run 3  trial  succeeded  2025-06-01 00:03\n"
              "    └── m@2\n");
        CHECK(down(f, registry::RunRef{4}) ==
              "run 4  train  succeeded  2025-06-01 00:04\n"
              "├── m@3\n"
              "└── stage prep cached by run 5  train  failed  2025-06-01 00:05\n");
        const auto g = lineage::downstream(f.db(), registry::DatasetRef{D2, {}, "data/train.csv"});
        const std::string t = render::tree_text(lineage::tree_of(g));
        CHECK(t.find("(see above)") != std::string::npos);  // run 5, reached from 4 and D2
    }

    TEST_CASE("downstream of a commit and of a version") {
        Fixture f;
        const auto g = lineage::downstream(f.db(), registry::CommitRef{C1});
        CHECK(g.root == "commit/" + C1);
        size_t runs = 0;
        for (const auto& n : g.nodes) {
            runs += n.kind == lineage::NodeKind::run;
        }
        // Runs 1–5 were recorded at the commit; run 6 was not, but it evaluated m@1, which
        // run 1 made there: downstream is transitive.
        CHECK(runs == 6);
        size_t at_commit = 0;
        for (const auto& e : g.edges) {
            at_commit += e.from == g.root && e.relation == "commit";
        }
        CHECK(at_commit == 5);
        bool evaluated = false;
        for (const auto& e : g.edges) {
            evaluated |= e.from == "m@1" && e.to == "run/6" && e.relation == "evaluated by";
        }
        CHECK(evaluated);
        CHECK(down(f, registry::VersionRef{"m", 1, {}}) ==
              "m@1 (production)\n"
              "└── evaluated by run 6  evaluate  succeeded  2025-06-01 00:06\n");
    }

    TEST_CASE("json names every node and edge; dot draws the same graph") {
        Fixture f;
        const auto g = lineage::upstream(f.db(), registry::VersionRef{"m", 1, {}});
        const auto j = lineage::json_of(g);
        CHECK(j["root"] == "m@1");
        CHECK(j["direction"] == "upstream");
        CHECK(j["nodes"][0]["kind"] == "version");
        CHECK(j["nodes"][0]["aliases"][0] == "production");
        CHECK(j["nodes"].size() == 6);
        CHECK(j["edges"].size() == 5);
        bool verdict = false;
        for (const auto& n : j["nodes"]) {
            if (n["kind"] == "dataset") {
                verdict = n["validation"]["passed"] == true && n["digest"] == D1;
            }
            if (n["id"] == "run/1") {  // a node's own attributes never hide its kind
                CHECK(n["kind"] == "run");
                CHECK(n["run_kind"] == "train");
            }
            if (n["id"] == CODE) {
                CHECK(n["kind"] == "file");
                CHECK(n["input_kind"] == "code");
            }
            if (n["kind"] == "params") {
                CHECK(n["params"]["C"] == "1.0");
            }
        }
        CHECK(verdict);
        const std::string dot = render::dot_text(lineage::dot_of(g));
        CHECK(dot.rfind("digraph \"lineage\" {\n  rankdir=\"LR\";\n", 0) == 0);
        CHECK(dot.find(
                  "  \"m@1\" [label=\"m@1 (production)\", shape=\"box3d\", penwidth=\"2\"];\n") !=
              std::string::npos);
        CHECK(dot.find("  \"run/1\" -> \"m@1\" [label=\"produced\"];\n") != std::string::npos);
        CHECK(dot.find("[label=\"params\\nC = 1.0\\nmax_iter = 200\", shape=\"note\"]") !=
              std::string::npos);
        CHECK(dot.substr(dot.size() - 2) == "}\n");
    }
}
