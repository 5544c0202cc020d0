#include "mqchat/client/detail/wire.hpp"

#include <charconv>
#include <stdexcept>

#include <openssl/rand.h>

#include "mqchat/client/error.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client::detail {

using nlohmann::json;

namespace {

// dump() with replacement: a stray invalid byte must not turn into an
// exception deep inside a send; the callers validate UTF-8 beforehand anyway.
std::string dump(const json& value)
{
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<json> parse_object(std::string_view payload)
{
    json value = json::parse(payload, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::int64_t> to_int64(std::string_view text)
{
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) {
        return std::nullopt;
    }
    return value;
}

// The last value of a user property: the broker replaces the client's, so
// there should be one, but if a relay appended its own the broker's is last.
const std::string* find_property(const UserProperties& properties, std::string_view name)
{
    const std::string* found = nullptr;
    for (const auto& [key, value] : properties) {
        if (key == name) {
            found = &value;
        }
    }
    return found;
}

void set_why(std::string* why, std::string text)
{
    if (why != nullptr) {
        *why = std::move(text);
    }
}

}  // namespace

std::string random_hex(std::size_t bytes)
{
    std::string raw(bytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
        throw std::runtime_error("no randomness available (RAND_bytes failed)");
    }

    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes * 2);
    for (unsigned char byte : raw) {
        hex.push_back(digits[byte >> 4]);
        hex.push_back(digits[byte & 0x0f]);
    }
    return hex;
}

std::string credentials_request(std::string_view user, std::string_view password)
{
    return dump({{"user", user}, {"password", password}});
}

std::string room_request(std::string_view room, std::string_view password)
{
    return dump({{"room", room}, {"password", password}});
}

std::string room_only_request(std::string_view room)
{
    return dump({{"room", room}});
}

std::string room_user_request(std::string_view room, std::string_view user)
{
    return dump({{"room", room}, {"user", user}});
}

std::string passwd_request(std::string_view room, std::string_view password,
                           bool revoke_members)
{
    return dump({{"room", room}, {"password", password}, {"revoke", revoke_members}});
}

std::string present_payload(std::string_view join_token)
{
    return dump({{"op", "present"}, {"token", join_token}});
}

std::string message_payload(std::string_view id, std::string_view text)
{
    return dump({{"id", id}, {"text", text}});
}

std::string history_request(std::string_view room, std::optional<std::int64_t> before,
                            std::optional<std::int64_t> after, std::optional<int> limit)
{
    json body = {{"room", room}};
    if (before) {
        body["before"] = *before;
    }
    if (after) {
        body["after"] = *after;
    }
    if (limit) {
        body["limit"] = *limit;
    }
    return dump(body);
}

json parse_reply(std::string_view payload)
{
    auto reply = parse_object(payload);
    if (!reply || !reply->contains("ok") || !(*reply)["ok"].is_boolean()) {
        throw Error(ErrorCode::internal_error, "malformed reply from the room manager");
    }
    if ((*reply)["ok"].get<bool>()) {
        return std::move(*reply);
    }

    // A refusal: take the code and message, tolerating a sloppy error object.
    std::string code_text = "internal_error";
    std::string message = "request refused";
    if (auto it = reply->find("error"); it != reply->end() && it->is_object()) {
        if (auto c = it->find("code"); c != it->end() && c->is_string()) {
            code_text = c->get<std::string>();
        }
        if (auto m = it->find("message"); m != it->end() && m->is_string()) {
            message = m->get<std::string>();
        }
    }
    auto code = error_code_from_string(code_text);
    if (!code || *code == ErrorCode::ok) {
        throw Error(ErrorCode::internal_error, code_text + ": " + message);
    }
    throw Error(*code, message);
}

RoomInfo room_info_from_json(const json& meta)
{
    try {
        RoomInfo info;
        info.id = meta.at("id").get<std::string>();
        info.name = meta.at("name").get<std::string>();
        info.owner = meta.at("owner").get<std::string>();
        info.is_protected = meta.at("protected").get<bool>();
        info.members = meta.at("members").get<int>();
        info.created = meta.at("created").get<std::int64_t>();
        return info;
    } catch (const json::exception& e) {
        throw Error(ErrorCode::internal_error, std::string("malformed room metadata: ") + e.what());
    }
}

std::vector<Member> members_from_json(const json& reply)
{
    try {
        std::vector<Member> members;
        for (const auto& m : reply.at("members")) {
            members.push_back({m.at("user").get<std::string>(), m.at("role").get<std::string>(),
                               m.at("joined").get<std::int64_t>()});
        }
        return members;
    } catch (const json::exception& e) {
        throw Error(ErrorCode::internal_error, std::string("malformed member list: ") + e.what());
    }
}

std::optional<RoomInfo> parse_room_meta(std::string_view payload, std::string* why)
{
    if (payload.empty()) {
        set_why(why, "empty (room deleted)");
        return std::nullopt;
    }
    auto meta = parse_object(payload);
    if (!meta) {
        set_why(why, "not a JSON object");
        return std::nullopt;
    }
    try {
        return room_info_from_json(*meta);
    } catch (const Error& e) {
        set_why(why, e.message());
        return std::nullopt;
    }
}

std::optional<Message> parse_room_message(std::string_view room_name, std::string_view room_id,
                                          std::string_view payload,
                                          const UserProperties& properties,
                                          std::string_view own_user, std::string* why)
{
    // The payload: only id and text are ours to read.
    auto body = parse_object(payload);
    if (!body) {
        set_why(why, "payload is not a JSON object");
        return std::nullopt;
    }
    auto id = body->find("id");
    auto text = body->find("text");
    if (id == body->end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
        set_why(why, "missing or non-string id");
        return std::nullopt;
    }
    if (text == body->end() || !text->is_string()) {
        set_why(why, "missing or non-string text");
        return std::nullopt;
    }

    // The broker's stamps: without them the sender is unknown, so skip.
    const std::string* sender = find_property(properties, topic::prop_sender);
    const std::string* seq = find_property(properties, topic::prop_seq);
    const std::string* ts = find_property(properties, topic::prop_ts);
    if (sender == nullptr || sender->empty() || seq == nullptr || ts == nullptr) {
        set_why(why, "missing sender/seq/ts user property");
        return std::nullopt;
    }
    auto seq_value = to_int64(*seq);
    auto ts_value = to_int64(*ts);
    if (!seq_value || !ts_value) {
        set_why(why, "seq or ts user property is not an integer");
        return std::nullopt;
    }

    Message message;
    message.room = std::string(room_name);
    message.room_id = std::string(room_id);
    message.id = id->get<std::string>();
    message.sender = *sender;
    message.text = text->get<std::string>();
    message.seq = *seq_value;
    message.ts = *ts_value;
    message.mine = (*sender == own_user);
    return message;
}

std::optional<std::int64_t> stamped_seq(const UserProperties& properties)
{
    const std::string* seq = find_property(properties, topic::prop_seq);
    return seq == nullptr ? std::nullopt : to_int64(*seq);
}

namespace {

// One archived message; nullopt when any field is missing or mistyped, which
// the caller then treats like an entry marked malformed.
std::optional<Message> archived_message(const json& entry, std::string_view room_name,
                                        std::string_view room_id, std::string_view own_user)
{
    if (auto flag = entry.find("malformed"); flag != entry.end() && *flag != false) {
        return std::nullopt;
    }
    auto id = entry.find("id");
    auto sender = entry.find("sender");
    auto text = entry.find("text");
    auto ts = entry.find("ts");
    if (id == entry.end() || !id->is_string() || sender == entry.end() ||
        !sender->is_string() || text == entry.end() || !text->is_string() ||
        ts == entry.end() || !ts->is_number_integer()) {
        return std::nullopt;
    }
    Message message;
    message.room = std::string(room_name);
    message.room_id = std::string(room_id);
    message.id = id->get<std::string>();
    message.sender = sender->get<std::string>();
    message.text = text->get<std::string>();
    message.seq = entry.at("seq").get<std::int64_t>();
    message.ts = ts->get<std::int64_t>();
    message.mine = (message.sender == own_user);
    return message;
}

}  // namespace

HistoryBatch history_from_json(const json& reply, std::string_view room_name,
                               std::string_view own_user)
{
    auto messages = reply.find("messages");
    if (messages == reply.end() || !messages->is_array()) {
        throw Error(ErrorCode::internal_error, "history reply without a messages array");
    }

    HistoryBatch batch;
    if (auto room = reply.find("room"); room != reply.end() && room->is_object()) {
        if (auto id = room->find("id"); id != room->end() && id->is_string()) {
            batch.room_id = id->get<std::string>();
        }
    }
    if (auto more = reply.find("more"); more != reply.end() && more->is_boolean()) {
        batch.more = more->get<bool>();
    }
    if (auto last = reply.find("last_seq"); last != reply.end() && last->is_number_integer()) {
        batch.last_seq = last->get<std::int64_t>();
    }

    for (const auto& entry : *messages) {
        auto seq = entry.is_object() ? entry.find("seq") : entry.end();
        if (!entry.is_object() || seq == entry.end() || !seq->is_number_integer()) {
            continue;
        }
        batch.entries.push_back(
            {seq->get<std::int64_t>(), archived_message(entry, room_name, batch.room_id,
                                                        own_user)});
    }
    return batch;
}

bool MessageDeduper::first_time(const std::string& room_id, const std::string& message_id)
{
    Seen& seen = rooms_[room_id];
    if (!seen.ids.insert(message_id).second) {
        return false;
    }
    seen.order.push_back(message_id);
    if (seen.order.size() > per_room_) {
        seen.ids.erase(seen.order.front());
        seen.order.pop_front();
    }
    return true;
}

}  // namespace mqchat::client::detail
