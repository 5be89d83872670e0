// References (SPEC §2): the words a user types for a run, a model version, a dataset, an
// artifact or a commit. Unknown or ambiguous references are usage errors (exit 2) that name the
// nearest matches.
//
//   42, run/42                      run 42
//   churn@3, churn@staging          version 3; the version the alias points at now
//   churn@latest, @latest, @3       the newest version; a bare '@' means the project's model
//   sha256:<12+ hex>                a dataset or an artifact (any stored object)
//   commit/<4+ hex>, <7+ hex>       the runs of a git commit
//   a path                          the dataset at that path, as it is now (hashed)
//   deploy/7                        a deployment made by 'mloop deploy' or 'mloop rollback'
//                                   (an unknown one names the nearest ids and their envs)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "registry/records.hpp"

namespace mloop::registry {

struct RunRef {
    int64_t id = 0;
};

struct VersionRef {
    std::string model;
    int64_t version = 0;
    std::optional<std::string> alias;  // when it was named through an alias ("production")
    std::string text() const;          // "churn@3"
};

struct DatasetRef {
    std::string digest;
    std::optional<Dataset> dataset;  // nullopt: content no run has recorded (a path as it is now)
    std::string path;                // the path as given, or the dataset's recorded path
};

struct ArtifactRef {
    std::string digest;
};

struct CommitRef {
    std::string commit;  // the full hash, as recorded by a run
};

struct DeploymentRef {
    int64_t id = 0;
};

using Ref = std::variant<RunRef, VersionRef, DatasetRef, ArtifactRef, CommitRef, DeploymentRef>;

struct ResolveContext {
    std::string default_model;   // the project's model name, for "@3" and "@latest"
    std::filesystem::path base;  // relative paths are taken from here
    // The digest ("sha256:…") of a file or directory; used for path references.
    std::function<std::string(const std::filesystem::path&)> digest_of;
};

Ref resolve(Db& db, std::string_view text, const ResolveContext& ctx);

// A model version only: MODEL@VERSION, MODEL@ALIAS, MODEL@latest (or with the model omitted).
VersionRef resolve_version(Db& db, std::string_view text, const std::string& default_model);

// "churn@3" → ("churn", "3"); a text without '@' is nullopt.
std::optional<std::pair<std::string, std::string>> split_version(std::string_view text);

}  // namespace mloop::registry
