// The one exception type of the client library.
#pragma once

#include <stdexcept>
#include <string>

#include "mqchat/protocol.hpp"

namespace mqchat::client {

// Thrown by every blocking call of the library. code() is one of the stable
// codes of docs/protocol.md: either what the room manager replied, or one the
// library produces itself (timeout, connect_failed, not_admitted, not_joined,
// tls_failed).
// what() reads "<code>: <message>", e.g. "wrong_password: wrong room password".
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message);

    [[nodiscard]] ErrorCode code() const noexcept { return code_; }

    // The message without the "<code>: " prefix.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    ErrorCode code_;
    std::string message_;
};

}  // namespace mqchat::client
