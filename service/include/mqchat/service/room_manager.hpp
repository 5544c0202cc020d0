// The room manager's request logic: one control request in, one reply out.
// Knows nothing about MQTT transport; side effects go through a Publisher.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "mqchat/protocol.hpp"
#include "mqchat/service/password_hasher.hpp"
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
// membership and the owner's administration. Every input, however malformed, gets a Reply; handle()
// never throws and leaves no partial state behind.
//
// Thread safety: handle() may run on several threads at once (the Store,
// the rate limiters and the token clock are internally locked). The
// Publisher is called on the thread that runs handle().
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
    // room), then all room metadata. Logs and swallows store errors.
    void publish_broker_state();

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

    // Finds the room named in the request's "room" field; with
    // `owner_only`, not_owner unless the requester owns it.
    ErrorCode find_room(const Request& request, bool owner_only, RoomRecord& room);
    // Reads and checks the "user" field of kick, ban and unban.
    ErrorCode target_user(const Request& request, std::string& user);
    // Voids `user`'s ("*": everyone's) join tokens for the room issued up to
    // now: stored, then sent to the broker, which cuts deliveries at once.
    void revoke(const std::string& room_id, const std::string& user);
    std::string sign_join_token(const std::string& user, const std::string& room_id);

    void publish_meta(const RoomRecord& room);
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
};

}  // namespace mqchat::service
