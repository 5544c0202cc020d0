// The room manager's health report: counters of the requests it answered
// (Metrics) and a reporter that publishes them, with the state of the
// store, the archive and who is online, as retained JSON on
// topic::sys_health every few seconds (docs/protocol.md, Health).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "mqchat/protocol.hpp"
#include "mqchat/service/archiver.hpp"
#include "mqchat/service/store.hpp"

namespace mqtt {
class async_client;
}

namespace mqchat::service {

namespace detail {
struct StopSignal;
}

// Requests and errors per operation, refused joins and rate-limit hits.
// Thread safety: every member may be called from any thread.
class Metrics {
public:
    // One answered request. Operations that do not exist are counted
    // together as "unknown", so a client cannot grow the table.
    void record(std::string_view op, ErrorCode code);

    // {"requests": {op: {"requests": n, "errors": n}}, "requests_total": n,
    //  "errors_total": n, "joins_refused": n, "rate_limited": n}
    [[nodiscard]] nlohmann::json to_json() const;

private:
    struct Counts {
        std::uint64_t requests = 0;
        std::uint64_t errors = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, Counts, std::less<>> by_op_;
    std::uint64_t joins_refused_ = 0;
    std::uint64_t rate_limited_ = 0;
};

struct HealthConfig {
    std::string broker_uri = "tcp://127.0.0.1:1883";
    std::string service_user = "mqchat-service";
    std::string secret;           // the MQTT password; never logged
    std::string instance = "main";
    std::string version;          // the room manager's version
    std::chrono::milliseconds interval{5000};
    // Run on the reporter's thread before each report (the signing key
    // watch uses it). Must not throw.
    std::function<void()> on_tick;
};

// Lifecycle: construct, start(), stop() once (the destructor stops too).
//
// Uses its own MQTT connection (client id "mqchat-health-<instance>"): it
// follows topic::sys_presence (asking the plugin for a snapshot on every
// connect) to count the online users, and publishes the report retained,
// at QoS 1, every `interval` and once more with "status": "stopped" on
// stop(). Threads: the report is built and sent on the reporter's own
// thread; presence events are handled on Paho's callback thread.
class HealthReporter {
public:
    HealthReporter(HealthConfig config, Store& store, const Metrics& metrics,
                   const Archiver& archiver);
    ~HealthReporter();
    HealthReporter(const HealthReporter&) = delete;
    HealthReporter& operator=(const HealthReporter&) = delete;

    void start();
    void stop();

    // The report as it would be published now (also for tests).
    [[nodiscard]] nlohmann::json report(std::string_view status);

private:
    void run();
    void on_connected();
    void on_presence(const std::string& payload);
    void publish(const nlohmann::json& report);

    HealthConfig config_;
    Store& store_;
    const Metrics& metrics_;
    const Archiver& archiver_;
    const std::int64_t started_ms_;
    std::unique_ptr<mqtt::async_client> client_;
    std::unique_ptr<detail::StopSignal> stop_;
    std::thread thread_;
    bool stopped_ = false;

    std::mutex presence_mutex_;
    bool presence_known_ = false;  // a snapshot arrived on this connection
    std::set<std::string, std::less<>> online_;
};

}  // namespace mqchat::service
