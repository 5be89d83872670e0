// A small HTTP/1.1 client for what mloop asks of HTTP: a deployment's health check, the
// Prometheus query API, webhooks. Plain http only (loopback and cluster-internal services);
// one request per connection; every step bounded by the timeout. Written here rather than
// linked: Debian's cpp-httplib is a shared library that would cost every mloop command its
// load time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace mloop::net {

struct Url {
    std::string host;
    int port = 80;
    std::string target = "/";  // path and query
};
// "http://host[:port][/path?query]"; anything else is an error that names what is wrong.
util::Result<Url> parse_url(const std::string& text);

struct Response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
};

struct Request {
    std::string method = "GET";
    Url url;
    std::map<std::string, std::string> headers;
    std::string body;
    std::chrono::milliseconds timeout{5000};  // for the whole exchange
    size_t max_body = 16 << 20;
};

// The response, or what went wrong ("connection refused", "timed out after 2s", …).
util::Result<Response> send(const Request& request);

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& value);

}  // namespace mloop::net
