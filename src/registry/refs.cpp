#include "registry/refs.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::registry {

namespace fs = std::filesystem;

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool all_hex(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

std::optional<int64_t> to_id(std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
        return std::nullopt;
    }
    return v;
}

std::vector<std::string> column(Db& db, const std::string& sql, std::string_view bind = {}) {
    Stmt s = db.prepare(sql);
    if (!bind.empty()) {
        s.bind(1, bind);
    }
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(0));
    }
    return out;
}

RunRef resolve_run(Db& db, int64_t id, std::string_view text) {
    Stmt s = db.prepare("SELECT 1 FROM runs WHERE id = ?");
    s.bind(1, id);
    if (s.step()) {
        return {id};
    }
    const auto newest = column(db, "SELECT id FROM runs ORDER BY id DESC LIMIT 3");
    throw error::UsageError(fmt::format("no run {}", text),
                            newest.empty()
                                ? "nothing has been recorded yet; 'mloop train' records runs"
                                : fmt::format("the newest runs are {}", util::join(newest, ", ")));
}

// An unknown deployment names the ids nearest to it, with their environments: most often the
// number is one past the newest, and the newest are what the user meant.
DeploymentRef resolve_deployment(Db& db, int64_t id) {
    Stmt s = db.prepare("SELECT 1 FROM deployments WHERE id = ?");
    s.bind(1, id);
    if (s.step()) {
        return {id};
    }
    std::vector<std::pair<int64_t, std::string>> near;
    for (const char* sql : {"SELECT id, env FROM deployments WHERE id < ? ORDER BY id DESC LIMIT 3",
                            "SELECT id, env FROM deployments WHERE id > ? ORDER BY id LIMIT 3"}) {
        Stmt n = db.prepare(sql);
        n.bind(1, id);
        while (n.step()) {
            near.emplace_back(n.int64(0), n.text(1));
        }
    }
    const auto distance = [id](int64_t n) {
        return n > id ? n - id : id - n;
    };
    std::stable_sort(near.begin(), near.end(), [&](const auto& a, const auto& b) {
        return distance(a.first) < distance(b.first);
    });
    if (near.size() > 3) {
        near.resize(3);
    }
    std::sort(near.begin(), near.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> names;
    for (const auto& [n, env] : near) {
        names.push_back(fmt::format("deploy/{} ({})", n, env));
    }
    throw error::UsageError(
        fmt::format("no deployment {}", id),
        names.empty() ? "nothing has been deployed yet; 'mloop deploy ENV' records deployments"
                      : fmt::format("the nearest deployments are {}", util::join(names, ", ")));
}

// Objects, datasets and artifacts whose digest starts with `prefix`.
std::vector<std::string> digests_with_prefix(Db& db, std::string_view prefix) {
    std::set<std::string> found;
    const char* queries[] = {
        "SELECT digest FROM datasets WHERE digest >= ?1 AND digest < ?1 || 'g' LIMIT 10",
        "SELECT digest FROM objects WHERE digest >= ?1 AND digest < ?1 || 'g' LIMIT 10",
        "SELECT digest FROM run_inputs WHERE digest >= ?1 AND digest < ?1 || 'g' LIMIT 10",
    };
    for (const char* sql : queries) {
        for (auto& d : column(db, sql, prefix)) {
            found.insert(std::move(d));
        }
    }
    return {found.begin(), found.end()};
}

Ref resolve_digest(Db& db, std::string_view text) {
    const std::string_view hex = text.substr(7);
    if (hex.size() < 12 || !all_hex(hex) || hex.size() > 64) {
        throw error::UsageError(
            fmt::format("'{}' is not a digest reference", text),
            "write sha256: and at least 12 lowercase hex digits of the content's hash");
    }
    const auto found = digests_with_prefix(db, text);
    if (found.empty()) {
        throw error::UsageError(fmt::format("no dataset or artifact has the digest {}", text));
    }
    if (found.size() > 1) {
        throw error::UsageError(
            fmt::format("'{}' is ambiguous", text),
            fmt::format("it begins {}; give more digits", util::join(found, ", ")));
    }
    const std::string& digest = found.front();
    if (auto d = Datasets(db).by_digest(digest)) {
        return DatasetRef{digest, d, d->path};
    }
    Stmt s = db.prepare("SELECT path FROM run_inputs WHERE digest = ? LIMIT 1");
    s.bind(1, digest);
    if (s.step()) {
        return DatasetRef{digest, std::nullopt, s.text(0)};
    }
    return ArtifactRef{digest};
}

std::optional<CommitRef> find_commit(Db& db, std::string_view hex) {
    const auto commits = column(
        db,
        "SELECT DISTINCT git_commit FROM runs WHERE git_commit >= ?1 AND git_commit < ?1 || 'g' "
        "LIMIT 5",
        hex);
    if (commits.empty()) {
        return std::nullopt;
    }
    if (commits.size() > 1) {
        throw error::UsageError(
            fmt::format("commit '{}' is ambiguous", hex),
            fmt::format("it begins {}; give more digits", util::join(commits, ", ")));
    }
    return CommitRef{commits.front()};
}

}  // namespace

std::string VersionRef::text() const {
    return fmt::format("{}@{}", model, version);
}

std::optional<std::pair<std::string, std::string>> split_version(std::string_view text) {
    const size_t at = text.find('@');
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    return std::pair{std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
}

VersionRef resolve_version(Db& db, std::string_view text, const std::string& default_model) {
    auto parts = split_version(text);
    if (!parts) {
        throw error::UsageError(fmt::format("'{}' is not a model version", text),
                                "write MODEL@VERSION, MODEL@ALIAS or MODEL@latest");
    }
    auto [model, which] = *parts;
    if (model.empty()) {
        model = default_model;
    }
    Models models(db);
    const auto names = column(db, "SELECT name FROM models ORDER BY name");
    if (std::find(names.begin(), names.end(), model) == names.end()) {
        std::string hint = util::did_you_mean(model, names);
        if (hint.empty()) {
            hint = names.empty() ? "no model has a version yet; 'mloop train' registers them"
                                 : fmt::format("the models are {}", util::join(names, ", "));
        }
        throw error::UsageError(fmt::format("no model '{}'", model), hint);
    }
    if (which.empty()) {
        throw error::UsageError(fmt::format("'{}' names no version", text),
                                fmt::format("write {}@latest or {}@N", model, model));
    }
    const auto latest = models.latest_version(model);
    if (which == "latest") {
        return {model, *latest, std::nullopt};
    }
    if (all_digits(which)) {
        const auto v = to_id(which);
        if (v && *v <= *latest) {
            return {model, *v, std::nullopt};
        }
        throw error::UsageError(fmt::format("{} has no version {}", model, which),
                                fmt::format("its versions are 1 to {}", *latest));
    }
    if (auto v = models.resolve_alias(model, which)) {
        return {model, *v, which};
    }
    std::vector<std::string> aliases{"latest"};
    for (const auto& [alias, version] : models.aliases(model)) {
        aliases.push_back(alias);
    }
    std::string hint = util::did_you_mean(which, aliases);
    if (hint.empty()) {
        hint = fmt::format("{}'s aliases are {}", model, util::join(aliases, ", "));
    }
    throw error::UsageError(fmt::format("{} has no alias '{}'", model, which), hint);
}

Ref resolve(Db& db, std::string_view text, const ResolveContext& ctx) {
    if (text.empty()) {
        throw error::UsageError("an empty reference names nothing");
    }
    if (all_digits(text)) {
        if (auto id = to_id(text)) {
            return resolve_run(db, *id, text);
        }
    }
    if (util::starts_with(text, "run/")) {
        if (auto id = to_id(text.substr(4))) {
            return resolve_run(db, *id, text);
        }
        throw error::UsageError(fmt::format("'{}' is not a run reference", text),
                                "write run/N or N");
    }
    if (util::starts_with(text, "deploy/")) {
        if (auto id = to_id(text.substr(7))) {
            return resolve_deployment(db, *id);
        }
        throw error::UsageError(fmt::format("'{}' is not a deployment reference", text),
                                "write deploy/N");
    }
    if (util::starts_with(text, "sha256:")) {
        return resolve_digest(db, text);
    }
    if (text.find('@') != std::string_view::npos) {
        return resolve_version(db, text, ctx.default_model);
    }
    if (util::starts_with(text, "commit/")) {
        const auto hex = text.substr(7);
        if (hex.size() >= 4 && all_hex(hex)) {
            if (auto c = find_commit(db, hex)) {
                return *c;
            }
        }
        throw error::UsageError(fmt::format("no run was recorded at commit '{}'", hex));
    }
    const fs::path path = fs::path(text).is_absolute() ? fs::path(text) : ctx.base / text;
    std::error_code ec;
    if (fs::exists(path, ec)) {
        if (!ctx.digest_of) {
            throw error::UsageError(
                fmt::format("'{}' is a path; it cannot be resolved here", text));
        }
        const std::string digest = ctx.digest_of(path);
        auto d = Datasets(db).by_digest(digest);
        return DatasetRef{digest, d, std::string(text)};
    }
    if (text.size() >= 7 && all_hex(text)) {
        if (auto c = find_commit(db, text)) {
            return *c;
        }
    }
    // Nothing matched: a model's name, misspelt or without its '@', is the likely intent.
    const auto models = column(db, "SELECT name FROM models ORDER BY name");
    std::vector<std::string> near = util::nearest(text, models);
    if (std::find(models.begin(), models.end(), text) != models.end()) {
        near = {std::string(text)};
    }
    std::string hint;
    if (!near.empty()) {
        hint = fmt::format("did you mean '{}@latest'?", near.front());
    } else {
        hint =
            "a reference is a run (42), a model version (churn@3, churn@production), a digest "
            "(sha256:…), a commit or a path";
    }
    throw error::UsageError(fmt::format("'{}' names nothing mloop has recorded", text), hint);
}

}  // namespace mloop::registry
