#include "mqchat/tcp_nodelay.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace mqchat {

namespace {

struct Peer {
    std::uint16_t port = 0;
    std::optional<in_addr> v4;   // set when the host is an IPv4 address
    std::optional<in6_addr> v6;  // set when the host is an IPv6 address
};

std::optional<Peer> parse_uri(std::string_view uri)
{
    const auto scheme_end = uri.find("://");
    std::string_view rest = scheme_end == std::string_view::npos ? uri : uri.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find('/'));

    std::string_view host;
    std::string_view port;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || rest.substr(close + 1, 1) != ":") {
            return std::nullopt;
        }
        host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }

    Peer peer;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), peer.port);
    if (error != std::errc() || end != port.data() + port.size() || peer.port == 0) {
        return std::nullopt;
    }
    const std::string host_text(host);
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, host_text.c_str(), &v4) == 1) {
        peer.v4 = v4;
    } else if (inet_pton(AF_INET6, host_text.c_str(), &v6) == 1) {
        peer.v6 = v6;
    }
    return peer;
}

bool is_broker(int fd, const Peer& broker)
{
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return false;
    }
    const bool any_host = !broker.v4 && !broker.v6;
    if (address.ss_family == AF_INET) {
        const auto& in = reinterpret_cast<const sockaddr_in&>(address);
        return ntohs(in.sin_port) == broker.port &&
               (any_host || (broker.v4 && in.sin_addr.s_addr == broker.v4->s_addr));
    }
    if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        return ntohs(in6.sin6_port) == broker.port &&
               (any_host ||
                (broker.v6 && std::memcmp(&in6.sin6_addr, &*broker.v6, sizeof(in6_addr)) == 0));
    }
    return false;
}

}  // namespace

std::size_t set_tcp_nodelay_to(std::string_view server_uri) noexcept
{
    const std::optional<Peer> broker = parse_uri(server_uri);
    if (!broker) {
        return 0;
    }
    DIR* fds = opendir("/proc/self/fd");
    if (fds == nullptr) {
        return 0;
    }
    std::size_t set = 0;
    while (const dirent* entry = readdir(fds)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == dirfd(fds)) {
            continue;
        }
        struct stat info {};
        int type = 0;
        socklen_t type_length = sizeof type;
        if (fstat(static_cast<int>(fd), &info) != 0 || !S_ISSOCK(info.st_mode) ||
            getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 ||
            type != SOCK_STREAM || !is_broker(static_cast<int>(fd), *broker)) {
            continue;
        }
        const int on = 1;
        if (setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) {
            ++set;
        }
    }
    closedir(fds);
    return set;
}

}  // namespace mqchat
