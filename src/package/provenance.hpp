// The in-toto statement (v1) with a SLSA provenance (v1) predicate that `mloop package` writes
// for every image: the image as subject, the model version, training run, git commit, datasets
// and artifacts as resolved dependencies, and mloop as the builder.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/deployments.hpp"
#include "registry/records.hpp"

namespace mloop::package {

struct ProvenanceInput {
    registry::Image image;
    std::map<std::string, std::string> labels;
    std::optional<registry::Run> run;
    std::vector<registry::Input> inputs;
    std::vector<registry::Artifact> artifacts;
    std::string dockerfile;
    std::vector<std::string> build_argv;
    std::string started;   // RFC 3339
    std::string finished;  // RFC 3339
};

nlohmann::ordered_json provenance_statement(const ProvenanceInput& in);

}  // namespace mloop::package
