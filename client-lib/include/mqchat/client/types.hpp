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
};

// One member of a room, from the room manager's `members` reply.
struct Member {
    std::string user;
    std::string role;          // "owner" or "member"
    std::int64_t joined = 0;   // seconds since the epoch
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
