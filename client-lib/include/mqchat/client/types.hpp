// Plain values the client library hands to applications.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mqchat/protocol.hpp"

namespace mqchat::client {

// A room as described by its retained metadata (docs/protocol.md, "Room
// metadata"). Never holds a password or a hash.
struct RoomInfo {
    std::string id;            // 12 lowercase hex digits; used in topics
    std::string name;          // what people typed
    std::string owner;
    bool is_protected = false;
    int members = 0;
    std::int64_t created = 0;  // seconds since the epoch
    // Whether every logged-in user may see the room (docs/protocol.md,
    // "Room metadata"). Metadata from a room manager older than issue 5
    // lacks the field; such rooms were visible to all, so it reads as true.
    bool listed = true;
    std::string description;   // free text of the owner; may be empty
    int online = 0;            // members with at least one connected device
    // Whether the user of this client is a member. Known from create_room,
    // join_room (true) and rooms(); false where the source does not say
    // (list_rooms reads retained metadata, which carries no such field).
    bool member = false;
};

// Options of Client::create_room beyond name and password.
struct CreateOptions {
    bool listed = true;        // false: only members ever see the room
    std::string description;   // at most limits::max_description bytes of UTF-8
};

// One page of Client::rooms(): sorted by name.
struct RoomList {
    std::vector<RoomInfo> rooms;
    bool more = false;         // more rooms matched than the limit allowed
};

// One member of a room, from the room manager's `members` reply.
struct Member {
    std::string user;
    std::string role;          // "owner" or "member"
    std::int64_t joined = 0;   // seconds since the epoch
    bool online = false;       // at least one of their devices is connected
};

// What a presence event says happened (docs/protocol.md, "Presence").
enum class PresenceChange {
    joined,   // a new member (they joined, or created the room)
    online,   // came online, or is online in the snapshot on entering
    offline,  // went offline, or is offline in the snapshot on entering
    left,     // no longer a member: left, kicked, banned, or the room deleted
};

// "joined", "online", "offline", "left": the form the CLI prints.
[[nodiscard]] std::string_view to_string(PresenceChange change) noexcept;

// One member's presence in an entered room, from the room manager's
// retained chat/v1/rooms/<id>/presence/<user> topic.
struct PresenceEvent {
    std::string room;          // room name
    std::string room_id;
    std::string user;
    std::string role;          // "owner" or "member"; empty for `left`
    bool online = false;       // false for `left`
    std::int64_t since = 0;    // when that state began, ms since the epoch; 0 for `left`
    PresenceChange change = PresenceChange::online;
    // From the retained snapshot the broker sends on (re)subscribing, not a
    // change seen as it happened: who is there on entering a room, and
    // what changed while the connection was down.
    bool initial = false;
};

// Another member of an entered room started or stopped typing. Own
// indicators (any device of the same user) are never reported.
struct TypingEvent {
    std::string room;          // room name
    std::string room_id;
    std::string user;          // the broker-authenticated typist
    bool typing = false;       // false: stopped, sent a message, or expired
};

// One room message as delivered by the broker. sender, seq and ts come from
// the user properties the broker stamps, never from the payload.
struct Message {
    std::string room;          // room name
    std::string room_id;
    std::string id;            // chosen by the sender; unique per message
    std::string sender;        // the broker-authenticated publisher
    std::string text;
    std::int64_t seq = 0;      // per-room sequence number, from 1
    std::int64_t ts = 0;       // broker clock, milliseconds since the epoch
    bool mine = false;         // sender is the user of this client
};

// One page of a room's archive, from Client::history().
struct HistoryPage {
    std::vector<Message> messages;  // oldest first; malformed entries left out
    // The lowest seq on this page, malformed entries included (0 when the
    // page is empty): pass it as before_seq to page further back.
    std::int64_t oldest_seq = 0;
    bool more = false;              // older messages exist
    std::int64_t last_seq = 0;      // the newest seq archived for the room
};

// What became of one Client::send_async(): reported exactly once.
struct SendResult {
    std::string room;           // room name, as given to send_async
    std::string id;             // the message id send_async returned
    ErrorCode code = ErrorCode::ok;  // ok: the broker accepted it
    std::string message;        // why it failed; empty when delivered

    [[nodiscard]] bool delivered() const noexcept { return code == ErrorCode::ok; }
};

enum class LogLevel { debug, info, warning, error };

// Receives the library's log lines. Lines never contain passwords, tokens or
// message bodies.
using Logger = std::function<void(LogLevel, std::string_view)>;

}  // namespace mqchat::client
