// The record as JSON for scripts: what `--json` prints for runs, show, diff and models (lineage
// has json_of in graph.hpp). Times are ISO 8601 in UTC; digests and commits are written in full;
// absent values are null, never left out, so a script can index without checking.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "lineage/diff.hpp"
#include "lineage/models.hpp"
#include "lineage/runs.hpp"
#include "lineage/show.hpp"

namespace mloop::lineage {

nlohmann::ordered_json run_json(const registry::Run& r);
nlohmann::ordered_json runs_json(const RunsResult& r);
nlohmann::ordered_json show_json(const Detail& d, const std::filesystem::path& runs_dir);
nlohmann::ordered_json diff_json(const RunDiff& d);
nlohmann::ordered_json models_json(const std::vector<ModelSummary>& models);
nlohmann::ordered_json model_json(const ModelDetail& d);

}  // namespace mloop::lineage
