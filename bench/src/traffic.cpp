#include "traffic.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <deque>
#include <map>
#include <stdexcept>
#include <thread>

#include "mqchat/client/detail/wire.hpp"

namespace mqchat::bench {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t timestamp_digits = 19;
constexpr std::string_view text_key = R"("text":")";
// Receivers lag by up to TrafficOptions::window messages, so a coarse poll
// keeps them busy and costs the benchmark process little CPU.
constexpr auto poll_interval = 1ms;

// Message ids: a per-process tag, a run number and a counter, 32 characters.
std::string message_id(std::uint64_t run, std::uint64_t k)
{
    static const std::string tag = client::detail::random_hex(4);
    char digits[25];
    std::snprintf(digits, sizeof digits, "%08llx%016llx", static_cast<unsigned long long>(run),
                  static_cast<unsigned long long>(k));
    return tag + digits;
}

std::uint64_t next_run()
{
    static std::atomic<std::uint64_t> runs{0};
    return ++runs;
}

// Per-receiver bookkeeping of one traffic run.
class Ledger {
public:
    explicit Ledger(const std::vector<BenchConnection*>& receivers)
        : receivers_(receivers), expected_(receivers.size(), 0)
    {
        for (const auto* r : receivers_) {
            base_.push_back(r->received());
        }
    }

    std::int64_t got(std::size_t r) const
    {
        return static_cast<std::int64_t>(receivers_[r]->received() - base_[r]);
    }

    std::int64_t behind(std::size_t r) const { return expected_[r] - got(r); }

    void expect(const Route& route)
    {
        for (std::size_t r : route.receivers) {
            ++expected_[r];
        }
    }

    std::uint64_t expected_total() const
    {
        std::uint64_t total = 0;
        for (auto e : expected_) {
            total += static_cast<std::uint64_t>(e);
        }
        return total;
    }

    // Deliveries that arrived, never more than expected per receiver.
    std::uint64_t delivered_total() const
    {
        std::uint64_t total = 0;
        for (std::size_t r = 0; r < receivers_.size(); ++r) {
            total += static_cast<std::uint64_t>(std::clamp<std::int64_t>(got(r), 0, expected_[r]));
        }
        return total;
    }

    std::int64_t last_delivery_ns() const
    {
        std::int64_t last = 0;
        for (const auto* r : receivers_) {
            last = std::max(last, r->last_received_ns());
        }
        return last;
    }

    // Waits until everything expected arrived, or until nothing more
    // arrives for `quiet`. Returns whether everything arrived.
    bool drain(std::chrono::milliseconds quiet) const
    {
        std::uint64_t seen = delivered_total();
        auto last_progress = std::chrono::steady_clock::now();
        while (seen < expected_total()) {
            std::this_thread::sleep_for(1ms);
            const std::uint64_t now_seen = delivered_total();
            if (now_seen != seen) {
                seen = now_seen;
                last_progress = std::chrono::steady_clock::now();
            } else if (std::chrono::steady_clock::now() - last_progress > quiet) {
                return false;
            }
        }
        return true;
    }

    // Waits until no receiver of `route` is `window` or more behind; false
    // if one makes no progress for `quiet` (its messages were dropped).
    bool wait_for_room(const Route& route, std::int64_t window,
                       std::chrono::milliseconds quiet) const
    {
        for (std::size_t r : route.receivers) {
            auto last_progress = std::chrono::steady_clock::now();
            std::int64_t last_got = got(r);
            while (behind(r) >= window) {
                std::this_thread::sleep_for(poll_interval);
                if (got(r) != last_got) {
                    last_got = got(r);
                    last_progress = std::chrono::steady_clock::now();
                } else if (std::chrono::steady_clock::now() - last_progress > quiet) {
                    return false;
                }
            }
        }
        return true;
    }

private:
    const std::vector<BenchConnection*>& receivers_;
    std::vector<std::uint64_t> base_;
    std::vector<std::int64_t> expected_;
};

// Keeps each sender below TrafficOptions::sender_inflight and all of them
// below total_inflight unacknowledged publishes, by waiting for the oldest
// PUBACK when needed.
class SenderWindows {
public:
    explicit SenderWindows(const TrafficOptions& options)
        : per_sender_(std::max<std::size_t>(options.sender_inflight, 1)),
          total_(std::max<std::size_t>(options.total_inflight, 1)),
          timeout_(options.drain_timeout)
    {
    }

    void publish(const Route& route, std::string payload)
    {
        auto& own = windows_[route.sender];
        make_room(own, per_sender_, route.topic);
        make_room(all_, total_, route.topic);
        auto token = route.sender->publish(route.topic, std::move(payload), stamps_for(route));
        own.push_back(token);
        all_.push_back(std::move(token));
    }

private:
    using Window = std::deque<mqtt::delivery_token_ptr>;

    // What the plugin would add: the same names, values of the same sizes.
    mqtt::properties stamps_for(const Route& route)
    {
        mqtt::properties stamps;
        if (route.add_stamps) {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
            stamps.add({mqtt::property::USER_PROPERTY, "sender", route.sender_name});
            stamps.add({mqtt::property::USER_PROPERTY, "seq", std::to_string(++seq_)});
            stamps.add({mqtt::property::USER_PROPERTY, "ts", std::to_string(ms)});
        }
        return stamps;
    }

    void make_room(Window& window, std::size_t limit, const std::string& topic) const
    {
        while (!window.empty() && window.front()->is_complete()) {
            window.pop_front();
        }
        while (window.size() >= limit) {
            if (!window.front()->wait_for(timeout_)) {
                throw std::runtime_error("no PUBACK for a message to " + topic);
            }
            window.pop_front();
        }
    }

    std::size_t per_sender_;
    std::size_t total_;
    std::chrono::milliseconds timeout_;
    std::map<BenchConnection*, Window> windows_;
    Window all_;
    std::uint64_t seq_ = 0;
};

TrafficResult finish(const Ledger& ledger, std::uint64_t sent, std::int64_t first_send_ns,
                     const TrafficOptions& options)
{
    ledger.drain(options.drain_timeout);

    TrafficResult result;
    result.sent = sent;
    result.expected = ledger.expected_total();
    result.delivered = ledger.delivered_total();
    const std::int64_t span_ns = ledger.last_delivery_ns() - first_send_ns;
    result.seconds = span_ns > 0 ? static_cast<double>(span_ns) / 1e9 : 0.0;
    result.delivered_per_s =
        result.seconds > 0 ? static_cast<double>(result.delivered) / result.seconds : 0.0;
    return result;
}

}  // namespace

std::string room_payload(std::string_view id, std::int64_t sent_ns, std::size_t text_bytes)
{
    char stamp[timestamp_digits + 2];
    std::snprintf(stamp, sizeof stamp, "%019lld ", static_cast<long long>(sent_ns));
    std::string text(stamp);
    text.resize(std::max(text_bytes, text.size()), 'x');
    return client::detail::message_payload(id, text);
}

std::optional<std::int64_t> sent_ns_of(std::string_view payload)
{
    const std::size_t at = payload.find(text_key);
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    const char* begin = payload.data() + at + text_key.size();
    const char* end = payload.data() + payload.size();
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(begin, std::min(end, begin + timestamp_digits), value);
    if (ec != std::errc{} || ptr == begin) {
        return std::nullopt;
    }
    return value;
}

TrafficResult pump(const std::vector<Route>& routes,
                   const std::vector<BenchConnection*>& receivers, std::uint64_t messages,
                   const TrafficOptions& options)
{
    Ledger ledger(receivers);
    SenderWindows senders(options);
    const std::uint64_t run = next_run();
    const auto window = static_cast<std::int64_t>(std::max<std::size_t>(options.window, 1));
    const std::int64_t first_send_ns = steady_ns();

    std::uint64_t sent = 0;
    for (; sent < messages; ++sent) {
        // Only as fast as the slowest receiver of this room keeps up.
        const Route& route = routes[sent % routes.size()];
        if (!ledger.wait_for_room(route, window, options.drain_timeout)) {
            break;
        }
        ledger.expect(route);
        const std::string id = message_id(run, sent);
        senders.publish(route, room_payload(id, steady_ns(), options.text_bytes));
    }
    return finish(ledger, sent, first_send_ns, options);
}

TrafficResult pace(const std::vector<Route>& routes,
                   const std::vector<BenchConnection*>& receivers, double rate,
                   std::chrono::milliseconds duration, const TrafficOptions& options)
{
    Ledger ledger(receivers);
    SenderWindows senders(options);
    const std::uint64_t run = next_run();
    for (auto* r : receivers) {
        r->record_latency(true);
    }

    // Message k is due at start + k / rate; a late sender catches up at
    // once instead of skipping, and its lateness is reported.
    const auto period = std::chrono::duration<double>(1.0 / rate);
    const auto start = std::chrono::steady_clock::now();
    const auto stop = start + duration;
    const std::int64_t first_send_ns = steady_ns();
    double max_lag_ms = 0;
    std::uint64_t sent = 0;
    for (;; ++sent) {
        const auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                     period * static_cast<double>(sent));
        if (due >= stop) {
            break;
        }
        std::this_thread::sleep_until(due);
        const auto lag = std::chrono::steady_clock::now() - due;
        max_lag_ms = std::max(max_lag_ms, std::chrono::duration<double, std::milli>(lag).count());

        const Route& route = routes[sent % routes.size()];
        ledger.expect(route);
        const std::string id = message_id(run, sent);
        senders.publish(route, room_payload(id, steady_ns(), options.text_bytes));
    }

    TrafficResult result = finish(ledger, sent, first_send_ns, options);
    for (auto* r : receivers) {
        r->record_latency(false);
    }
    result.max_send_lag_ms = max_lag_ms;
    return result;
}

}  // namespace mqchat::bench
