#include "fsck/fsck.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "registry/registry.hpp"
#include "store/objects.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::fsck {

namespace fs = std::filesystem;

namespace {

void check_registry(registry::Db& db, Report& r) {
    {
        registry::Stmt s = db.prepare("PRAGMA integrity_check");
        while (s.step()) {
            if (s.text(0) != "ok") {
                r.problems.push_back({"registry", util::display_path(db.path()), s.text(0)});
            }
        }
    }
    // One problem per broken reference (table, foreign key), naming the values that point
    // nowhere: tables without a rowid have no row number to give.
    std::map<std::pair<std::string, int64_t>, std::pair<std::string, uint64_t>> broken;
    {
        registry::Stmt s = db.prepare("PRAGMA foreign_key_check");
        while (s.step()) {
            auto& [parent, rows] = broken[{s.text(0), s.int64(3)}];
            parent = s.text(2);
            ++rows;
        }
    }
    for (const auto& [key, what] : broken) {
        const auto& [table, fk] = key;
        const auto& [parent, rows] = what;
        std::vector<std::string> from;
        std::vector<std::string> to;
        registry::Stmt list = db.prepare(fmt::format("PRAGMA foreign_key_list(\"{}\")", table));
        while (list.step()) {
            if (list.int64(0) == fk) {
                from.push_back(list.text(3));
                to.push_back(list.is_null(4) ? from.back() : list.text(4));
            }
        }
        std::vector<std::string> match;
        for (size_t i = 0; i < from.size(); ++i) {
            match.push_back(fmt::format("p.\"{}\" = t.\"{}\"", to[i], from[i]));
        }
        std::vector<std::string> values;
        if (!from.empty()) {
            registry::Stmt v = db.prepare(fmt::format(
                "SELECT DISTINCT {} FROM \"{}\" t WHERE t.\"{}\" IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM \"{}\" p WHERE {}) LIMIT 5",
                util::join(from, " || ', ' || ", "\""), table, from.front(), parent,
                util::join(match, " AND ")));
            while (v.step()) {
                values.push_back(v.text(0));
            }
        }
        r.problems.push_back(
            {"foreign-key", fmt::format("{}.{}", table, util::join(from, ",")),
             fmt::format("{} row{} refer{} to missing rows of {}{}", rows, rows == 1 ? "" : "s",
                         rows == 1 ? "s" : "", parent,
                         values.empty() ? std::string()
                                        : fmt::format(" ({} {})", util::join(from, ", "),
                                                      util::join(values, "; ")))});
    }
}

// Every row that says a file is in the store, with words for the message.
std::map<std::string, std::vector<std::string>> stored_references(registry::Db& db) {
    std::map<std::string, std::vector<std::string>> refs;
    // Most telling first: a message names the artifact or dataset before the bare record.
    // An object `mloop gc` collected is not expected in the store: rows naming it are history.
    const char* queries[] = {
        "SELECT a.digest, a.path || ' of run ' || a.run_id FROM artifacts a "
        "LEFT JOIN objects o ON o.digest = a.digest WHERE o.collected_at IS NULL",
        "SELECT d.snapshot, 'the snapshot of dataset ' || d.path FROM datasets d "
        "LEFT JOIN objects o ON o.digest = d.snapshot "
        "WHERE d.snapshot IS NOT NULL AND o.collected_at IS NULL",
        "SELECT s.digest, s.path || ' of stage ' || s.stage || ' of run ' || s.run_id "
        "FROM stage_outputs s LEFT JOIN objects o ON o.digest = s.digest "
        "WHERE o.collected_at IS NULL",
        "SELECT i.provenance, 'the provenance of image ' || i.tag FROM images i "
        "LEFT JOIN objects o ON o.digest = i.provenance "
        "WHERE i.provenance IS NOT NULL AND o.collected_at IS NULL",
        "SELECT digest, 'the objects table' FROM objects WHERE collected_at IS NULL",
    };
    for (const char* sql : queries) {
        registry::Stmt s = db.prepare(sql);
        while (s.step()) {
            refs[s.text(0)].push_back(s.text(1));
        }
    }
    return refs;
}

}  // namespace

Report check(const workspace::Paths& paths,
             const std::function<void(uint64_t, uint64_t)>& progress) {
    Report r;
    std::map<std::string, std::vector<std::string>> refs;
    std::error_code ec;
    if (fs::exists(paths.registry, ec)) {
        r.registry_present = true;
        registry::OpenOptions o;
        o.create = false;
        auto reg = registry::Registry::open(paths.registry, o);
        r.schema_version = reg->schema_version();
        reg->db().read([&] {
            check_registry(reg->db(), r);
            refs = stored_references(reg->db());
            registry::Stmt s =
                reg->db().prepare("SELECT COUNT(*) FROM objects WHERE collected_at IS NOT NULL");
            s.step();
            r.collected_objects = s.int64(0);
        });
    }

    store::ObjectStore objects(paths.objects);
    std::vector<std::pair<store::Digest, uint64_t>> all;
    if (fs::exists(paths.objects, ec)) {
        objects.for_each([&](const store::Digest& d, uint64_t size) { all.emplace_back(d, size); });
        for (const auto& e : fs::directory_iterator(paths.objects / "tmp", ec)) {
            (void)e;
            ++r.stale_temps;
        }
    }
    uint64_t total = 0;
    for (const auto& [d, size] : all) {
        total += size;
    }
    // Re-hash on every core: fsck of a large store is bounded by the disk, not one CPU.
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> done{0};
    std::mutex mu;
    auto worker = [&](bool report) {
        for (size_t i = next++; i < all.size(); i = next++) {
            const auto& [d, size] = all[i];
            struct stat st {};
            const bool writable =
                ::stat(objects.path_of(d).c_str(), &st) == 0 && (st.st_mode & 0222) != 0;
            const bool good = objects.verify(d);
            done += size;
            if (report && progress) {
                progress(done, total);
            }
            if (!good || writable) {
                std::lock_guard lock(mu);
                r.problems.push_back({"object", d.str(),
                                      !good ? "its content does not match its name"
                                            : "it is writable; objects are read-only"});
            }
        }
    };
    const unsigned n = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                       static_cast<unsigned>(all.size())));
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n; ++t) {
        threads.emplace_back(worker, false);
    }
    worker(true);
    for (auto& t : threads) {
        t.join();
    }
    if (progress) {
        progress(done, total);
    }
    r.objects_checked = static_cast<int64_t>(all.size());
    r.bytes_checked = done;

    std::set<std::string> present;
    for (const auto& [d, size] : all) {
        present.insert(d.str());
    }
    for (const auto& [digest, named_by] : refs) {
        r.rows_checked += static_cast<int64_t>(named_by.size());
        if (!present.count(digest)) {
            const size_t more = named_by.size() - 1;
            r.problems.push_back(
                {"missing-object", digest,
                 fmt::format("named by {}{} but not in the store", named_by.front(),
                             more == 0
                                 ? std::string{}
                                 : fmt::format(" and {} more row{}", more, more == 1 ? "" : "s"))});
        }
    }
    for (const auto& d : present) {
        r.unreferenced_objects += refs.count(d) == 0;
    }
    std::sort(r.problems.begin(), r.problems.end(), [](const Problem& a, const Problem& b) {
        return std::tie(a.kind, a.subject) < std::tie(b.kind, b.subject);
    });
    return r;
}

}  // namespace mloop::fsck
