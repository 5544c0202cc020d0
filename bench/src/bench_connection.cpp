#include "bench_connection.hpp"

#include <stdexcept>
#include <utility>

#include "mqchat/protocol.hpp"
#include "traffic.hpp"

namespace mqchat::bench {

namespace {

constexpr auto connect_timeout = std::chrono::seconds(30);
constexpr auto keep_alive = std::chrono::seconds(60);
constexpr auto teardown_wait = std::chrono::seconds(2);
// Paho refuses a publish once this many are queued for one client and not
// yet sent (its default is 100); the senders' windows are far below this.
constexpr int max_buffered = 65'535;

}  // namespace

std::int64_t steady_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

void wait_all(const std::vector<mqtt::token_ptr>& tokens, std::chrono::milliseconds timeout,
              const std::string& what)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& token : tokens) {
        if (!token) {
            continue;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (!token->wait_for(std::max(left, std::chrono::milliseconds(1)))) {
            throw std::runtime_error(what + ": no answer within " +
                                     std::to_string(timeout.count()) + " ms");
        }
    }
}

BenchConnection::BenchConnection(const std::string& broker, std::string client_id)
    : client_(broker, client_id, mqtt::create_options(MQTTVERSION_5, max_buffered)),
      client_id_(std::move(client_id))
{
    client_.set_message_callback([this](mqtt::const_message_ptr m) { on_message(m); });
}

BenchConnection::~BenchConnection()
{
    try {
        if (client_.is_connected()) {
            client_.disconnect()->wait_for(teardown_wait);
        }
    } catch (const std::exception&) {
        // Teardown only: the numbers are already taken.
    }
    client_.disable_callbacks();
}

mqtt::token_ptr BenchConnection::connect(const std::string& user, const std::string& password)
{
    auto builder = mqtt::connect_options_builder()
                       .mqtt_version(MQTTVERSION_5)
                       .clean_start(true)
                       .keep_alive_interval(keep_alive)
                       .connect_timeout(connect_timeout);
    if (!user.empty()) {
        builder.user_name(user).password(password);
    }
    return client_.connect(builder.finalize());
}

mqtt::token_ptr BenchConnection::subscribe(const std::string& filter)
{
    return client_.subscribe(filter, 1);
}

mqtt::delivery_token_ptr BenchConnection::publish(const std::string& topic, std::string payload,
                                                  mqtt::properties properties)
{
    auto message = mqtt::make_message(topic, std::move(payload), 1, false);
    message->set_properties(std::move(properties));
    return client_.publish(message);
}

void BenchConnection::set_reply_topic(std::string topic)
{
    std::lock_guard lock(mutex_);
    reply_topic_ = std::move(topic);
}

std::future<std::string> BenchConnection::request(std::string_view op, std::string payload)
{
    // Register the correlation before publishing: the reply may beat the PUBACK.
    std::string correlation;
    std::string reply_topic;
    std::future<std::string> reply;
    {
        std::lock_guard lock(mutex_);
        correlation = client_id_ + "/" + std::to_string(++next_correlation_);
        reply_topic = reply_topic_;
        reply = pending_[correlation].get_future();
    }

    mqtt::properties properties;
    properties.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, reply_topic));
    properties.add(mqtt::property(mqtt::property::CORRELATION_DATA, correlation));
    auto message = mqtt::make_message(topic::control(op), std::move(payload), 1, false);
    message->set_properties(std::move(properties));
    client_.publish(message);
    return reply;
}

mqtt::token_ptr BenchConnection::disconnect()
{
    try {
        if (client_.is_connected()) {
            return client_.disconnect();
        }
    } catch (const mqtt::exception&) {
        // Already going away.
    }
    return nullptr;
}

std::vector<std::int64_t> BenchConnection::take_latencies()
{
    std::lock_guard lock(mutex_);
    return std::exchange(latencies_, {});
}

void BenchConnection::on_message(const mqtt::const_message_ptr& message)
{
    const std::int64_t now = steady_ns();
    const std::string& topic_name = message->get_topic();

    // Room traffic first: it is what the benchmark is about.
    if (topic_name.starts_with(topic::prefix) && topic_name.ends_with("/msg")) {
        received_.fetch_add(1, std::memory_order_relaxed);
        last_received_ns_.store(now, std::memory_order_relaxed);
        if (recording_.load(std::memory_order_relaxed)) {
            if (auto sent = sent_ns_of(message->get_payload_str())) {
                std::lock_guard lock(mutex_);
                latencies_.push_back(now - *sent);
            }
        }
        return;
    }

    // Otherwise it may be the reply to one of our requests.
    const auto& props = message->get_properties();
    if (!props.contains(mqtt::property::CORRELATION_DATA)) {
        return;
    }
    auto correlation = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
    std::lock_guard lock(mutex_);
    if (topic_name != reply_topic_) {
        return;
    }
    if (auto it = pending_.find(correlation); it != pending_.end()) {
        it->second.set_value(message->get_payload_str());
        pending_.erase(it);
    }
}

}  // namespace mqchat::bench
