#include "data/validate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/csv.hpp"
#include "data/expect.hpp"
#include "data/jsonl.hpp"
#include "data/source.hpp"
#include "error/error.hpp"
#include "registry/registry.hpp"
#include "registry/validations.hpp"
#include "store/hasher.hpp"
#include "store/sha256.hpp"
#include "util/fs.hpp"
#include "util/parallel.hpp"
#include "util/text.hpp"

namespace mloop::data {

namespace fs = std::filesystem;

namespace {

struct FileJob {
    fs::path path;
    std::string display;  // as messages show it
    std::string rel;      // within a directory dataset; empty for a single file
    std::string format;   // csv | jsonl
    bool gzip = false;
    char delimiter = ',';
    uint64_t index = 0;
};

[[noreturn]] void unreadable(const std::string& display, int err) {
    throw error::UsageError(fmt::format("cannot read '{}': {}", display, util::errno_message(err)));
}

// One file's share of the work: its reader, and what its rows were checked into.
struct Part {
    uint64_t begin = 0;
    uint64_t rows = 0;  // records read (the row number of its last)
    std::exception_ptr error;
};

// Runs `work` (one function per part) on threads when there is more than one part, or when a
// progress callback wants the calling thread free to report; rethrows nothing: each part's
// exception is kept in `parts`.
void run_parts(std::vector<std::function<void()>>& work, std::vector<Part>& parts,
               const std::function<void()>& tick, bool threaded) {
    auto guarded = [&](size_t i) {
        try {
            work[i]();
        } catch (...) {
            parts[i].error = std::current_exception();
        }
    };
    if (!threaded) {
        for (size_t i = 0; i < work.size(); ++i) {
            guarded(i);
        }
        return;
    }
    std::mutex m;
    std::condition_variable cv;
    size_t running = work.size();
    std::vector<std::thread> threads;
    threads.reserve(work.size());
    for (size_t i = 0; i < work.size(); ++i) {
        threads.emplace_back([&, i] {
            guarded(i);
            std::lock_guard lock(m);
            --running;
            cv.notify_all();
        });
    }
    {
        std::unique_lock lock(m);
        while (running > 0) {
            cv.wait_for(lock, std::chrono::milliseconds(100));
            lock.unlock();
            if (tick) {
                tick();
            }
            lock.lock();
        }
    }
    for (auto& t : threads) {
        t.join();
    }
}

std::optional<DataProblem> problem_of(const DataError& e, const FileJob& job, uint64_t offset) {
    DataProblem p;
    p.file = job.display;
    p.row = e.row() == 0 ? 0 : e.row() + offset;
    p.column = e.column();
    p.column_name = e.column_name();
    p.message = e.message();
    p.hint = e.hint();
    return p;
}

class Reading {
  public:
    Reading(const Rules& rules, Accumulator& acc, const ReadOptions& options,
            std::atomic<uint64_t>& done, uint64_t total)
        : m_rules(rules), m_acc(acc), m_options(options), m_done(done), m_total(total) {}

    unsigned threads_used = 1;

    // Reads one file into the accumulator. Returns the problem that stopped it, if any.
    std::optional<DataProblem> file(const FileJob& job, store::Sha256* digest) {
        struct stat st {};
        if (::stat(job.path.c_str(), &st) != 0) {
            unreadable(job.display, errno);
        }
        const bool regular = S_ISREG(st.st_mode);
        const auto size = static_cast<uint64_t>(st.st_size);
        unsigned threads = m_options.threads != 0 ? m_options.threads : util::default_threads();
        uint64_t parts = 1;
        if (regular && !job.gzip && digest == nullptr && threads > 1 &&
            size >= m_options.split_min) {
            parts =
                std::clamp<uint64_t>(size / std::max<uint64_t>(m_options.min_part, 1), 1, threads);
        }
        threads_used = std::max<unsigned>(threads_used, static_cast<unsigned>(parts));
        if (parts == 1) {
            return whole(job, digest, regular && !job.gzip ? size : 0,
                         regular && size >= (uint64_t{8} << 20));
        }
        return split(job, size, static_cast<size_t>(parts));
    }

  private:
    void tick() {
        if (m_options.progress) {
            m_options.progress(m_done.load(std::memory_order_relaxed), m_total);
        }
    }

    // bytes: the data's size, when known.
    std::optional<DataProblem> whole(const FileJob& job, store::Sha256* digest, uint64_t bytes,
                                     bool big) {
        SourceOptions so;
        so.gzip = job.gzip;
        so.digest = digest;
        so.progress = &m_done;
        auto source = open_source(job.path, job.display, so);
        Checker checker(m_rules, m_acc);
        checker.expect_bytes(bytes);
        std::vector<Part> parts(1);
        std::vector<std::function<void()>> work{[&] {
            if (job.format == "csv") {
                CsvOptions co;
                co.delimiter = job.delimiter;
                co.block_size = m_options.block_size;
                CsvReader reader(*source, co);
                try {
                    checker.begin_csv(reader.read_header(), job.index, true);
                    reader.read_rows(checker);
                    checker.finish();
                } catch (...) {
                    parts[0].rows = reader.rows();
                    throw;
                }
            } else {
                JsonlOptions jo;
                jo.block_size = m_options.block_size;
                JsonlReader reader(*source, jo);
                checker.begin_jsonl(job.index);
                reader.read_rows(checker);
                checker.finish();
            }
        }};
        run_parts(
            work, parts, [&] { tick(); }, big && m_options.progress);
        if (parts[0].error) {
            try {
                std::rethrow_exception(parts[0].error);
            } catch (const DataError& e) {
                return problem_of(e, job, 0);
            }
        }
        return std::nullopt;
    }

    // Several threads, each reading one byte range that starts on a record boundary. The
    // boundary after a split point of a CSV file depends on whether the point lies inside a
    // quoted field: the parity of the quotes before it says, and each thread but the first
    // counts the quotes of the range before its own, so each counts 1/n of the file.
    std::optional<DataProblem> split(const FileJob& job, uint64_t size, size_t n) {
        const bool csv = job.format == "csv";
        ReadFd fd(job.path, job.display);
        std::vector<uint64_t> at(n + 1);
        for (size_t i = 0; i <= n; ++i) {
            at[i] = size * i / n;
        }
        std::vector<std::promise<uint64_t>> count_p(n), start_p(n);
        std::vector<std::shared_future<uint64_t>> count_f(n), start_f(n);
        for (size_t i = 0; i < n; ++i) {
            count_f[i] = count_p[i].get_future().share();
            start_f[i] = start_p[i].get_future().share();
        }
        std::promise<std::vector<std::string>> header_p;
        std::shared_future<std::vector<std::string>> header_f = header_p.get_future().share();

        std::vector<Accumulator> accs;
        accs.reserve(n);
        for (size_t i = 1; i < n; ++i) {
            accs.emplace_back(m_rules);
        }
        std::vector<Part> parts(n);
        std::vector<std::function<void()>> work(n);
        std::vector<std::unique_ptr<Source>> sources(n);
        // A part that fails stops the parts after it (the first failure in file order is the
        // one reported; parts before it must finish, for the row numbers of the parts after).
        std::unique_ptr<std::atomic<bool>[]> stop(new std::atomic<bool>[n]);
        for (size_t i = 0; i < n; ++i) {
            stop[i] = false;
        }

        auto source_for = [&](size_t i, uint64_t begin) {
            SourceOptions so;
            so.begin = begin;
            so.end = at[i + 1];
            so.progress = &m_done;
            so.cancel = &stop[i];
            if (i + 1 < n) {
                so.final_end = [f = start_f[i + 1]] {
                    return f.get();
                };
            } else {
                so.end = size;
            }
            return open_source(job.path, job.display, so);
        };

        work[0] = [&] {
            // Always give the next parts their start, even when this one fails.
            Checker checker(m_rules, m_acc);
            // The first part's `unique` sets take every later part's values in the end: room
            // for the whole file's.
            checker.expect_bytes(size);
            sources[0] = source_for(0, 0);
            if (csv) {
                CsvOptions co;
                co.delimiter = job.delimiter;
                co.block_size = m_options.block_size;
                CsvReader reader(*sources[0], co);
                try {
                    std::vector<std::string> header = reader.read_header();
                    header_p.set_value(header);
                    checker.begin_csv(header, job.index, true);
                    reader.read_rows(checker);
                    checker.finish();
                } catch (...) {
                    parts[0].rows = reader.rows();
                    try {
                        header_p.set_exception(std::make_exception_ptr(
                            std::future_error(std::future_errc::broken_promise)));
                    } catch (const std::future_error&) {
                        // the header was given already
                    }
                    throw;
                }
                parts[0].rows = reader.rows();
            } else {
                JsonlOptions jo;
                jo.block_size = m_options.block_size;
                JsonlReader reader(*sources[0], jo);
                checker.begin_jsonl(job.index);
                try {
                    reader.read_rows(checker);
                    checker.finish();
                } catch (...) {
                    parts[0].rows = reader.rows();
                    throw;
                }
                parts[0].rows = reader.rows();
            }
        };
        for (size_t i = 1; i < n; ++i) {
            work[i] = [&, i] {
                uint64_t begin = 0;
                bool counted = false;
                try {
                    if (csv) {
                        count_p[i].set_value(
                            count_quotes(fd.get(), at[i - 1], at[i], job.display, &stop[i]));
                        counted = true;
                        uint64_t quotes = 0;
                        for (size_t k = 1; k <= i; ++k) {
                            quotes += count_f[k].get();
                        }
                        begin = csv_next_record(fd.get(), at[i], size, quotes % 2 == 1, job.display,
                                                &stop[i]);
                    } else {
                        count_p[i].set_value(0);
                        counted = true;
                        begin = jsonl_next_record(fd.get(), at[i], size, job.display, &stop[i]);
                    }
                } catch (...) {
                    // Parts waiting on this one learn that it failed, not why: its own error
                    // is the one reported.
                    const auto broken = std::make_exception_ptr(
                        std::future_error(std::future_errc::broken_promise));
                    if (!counted) {
                        count_p[i].set_exception(broken);
                    }
                    start_p[i].set_exception(broken);
                    throw;
                }
                start_p[i].set_value(begin);
                parts[i].begin = begin;
                Accumulator& acc = accs[i - 1];
                Checker checker(m_rules, acc);
                checker.expect_bytes((i + 1 < n ? at[i + 1] : size) - std::min(begin, at[i + 1]));
                sources[i] = source_for(i, begin);
                if (csv) {
                    const std::vector<std::string> header = header_f.get();
                    CsvOptions co;
                    co.delimiter = job.delimiter;
                    co.header = false;
                    co.expected_fields = header.size();
                    co.column_names = header;
                    co.block_size = m_options.block_size;
                    CsvReader reader(*sources[i], co);
                    checker.begin_csv(header, job.index, false);
                    try {
                        reader.read_rows(checker);
                        checker.finish();
                    } catch (...) {
                        parts[i].rows = reader.rows();
                        throw;
                    }
                    parts[i].rows = reader.rows();
                } else {
                    JsonlOptions jo;
                    jo.first_part = false;
                    jo.block_size = m_options.block_size;
                    JsonlReader reader(*sources[i], jo);
                    checker.begin_jsonl(job.index);
                    try {
                        reader.read_rows(checker);
                        checker.finish();
                    } catch (...) {
                        parts[i].rows = reader.rows();
                        throw;
                    }
                    parts[i].rows = reader.rows();
                }
            };
        }
        for (size_t i = 0; i < n; ++i) {
            work[i] = [&, i, inner = std::move(work[i])] {
                try {
                    inner();
                } catch (...) {
                    for (size_t k = i + 1; k < n; ++k) {
                        stop[k] = true;
                    }
                    throw;
                }
            };
        }
        run_parts(
            work, parts, [&] { tick(); }, true);

        // The first part that failed, in file order, is where the file is wrong; parts after
        // it may have failed only because it did (a waiting part sees a broken promise).
        uint64_t offset = 0;
        for (size_t i = 0; i < n; ++i) {
            if (parts[i].error) {
                try {
                    std::rethrow_exception(parts[i].error);
                } catch (const DataError& e) {
                    return problem_of(e, job, offset);
                } catch (const std::future_error&) {
                    // waited on a part that failed; that part's error is the one to report
                } catch (const ReadCancelled&) {
                    // stopped because a part before it failed
                }
            }
            if (i > 0) {
                m_acc.merge(std::move(accs[i - 1]), offset);
            }
            offset += parts[i].rows;
        }
        for (size_t i = 0; i < n; ++i) {
            if (parts[i].error) {
                std::rethrow_exception(parts[i].error);
            }
        }
        return std::nullopt;
    }

    const Rules& m_rules;
    Accumulator& m_acc;
    const ReadOptions& m_options;
    std::atomic<uint64_t>& m_done;
    uint64_t m_total;
};

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_gz(const std::string& name) {
    return ends_with(name, ".gz") ? name.substr(0, name.size() - 3) : name;
}

FileJob job_for(const fs::path& path, const std::string& display, const std::string& rel,
                const std::string& format, uint64_t index) {
    FileJob job;
    job.path = path;
    job.display = display;
    job.rel = rel;
    const std::string name = path.filename().string();
    job.gzip = ends_with(name, ".gz");
    job.format = format.empty() ? format_of(name) : format;
    job.delimiter = ends_with(strip_gz(name), ".tsv") ? '\t' : ',';
    job.index = index;
    return job;
}

}  // namespace

std::string format_of(const std::string& name) {
    const std::string base = strip_gz(name);
    if (ends_with(base, ".csv") || ends_with(base, ".tsv")) {
        return "csv";
    }
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) {
        return "jsonl";
    }
    return {};
}

std::vector<std::string> data_files(const fs::path& dir, const std::string& format) {
    std::vector<std::string> out;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
    if (ec) {
        unreadable(util::display_path(dir), ec.value());
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            unreadable(util::display_path(it->path()), ec.value());
        }
        const std::string name = it->path().filename().string();
        if (!name.empty() && name[0] == '.') {
            if (it->is_directory(ec)) {
                it.disable_recursion_pending();
            }
            continue;
        }
        if (!it->is_regular_file(ec)) {
            continue;
        }
        const std::string f = format_of(name);
        if (f.empty() || (!format.empty() && f != format)) {
            continue;
        }
        out.push_back(fs::relative(it->path(), dir).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

Report read_and_check(const config::Schema& schema, const Target& target,
                      const ReadOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    Report report;
    report.dataset = target.name;
    report.path = target.display;
    report.validated_at = registry::now_ms();

    std::error_code ec;
    const fs::file_status st = fs::status(target.path, ec);
    if (ec) {
        unreadable(target.display, ec.value());
    }
    std::vector<FileJob> jobs;
    uint64_t total = 0;
    if (fs::is_directory(st)) {
        report.files = data_files(target.path, target.format);
        if (report.files.empty()) {
            throw error::UsageError(
                fmt::format("'{}' holds no data files", target.display),
                "a directory dataset is read for its .csv, .tsv, .jsonl and .ndjson files "
                "(optionally .gz)");
        }
        for (size_t i = 0; i < report.files.size(); ++i) {
            const std::string& rel = report.files[i];
            const std::string shown = (fs::path(target.display) / rel).generic_string();
            jobs.push_back(job_for(target.path / rel, shown, rel, target.format, i));
            total += static_cast<uint64_t>(fs::file_size(target.path / rel, ec));
        }
    } else {
        FileJob job = job_for(target.path, target.display, {}, target.format, 0);
        if (job.format.empty()) {
            throw error::UsageError(
                fmt::format("cannot tell the format of '{}' from its name", target.display),
                "name it in mloop.yaml with 'format: csv' or 'format: jsonl'");
        }
        if (fs::is_regular_file(st)) {
            total = static_cast<uint64_t>(fs::file_size(target.path, ec));
        }
        jobs.push_back(std::move(job));
    }
    std::string formats;
    for (const auto& j : jobs) {
        const std::string f = j.format + (j.gzip ? "+gzip" : "");
        if (formats.empty()) {
            formats = f;
        } else if (formats != f) {
            formats = "mixed";
        }
    }
    report.format = formats;

    Rules rules(schema);
    Accumulator acc(rules);
    std::atomic<uint64_t> done{0};
    Reading reading(rules, acc, options, done, total);
    const bool stream = jobs.size() == 1 && !fs::is_regular_file(st);
    store::Sha256 sha;
    for (const auto& job : jobs) {
        if (auto p = reading.file(job, stream ? &sha : nullptr)) {
            report.problem = std::move(p);
            break;
        }
    }
    if (stream && !report.problem) {
        report.digest = sha.finish().str();  // a pipe is read once: hashed as it is read
    }
    report.threads = reading.threads_used;
    report.bytes = done.load();
    report.rows = acc.rows;
    if (!report.problem) {
        std::vector<std::string> names = report.files;
        report.expectations = judge(rules, acc, names);
        for (size_t i = 0; i < rules.columns.size(); ++i) {
            if (const auto& seen = acc.columns[i].seen) {
                report.unique.push_back({rules.columns[i]->name, seen->size(), seen->memory()});
            }
        }
    }
    report.passed = report.failures() == 0;
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

Report check_dataset(const config::Schema& schema, const Target& target,
                     const CheckOptions& options) {
    std::error_code ec;
    const fs::file_status st = fs::status(target.path, ec);
    if (ec || !fs::exists(st)) {
        unreadable(target.display, ec ? ec.value() : ENOENT);
    }
    const bool hashable = fs::is_regular_file(st) || fs::is_directory(st);
    std::string format = target.format;
    if (format.empty() && !fs::is_directory(st)) {
        format = format_of(target.path.filename().string());
    }
    const std::string schema_id = schema_digest(schema, format.empty() ? "by-suffix" : format);
    std::string digest;
    if (hashable) {
        store::Hasher::Options ho;
        ho.cache = options.cache;
        ho.progress = options.hash_progress;
        digest = store::Hasher(ho).hash({target.path}).digests.at(0).str();
        if (options.db != nullptr && !options.force) {
            if (auto recorded = registry::latest_validation(*options.db, digest, schema_id)) {
                Report r = report_from_json(nlohmann::ordered_json::parse(recorded->report));
                r.dataset = target.name;
                r.path = target.display;
                r.cached = true;
                return r;
            }
        }
    }
    Report r = read_and_check(schema, target, options.read);
    if (hashable) {
        r.digest = digest;
    }
    r.schema_digest = schema_id;
    if (options.db != nullptr && !r.digest.empty()) {
        registry::Validation v;
        v.digest = r.digest;
        v.schema_digest = schema_id;
        v.path = target.display;
        v.passed = r.passed;
        v.rows = r.problem ? std::nullopt : std::optional<int64_t>(static_cast<int64_t>(r.rows));
        v.report = to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        options.db->write([&] { registry::record_validation(*options.db, v); });
    }
    return r;
}

}  // namespace mloop::data
