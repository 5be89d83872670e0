#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "net/http.hpp"
#include "test_http_server.hpp"

using namespace mloop::net;
using test_http::OneShot;

namespace {

Request get(int port, const std::string& target) {
    Request r;
    r.url.host = "127.0.0.1";
    r.url.port = port;
    r.url.target = target;
    r.timeout = std::chrono::milliseconds(2000);
    return r;
}

}  // namespace

TEST_SUITE("net") {
    TEST_CASE("URLs: http only, host, port and target") {
        auto u = parse_url("http://127.0.0.1:9090/api/v1/query?query=up");
        REQUIRE(u);
        CHECK(u->host == "127.0.0.1");
        CHECK(u->port == 9090);
        CHECK(u->target == "/api/v1/query?query=up");
        u = parse_url("http://localhost");
        REQUIRE(u);
        CHECK(u->port == 80);
        CHECK(u->target == "/");
        CHECK(parse_url("https://x").error() == "https is not supported; use http");
        CHECK_FALSE(parse_url("ftp://x"));
        CHECK_FALSE(parse_url("http://x:99999/"));
        CHECK_FALSE(parse_url("http://:80/"));
        CHECK_FALSE(parse_url("http://user:pw@x/"));
        CHECK(url_encode("a b&c=é") == "a%20b%26c%3D%C3%A9");
    }

    TEST_CASE("a GET: status, headers and a body of the length given") {
        OneShot s(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nokEXTRA");
        auto r = send(get(s.port, "/healthz"));
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->headers.at("content-type") == "text/plain");
        CHECK(r->body == "ok");
        CHECK(s.received.rfind("GET /healthz HTTP/1.1\r\n", 0) == 0);
        CHECK(s.received.find("Connection: close\r\n") != std::string::npos);
    }

    TEST_CASE("a POST with a body; a chunked answer") {
        OneShot s(
            "HTTP/1.1 503 Unavailable\r\nTransfer-Encoding: "
            "chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        Request req = get(s.port, "/hook");
        req.method = "POST";
        req.body = "{\"a\":1}";
        req.headers["Content-Type"] = "application/json";
        auto r = send(req);
        REQUIRE(r);
        CHECK(r->status == 503);
        CHECK(r->body == "abcde");
        CHECK(s.received.find("Content-Length: 7\r\n") != std::string::npos);
        CHECK(s.received.find("\r\n\r\n{\"a\":1}") != std::string::npos);
    }

    TEST_CASE("failures are messages: refused, silent, not HTTP, cut short") {
        int port = 0;
        {
            OneShot s("HTTP/1.1 200 OK\r\n\r\n");
            port = s.port;
            REQUIRE(send(get(port, "/")));
        }
        auto refused = send(get(port, "/"));
        REQUIRE_FALSE(refused);
        CHECK(refused.error().find("cannot connect to 127.0.0.1:") == 0);
        {
            OneShot s("", true);
            Request req = get(s.port, "/");
            req.timeout = std::chrono::milliseconds(200);
            auto r = send(req);
            REQUIRE_FALSE(r);
            CHECK(r.error().find("within 200 ms") != std::string::npos);
        }
        {
            OneShot s("SSH-2.0-OpenSSH\r\n\r\n");
            auto r = send(get(s.port, "/"));
            REQUIRE_FALSE(r);
            CHECK(r.error().find("did not answer with HTTP") != std::string::npos);
        }
        {
            OneShot s("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
            auto r = send(get(s.port, "/"));
            REQUIRE_FALSE(r);
            CHECK(r.error().find("mid-answer") != std::string::npos);
        }
    }
}
