// How `mqchat` prints messages, rooms and errors, in human and JSON form.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mqchat/client/types.hpp"

namespace mqchat::cli {

// "[HH:MM:SS] alice: hello", own messages as "alice (you): hello". The time
// is the broker's timestamp in local time.
[[nodiscard]] std::string human_line(const client::Message& message);

// {"room","id","sender","text","ts","mine","seq"}
[[nodiscard]] nlohmann::json message_json(const client::Message& message);

// The metadata fields plus whether the user is a member:
// {"id","name","owner","protected","members","created","listed",
//  "description","online","member"}
[[nodiscard]] nlohmann::json room_json(const client::RoomInfo& room);

// {"user","role","joined","online"}
[[nodiscard]] nlohmann::json member_json(const client::Member& member);

// A table of rooms, one line each after a header line, columns aligned:
// NAME, ID, OWNER, MEMBERS, ONLINE, FLAGS (member, protected, unlisted),
// DESCRIPTION. "no rooms" when there are none.
[[nodiscard]] std::string rooms_table(const std::vector<client::RoomInfo>& rooms);

// One line per member, columns aligned: "alice  owner   online".
[[nodiscard]] std::string members_table(const std::vector<client::Member>& members);

// "* bob joined", "* bob left", "* bob is online", "* bob went offline"
// ("* bob is offline" when it comes from the snapshot on entering).
[[nodiscard]] std::string presence_line(const client::PresenceEvent& event);

// {"type":"presence","room","user","online","change","role","since","initial"}
[[nodiscard]] nlohmann::json presence_json(const client::PresenceEvent& event);

// "* bob is typing…" or "* bob stopped typing".
[[nodiscard]] std::string typing_line(const client::TypingEvent& event);

// {"type":"typing","room","user","typing"}
[[nodiscard]] nlohmann::json typing_json(const client::TypingEvent& event);

// "mqchat: error: <code>: <message>"
[[nodiscard]] std::string error_line(const std::string& code, const std::string& message);

// {"error":{"code":...,"message":...}}
[[nodiscard]] nlohmann::json error_json(const std::string& code, const std::string& message);

// One JSON line, with invalid UTF-8 replaced rather than thrown on.
[[nodiscard]] std::string json_line(const nlohmann::json& value);

}  // namespace mqchat::cli
