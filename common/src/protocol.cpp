#include "mqchat/protocol.hpp"

#include <array>
#include <utility>

namespace mqchat {
namespace {

// The one table of error codes and their wire spelling.
constexpr std::array<std::pair<ErrorCode, std::string_view>, 28> error_names{{
    {ErrorCode::ok, "ok"},
    {ErrorCode::bad_json, "bad_json"},
    {ErrorCode::bad_request, "bad_request"},
    {ErrorCode::payload_too_large, "payload_too_large"},
    {ErrorCode::invalid_utf8, "invalid_utf8"},
    {ErrorCode::invalid_name, "invalid_name"},
    {ErrorCode::weak_password, "weak_password"},
    {ErrorCode::unknown_op, "unknown_op"},
    {ErrorCode::not_authenticated, "not_authenticated"},
    {ErrorCode::user_exists, "user_exists"},
    {ErrorCode::bad_credentials, "bad_credentials"},
    {ErrorCode::room_exists, "room_exists"},
    {ErrorCode::no_such_room, "no_such_room"},
    {ErrorCode::wrong_password, "wrong_password"},
    {ErrorCode::not_member, "not_member"},
    {ErrorCode::rate_limited, "rate_limited"},
    {ErrorCode::internal_error, "internal_error"},
    {ErrorCode::timeout, "timeout"},
    {ErrorCode::connect_failed, "connect_failed"},
    {ErrorCode::not_admitted, "not_admitted"},
    {ErrorCode::not_joined, "not_joined"},
    {ErrorCode::usage, "usage"},
    {ErrorCode::not_owner, "not_owner"},
    {ErrorCode::banned, "banned"},
    {ErrorCode::no_such_user, "no_such_user"},
    {ErrorCode::owner_cannot_leave, "owner_cannot_leave"},
    {ErrorCode::tls_failed, "tls_failed"},
    {ErrorCode::not_operator, "not_operator"},
}};

// Splits off the first level of `text`; `text` keeps what follows the '/'.
std::string_view take_level(std::string_view& text, bool& had_slash)
{
    auto slash = text.find('/');
    std::string_view level = text.substr(0, slash);
    had_slash = slash != std::string_view::npos;
    text = had_slash ? text.substr(slash + 1) : std::string_view{};
    return level;
}

}  // namespace

std::string_view to_string(ErrorCode code)
{
    for (const auto& [value, name] : error_names) {
        if (value == code) {
            return name;
        }
    }
    return "internal_error";
}

std::optional<ErrorCode> error_code_from_string(std::string_view text)
{
    for (const auto& [value, name] : error_names) {
        if (name == text) {
            return value;
        }
    }
    return std::nullopt;
}

namespace topic {

Parsed parse(std::string_view name)
{
    Parsed out;
    if (name == plugin_control) {
        out.kind = Kind::plugin_control;
        return out;
    }
    if (!name.starts_with(prefix)) {
        return out;
    }
    out.kind = Kind::unknown_chat;

    std::string_view rest = name.substr(prefix.size());
    bool more = false;
    std::string_view area = take_level(rest, more);
    if (!more) {
        return out;
    }
    std::string_view subject = take_level(rest, more);
    if (subject.empty()) {
        return out;
    }

    // chat/v1/ctl/<op>: exactly one level after ctl.
    if (area == "ctl") {
        if (!more) {
            out.kind = Kind::control;
            out.subject = subject;
        }
        return out;
    }
    if (!more) {
        return out;
    }

    // chat/v1/users/<user>/inbox/<something>
    if (area == "users") {
        bool deeper = false;
        std::string_view box = take_level(rest, deeper);
        if (box == "inbox" && deeper && !rest.empty()) {
            out.kind = Kind::user_inbox;
            out.subject = subject;
            out.rest = rest;
        }
        return out;
    }

    // chat/v1/guest/<client id>/<nonce>: exactly one level for the nonce.
    if (area == "guest") {
        if (!rest.empty() && rest.find('/') == std::string_view::npos) {
            out.kind = Kind::guest_inbox;
            out.subject = subject;
            out.rest = rest;
        }
        return out;
    }

    // chat/v1/rooms/<id>/meta, /msg, or something else under the room.
    if (area == "rooms") {
        out.subject = subject;
        out.rest = rest;
        if (rest == "meta") {
            out.kind = Kind::room_meta;
        } else if (rest == "msg") {
            out.kind = Kind::room_msg;
        } else if (rest == "typing") {
            out.kind = Kind::room_typing;
        } else if (rest.starts_with("presence/") && rest.size() > 9 &&
                   rest.find('/', 9) == std::string_view::npos) {
            out.kind = Kind::room_presence;
        } else {
            out.kind = Kind::room_other;
        }
        return out;
    }
    return out;
}

}  // namespace topic
}  // namespace mqchat
