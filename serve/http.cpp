#include "http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace mloop::serve {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t k_max_queued_connections = 1024;
constexpr size_t k_max_chunk_line = 1024;
constexpr int k_send_timeout_s = 10;
constexpr int k_linger_ms = 500;

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = lower(c);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// RFC 9110 token characters, for methods and header names.
bool is_token(std::string_view s) {
    if (s.empty())
        return false;
    for (unsigned char c : s) {
        if (c <= 32 || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr)
            return false;
    }
    return true;
}

// Whether the comma-separated header value lists `token` (case-insensitively).
bool lists_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        size_t comma = value.find(',');
        if (iequals(trim_ows(value.substr(0, comma)), token))
            return true;
        if (comma == std::string_view::npos)
            break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

const std::string* find_header(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key == name)
            return &value;
    }
    return nullptr;
}

// Bytes read from one client socket, waiting with poll(2) on the socket and the wake pipe so
// that stop() interrupts every wait at once.
class Connection {
  public:
    enum class Read { data, eof, timeout, stopped, error };

    Connection(int fd, int wake_fd) : m_fd(fd), m_wake_fd(wake_fd) {}

    std::string_view buffered() const { return std::string_view(m_buf).substr(m_pos); }
    void consume(size_t n) { m_pos += n; }
    void compact() {
        m_buf.erase(0, m_pos);
        m_pos = 0;
    }

    Read fill(Clock::time_point deadline) {
        for (;;) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0)
                return Read::timeout;
            pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_wake_fd, POLLIN, 0}};
            int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 60000)));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return Read::error;
            }
            if (fds[1].revents != 0)
                return Read::stopped;
            if (n == 0)
                continue;
            char chunk[16384];
            ssize_t got = ::recv(m_fd, chunk, sizeof chunk, 0);
            if (got < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                    continue;
                return Read::error;
            }
            if (got == 0)
                return Read::eof;
            m_buf.append(chunk, static_cast<size_t>(got));
            return Read::data;
        }
    }

    // Fills until at least `n` bytes are buffered.
    Read ensure(size_t n, Clock::time_point deadline) {
        while (buffered().size() < n) {
            Read r = fill(deadline);
            if (r != Read::data)
                return r;
        }
        return Read::data;
    }

    bool send_all(std::string_view data) const {
        while (!data.empty()) {
            ssize_t sent = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (sent < 0) {
                if (errno == EINTR)
                    continue;
                return false;  // EAGAIN here is SO_SNDTIMEO expiring: a client that stopped reading
            }
            data.remove_prefix(static_cast<size_t>(sent));
        }
        return true;
    }

    // Before closing, the client may still be sending (a body after an error, pipelined
    // requests): half-close, then read and drop what comes for a moment, so that unread data
    // does not make the kernel reset the connection before the client has read the response.
    void linger() {
        ::shutdown(m_fd, SHUT_WR);
        auto deadline = Clock::now() + std::chrono::milliseconds(k_linger_ms);
        size_t dropped = 0;
        while (dropped < (1u << 20) && fill(deadline) == Read::data) {
            dropped += buffered().size();
            m_buf.clear();
            m_pos = 0;
        }
    }

  private:
    int m_fd;
    int m_wake_fd;
    std::string m_buf;
    size_t m_pos = 0;
};

// An idle keep-alive connection holds a worker: give it up when a new connection is waiting
// for one, or after the keep-alive timeout.
template <typename Waiting>
bool wait_for_request(Connection& c, int timeout_ms, Waiting waiting) {
    auto idle_end = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto slice = std::min(idle_end, Clock::now() + std::chrono::milliseconds(50));
        Connection::Read r = c.fill(slice);
        if (r == Connection::Read::data)
            return true;
        if (r != Connection::Read::timeout || Clock::now() >= idle_end || waiting())
            return false;
    }
}

// The outcome of reading one request: 0 for a complete request, an HTTP status for a
// malformed one, or k_close to drop the connection without an answer.
constexpr int k_close = -1;

int status_for(Connection::Read r) {
    return r == Connection::Read::timeout ? 408 : k_close;
}

// Index just past the blank line that ends the header section, or npos.
size_t header_end(std::string_view s) {
    size_t i = 0;
    for (;;) {
        size_t nl = s.find('\n', i);
        if (nl == std::string_view::npos)
            return nl;
        if (nl == i || (nl == i + 1 && s[i] == '\r'))
            return nl + 1;
        i = nl + 1;
    }
}

std::vector<std::string_view> lines_of(std::string_view s) {
    std::vector<std::string_view> lines;
    while (!s.empty()) {
        size_t nl = s.find('\n');
        std::string_view line = s.substr(0, nl);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        lines.push_back(line);
        if (nl == std::string_view::npos)
            break;
        s.remove_prefix(nl + 1);
    }
    return lines;
}

struct Framing {
    bool keep_alive = true;
    bool chunked = false;
    size_t content_length = 0;
    bool expect_continue = false;
};

// Parses the request line and headers (without the blank line that ends them).
int parse_head(std::string_view head, const ServerOptions& options, Request& req,
               Framing& framing) {
    std::vector<std::string_view> lines = lines_of(head);
    if (lines.empty())
        return 400;
    std::string_view line = lines[0];
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return 400;
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty() || target[0] != '/')
        return 400;
    for (unsigned char c : target) {
        if (c <= 32 || c >= 127)
            return 400;
    }
    bool http11 = version == "HTTP/1.1";
    if (!http11 && version != "HTTP/1.0")
        return version.starts_with("HTTP/") ? 505 : 400;
    req.method = method;
    req.target = target;
    req.path = target.substr(0, target.find('?'));

    for (size_t i = 1; i < lines.size(); ++i) {
        std::string_view h = lines[i];
        if (h.empty())
            break;  // the blank line that ends the section
        size_t colon = h.find(':');
        // A name with spaces around it, or a folded continuation line, is refused (RFC 9112).
        if (colon == std::string_view::npos || !is_token(h.substr(0, colon)))
            return 400;
        req.headers.emplace_back(lowercase(h.substr(0, colon)), trim_ows(h.substr(colon + 1)));
    }
    const std::string* content_length = nullptr;
    int encodings = 0;
    for (const auto& [name, value] : req.headers) {
        if (name == "transfer-encoding") {
            ++encodings;
        } else if (name == "content-length") {
            // Differing lengths: a smuggling attempt or a broken proxy.
            if (content_length != nullptr && *content_length != value)
                return 400;
            content_length = &value;
        }
    }
    if (encodings > 0) {
        if (content_length != nullptr)
            return 400;  // both: as above
        const std::string* encoding = find_header(req.headers, "transfer-encoding");
        if (encodings > 1 || !iequals(*encoding, "chunked"))
            return 501;
        framing.chunked = true;
    } else if (content_length != nullptr) {
        const std::string& v = *content_length;
        size_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (!v.empty() && ec == std::errc::result_out_of_range)
            return 413;
        if (v.empty() || ec != std::errc() || end != v.data() + v.size())
            return 400;
        if (n > options.max_body_bytes)
            return 413;
        framing.content_length = n;
    }
    const std::string* connection = find_header(req.headers, "connection");
    if (http11) {
        framing.keep_alive = connection == nullptr || !lists_token(*connection, "close");
    } else {
        framing.keep_alive = connection != nullptr && lists_token(*connection, "keep-alive");
    }
    const std::string* expect = find_header(req.headers, "expect");
    if (expect != nullptr) {
        if (!iequals(*expect, "100-continue"))
            return 417;
        framing.expect_continue = http11;
    }
    return 0;
}

int read_chunked(Connection& c, Clock::time_point deadline, size_t max_body, std::string& body) {
    for (;;) {
        size_t nl;
        while ((nl = c.buffered().find('\n')) == std::string_view::npos) {
            if (c.buffered().size() > k_max_chunk_line)
                return 400;
            Connection::Read r = c.fill(deadline);
            if (r != Connection::Read::data)
                return status_for(r);
        }
        std::string_view line = c.buffered().substr(0, nl);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        line = trim_ows(line.substr(0, line.find(';')));
        size_t size = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || ec != std::errc() || end != line.data() + line.size()) {
            return ec == std::errc::result_out_of_range ? 413 : 400;
        }
        c.consume(nl + 1);
        if (size == 0)
            break;
        if (size > max_body - body.size())
            return 413;
        Connection::Read r = c.ensure(size + 2, deadline);
        if (r != Connection::Read::data)
            return status_for(r);
        std::string_view data = c.buffered();
        if (data.substr(size, 2) != "\r\n")
            return 400;
        body.append(data.substr(0, size));
        c.consume(size + 2);
    }
    // Trailer fields, ignored, up to the blank line.
    size_t end;
    while ((end = header_end(c.buffered())) == std::string_view::npos) {
        if (c.buffered().size() > k_max_chunk_line)
            return 431;
        Connection::Read r = c.fill(deadline);
        if (r != Connection::Read::data)
            return status_for(r);
    }
    c.consume(end);
    return 0;
}

std::string serialize(const Response& res, bool keep_alive, bool head_only) {
    std::string out;
    out.reserve(256 + res.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(res.status);
    out += ' ';
    out += Server::reason(res.status);
    out += "\r\nContent-Type: ";
    out += res.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(res.body.size());
    out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
    for (const auto& [name, value] : res.headers) {
        out += "\r\n";
        out += name;
        out += ": ";
        out += value;
    }
    out += "\r\n\r\n";
    if (!head_only)
        out += res.body;
    return out;
}

Response error_response(int status) {
    Response res;
    res.status = status;
    res.content_type = "application/json";
    res.body = std::string("{\"error\":\"") + Server::reason(status) + "\"}\n";
    return res;
}

void close_fd(int& fd) {
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

}  // namespace

struct Server::Queue {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<int> fds;
    bool stopping = false;
};

Server::Server(ServerOptions options, Handler handler, Observer observer)
    : m_options(std::move(options)),
      m_handler(std::move(handler)),
      m_observer(std::move(observer)),
      m_queue(std::make_unique<Queue>()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    m_wake_read = fds[0];
    m_wake_write = fds[1];
}

Server::~Server() {
    close_fd(m_listen_fd);
    close_fd(m_wake_read);
    close_fd(m_wake_write);
}

void Server::listen() {
    sockaddr_storage addr{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    std::string host = m_options.host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(m_options.port);
        len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(m_options.port);
        len = sizeof *v6;
    } else {
        throw std::runtime_error("'" + m_options.host + "' is not a numeric IPv4 or IPv6 address");
    }
    std::string where = m_options.host + ":" + std::to_string(m_options.port);
    int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("cannot create a socket: " + std::string(std::strerror(errno)));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 512) != 0) {
        int err = errno;
        ::close(fd);
        throw std::runtime_error("cannot listen on " + where + ": " + std::strerror(err));
    }
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    m_port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                              : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    m_listen_fd = fd;
}

void Server::stop() const {
    char byte = 1;
    // Nothing to do about a failure here: a full pipe already wakes everyone.
    [[maybe_unused]] ssize_t n = ::write(m_wake_write, &byte, 1);
}

void Server::run() {
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(std::max(1, m_options.threads)));
    for (int i = 0; i < std::max(1, m_options.threads); ++i)
        workers.emplace_back([this] { worker(); });
    accept_loop();
    {
        std::lock_guard lock(m_queue->mutex);
        m_queue->stopping = true;
    }
    m_queue->ready.notify_all();
    for (auto& t : workers)
        t.join();
    for (int fd : m_queue->fds)
        ::close(fd);
    m_queue->fds.clear();
    close_fd(m_listen_fd);
}

void Server::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_wake_read, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            std::fprintf(stderr, "mloop-serve: error: poll: %s\n", std::strerror(errno));
            return;
        }
        if (fds[1].revents != 0)
            return;
        if (fds[0].revents == 0)
            continue;
        int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // Out of descriptors or memory: wait a little rather than spin on the backlog.
                std::fprintf(stderr, "mloop-serve: error: accept: %s\n", std::strerror(errno));
                pollfd wake = {m_wake_read, POLLIN, 0};
                ::poll(&wake, 1, 100);
            }
            continue;
        }
        timeval tv{k_send_timeout_s, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        {
            std::unique_lock lock(m_queue->mutex);
            if (m_queue->fds.size() < k_max_queued_connections) {
                m_queue->fds.push_back(fd);
                lock.unlock();
                m_queue->ready.notify_one();
                continue;
            }
        }
        static constexpr std::string_view busy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        [[maybe_unused]] ssize_t n =
            ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        if (m_observer)
            m_observer(Request{}, error_response(503), 0.0);
    }
}

void Server::worker() {
    for (;;) {
        int fd;
        {
            std::unique_lock lock(m_queue->mutex);
            m_queue->ready.wait(lock, [&] { return m_queue->stopping || !m_queue->fds.empty(); });
            if (m_queue->stopping)
                return;
            fd = m_queue->fds.front();
            m_queue->fds.pop_front();
        }
        try {
            serve_connection(fd);
        } catch (const std::exception& e) {
            // Only allocation failures get here: the handler's own exceptions became a 500.
            std::fprintf(stderr, "mloop-serve: error: %s\n", e.what());
        }
        ::close(fd);
    }
}

bool Server::connections_waiting() const {
    std::lock_guard lock(m_queue->mutex);
    return !m_queue->fds.empty();
}

void Server::serve_connection(int fd) {
    Connection c(fd, m_wake_read);
    for (int served = 0; served < m_options.max_requests_per_connection; ++served) {
        c.compact();
        // Blank lines before a request are allowed (RFC 9112 2.2).
        auto skip_blank = [&c] {
            std::string_view b = c.buffered();
            size_t n = b.find_first_not_of("\r\n");
            c.consume(n == std::string_view::npos ? b.size() : n);
        };
        skip_blank();
        if (c.buffered().empty()) {
            if (!wait_for_request(c, m_options.keepalive_timeout_ms,
                                  [this] { return connections_waiting(); }))
                return;
            skip_blank();
        }
        Clock::time_point start = Clock::now();
        Clock::time_point deadline = start + std::chrono::milliseconds(m_options.read_timeout_ms);
        Request req;
        Framing framing;
        int status = 0;
        size_t end = std::string_view::npos;
        while ((end = header_end(c.buffered())) == std::string_view::npos) {
            if (c.buffered().size() > m_options.max_header_bytes) {
                status = 431;
                break;
            }
            Connection::Read r = c.fill(deadline);
            if (r != Connection::Read::data) {
                // A request cut short or the server stopping: nothing to answer.
                if (r == Connection::Read::timeout && !c.buffered().empty())
                    status = 408;
                else
                    return;
                break;
            }
            skip_blank();
        }
        if (status == 0 && end > m_options.max_header_bytes)
            status = 431;
        if (status == 0) {
            status = parse_head(c.buffered().substr(0, end), m_options, req, framing);
            c.consume(end);
        }
        if (status == 0 && framing.expect_continue &&
            (framing.chunked || framing.content_length > 0)) {
            if (!c.send_all("HTTP/1.1 100 Continue\r\n\r\n"))
                return;
        }
        if (status == 0 && framing.chunked) {
            status = read_chunked(c, deadline, m_options.max_body_bytes, req.body);
        } else if (status == 0 && framing.content_length > 0) {
            Connection::Read r = c.ensure(framing.content_length, deadline);
            if (r != Connection::Read::data) {
                status = status_for(r);
            } else {
                req.body.assign(c.buffered().substr(0, framing.content_length));
                c.consume(framing.content_length);
            }
        }
        if (status == k_close)
            return;

        Response res;
        bool keep_alive = false;
        if (status != 0) {
            res = error_response(status);
        } else {
            try {
                res = m_handler(req);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "mloop-serve: error: %s %s: %s\n", req.method.c_str(),
                             req.path.c_str(), e.what());
                res = error_response(500);
            } catch (...) {
                std::fprintf(stderr, "mloop-serve: error: %s %s: unknown exception\n",
                             req.method.c_str(), req.path.c_str());
                res = error_response(500);
            }
            std::lock_guard lock(m_queue->mutex);
            // Hand the worker to a waiting connection rather than idle on this one.
            keep_alive = framing.keep_alive && m_queue->fds.empty() && !m_queue->stopping &&
                         served + 1 < m_options.max_requests_per_connection;
        }
        bool sent = c.send_all(serialize(res, keep_alive, req.method == "HEAD"));
        if (m_observer) {
            m_observer(req, res, std::chrono::duration<double>(Clock::now() - start).count());
        }
        if (!sent)
            return;
        if (status != 0 || !keep_alive) {
            c.linger();
            return;
        }
        pollfd wake = {m_wake_read, POLLIN, 0};
        if (::poll(&wake, 1, 0) > 0)
            return;
    }
}

const char* Server::reason(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 417:
            return "Expectation Failed";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 503:
            return "Service Unavailable";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

}  // namespace mloop::serve
