// The wire contract of mqchat: topic names, control operations, error codes
// and size limits. The service, the broker plugin and the client library all
// include this header, so a topic or a code is spelled in exactly one place.
// docs/protocol.md describes the same contract for people.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mqchat {

// ---------------------------------------------------------------------------
// Topics
// ---------------------------------------------------------------------------
namespace topic {

inline constexpr std::string_view prefix = "chat/v1/";

// Control requests: chat/v1/ctl/<op>. Published by users (and, for register
// and login only, by guests); the room manager subscribes to chat/v1/ctl/+.
inline constexpr std::string_view control_prefix = "chat/v1/ctl/";
inline constexpr std::string_view control_filter = "chat/v1/ctl/+";

// The plugin's own control topic. Clients publish join tokens here; the
// room manager publishes revocations here.
inline constexpr std::string_view plugin_control = "$CONTROL/mqchat/v1";

// User properties the plugin stamps on every delivered room message and on
// every control request. Client-supplied properties with these names are
// removed before the message is routed.
inline constexpr std::string_view prop_sender = "sender";
inline constexpr std::string_view prop_seq = "seq";
inline constexpr std::string_view prop_ts = "ts";
// Stamped on control requests only: the publishing client's id, so the
// room manager can check a guest's response topic.
inline constexpr std::string_view prop_client_id = "client-id";

inline std::string control(std::string_view op)
{
    return std::string(control_prefix) + std::string(op);
}

// Replies for an authenticated user: chat/v1/users/<user>/inbox/<suffix>.
// Only that user's connections may read it; only the room manager writes it.
inline std::string user_inbox(std::string_view user, std::string_view suffix)
{
    return std::string(prefix) + "users/" + std::string(user) + "/inbox/" +
           std::string(suffix);
}

// Replies for a guest (no username yet): chat/v1/guest/<client_id>/<nonce>.
// Only the connection with that client id may read it, and only by
// subscribing to the exact topic, so the nonce must be unguessable.
inline std::string guest_inbox(std::string_view client_id, std::string_view nonce)
{
    return std::string(prefix) + "guest/" + std::string(client_id) + "/" +
           std::string(nonce);
}

inline std::string room_meta(std::string_view room_id)
{
    return std::string(prefix) + "rooms/" + std::string(room_id) + "/meta";
}

inline std::string room_messages(std::string_view room_id)
{
    return std::string(prefix) + "rooms/" + std::string(room_id) + "/msg";
}

// Presence of one member of a room, retained:
// chat/v1/rooms/<id>/presence/<user>. Written by the room manager only, read
// by connections admitted to the room. An empty retained payload means the
// user is no longer a member.
inline std::string room_presence(std::string_view room_id, std::string_view user)
{
    return std::string(prefix) + "rooms/" + std::string(room_id) + "/presence/" +
           std::string(user);
}

// Every member's presence in one room (a subscription filter).
inline std::string room_presence_filter(std::string_view room_id)
{
    return std::string(prefix) + "rooms/" + std::string(room_id) + "/presence/+";
}

// Typing indicators of one room: chat/v1/rooms/<id>/typing. Written and read
// by admitted members, never retained; the plugin stamps sender and ts.
inline std::string room_typing(std::string_view room_id)
{
    return std::string(prefix) + "rooms/" + std::string(room_id) + "/typing";
}

// Client ids that start with this belong to the room manager's connections
// (mqchat-room-manager-*, mqchat-archive-*, mqchat-health-*). The plugin
// refuses them to everyone else, so nobody can take the archive's
// persistent session, even right after a broker restart.
inline constexpr std::string_view service_client_id_prefix = "mqchat-";

// Online/offline events of users, published by the broker plugin and read
// by the room manager only (see docs/protocol.md, Presence).
inline constexpr std::string_view sys_presence = "chat/v1/sys/presence";

// The room manager's health and counters, retained, refreshed every few
// seconds (see docs/protocol.md, Health). Written by the service only, read
// by the service and by operator connections only.
inline constexpr std::string_view sys_health = "chat/v1/sys/health";

// Retained metadata of every room.
inline constexpr std::string_view all_room_meta = "chat/v1/rooms/+/meta";

// Archive subscription of the room manager.
inline constexpr std::string_view all_room_messages = "chat/v1/rooms/+/msg";

// What a concrete topic name is, as far as access control cares.
enum class Kind {
    other,        // anything outside chat/v1/ and not the plugin control topic
    control,      // chat/v1/ctl/<op>
    user_inbox,   // chat/v1/users/<user>/inbox/...
    guest_inbox,  // chat/v1/guest/<client_id>/<nonce>
    room_meta,    // chat/v1/rooms/<id>/meta
    room_msg,     // chat/v1/rooms/<id>/msg
    room_presence,  // chat/v1/rooms/<id>/presence/<user>
    room_typing,    // chat/v1/rooms/<id>/typing
    room_other,   // chat/v1/rooms/<id>/<anything else>
    plugin_control,
    unknown_chat  // under chat/v1/ but not a known shape
};

struct Parsed {
    Kind kind = Kind::other;
    std::string_view subject;  // op, user, client id or room id
    std::string_view rest;     // what follows the subject level, if anything
};

// Splits a concrete topic name (no wildcards expected) into its kind and
// subject. The views point into `name`.
Parsed parse(std::string_view name);

}  // namespace topic

// ---------------------------------------------------------------------------
// Control operations (the last level of chat/v1/ctl/<op>)
// ---------------------------------------------------------------------------
namespace op {
inline constexpr std::string_view register_user = "register";
inline constexpr std::string_view login = "login";
inline constexpr std::string_view create = "create";
inline constexpr std::string_view join = "join";
inline constexpr std::string_view leave = "leave";
inline constexpr std::string_view whoami = "whoami";
inline constexpr std::string_view members = "members";
inline constexpr std::string_view kick = "kick";
inline constexpr std::string_view ban = "ban";
inline constexpr std::string_view unban = "unban";
inline constexpr std::string_view passwd = "passwd";
inline constexpr std::string_view delete_room = "delete";
inline constexpr std::string_view history = "history";
// Room discovery and administration (issue 5).
inline constexpr std::string_view rooms = "rooms";          // list/search rooms
inline constexpr std::string_view update = "update";        // owner: description, listed
inline constexpr std::string_view transfer = "transfer";    // owner: hand over ownership

// Operations on the plugin control topic ($CONTROL/mqchat/v1).
namespace plugin {
inline constexpr std::string_view present = "present";
inline constexpr std::string_view revoke = "revoke";
// Room manager only: asks the plugin for a snapshot of the online users on
// topic::sys_presence, sent to the asking client id alone.
inline constexpr std::string_view presence_sync = "presence_sync";
// Room manager only: re-read the public key files (after a key rotation).
inline constexpr std::string_view reload_keys = "reload_keys";
}  // namespace plugin

// Operations a guest (a connection without a username) may request.
inline bool allowed_for_guest(std::string_view name)
{
    return name == register_user || name == login;
}
}  // namespace op

// ---------------------------------------------------------------------------
// Error codes. The string form is the stable contract; it appears in control
// replies ({"ok":false,"error":{"code":...,"message":...}}), on the CLI's
// stderr, and in mqchat::Error. Never rename one; add new ones at the end.
// ---------------------------------------------------------------------------
enum class ErrorCode {
    ok = 0,
    bad_json,           // payload is not a JSON object
    bad_request,        // a field is missing or has the wrong type
    payload_too_large,  // over limits::max_control_payload
    invalid_utf8,       // a string is not valid UTF-8
    invalid_name,       // a user or room name breaks the naming rules
    weak_password,      // a password is empty or too long
    unknown_op,         // chat/v1/ctl/<op> with an op that does not exist
    not_authenticated,  // the operation needs a logged-in user
    user_exists,        // register: the name is taken
    bad_credentials,    // login: unknown user or wrong password
    room_exists,        // create: the name is taken
    no_such_room,       // join/leave: no room by that name
    wrong_password,     // join: the room password does not match
    not_member,         // leave: the user is not in the room
    rate_limited,       // too many failed attempts; retry later
    internal_error,     // the service failed; the request had no effect
    // Client-side codes (never sent by the service).
    timeout,            // no reply in time
    connect_failed,     // could not reach or log in to the broker
    not_admitted,       // the broker refused the room subscription/publish
    not_joined,         // the client has no join token for that room
    usage,              // bad command-line usage
    // Room administration (service codes, added after the first release).
    not_owner,          // only the room's owner may do that
    banned,             // join: the owner banned this user from the room
    no_such_user,       // ban/kick: no account by that name
    owner_cannot_leave, // leave/kick/ban: the owner stays; delete the room instead
    // Client-side, added with the TLS listeners (never sent by the service).
    tls_failed,         // TLS handshake or server certificate check failed
    // Client-side (issue 7): the broker refused the health topic, which only
    // operator accounts may read.
    not_operator,
};

std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view text);

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------
namespace limits {
inline constexpr std::size_t max_control_payload = 16 * 1024;
inline constexpr std::size_t max_user_name = 32;
inline constexpr std::size_t max_room_name = 64;
inline constexpr std::size_t max_password = 1024;
inline constexpr std::size_t max_text = 8 * 1024;
// history: messages per reply, and the default when no limit is given.
inline constexpr std::size_t max_history_page = 500;
inline constexpr std::size_t default_history_page = 50;
// rooms: entries per reply, and the default.
inline constexpr std::size_t max_rooms_page = 500;
inline constexpr std::size_t default_rooms_page = 100;
// Room description, in bytes of UTF-8.
inline constexpr std::size_t max_description = 512;
// A typing=true indicator holds this long unless refreshed or stopped; the
// client library refreshes it every typing_refresh_ms while the user types.
inline constexpr long long typing_ttl_ms = 6000;
inline constexpr long long typing_refresh_ms = 3000;
}  // namespace limits

}  // namespace mqchat
