#include "mqchat/service/service.hpp"

#include <mqtt/async_client.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <optional>

#include "mqchat/protocol.hpp"
#include "mqchat/service/reply_topic.hpp"
#include "mqchat/tcp_nodelay.hpp"
#include "detail/connect_retry.hpp"

namespace mqchat::service {

namespace {

constexpr int max_buffered_messages = 10'000;

// How often the timer thread runs RoomManager::tick(): well below the
// presence grace and the meta interval, so both are kept to within 0.1 s.
constexpr std::chrono::milliseconds tick_period{100};

// Presence messages queued for the timer thread at most. Only the plugin
// writes them, so more means the thread is stuck; dropping loses nothing
// for good, the next reconnect's snapshot sets every state again.
constexpr std::size_t max_queued_presence = 100'000;

std::string random_client_id()
{
    std::array<unsigned char, 6> bytes{};
    RAND_bytes(bytes.data(), static_cast<int>(bytes.size()));
    static constexpr char hex[] = "0123456789abcdef";
    std::string id = "mqchat-room-manager-";
    for (unsigned char b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 0x0f];
    }
    return id;
}

// What the plugin stamped on a control request. nullopt if a property
// appears twice (the plugin replaces them, so duplicates mean a bypass).
struct Stamp {
    std::optional<std::string> sender;
    std::optional<std::string> client_id;
};

std::optional<Stamp> read_stamp(const mqtt::properties& props)
{
    Stamp stamp;
    const std::size_t count = props.count(mqtt::property::USER_PROPERTY);
    for (std::size_t i = 0; i < count; ++i) {
        const auto [name, value] =
            mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, i);
        auto* slot = name == topic::prop_sender      ? &stamp.sender
                     : name == topic::prop_client_id ? &stamp.client_id
                                                     : nullptr;
        if (slot == nullptr) {
            continue;
        }
        if (slot->has_value()) {
            return std::nullopt;
        }
        *slot = value;
    }
    return stamp;
}

}  // namespace

// Publishes QoS 1 through the service's client without waiting for the ack.
class Service::MqttPublisher : public Publisher {
public:
    explicit MqttPublisher(mqtt::async_client& client) : client_(client) {}

    void publish(const std::string& topic, const std::string& payload,
                 bool retained) override
    {
        publish(mqtt::make_message(topic, payload, 1, retained));
    }

    void publish(mqtt::message_ptr message)
    {
        try {
            client_.publish(std::move(message));
        } catch (const std::exception& e) {
            spdlog::warn("service: publish failed topic={} error={}",
                         message ? message->get_topic() : std::string(), e.what());
        }
    }

private:
    mqtt::async_client& client_;
};

Service::Service(ServiceConfig config)
    : config_(std::move(config)), stop_(std::make_unique<detail::StopSignal>())
{
    if (config_.client_id.empty()) {
        config_.client_id = random_client_id();
    }
    // Buffer while disconnected so replies and revocations survive a short outage.
    mqtt::create_options options(MQTTVERSION_5, max_buffered_messages);
    client_ = std::make_unique<mqtt::async_client>(config_.broker_uri, config_.client_id,
                                                   options, nullptr);
    publisher_ = std::make_unique<MqttPublisher>(*client_);
}

Service::~Service()
{
    stop();
}

Publisher& Service::publisher()
{
    return *publisher_;
}

void Service::start(RoomManager& manager)
{
    manager_ = &manager;
    pool_ = std::make_unique<WorkerPool>(config_.workers, config_.queue_capacity,
                                         config_.worker_nice);

    client_->set_connected_handler([this](const std::string&) { on_connected(); });
    client_->set_connection_lost_handler([](const std::string& cause) {
        spdlog::warn("service: connection lost cause={}", cause);
    });
    client_->set_message_callback([this](mqtt::const_message_ptr message) {
        if (!stop_->stopping) {
            on_message(std::move(message));
        }
    });

    timer_ = std::thread([this] { run_timer(); });
    connector_ = std::thread([this] { connect_loop(); });
}

void Service::run_timer()
{
    auto next_tick = std::chrono::steady_clock::now() + tick_period;
    std::unique_lock lock(presence_mutex_);
    while (!timer_stopping_) {
        presence_wake_.wait_until(lock, next_tick, [this] {
            return timer_stopping_ || !presence_queue_.empty();
        });

        // Presence first, in arrival order; the manager runs without our lock.
        while (!presence_queue_.empty() && !timer_stopping_) {
            std::string payload = std::move(presence_queue_.front());
            presence_queue_.pop_front();
            lock.unlock();
            manager_->handle_presence(payload);
            lock.lock();
        }
        if (!timer_stopping_ && std::chrono::steady_clock::now() >= next_tick) {
            lock.unlock();
            manager_->tick();
            lock.lock();
            next_tick = std::chrono::steady_clock::now() + tick_period;
        }
    }
}

void Service::connect_loop()
{
    auto options =
        detail::service_connect_options(config_.service_user, config_.secret);
    detail::connect_until_stopped(*client_, options, *stop_, "service");
}

void Service::on_connected()
{
    spdlog::info("service: connected broker={} client={}", config_.broker_uri,
                 config_.client_id);
    // Paho C leaves Nagle on, which delays replies; see mqchat/tcp_nodelay.hpp.
    spdlog::debug("service: tcp_nodelay sockets={}", set_tcp_nodelay_to(config_.broker_uri));

    // Clean start: the broker forgot our subscriptions, so subscribe on every connect.
    // Presence before the snapshot request that publish_broker_state() sends.
    mqtt::token_ptr subscribed;
    mqtt::token_ptr presence;
    try {
        subscribed = client_->subscribe(std::string(control_subscription), 1);
        presence = client_->subscribe(std::string(topic::sys_presence), 1);
    } catch (const std::exception& e) {
        spdlog::error("service: subscribe failed error={}", e.what());
    }

    // Waiting for the SUBACK, the store walk and the publishes run on a
    // worker, not on Paho's callback thread.
    const bool queued = pool_->try_submit([this, subscribed, presence] {
        if (subscribed && !subscribed->wait_for(std::chrono::seconds(10))) {
            spdlog::warn("service: no SUBACK for the control topics within 10 s");
            return;
        }
        // Without presence the rooms still work: go on, and say why.
        try {
            if (presence && !presence->wait_for(std::chrono::seconds(10))) {
                spdlog::warn("service: no SUBACK for {} within 10 s", topic::sys_presence);
            }
        } catch (const std::exception& e) {
            spdlog::warn("service: subscribe refused topic={} error={}", topic::sys_presence,
                         e.what());
        }
        manager_->publish_broker_state();
        if (!ready_signalled_.exchange(true) && config_.on_ready) {
            config_.on_ready();
        }
    });
    if (!queued) {
        spdlog::warn("service: queue full, room metadata not republished");
    }
}

void Service::on_message(mqtt::const_message_ptr message)
{
    // Only the plugin (and we) may publish on sys_presence, so its messages
    // are the broker's own word; the order matters, so one thread takes them.
    if (message->get_topic() == topic::sys_presence) {
        std::lock_guard lock(presence_mutex_);
        if (presence_queue_.size() >= max_queued_presence) {
            spdlog::warn("service: presence queue full, message dropped");
            return;
        }
        presence_queue_.push_back(message->get_payload_str());
        presence_wake_.notify_one();
        return;
    }
    on_control(std::move(message));
}

void Service::on_control(mqtt::const_message_ptr message)
{
    const std::string& topic_name = message->get_topic();
    if (!topic_name.starts_with(topic::control_prefix)) {
        spdlog::warn("service: unexpected topic={}", topic_name);
        return;
    }
    std::string op = topic_name.substr(topic::control_prefix.size());

    // A retained request would run again on every reconnect. The plugin
    // refuses them now; one stored by an older broker setup is dropped and
    // cleared (an empty retained message removes it from the broker).
    if (message->is_retained()) {
        spdlog::warn("service: dropped retained request op={}", op);
        publisher_->publish(topic_name, "", true);
        return;
    }

    // Trust only what the plugin stamped, and answer only where the requester can read.
    const auto& props = message->get_properties();
    const auto stamp = read_stamp(props);
    if (!stamp || !stamp->client_id) {
        spdlog::warn("service: dropped request op={} reason=missing_or_duplicate_stamp", op);
        return;
    }
    Requester who{stamp->sender.value_or(""), *stamp->client_id};
    if (!props.contains(mqtt::property::RESPONSE_TOPIC)) {
        spdlog::warn("service: dropped request op={} user={} client={} reason=no_response_topic",
                     op, who.user, who.client_id);
        return;
    }
    std::string response_topic =
        mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
    if (!reply_topic_allowed(who, response_topic)) {
        spdlog::warn("service: dropped request op={} user={} client={} reason=response_topic",
                     op, who.user, who.client_id);
        return;
    }
    std::optional<std::string> correlation;
    if (props.contains(mqtt::property::CORRELATION_DATA)) {
        correlation = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
    }

    auto reply_with = [this, response_topic, correlation](const std::string& body) {
        mqtt::properties reply_props;
        if (correlation) {
            reply_props.add(mqtt::property(mqtt::property::CORRELATION_DATA, *correlation));
        }
        publisher_->publish(mqtt::message_ptr_builder()
                                .topic(response_topic)
                                .payload(body)
                                .qos(1)
                                .properties(std::move(reply_props))
                                .finalize());
    };

    // Argon2 never runs here: hand the request to the pool.
    const bool queued = pool_->try_submit(
        [this, op, who, payload = message->get_payload_str(), reply_with] {
            const auto started = std::chrono::steady_clock::now();
            const Reply reply = manager_->handle(op, who, payload);
            reply_with(reply.body);
            if (config_.on_handled) {
                config_.on_handled(op, reply.code);
            }
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
            spdlog::debug("service: handled op={} user={} client={} code={} ms={}", op,
                          who.user, who.client_id, to_string(reply.code), ms.count());
        });
    if (!queued) {
        // Busy: say so at once rather than let the client time out.
        spdlog::warn("service: queue full, refused op={} client={}", op, who.client_id);
        if (config_.on_handled) {
            config_.on_handled(op, ErrorCode::internal_error);
        }
        reply_with(R"({"ok":false,"error":{"code":"internal_error",)"
                   R"("message":"the service is busy; retry later"}})");
    }
}

void Service::stop()
{
    if (stopped_) {
        return;
    }
    stopped_ = true;

    // 1. Take no new requests and end the connect loop.
    stop_->raise();
    if (connector_.joinable()) {
        connector_.join();
    }

    // 2. Answer what is queued while still connected; stop the timers.
    if (pool_) {
        pool_->stop();
    }
    {
        std::lock_guard lock(presence_mutex_);
        timer_stopping_ = true;
    }
    presence_wake_.notify_all();
    if (timer_.joinable()) {
        timer_.join();
    }

    // 3. Leave the broker.
    detail::disconnect_quietly(*client_, "service");
    spdlog::info("service: stopped");
}

}  // namespace mqchat::service
