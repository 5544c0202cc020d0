// The pure half of the client: building request payloads and reading
// replies, metadata and room messages. Nothing here touches the network, so
// all of it is unit-tested without a broker. Applications do not need it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mqchat/client/types.hpp"

namespace mqchat::client::detail {

// MQTT v5 user properties in arrival order (names may repeat).
using UserProperties = std::vector<std::pair<std::string, std::string>>;

// `bytes` cryptographically random bytes as lowercase hex (2 * bytes digits).
// Throws std::runtime_error if the system has no randomness to give.
[[nodiscard]] std::string random_hex(std::size_t bytes);

// Request payloads of docs/protocol.md, "Operations".
[[nodiscard]] std::string credentials_request(std::string_view user,
                                              std::string_view password);
[[nodiscard]] std::string room_request(std::string_view room, std::string_view password);
// leave, members, delete: {"room":...}.
[[nodiscard]] std::string room_only_request(std::string_view room);
// kick, ban, unban: {"room":...,"user":...}.
[[nodiscard]] std::string room_user_request(std::string_view room, std::string_view user);
[[nodiscard]] std::string passwd_request(std::string_view room, std::string_view password,
                                         bool revoke_members);

// {"op":"present","token":...} for the plugin's control topic.
[[nodiscard]] std::string present_payload(std::string_view join_token);

// {"id":...,"text":...} for a room's msg topic.
[[nodiscard]] std::string message_payload(std::string_view id, std::string_view text);

// {"room":...} plus whichever of "before", "after" and "limit" are given.
[[nodiscard]] std::string history_request(std::string_view room,
                                          std::optional<std::int64_t> before,
                                          std::optional<std::int64_t> after,
                                          std::optional<int> limit);

// Reads a control reply. Returns the whole object when "ok" is true.
// Throws Error with the replied code when "ok" is false (an unknown code
// becomes internal_error, its text kept in the message), and Error
// internal_error when the payload is not a reply at all.
[[nodiscard]] nlohmann::json parse_reply(std::string_view payload);

// Reads a room metadata object. Throws Error internal_error when a field is
// missing or has the wrong type.
[[nodiscard]] RoomInfo room_info_from_json(const nlohmann::json& meta);

// Reads the "members" array of a members reply. Throws Error
// internal_error when it is missing or malformed.
[[nodiscard]] std::vector<Member> members_from_json(const nlohmann::json& reply);

// Reads a retained metadata payload. nullopt for an empty payload (a deleted
// room) and for anything malformed; `why` then says what was wrong.
[[nodiscard]] std::optional<RoomInfo> parse_room_meta(std::string_view payload,
                                                      std::string* why = nullptr);

// Builds a Message from a delivered room message. The sender, seq and ts come
// only from the user properties (the broker stamps them; whatever the
// payload says is ignored). Returns nullopt when the payload is not
// {"id": string, "text": string} or a property is missing or malformed; `why`
// then says what was wrong (never the message text).
[[nodiscard]] std::optional<Message> parse_room_message(std::string_view room_name,
                                                        std::string_view room_id,
                                                        std::string_view payload,
                                                        const UserProperties& properties,
                                                        std::string_view own_user,
                                                        std::string* why = nullptr);

// The broker-stamped seq of a delivered room message, read on its own so a
// message with a malformed payload still counts as seen. nullopt when the
// property is missing or not an integer.
[[nodiscard]] std::optional<std::int64_t> stamped_seq(const UserProperties& properties);

// One entry of a history reply. `message` is empty when the archive marks
// the entry malformed (or it lacks a field): its seq still counts as seen.
struct ArchiveEntry {
    std::int64_t seq = 0;
    std::optional<Message> message;
};

// A history reply (docs/protocol.md, "History"); entries oldest first.
struct HistoryBatch {
    std::string room_id;
    std::vector<ArchiveEntry> entries;
    bool more = false;           // more in the direction asked for
    std::int64_t last_seq = 0;   // newest seq archived for the room
};

// Reads an ok history reply for the room the caller calls `room_name`.
// Entries without an integer seq are skipped (they cannot be counted).
// Throws Error internal_error when "messages" is not an array.
[[nodiscard]] HistoryBatch history_from_json(const nlohmann::json& reply,
                                             std::string_view room_name,
                                             std::string_view own_user);

// Remembers the last `per_room` message ids of every room, so a message
// delivered twice (a retried QoS 1 send, a resubscribe) is shown once.
// Memory stays bounded: the oldest ids of a room are forgotten first.
// Not thread-safe; the Client uses it from its dispatch thread only.
class MessageDeduper {
public:
    explicit MessageDeduper(std::size_t per_room = 4096) : per_room_(per_room) {}

    // True the first time `message_id` is seen in `room_id`.
    [[nodiscard]] bool first_time(const std::string& room_id, const std::string& message_id);

private:
    struct Seen {
        std::deque<std::string> order;
        std::unordered_set<std::string> ids;
    };
    std::size_t per_room_;
    std::map<std::string, Seen> rooms_;
};

}  // namespace mqchat::client::detail
