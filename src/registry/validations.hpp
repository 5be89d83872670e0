// Results of `mloop validate data`, one row per validation: the dataset's digest, the digest of
// the expectations that applied, whether it passed, and the JSON report. The latest row for a
// digest answers "did this data pass?" — `package` and `deploy` ask before they ship a model
// trained on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "registry/sqlite.hpp"

namespace mloop::registry {

struct Validation {
    int64_t id = 0;
    std::string digest;         // sha256:… of the dataset (a file's bytes, or a tree)
    std::string schema_digest;  // sha256:… of the expectations checked
    std::string path;           // the path as shown when it was validated
    bool passed = false;
    std::optional<int64_t> rows;  // data rows, when the data could be read
    int64_t at = 0;               // ms since the epoch
    std::string report;           // JSON
};

// In a write transaction: appends `v` (its id and time are assigned here). Returns the id.
int64_t record_validation(Db& db, const Validation& v);

// The latest validation of this data against these expectations.
std::optional<Validation> latest_validation(Db& db, const std::string& digest,
                                            const std::string& schema_digest);
// The latest validation of this data against any expectations.
std::optional<Validation> latest_validation(Db& db, const std::string& digest);

// Did this data pass its latest validation (against any schema)? nullopt: never validated.
std::optional<bool> passed(Db& db, const std::string& digest);
// … against these expectations.
std::optional<bool> passed(Db& db, const std::string& digest, const std::string& schema_digest);

}  // namespace mloop::registry
