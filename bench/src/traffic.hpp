// The benchmark's room messages and the two ways of sending them: as fast
// as the receivers keep up (throughput), or at a fixed rate (latency).
//
// Every message is a valid mqchat room message, {"id","text"}, on
// chat/v1/rooms/<room-id>/msg, for the plain broker as well as for mqchat.
// Its text starts with the send time (19 digits, steady_clock nanoseconds)
// and is padded with 'x' to the configured length, so receivers can time
// it without a clock shared between processes: all clients live in this
// process.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_connection.hpp"

namespace mqchat::bench {

// {"id":"<id>","text":"<sent_ns> xxx..."} with a text of `text_bytes`
// bytes (at least 20: the timestamp and a space).
[[nodiscard]] std::string room_payload(std::string_view id, std::int64_t sent_ns,
                                       std::size_t text_bytes);

// The send time at the start of the text; nullopt when there is none.
[[nodiscard]] std::optional<std::int64_t> sent_ns_of(std::string_view payload);

// A room as the senders see it: where to publish, from which connection,
// and which of the receivers (indices into the receiver list handed to
// pump() or pace()) get each message.
struct Route {
    std::string topic;
    BenchConnection* sender = nullptr;
    std::vector<std::size_t> receivers;
    // Attach the user properties mqchat's plugin stamps (sender, seq, ts)
    // on the sender's side, so a plain broker delivers the same bytes.
    bool add_stamps = false;
    std::string sender_name;
};

// What one run of traffic achieved.
struct TrafficResult {
    std::uint64_t sent = 0;
    std::uint64_t expected = 0;   // deliveries that should have arrived
    std::uint64_t delivered = 0;  // deliveries that did, by the drain deadline
    double seconds = 0;           // first send to last delivery
    double delivered_per_s = 0;
    double max_send_lag_ms = 0;   // pace(): worst lateness against the schedule

    // Filled in by the scenarios: how long connecting and opening the rooms
    // took before the traffic, and the CPU seconds the traffic used
    // (negative when unknown).
    double setup_s = 0;
    double broker_cpu_s = -1;
    double manager_cpu_s = -1;
    double bench_cpu_s = -1;
};

struct TrafficOptions {
    std::size_t text_bytes = 200;
    // pump(): how far any receiver may fall behind before the sender waits.
    // Below max_queued_messages (1000), so the broker never drops.
    std::size_t window = 500;
    // QoS 1 messages a sender may have unacknowledged. Must stay below the
    // broker's Receive Maximum (Mosquitto: max_inflight_messages, 20): Paho
    // C 1.3.12 wakes its send thread for new commands but not for PUBACKs,
    // so a client that reaches the broker's limit sends nothing more until
    // its next command or for up to a second.
    std::size_t sender_inflight = 16;
    // And in total over all senders, so runs with different numbers of
    // senders keep the same depth of pipelining.
    std::size_t total_inflight = 64;
    // How long to wait for stragglers after the last send without any
    // progress before counting the rest as lost.
    std::chrono::milliseconds drain_timeout{10000};
};

// Sends `messages` messages round-robin over `routes` as fast as the
// slowest receiver of each room takes them (see TrafficOptions::window),
// then waits for the deliveries. Counting starts from the receivers'
// counts at the call, so earlier traffic does not disturb it.
[[nodiscard]] TrafficResult pump(const std::vector<Route>& routes,
                                 const std::vector<BenchConnection*>& receivers,
                                 std::uint64_t messages, const TrafficOptions& options);

// Sends `rate` messages per second, round-robin over `routes`, for
// `duration`, on a fixed schedule (open loop: a slow broker does not slow
// the sender), then waits for the deliveries. The receivers record
// latency samples meanwhile (added to any not yet taken); collect them with
// take_latencies().
[[nodiscard]] TrafficResult pace(const std::vector<Route>& routes,
                                 const std::vector<BenchConnection*>& receivers, double rate,
                                 std::chrono::milliseconds duration,
                                 const TrafficOptions& options);

}  // namespace mqchat::bench
