#include "mqchat/service/rate_limiter.hpp"

namespace mqchat::service {

void RateLimiter::prune(std::deque<std::int64_t>& times, std::int64_t now_ms) const
{
    while (!times.empty() && times.front() <= now_ms - limit_.window.count()) {
        times.pop_front();
    }
}

void RateLimiter::sweep(std::int64_t now_ms)
{
    // Drop idle keys now and then so an attacker cycling names cannot grow the map forever.
    if (now_ms - last_sweep_ms_ < limit_.window.count()) {
        return;
    }
    last_sweep_ms_ = now_ms;
    for (auto it = failures_.begin(); it != failures_.end();) {
        prune(it->second, now_ms);
        it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
}

bool RateLimiter::blocked(const std::string& key, std::int64_t now_ms)
{
    std::lock_guard lock(mutex_);
    auto it = failures_.find(key);
    if (it == failures_.end()) {
        return false;
    }
    prune(it->second, now_ms);
    return it->second.size() >= limit_.max_failures;
}

void RateLimiter::record_failure(const std::string& key, std::int64_t now_ms)
{
    std::lock_guard lock(mutex_);
    sweep(now_ms);
    auto& times = failures_[key];
    prune(times, now_ms);
    times.push_back(now_ms);
}

}  // namespace mqchat::service
