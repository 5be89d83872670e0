#include "net/http.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/fs.hpp"

namespace mloop::net {

using Clock = std::chrono::steady_clock;

namespace {

class Fd {
  public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return m_fd; }

  private:
    int m_fd;
};

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, remaining_ms(deadline));
        if (rc > 0) {
            return true;
        }
        if (rc == 0) {
            return false;
        }
        if (errno != EINTR) {
            return false;
        }
    }
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return s;
}

// Decodes a chunked body; nullopt when it is malformed or incomplete.
std::optional<std::string> dechunk(const std::string& raw) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        const size_t eol = raw.find("\r\n", pos);
        if (eol == std::string::npos) {
            return std::nullopt;
        }
        size_t size = 0;
        try {
            size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
        } catch (...) {
            return std::nullopt;
        }
        pos = eol + 2;
        if (size == 0) {
            return out;
        }
        if (pos + size > raw.size()) {
            return std::nullopt;
        }
        out.append(raw, pos, size);
        pos += size + 2;
    }
}

}  // namespace

util::Result<Url> parse_url(const std::string& text) {
    const std::string scheme = "http://";
    if (text.rfind(scheme, 0) != 0) {
        return util::Failure{text.rfind("https://", 0) == 0
                                 ? "https is not supported; use http"
                                 : fmt::format("'{}' is not an http:// URL", text)};
    }
    Url u;
    const std::string rest = text.substr(scheme.size());
    const size_t slash = rest.find_first_of("/?");
    std::string authority = rest.substr(0, slash);
    u.target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (!u.target.empty() && u.target[0] == '?') {
        u.target = "/" + u.target;
    }
    if (authority.find('@') != std::string::npos) {
        return util::Failure{"credentials in the URL are not supported"};
    }
    const size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
        const std::string port = authority.substr(colon + 1);
        if (port.empty() || port.size() > 5 ||
            port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 ||
            std::stoi(port) > 65535) {
            return util::Failure{fmt::format("'{}' has no valid port", text)};
        }
        u.port = std::stoi(port);
        authority.resize(colon);
    }
    if (authority.empty()) {
        return util::Failure{fmt::format("'{}' names no host", text)};
    }
    u.host = authority;
    return u;
}

std::string url_encode(const std::string& value) {
    std::string out;
    for (const unsigned char c : value) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

util::Result<Response> send(const Request& req) {
    const auto deadline = Clock::now() + req.timeout;
    const std::string where = fmt::format("{}:{}", req.url.host, req.url.port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(req.url.port);
    if (const int rc = ::getaddrinfo(req.url.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return util::Failure{
            fmt::format("cannot resolve '{}': {}", req.url.host, ::gai_strerror(rc))};
    }
    std::string last_error = "no address";
    int connected = -1;
    for (addrinfo* a = found; a != nullptr && connected < 0; a = a->ai_next) {
        const int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            last_error = util::errno_message(errno);
            continue;
        }
        Fd guard(fd);
        if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last_error = util::errno_message(errno);
            continue;
        }
        if (!wait_for(fd, POLLOUT, deadline)) {
            last_error = "connection timed out";
            continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            last_error = util::errno_message(err);
            continue;
        }
        connected = ::dup(fd);
    }
    ::freeaddrinfo(found);
    if (connected < 0) {
        return util::Failure{fmt::format("cannot connect to {}: {}", where, last_error)};
    }
    Fd sock(connected);
    ::fcntl(connected, F_SETFD, FD_CLOEXEC);
    ::fcntl(connected, F_SETFL, ::fcntl(connected, F_GETFL) | O_NONBLOCK);

    std::string out = fmt::format(
        "{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
        "User-Agent: mloop\r\n",
        req.method, req.url.target, where);
    for (const auto& [k, v] : req.headers) {
        out += k + ": " + v + "\r\n";
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
        out += fmt::format("Content-Length: {}\r\n", req.body.size());
    }
    out += "\r\n";
    out += req.body;
    size_t sent = 0;
    while (sent < out.size()) {
        const ssize_t n = ::send(connected, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(connected, POLLOUT, deadline)) {
                return util::Failure{
                    fmt::format("no answer from {} within {} ms", where, req.timeout.count())};
            }
        } else {
            return util::Failure{
                fmt::format("cannot send to {}: {}", where, util::errno_message(errno))};
        }
    }

    std::string in;
    char buf[16384];
    for (;;) {
        const ssize_t n = ::recv(connected, buf, sizeof buf, 0);
        if (n > 0) {
            in.append(buf, static_cast<size_t>(n));
            if (in.size() > req.max_body + 65536) {
                return util::Failure{fmt::format("the answer from {} is too large", where)};
            }
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_for(connected, POLLIN, deadline)) {
                return util::Failure{
                    fmt::format("no answer from {} within {} ms", where, req.timeout.count())};
            }
        } else {
            return util::Failure{
                fmt::format("cannot read from {}: {}", where, util::errno_message(errno))};
        }
    }

    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos || in.rfind("HTTP/", 0) != 0) {
        return util::Failure{fmt::format("{} did not answer with HTTP", where)};
    }
    Response r;
    const size_t sp = in.find(' ');
    try {
        r.status = std::stoi(in.substr(sp + 1, 3));
    } catch (...) {
        return util::Failure{fmt::format("{} sent a malformed status line", where)};
    }
    size_t pos = in.find("\r\n") + 2;
    while (pos < head_end) {
        const size_t eol = in.find("\r\n", pos);
        const std::string line = in.substr(pos, eol - pos);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') {
                value.erase(0, 1);
            }
            r.headers[lower(line.substr(0, colon))] = value;
        }
        pos = eol + 2;
    }
    std::string body = in.substr(head_end + 4);
    if (lower(r.headers["transfer-encoding"]).find("chunked") != std::string::npos) {
        auto plain = dechunk(body);
        if (!plain) {
            return util::Failure{fmt::format("{} sent a malformed chunked body", where)};
        }
        body = std::move(*plain);
    } else if (r.headers.count("content-length")) {
        size_t want = 0;
        try {
            want = std::stoul(r.headers["content-length"]);
        } catch (...) {
            want = body.size();
        }
        if (body.size() < want) {
            return util::Failure{fmt::format("{} closed the connection mid-answer", where)};
        }
        body.resize(want);
    }
    r.body = std::move(body);
    return r;
}

}  // namespace mloop::net
