#include "mqchat/service/reply_topic.hpp"

#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::service {

namespace {

constexpr std::size_t min_guest_nonce = 16;

bool has_wildcard_or_empty_level(std::string_view topic)
{
    if (topic.find_first_of("+#") != std::string_view::npos) {
        return true;
    }
    return topic.empty() || topic.front() == '/' || topic.back() == '/' ||
           topic.find("//") != std::string_view::npos;
}

}  // namespace

bool reply_topic_allowed(const Requester& who, std::string_view response_topic)
{
    if (has_wildcard_or_empty_level(response_topic) || !is_valid_utf8(response_topic)) {
        return false;
    }

    if (!who.user.empty()) {
        if (check_user_name(who.user) != ErrorCode::ok) {
            return false;
        }
        const std::string prefix = topic::user_inbox(who.user, "");
        return response_topic.size() > prefix.size() && response_topic.starts_with(prefix);
    }

    if (!is_safe_topic_level(who.client_id)) {
        return false;
    }
    const std::string prefix = topic::guest_inbox(who.client_id, "");
    if (!response_topic.starts_with(prefix)) {
        return false;
    }
    const std::string_view nonce = response_topic.substr(prefix.size());
    return nonce.size() >= min_guest_nonce && is_safe_topic_level(nonce);
}

}  // namespace mqchat::service
