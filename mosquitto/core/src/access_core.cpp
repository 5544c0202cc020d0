#include "mqchat/access/access_core.hpp"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "mqchat/access/state_log.hpp"
#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::access {
namespace {

using nlohmann::json;

constexpr std::string_view share_prefix = "$share/";

bool has_wildcard(std::string_view filter)
{
    return filter.find_first_of("+#") != std::string_view::npos;
}

// "$share/<group>/<filter>" -> "<filter>"; other filters unchanged. An
// empty result means a malformed shared subscription.
std::string_view strip_share(std::string_view filter)
{
    if (!filter.starts_with(share_prefix)) {
        return filter;
    }
    std::string_view rest = filter.substr(share_prefix.size());
    std::size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) {
        return {};
    }
    return rest.substr(slash + 1);
}

// Room metadata as a non-member may see it: a JSON object whose "listed"
// is true. Anything else, also an empty (cleared) payload, stays hidden.
bool is_listed_meta(std::string_view payload)
{
    if (payload.empty()) {
        return false;
    }
    json doc = json::parse(payload, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return false;
    }
    auto listed = doc.find("listed");
    return listed != doc.end() && listed->is_boolean() && listed->get<bool>();
}

bool equal_constant_time(std::string_view a, std::string_view b)
{
    // The length of the secret is not secret; its bytes are.
    return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

AccessCore::AccessCore(Options options, TokenVerifier verifier, Clock clock)
    : options_(std::move(options)), verifier_(std::move(verifier)), clock_(std::move(clock))
{
    if (!options_.state_dir.empty()) {
        log_ = std::make_unique<StateLog>(options_.state_dir);
        load_state();
    }
}

AccessCore::~AccessCore() = default;

bool AccessCore::is_stamped_property(std::string_view name)
{
    return name == topic::prop_sender || name == topic::prop_seq || name == topic::prop_ts ||
           name == topic::prop_client_id;
}

std::int64_t AccessCore::now_ms() const
{
    return clock_ ? clock_() : now_millis();
}

Connection AccessCore::connection_for(std::string_view client_id, std::string_view username) const
{
    Connection conn;
    conn.client_id = std::string(client_id);
    conn.username = std::string(username);
    if (username.empty()) {
        conn.role = Role::guest;
    } else if (username == options_.service_user) {
        conn.role = Role::service;
    } else {
        conn.role = Role::user;
        auto owner = connected_.find(client_id);
        conn.is_operator = owner != connected_.end() && owner->second.username == username &&
                           owner->second.is_operator;
    }
    return conn;
}

void AccessCore::replace_verifier(TokenVerifier verifier)
{
    verifier_ = std::move(verifier);
}

// ---------------------------------------------------------------------------
// CONNECT
// ---------------------------------------------------------------------------

AuthResult AccessCore::authenticate(std::string_view client_id, std::string_view username,
                                    std::string_view password)
{
    AuthResult result;
    bool is_operator = false;
    if (client_id.empty()) {
        result.reason = "empty client id";
        return result;
    }

    // Decide the role from the credentials.
    if (username.empty()) {
        if (!password.empty()) {
            result.reason = "password without username";
            return result;
        }
        // The guest reply topic embeds the client id as one topic level.
        if (!is_safe_topic_level(client_id)) {
            result.reason = "client id unusable in a topic";
            return result;
        }
        result.role = Role::guest;
    } else if (username == options_.service_user) {
        if (!equal_constant_time(options_.service_secret, password)) {
            result.reason = "bad service secret";
            return result;
        }
        result.role = Role::service;
    } else {
        if (check_user_name(username) != ErrorCode::ok) {
            result.reason = "invalid username";
            return result;
        }
        VerifiedToken token = verifier_.verify(password, TokenType::session, now_ms() / 1000);
        if (token.error != TokenError::ok) {
            result.reason = "session token " + std::string(to_string(token.error));
            return result;
        }
        if (token.claims.user != username) {
            result.reason = "session token of another user";
            return result;
        }
        result.role = Role::user;
        is_operator = token.claims.is_operator;
    }

    // The room manager's client ids are its own: whoever else held one could
    // resume the archive's persistent session and keep the archive out.
    if (result.role != Role::service && client_id.starts_with(topic::service_client_id_prefix)) {
        result.reason = "client id reserved for the room manager";
        return result;
    }

    // One user's client id (and with it its session and admissions) cannot
    // be taken over by another user or by a guest.
    if (client_id_taken(client_id, username)) {
        result.reason = "client id belongs to another user";
        return result;
    }

    if (auto past = past_owners_.find(client_id); past != past_owners_.end()) {
        past_owners_.erase(past);
    }
    auto it = connected_.find(client_id);
    if (it == connected_.end()) {
        connected_.emplace(std::string(client_id),
                           Owner{std::string(username), 1, is_operator});
    } else if (it->second.username == username) {
        ++it->second.connections;
        it->second.is_operator = is_operator;
    } else {
        // Only a guest can be displaced (client_id_taken let us through).
        it->second = Owner{std::string(username), 1, is_operator};
    }

    // Presence counts every connection of the user, over all client ids.
    // A takeover (same client id) is counted in here before the broker
    // reports the old connection gone, so it never drops to zero.
    if (counts_for_presence(username)) {
        auto [count, first] = user_connections_.try_emplace(std::string(username), 0);
        if (++count->second == 1) {
            result.presence = PresenceChange{std::string(username), true};
        }
    }
    result.allowed = true;
    return result;
}

std::optional<PresenceChange> AccessCore::disconnected(std::string_view client_id,
                                                      std::string_view username)
{
    // Only connections authenticate() counted in are counted out: a guest
    // displaced by a user, or a refused CONNECT, changes nothing.
    auto it = connected_.find(client_id);
    if (it == connected_.end() || it->second.username != username) {
        return std::nullopt;
    }
    std::optional<PresenceChange> change;
    if (counts_for_presence(username)) {
        auto count = user_connections_.find(username);
        if (count != user_connections_.end() && --count->second <= 0) {
            user_connections_.erase(count);
            change = PresenceChange{std::string(username), false};
        }
    }
    if (--it->second.connections > 0) {
        return change;
    }
    connected_.erase(it);

    // The broker may keep this client id's session: keep it the user's.
    const std::int64_t now = now_ms();
    if (!username.empty()) {
        past_owners_.insert_or_assign(std::string(client_id),
                                      PastOwner{std::string(username), now});
    }

    // Forget owners whose sessions have expired, at most once a minute.
    if (now - last_owner_sweep_ms_ > 60'000) {
        last_owner_sweep_ms_ = now;
        std::erase_if(past_owners_, [&](const auto& entry) {
            return now - entry.second.left_ms > options_.session_owner_ms;
        });
    }
    return change;
}

bool AccessCore::counts_for_presence(std::string_view username) const
{
    return !username.empty() && username != options_.service_user;
}

std::vector<std::string> AccessCore::online_users() const
{
    std::vector<std::string> users;
    users.reserve(user_connections_.size());
    for (const auto& [user, count] : user_connections_) {
        users.push_back(user);
    }
    return users;
}

std::string AccessCore::presence_payload(const PresenceChange& change)
{
    return json({{"event", change.online ? "online" : "offline"}, {"user", change.user}}).dump();
}

std::string AccessCore::presence_snapshot() const
{
    return json({{"event", "snapshot"}, {"online", online_users()}}).dump();
}

bool AccessCore::client_id_taken(std::string_view client_id, std::string_view username) const
{
    auto it = connected_.find(client_id);
    if (it != connected_.end() && !it->second.username.empty() &&
        it->second.username != username) {
        return true;
    }
    std::int64_t now = now_ms();
    auto past = past_owners_.find(client_id);
    if (past != past_owners_.end() && past->second.username != username &&
        now - past->second.left_ms <= options_.session_owner_ms) {
        return true;
    }
    for (const auto& [key, admission] : admissions_) {
        if (key.first == client_id && admission.user != username &&
            admission.expires_s * 1000 > now) {
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------
// SUBSCRIBE, PUBLISH, delivery
// ---------------------------------------------------------------------------

bool AccessCore::check_subscribe(const Connection& conn, std::string_view filter) const
{
    bool shared = filter.starts_with(share_prefix);
    std::string_view plain = strip_share(filter);
    if (plain.empty() || plain.starts_with("$CONTROL")) {
        return false;
    }
    // Shared subscriptions are the room manager's (its archive group). A user
    // in that group would take a share of the deliveries, and the read check
    // would drop them: messages lost to the archive.
    if (shared && conn.role != Role::service) {
        return false;
    }
    switch (conn.role) {
    case Role::service:
        return true;
    case Role::guest:
        // Exact topic only: the nonce is what keeps guests apart.
        return !shared && !has_wildcard(plain) && check_read(conn, plain);
    case Role::user:
        // Wildcards may be granted because every delivery is read-checked;
        // $ topics are never readable by users, so refuse those outright.
        if (has_wildcard(plain)) {
            return !plain.starts_with("$");
        }
        return user_can_read(conn, plain);
    }
    return false;
}

bool AccessCore::check_publish(const Connection& conn, std::string_view name, bool retain,
                               int qos) const
{
    if (name.starts_with("$") && name != topic::plugin_control) {
        return false;
    }
    // Presence events come from the plugin alone; not even the room
    // manager may put words in its mouth.
    if (name == topic::sys_presence) {
        return false;
    }
    if (conn.role == Role::service) {
        return true;
    }
    topic::Parsed parsed = topic::parse(name);
    switch (parsed.kind) {
    case topic::Kind::control:
        // Never retained: the broker would replay the request (and keep its
        // password) to the room manager on every reconnect.
        return !retain && (conn.role == Role::user || op::allowed_for_guest(parsed.subject));
    case topic::Kind::plugin_control:
        return conn.role == Role::user && !retain;
    case topic::Kind::room_msg:
    case topic::Kind::room_typing:
        // No QoS 2 room messages (see the header); typing uses no seq.
        if (parsed.kind == topic::Kind::room_msg && qos >= 2) {
            return false;
        }
        return conn.role == Role::user && !retain && is_room_id(parsed.subject) &&
               room_admitted(conn, parsed.subject);
    default:
        // Room metadata and presence are the room manager's to write.
        return false;
    }
}

bool AccessCore::check_read(const Connection& conn, std::string_view name,
                            std::string_view payload) const
{
    switch (conn.role) {
    case Role::service:
        return true;
    case Role::guest: {
        topic::Parsed parsed = topic::parse(name);
        return parsed.kind == topic::Kind::guest_inbox && parsed.subject == conn.client_id &&
               !has_wildcard(name);
    }
    case Role::user: {
        if (!user_can_read(conn, name)) {
            return false;
        }
        // Metadata: members always, everyone else only while it is listed.
        topic::Parsed parsed = topic::parse(name);
        if (parsed.kind == topic::Kind::room_meta) {
            return room_admitted(conn, parsed.subject) || is_listed_meta(payload);
        }
        return true;
    }
    }
    return false;
}

// Whether a user may receive anything at all on `name`; check_read adds
// the per-message rule for room metadata, which a subscribe cannot know.
bool AccessCore::user_can_read(const Connection& conn, std::string_view name) const
{
    if (has_wildcard(name)) {
        return false;
    }
    topic::Parsed parsed = topic::parse(name);
    switch (parsed.kind) {
    case topic::Kind::user_inbox:
        return parsed.subject == conn.username;
    case topic::Kind::room_meta:
        return is_room_id(parsed.subject);
    case topic::Kind::room_msg:
    case topic::Kind::room_typing:
    case topic::Kind::room_presence:
        return is_room_id(parsed.subject) && room_admitted(conn, parsed.subject);
    default:
        // The health report is for operators; topic::sys_presence among
        // others is the room manager's alone.
        return conn.is_operator && name == topic::sys_health;
    }
}

bool AccessCore::room_admitted(const Connection& conn, std::string_view room) const
{
    auto it = admissions_.find(AdmissionKey(conn.client_id, std::string(room)));
    return it != admissions_.end() && it->second.user == conn.username &&
           it->second.expires_s * 1000 > now_ms();
}

bool AccessCore::is_admitted(std::string_view client_id, std::string_view user,
                             std::string_view room) const
{
    Connection conn = connection_for(client_id, user);
    return room_admitted(conn, room);
}

std::int64_t AccessCore::last_seq(std::string_view room) const
{
    auto it = seqs_.find(room);
    return it == seqs_.end() ? 0 : it->second;
}

// ---------------------------------------------------------------------------
// $CONTROL/mqchat/v1
// ---------------------------------------------------------------------------

ControlResult AccessCore::handle_control(const Connection& conn, std::string_view payload)
{
    ControlResult result;
    if (payload.size() > limits::max_control_payload) {
        result.error = "payload_too_large";
        return result;
    }
    json doc = json::parse(payload, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        result.error = "bad_json";
        return result;
    }
    auto op_it = doc.find("op");
    if (op_it == doc.end() || !op_it->is_string()) {
        result.error = "bad_request";
        return result;
    }
    std::string op = op_it->get<std::string>();

    if (op == "present") {
        auto token = doc.find("token");
        if (token == doc.end() || !token->is_string()) {
            result.op = op;
            result.error = "bad_request";
            return result;
        }
        return present(conn, token->get_ref<const std::string&>());
    }
    if (op == "revoke") {
        auto room = doc.find("room");
        auto user = doc.find("user");
        auto before = doc.find("before_ms");
        if (room == doc.end() || !room->is_string() || user == doc.end() ||
            !user->is_string() || before == doc.end() || !before->is_number_integer()) {
            result.op = op;
            result.error = "bad_request";
            return result;
        }
        return revoke(conn, room->get_ref<const std::string&>(),
                      user->get_ref<const std::string&>(), before->get<std::int64_t>());
    }
    if (op == op::plugin::presence_sync) {
        return presence_sync(conn);
    }
    if (op == op::plugin::reload_keys) {
        // Harmless (it only re-reads files), but still the service's alone.
        result.op = op;
        result.ok = conn.role == Role::service;
        result.error = result.ok ? "" : "not_the_service";
        return result;
    }
    result.error = "unknown_op";
    return result;
}

ControlResult AccessCore::present(const Connection& conn, std::string_view token)
{
    ControlResult result;
    result.op = "present";
    if (conn.role != Role::user) {
        result.error = "not_a_user";
        return result;
    }

    VerifiedToken verified = verifier_.verify(token, TokenType::join, now_ms() / 1000);
    if (verified.error != TokenError::ok) {
        result.error = "token_" + std::string(to_string(verified.error));
        return result;
    }
    const TokenClaims& claims = verified.claims;
    result.room = claims.room_id;
    if (claims.user != conn.username) {
        result.error = "token_of_another_user";
        return result;
    }
    if (!is_room_id(claims.room_id)) {
        result.error = "bad_room";
        return result;
    }
    if (claims.issued_ms <= revoked_before(claims.room_id, claims.user)) {
        result.error = "revoked";
        return result;
    }

    Admission admission{claims.user, claims.expires_s, claims.issued_ms};
    apply_admit(conn.client_id, claims.room_id, admission);
    if (log_) {
        json record = {{"t", "admit"},     {"cid", conn.client_id},  {"user", claims.user},
                       {"room", claims.room_id}, {"exp", claims.expires_s},
                       {"ims", claims.issued_ms}};
        log_->append(record.dump());
        compact_if_needed();
    }
    result.ok = true;
    return result;
}

ControlResult AccessCore::revoke(const Connection& conn, std::string_view room,
                                 std::string_view user, std::int64_t before_ms)
{
    ControlResult result;
    result.op = "revoke";
    result.room = std::string(room);
    result.target = std::string(user);
    if (conn.role != Role::service) {
        result.error = "not_the_service";
        return result;
    }
    if (!is_room_id(room) || (user != "*" && check_user_name(user) != ErrorCode::ok)) {
        result.error = "bad_request";
        return result;
    }

    apply_revoke(result.room, result.target, before_ms);
    if (log_) {
        json record = {{"t", "revoke"}, {"room", room}, {"user", user}, {"before", before_ms}};
        log_->append(record.dump());
        compact_if_needed();
    }
    result.ok = true;
    return result;
}

ControlResult AccessCore::presence_sync(const Connection& conn) const
{
    ControlResult result;
    result.op = std::string(op::plugin::presence_sync);
    // Who is online is for the room manager alone.
    if (conn.role != Role::service) {
        result.error = "not_the_service";
        return result;
    }
    result.reply = presence_snapshot();
    result.ok = true;
    return result;
}

std::int64_t AccessCore::revoked_before(std::string_view room, std::string_view user) const
{
    std::int64_t before = 0;
    for (std::string_view who : {user, std::string_view("*")}) {
        auto it = revocations_.find({std::string(room), std::string(who)});
        if (it != revocations_.end()) {
            before = std::max(before, it->second);
        }
    }
    return before;
}

// ---------------------------------------------------------------------------
// Stamping
// ---------------------------------------------------------------------------

std::vector<Property> AccessCore::stamp(const Connection& conn, std::string_view name,
                                        std::int64_t now)
{
    std::vector<Property> props;
    topic::Parsed parsed = topic::parse(name);

    if (parsed.kind == topic::Kind::room_msg && is_room_id(parsed.subject)) {
        std::string room(parsed.subject);
        std::int64_t seq = last_seq(room) + 1;
        apply_seq(room, seq);

        // Persist before the message is routed, so a restart never reuses it.
        if (log_) {
            json record = {{"t", "seq"}, {"room", room}, {"seq", seq}};
            log_->append(record.dump());
            compact_if_needed();
        }
        props.emplace_back(topic::prop_sender, conn.username);
        props.emplace_back(topic::prop_seq, std::to_string(seq));
        props.emplace_back(topic::prop_ts, std::to_string(now));
    } else if (parsed.kind == topic::Kind::room_typing && is_room_id(parsed.subject)) {
        // Who is typing must be as trustworthy as who wrote; nothing to
        // number or persist, typing indicators are not archived.
        props.emplace_back(topic::prop_sender, conn.username);
        props.emplace_back(topic::prop_ts, std::to_string(now));
    } else if (parsed.kind == topic::Kind::control) {
        if (!conn.username.empty()) {
            props.emplace_back(topic::prop_sender, conn.username);
        }
        props.emplace_back(topic::prop_client_id, conn.client_id);
    }
    return props;
}

// ---------------------------------------------------------------------------
// State changes and persistence
// ---------------------------------------------------------------------------

void AccessCore::apply_admit(const std::string& client_id, const std::string& room,
                             Admission admission)
{
    auto [it, inserted] = admissions_.try_emplace(AdmissionKey(client_id, room), admission);
    if (!inserted && admission.issued_ms >= it->second.issued_ms) {
        it->second = std::move(admission);
    }
}

void AccessCore::apply_revoke(const std::string& room, const std::string& user,
                              std::int64_t before_ms)
{
    std::int64_t& stored = revocations_[{room, user}];
    stored = std::max(stored, before_ms);

    std::erase_if(admissions_, [&](const auto& entry) {
        return entry.first.second == room && (user == "*" || entry.second.user == user) &&
               entry.second.issued_ms <= before_ms;
    });
}

void AccessCore::apply_seq(const std::string& room, std::int64_t seq)
{
    std::int64_t& stored = seqs_[room];
    stored = std::max(stored, seq);
}

void AccessCore::load_state()
{
    // Replay; a line that does not parse (a torn write) is skipped.
    for (const std::string& line : log_->read_all()) {
        json record = json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object()) {
            continue;
        }
        try {
            std::string type = record.at("t").get<std::string>();
            if (type == "admit") {
                apply_admit(record.at("cid").get<std::string>(),
                            record.at("room").get<std::string>(),
                            Admission{record.at("user").get<std::string>(),
                                      record.at("exp").get<std::int64_t>(),
                                      record.at("ims").get<std::int64_t>()});
            } else if (type == "revoke") {
                apply_revoke(record.at("room").get<std::string>(),
                             record.at("user").get<std::string>(),
                             record.at("before").get<std::int64_t>());
            } else if (type == "seq") {
                apply_seq(record.at("room").get<std::string>(),
                          record.at("seq").get<std::int64_t>());
            }
        } catch (const json::exception&) {
            continue;
        }
    }

    // Whatever order the records came in, nothing revoked or expired stays.
    std::int64_t now = now_ms();
    std::erase_if(admissions_, [&](const auto& entry) {
        const Admission& a = entry.second;
        return a.expires_s * 1000 <= now ||
               a.issued_ms <= revoked_before(entry.first.second, a.user);
    });

    // Start every run from a compact log.
    if (!log_->rewrite(snapshot_lines())) {
        throw std::runtime_error("cannot compact state log " + log_->path());
    }
}

void AccessCore::compact_if_needed()
{
    if (log_ && log_->size_bytes() > options_.compact_bytes) {
        // On failure the old log keeps growing and stays correct.
        (void)log_->rewrite(snapshot_lines());
    }
}

std::vector<std::string> AccessCore::snapshot_lines() const
{
    std::vector<std::string> lines;
    for (const auto& [key, before] : revocations_) {
        lines.push_back(json({{"t", "revoke"}, {"room", key.first}, {"user", key.second},
                              {"before", before}})
                            .dump());
    }
    std::int64_t now = now_ms();
    for (const auto& [key, a] : admissions_) {
        if (a.expires_s * 1000 <= now) {
            continue;
        }
        lines.push_back(json({{"t", "admit"}, {"cid", key.first}, {"user", a.user},
                              {"room", key.second}, {"exp", a.expires_s}, {"ims", a.issued_ms}})
                            .dump());
    }
    for (const auto& [room, seq] : seqs_) {
        lines.push_back(json({{"t", "seq"}, {"room", room}, {"seq", seq}}).dump());
    }
    return lines;
}

}  // namespace mqchat::access
