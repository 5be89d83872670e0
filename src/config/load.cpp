#include "config/load.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/check.hpp"
#include "error/error.hpp"
#include "util/fs.hpp"

namespace mloop::config {

namespace fs = std::filesystem;

fs::path find_project_file(const fs::path& start, const std::optional<fs::path>& explicit_file) {
    if (explicit_file) {
        std::error_code ec;
        fs::path p = fs::absolute(*explicit_file, ec);
        if (ec || !fs::exists(p, ec)) {
            throw error::UsageError(fmt::format("cannot read '{}': no such file or directory",
                                                explicit_file->string()));
        }
        spdlog::info("project file: {}", p.lexically_normal().string());
        return p.lexically_normal();
    }
    auto found = util::find_upwards(start, k_project_file);
    if (!found) {
        throw error::UsageError(fmt::format("no {} in '{}' or any parent directory", k_project_file,
                                            fs::absolute(start).lexically_normal().string()),
                                "run 'mloop init' to create one, or name it with -f FILE");
    }
    spdlog::info("project file: {}", found->string());
    return *found;
}

ParseResult read_project(const fs::path& file) {
    const std::string shown = util::display_path(file);
    auto text = util::read_file(file, size_t{64} << 20);
    if (!text) {
        ParseResult r;
        r.project.file = file;
        r.project.root = file.parent_path();
        r.project.display_file = shown;
        error::Diagnostic d;
        d.message = text.error();
        r.diagnostics.push_back(std::move(d));
        return r;
    }
    ParseResult r = parse_project(text.value(), file, shown);
    if (r.parsed) {
        check_project(r);
    }
    spdlog::debug("{}: {} bytes, {} keys read, {} diagnostics", shown, text.value().size(),
                  r.keys_read.size(), r.diagnostics.size());
    return r;
}

Project load_project(const fs::path& file) {
    ParseResult r = read_project(file);
    for (const auto& d : r.diagnostics) {
        if (d.severity == error::Severity::error) {
            throw error::ConfigError(std::move(r.diagnostics));
        }
    }
    return std::move(r.project);
}

}  // namespace mloop::config
