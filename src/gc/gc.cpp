#include "gc/gc.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/hash_cache.hpp"
#include "store/objects.hpp"
#include "store/tree.hpp"
#include "util/fs.hpp"
#include "util/proc.hpp"

namespace mloop::gc {

namespace fs = std::filesystem;

namespace {

// Tree listings are read whole, as ObjectStore::restore reads them.
constexpr size_t k_max_tree_bytes = size_t{1} << 30;

struct StoreEntry {
    store::Digest digest;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
};

std::optional<int64_t> mtime_ns(const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::vector<StoreEntry> list_store(const store::ObjectStore& objects) {
    std::vector<StoreEntry> out;
    objects.for_each([&](const store::Digest& d, uint64_t size) {
        if (const auto m = mtime_ns(objects.path_of(d))) {
            out.push_back({d, size, *m});
        }
    });
    return out;
}

// The entries of a stored tree listing, or nullopt when the object is absent or not a listing.
std::optional<std::vector<store::TreeEntry>> read_listing(const store::ObjectStore& objects,
                                                          const store::Digest& d,
                                                          bool sniff_first) {
    const fs::path p = objects.path_of(d);
    if (sniff_first) {
        // Only an object that starts like a listing is read whole to find out (as restore does).
        const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        char head[7] = {};
        const ssize_t n = fd < 0 ? -1 : ::pread(fd, head, sizeof head, 0);
        if (fd >= 0) {
            ::close(fd);
        }
        const std::string_view start(head, n == 7 ? 7 : 0);
        if (start != "100644 " && start != "100755 " && start != "040000 " && start != "120000 ") {
            return std::nullopt;
        }
    }
    auto bytes = util::read_file(p, k_max_tree_bytes);
    if (!bytes.ok()) {
        return std::nullopt;
    }
    return store::parse_tree(bytes.value());
}

// Temporary files whose writer is gone: the ones whose lock can be taken (see objects.hpp).
size_t count_dead_temps(const fs::path& tmp) {
    size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(tmp, ec)) {
        const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) {
            continue;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            ++n;
        }
        ::close(fd);  // releases the lock
    }
    return n;
}

uint64_t bytes_under(const fs::path& dir) {
    uint64_t total = 0;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code sec;
        if (it->is_regular_file(sec) && !it->is_symlink(sec)) {
            total += it->file_size(sec);
        }
    }
    return total;
}

// Removes a run directory whatever its outputs did to the modes of their directories.
void remove_dir(const fs::path& dir) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!ec) {
        return;
    }
    // A read-only directory inside keeps its entries: make every directory ours to empty.
    std::error_code walk;
    ::chmod(dir.c_str(), 0700);
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, walk);
    for (; !walk && it != fs::recursive_directory_iterator(); it.increment(walk)) {
        std::error_code sec;
        if (it->is_directory(sec) && !it->is_symlink(sec)) {
            ::chmod(it->path().c_str(), 0700);
        }
    }
    ec.clear();
    fs::remove_all(dir, ec);
    if (ec) {
        throw error::RegistryError(fmt::format("cannot remove '{}': {}", util::display_path(dir),
                                               util::errno_message(ec.value())));
    }
}

// A run directory's name is its id, written as std::to_string writes it.
std::optional<int64_t> run_id_of(const std::string& name) {
    if (name.empty() || name.size() > 18 || name[0] == '0' ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    return std::stoll(name);
}

std::string quote_ident(const std::string& name) {
    std::string out = "\"";
    for (char c : name) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

enum class Hint { file, tree, unknown };

struct ObjectRow {
    bool tree = false;
    bool collected = false;
};

// What gc will do, worked out inside one transaction.
struct Plan {
    std::set<int64_t> kept_runs;
    std::vector<StoreEntry> doomed;
    std::vector<std::string> to_mark;    // named by a row not yet marked collected
    std::vector<std::string> to_revive;  // kept, stored, but marked collected
};

class Planner {
  public:
    Planner(registry::Db& db, const store::ObjectStore& objects, const Options& o, Result& r)
        : m_db(db), m_objects(objects), m_options(o), m_r(r) {}

    Plan plan(const std::vector<StoreEntry>& store, int64_t now_ns) {
        Plan p;
        keep_runs(p);
        read_object_rows();
        roots_of_runs(p.kept_runs);
        roots_of_other_tables();
        close();
        // Objects recent enough to be in a writer's hands: kept, with whatever they list.
        const int64_t cutoff = now_ns - static_cast<int64_t>(m_options.grace.count());
        for (const auto& e : store) {
            if (e.mtime_ns > cutoff && !m_kept.count(e.digest)) {
                ++m_r.grace_objects;
                m_work.emplace_back(e.digest, Hint::unknown);
            }
        }
        close();
        for (const auto& e : store) {
            const auto row = m_rows.find(e.digest.str());
            if (m_kept.count(e.digest)) {
                ++m_r.kept_objects;
                m_r.kept_object_bytes += e.size;
                if (row != m_rows.end() && row->second.collected) {
                    p.to_revive.push_back(row->first);
                }
                continue;
            }
            p.doomed.push_back(e);
            const bool named = row != m_rows.end() && !row->second.collected;
            if (named) {
                p.to_mark.push_back(row->first);
            }
            m_r.deleted_objects.push_back(
                {e.digest.str(), e.size, named, row == m_rows.end() ? "" : describe(row->first)});
            m_r.deleted_object_bytes += e.size;
        }
        return p;
    }

  private:
    void keep_runs(Plan& p) {
        {
            registry::Stmt s = m_db.prepare(
                "SELECT m.name, a.alias, a.version, v.run_id FROM aliases a "
                "JOIN models m ON m.id = a.model_id "
                "JOIN model_versions v ON v.model_id = a.model_id AND v.version = a.version "
                "ORDER BY m.name, a.alias");
            while (s.step()) {
                m_r.aliases.push_back({s.text(0), s.text(1), s.int64(2), s.int64(3)});
                p.kept_runs.insert(s.int64(3));
            }
        }
        m_r.deployed_runs = deployed_runs(m_db);
        p.kept_runs.insert(m_r.deployed_runs.begin(), m_r.deployed_runs.end());
        {
            registry::Stmt s = m_db.prepare("SELECT id FROM runs ORDER BY id DESC LIMIT ?");
            s.bind(1, m_options.keep_runs);
            while (s.step()) {
                m_r.recent_runs.push_back(s.int64(0));
                p.kept_runs.insert(s.int64(0));
            }
        }
        // A run still 'running' is live unless it was started on this host by a process that
        // is gone (mark_crashed's judgement; a dry run makes it without writing it down).
        const std::string host = util::host_name();
        registry::Stmt s = m_db.prepare(
            "SELECT id, host, pid, process FROM runs WHERE state = 'running' ORDER BY id");
        while (s.step()) {
            const auto identity = s.opt_text(3);
            const bool live =
                s.text(1) != host ||
                (identity && util::process_is(static_cast<pid_t>(s.int64(2)), *identity));
            if (live) {
                m_r.running_runs.push_back(s.int64(0));
                p.kept_runs.insert(s.int64(0));
            }
        }
    }

    // What a run's row says the object was, for the people reading a dry run.
    std::string describe(const std::string& digest) {
        registry::Stmt a = m_db.prepare(
            "SELECT path, run_id FROM artifacts WHERE digest = ? ORDER BY run_id DESC LIMIT 1");
        a.bind(1, digest);
        if (a.step()) {
            return fmt::format("{} of run {}", a.text(0), a.int64(1));
        }
        registry::Stmt o = m_db.prepare(
            "SELECT path, stage, run_id FROM stage_outputs WHERE digest = ? "
            "ORDER BY run_id DESC LIMIT 1");
        o.bind(1, digest);
        if (o.step()) {
            return fmt::format("{} of stage {} of run {}", o.text(0), o.text(1), o.int64(2));
        }
        if (!m_snapshots) {
            // datasets.snapshot has no index: one scan, the first time it is needed.
            m_snapshots.emplace();
            registry::Stmt d = m_db.prepare(
                "SELECT snapshot, path FROM datasets WHERE snapshot IS NOT NULL ORDER BY id");
            while (d.step()) {
                (*m_snapshots)[d.text(0)] = d.text(1);
            }
        }
        const auto d = m_snapshots->find(digest);
        return d == m_snapshots->end() ? "" : fmt::format("the snapshot of dataset {}", d->second);
    }

    void read_object_rows() {
        registry::Stmt s = m_db.prepare("SELECT digest, kind, collected_at FROM objects");
        while (s.step()) {
            m_rows[s.text(0)] = {s.text(1) == "tree", !s.is_null(2)};
        }
    }

    void add(const std::string& text, Hint hint) {
        if (const auto d = store::Digest::parse(text)) {
            m_work.emplace_back(*d, hint);
        }
    }

    void roots_of_runs(const std::set<int64_t>& runs) {
        registry::Stmt a = m_db.prepare("SELECT digest FROM artifacts WHERE run_id = ?");
        // The datasets a run read, by id, or by content where an input row lacks the id.
        registry::Stmt d = m_db.prepare(
            "SELECT d.snapshot, d.kind FROM run_inputs i JOIN datasets d ON d.id = i.dataset_id "
            "WHERE i.run_id = ?1 AND d.snapshot IS NOT NULL "
            "UNION SELECT d.snapshot, d.kind FROM run_inputs i JOIN datasets d "
            "ON d.digest = i.digest WHERE i.run_id = ?1 AND d.snapshot IS NOT NULL");
        registry::Stmt o = m_db.prepare("SELECT digest, kind FROM stage_outputs WHERE run_id = ?");
        for (int64_t run : runs) {
            a.bind(1, run);
            while (a.step()) {
                add(a.text(0), Hint::unknown);
            }
            a.reset();
            d.bind(1, run);
            while (d.step()) {
                add(d.text(0), d.text(1) == "tree" ? Hint::tree : Hint::unknown);
            }
            d.reset();
            o.bind(1, run);
            while (o.step()) {
                add(o.text(0), o.text(1) == "tree" ? Hint::tree : Hint::unknown);
            }
            o.reset();
        }
    }

    // A table that names objects but that gc was not taught about keeps all it names.
    void roots_of_other_tables() {
        static const std::set<std::pair<std::string, std::string>> k_known = {
            {"artifacts", "digest"}, {"datasets", "snapshot"}, {"stage_outputs", "digest"}};
        std::vector<std::pair<std::string, std::string>> others;
        {
            registry::Stmt s = m_db.prepare(
                "SELECT m.name, f.\"from\" FROM sqlite_master m "
                "JOIN pragma_foreign_key_list(m.name) f "
                "WHERE m.type = 'table' AND f.\"table\" = 'objects' ORDER BY m.name");
            while (s.step()) {
                std::pair<std::string, std::string> ref{s.text(0), s.text(1)};
                if (!k_known.count(ref)) {
                    others.push_back(std::move(ref));
                }
            }
        }
        for (const auto& [table, column] : others) {
            registry::Stmt s =
                m_db.prepare(fmt::format("SELECT DISTINCT {0} FROM {1} WHERE {0} "
                                         "IS NOT NULL",
                                         quote_ident(column), quote_ident(table)));
            int64_t n = 0;
            while (s.step()) {
                add(s.text(0), Hint::unknown);
                ++n;
            }
            m_r.other_refs[table + "." + column] = n;
        }
    }

    // Everything reachable from the work list: a kept tree keeps what it lists.
    void close() {
        while (!m_work.empty()) {
            const auto [d, given] = m_work.back();
            m_work.pop_back();
            m_kept.insert(d);
            Hint hint = given;
            if (hint == Hint::unknown) {
                const auto row = m_rows.find(d.str());
                if (row != m_rows.end()) {
                    hint = row->second.tree ? Hint::tree : Hint::file;
                }
            }
            if (hint == Hint::file || !m_expanded.insert(d).second) {
                continue;
            }
            const auto entries = read_listing(m_objects, d, hint == Hint::unknown);
            if (!entries) {
                continue;
            }
            for (const auto& e : *entries) {
                m_work.emplace_back(e.digest,
                                    e.kind == store::EntryKind::dir ? Hint::tree : Hint::file);
            }
        }
    }

    registry::Db& m_db;
    const store::ObjectStore& m_objects;
    const Options& m_options;
    Result& m_r;
    std::unordered_map<std::string, ObjectRow> m_rows;
    std::optional<std::unordered_map<std::string, std::string>> m_snapshots;
    std::vector<std::pair<store::Digest, Hint>> m_work;
    std::unordered_set<store::Digest> m_kept;
    std::unordered_set<store::Digest> m_expanded;
};

// The run directories to delete: those of runs of this registry that nothing keeps.
void plan_run_dirs(registry::Db& db, const workspace::Paths& paths, const Plan& p, Result& r) {
    std::error_code ec;
    std::vector<std::pair<int64_t, fs::path>> runs;
    for (const auto& e : fs::directory_iterator(paths.runs, ec)) {
        const auto id = run_id_of(e.path().filename().string());
        std::error_code sec;
        if (!id || !e.is_directory(sec) || e.is_symlink(sec)) {
            r.left_alone.push_back(e.path());
            continue;
        }
        runs.emplace_back(*id, e.path());
    }
    std::sort(runs.begin(), runs.end());
    registry::Stmt exists = db.prepare("SELECT 1 FROM runs WHERE id = ?");
    for (const auto& [id, path] : runs) {
        if (p.kept_runs.count(id)) {
            ++r.kept_run_dirs;
            continue;
        }
        exists.bind(1, id);
        const bool known = exists.step();
        exists.reset();
        if (!known) {
            r.left_alone.push_back(path);
            continue;
        }
        const uint64_t bytes = bytes_under(path);
        r.deleted_run_dirs.push_back({id, path, bytes});
        r.deleted_run_dir_bytes += bytes;
    }
    std::sort(r.left_alone.begin(), r.left_alone.end());
}

}  // namespace

std::vector<int64_t> deployed_runs(registry::Db& db) {
    // Every version that has been live somewhere keeps its training run: a rollback may need
    // it again, and lineage from a deployment must reach its data.
    registry::Stmt s = db.prepare(
        "SELECT DISTINCT v.run_id FROM deployments d "
        "JOIN model_versions v ON v.model_id = d.model_id AND v.version = d.version "
        "WHERE d.state = 'succeeded' ORDER BY v.run_id");
    std::vector<int64_t> out;
    while (s.step()) {
        out.push_back(s.int64(0));
    }
    return out;
}

Result collect(const workspace::Paths& paths, const Options& options) {
    if (options.keep_runs < 0) {
        throw error::UsageError("--keep must be 0 or more");
    }
    Result r;
    r.dry_run = options.dry_run;
    r.keep_runs = options.keep_runs;
    r.grace = options.grace;
    store::ObjectStore objects(paths.objects);

    std::error_code ec;
    if (!fs::exists(paths.registry, ec)) {
        objects.for_each([&](const store::Digest&, uint64_t) { ++r.store_objects; });
        r.temp_files =
            options.dry_run ? count_dead_temps(paths.objects / "tmp") : objects.sweep_temp();
        return r;
    }
    r.registry_present = true;
    registry::OpenOptions o;
    o.create = false;
    auto reg = registry::Registry::open(paths.registry, o);
    registry::Db& db = reg->db();
    if (!options.dry_run) {
        r.crashed_runs = registry::Runs(db).mark_crashed();
    }

    // Listed before the transaction, so the write lock is not held while the store is read;
    // anything written after this is not in the list, and so not touched.
    const std::vector<StoreEntry> store = list_store(objects);
    r.store_objects = static_cast<int64_t>(store.size());
    const int64_t now_ns = store::wall_clock_ns();
    const int64_t stamp = registry::now_ms();

    auto work = [&] {
        Planner planner(db, objects, options, r);
        Plan p = planner.plan(store, now_ns);
        plan_run_dirs(db, paths, p, r);
        if (options.dry_run) {
            return p;
        }
        // The rows first: a crash after this commit leaves bytes no row expects, never a row
        // whose bytes are gone.
        registry::Stmt mark = db.prepare(
            "UPDATE objects SET collected_at = ? WHERE digest = ? AND collected_at IS NULL");
        for (const auto& d : p.to_mark) {
            mark.bind_all(stamp, d).run();
        }
        registry::Stmt revive =
            db.prepare("UPDATE objects SET collected_at = NULL WHERE digest = ?");
        for (const auto& d : p.to_revive) {
            revive.bind_all(d).run();
            ++r.revived;
        }
        registry::Events(db).append("gc", "store",
                                    nlohmann::json{{"objects", r.deleted_objects.size()},
                                                   {"bytes", r.deleted_object_bytes},
                                                   {"run_dirs", r.deleted_run_dirs.size()},
                                                   {"keep", options.keep_runs}}
                                        .dump());
        return p;
    };
    const Plan p = options.dry_run ? db.read(work) : db.write(work);

    if (options.dry_run) {
        r.temp_files = count_dead_temps(paths.objects / "tmp");
        return r;
    }
    // An object re-used since it was listed (its writer freshened it and is about to record it)
    // stays, and its mark is cleared again.
    std::vector<std::string> reused;
    for (const auto& e : p.doomed) {
        const auto m = mtime_ns(objects.path_of(e.digest));
        if (m && *m > store::wall_clock_ns() - static_cast<int64_t>(options.grace.count())) {
            reused.push_back(e.digest.str());
            continue;
        }
        objects.remove(e.digest);
    }
    if (!reused.empty()) {
        r.reused = static_cast<int64_t>(reused.size());
        std::erase_if(r.deleted_objects, [&](const DeletedObject& gone) {
            if (std::find(reused.begin(), reused.end(), gone.digest) == reused.end()) {
                return false;
            }
            r.deleted_object_bytes -= gone.size;
            return true;
        });
        db.write([&] {
            registry::Stmt unmark = db.prepare(
                "UPDATE objects SET collected_at = NULL WHERE digest = ? AND collected_at = ?");
            for (const auto& d : reused) {
                unmark.bind_all(d, stamp).run();
            }
        });
    }
    for (const auto& d : r.deleted_run_dirs) {
        remove_dir(d.path);
    }
    r.temp_files = objects.sweep_temp();
    return r;
}

}  // namespace mloop::gc
