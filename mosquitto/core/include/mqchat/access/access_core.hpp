// The broker-neutral access decisions of mqchat: who may connect, subscribe,
// publish and receive what, which rooms a client id was admitted to, and the
// properties stamped on routed messages. The Mosquitto plugin
// (mosquitto/src/plugin.cpp) is a thin adapter over this class; another
// broker would get another adapter over the same core.
//
// Thread safety: none. Mosquitto 2.0 calls plugins from its single main
// thread, and the core relies on that: every member must be called from one
// thread (or under one external lock).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mqchat/token.hpp"

namespace mqchat::access {

class StateLog;

enum class Role { guest, user, service };

// Who is on the other end of a connection. Built from what the broker keeps
// for an authenticated client (client id and username), so the adapter can
// rebuild it for every check, also for offline persistent sessions.
struct Connection {
    Role role = Role::guest;
    std::string client_id;
    std::string username;  // empty for guests
    // A user connected with a session token carrying the operator claim:
    // may read topic::sys_health as well, nothing else more.
    bool is_operator = false;
};

// A user went online (their first connection came up) or offline (their
// last one went away). Only users count: guests and the service never
// produce one.
struct PresenceChange {
    std::string user;
    bool online = false;

    bool operator==(const PresenceChange&) const = default;
};

struct AuthResult {
    bool allowed = false;
    Role role = Role::guest;
    std::string reason;  // for the log; never contains a secret
    // Set when this connection brought its user online; the adapter
    // publishes it on topic::sys_presence (see presence_payload()).
    std::optional<PresenceChange> presence;
};

// Outcome of a message on the plugin control topic, for the log.
struct ControlResult {
    bool ok = false;
    std::string op;      // "present", "revoke", "presence_sync" or "" when unreadable
    std::string room;    // room id when known
    std::string target;  // revoke: the user or "*"
    std::string error;   // why it was ignored; empty when ok
    // presence_sync: the snapshot the adapter must send on
    // topic::sys_presence to the requesting client id alone. Empty otherwise.
    std::string reply;
};

// A user property the adapter must set on a routed message.
using Property = std::pair<std::string, std::string>;

struct Options {
    std::string service_user = "mqchat-service";
    std::string service_secret;  // compared in constant time; never logged
    std::string state_dir;       // empty: keep state in memory only (tests)
    // Compact the state log when it grows past this many bytes.
    std::uint64_t compact_bytes = 4 * 1024 * 1024;
    // How long a user's client id stays theirs after they disconnect, so
    // nobody else can resume (and so destroy) their persistent session.
    // Matches persistent_client_expiration in mosquitto.conf.in.
    std::int64_t session_owner_ms = 30LL * 24 * 3600 * 1000;
};

class AccessCore {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds since the epoch

    // Loads (and compacts) the persisted state from options.state_dir,
    // creating the folder if needed. Throws std::runtime_error when the
    // folder cannot be created or the log cannot be opened for writing.
    // `clock` defaults to the wall clock; tests pass their own.
    AccessCore(Options options, TokenVerifier verifier, Clock clock = {});
    ~AccessCore();

    AccessCore(const AccessCore&) = delete;
    AccessCore& operator=(const AccessCore&) = delete;

    // The names of the user properties the core stamps; the adapter removes
    // client-supplied ones with these names.
    [[nodiscard]] static bool is_stamped_property(std::string_view name);

    // Rebuilds the connection of an authenticated client from its username
    // (empty for none). is_operator is set while that client id is
    // connected with an operator's session token (an offline session is
    // never an operator's).
    [[nodiscard]] Connection connection_for(std::string_view client_id,
                                            std::string_view username) const;

    // CONNECT. `username` and `password` are empty when absent. On success
    // the client id is recorded as connected under that username until
    // disconnected() is called for it, and the connection counts towards
    // its user's presence: result.presence is set when it is the user's
    // first connection (any client id).
    [[nodiscard]] AuthResult authenticate(std::string_view client_id, std::string_view username,
                                          std::string_view password);

    // A connection that authenticate() allowed has gone away. A user's
    // client id stays reserved for that user for options.session_owner_ms.
    // Returns an offline change when it was the user's last connection.
    // On a session takeover the broker authenticates the new connection
    // before the old one goes, so a takeover never returns one.
    std::optional<PresenceChange> disconnected(std::string_view client_id,
                                               std::string_view username);

    // The users with at least one connection up, sorted by name.
    [[nodiscard]] std::vector<std::string> online_users() const;

    // The JSON payloads the adapter publishes on topic::sys_presence:
    // {"event":"online"|"offline","user":U} and
    // {"event":"snapshot","online":[...]} (the current online_users()).
    [[nodiscard]] static std::string presence_payload(const PresenceChange& change);
    [[nodiscard]] std::string presence_snapshot() const;

    // SUBSCRIBE with a topic filter (wildcards and $share/<group>/ allowed).
    [[nodiscard]] bool check_subscribe(const Connection& conn, std::string_view filter) const;

    // PUBLISH to a concrete topic. A retained room message or typing
    // indicator from anyone but the service is refused (it would outlive
    // the sender's admission). Nobody may write topic::sys_presence: only
    // the adapter publishes there, from inside the broker. A QoS 2 room
    // message is refused too: the broker runs its MESSAGE event (stamping,
    // which uses up a seq) again for every re-sent copy and even for one
    // never released, which would leave holes in the room's seqs.
    [[nodiscard]] bool check_publish(const Connection& conn, std::string_view topic,
                                     bool retain = false, int qos = 1) const;

    // Every delivery of a message on `topic` with `payload` to `conn`,
    // retained ones too. The payload matters for room metadata only: a
    // connection not admitted to the room receives it only when it is a
    // JSON object with "listed": true (an empty or unreadable payload is
    // refused), so unlisted rooms stay invisible to non-members.
    [[nodiscard]] bool check_read(const Connection& conn, std::string_view topic,
                                  std::string_view payload = {}) const;

    // A message on the plugin control topic ($CONTROL/mqchat/v1). For
    // reload_keys (service only) the result is ok and the adapter re-reads
    // the key files and calls replace_verifier().
    ControlResult handle_control(const Connection& conn, std::string_view payload);

    // Verifies tokens with `verifier` from now on (key rotation). Tokens
    // already checked (admissions, connections) stay as they are.
    void replace_verifier(TokenVerifier verifier);

    // The user properties to set on a message `conn` published to `topic`
    // (already allowed by check_publish). Room messages get sender, seq and
    // ts and consume a sequence number, persisted before this returns;
    // typing indicators get sender and ts; control requests sender and
    // client-id. Empty for other topics.
    [[nodiscard]] std::vector<Property> stamp(const Connection& conn, std::string_view topic,
                                              std::int64_t now_ms);

    // Introspection, mainly for tests and logs.
    [[nodiscard]] bool is_admitted(std::string_view client_id, std::string_view user,
                                   std::string_view room) const;
    [[nodiscard]] std::int64_t last_seq(std::string_view room) const;

private:
    struct Admission {
        std::string user;
        std::int64_t expires_s = 0;
        std::int64_t issued_ms = 0;
    };
    struct Owner {
        std::string username;
        int connections = 0;
        bool is_operator = false;  // of the latest connection with this client id
    };
    struct PastOwner {
        std::string username;
        std::int64_t left_ms = 0;
    };
    using AdmissionKey = std::pair<std::string, std::string>;  // client id, room

    [[nodiscard]] std::int64_t now_ms() const;
    [[nodiscard]] bool room_admitted(const Connection& conn, std::string_view room) const;
    [[nodiscard]] bool user_can_read(const Connection& conn, std::string_view topic) const;
    [[nodiscard]] bool client_id_taken(std::string_view client_id,
                                       std::string_view username) const;
    [[nodiscard]] std::int64_t revoked_before(std::string_view room, std::string_view user) const;

    ControlResult present(const Connection& conn, std::string_view token);
    ControlResult revoke(const Connection& conn, std::string_view room, std::string_view user,
                         std::int64_t before_ms);
    ControlResult presence_sync(const Connection& conn) const;
    [[nodiscard]] bool counts_for_presence(std::string_view username) const;

    // State changes shared by live calls and log replay.
    void apply_admit(const std::string& client_id, const std::string& room, Admission admission);
    void apply_revoke(const std::string& room, const std::string& user, std::int64_t before_ms);
    void apply_seq(const std::string& room, std::int64_t seq);

    void load_state();
    void compact_if_needed();
    [[nodiscard]] std::vector<std::string> snapshot_lines() const;

    Options options_;
    TokenVerifier verifier_;
    Clock clock_;
    std::unique_ptr<StateLog> log_;

    std::map<AdmissionKey, Admission> admissions_;
    std::map<std::pair<std::string, std::string>, std::int64_t> revocations_;  // room, user
    std::map<std::string, std::int64_t, std::less<>> seqs_;
    std::map<std::string, Owner, std::less<>> connected_;
    // Users' client ids after their last disconnect (see session_owner_ms).
    // Kept in memory only: after a broker restart a session whose owner is
    // offline is protected only by its admissions (see docs/security.md).
    std::map<std::string, PastOwner, std::less<>> past_owners_;
    std::int64_t last_owner_sweep_ms_ = 0;
    // Users' live connections over all their client ids (only users with at
    // least one). Memory only: after a broker restart nobody is connected.
    std::map<std::string, int, std::less<>> user_connections_;
};

}  // namespace mqchat::access
