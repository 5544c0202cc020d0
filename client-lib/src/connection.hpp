// One Paho connection that can also carry control requests (MQTT v5
// request/response). Internal to the client library.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include "mqchat/client/types.hpp"

namespace mqchat::client::detail {

// Thread safety: every member may be called from any thread except Paho's
// callback threads (they block on Paho tokens); request_async() does not
// block and may be called from any thread but those.
class Connection {
public:
    // Receives every message that is not a reply to one of our requests.
    // Runs on a Paho thread: it must not block.
    using MessageHandler = std::function<void(mqtt::const_message_ptr)>;

    Connection(const std::string& broker, const std::string& client_id, Logger log);
    ~Connection();  // disconnects; never throws

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    [[nodiscard]] mqtt::async_client& paho() { return client_; }
    [[nodiscard]] bool is_connected() const { return client_.is_connected(); }

    void set_message_handler(MessageHandler handler);

    // Connects. Errors: Error not_authenticated when the broker refuses the
    // credentials and `credentials_refusal_is_auth` is set, else
    // connect_failed; timeout.
    void connect(const mqtt::connect_options& options, std::chrono::milliseconds timeout,
                 bool credentials_refusal_is_auth);

    // Subscribes to `reply_topic` (exactly) and remembers it for request().
    void set_reply_topic(const std::string& reply_topic, std::chrono::milliseconds timeout);
    [[nodiscard]] const std::string& reply_topic() const { return reply_topic_; }

    // Subscribes with QoS 1. Errors: not_admitted when the broker refuses,
    // timeout, connect_failed.
    void subscribe(const std::string& filter, std::chrono::milliseconds timeout);

    // Unsubscribes; errors are logged, not thrown.
    void unsubscribe(const std::string& filter, std::chrono::milliseconds timeout);

    // Publishes with QoS 1 and waits for PUBACK. Errors: not_admitted when
    // the broker refuses, timeout, connect_failed.
    void publish(const std::string& topic, const std::string& payload,
                 std::chrono::milliseconds timeout, mqtt::properties properties = {});

    // Publishes `payload` to chat/v1/ctl/<op> and waits for the reply.
    // Returns the reply object when ok. Errors: the replied code, timeout.
    nlohmann::json request(std::string_view op, const std::string& payload,
                           std::chrono::milliseconds timeout);

    // Receives a reply payload, on a Paho thread: it must not block.
    using ReplyHandler = std::function<void(std::string payload)>;

    // Publishes a request without waiting for anything. `on_reply` runs at
    // most once, when the reply arrives within `timeout`; after that the
    // request is forgotten. Returns false (and never calls on_reply) when
    // the request could not be handed to Paho, e.g. while disconnected.
    bool request_async(std::string_view op, const std::string& payload,
                       std::chrono::milliseconds timeout, ReplyHandler on_reply);

    void disconnect() noexcept;

private:
    struct Pending {
        ReplyHandler on_reply;
        std::chrono::steady_clock::time_point forget_at;
    };

    // Registers a request's correlation and returns its publish properties.
    mqtt::properties begin_request(const std::string& correlation, ReplyHandler on_reply,
                                   std::chrono::milliseconds timeout);
    void forget(const std::string& correlation);
    void on_message(mqtt::const_message_ptr message);
    void log(LogLevel level, const std::string& line) const;

    mqtt::async_client client_;
    std::string client_id_;
    Logger log_;
    std::string reply_topic_;

    std::mutex mutex_;
    MessageHandler handler_;
    // Correlation data -> what to do with the reply.
    std::map<std::string, Pending> pending_;
};

}  // namespace mqchat::client::detail
