// Turns one room's retained presence messages into PresenceEvents. Pure:
// the Client feeds it what the broker delivers, so the rules are
// unit-tested without a broker. The Client runs one per entered room on
// its dispatch thread.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/types.hpp"

namespace mqchat::client::detail {

// The rules:
// - a retained message (the snapshot the broker sends on subscribing, on
//   entering and after each reconnect) for a member not known yet is
//   reported as online or offline with `initial` set;
// - a live message for a member not known yet is `joined`;
// - a known member whose online flag flips is reported online or offline,
//   `initial` telling whether it came from a snapshot (it changed while the
//   connection was down) or live;
// - the same state again (a snapshot after a reconnect, a new `since`) is
//   not reported; a role change alone (transfer) is not either;
// - an empty payload for a known member is `left`; for an unknown one it
//   is not reported (there is nobody to show as gone).
//
// Known gap: a member who left while the connection was down is not
// reported as left, because their topic is simply absent from the new
// snapshot and a snapshot has no end marker. Telling would need a marker
// from the room manager (or a `members` request after each reconnect).
//
// Not thread-safe: one thread (the Client's dispatch thread) owns it.
class PresenceTracker {
public:
    PresenceTracker(std::string room_name, std::string room_id)
        : room_name_(std::move(room_name)), room_id_(std::move(room_id))
    {
    }

    // One delivered presence message; `retained` is the MQTT retain flag
    // as delivered (set only for the subscription's snapshot). Returns the
    // event to report, if any.
    [[nodiscard]] std::optional<PresenceEvent> update(const PresenceUpdate& update,
                                                      bool retained);

    // Whether `user` is a member as far as the messages so far tell.
    [[nodiscard]] bool knows(const std::string& user) const { return members_.count(user) > 0; }

private:
    struct State {
        std::string role;
        bool online = false;
    };

    std::string room_name_;
    std::string room_id_;
    std::map<std::string, State> members_;
};

}  // namespace mqchat::client::detail
