// The MQTT side of the room manager: receives control requests, checks who
// may be answered where, hands the work to a worker pool and publishes the
// reply (MQTT v5 request/response).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mqchat/service/publisher.hpp"
#include "mqchat/service/room_manager.hpp"
#include "mqchat/service/worker_pool.hpp"

namespace mqtt {
class async_client;
class message;
}

namespace mqchat::service {

namespace detail {
struct StopSignal;
}

struct ServiceConfig {
    std::string broker_uri = "tcp://127.0.0.1:1883";
    std::string service_user = "mqchat-service";
    std::string secret;     // the MQTT password; never logged
    std::string client_id;  // empty: "mqchat-room-manager-<random hex>"
    std::size_t workers = 4;
    std::size_t queue_capacity = 256;
    // Added to the workers' nice value (0-19): hashing must not take the
    // CPU from message delivery (WorkerPool).
    int worker_nice = 10;
    // Called once, on a worker thread, when the first subscription to the
    // control topics is acknowledged: from then on requests are answered.
    std::function<void()> on_ready;
    // Called on a worker thread after every answered request (and with
    // internal_error for one refused because the queue was full), for the
    // health counters. Must not throw.
    std::function<void(std::string_view op, ErrorCode code)> on_handled;
};

// Shared subscription used for control requests, so several managers can run.
inline constexpr std::string_view control_subscription = "$share/mqchat/chat/v1/ctl/+";

// Lifecycle: construct, hand publisher() to the RoomManager, start(), and
// stop() once. Connection attempts retry with backoff until stop(); after
// the first connection Paho reconnects automatically and every (re)connect
// resubscribes (control requests, shared; topic::sys_presence, not shared,
// so each room manager sees every presence event) and then calls
// RoomManager::publish_broker_state().
//
// Threads: Paho's callback thread only parses properties and queues work;
// RoomManager::handle() runs on the worker pool. Presence messages are
// queued in arrival order for one timer thread, which passes them to
// RoomManager::handle_presence() and calls RoomManager::tick() every
// 100 ms.
// Thread safety: start() and stop() must be called from one thread.
class Service {
public:
    // Throws mqtt::exception if the broker URI is malformed.
    explicit Service(ServiceConfig config);
    ~Service();  // calls stop()
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    // Publishes through this service's connection (QoS 1; buffered while
    // disconnected). Valid for the Service's lifetime.
    [[nodiscard]] Publisher& publisher();

    // Installs the callbacks and starts connecting in the background.
    // `manager` must outlive the Service.
    void start(RoomManager& manager);

    // Stops taking requests, runs the queued ones, disconnects. Idempotent.
    void stop();

private:
    class MqttPublisher;

    void connect_loop();
    void on_connected();
    void on_message(std::shared_ptr<const mqtt::message> message);
    void on_control(std::shared_ptr<const mqtt::message> message);
    void run_timer();

    ServiceConfig config_;
    std::unique_ptr<mqtt::async_client> client_;
    std::unique_ptr<MqttPublisher> publisher_;
    std::unique_ptr<WorkerPool> pool_;
    RoomManager* manager_ = nullptr;

    std::unique_ptr<detail::StopSignal> stop_;
    std::thread connector_;

    // Presence messages waiting for the timer thread, oldest first.
    std::mutex presence_mutex_;
    std::condition_variable presence_wake_;
    std::deque<std::string> presence_queue_;
    bool timer_stopping_ = false;
    std::thread timer_;
    std::atomic<bool> ready_signalled_{false};
    bool stopped_ = false;
};

}  // namespace mqchat::service
