#include "mqchat/service/room_manager.hpp"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <array>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

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
          op::history, op::rooms, op::update, op::transfer}) {
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

    // An optional string field; bad_request if present but not a string.
    ErrorCode optional_string(const char* key, std::optional<std::string>& out) const
    {
        if (!body.contains(key)) {
            return ErrorCode::ok;
        }
        std::string value;
        if (auto code = string_field(key, value); code != ErrorCode::ok) {
            return code;
        }
        out = std::move(value);
        return ErrorCode::ok;
    }

    // An optional boolean field; bad_request if present but not a boolean.
    ErrorCode optional_bool(const char* key, std::optional<bool>& out) const
    {
        const auto it = body.find(key);
        if (it == body.end()) {
            return ErrorCode::ok;
        }
        if (!it->is_boolean()) {
            return ErrorCode::bad_request;
        }
        out = it->get<bool>();
        return ErrorCode::ok;
    }

    // The optional "description" of create and update, at most
    // limits::max_description bytes of UTF-8.
    ErrorCode description(std::optional<std::string>& out) const
    {
        if (auto code = optional_string("description", out); code != ErrorCode::ok) {
            return code;
        }
        if (out && out->size() > limits::max_description) {
            return ErrorCode::bad_request;
        }
        return ErrorCode::ok;
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
      dummy_hash_(hasher.hash("mqchat: nobody has this password")),
      presence_(config.presence_grace, clock_)
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
        if (op == op::rooms) return do_rooms(request);
        if (op == op::update) return do_update(request);
        if (op == op::transfer) return do_transfer(request);
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
    // Names are unique regardless of case, the service account's too (user
    // names are ASCII, see check_user_name).
    auto folded = [](std::string name) {
        for (char& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return name;
    };
    if (folded(user) == folded(config_.service_user)) {
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

// The metadata object (docs/protocol.md, "Room metadata"); never a hash.
json meta_json(const RoomRecord& room, std::int64_t members, std::int64_t online)
{
    return {{"id", room.id},
            {"name", room.name},
            {"owner", room.owner},
            {"protected", true},
            {"members", members},
            {"online", online},
            {"created", room.created},
            {"listed", room.listed},
            {"description", room.description}};
}

std::string_view role_name(MemberRole role)
{
    return role == MemberRole::owner ? "owner" : "member";
}

}  // namespace

RoomManager::Counts RoomManager::counts(const std::string& room_id)
{
    Counts c;
    for (const auto& m : store_.members(room_id)) {
        ++c.members;
        if (presence_.is_online(m.user)) {
            ++c.online;
        }
    }
    return c;
}

void RoomManager::publish_meta(const RoomRecord& room)
{
    std::lock_guard lock(meta_mutex_);
    publish_meta_locked(room, clock_());
}

void RoomManager::publish_meta_locked(const RoomRecord& room, std::int64_t now)
{
    const Counts c = counts(room.id);
    publisher_.publish(topic::room_meta(room.id), dump(meta_json(room, c.members, c.online)),
                       true);
    meta_published_ms_[room.id] = now;
    dirty_rooms_.erase(room.id);
}

void RoomManager::mark_dirty(const std::string& room_id)
{
    std::lock_guard lock(meta_mutex_);
    dirty_rooms_.insert(room_id);
}

void RoomManager::flush_dirty_meta()
{
    std::lock_guard lock(meta_mutex_);
    const std::int64_t now = clock_();
    const std::int64_t interval = config_.meta_interval.count();
    const auto recent = [&](const std::string& id) {
        const auto it = meta_published_ms_.find(id);
        return it != meta_published_ms_.end() && now - it->second < interval;
    };

    // Each dirty room once its last publish is an interval old. The room is
    // read again: what goes out is its state now, and a deleted room stays gone.
    const std::vector<std::string> dirty(dirty_rooms_.begin(), dirty_rooms_.end());
    for (const auto& id : dirty) {
        if (recent(id)) {
            continue;
        }
        if (const auto room = store_.find_room_by_id(id)) {
            publish_meta_locked(*room, now);
        } else {
            dirty_rooms_.erase(id);
        }
    }

    // A publish older than the interval no longer holds anything back.
    std::erase_if(meta_published_ms_, [&](const auto& entry) {
        return !recent(entry.first) && !dirty_rooms_.contains(entry.first);
    });
}

void RoomManager::publish_presence(const std::string& room_id, const std::string& user,
                                   MemberRole role)
{
    // The state is read here, under membership_mutex_, so of two racing
    // changes the later publish carries the later state.
    const PresenceState state = presence_.state(user);
    const json body = {{"user", user},
                       {"role", role_name(role)},
                       {"online", state.online},
                       {"since", state.since_ms}};
    publisher_.publish(topic::room_presence(room_id, user), dump(body), true);
}

void RoomManager::clear_presence(const std::string& room_id, const std::string& user)
{
    // An empty retained message removes the topic, also from the broker's persistence.
    publisher_.publish(topic::room_presence(room_id, user), "", true);
}

void RoomManager::publish_change(const PresenceChange& change)
{
    std::vector<Membership> rooms;
    {
        std::lock_guard lock(membership_mutex_);
        rooms = store_.memberships_of(change.user);
        for (const auto& m : rooms) {
            publish_presence(m.room_id, m.user, m.role);
        }
    }
    for (const auto& m : rooms) {
        mark_dirty(m.room_id);
    }
    spdlog::debug("room_manager: presence user={} online={} rooms={}", change.user,
                  change.state.online, rooms.size());
}

void RoomManager::handle_presence(std::string_view payload)
{
    try {
        const json body = json::parse(payload, nullptr, false);
        const auto event = body.is_object() ? body.find("event") : body.end();
        if (body.is_discarded() || !body.is_object() || event == body.end() ||
            !event->is_string()) {
            spdlog::warn("room_manager: ignored presence message reason=malformed");
            return;
        }

        // One user's event.
        if (*event == "online" || *event == "offline") {
            const auto user = body.find("user");
            if (user == body.end() || !user->is_string() ||
                check_user_name(user->get<std::string>()) != ErrorCode::ok) {
                spdlog::warn("room_manager: ignored presence message reason=bad_user");
                return;
            }
            const std::string name = user->get<std::string>();
            const auto change =
                *event == "online" ? presence_.user_online(name) : presence_.user_offline(name);
            if (change) {
                publish_change(*change);
            }
            return;
        }

        if (*event != "snapshot") {
            spdlog::warn("room_manager: ignored presence message reason=unknown_event");
            return;
        }
        const auto online = body.find("online");
        if (online == body.end() || !online->is_array()) {
            spdlog::warn("room_manager: ignored presence message reason=bad_snapshot");
            return;
        }
        std::vector<std::string> users;
        for (const auto& u : *online) {
            if (u.is_string() && check_user_name(u.get<std::string>()) == ErrorCode::ok) {
                users.push_back(u.get<std::string>());
            }
        }

        // After a (re)connect the broker may hold stale retained presence
        // (restored from its persistence, or changed while we were away):
        // every membership is published again, and every count.
        presence_.snapshot(users);
        std::vector<Membership> all;
        {
            std::lock_guard lock(membership_mutex_);
            all = store_.memberships();
            for (const auto& m : all) {
                publish_presence(m.room_id, m.user, m.role);
            }
        }
        for (const auto& m : all) {
            mark_dirty(m.room_id);
        }
        spdlog::info("room_manager: presence snapshot online={} memberships={}", users.size(),
                     all.size());
    } catch (const std::exception& e) {
        spdlog::error("room_manager: presence message failed: {}", e.what());
    }
}

void RoomManager::tick()
{
    try {
        for (const auto& change : presence_.expire()) {
            publish_change(change);
        }
        flush_dirty_meta();
    } catch (const std::exception& e) {
        spdlog::error("room_manager: timer failed: {}", e.what());
    }
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
    std::optional<bool> listed;
    std::optional<std::string> description;
    if (auto code = request.optional_bool("listed", listed); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (auto code = request.description(description); code != ErrorCode::ok) {
        return error_reply(code);
    }

    // Cheap early answer; the insert below is what really decides.
    if (store_.find_room_by_name(name)) {
        return error_reply(ErrorCode::room_exists);
    }

    RoomRecord room;
    room.name = name;
    room.owner = request.who.user;
    room.password_hash = hasher_.hash(password);
    room.created = clock_() / 1000;
    room.listed = listed.value_or(true);
    room.description = description.value_or("");

    // A fresh id collides with probability 2^-48 per room; retry a few times anyway.
    {
        std::lock_guard lock(membership_mutex_);
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
        publish_presence(room.id, room.owner, MemberRole::owner);
    }
    publish_meta(room);

    spdlog::info("room_manager: op=create user={} room={} listed={}", room.owner, room.id,
                 room.listed);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)},
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

    bool added = false;
    {
        std::lock_guard lock(membership_mutex_);
        added = store_.add_member(room->id, user, MemberRole::member, clock_());
        if (added) {
            publish_presence(room->id, user, MemberRole::member);
        }
    }
    if (added) {
        mark_dirty(room->id);
    }

    spdlog::info("room_manager: op=join user={} room={}", user, room->id);
    const Counts c = counts(room->id);
    return ok_reply({{"room", meta_json(*room, c.members, c.online)},
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
    {
        std::lock_guard lock(membership_mutex_);
        if (!store_.remove_member(room.id, user)) {
            return error_reply(ErrorCode::not_member);
        }

        // Revoke after the membership is gone: a join racing with this leave
        // gets a token stamped after the revocation only if it re-added the member.
        revoke(room.id, user);
        clear_presence(room.id, user);
    }
    mark_dirty(room.id);

    spdlog::info("room_manager: op=leave user={} room={}", user, room.id);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)}});
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
    std::int64_t online = 0;
    for (const auto& m : records) {
        const bool is_online = presence_.is_online(m.user);
        online += is_online ? 1 : 0;
        members.push_back({{"user", m.user},
                           {"role", role_name(m.role)},
                           {"joined", m.joined_ms / 1000},
                           {"online", is_online}});
    }
    return ok_reply(
        {{"room", meta_json(room, static_cast<std::int64_t>(records.size()), online)},
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
    bool was_member = false;
    {
        std::lock_guard lock(membership_mutex_);
        was_member = store_.remove_member(room.id, target);
        if (!ban && !was_member) {
            return error_reply(ErrorCode::not_member);
        }
        // A ban revokes even a non-member: a token from an earlier join is void.
        revoke(room.id, target);
        if (was_member) {
            clear_presence(room.id, target);
        }
    }
    if (was_member) {
        mark_dirty(room.id);
    }

    spdlog::info("room_manager: op={} user={} room={} target={}", ban ? "ban" : "kick",
                 request.who.user, room.id, target);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)}, {"user", target}});
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
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)},
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
        std::lock_guard lock(membership_mutex_);
        for (const auto& m : store_.members(room.id)) {
            if (m.role != MemberRole::owner && store_.remove_member(room.id, m.user)) {
                revoke(room.id, m.user);
                clear_presence(room.id, m.user);
                ++revoked;
            }
        }
    }
    if (revoked > 0) {
        mark_dirty(room.id);
    }

    spdlog::info("room_manager: op=passwd user={} room={} revoked={}", request.who.user,
                 room.id, revoked);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)}, {"revoked", revoked}});
}

Reply RoomManager::do_delete(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }

    // Revoke everyone first, so nobody reads on while the rest happens.
    revoke(room.id, "*");

    // Empty retained messages clear the metadata and every member's presence,
    // also from the broker's persistence, so nothing of the room reappears
    // after a restart. The members are read before the store forgets them;
    // both locks keep a presence change or the meta timer from publishing
    // into the room meanwhile.
    {
        std::lock_guard membership(membership_mutex_);
        std::lock_guard meta(meta_mutex_);
        const auto members = store_.members(room.id);
        publisher_.publish(topic::room_meta(room.id), "", true);
        for (const auto& m : members) {
            clear_presence(room.id, m.user);
        }
        store_.delete_room(room.id);
        dirty_rooms_.erase(room.id);
        meta_published_ms_.erase(room.id);
    }

    spdlog::info("room_manager: op=delete user={} room={}", request.who.user, room.id);
    return ok_reply({{"room", meta_json(room, 0, 0)}, {"deleted", true}});
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
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)},
                     {"messages", std::move(messages)},
                     {"more", page.more},
                     {"last_seq", page.last_seq}});
}

namespace {

// Like history: the reply must fit the broker's 64 KiB packet limit. 500
// rooms with long descriptions would not; the list is cut and says `more`.
constexpr std::size_t max_rooms_reply_bytes = 56 * 1024;

}  // namespace

Reply RoomManager::do_rooms(const Request& request)
{
    RoomQuery query;
    query.user = request.who.user;
    query.limit = limits::default_rooms_page;
    std::optional<std::string> match;
    if (auto code = request.optional_string("match", match); code != ErrorCode::ok) {
        return error_reply(code);
    }
    query.match = match.value_or("");
    if (const auto it = request.body.find("limit"); it != request.body.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
            it->get<std::int64_t>() > static_cast<std::int64_t>(limits::max_rooms_page)) {
            return error_reply(ErrorCode::bad_request);
        }
        query.limit = it->get<std::size_t>();
    }

    RoomPage page = store_.list_rooms(query);

    json rooms = json::array();
    std::size_t bytes = 0;
    for (const auto& listing : page.rooms) {
        json entry = meta_json(listing.room, listing.members, counts(listing.room.id).online);
        entry["member"] = listing.member;
        bytes += dump(entry).size() + 1;
        if (bytes > max_rooms_reply_bytes && !rooms.empty()) {
            page.more = true;
            break;
        }
        rooms.push_back(std::move(entry));
    }
    spdlog::debug("room_manager: op=rooms user={} count={} more={}", request.who.user,
                  rooms.size(), page.more);
    return ok_reply({{"rooms", std::move(rooms)}, {"more", page.more}});
}

// Sets the description and/or whether the room is listed; the new metadata
// goes out at once, since it decides who may read it.
Reply RoomManager::do_update(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    std::optional<std::string> description;
    std::optional<bool> listed;
    if (auto code = request.description(description); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (auto code = request.optional_bool("listed", listed); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (!description && !listed) {
        return error_reply(ErrorCode::bad_request);
    }

    std::optional<RoomRecord> updated;
    {
        std::lock_guard lock(meta_mutex_);
        store_.update_room(room.id, description, listed);
        updated = store_.find_room_by_id(room.id);
        if (updated) {
            publish_meta_locked(*updated, clock_());
        }
    }
    if (!updated) {
        return error_reply(ErrorCode::no_such_room);  // deleted meanwhile
    }

    spdlog::info("room_manager: op=update user={} room={} listed={}", request.who.user,
                 room.id, updated->listed);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(*updated, c.members, c.online)}});
}

// Hands the room to another member; the old owner stays a member.
Reply RoomManager::do_transfer(const Request& request)
{
    RoomRecord room;
    if (auto code = find_room(request, true, room); code != ErrorCode::ok) {
        return error_reply(code);
    }
    std::string target;
    if (auto code = target_user(request, target); code != ErrorCode::ok) {
        return error_reply(code);
    }
    if (target == request.who.user) {
        return error_reply(ErrorCode::bad_request);
    }
    if (!store_.user_exists(target)) {
        return error_reply(ErrorCode::no_such_user);
    }

    // Both roles show in the presence topics, so they change under the same lock.
    {
        std::lock_guard lock(membership_mutex_);
        switch (store_.transfer_owner(room.id, request.who.user, target)) {
        case TransferResult::ok: break;
        case TransferResult::no_such_room: return error_reply(ErrorCode::no_such_room);
        case TransferResult::not_owner: return error_reply(ErrorCode::not_owner);
        case TransferResult::not_member: return error_reply(ErrorCode::not_member);
        }
        publish_presence(room.id, request.who.user, MemberRole::member);
        publish_presence(room.id, target, MemberRole::owner);
    }
    room.owner = target;
    publish_meta(room);

    spdlog::info("room_manager: op=transfer user={} room={} target={}", request.who.user,
                 room.id, target);
    const Counts c = counts(room.id);
    return ok_reply({{"room", meta_json(room, c.members, c.online)}});
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

    // The plugin answers on topic::sys_presence; handle_presence() then
    // republishes every member's presence.
    publisher_.publish(std::string(topic::plugin_control),
                       dump({{"op", op::plugin::presence_sync}}), false);
    publish_all_meta();
}

}  // namespace mqchat::service
