#include "util/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mloop::util {

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

}  // namespace

std::string errno_message(int err) {
    std::string s = std::strerror(err);
    if (!s.empty()) {
        s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    }
    return s;
}

Result<std::string> read_file(const fs::path& path, size_t max_bytes) {
    const std::string shown = display_path(path);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (f.fd < 0) {
        return Failure{fmt::format("cannot read '{}': {}", shown, errno_message(errno))};
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        return Failure{fmt::format("cannot read '{}': {}", shown, errno_message(errno))};
    }
    if (S_ISDIR(st.st_mode)) {
        return Failure{fmt::format("cannot read '{}': is a directory", shown)};
    }
    if (!S_ISREG(st.st_mode)) {
        return Failure{fmt::format("cannot read '{}': not a regular file", shown)};
    }
    if (static_cast<size_t>(st.st_size) > max_bytes) {
        return Failure{fmt::format("cannot read '{}': file is {} bytes, more than the limit of {}",
                                   shown, st.st_size, max_bytes)};
    }
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
        const ssize_t n = ::read(f.fd, data.data() + got, data.size() - got);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Failure{fmt::format("cannot read '{}': {}", shown, errno_message(errno))};
        }
        if (n == 0) {
            break;
        }
        got += static_cast<size_t>(n);
    }
    data.resize(got);
    return data;
}

Result<bool> create_file(const fs::path& path, std::string_view data, mode_t mode) {
    const std::string shown = display_path(path);
    std::error_code ec;
    if (path.has_parent_path()) {
        fs::create_directories(path.parent_path(), ec);
        if (ec) {
            return Failure{fmt::format("cannot create '{}': {}", display_path(path.parent_path()),
                                       ec.message())};
        }
    }
    Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
    if (f.fd < 0) {
        if (errno == EEXIST) {
            return Failure{fmt::format("'{}' already exists", shown)};
        }
        return Failure{fmt::format("cannot create '{}': {}", shown, errno_message(errno))};
    }
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Failure{fmt::format("cannot write '{}': {}", shown, errno_message(errno))};
        }
        done += static_cast<size_t>(n);
    }
    // The umask must not widen or narrow what the caller asked for (scripts stay executable).
    if (::fchmod(f.fd, mode) != 0) {
        return Failure{fmt::format("cannot set mode of '{}': {}", shown, errno_message(errno))};
    }
    return true;
}

std::optional<fs::path> find_upwards(const fs::path& dir, std::string_view name) {
    std::error_code ec;
    fs::path cur = fs::absolute(dir, ec);
    if (ec) {
        return std::nullopt;
    }
    cur = cur.lexically_normal();
    while (true) {
        fs::path candidate = cur / name;
        if (fs::symlink_status(candidate, ec).type() != fs::file_type::not_found && !ec) {
            return candidate;
        }
        if (!cur.has_relative_path()) {
            return std::nullopt;
        }
        fs::path parent = cur.parent_path();
        if (parent == cur) {
            return std::nullopt;
        }
        cur = parent;
    }
}

bool resolves_beneath(const fs::path& dir, const fs::path& path) {
    std::error_code ec;
    const fs::path real_dir = fs::weakly_canonical(dir, ec);
    if (ec) {
        return false;
    }
    const fs::path real = fs::weakly_canonical(path, ec);
    if (ec) {
        return false;
    }
    const auto [a, b] = std::mismatch(real_dir.begin(), real_dir.end(), real.begin(), real.end());
    return a == real_dir.end();
}

std::string display_path(const fs::path& path) {
    if (path.is_relative()) {
        return path.lexically_normal().string();
    }
    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    if (ec) {
        return path.string();
    }
    // Relative like git shows it ("../../mloop.yaml"), unless that climbs most of the way to /.
    const fs::path rel = path.lexically_normal().lexically_relative(cwd);
    int ups = 0;
    for (const auto& part : rel) {
        ups += part == "..";
    }
    if (rel.empty() || ups > 3) {
        return path.lexically_normal().string();
    }
    return rel.string();
}

}  // namespace mloop::util
