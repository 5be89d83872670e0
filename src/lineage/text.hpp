// The record for people: the tables, sections and trees `mloop runs`, `show`, `diff`,
// `lineage` and `models` print. Pure functions of a result and the time now, so the unit tests
// can assert every character.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "lineage/diff.hpp"
#include "lineage/models.hpp"
#include "lineage/runs.hpp"
#include "lineage/show.hpp"

namespace mloop::lineage {

struct TextStyle {
    int64_t now_ms = 0;
    bool color = false;              // ANSI colours for run states
    std::filesystem::path runs_dir;  // where the runs' logs are (.mloop/runs), as shown
    // How a recorded absolute path (a deployment's manifests) is shown; unset: as recorded.
    std::function<std::string(const std::filesystem::path&)> show_path;
};

std::string runs_text(const RunsResult& r, const TextStyle& style);
std::string show_text(const Detail& d, const TextStyle& style);
std::string diff_text(const RunDiff& d);
std::string diff_markdown(const RunDiff& d);
std::string models_text(const std::vector<ModelSummary>& models, const TextStyle& style);
std::string model_text(const ModelDetail& d, const TextStyle& style);

// "succeeded" in green, "failed" in red, … when colour is on; "" otherwise.
std::string_view state_style(const std::string& state, bool color);

}  // namespace mloop::lineage
