// The HTTP health check of a deployment: one GET on loopback, bounded by a timeout.
#include <fmt/format.h>

#include "deploy/target.hpp"
#include "net/http.hpp"

namespace mloop::deploy {

std::string probe_health(int port, const std::string& path, std::chrono::milliseconds timeout) {
    net::Request req;
    req.url.host = "127.0.0.1";
    req.url.port = port;
    req.url.target = path;
    req.timeout = timeout;
    req.max_body = 1 << 20;
    auto r = net::send(req);
    if (!r) {
        return fmt::format("GET {}: {}", path, r.error());
    }
    if (r->status < 200 || r->status >= 300) {
        return fmt::format("GET {}: HTTP {}", path, r->status);
    }
    return "";
}

}  // namespace mloop::deploy
