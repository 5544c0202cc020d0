#include "mqchat/service/room_manager.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <stdexcept>

#include "mqchat/names.hpp"

namespace mqchat::service {

using nlohmann::json;

namespace {

// Fixed, human-readable messages: replies never echo request bytes.
std::string_view message_for(ErrorCode code)
{
    switch (code) {
    case ErrorCode::bad_json: return "payload is not a JSON object";
    case ErrorCode::bad_request: return "a field is missing or has the wrong type";
    case ErrorCode::payload_too_large: return "payload is over 16 KiB";
    case ErrorCode::invalid_utf8: return "a string is not valid UTF-8";
    case ErrorCode::invalid_name: return "the name breaks the naming rules";
    case ErrorCode::weak_password: return "password is empty or longer than 1024 bytes";
    case ErrorCode::unknown_op: return "no such operation";
    case ErrorCode::not_authenticated: return "this operation needs a logged-in user";
    case ErrorCode::user_exists: return "user name is taken";
    case ErrorCode::bad_credentials: return "unknown user or wrong password";
    case ErrorCode::room_exists: return "room name is taken";
    case ErrorCode::no_such_room: return "no room by that name";
    case ErrorCode::wrong_password: return "wrong room password";
    case ErrorCode::not_member: return "not a member of that room";
    case ErrorCode::rate_limited: return "too many failed attempts; wait and retry";
    case ErrorCode::not_owner: return "only the room's owner may do that";
    case ErrorCode::banned: return "the owner banned you from this room";
    case ErrorCode::no_such_user: return "no user by that name";
    case ErrorCode::owner_cannot_leave:
        return "the owner cannot leave or be removed; delete the room instead";
    default: return "the service failed; the request had no effect";
    }
}

std::string dump(const json& value)
{
    // `replace` keeps dump() from throwing on a string that slipped past validation.
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply error_reply(ErrorCode code)
{
    json body = {{"ok", false},
                 {"error", {{"code", to_string(code)}, {"message", message_for(code)}}}};
    return {code, dump(body)};
}

Reply ok_reply(json fields)
{
    fields["ok"] = true;
    return {ErrorCode::ok, dump(fields)};
}

std::string random_room_id()
{
    std::array<unsigned char, 6> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 0x0f];
    }
    return id;
}

// The plugin's control message for a revocation (docs/protocol.md).
std::string revocation_message(const Revocation& r)
{
    return dump({{"op", "revoke"}, {"room", r.room_id}, {"user", r.user},
                 {"before_ms", r.before_ms}});
}

bool is_known_op(std::string_view op)
{
    for (std::string_view known :
         {op::register_user, op::login, op::create, op::join, op::leave, op::whoami,
          op::members, op::kick, op::ban, op::unban, op::passwd, op::delete_room,
          op::history}) {
        if (op == known) {
            return true;
        }
    }
    return false;
}

}  // namespace

// A parsed request with its validated string fields.
struct RoomManager::Request {
    std::string_view op;
    const Requester& who;
    json body;

    // Reads a string field; bad_request if missing or not a string.
    ErrorCode string_field(const char* key, std::string& out) const
    {
        const auto it = body.find(key);
        if (it == body.end() || !it->is_string()) {
            return ErrorCode::bad_request;
        }
        out = it->get<std::string>();
        return is_valid_utf8(out) ? ErrorCode::ok : ErrorCode::invalid_utf8;
    }
};

RoomManager::RoomManager(Store& store, const PasswordHasher& hasher, const TokenSigner& signer,
                         Publisher& publisher, RoomManagerConfig config, Clock clock)
    : store_(store),
      hasher_(hasher),
      signer_(signer),
      publisher_(publisher),
      config_(config),
      clock_(clock ? std::move(clock) : Clock([] { return now_millis(); })),
      user_failures_(config.user_join_failures),
      room_failures_(config.room_join_failures),
      login_failures_(config.login_failures),
      dummy_hash_(hasher.hash("mqchat: nobody has this password"))
{
}

std::int64_t RoomManager::next_stamp_ms()
{
    std::lock_guard lock(stamp_mutex_);
    last_stamp_ms_ = std::max(clock_(), last_stamp_ms_ + 1);
    return last_stamp_ms_;
}

Reply RoomManager::handle(std::string_view op, const Requester& who, std::string_view payload)
{
    // Checks that need no parsing, cheapest first.
    if (payload.size() > limits::max_control_payload) {
        return error_reply(ErrorCode::payload_too_large);
    }

    json body = json::parse(payload, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
        // nlohmann refuses invalid UTF-8 while parsing; name that cause precisely.
        if (body.is_discarded() && !is_valid_utf8(payload)) {
            return error_reply(ErrorCode::invalid_utf8);
        }
        return error_reply(ErrorCode::bad_json);
    }
    if (!is_known_op(op)) {
        return error_reply(ErrorCode::unknown_op);
    }
    if (who.user.empty() && !op::allowed_for_guest(op)) {
        return error_reply(ErrorCode::not_authenticated);
    }

    const Request request{op, who, std::move(body)};
    try {
        if (op == op::register_user) return do_register(request);
        if (op == op::login) return do_login(request);
        if (op == op::create) return do_create(request);
        if (op == op::join) return do_join(request);
        if (op == op::leave) return do_leave(request);
        if (op == op::members) return do_members(request);
        if (op == op::kick) return do_kick(request, false);
        if (op == op::ban) return do_kick(request, true);
        if (op == op::unban) return do_unban(request);
        if (op == op::passwd) return do_passwd(request);
        if (op == op::delete_room) return do_delete(request);
        if (op == op::history) return do_history(request);
        return do_whoami(request);
    } catch (const std::exception& e) {
        spdlog::error("room_manager: op={} user={} internal error: {}", op, who.user, e.what());
    } catch (...) {
        spdlog::error("room_manager: op={} user={} unknown internal error", op, who.user);
    }
    return error_reply(ErrorCode::internal_error);
}

Reply RoomManager::do_register(const Request& request)
{
    // Fields, then the rules for each.
    std::string user;
    std::string password;
    for (auto code : {request.string_field("user", user),
                      request.string_field("password", password)}) {
        if (code != ErrorCode::ok) return error_reply(code);
    }
    if (auto code = check_user_name(user); code != ErrorCode::ok) return error_reply(code);
    if (auto code = check_password(password); code != ErrorCode::ok) return error_reply(code);
    if (user == config_.service_user) {
        return error_reply(ErrorCode::user_exists);
    }

    // Hash outside the store lock; the insert decides races on the name.
    const std::string hash = hasher_.hash(password);
    if (!store_.add_user(user, hash, clock_() / 1000)) {
        return error_reply(ErrorCode::user_exists);
    }
    spdlog::info("room_manager: op=register user={}", user);
    return ok_reply({{"user", user}});
}

Reply RoomManager::do_login(const Request& request)
{
    std::string user;
    std::string password;
    for (auto code : {request.string_field("user", user),
                      request.string_field("password", password)}) {
        if (code != ErrorCode::ok) return error_reply(code);
    }
    if (auto code = check_user_name(user); code != ErrorCode::ok) return error_reply(code);
    if (auto code = check_password(password); code != ErrorCode::ok) return error_reply(code);

    // Refuse a guesser before spending an Argon2 verify on them.
    if (login_failures_.blocked(user, clock_())) {
        spdlog::warn("room_manager: op=login user={} result=rate_limited", user);
        return error_reply(ErrorCode::rate_limited);
    }

    // Unknown users cost one verify too, so timing does not reveal who exists.
    const auto stored = store_.user_hash(user);
    const bool matches = hasher_.verify(stored ? *stored : dummy_hash_, password);
    if (!stored || !matches) {
        login_failures_.record_failure(user, clock_());
        spdlog::info("room_manager: op=login user={} result=bad_credentials", user);
        return error_reply(ErrorCode::bad_credentials);
    }

    TokenClaims claims;
    claims.type = TokenType::session;
    claims.user = user;
    claims.issued_ms = next_stamp_ms();
    claims.expires_s = claims.issued_ms / 1000 + config_.session_lifetime.count();
    claims.is_operator = config_.operators.contains(user);
    const std::string token = signer_.sign(claims);

    spdlog::info("room_manager: op=login user={} client={} operator={}", user,
                 request.who.client_id, claims.is_operator);
    return ok_reply({{"user", user}, {"token", token}, {"expires", claims.expires_s}});
}

namespace {

json meta_json(const RoomRecord& room, std::int64_t members)
{
    return {{"id", room.id},         {"name", room.name},       {"owner", room.owner},
            {"protected", true},     {"members", members},      {"created", room.created}};
}

}  // namespace

void RoomManager::publish_meta(const RoomRecord& room)
{
    const json meta = meta_json(room, store_.member_count(room.id));
    publisher_.publish(topic::room_meta(room.id), dump(meta), true);
}

void RoomManager::publish_all_meta()
{
    try {
        const auto rooms = store_.rooms();
        for (const auto& room : rooms) {
            publish_meta(room);
        }
        spdlog::info("room_manager: republished meta rooms={}", rooms.size());
    } catch (const std::exception& e) {
        spdlog::error("room_manager: republishing meta failed: {}", e.what());
    }
}

Reply RoomManager::do_create(const Request& request)
{
    std::string name;
    std::string password;
    for (auto code : {request.string_field("room", name),
                      request.string_field("password", password)}) {
        if (code != ErrorCode::ok) return error_reply(code);
    }
    if (auto code = check_room_name(name); code != ErrorCode::ok) return error_reply(code);
    if (auto code = check_password(password); code != ErrorCode::ok) return error_reply(code);

    // Cheap early answer; the insert below is what really decides.
    if (store_.find_room_by_name(name)) {
        return error_reply(ErrorCode::room_exists);
    }

    RoomRecord room;
    room.name = name;
    room.owner = request.who.user;
    room.password_hash = hasher_.hash(password);
    room.created = clock_() / 1000;

    // A fresh id collides with probability 2^-48 per room; retry a few times anyway.
    bool stored = false;
    for (int attempt = 0; attempt < 3 && !stored; ++attempt) {
        room.id = random_room_id();
        stored = store_.add_room(room, clock_());
        if (!stored && store_.find_room_by_name(name)) {
            return error_reply(ErrorCode::room_exists);
        }
    }
    if (!stored) {
        throw std::runtime_error("could not allocate a room id");
    }

    publish_meta(room);

    spdlog::info("room_manager: op=create user={} room={}", room.owner, room.id);
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))},
                     {"token", sign_join_token(room.owner, room.id)}});
}

Reply RoomManager::do_join(const Request& request)
{
    std::string name;
    std::string password;
    for (auto code : {request.string_field("room", name),
                      request.string_field("password", password)}) {
        if (code != ErrorCode::ok) return error_reply(code);
    }
    if (auto code = check_room_name(name); code != ErrorCode::ok) return error_reply(code);
    if (auto code = check_password(password); code != ErrorCode::ok) return error_reply(code);

    const auto room = store_.find_room_by_name(name);
    if (!room) {
        return error_reply(ErrorCode::no_such_room);
    }

    // Refuse before spending an Argon2 verify on a guesser.
    const std::string& user = request.who.user;
    const std::string user_key = user + '\n' + room->id;
    if (user_failures_.blocked(user_key, clock_()) || room_failures_.blocked(room->id, clock_())) {
        spdlog::warn("room_manager: op=join user={} room={} result=rate_limited", user, room->id);
        return error_reply(ErrorCode::rate_limited);
    }
    if (store_.is_banned(room->id, user)) {
        spdlog::info("room_manager: op=join user={} room={} result=banned", user, room->id);
        return error_reply(ErrorCode::banned);
    }
    if (!hasher_.verify(room->password_hash, password)) {
        user_failures_.record_failure(user_key, clock_());
        room_failures_.record_failure(room->id, clock_());
        spdlog::info("room_manager: op=join user={} room={} result=wrong_password", user,
                     room->id);
        return error_reply(ErrorCode::wrong_password);
    }

    if (store_.add_member(room->id, user, MemberRole::member, clock_())) {
        publish_meta(*room);
    }

    spdlog::info("room_manager: op=join user={} room={}", user, room->id);
    return ok_reply({{"room", meta_json(*room, store_.member_count(room->id))},
                     {"token", sign_join_token(user, room->id)}});
}

Reply RoomManager::do_leave(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, false, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    const std::string& user = request.who.user;
    if (user == room.owner) {
        return error_reply(ErrorCode::owner_cannot_leave);
    }
    if (!store_.remove_member(room.id, user)) {
        return error_reply(ErrorCode::not_member);
    }

    // Revoke after the membership is gone: a join racing with this leave
    // gets a token stamped after the revocation only if it re-added the member.
    revoke(room.id, user);
    publish_meta(room);

    spdlog::info("room_manager: op=leave user={} room={}", user, room.id);
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))}});
}

Reply RoomManager::do_whoami(const Request& request)
{
    return ok_reply({{"user", request.who.user}});
}

ErrorCode RoomManager::find_room(const Request& request, bool owner_only, RoomRecord& room)
{
    std::string name;
    if (auto code = request.string_field("room", name); code != ErrorCode::ok) {
        return code;
    }
    if (auto code = check_room_name(name); code != ErrorCode::ok) {
        return code;
    }
    auto found = store_.find_room_by_name(name);
    if (!found) {
        return ErrorCode::no_such_room;
    }
    if (owner_only && found->owner != request.who.user) {
        return ErrorCode::not_owner;
    }
    room = std::move(*found);
    return ErrorCode::ok;
}

ErrorCode RoomManager::target_user(const Request& request, std::string& user)
{
    if (auto code = request.string_field("user", user); code != ErrorCode::ok) {
        return code;
    }
    return check_user_name(user);
}

void RoomManager::revoke(const std::string& room_id, const std::string& user)
{
    const Revocation revocation{room_id, user, next_stamp_ms()};
    store_.add_revocation(revocation);
    publisher_.publish(std::string(topic::plugin_control), revocation_message(revocation),
                       false);
}

std::string RoomManager::sign_join_token(const std::string& user, const std::string& room_id)
{
    TokenClaims claims;
    claims.type = TokenType::join;
    claims.user = user;
    claims.room_id = room_id;
    claims.issued_ms = next_stamp_ms();
    claims.expires_s = claims.issued_ms / 1000 + config_.join_token_lifetime.count();
    return signer_.sign(claims);
}

Reply RoomManager::do_members(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, false, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    // The member list is for members only, like the room's messages.
    if (!store_.is_member(room.id, request.who.user)) {
        return error_reply(ErrorCode::not_member);
    }

    json members = json::array();
    const auto records = store_.members(room.id);
    for (const auto& m : records) {
        members.push_back({{"user", m.user},
                           {"role", m.role == MemberRole::owner ? "owner" : "member"},
                           {"joined", m.joined_ms / 1000}});
    }
    return ok_reply({{"room", meta_json(room, static_cast<std::int64_t>(records.size()))},
                     {"members", std::move(members)}});
}

// kick removes a member, who may rejoin with the password; ban also keeps
// them (member or not) from joining again until unban.
Reply RoomManager::do_kick(const Request& request, bool ban)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    std::string target;
    if (auto code = target_user(request, target); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (target == room.owner) {
        return error_reply(ErrorCode::owner_cannot_leave);
    }
    if (ban && !store_.user_exists(target)) {
        return error_reply(ErrorCode::no_such_user);
    }

    if (ban) {
        store_.add_ban(room.id, target, clock_());
    }
    const bool was_member = store_.remove_member(room.id, target);
    if (!ban && !was_member) {
        return error_reply(ErrorCode::not_member);
    }
    // A ban revokes even a non-member: a token from an earlier join is void.
    revoke(room.id, target);
    if (was_member) {
        publish_meta(room);
    }

    spdlog::info("room_manager: op={} user={} room={} target={}", ban ? "ban" : "kick",
                 request.who.user, room.id, target);
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))},
                     {"user", target}});
}

Reply RoomManager::do_unban(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    std::string target;
    if (auto code = target_user(request, target); code != ErrorCode::ok) {
        return error_reply(code);
    }
    const bool was_banned = store_.remove_ban(room.id, target);

    spdlog::info("room_manager: op=unban user={} room={} target={}", request.who.user, room.id,
                 target);
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))},
                     {"user", target},
                     {"was_banned", was_banned}});
}

// Changes the room password. With "revoke": true every member but the owner
// is removed and must rejoin with the new password.
Reply RoomManager::do_passwd(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    std::string password;
    if (auto code = request.string_field("password", password); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (auto code = check_password(password); code != ErrorCode::ok) {
        return error_reply(code);
    }
    bool revoke_members = false;
    if (auto it = request.body.find("revoke"); it != request.body.end()) {
        if (!it->is_boolean()) {
            return error_reply(ErrorCode::bad_request);
        }
        revoke_members = it->get<bool>();
    }

    store_.set_room_password(room.id, hasher_.hash(password));
    int revoked = 0;
    if (revoke_members) {
        for (const auto& m : store_.members(room.id)) {
            if (m.role != MemberRole::owner && store_.remove_member(room.id, m.user)) {
                revoke(room.id, m.user);
                ++revoked;
            }
        }
        publish_meta(room);
    }

    spdlog::info("room_manager: op=passwd user={} room={} revoked={}", request.who.user,
                 room.id, revoked);
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))},
                     {"revoked", revoked}});
}

Reply RoomManager::do_delete(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }

    // Revoke everyone first, so nobody reads on while the rest happens.
    revoke(room.id, "*");
    store_.delete_room(room.id);
    // An empty retained message clears the metadata, also from the broker's
    // persistence, so the room does not reappear after a restart.
    publisher_.publish(topic::room_meta(room.id), "", true);

    spdlog::info("room_manager: op=delete user={} room={}", request.who.user, room.id);
    return ok_reply({{"room", meta_json(room, 0)}, {"deleted", true}});
}

namespace {

// Broker packets are at most 64 KiB (mosquitto.conf.in); one message of
// 8 KiB text, even fully escaped, stays below this budget.
constexpr std::size_t max_history_reply_bytes = 56 * 1024;

// Reads an optional positive integer field; false if present but not one.
bool optional_seq(const json& body, const char* key, std::optional<std::int64_t>& out)
{
    const auto it = body.find(key);
    if (it == body.end()) {
        return true;
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
        return false;
    }
    out = it->get<std::int64_t>();
    return true;
}

json history_entry(const ArchivedMessage& m)
{
    json entry = {{"seq", m.seq}, {"sender", m.sender}, {"ts", m.ts}};
    if (m.id && m.text) {
        entry["id"] = *m.id;
        entry["text"] = *m.text;
    } else {
        entry["malformed"] = true;
    }
    return entry;
}

}  // namespace

Reply RoomManager::do_history(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, false, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (!store_.is_member(room.id, request.who.user)) {
        return error_reply(ErrorCode::not_member);
    }

    // Bounds and page size; anything odd is bad_request, not a silent clamp.
    HistoryQuery query;
    query.limit = limits::default_history_page;
    if (!optional_seq(request.body, "after", query.after) ||
        !optional_seq(request.body, "before", query.before)) {
        return error_reply(ErrorCode::bad_request);
    }
    if (const auto it = request.body.find("limit"); it != request.body.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
            it->get<std::int64_t>() > static_cast<std::int64_t>(limits::max_history_page)) {
            return error_reply(ErrorCode::bad_request);
        }
        query.limit = it->get<std::size_t>();
    }

    HistoryPage page = store_.history(room.id, query);

    // The reply must fit the broker's packet limit, or the broker would drop
    // the room manager's connection: keep the messages nearest to the
    // asked-for edge and say there is more.
    std::vector<json> entries;
    std::size_t bytes = 0;
    const bool forward = query.after.has_value();
    for (std::size_t i = 0; i < page.messages.size(); ++i) {
        const auto& m = forward ? page.messages[i] : page.messages[page.messages.size() - 1 - i];
        json entry = history_entry(m);
        bytes += dump(entry).size() + 1;
        if (bytes > max_history_reply_bytes && !entries.empty()) {
            page.more = true;
            break;
        }
        entries.push_back(std::move(entry));
    }
    if (!forward) {
        std::reverse(entries.begin(), entries.end());
    }
    json messages = json::array();
    for (auto& entry : entries) {
        messages.push_back(std::move(entry));
    }
    spdlog::debug("room_manager: op=history user={} room={} count={}", request.who.user, room.id,
                  page.messages.size());
    return ok_reply({{"room", meta_json(room, store_.member_count(room.id))},
                     {"messages", std::move(messages)},
                     {"more", page.more},
                     {"last_seq", page.last_seq}});
}

void RoomManager::publish_broker_state()
{
    try {
        const auto revocations = store_.revocations();
        for (const auto& r : revocations) {
            publisher_.publish(std::string(topic::plugin_control), revocation_message(r), false);
        }
        spdlog::info("room_manager: re-sent revocations count={}", revocations.size());
    } catch (const std::exception& e) {
        spdlog::error("room_manager: re-sending revocations failed: {}", e.what());
    }
    publish_all_meta();
}

}  // namespace mqchat::service
