#include "workspace/workspace.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/fs.hpp"

namespace mloop::workspace {

namespace fs = std::filesystem;

Paths paths_for(const fs::path& project_root, const std::string& registry_option) {
    Paths p;
    p.root = project_root;
    p.state = project_root / ".mloop";
    p.objects = p.state / "objects";
    p.cache = p.state / "cache";
    p.runs = p.state / "runs";
    std::string reg = registry_option;
    if (reg.empty()) {
        if (const char* env = std::getenv("MLOOP_REGISTRY"); env != nullptr && *env != '\0') {
            reg = env;
        }
    }
    p.registry = reg.empty() ? p.state / "registry.db" : fs::absolute(reg);
    return p;
}

void make_private_dir(const fs::path& dir) {
    if (dir.empty()) {
        return;
    }
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
        return;
    }
    if (dir.has_parent_path() && dir.parent_path() != dir) {
        make_private_dir(dir.parent_path());
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        throw error::RegistryError(fmt::format("cannot create '{}': {}", util::display_path(dir),
                                               util::errno_message(errno)));
    }
    // mkdir's mode is filtered by the umask; state directories are private whatever it is.
    if (::chmod(dir.c_str(), 0700) != 0) {
        throw error::RegistryError(fmt::format("cannot set the mode of '{}': {}",
                                               util::display_path(dir),
                                               util::errno_message(errno)));
    }
}

}  // namespace mloop::workspace
