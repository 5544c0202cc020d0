// Counts failures per key in a sliding window (failed room joins).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mqchat::service {

struct RateLimit {
    std::size_t max_failures = 5;
    std::chrono::milliseconds window{60'000};
};

// Thread safety: every member may be called from any thread.
class RateLimiter {
public:
    explicit RateLimiter(RateLimit limit) : limit_(limit) {}

    // True when `key` has reached the limit within the window ending at now_ms.
    [[nodiscard]] bool blocked(const std::string& key, std::int64_t now_ms);

    // Records one failure for `key` at now_ms.
    void record_failure(const std::string& key, std::int64_t now_ms);

private:
    void prune(std::deque<std::int64_t>& times, std::int64_t now_ms) const;
    void sweep(std::int64_t now_ms);

    RateLimit limit_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::deque<std::int64_t>> failures_;
    std::int64_t last_sweep_ms_ = 0;
};

}  // namespace mqchat::service
