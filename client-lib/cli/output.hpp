// How `mqchat` prints messages, rooms and errors, in human and JSON form.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mqchat/client/types.hpp"

namespace mqchat::cli {

// "[HH:MM:SS] alice: hello", own messages as "alice (you): hello". The time
// is the broker's timestamp in local time.
[[nodiscard]] std::string human_line(const client::Message& message);

// {"room","id","sender","text","ts","mine","seq"}
[[nodiscard]] nlohmann::json message_json(const client::Message& message);

// The metadata fields: {"id","name","owner","protected","members","created"}
[[nodiscard]] nlohmann::json room_json(const client::RoomInfo& room);

// {"user","role","joined"}
[[nodiscard]] nlohmann::json member_json(const client::Member& member);

// "Book club (3f9a0c61d2b4) owner alice, 2 members, protected"
[[nodiscard]] std::string human_room(const client::RoomInfo& room);

// "mqchat: error: <code>: <message>"
[[nodiscard]] std::string error_line(const std::string& code, const std::string& message);

// {"error":{"code":...,"message":...}}
[[nodiscard]] nlohmann::json error_json(const std::string& code, const std::string& message);

// One JSON line, with invalid UTF-8 replaced rather than thrown on.
[[nodiscard]] std::string json_line(const nlohmann::json& value);

}  // namespace mqchat::cli
