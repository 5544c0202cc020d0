// Typing indicators (docs/protocol.md, "Typing indicators"), both halves,
// pure: TypingThrottle decides when this client publishes one,
// TypingTracker what the indicators of others mean over time. Both take
// the time as an argument, so every rule is unit-tested with a hand-moved
// clock. Not thread-safe; the Client guards each with its own lock.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mqchat/protocol.hpp"

namespace mqchat::client::detail {

// One room's outgoing indicators. The application says what the user is
// doing (set(true) on every keystroke, set(false) when they stop or send);
// the throttle says what to publish:
// - `true` when typing starts, and again while it goes on once
//   `refresh` has passed since the last `true` (receivers drop a `true`
//   after limits::typing_ttl_ms without one);
// - `false` when typing stops after a `true` went out; never twice;
// - at most one indicator per `min_interval`: one that is due sooner is
//   held back and comes out of tick() (a newer wish replaces it, so a
//   stop and a restart within the interval send nothing at all).
class TypingThrottle {
public:
    using Clock = std::chrono::steady_clock;

    struct Settings {
        std::chrono::milliseconds min_interval{1000};
        std::chrono::milliseconds refresh{limits::typing_refresh_ms};
    };

    TypingThrottle() = default;
    explicit TypingThrottle(Settings settings) : settings_(settings) {}

    // What the user is doing now. Returns the indicator to publish now.
    [[nodiscard]] std::optional<bool> set(bool typing, Clock::time_point now);

    // A held-back indicator that is due by `now`, if any.
    [[nodiscard]] std::optional<bool> tick(Clock::time_point now);

    // When tick() has something to do; nullopt when nothing is held back.
    [[nodiscard]] std::optional<Clock::time_point> next_wakeup() const;

    // The indicator just returned could not be published (offline, room
    // not entered): receivers saw nothing, so the next set(true) starts over.
    void not_sent();

    // Whether receivers were last told `true`.
    [[nodiscard]] bool announced() const noexcept { return announced_; }

private:
    std::optional<bool> decide(Clock::time_point now);

    Settings settings_;
    bool wanted_ = false;     // what the user is doing
    bool announced_ = false;  // what receivers were last told
    bool held_ = false;       // an indicator waits for min_interval
    std::optional<Clock::time_point> last_sent_;
    Clock::time_point last_true_{};
};

// One room's incoming indicators: who is typing, and when that ends.
// - `true` from someone not typing starts typing (reported), from someone
//   typing just pushes the expiry `ttl` further;
// - `false`, a message from the typist, or `ttl` without a refresh ends it
//   (reported once);
// - a `false` from someone not typing is not reported.
class TypingTracker {
public:
    using Clock = std::chrono::steady_clock;

    explicit TypingTracker(std::chrono::milliseconds ttl =
                               std::chrono::milliseconds(limits::typing_ttl_ms))
        : ttl_(ttl)
    {
    }

    // An indicator from `user`. Returns the change to report, if any.
    [[nodiscard]] std::optional<bool> received(const std::string& user, bool typing,
                                               Clock::time_point now);

    // `user` sent a message: they stopped typing it. True when they were
    // typing (report typing=false).
    [[nodiscard]] bool message_from(const std::string& user);

    // The typists whose `true` ran out by `now`; each is forgotten.
    [[nodiscard]] std::vector<std::string> expire(Clock::time_point now);

    // The earliest expiry; nullopt when nobody is typing.
    [[nodiscard]] std::optional<Clock::time_point> next_wakeup() const;

    [[nodiscard]] bool is_typing(const std::string& user) const
    {
        return typing_.count(user) > 0;
    }

private:
    std::chrono::milliseconds ttl_;
    std::map<std::string, Clock::time_point> typing_;  // user -> expiry
};

}  // namespace mqchat::client::detail
