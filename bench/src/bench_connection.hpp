// One MQTT v5 connection of the benchmark: a bare Paho client that counts
// the room messages it receives, can record their end-to-end latency, and
// sends mqchat control requests with pipelining (many in flight at once),
// which the client library never does.
#pragma once

#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mqchat::bench {

// Thread safety: every member may be called from any thread. The message
// callback runs on Paho's receive thread and only counts, timestamps and
// hands replies to waiting futures.
class BenchConnection {
public:
    // Creates the Paho client; does not connect.
    BenchConnection(const std::string& broker, std::string client_id);

    // Disconnects (bounded wait) if still connected.
    ~BenchConnection();

    BenchConnection(const BenchConnection&) = delete;
    BenchConnection& operator=(const BenchConnection&) = delete;

    // Starts connecting with clean start; an empty `user` connects
    // anonymously. Wait on the token; it throws mqtt::exception if refused.
    [[nodiscard]] mqtt::token_ptr connect(const std::string& user, const std::string& password);

    // Starts a QoS 1 subscription. Wait on the token; its reason code is
    // the SUBACK's (0x80 and above: refused).
    [[nodiscard]] mqtt::token_ptr subscribe(const std::string& filter);

    // Publishes QoS 1 without waiting. Throws mqtt::exception if Paho
    // cannot queue it.
    mqtt::delivery_token_ptr publish(const std::string& topic, std::string payload,
                                     mqtt::properties properties = {});

    // Replies to request() arrive on this topic, which must already be
    // subscribed. Call before the first request().
    void set_reply_topic(std::string topic);

    // Sends a control request to chat/v1/ctl/<op> with the reply topic and
    // a fresh correlation id. The future yields the reply payload; it never
    // becomes ready if no reply comes, so wait on it with a deadline.
    [[nodiscard]] std::future<std::string> request(std::string_view op, std::string payload);

    // Starts a disconnect; nullptr when not connected.
    mqtt::token_ptr disconnect();

    // Room messages received so far (replies to requests are not counted).
    [[nodiscard]] std::uint64_t received() const { return received_.load(); }

    // steady_clock nanoseconds of the latest room message; 0 before the first.
    [[nodiscard]] std::int64_t last_received_ns() const { return last_received_ns_.load(); }

    // While on, each room message's latency (receipt minus the send time
    // carried in its text, see traffic.hpp) is kept, in nanoseconds.
    void record_latency(bool on) { recording_.store(on); }

    // Moves the recorded latencies out and clears them.
    [[nodiscard]] std::vector<std::int64_t> take_latencies();

    [[nodiscard]] const std::string& client_id() const { return client_id_; }

private:
    void on_message(const mqtt::const_message_ptr& message);

    mqtt::async_client client_;
    std::string client_id_;

    std::atomic<std::uint64_t> received_{0};
    std::atomic<std::int64_t> last_received_ns_{0};
    std::atomic<bool> recording_{false};

    std::mutex mutex_;
    std::string reply_topic_;
    std::uint64_t next_correlation_ = 0;
    std::map<std::string, std::promise<std::string>> pending_;
    std::vector<std::int64_t> latencies_;
};

// steady_clock::now() in nanoseconds; the clock of every timestamp here.
[[nodiscard]] std::int64_t steady_ns();

// Waits for every token with one shared deadline, so a thousand pending
// connects or subscribes cost one timeout, not a thousand. Rethrows the
// first failure; throws std::runtime_error(`what` ...) on timeout.
void wait_all(const std::vector<mqtt::token_ptr>& tokens, std::chrono::milliseconds timeout,
              const std::string& what);

}  // namespace mqchat::bench
