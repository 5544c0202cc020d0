#include "mqchat/service/presence_tracker.hpp"

#include <set>
#include <utility>

namespace mqchat::service {

PresenceTracker::PresenceTracker(std::chrono::milliseconds grace, Clock clock)
    : grace_ms_(grace.count() < 0 ? 0 : grace.count()),
      clock_(std::move(clock)),
      start_ms_(clock_())
{
}

std::optional<PresenceChange> PresenceTracker::online_locked(const std::string& user,
                                                             std::int64_t now)
{
    auto [it, inserted] = users_.try_emplace(user);
    Entry& entry = it->second;

    // Back within the grace: the offline never happened for anyone watching.
    if (entry.state.online) {
        entry.offline_at_ms.reset();
        return std::nullopt;
    }
    entry.state = {true, now};
    return PresenceChange{user, entry.state};
}

std::optional<PresenceChange> PresenceTracker::offline_locked(const std::string& user,
                                                              std::int64_t now)
{
    const auto it = users_.find(user);
    if (it == users_.end() || !it->second.state.online) {
        return std::nullopt;
    }
    Entry& entry = it->second;
    if (grace_ms_ == 0) {
        entry.state = {false, now};
        return PresenceChange{user, entry.state};
    }

    // The first disconnect starts the grace; a repeated one does not extend it.
    if (!entry.offline_at_ms) {
        entry.offline_at_ms = now;
    }
    return std::nullopt;
}

std::optional<PresenceChange> PresenceTracker::user_online(std::string_view user)
{
    std::lock_guard lock(mutex_);
    return online_locked(std::string(user), clock_());
}

std::optional<PresenceChange> PresenceTracker::user_offline(std::string_view user)
{
    std::lock_guard lock(mutex_);
    return offline_locked(std::string(user), clock_());
}

std::vector<PresenceChange> PresenceTracker::snapshot(const std::vector<std::string>& online)
{
    const std::set<std::string, std::less<>> connected(online.begin(), online.end());

    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    std::vector<PresenceChange> changes;

    // Online users the snapshot no longer lists left while we were not listening.
    for (auto& [user, entry] : users_) {
        if (entry.state.online && !connected.contains(user)) {
            if (auto change = offline_locked(user, now)) {
                changes.push_back(std::move(*change));
            }
        }
    }
    for (const auto& user : connected) {
        if (auto change = online_locked(user, now)) {
            changes.push_back(std::move(*change));
        }
    }
    return changes;
}

std::vector<PresenceChange> PresenceTracker::expire()
{
    std::lock_guard lock(mutex_);
    const std::int64_t now = clock_();
    std::vector<PresenceChange> changes;
    for (auto& [user, entry] : users_) {
        if (entry.offline_at_ms && now - *entry.offline_at_ms >= grace_ms_) {
            entry.state = {false, *entry.offline_at_ms};
            entry.offline_at_ms.reset();
            changes.push_back({user, entry.state});
        }
    }
    return changes;
}

PresenceState PresenceTracker::state(std::string_view user) const
{
    std::lock_guard lock(mutex_);
    const auto it = users_.find(user);
    if (it == users_.end()) {
        return {false, start_ms_};
    }
    return it->second.state;
}

bool PresenceTracker::is_online(std::string_view user) const
{
    return state(user).online;
}

}  // namespace mqchat::service
