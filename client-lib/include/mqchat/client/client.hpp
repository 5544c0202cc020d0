// The mqchat client: accounts, rooms and messages over MQTT v5, without a
// single topic string in sight.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mqchat/client/error.hpp"
#include "mqchat/client/token_store.hpp"
#include "mqchat/client/types.hpp"

namespace mqchat::client {

struct Options {
    // Broker URI as Paho takes it: mqtt://host:port, tcp://, ssl://, ws://.
    std::string broker = "mqtt://127.0.0.1:1883";

    // The account name. Required for everything.
    std::string user;

    // How long a connect, a control request or a subscribe may take.
    std::chrono::milliseconds request_timeout{10000};

    // MQTT client id of the user connection; empty means "<user>:<16 hex>".
    std::string client_id;

    // Where the session token and join tokens live; null means a fresh
    // MemoryTokenStore.
    std::shared_ptr<TokenStore> tokens;

    // Log sink; the library is silent without one. Called from any thread.
    Logger logger;
};

// One user's view of mqchat.
//
// Errors: every blocking call throws Error (see error.hpp) and nothing else
// except std::bad_alloc and the TokenStore's std::runtime_error.
//
// Thread safety: all members may be called from several threads at once,
// including from inside the on_message callback. The destructor must not run
// on the dispatch thread.
//
// Reconnects: the user connection reconnects by itself. After a reconnect the
// client presents every stored join token again and resubscribes to every
// room it entered; messages published while it was away are not fetched
// (history is not part of the protocol yet).
class Client {
public:
    // Starts the dispatch thread; does not connect. Throws Error usage when
    // options.user is empty.
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

    // Connects as the user with the stored session token. No effect when
    // already connected. Errors: not_authenticated (no token, or the broker
    // refused it: expired or revoked), connect_failed.
    void connect();

    // Whether the user connection is up right now.
    [[nodiscard]] bool is_connected() const;

    // Creates a room owned by the user and stores its join token. Does not
    // enter it. Errors: room_exists, invalid_name, weak_password, plus the
    // errors of any request (timeout, not_authenticated, connect_failed).
    RoomInfo create_room(const std::string& name, const std::string& password);

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
    void unban(const std::string& room_name, const std::string& user);

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

    // Every room's retained metadata, gathered for `settle` after the
    // subscription is granted (retained messages arrive at once, so a
    // few hundred milliseconds suffice). Sorted by name.
    // Errors: timeout, not_authenticated, connect_failed.
    std::vector<RoomInfo> list_rooms(std::chrono::milliseconds settle =
                                         std::chrono::milliseconds(500));

    // Enters a room: presents its stored join token to the broker and
    // subscribes to its messages, which then reach the on_message handler.
    // Entering twice is harmless. Errors: not_joined (no stored join token),
    // not_admitted (the broker refused: token expired or revoked), timeout.
    void enter_room(const std::string& room_name);

    // Sends `text` to a room (presenting its join token first if needed) and
    // waits for the broker's acknowledgement. Returns the message id.
    // Errors: not_joined, not_admitted (the broker refused the publish),
    // bad_request (text over 8 KiB or not UTF-8), timeout.
    std::string send(const std::string& room_name, const std::string& text);

    // Sets the handler for messages of entered rooms (replacing any earlier
    // one). It runs on the client's own dispatch thread, one message at a
    // time, never on a Paho thread. Duplicates (same message id in a room)
    // are dropped; malformed messages are logged and skipped.
    void on_message(std::function<void(const Message&)> handler);

    // Closes the user connection. Stored tokens stay. No effect when not
    // connected. Never throws.
    void disconnect();

    [[nodiscard]] const std::string& user() const noexcept;
    [[nodiscard]] const std::string& client_id() const noexcept;

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mqchat::client
