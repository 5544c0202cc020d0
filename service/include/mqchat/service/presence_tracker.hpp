// Who is online, as the room manager sees it: the broker plugin's presence
// events turned into states with a start time and a grace period for going
// offline. Pure logic; the clock is injected.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqchat::service {

// A user's presence as published: online or not, and since when
// (milliseconds since the epoch).
struct PresenceState {
    bool online = false;
    std::int64_t since_ms = 0;
};

// A state that just began, to be published in every room of `user`.
struct PresenceChange {
    std::string user;
    PresenceState state;
};

// Keeps the online state of each user from the plugin's events on
// topic::sys_presence (docs/protocol.md, "Presence").
//
// A user goes online at once. Going offline waits `grace`: an "online"
// within it cancels the offline, so a quick reconnect never shows. When
// the grace runs out, expire() reports the offline with `since` set to the
// moment of the disconnect. A grace of zero reports offline at once.
//
// The plugin counts connections (two devices, session takeover) and speaks
// per user, so repeated "online" or "offline" events change nothing.
//
// Users never seen online are offline since the tracker was created: the
// room manager cannot know when they left. The state is held in memory
// only, one small entry per user seen; it is rebuilt from a snapshot after
// every (re)connect.
//
// Thread safety: every member may be called from any thread.
class PresenceTracker {
public:
    using Clock = std::function<std::int64_t()>;  // milliseconds since the epoch

    PresenceTracker(std::chrono::milliseconds grace, Clock clock);

    // An "online" event. Returns the change, or nullopt if the user was
    // online already (also while their offline grace ran).
    std::optional<PresenceChange> user_online(std::string_view user);

    // An "offline" event. Returns the change only with a zero grace; else
    // the offline is pending until expire() reports it.
    std::optional<PresenceChange> user_offline(std::string_view user);

    // A snapshot: exactly `online` are connected now. Users in it go online
    // as by user_online(); online users missing from it go offline as by
    // user_offline() (with the grace). Returns the changes at once: any
    // offlines (zero grace only), then the onlines, each in user-name order.
    std::vector<PresenceChange> snapshot(const std::vector<std::string>& online);

    // Offlines whose grace has run out by now, in user-name order.
    std::vector<PresenceChange> expire();

    // The state as published: a user in their grace period is still online.
    [[nodiscard]] PresenceState state(std::string_view user) const;
    [[nodiscard]] bool is_online(std::string_view user) const;

private:
    struct Entry {
        PresenceState state;
        std::optional<std::int64_t> offline_at_ms;  // pending offline, while online
    };

    std::optional<PresenceChange> online_locked(const std::string& user, std::int64_t now);
    std::optional<PresenceChange> offline_locked(const std::string& user, std::int64_t now);

    const std::int64_t grace_ms_;
    const Clock clock_;
    const std::int64_t start_ms_;

    mutable std::mutex mutex_;
    std::map<std::string, Entry, std::less<>> users_;
};

}  // namespace mqchat::service
