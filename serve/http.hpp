// A small HTTP/1.1 server on POSIX sockets, enough for a model server behind a load balancer:
// origin-form requests, Content-Length and chunked bodies, keep-alive and pipelining, a fixed
// pool of worker threads, bounded header and body sizes, read timeouts.
//
// Why not cpp-httplib: Debian's libcpp-httplib-dev is the split build (declarations in
// httplib.h, the code only in libcpp-httplib.so), so it cannot be linked into the fully static
// binary that a FROM scratch image needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mloop::serve {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method;
    std::string target;  // as sent: path and query
    std::string path;    // the target without its query
    Headers headers;     // names lowercased
    std::string body;
};

struct Response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    Headers headers;  // extra headers, e.g. Allow
};

// Answers one request. May throw: the server answers 500 then.
using Handler = std::function<Response(const Request&)>;
// Sees every response the server sends, including the ones for malformed requests (whose
// Request has an empty path), with the time from the request's first byte.
using Observer = std::function<void(const Request&, const Response&, double seconds)>;

struct ServerOptions {
    std::string host = "0.0.0.0";  // a numeric IPv4 or IPv6 address: no DNS
    uint16_t port = 8080;          // 0: any free port (see Server::port)
    int threads = 8;
    size_t max_header_bytes = 16 * 1024;
    size_t max_body_bytes = 1024 * 1024;
    int read_timeout_ms = 10000;      // for a whole request once its first byte arrived
    int keepalive_timeout_ms = 5000;  // for the next request on an idle connection
    int max_requests_per_connection = 1000;
};

class Server {
  public:
    Server(ServerOptions options, Handler handler, Observer observer);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens; throws std::runtime_error naming the address and the reason.
    void listen();
    // The bound port (the chosen one when the options asked for 0).
    uint16_t port() const { return m_port; }
    // Serves until stop(); returns once every worker has finished its request.
    void run();
    // Async-signal-safe: one write(2) to the wake pipe.
    void stop() const;

    static const char* reason(int status);

  private:
    void accept_loop();
    void worker();
    void serve_connection(int fd);
    bool connections_waiting() const;

    ServerOptions m_options;
    Handler m_handler;
    Observer m_observer;
    int m_listen_fd = -1;
    int m_wake_read = -1;
    int m_wake_write = -1;
    uint16_t m_port = 0;
    struct Queue;
    std::unique_ptr<Queue> m_queue;
};

}  // namespace mloop::serve
