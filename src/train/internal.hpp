// Pieces shared by the files of src/train; not part of its interface.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/variables.hpp"
#include "process/runner.hpp"
#include "train/train.hpp"

namespace mloop::train::detail {

// A dataset or input file of the run, hashed before the command starts.
struct InputFile {
    std::string name;            // dataset name, or the path as written
    std::string kind;            // dataset | code
    std::filesystem::path path;  // absolute
    std::string shown;           // as written in mloop.yaml
    bool snapshot = false;
    bool is_tree = false;
    store::Digest digest;
};

// The names of the datasets the training section refers to through ${data.X}.
std::set<std::string> datasets_used(const config::Project& p);

// Every dataset used and every train.inputs file, with digests (one parallel hashing pass).
std::vector<InputFile> hash_inputs(Session& s, const std::vector<std::string>& extra_inputs = {});

// Values of ${…} for a run. `extra` adds names (model.dir for evaluations, …).
struct Variables {
    std::map<std::string, std::string> values;
    const config::Project* project = nullptr;

    // Expands `t`; an unknown name or an unset ${env.X} is a UsageError at t's position.
    std::string expand(const config::Text& t, const std::string& where) const;
    std::vector<std::string> expand_all(const config::Command& c, const std::string& where) const;
};

Variables run_variables(const Session& s, const std::vector<registry::Param>& params, int64_t run,
                        const std::filesystem::path& run_dir,
                        const std::optional<std::string>& commit);

// `rel` beneath `dir`, or a UsageError: absolute paths, "..", and symlinks that lead out are
// refused (SPEC §8).
std::filesystem::path inside(const std::filesystem::path& dir, const std::string& rel,
                             const std::string& what);

// The environment overlay of a training process: train.env, MLOOP_PARAM_*, MLOOP_RUN_*.
std::vector<std::pair<std::string, std::optional<std::string>>> run_environment(
    const Session& s, const Variables& vars, const std::vector<registry::Param>& params);

// Runs `argv` in the project directory with the run's logs; masks the session's secrets.
process::Result run_process(
    Session& s, const std::vector<std::string>& argv,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& env,
    const std::filesystem::path& log_dir, const std::string& log_prefix, bool echo);

// Reads ${run.dir}/<metrics>: a flat JSON object of numbers. Errors name the file.
std::vector<registry::Metric> read_metrics(const std::filesystem::path& file);

// The digest of the pipeline stage's work: its command as written, the params and its inputs.
std::string stage_cache_key(const config::Stage& stage, const std::vector<registry::Param>& params,
                            const std::vector<std::pair<std::string, std::string>>& input_digests);

// The stages that run, in dependency order: every one, or `target` and the stages it needs
// (an unknown target is a UsageError with a did-you-mean).
std::vector<const config::Stage*> stages_to_run(const std::vector<config::Stage>& stages,
                                                const std::optional<std::string>& target);

// Runs the pipeline (or the stages --stage needs) for run `run`; fills outcome.stages and
// returns false when a stage failed (outcome.reason says which) or was interrupted.
bool run_stages(Session& s, const Options& o, int64_t run, const Variables& vars,
                const std::vector<registry::Param>& params, const std::filesystem::path& run_dir,
                Outcome& outcome);

// JSON of a string vector, for the runs.command column.
std::string json_array(const std::vector<std::string>& items);

}  // namespace mloop::train::detail
