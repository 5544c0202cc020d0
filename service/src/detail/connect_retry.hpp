// Connecting and disconnecting the room manager's Paho clients.
// The first connection of a Paho client, retried with doubling backoff.
// Paho reconnects by itself only after a first success, so both of the
// room manager's connections (control requests, archive) start through this.
#pragma once

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

namespace mqchat::service::detail {

// Lets a waiting connect loop notice stop() at once instead of sleeping on.
struct StopSignal {
    std::atomic<bool> stopping{false};
    std::mutex mutex;
    std::condition_variable wake;

    void raise()
    {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        wake.notify_all();
    }
};

// How every room-manager connection logs in: MQTT v5 as the service account,
// 30 s keep-alive, Paho's own reconnects after the first success. A clean
// start for the control and health connections; the archive keeps its
// session (and sets its expiry itself, see Archiver::connect_loop).
inline mqtt::connect_options service_connect_options(const std::string& user,
                                                     const std::string& secret,
                                                     bool clean_start = true)
{
    return mqtt::connect_options_builder()
        .mqtt_version(MQTTVERSION_5)
        .user_name(user)
        .password(secret)
        .clean_start(clean_start)
        .keep_alive_interval(std::chrono::seconds(30))
        .connect_timeout(std::chrono::seconds(10))
        .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(5))
        .finalize();
}

// Returns once connected, or when `stop` is raised. `what` names the
// connection in the log.
inline void connect_until_stopped(mqtt::async_client& client,
                                  const mqtt::connect_options& options, StopSignal& stop,
                                  std::string_view what)
{
    using std::chrono::milliseconds;
    constexpr milliseconds first_backoff{1000};
    constexpr milliseconds max_backoff{30'000};

    milliseconds backoff = first_backoff;
    for (int attempt = 1; !stop.stopping; ++attempt) {
        try {
            client.connect(options)->wait();
            return;
        } catch (const mqtt::exception& e) {
            spdlog::warn("{}: connect failed broker={} attempt={} error={} retry_ms={}", what,
                         client.get_server_uri(), attempt, e.what(), backoff.count());
        }
        std::unique_lock lock(stop.mutex);
        stop.wake.wait_for(lock, backoff, [&] { return stop.stopping.load(); });
        backoff = std::min(backoff * 2, max_backoff);
    }
}

// Disconnects if connected, waiting a few seconds at most; logs a failure.
inline void disconnect_quietly(mqtt::async_client& client, std::string_view what)
{
    try {
        if (client.is_connected()) {
            client.disconnect(std::chrono::seconds(5))->wait_for(std::chrono::seconds(6));
        }
    } catch (const std::exception& e) {
        spdlog::warn("{}: disconnect failed error={}", what, e.what());
    }
}

}  // namespace mqchat::service::detail
