// Data validation reports for people: a plain-text table for the terminal and a markdown
// document for CI job summaries and pull-request comments. (JSON comes from data/report.hpp.)
#pragma once

#include <string>
#include <vector>

#include "data/report.hpp"

namespace mloop::render {

struct TableOptions {
    bool all = false;  // every expectation, not only those that failed or warned
};

// One summary line per dataset, then its expectations that did not pass (or all of them),
// indented beneath, and the memory `unique` took. Ends with a newline.
std::string validation_table(const std::vector<data::Report>& reports, const TableOptions& o);

// The short line that says where a dataset could not be read, for the table.
std::string problem_summary(const data::Report& r);

struct MarkdownConfig {
    bool present = false;  // whether the project file was checked
    bool ok = true;
    std::string file;
    std::string summary;  // "3 datasets, 11 columns, …"
};

// A markdown report: the project file's result, a table of datasets, then per dataset that
// failed or warned its expectations that did not pass.
std::string validation_markdown(const MarkdownConfig& config,
                                const std::vector<data::Report>& reports);

// "0.05%", "<0.01%", "0%".
std::string percent(double fraction);

}  // namespace mloop::render
