#include "tls_check.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include <gtest/gtest.h>

namespace mqchat::client::detail {
namespace {

TEST(TlsUrls, TlsSchemesAreRecognised)
{
    EXPECT_TRUE(is_tls_url("mqtts://h:8883"));
    EXPECT_TRUE(is_tls_url("ssl://h:8883"));
    EXPECT_TRUE(is_tls_url("wss://h:9443/mqtt"));
    EXPECT_FALSE(is_tls_url("mqtt://h:1883"));
    EXPECT_FALSE(is_tls_url("tcp://h:1883"));
    EXPECT_FALSE(is_tls_url("ws://h:9001"));
    EXPECT_FALSE(is_tls_url("h:8883"));
}

TEST(TlsUrls, AddressIsHostAndPort)
{
    auto a = broker_address("mqtts://chat.example.org:8884");
    EXPECT_EQ(a.host, "chat.example.org");
    EXPECT_EQ(a.port, 8884);
    a = broker_address("wss://[::1]:9443/mqtt");
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 9443);
    a = broker_address("ssl://u:p@10.0.0.1:1");
    EXPECT_EQ(a.host, "10.0.0.1");
    EXPECT_EQ(a.port, 1);
}

TEST(TlsUrls, MissingPortIsTheSchemeDefault)
{
    EXPECT_EQ(broker_address("mqtts://h").port, 8883);
    EXPECT_EQ(broker_address("wss://h/mqtt").port, 443);
    EXPECT_EQ(broker_address("mqtt://h").port, 1883);
    EXPECT_EQ(broker_address("ws://h").port, 80);
}

// A loopback port that is bound but not listening: connects are refused for
// as long as the object lives.
class RefusingPort {
public:
    RefusingPort()
    {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            throw std::runtime_error("cannot bind a loopback port");
        }
        port_ = ntohs(addr.sin_port);
    }
    ~RefusingPort() { ::close(fd_); }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    [[nodiscard]] int port() const { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

TEST(TlsCheck, NobodyListeningIsUnreachableNotATlsFailure)
{
    RefusingPort refusing;
    int port = refusing.port();
    auto verdict = check_tls("mqtts://127.0.0.1:" + std::to_string(port), "",
                             std::chrono::milliseconds(2000));
    EXPECT_EQ(verdict.kind, TlsVerdict::Kind::unreachable);
    EXPECT_NE(verdict.why.find("cannot reach 127.0.0.1:"), std::string::npos) << verdict.why;
}

TEST(TlsCheck, UnreadableCaFileIsNamed)
{
    auto verdict = check_tls("mqtts://127.0.0.1:1", "/no/such/ca.pem",
                             std::chrono::milliseconds(2000));
    EXPECT_EQ(verdict.kind, TlsVerdict::Kind::failed);
    EXPECT_NE(verdict.why.find("/no/such/ca.pem"), std::string::npos) << verdict.why;
}

}  // namespace
}  // namespace mqchat::client::detail
