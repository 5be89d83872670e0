#include "init/init.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "assets/assets.hpp"
#include "config/load.hpp"
#include "error/error.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::init {

namespace fs = std::filesystem;

namespace {

struct Planned {
    std::string path;
    std::string data;
    unsigned mode;
};

constexpr CiTarget k_ci_targets[] = {
    {"github", "GitHub Actions", ".github/workflows/mloop.yml", "ci/github.yml"},
    {"gitlab", "GitLab CI", ".gitlab-ci.yml", "ci/gitlab.yml"},
};

// A built-in template with {{project}} replaced; nothing else in it is special.
std::string render(std::string_view name, const std::string& project) {
    const auto* t = assets::find_template(name);
    if (t == nullptr) {
        throw std::logic_error(fmt::format("the template {} is not built in", name));
    }
    std::string out(t->data);
    const std::string_view var = "{{project}}";
    for (size_t at = out.find(var); at != std::string::npos; at = out.find(var, at)) {
        out.replace(at, var.size(), project);
        at += project.size();
    }
    return out;
}

bool valid_project_name(std::string_view name) {
    if (name.empty() || name.size() > 41 || !(name[0] >= 'a' && name[0] <= 'z')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// The name an existing project file gives, when it gives a valid one; else the directory's.
std::string project_name_in(const fs::path& file, const fs::path& dir) {
    const config::ParseResult parsed = config::read_project(file);
    if (parsed.parsed && valid_project_name(parsed.project.name)) {
        return parsed.project.name;
    }
    return project_name_for(dir);
}

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.remove_suffix(1);
        }
        out.emplace_back(line);
        start = end + 1;
    }
    return out;
}

// The patterns of `wanted` that `existing` lacks ("/.mloop" counts as ".mloop/").
std::vector<std::string> missing_patterns(std::string_view existing, std::string_view wanted) {
    auto norm = [](std::string s) {
        if (!s.empty() && s.front() == '/') {
            s.erase(0, 1);
        }
        if (!s.empty() && s.back() == '/') {
            s.pop_back();
        }
        return s;
    };
    std::vector<std::string> have;
    for (const auto& l : lines_of(existing)) {
        have.push_back(norm(l));
    }
    std::vector<std::string> out;
    for (const auto& l : lines_of(wanted)) {
        if (l.empty() || l[0] == '#') {
            continue;
        }
        if (std::find(have.begin(), have.end(), norm(l)) == have.end()) {
            out.push_back(l);
        }
    }
    return out;
}

}  // namespace

std::span<const CiTarget> ci_targets() {
    return k_ci_targets;
}

const CiTarget& ci_target(const std::string& name) {
    std::vector<std::string> names;
    for (const auto& t : k_ci_targets) {
        if (name == t.name) {
            return t;
        }
        names.emplace_back(t.name);
    }
    std::string hint = util::did_you_mean(name, names);
    if (hint.empty()) {
        hint = fmt::format("--ci takes {}", util::join(names, " or ", "'"));
    }
    throw error::UsageError(fmt::format("unknown CI system {} for --ci", util::quote(name)), hint);
}

std::string render_workflow(const CiTarget& target, const std::string& project) {
    return render(target.resource, project);
}

std::string project_name_for(const fs::path& dir) {
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(dir, ec), ec);
    std::string base = abs.filename().string();
    if (base.empty()) {
        base = abs.parent_path().filename().string();
    }
    std::string name;
    for (char c : base) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u)) {
            name += static_cast<char>(std::tolower(u));
        } else if (!name.empty() && name.back() != '-') {
            name += '-';
        }
    }
    while (!name.empty() && !(name[0] >= 'a' && name[0] <= 'z')) {
        name.erase(0, 1);
    }
    if (name.size() > 41) {
        name.resize(41);
    }
    while (!name.empty() && name.back() == '-') {
        name.pop_back();
    }
    return name.empty() ? "project" : name;
}

Result init_project(const Options& options) {
    Result r;
    r.dir = options.dir;
    if (options.ci) {
        r.ci = &ci_target(*options.ci);
    }
    std::vector<Planned> plan;
    std::error_code exists_ec;
    const fs::path project_file = options.dir / "mloop.yaml";
    if (r.ci != nullptr && !options.example && fs::is_regular_file(project_file, exists_ec)) {
        // A project already: add its workflow and leave everything else as it is.
        r.workflow_only = true;
        r.project = project_name_in(project_file, options.dir);
    } else if (options.example) {
        r.project = "churn";
        for (const auto& f : assets::example()) {
            plan.push_back({std::string(f.path), std::string(f.data), f.mode});
        }
    } else {
        r.project = project_name_for(options.dir);
        plan.push_back({"mloop.yaml", render("mloop.yaml", r.project), 0644});
    }
    if (r.ci != nullptr) {
        plan.push_back({r.ci->path, render_workflow(*r.ci, r.project), 0644});
    }
    // Refuse before writing anything, so a failed init leaves the directory as it was.
    std::vector<std::string> existing;
    std::string gitignore_text;
    bool gitignore_in_plan = false;
    for (const auto& p : plan) {
        std::error_code ec;
        if (p.path == ".gitignore") {
            gitignore_in_plan = true;
            continue;  // merged below
        }
        if (fs::symlink_status(options.dir / p.path, ec).type() != fs::file_type::not_found) {
            existing.push_back(p.path);
        }
    }
    if (!existing.empty()) {
        throw error::UsageError(
            fmt::format("'{}' already exists; mloop init never overwrites a file",
                        util::display_path(options.dir / existing.front())),
            existing.size() > 1
                ? fmt::format("{} of the files to write exist; init into an empty directory",
                              existing.size())
                : "remove it or init another directory");
    }
    const fs::path gitignore = options.dir / ".gitignore";
    std::error_code ec;
    const bool gitignore_exists = fs::exists(gitignore, ec);
    if (gitignore_exists && !r.workflow_only) {
        auto text = util::read_file(gitignore, 16 << 20);
        if (!text) {
            throw error::UsageError(text.error());
        }
        gitignore_text = std::move(text.value());
    }
    if (!gitignore_in_plan && !r.workflow_only) {
        plan.push_back({".gitignore", "# mloop's registry and content store\n.mloop/\n", 0644});
    }
    std::sort(plan.begin(), plan.end(), [](const Planned& a, const Planned& b) {
        return a.path == "mloop.yaml" || (b.path != "mloop.yaml" && a.path < b.path);
    });
    for (const auto& p : plan) {
        if (p.path == ".gitignore" && gitignore_exists) {
            r.gitignore_added = missing_patterns(gitignore_text, p.data);
            if (r.gitignore_added.empty() || options.dry_run) {
                continue;
            }
            std::string add = gitignore_text.empty() || gitignore_text.back() == '\n' ? "" : "\n";
            for (const auto& line : r.gitignore_added) {
                add += line + "\n";
            }
            FILE* f = std::fopen(gitignore.c_str(), "a");
            const bool ok = f != nullptr && std::fwrite(add.data(), 1, add.size(), f) == add.size();
            if (f == nullptr || std::fclose(f) != 0 || !ok) {
                throw error::UsageError(
                    fmt::format("cannot append to '{}'", util::display_path(gitignore)));
            }
            continue;
        }
        if (p.path == ".gitignore") {
            r.gitignore_created = true;
        }
        r.created.push_back(p.path);
        if (options.dry_run) {
            continue;
        }
        auto written = util::create_file(options.dir / p.path, p.data, p.mode);
        if (!written) {
            throw error::UsageError(written.error());
        }
    }
    return r;
}

}  // namespace mloop::init
