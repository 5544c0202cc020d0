// Which response topics the room manager may publish a reply on.
#pragma once

#include <string>
#include <string_view>

namespace mqchat::service {

// Who sent a control request, as stamped by the broker plugin.
struct Requester {
    std::string user;       // the `sender` user property; empty for a guest
    std::string client_id;  // the `client-id` user property
};

// True when `response_topic` is one `who` can read (docs/protocol.md):
// a user's own inbox `chat/v1/users/<user>/inbox/<suffix>`, or a guest's
// `chat/v1/guest/<client-id>/<nonce>` with a nonce of at least 16 safe
// characters. Topics with wildcards or empty levels are refused.
[[nodiscard]] bool reply_topic_allowed(const Requester& who, std::string_view response_topic);

}  // namespace mqchat::service
