// Data for `mloop monitor`, read whole into columns: the reference (the dataset that trained
// the version) and the current data (the serving log, one file or many). CSV or JSON lines,
// either optionally gzip'd, chosen by the file's extension (.csv, .jsonl/.ndjson/.json, then
// .gz). Several files are appended; a column some lack is missing in their rows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mloop::monitor {

struct Column {
    std::string name;
    std::vector<std::string> text;  // one per row, as written ("" when missing)
    std::vector<uint8_t> missing;   // 1: empty, null or absent
};

struct Frame {
    std::vector<Column> columns;
    uint64_t rows = 0;
    std::vector<std::string> files;  // as shown

    const Column* column(const std::string& name) const;
    // Keeps the rows where keep[i] is true.
    void filter(const std::vector<uint8_t>& keep);
};

// One file to read: where it is and how to name it in messages.
struct DataFile {
    std::filesystem::path path;
    std::string display;
    std::string name;  // whose extension says the format; empty: the path's (a store object
                       // has none: the dataset's original name is given)
};

// Reads the files in order. A file that cannot be read or parsed is a DataError or UsageError
// naming it (and the row).
Frame load_frame(const std::vector<DataFile>& files);

// Paths and shell globs relative to `root`, expanded and sorted; a pattern that matches
// nothing is an error naming it.
std::vector<DataFile> expand_paths(const std::vector<std::string>& patterns,
                                   const std::filesystem::path& root);

}  // namespace mloop::monitor
