// The schema's expectations, compiled for checking rows, and the per-column tallies that the
// checking fills. One Checker per thread; tallies of a later part of a file (or of a later
// file) are merged into those of the earlier one, so samples stay the first five by row.
//
// A position is (file index << 40) | row number: positions order as (file, row) do.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/project.hpp"
#include "data/csv.hpp"
#include "data/jsonl.hpp"
#include "data/report.hpp"
#include "data/unique.hpp"

namespace re2 {
class RE2;
}

namespace mloop::data {

inline constexpr size_t k_samples = 5;
inline constexpr int k_row_bits = 40;
inline constexpr uint64_t k_row_mask = (uint64_t{1} << k_row_bits) - 1;

inline uint64_t position(uint64_t file, uint64_t row) {
    return file << k_row_bits | row;
}

// The expectations of mloop.yaml's `schema`, as checking needs them.
struct Rules {
    const config::Schema* schema = nullptr;
    std::vector<const config::Column*> columns;

    explicit Rules(const config::Schema& s);
    // -1 when no schema column has this name.
    int find(std::string_view name) const;

  private:
    std::unordered_map<std::string_view, int> m_index;
};

// A sha256 over a canonical form of the expectations and the rules that apply them (the type
// rules' version, the format), so that any change to either re-validates recorded data.
std::string schema_digest(const config::Schema& schema, const std::string& format);

// Failures of one expectation: how many, and the first few with their values.
struct Tally {
    uint64_t count = 0;
    std::vector<std::pair<uint64_t, std::string>> samples;  // (position, value as shown)

    void add(uint64_t pos, std::string_view value);
    void add_null(uint64_t pos);
    void merge(Tally&& later, uint64_t offset);
};

struct ColumnTally {
    uint64_t values = 0;  // non-null values
    uint64_t nulls = 0;
    uint64_t typed = 0;  // values of the right type (what min and max were checked on)
    bool present = false;
    uint64_t missing_files = 0;  // files (of a directory) without the column
    Tally not_null, type, min, max, values_in, pattern, unique;
    std::optional<UniqueSet> seen;
};

struct Accumulator {
    std::vector<ColumnTally> columns;
    uint64_t rows = 0;
    // Names the files had beyond the schema's, in order of first sight, with where (the first
    // few), and every distinct one (up to k_max_fields), so that a name is counted once however
    // many rows of JSON lines repeat it.
    std::vector<std::pair<std::string, uint64_t>> extra;
    std::unordered_set<std::string> extra_names;
    uint64_t extra_total = 0;  // distinct extra names

    explicit Accumulator(const Rules& rules);
    // Adds `later`'s tallies; its positions are moved on by `offset` rows (a later part of the
    // same file) first.
    void merge(Accumulator&& later, uint64_t offset);
    void note_extra(std::string_view name, uint64_t pos);
};

// Checks rows against the rules, into an Accumulator. Compiles its own patterns (RE2 objects
// are best not shared between threads).
class Checker : public CsvRowHandler, public JsonRowHandler {
  public:
    Checker(const Rules& rules, Accumulator& acc);
    ~Checker() override;

    // Before a CSV file (or part): its header. Notes missing and extra columns when
    // `first_part`.
    void begin_csv(const std::vector<std::string>& header, uint64_t file, bool first_part);
    void begin_jsonl(uint64_t file);

    // The bytes this checker's file or part holds (0: unknown, as for gzip'd data): from those
    // of its first rows it estimates its rows, and makes room in the `unique` sets once for
    // the distinct values they promise at the rate of the first rows.
    void expect_bytes(uint64_t bytes) { m_expect_bytes = bytes; }

    void row(uint64_t number, std::span<const std::string_view> fields) override;
    void row(uint64_t number, std::span<const JsonField> fields) override;
    // After the last row of a file or part: checks what is still held back.
    void finish();

  private:
    enum class Input { text, json_string, json_number, json_bool, json_other };
    // What checking one column needs, in one place (the hot loop reads nothing else).
    struct Plan {
        config::ColumnType type;
        bool nullable;
        bool has_min;
        bool has_max;
        double min;
        double max;
        const std::string_view* values;  // category values, or null
        size_t n_values;
        re2::RE2* pattern;
        UniqueSet* seen;
        ColumnTally* tally;
    };
    void check(const Plan& plan, Input input, std::string_view text, uint64_t pos, uint64_t unique);
    int column_of(std::string_view key, size_t index);

    const Rules& m_rules;
    Accumulator& m_acc;
    std::vector<Plan> m_plans;
    std::vector<std::unique_ptr<re2::RE2>> m_patterns;
    std::vector<std::vector<std::string_view>> m_values;  // category values
    uint64_t m_file = 0;
    std::vector<int> m_csv_map;  // CSV field index -> schema column, or -1
    // A CSV value of a unique column waits one row before it goes into its set, so that the
    // cache line of its slot, asked for when it was read, has arrived by then.
    struct Pending {
        const Plan* plan = nullptr;
        uint64_t hash = 0;
        uint64_t pos = 0;
        std::string value;
        bool held = false;
    };
    void insert_unique(Pending& p);
    std::vector<std::pair<size_t, Pending>> m_csv_unique;  // field index, its held value
    void sample_row(uint64_t bytes);
    static constexpr uint64_t k_sample_rows = 4096;
    uint64_t m_expect_bytes = 0;
    uint64_t m_sample_rows = 0;  // rows measured so far, up to k_sample_rows
    uint64_t m_sample_bytes = 0;
    std::vector<size_t> m_seen_before;    // per column: its unique set's size before the sample
    std::vector<int> m_key_cache;         // JSON member index -> column seen there last
    std::vector<uint64_t> m_seen_in_row;  // JSON: the row each column was last seen in
    uint64_t m_row = 0;
};

// The expectations with their verdicts, from the tallies of a whole dataset.
std::vector<Expectation> judge(const Rules& rules, const Accumulator& acc,
                               const std::vector<std::string>& files);

}  // namespace mloop::data
