// The result of validating one dataset against the schema, as plain data: what the command
// renders, what --json prints and what the registry keeps (as JSON, read back for "(cached)").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mloop::data {

struct Sample {
    std::string file;  // the file within a directory dataset; empty for a single file
    uint64_t row = 0;
    std::string value;  // as shown: quoted ('…') and shortened, or null
};

enum class Verdict { pass, warn, fail };
const char* verdict_name(Verdict v);

struct Expectation {
    // present, type, not_null, null_fraction, min, max, values, pattern, unique, rows_min,
    // rows_max, extra_columns
    std::string kind;
    std::string column;    // empty for the dataset's own expectations
    std::string expected;  // in words: "int", ">= 18", "nulls <= 1%", "in basic, pro"
    uint64_t checked = 0;  // the rows or values it was checked on
    uint64_t failed = 0;
    double allowed = 0;  // the largest failed share that passes (1 - mostly, max_null_fraction)
    std::vector<Sample> samples;  // the first five failures by row
    Verdict verdict = Verdict::pass;

    double fraction() const {
        return checked == 0 ? 0.0 : static_cast<double>(failed) / static_cast<double>(checked);
    }
};

// A file that could not be read as CSV or JSON lines: where, and why.
struct DataProblem {
    std::string file;
    uint64_t row = 0;  // 0: not known
    uint64_t column =
        0;  // CSV: the field's position; JSON lines: the byte in the line; 0: not known
    std::string column_name;
    std::string message;
    std::string hint;

    // "data/x.csv:17:3: column 'age': invalid UTF-8 byte 0xff"
    std::string location() const;
    std::string text() const;
};

struct UniqueMemory {
    std::string column;
    uint64_t values = 0;
    uint64_t bytes = 0;
};

struct Report {
    std::string dataset;  // its name in mloop.yaml, or the path as given
    std::string path;     // as shown
    std::string format;   // csv | jsonl, with "+gzip" when compressed; "mixed" for directories
    std::string digest;   // sha256:… of the file or tree
    std::string schema_digest;
    std::vector<std::string> files;  // a directory's data files, relative to it, in name order
    uint64_t rows = 0;               // data rows (blank lines and CSV headers are not rows)
    uint64_t bytes = 0;              // bytes read (compressed bytes for gzip)
    unsigned threads = 1;
    double seconds = 0;
    std::vector<Expectation> expectations;
    std::vector<UniqueMemory> unique;
    std::optional<DataProblem> problem;
    bool passed = false;
    bool cached = false;       // answered from the registry, not read now
    int64_t validated_at = 0;  // ms since the epoch, when it was read

    size_t failures() const;
    size_t warnings() const;
};

nlohmann::ordered_json to_json(const Report& r);
// Reads what to_json wrote; throws nlohmann's exceptions on anything else.
Report report_from_json(const nlohmann::ordered_json& j);

}  // namespace mloop::data
