#include "output.hpp"

#include <algorithm>
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
    return {{"id", room.id},
            {"name", room.name},
            {"owner", room.owner},
            {"protected", room.is_protected},
            {"members", room.members},
            {"created", room.created},
            {"listed", room.listed},
            {"description", room.description},
            {"online", room.online},
            {"member", room.member}};
}

nlohmann::json member_json(const client::Member& member)
{
    return {{"user", member.user},
            {"role", member.role},
            {"joined", member.joined},
            {"online", member.online}};
}

namespace {

// Characters as a terminal shows them, roughly: UTF-8 continuation bytes
// take no column. (Wide characters such as CJK take two; not handled.)
std::size_t columns(const std::string& text)
{
    std::size_t count = 0;
    for (unsigned char c : text) {
        count += (c & 0xc0) != 0x80 ? 1 : 0;
    }
    return count;
}

// Rows of cells as aligned text, two spaces between columns, the last
// column not padded, no trailing spaces.
std::string align(const std::vector<std::vector<std::string>>& rows)
{
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], columns(row[i]));
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - columns(row[i]) + 2, ' ');
            }
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out += line + "\n";
    }
    return out;
}

}  // namespace

std::string rooms_table(const std::vector<client::RoomInfo>& rooms)
{
    if (rooms.empty()) {
        return "no rooms\n";
    }
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "ID", "OWNER", "MEMBERS", "ONLINE", "FLAGS", "DESCRIPTION"}};
    for (const auto& room : rooms) {
        std::string flags;
        auto flag = [&flags](const char* name) {
            flags += (flags.empty() ? "" : ",") + std::string(name);
        };
        if (room.member) {
            flag("member");
        }
        if (room.is_protected) {
            flag("protected");
        }
        if (!room.listed) {
            flag("unlisted");
        }
        rows.push_back({room.name, room.id, room.owner, std::to_string(room.members),
                        std::to_string(room.online), flags.empty() ? "-" : flags,
                        room.description});
    }
    return align(rows);
}

std::string members_table(const std::vector<client::Member>& members)
{
    std::vector<std::vector<std::string>> rows;
    for (const auto& member : members) {
        rows.push_back({member.user, member.role, member.online ? "online" : "offline"});
    }
    return align(rows);
}

std::string presence_line(const client::PresenceEvent& event)
{
    std::string line = "* " + event.user;
    switch (event.change) {
    case client::PresenceChange::joined:
        return line + " joined";
    case client::PresenceChange::left:
        return line + " left";
    case client::PresenceChange::online:
        return line + " is online";
    case client::PresenceChange::offline:
        return line + (event.initial ? " is offline" : " went offline");
    }
    return line;
}

nlohmann::json presence_json(const client::PresenceEvent& event)
{
    return {{"type", "presence"},
            {"room", event.room},
            {"user", event.user},
            {"online", event.online},
            {"change", std::string(client::to_string(event.change))},
            {"role", event.role},
            {"since", event.since},
            {"initial", event.initial}};
}

std::string typing_line(const client::TypingEvent& event)
{
    return "* " + event.user + (event.typing ? " is typing\u2026" : " stopped typing");
}

nlohmann::json typing_json(const client::TypingEvent& event)
{
    return {{"type", "typing"},
            {"room", event.room},
            {"user", event.user},
            {"typing", event.typing}};
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
