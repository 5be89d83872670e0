// A one-shot HTTP peer for unit tests: listens on 127.0.0.1, answers the first connection
// with a canned reply (or holds it silent for 600 ms) and keeps what it received.
#pragma once

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace test_http {

struct OneShot {
    int fd = -1;
    int port = 0;
    std::string received;
    std::thread thread;

    explicit OneShot(std::string answer, bool hang = false) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        ::listen(fd, 1);
        thread = std::thread([this, answer, hang] {
            const int c = ::accept(fd, nullptr, nullptr);
            if (c < 0) {
                return;
            }
            char buf[4096];
            const ssize_t n = ::recv(c, buf, sizeof buf, 0);
            if (n > 0) {
                received.assign(buf, static_cast<size_t>(n));
            }
            if (hang) {
                std::this_thread::sleep_for(std::chrono::milliseconds(600));
            } else {
                ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
            }
            ::close(c);
        });
    }
    ~OneShot() {
        thread.join();
        ::close(fd);
    }
};

}  // namespace test_http
