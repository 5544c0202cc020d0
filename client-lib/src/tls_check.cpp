#include "tls_check.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <charconv>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace mqchat::client::detail {

namespace {

std::string_view scheme_of(std::string_view broker)
{
    auto end = broker.find("://");
    return end == std::string_view::npos ? std::string_view{} : broker.substr(0, end);
}

// A socket that closes itself.
struct Socket {
    int fd = -1;
    ~Socket()
    {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

// TCP connection to host:port, or -1. Linux bounds connect() by SO_SNDTIMEO.
int connect_tcp(const BrokerAddress& address, std::chrono::milliseconds timeout)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(address.port);
    if (::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found) != 0) {
        return -1;
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);

    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
        int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            return fd;
        }
        ::close(fd);
    }
    return -1;
}

bool is_ip_address(const std::string& host)
{
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The first queued OpenSSL error as text, or `fallback`.
std::string openssl_error(const char* fallback)
{
    unsigned long code = ERR_get_error();
    if (code == 0) {
        return fallback;
    }
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : fallback;
}

TlsVerdict failed(std::string why)
{
    return {TlsVerdict::Kind::failed, std::move(why)};
}

}  // namespace

bool is_tls_url(std::string_view broker)
{
    auto scheme = scheme_of(broker);
    return scheme == "ssl" || scheme == "mqtts" || scheme == "wss";
}

BrokerAddress broker_address(std::string_view broker)
{
    auto scheme = scheme_of(broker);
    std::string_view rest = broker;
    if (!scheme.empty()) {
        rest.remove_prefix(scheme.size() + 3);
    }
    rest = rest.substr(0, rest.find('/'));
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        rest.remove_prefix(at + 1);
    }

    BrokerAddress address;
    std::string_view port;
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        address.host = std::string(rest.substr(1, close == rest.npos ? rest.npos : close - 1));
        if (close != rest.npos && close + 1 < rest.size() && rest[close + 1] == ':') {
            port = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != rest.npos) {
        address.host = std::string(rest.substr(0, colon));
        port = rest.substr(colon + 1);
    } else {
        address.host = std::string(rest);
    }

    if (port.empty() ||
        std::from_chars(port.data(), port.data() + port.size(), address.port).ec != std::errc{}) {
        address.port = scheme == "wss" ? 443 : scheme == "ws" ? 80 : is_tls_url(broker) ? 8883
                                                                                        : 1883;
    }
    return address;
}

TlsVerdict check_tls(const std::string& broker, const std::string& ca_file,
                     std::chrono::milliseconds timeout) noexcept
{
    try {
        const BrokerAddress address = broker_address(broker);
        const std::string where = address.host + ":" + std::to_string(address.port);

        std::unique_ptr<SSL_CTX, decltype(&::SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                              &::SSL_CTX_free);
        if (!ctx) {
            return failed("TLS could not be set up: " + openssl_error("out of memory"));
        }
        ERR_clear_error();
        bool trusted = ca_file.empty()
                           ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                           : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(),
                                                           nullptr) == 1;
        if (!trusted) {
            return failed(ca_file.empty()
                              ? "the system's trusted CA certificates cannot be loaded"
                              : "the CA file " + ca_file +
                                    " cannot be read or holds no PEM certificate");
        }
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);

        Socket socket{connect_tcp(address, timeout)};
        if (socket.fd < 0) {
            return {TlsVerdict::Kind::unreachable, "cannot reach " + where};
        }

        std::unique_ptr<SSL, decltype(&::SSL_free)> ssl(SSL_new(ctx.get()), &::SSL_free);
        if (!ssl || SSL_set_fd(ssl.get(), socket.fd) != 1) {
            return failed("TLS could not be set up: " + openssl_error("SSL_new failed"));
        }
        // The same check as Paho's: the certificate must name the host.
        if (is_ip_address(address.host)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), address.host.c_str());
        } else {
            SSL_set_tlsext_host_name(ssl.get(), address.host.c_str());
            SSL_set1_host(ssl.get(), address.host.c_str());
        }

        // Writing to a socket the server closed raises SIGPIPE; Paho C sets
        // it to SIG_IGN process-wide when it initialises its sockets, which
        // happened before any failed Paho connect brought us here.
        ERR_clear_error();
        if (SSL_connect(ssl.get()) == 1) {
            SSL_shutdown(ssl.get());
            return {};
        }
        long result = SSL_get_verify_result(ssl.get());
        if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
            return failed("TLS verification failed: the server's certificate is not for " +
                          address.host + "; connect with a name the certificate lists");
        }
        if (result == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
            result == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
            result == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
            result == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE) {
            return failed(
                "TLS verification failed: the server's certificate is not signed by a "
                "trusted CA (" + std::string(X509_verify_cert_error_string(result)) + "); " +
                (ca_file.empty() ? "give the server's CA file" : "check the CA file " + ca_file) +
                " (--cafile, MQCHAT_CAFILE, Options::ca_file)");
        }
        if (result != X509_V_OK) {
            return failed("TLS verification failed: " +
                          std::string(X509_verify_cert_error_string(result)));
        }
        return failed("TLS handshake with " + where + " failed (" +
                      openssl_error("the server closed the connection") +
                      "); is it a TLS port?");
    } catch (const std::exception& e) {
        return failed(std::string("TLS check failed: ") + e.what());
    }
}

}  // namespace mqchat::client::detail
