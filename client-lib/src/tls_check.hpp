// Telling why a TLS connect failed. Internal to the client library.
//
// Paho reports every failed TLS connect the same way ("TCP/TLS connect
// failure"), and checks the host name after the handshake without saying
// so. To give the user a reason they can act on (unknown CA, wrong host
// name, not a TLS port), the library repeats the handshake once with
// OpenSSL itself, with the same trust and the same host name check, after
// Paho failed. The verdict is only used for the error message: the
// connection Paho makes is verified by Paho.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace mqchat::client::detail {

// True for the broker URL schemes that use TLS: ssl://, mqtts://, wss://.
[[nodiscard]] bool is_tls_url(std::string_view broker);

// Host and port of a broker URL ("mqtts://[::1]:8883/x" -> "::1", 8883).
// A missing port is the scheme's default (1883, 8883, 80, 443).
struct BrokerAddress {
    std::string host;
    int port = 0;
};
[[nodiscard]] BrokerAddress broker_address(std::string_view broker);

struct TlsVerdict {
    enum class Kind {
        ok,           // the handshake and the checks passed
        unreachable,  // no TCP connection (not a TLS problem)
        failed,       // TLS failed; `why` says how
    };
    Kind kind = Kind::ok;
    std::string why;  // one sentence for the user; never holds secrets
};

// Connects to the broker's host and port, performs a TLS handshake that
// trusts `ca_file` (PEM; empty: the system's trust store) and checks the
// certificate names the host (DNS name or IP address), then closes.
// Blocking, each step bounded by `timeout`. Never throws.
[[nodiscard]] TlsVerdict check_tls(const std::string& broker, const std::string& ca_file,
                                   std::chrono::milliseconds timeout) noexcept;

}  // namespace mqchat::client::detail
