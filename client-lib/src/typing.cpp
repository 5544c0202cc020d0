#include "mqchat/client/detail/typing.hpp"

#include <algorithm>

namespace mqchat::client::detail {

// ---------------------------------------------------------------------------
// TypingThrottle
// ---------------------------------------------------------------------------

std::optional<bool> TypingThrottle::set(bool typing, Clock::time_point now)
{
    wanted_ = typing;
    return decide(now);
}

std::optional<bool> TypingThrottle::tick(Clock::time_point now)
{
    auto due = next_wakeup();
    if (!due || now < *due) {
        return std::nullopt;
    }
    return decide(now);
}

std::optional<TypingThrottle::Clock::time_point> TypingThrottle::next_wakeup() const
{
    if (!held_ || !last_sent_) {
        return std::nullopt;
    }
    return *last_sent_ + settings_.min_interval;
}

void TypingThrottle::not_sent()
{
    announced_ = false;
    held_ = false;
}

std::optional<bool> TypingThrottle::decide(Clock::time_point now)
{
    // Step 1: what receivers need to hear, if anything.
    const bool start = wanted_ && !announced_;
    const bool refresh = wanted_ && announced_ && now - last_true_ >= settings_.refresh;
    const bool stop = !wanted_ && announced_;
    if (!start && !refresh && !stop) {
        held_ = false;  // a held indicator the user took back
        return std::nullopt;
    }

    // Step 2: too soon after the last one: hold it for tick().
    if (last_sent_ && now - *last_sent_ < settings_.min_interval) {
        held_ = true;
        return std::nullopt;
    }

    // Step 3: out it goes.
    held_ = false;
    last_sent_ = now;
    announced_ = wanted_;
    if (wanted_) {
        last_true_ = now;
    }
    return wanted_;
}

// ---------------------------------------------------------------------------
// TypingTracker
// ---------------------------------------------------------------------------

std::optional<bool> TypingTracker::received(const std::string& user, bool typing,
                                            Clock::time_point now)
{
    if (typing) {
        const bool started = typing_.count(user) == 0;
        typing_[user] = now + ttl_;
        return started ? std::optional<bool>(true) : std::nullopt;
    }
    if (typing_.erase(user) > 0) {
        return false;
    }
    return std::nullopt;
}

bool TypingTracker::message_from(const std::string& user)
{
    return typing_.erase(user) > 0;
}

std::vector<std::string> TypingTracker::expire(Clock::time_point now)
{
    std::vector<std::string> ended;
    for (auto it = typing_.begin(); it != typing_.end();) {
        if (it->second <= now) {
            ended.push_back(it->first);
            it = typing_.erase(it);
        } else {
            ++it;
        }
    }
    return ended;
}

std::optional<TypingTracker::Clock::time_point> TypingTracker::next_wakeup() const
{
    if (typing_.empty()) {
        return std::nullopt;
    }
    auto earliest = std::min_element(typing_.begin(), typing_.end(), [](const auto& a,
                                                                        const auto& b) {
        return a.second < b.second;
    });
    return earliest->second;
}

}  // namespace mqchat::client::detail
