// `mloop fsck`: the registry's own consistency (integrity_check, foreign keys), every object in
// the store re-hashed against its name, and every row that names a stored file checked against
// the store. Each damaged thing is named; nothing is changed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "workspace/workspace.hpp"

namespace mloop::fsck {

struct Problem {
    std::string kind;     // registry | foreign-key | object | missing-object
    std::string subject;  // what is damaged: a table and row, an object's digest
    std::string message;
};

struct Report {
    bool registry_present = false;
    int schema_version = 0;
    int64_t rows_checked = 0;       // rows that name a stored file
    int64_t collected_objects = 0;  // deleted by gc: rows naming them expect no bytes
    int64_t objects_checked = 0;    // objects re-hashed
    uint64_t bytes_checked = 0;
    int64_t unreferenced_objects = 0;  // in the store, named by no row (gc material, not damage)
    int64_t stale_temps = 0;           // temp files of interrupted writes (harmless)
    std::vector<Problem> problems;

    bool ok() const { return problems.empty(); }
};

// `progress(done, total)` is called as objects are re-hashed (bytes).
Report check(const workspace::Paths& paths,
             const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace mloop::fsck
