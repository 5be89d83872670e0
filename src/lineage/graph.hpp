// Lineage as a graph. Upstream of a deployment: the image it ran (reference, id, provenance),
// the model version packaged in it, and upstream from there. Upstream of a model version: the
// run that produced it, its git commit, params, inputs (datasets with their validation verdict,
// code), stages (and the runs whose cached outputs they restored), the sweep it was a trial of.
// Downstream of a dataset, a commit, a run or a model version: every run, trial, evaluation and
// model version that used it, transitively, through artifacts and stage outputs that later runs
// consumed, and the images built from those versions with every deployment of them, the live
// one of each environment marked ("what is serving that trained on this data?").
//
// Edges point the way data flows, from what was used to what was made of it, in both
// directions: "dataset → run → model version → image → deployment". Nodes are named by their
// reference (run/14, churn@3, sha256:…, commit/…, deploy/7); an image, which has none, by its
// registry row (image/5).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/refs.hpp"
#include "render/dot.hpp"
#include "render/tree.hpp"

namespace mloop::lineage {

enum class NodeKind {
    deployment,
    image,
    version,
    run,
    commit,
    params,
    dataset,
    file,
    stage,
    artifact
};
const char* kind_name(NodeKind k);

struct Node {
    std::string id;  // a reference where one exists: run/14, churn@3, sha256:…, commit/…
    NodeKind kind = NodeKind::run;
    std::string label;               // one line for people
    std::vector<std::string> lines;  // details drawn under it (a run's params)
    nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
};

struct Edge {
    std::string from;  // upstream: what was used
    std::string to;    // downstream: what was made of it
    std::string relation;
};

struct Graph {
    std::string root;
    bool downstream = false;
    std::vector<Node> nodes;
    std::vector<Edge> edges;

    const Node* find(const std::string& id) const;
};

Graph upstream(registry::Db& db, const registry::Ref& ref);
Graph downstream(registry::Db& db, const registry::Ref& ref);

// The graph drawn from its root: upstream, each node's sources below it; downstream, each
// node's consumers. A node met again is drawn once more, marked "(see above)", without its
// subtree.
render::TreeNode tree_of(const Graph& g);
// Graphviz, left to right, one shape per kind of node, the root drawn bold.
render::DotGraph dot_of(const Graph& g);
nlohmann::ordered_json json_of(const Graph& g);

}  // namespace mloop::lineage
