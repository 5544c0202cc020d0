// The room manager's message archive: a second MQTT connection with a
// persistent session that stores every room message in the Store, and a
// retention sweep that keeps the archive within its limits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "mqchat/service/store.hpp"

namespace mqtt {
class async_client;
class message;
}

namespace mqchat::service {

namespace detail {
struct StopSignal;
}

struct ArchiverConfig {
    std::string broker_uri = "tcp://127.0.0.1:1883";
    std::string service_user = "mqchat-service";
    std::string secret;  // the MQTT password; never logged
    // Names this room manager's archive session; several room managers need
    // different instances (they share the work through one shared
    // subscription group).
    std::string instance = "main";
    // How long the broker keeps the session (and queues messages for it)
    // while the room manager is away.
    std::chrono::seconds session_expiry{30 * 24 * 3600};

    // Retention: newest messages kept per room (0: no count limit), and the
    // oldest age kept (0: no age limit), enforced every `prune_interval`.
    std::int64_t keep_per_room = 100'000;
    std::chrono::hours max_age{0};
    std::chrono::seconds prune_interval{60};
};

// Counters of the archive since start, for the health report.
struct ArchiveStats {
    bool connected = false;
    std::uint64_t received = 0;      // room messages delivered to the archive
    std::uint64_t stored = 0;        // of those, written to the store
    std::uint64_t duplicates = 0;    // already archived (a redelivery)
    std::uint64_t failed = 0;        // unstamped, or the store refused them
    std::int64_t last_stored_ms = 0; // wall clock of the last write; 0: none yet
};

// Lifecycle: construct, start(), stop() once (the destructor stops too).
//
// Threads: messages are stored on Paho's callback thread, before the next
// one is taken, which keeps them in order and applies back-pressure to the
// broker instead of queueing without bound in memory. The retention sweep
// runs on its own thread and takes the store lock one room at a time, so it
// never holds up the archive or control requests for long.
class Archiver {
public:
    Archiver(ArchiverConfig config, Store& store);
    ~Archiver();
    Archiver(const Archiver&) = delete;
    Archiver& operator=(const Archiver&) = delete;

    // Starts connecting (retrying until stop()) and the retention sweep.
    void start();
    void stop();

    // One sweep of the retention limits over every archived room; removes
    // rooms that no longer exist. Returns how many messages went.
    std::size_t prune_once(std::int64_t now_ms);

    // A snapshot of the counters. Thread-safe.
    [[nodiscard]] ArchiveStats stats() const;

    // Turns a delivered room message into an archive row. nullopt when the
    // topic is not a room's msg topic or the plugin's sender/seq/ts stamps
    // are missing, repeated or malformed (then it was not routed by our
    // plugin and must not be trusted). A payload that is not
    // {"id": string, "text": string} gives a row without id and text.
    [[nodiscard]] static std::optional<ArchivedMessage> decode(
        std::string_view topic, std::string_view payload,
        const std::vector<std::pair<std::string, std::string>>& user_properties);

private:
    void connect_loop();
    void on_connected();
    void on_message(const mqtt::message& message);
    void prune_loop();

    ArchiverConfig config_;
    Store& store_;
    std::unique_ptr<mqtt::async_client> client_;
    std::unique_ptr<detail::StopSignal> stop_;
    std::thread connector_;
    std::thread pruner_;
    bool stopped_ = false;

    std::atomic<bool> connected_{false};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::uint64_t> stored_{0};
    std::atomic<std::uint64_t> duplicates_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::int64_t> last_stored_ms_{0};
};

}  // namespace mqchat::service
