// A TCP forwarder between a client and the broker that a test can cut and
// restore, to drop a client's network without touching the broker.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mqchat::test {

class TcpProxy {
public:
    // Listens on a free loopback port and forwards to 127.0.0.1:target_port.
    explicit TcpProxy(int target_port) : target_port_(target_port)
    {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr = loopback(0);
        socklen_t len = sizeof addr;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("proxy: cannot listen");
        }
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~TcpProxy()
    {
        stopping_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        acceptor_.join();
        cut();
        std::lock_guard lock(mutex_);
        for (auto& link : links_) {
            link.pump.join();
            ::close(link.client);
            ::close(link.server);
        }
        for (int fd : held_) {
            ::close(fd);
        }
        ::close(listener_);
    }

    TcpProxy(const TcpProxy&) = delete;
    TcpProxy& operator=(const TcpProxy&) = delete;

    std::string url() const { return "mqtt://127.0.0.1:" + std::to_string(port_); }

    // Drops every connection and refuses new ones until restore().
    void cut()
    {
        refusing_ = true;
        std::lock_guard lock(mutex_);
        for (auto& link : links_) {
            ::shutdown(link.client, SHUT_RDWR);
            ::shutdown(link.server, SHUT_RDWR);
        }
    }

    void restore() { refusing_ = false; }

    // A network that goes quiet without closing anything (a pulled cable, a
    // dead Wi-Fi): open connections stay open but no byte moves either way,
    // and new ones are accepted but never reach the broker. Only keep-alive
    // timeouts notice it. Lasts until the proxy goes.
    void stall() { stalled_ = true; }

private:
    struct Link {
        int client = -1;
        int server = -1;
        std::thread pump;
    };

    static sockaddr_in loopback(int port)
    {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        return addr;
    }

    void accept_loop()
    {
        while (!stopping_) {
            int client = ::accept(listener_, nullptr, nullptr);
            if (client < 0) {
                if (stopping_) {
                    return;
                }
                continue;
            }

            // While stalled, a connection is held open and never forwarded.
            if (stalled_) {
                std::lock_guard lock(mutex_);
                held_.push_back(client);
                continue;
            }

            // While cut, a connection is closed at once, like a dead route.
            int server = refusing_ ? -1 : ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in target = loopback(target_port_);
            if (server < 0 ||
                ::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
                if (server >= 0) {
                    ::close(server);
                }
                ::close(client);
                continue;
            }
            std::lock_guard lock(mutex_);
            auto& link = links_.emplace_back();
            link.client = client;
            link.server = server;
            link.pump = std::thread([this, client, server] { pump(client, server); });
        }
    }

    // Copies bytes both ways until either side closes, then shuts both down.
    // The descriptors stay open until the proxy goes, so cut() never hits a
    // number the system handed out again.
    void pump(int a, int b)
    {
        char buffer[16384];
        pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        for (;;) {
            if (::poll(fds, 2, 200) < 0) {
                break;
            }
            if (stalled_) {
                if (stopping_) {
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            bool done = false;
            for (int i = 0; i < 2 && !done; ++i) {
                if (fds[i].revents == 0) {
                    continue;
                }
                ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                done = n <= 0 || !write_all(fds[1 - i].fd, buffer, static_cast<size_t>(n));
            }
            if (done) {
                break;
            }
        }
        ::shutdown(a, SHUT_RDWR);
        ::shutdown(b, SHUT_RDWR);
    }

    static bool write_all(int fd, const char* data, size_t size)
    {
        while (size > 0) {
            ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data += n;
            size -= static_cast<size_t>(n);
        }
        return true;
    }

    int target_port_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> refusing_{false};
    std::atomic<bool> stalled_{false};
    std::vector<int> held_;  // connections accepted while stalled
    std::mutex mutex_;
    std::list<Link> links_;
    std::thread acceptor_;
};

}  // namespace mqchat::test
