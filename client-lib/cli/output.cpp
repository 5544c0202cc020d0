#include "output.hpp"

#include <ctime>

namespace mqchat::cli {

std::string human_line(const client::Message& message)
{
    std::time_t seconds = static_cast<std::time_t>(message.ts / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M:%S", &local);

    std::string who = message.sender + (message.mine ? " (you)" : "");
    return "[" + std::string(clock) + "] " + who + ": " + message.text;
}

nlohmann::json message_json(const client::Message& message)
{
    return {{"room", message.room}, {"id", message.id},   {"sender", message.sender},
            {"text", message.text}, {"ts", message.ts},   {"mine", message.mine},
            {"seq", message.seq}};
}

nlohmann::json room_json(const client::RoomInfo& room)
{
    return {{"id", room.id},           {"name", room.name},
            {"owner", room.owner},     {"protected", room.is_protected},
            {"members", room.members}, {"created", room.created}};
}

nlohmann::json member_json(const client::Member& member)
{
    return {{"user", member.user}, {"role", member.role}, {"joined", member.joined}};
}

std::string human_room(const client::RoomInfo& room)
{
    std::string line = room.name + " (" + room.id + ") owner " + room.owner + ", " +
                       std::to_string(room.members) +
                       (room.members == 1 ? " member" : " members");
    if (room.is_protected) {
        line += ", protected";
    }
    return line;
}

std::string error_line(const std::string& code, const std::string& message)
{
    return "mqchat: error: " + code + ": " + message;
}

nlohmann::json error_json(const std::string& code, const std::string& message)
{
    return {{"error", {{"code", code}, {"message", message}}}};
}

std::string json_line(const nlohmann::json& value)
{
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mqchat::cli
