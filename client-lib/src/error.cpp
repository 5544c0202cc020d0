#include "mqchat/client/error.hpp"

namespace mqchat::client {

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(std::string(to_string(code)) + ": " + message),
      code_(code),
      message_(message)
{
}

}  // namespace mqchat::client
