// The room manager's request logic: one control request in, one reply out.
// Knows nothing about MQTT transport; side effects go through a Publisher.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "mqchat/protocol.hpp"
#include "mqchat/service/password_hasher.hpp"
#include "mqchat/service/presence_tracker.hpp"
#include "mqchat/service/publisher.hpp"
#include "mqchat/service/rate_limiter.hpp"
#include "mqchat/service/reply_topic.hpp"
#include "mqchat/service/store.hpp"
#include "mqchat/token.hpp"

namespace mqchat::service {

struct RoomManagerConfig {
    std::chrono::seconds session_lifetime{24 * 3600};
    std::chrono::seconds join_token_lifetime{30 * 24 * 3600};
    // Failed joins per (user, room), and per room from anyone.
    RateLimit user_join_failures{5, std::chrono::milliseconds(60'000)};
    RateLimit room_join_failures{20, std::chrono::milliseconds(60'000)};
    // Failed logins per account name, whoever tries.
    RateLimit login_failures{10, std::chrono::milliseconds(60'000)};
    // The room manager's own MQTT username; nobody may register it.
    std::string service_user = "mqchat-service";
    // A user shows offline only after being gone this long (--presence-grace-ms).
    std::chrono::milliseconds presence_grace{2000};
    // Count changes republish a room's metadata at most this often
    // (--meta-interval-ms).
    std::chrono::milliseconds meta_interval{1000};
    // Accounts whose session tokens carry the operator claim (they may read
    // the health topic). Taken into account at login.
    std::set<std::string, std::less<>> operators;
};

// A reply ready to publish: `body` is the JSON text, `code` the outcome
// (ErrorCode::ok on success) for logs and tests.
struct Reply {
    ErrorCode code = ErrorCode::ok;
    std::string body;
};

// Implements every control operation of docs/protocol.md: accounts, rooms,
// membership, discovery and the owner's administration. Every input,
// however malformed, gets a Reply; handle() never throws and leaves no
// partial state behind.
//
// It also keeps the retained topics of each room: the metadata (published
// at once on create, update, transfer and delete; coalesced by tick() for
// count changes) and one presence topic per member, fed by the plugin's
// events through handle_presence().
//
// Thread safety: every member may be called from several threads at once
// (the Store, the rate limiters, the tracker and the token clock are
// internally locked; membership changes and the presence publishes that go
// with them are serialized, so a retained presence topic never outlives a
// membership). The Publisher is called on the calling thread.
//
// Known gap: with several room managers, each has its own presence view
// and dirty set. Each one re-reads the store before publishing, so they
// agree within moments, but a presence update of one instance racing a
// leave handled by another can leave the leaver's presence topic behind
// until the next reconnect republish. Sharing the view would need the
// presence state in the store.
class RoomManager {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds since the epoch

    // All references must outlive the RoomManager. `clock` defaults to the
    // wall clock; tests pass their own to move time.
    RoomManager(Store& store, const PasswordHasher& hasher, const TokenSigner& signer,
                Publisher& publisher, RoomManagerConfig config = {}, Clock clock = {});

    // `op` is the last level of chat/v1/ctl/<op>; `payload` the raw request.
    [[nodiscard]] Reply handle(std::string_view op, const Requester& who,
                               std::string_view payload);

    // Re-publishes the retained metadata of every room (at start-up, after
    // a reconnect). Logs and swallows store errors.
    void publish_all_meta();

    // What the broker must hold after every (re)connect: first every stored
    // revocation (so a broker that lost its plugin state never reopens a
    // room), then the request for a presence snapshot ({"op":
    // "presence_sync"}, so call this after subscribing to
    // topic::sys_presence), then all room metadata. Logs and swallows store
    // errors.
    void publish_broker_state();

    // One message from topic::sys_presence (only the plugin can write
    // there): {"event": "online"|"offline", "user"} or {"event":
    // "snapshot", "online": [...]}. Changes are published on the presence
    // topic of every room of that user; a snapshot republishes the presence
    // of every membership, since the broker may have restored stale
    // retained ones. Messages must be passed in the order they arrived.
    // Malformed ones are logged and ignored; store errors are logged.
    void handle_presence(std::string_view payload);

    // Runs the timers; call it often (the service does every 100 ms):
    // publishes the offlines whose grace ran out, and the metadata of rooms
    // whose counts changed, each room at most once per meta_interval.
    // Logs and swallows store errors.
    void tick();

    // The presence view, for tests and logs.
    [[nodiscard]] const PresenceTracker& presence() const { return presence_; }

private:
    struct Request;

    Reply do_register(const Request& request);
    Reply do_login(const Request& request);
    Reply do_create(const Request& request);
    Reply do_join(const Request& request);
    Reply do_leave(const Request& request);
    Reply do_whoami(const Request& request);
    Reply do_members(const Request& request);
    Reply do_kick(const Request& request, bool ban);
    Reply do_unban(const Request& request);
    Reply do_passwd(const Request& request);
    Reply do_delete(const Request& request);
    Reply do_history(const Request& request);
    Reply do_rooms(const Request& request);
    Reply do_update(const Request& request);
    Reply do_transfer(const Request& request);

    // Finds the room named in the request's "room" field; with
    // `owner_only`, not_owner unless the requester owns it.
    ErrorCode find_room(const Request& request, bool owner_only, RoomRecord& room);
    // Reads and checks the "user" field of kick, ban and unban.
    ErrorCode target_user(const Request& request, std::string& user);
    // Voids `user`'s ("*": everyone's) join tokens for the room issued up to
    // now: stored, then sent to the broker, which cuts deliveries at once.
    void revoke(const std::string& room_id, const std::string& user);
    std::string sign_join_token(const std::string& user, const std::string& room_id);

    // The live counts of a room's metadata.
    struct Counts {
        std::int64_t members = 0;
        std::int64_t online = 0;
    };
    Counts counts(const std::string& room_id);
    // Publishes the metadata now (create, update, transfer, connect).
    void publish_meta(const RoomRecord& room);
    void publish_meta_locked(const RoomRecord& room, std::int64_t now);
    // A count changed: tick() republishes the metadata.
    void mark_dirty(const std::string& room_id);
    void flush_dirty_meta();

    // The retained presence topic of one member; caller holds membership_mutex_.
    void publish_presence(const std::string& room_id, const std::string& user,
                          MemberRole role);
    // Empties it (left, removed, room deleted); caller holds membership_mutex_.
    void clear_presence(const std::string& room_id, const std::string& user);
    // A user's state began: their topic in every room, and the rooms' counts.
    void publish_change(const PresenceChange& change);
    // A millisecond timestamp strictly greater than every earlier one, so a
    // revocation and the tokens issued around it are always ordered.
    std::int64_t next_stamp_ms();

    Store& store_;
    const PasswordHasher& hasher_;
    const TokenSigner& signer_;
    Publisher& publisher_;
    RoomManagerConfig config_;
    Clock clock_;
    RateLimiter user_failures_;
    RateLimiter room_failures_;
    RateLimiter login_failures_;
    std::string dummy_hash_;  // verified against for unknown users

    std::mutex stamp_mutex_;
    std::int64_t last_stamp_ms_ = 0;

    PresenceTracker presence_;
    // Held over a membership change and the presence publishes for it, and
    // over each presence change's publishes. Taken before meta_mutex_.
    std::mutex membership_mutex_;

    // Held over every metadata publish and the store read before it, so an
    // older view never overwrites a newer one, nor revives a deleted room.
    std::mutex meta_mutex_;
    std::set<std::string> dirty_rooms_;
    std::map<std::string, std::int64_t> meta_published_ms_;  // recent publishes only
};

}  // namespace mqchat::service
