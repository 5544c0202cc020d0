#include "client_nodelay.hpp"

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>

namespace {

std::atomic<bool> nodelay{false};

bool is_tcp(int fd, const sockaddr* address)
{
    if (address == nullptr ||
        (address->sa_family != AF_INET && address->sa_family != AF_INET6)) {
        return false;
    }
    int type = 0;
    socklen_t length = sizeof type;
    return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 && type == SOCK_STREAM;
}

}  // namespace

namespace mqchat::bench {

void set_client_nodelay(bool on)
{
    nodelay = on;
}

bool client_nodelay()
{
    return nodelay;
}

}  // namespace mqchat::bench

extern "C" int connect(int fd, const sockaddr* address, socklen_t length)
{
    using connect_fn = int (*)(int, const sockaddr*, socklen_t);
    static const auto real_connect = reinterpret_cast<connect_fn>(::dlsym(RTLD_NEXT, "connect"));

    // Before the handshake, so even the CONNECT packet goes out at once.
    if (nodelay && is_tcp(fd, address)) {
        int on = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    return real_connect(fd, address, length);
}
