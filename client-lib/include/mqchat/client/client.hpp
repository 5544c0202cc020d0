// The mqchat client: accounts, rooms and messages over MQTT v5, without a
// single topic string in sight.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mqchat/client/error.hpp"
#include "mqchat/client/token_store.hpp"
#include "mqchat/client/types.hpp"

namespace mqchat::client {

struct Options {
    // Broker URI as Paho takes it: mqtt://host:port (or tcp://), ws://, and
    // over TLS mqtts://host:port (or ssl://) and wss://host:port.
    std::string broker = "mqtt://127.0.0.1:1883";

    // TLS brokers only: the PEM file of the CA certificate(s) to trust, such
    // as the local CA the backend makes (data/tls/ca.pem); empty means the
    // system's trust store. The server's certificate chain and that it
    // names the URL's host (DNS name or IP address) are always checked;
    // there is no switch to skip that. A failed check is Error tls_failed.
    std::string ca_file;

    // The account name. Required for everything.
    std::string user;

    // How long a connect, a control request or a subscribe may take.
    std::chrono::milliseconds request_timeout{10000};

    // MQTT client id of the user connection; empty means "<user>:<16 hex>".
    std::string client_id;

    // Where the session token and join tokens live; null means a fresh
    // MemoryTokenStore.
    std::shared_ptr<TokenStore> tokens;

    // Log sink; the library is silent without one. Called from any of the
    // library's threads (never while it holds a lock of its own).
    Logger logger;

    // How many recent messages entering a room shows before live ones;
    // 0 shows only what arrives after entering. At most 500.
    int history_on_enter = 50;

    // How long a catch-up (after a reconnect, or for a gap in the seqs) may
    // go without progress before the library delivers what it has and logs
    // the gap. Live messages of that room wait meanwhile. Loading history on
    // entering waits up to the longer of this and request_timeout. Time
    // spent offline does not count.
    std::chrono::milliseconds catch_up_wait{3000};

    // send_async(): at most this many sends wait for the broker at once,
    // each for at most send_timeout before it is reported as failed.
    std::size_t max_queued_sends = 1000;
    std::chrono::milliseconds send_timeout{60000};

    // Reconnecting: the delay doubles from the first value to the second
    // (with some jitter) while attempts fail. After reconnect_attempts
    // failures in a row the client stops trying; 0 means never stop.
    std::chrono::milliseconds reconnect_delay_min{250};
    std::chrono::milliseconds reconnect_delay_max{5000};
    int reconnect_attempts = 0;
};

// One user's view of mqchat.
//
// Errors: every blocking call throws Error (see error.hpp) and nothing else
// except std::bad_alloc and the TokenStore's std::runtime_error. Errors
// "of any request" are timeout, not_authenticated and connect_failed, and
// for a TLS broker (Options::ca_file) also tls_failed: the handshake or the
// check of the server's certificate failed (the message says why: an
// unknown CA, a certificate for another host, not a TLS port).
//
// Thread safety: all members may be called from several threads at once,
// including from inside the callbacks. The destructor must not run on the
// dispatch thread (that is, not inside a callback).
//
// Threads: callbacks (on_message, on_send_result, on_presence, on_typing)
// run on the client's own dispatch thread, one at a time, never on a Paho
// thread. A callback that blocks (say, calls send()) holds up the others,
// nothing more.
//
// The connection: connect() (or login()) starts it; from then on the client
// keeps it up by itself until disconnect(). When the broker goes away it
// reconnects with backoff (Options::reconnect_*), also when the very first
// attempt fails, and after every reconnect presents the join tokens of the
// entered rooms again and resubscribes to them. A session token the broker
// refuses (expired, revoked) stops the retries: log in again. Presence and
// typing subscriptions are restored with the messages.
//
// History and catch-up: see enter_room(). Per room, on_message sees every
// message exactly once and in seq order, history first, across gaps and
// reconnects, as long as the archive has them.
class Client {
public:
    // Starts the dispatch and link threads; does not connect. Throws Error
    // usage when options.user is empty.
    explicit Client(Options options);
    ~Client();

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Creates the account options.user with `password` over a short guest
    // connection. Errors: user_exists, invalid_name, weak_password,
    // rate_limited, timeout, connect_failed.
    void register_account(const std::string& password);

    // Logs in over a guest connection, stores the session token in the
    // TokenStore, then connects as the user (see connect()). Returns the
    // session token, which is also the MQTT password for raw clients.
    // Errors: bad_credentials, rate_limited, timeout, connect_failed.
    std::string login(const std::string& password);

    // Connects as the user with the stored session token and waits for the
    // outcome of one attempt. No effect when already connected.
    // Errors: not_authenticated (no token, or the broker refused it: expired
    // or revoked; the client stops trying), connect_failed (the broker could
    // not be reached; the client keeps trying in the background, so rooms
    // entered and messages queued meanwhile go through once it is back),
    // tls_failed (TLS broker whose certificate did not verify; it also keeps
    // trying, with the same checks).
    void connect();

    // Whether the user connection is up (and restored) right now.
    [[nodiscard]] bool is_connected() const;

    // Creates a room owned by the user and stores its join token. Does not
    // enter it. `options`: whether the room is listed (seen by every
    // logged-in user; default) and its description. Errors: room_exists,
    // invalid_name, weak_password, bad_request or invalid_utf8 (description
    // over limits::max_description bytes or not UTF-8), plus the errors of
    // any request (timeout, not_authenticated, connect_failed).
    RoomInfo create_room(const std::string& name, const std::string& password,
                         const CreateOptions& options = {});

    // Joins a room with its password and stores the join token. Does not
    // enter it. Errors: no_such_room, wrong_password, rate_limited, plus the
    // errors of any request.
    RoomInfo join_room(const std::string& name, const std::string& password);

    // Leaves a room: the room manager revokes the membership, the stored join
    // token is forgotten and the room's messages stop. Errors: not_member,
    // no_such_room, plus the errors of any request.
    void leave_room(const std::string& name);

    // The room's members, owner first. Only members may ask.
    // Errors: not_member, no_such_room, plus the errors of any request.
    std::vector<Member> members(const std::string& room_name);

    // Owner only. kick removes a member (who may rejoin with the password);
    // ban also keeps the user out until unban. Both stop the user's
    // deliveries at once and void their join tokens.
    // Errors: not_owner, not_member (kick), no_such_user (ban),
    // owner_cannot_leave (the target is the owner), invalid_name,
    // no_such_room, plus the errors of any request.
    void kick(const std::string& room_name, const std::string& user);
    void ban(const std::string& room_name, const std::string& user);
    // Returns whether the user was banned.
    bool unban(const std::string& room_name, const std::string& user);

    // Owner only: sets a new room password. With `revoke_members`, every
    // member but the owner is removed and must rejoin with the new password.
    // Returns how many members were removed.
    // Errors: not_owner, weak_password, no_such_room, plus those of any request.
    int change_password(const std::string& room_name, const std::string& password,
                        bool revoke_members);

    // Owner only: deletes the room; everyone's access ends at once and its
    // metadata disappears. Errors: not_owner, no_such_room, plus those of
    // any request.
    void delete_room(const std::string& room_name);

    // Finds rooms with the room manager's `rooms` request: the listed rooms
    // and the user's own (listed or not), sorted by name, each with
    // RoomInfo::member set. A non-empty `match` keeps the rooms whose name or
    // description contains it, ignoring case. `limit` is 1 to
    // limits::max_rooms_page; RoomList::more says whether more matched.
    // Errors: bad_request (limit out of range), plus those of any request.
    RoomList rooms(const std::string& match = {},
                   int limit = static_cast<int>(limits::default_rooms_page));

    // Owner only: changes the room's description and/or whether it is
    // listed; what is nullopt stays. Returns the updated metadata. An
    // unlisted room disappears from non-members' views at once.
    // Errors: bad_request (both nullopt, checked before any request;
    // description too long), invalid_utf8, not_owner, no_such_room, plus
    // those of any request.
    RoomInfo update_room(const std::string& room_name,
                         std::optional<std::string> description,
                         std::optional<bool> listed = std::nullopt);

    // Owner only: makes `user`, a member, the room's owner; the caller
    // stays a member. Returns the metadata with the new owner.
    // Errors: not_owner, not_member (the user is not a member),
    // invalid_name, no_such_room, plus those of any request.
    RoomInfo transfer(const std::string& room_name, const std::string& user);

    // Every room's retained metadata, gathered for `settle` after the
    // subscription is granted (retained messages arrive at once, so a
    // few hundred milliseconds suffice). Sorted by name. Shows only what
    // the broker delivers (listed rooms and the entered ones), with
    // RoomInfo::member false; rooms() is the better way to find rooms.
    // Errors: timeout, not_authenticated, connect_failed.
    std::vector<RoomInfo> list_rooms(std::chrono::milliseconds settle =
                                         std::chrono::milliseconds(500));

    // Enters a room: presents its stored join token to the broker and
    // subscribes to its messages. on_message then gets the room's last
    // Options::history_on_enter messages from the archive, followed by live
    // ones, each once and in seq order (live messages arriving meanwhile
    // wait). The room stays entered until leave_room, also across reconnects,
    // disconnect() and connect(): each time the client catches up from the
    // last seq it delivered. A jump in the live seqs (a lost delivery) is
    // filled from the archive the same way.
    //
    // Entering also subscribes to the room's presence and typing topics
    // (see on_presence, on_typing). Should the broker refuse those (a broker
    // plugin older than issue 5), the refusal is logged and the room's
    // messages work as before.
    //
    // Online, the broker's answer comes back here; offline, the room is
    // remembered and entered once the connection is up (a refusal then is
    // logged and the room forgotten). Entering twice is harmless.
    // Errors: not_joined (no stored join token), not_admitted (the broker
    // refused: token expired or revoked; the room is forgotten), timeout
    // (the room stays remembered and is entered after the next reconnect).
    void enter_room(const std::string& room_name);

    // One page of a room's archive, oldest first: the newest `limit`
    // messages, or with before_seq, the newest `limit` older than that seq
    // (scrolling back: pass the previous page's oldest_seq). Needs no
    // enter_room, only membership. `limit` is 1-500.
    // Errors: not_member, no_such_room, bad_request (limit out of range),
    // plus the errors of any request.
    HistoryPage history(const std::string& room_name,
                        std::optional<std::int64_t> before_seq = std::nullopt, int limit = 50);

    // Sends `text` to a room (presenting its join token first if needed) and
    // waits for the broker's acknowledgement. Returns the message id. Does
    // not queue: offline it fails at once. Use send_async to queue.
    // Errors: not_joined, not_admitted (the broker refused the publish),
    // bad_request (text over 8 KiB or not UTF-8), connect_failed, timeout.
    std::string send(const std::string& room_name, const std::string& text);

    // Queues `text` for a room and returns its message id at once. The link
    // thread publishes queued sends in order as soon as the connection is up,
    // retrying (with the same id, so receivers show it once) after a
    // connection loss. Each one is reported exactly once to on_send_result:
    // delivered (the broker accepted it), not_admitted (refused), timeout
    // (not accepted within Options::send_timeout), or connect_failed (the
    // Client was destroyed first).
    // Errors, thrown at once: bad_request (text over 8 KiB or not UTF-8),
    // not_joined, rate_limited (Options::max_queued_sends are waiting).
    std::string send_async(const std::string& room_name, const std::string& text);

    // Tells the other members of an entered room whether the user is
    // typing. Call it with true on every keystroke and with false when the
    // user stops (clears the line, goes idle); sending a message (send,
    // send_async) stops it by itself. The library publishes `true` when
    // typing starts and refreshes it every limits::typing_refresh_ms while
    // the calls go on, `false` once when it stops, and at most one
    // indicator per second per room: one due sooner is sent by the dispatch
    // thread when the second is over (or dropped if taken back meanwhile).
    // Indicators are fire-and-forget (QoS 0): never queued, never blocking.
    // While offline, or for a room not entered on this connection yet, they
    // are dropped. Errors: not_joined (no join token for the room).
    void set_typing(const std::string& room_name, bool typing);

    // Sets the handler for presence events of entered rooms (replacing any
    // earlier one): on entering, one `initial` event per member (online or
    // offline, the user's own included), then each change: joined, online,
    // offline, left. After a reconnect, what changed meanwhile comes as
    // `initial` online/offline events. It runs on the dispatch thread.
    void on_presence(std::function<void(const PresenceEvent&)> handler);

    // Sets the handler for typing events of entered rooms (replacing any
    // earlier one): typing=true when another member starts typing, false
    // when they stop, send a message, or their indicator is not refreshed
    // for limits::typing_ttl_ms (say, their process was killed). The user's
    // own indicators, from any device, are not reported. It runs on the
    // dispatch thread.
    void on_typing(std::function<void(const TypingEvent&)> handler);

    // Sets the handler for messages of entered rooms (replacing any earlier
    // one). It runs on the dispatch thread, one message at a time.
    // Duplicates (same seq, or same message id) are dropped; malformed
    // messages are logged, count as seen, and are skipped.
    void on_message(std::function<void(const Message&)> handler);

    // Sets the handler for send_async outcomes (replacing any earlier one).
    // It runs on the dispatch thread. Without one, failures are only logged.
    void on_send_result(std::function<void(const SendResult&)> handler);

    // Closes the user connection and stops reconnecting. Stored tokens,
    // entered rooms and queued sends stay for the next connect(). No effect
    // when not connected. Never throws.
    void disconnect();

    [[nodiscard]] const std::string& user() const noexcept;
    [[nodiscard]] const std::string& client_id() const noexcept;

    // The room manager's health report (the retained JSON on
    // chat/v1/sys/health, described in docs/protocol.md), for an operator
    // account: one whose session token was issued while the room manager
    // listed it as an operator. Uses a short connection of its own. Blocks
    // up to request_timeout for the connection and `wait` for the report.
    // Errors: not_authenticated (no session, or the broker refused it),
    // not_operator (the broker refused the topic: not an operator, or a
    // session from before the account became one), timeout (no report
    // yet: is the room manager running?), connect_failed.
    // Thread safety: may be called from any thread but the callback threads.
    [[nodiscard]] std::string health_report(std::chrono::milliseconds wait =
                                                std::chrono::seconds(5));

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mqchat::client
