#include "mqchat/service/archiver.hpp"

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>

#include "detail/connect_retry.hpp"
#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"
#include "mqchat/tcp_nodelay.hpp"
#include "mqchat/token.hpp"

namespace mqchat::service {

namespace {

// One group for every room manager, so each message is archived by one.
constexpr std::string_view archive_subscription = "$share/mqchat-archive/chat/v1/rooms/+/msg";

std::optional<std::int64_t> parse_int(std::string_view text)
{
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

Archiver::Archiver(ArchiverConfig config, Store& store)
    : config_(std::move(config)), store_(store), stop_(std::make_unique<detail::StopSignal>())
{
    // No client-side persistence: the broker's session is what keeps
    // messages while we are away.
    client_ = std::make_unique<mqtt::async_client>(
        config_.broker_uri, "mqchat-archive-" + config_.instance,
        mqtt::create_options(MQTTVERSION_5), nullptr);
}

Archiver::~Archiver()
{
    stop();
}

std::optional<ArchivedMessage> Archiver::decode(
    std::string_view topic_name, std::string_view payload,
    const std::vector<std::pair<std::string, std::string>>& user_properties)
{
    const topic::Parsed parsed = topic::parse(topic_name);
    if (parsed.kind != topic::Kind::room_msg || !is_room_id(parsed.subject)) {
        return std::nullopt;
    }

    // The plugin's stamps, each exactly once.
    std::optional<std::string> sender, seq, ts;
    for (const auto& [name, value] : user_properties) {
        auto* slot = name == topic::prop_sender ? &sender
                     : name == topic::prop_seq  ? &seq
                     : name == topic::prop_ts   ? &ts
                                                : nullptr;
        if (slot == nullptr) {
            continue;
        }
        if (slot->has_value()) {
            return std::nullopt;
        }
        *slot = value;
    }
    if (!sender || !seq || !ts) {
        return std::nullopt;
    }
    ArchivedMessage message;
    message.room_id = std::string(parsed.subject);
    message.sender = *sender;
    const auto seq_value = parse_int(*seq);
    const auto ts_value = parse_int(*ts);
    if (!seq_value || !ts_value || *seq_value < 1) {
        return std::nullopt;
    }
    message.seq = *seq_value;
    message.ts = *ts_value;

    // The payload: keep id and text only when they are what the protocol says.
    const auto body = nlohmann::json::parse(payload, nullptr, false);
    if (body.is_object()) {
        const auto id = body.find("id");
        const auto text = body.find("text");
        if (id != body.end() && id->is_string() && text != body.end() && text->is_string()) {
            message.id = id->get<std::string>();
            message.text = text->get<std::string>();
        }
    }
    return message;
}

void Archiver::start()
{
    client_->set_connected_handler([this](const std::string&) { on_connected(); });
    client_->set_connection_lost_handler([this](const std::string& cause) {
        connected_ = false;
        spdlog::warn("archiver: connection lost cause={}", cause);
    });
    client_->set_message_callback([this](mqtt::const_message_ptr message) {
        if (message) {
            on_message(*message);
        }
    });
    connector_ = std::thread([this] { connect_loop(); });
    pruner_ = std::thread([this] { prune_loop(); });
}

void Archiver::connect_loop()
{
    // Clean start off and a long session expiry: the broker keeps our
    // subscription and queues room messages while we are down.
    mqtt::properties props{mqtt::property(mqtt::property::SESSION_EXPIRY_INTERVAL,
                                          static_cast<int>(config_.session_expiry.count()))};
    auto options =
        detail::service_connect_options(config_.service_user, config_.secret, false);
    // Not through the builder: Paho C++ 1.2.0's finalize() leaves the C
    // struct pointing at the builder's copy of the properties, so the
    // session expiry never reaches the wire (upstream issue 362).
    options.set_properties(props);
    detail::connect_until_stopped(*client_, options, *stop_, "archiver");
}

void Archiver::on_connected()
{
    connected_ = true;
    spdlog::info("archiver: connected client={}", client_->get_client_id());
    spdlog::debug("archiver: tcp_nodelay sockets={}", set_tcp_nodelay_to(config_.broker_uri));
    // Harmless when the session kept the subscription; needed when it did not.
    try {
        client_->subscribe(std::string(archive_subscription), 1);
    } catch (const std::exception& e) {
        spdlog::error("archiver: subscribe failed error={}", e.what());
    }
}

void Archiver::on_message(const mqtt::message& message)
{
    std::vector<std::pair<std::string, std::string>> props;
    const auto& properties = message.get_properties();
    const std::size_t count = properties.count(mqtt::property::USER_PROPERTY);
    for (std::size_t i = 0; i < count; ++i) {
        auto [name, value] =
            mqtt::get<mqtt::string_pair>(properties, mqtt::property::USER_PROPERTY, i);
        props.emplace_back(std::move(name), std::move(value));
    }

    ++received_;
    const auto row = decode(message.get_topic(), message.get_payload_str(), props);
    if (!row) {
        ++failed_;
        spdlog::warn("archiver: skipped unstamped message topic={}", message.get_topic());
        return;
    }
    try {
        if (!store_.append_message(*row)) {
            ++duplicates_;
            spdlog::debug("archiver: duplicate room={} seq={}", row->room_id, row->seq);
        } else {
            ++stored_;
            last_stored_ms_ = now_millis();
        }
    } catch (const std::exception& e) {
        ++failed_;
        // The message is lost to the archive; say exactly which one.
        spdlog::error("archiver: store failed room={} seq={} error={}", row->room_id, row->seq,
                      e.what());
    }
}

ArchiveStats Archiver::stats() const
{
    ArchiveStats stats;
    stats.connected = connected_;
    stats.received = received_;
    stats.stored = stored_;
    stats.duplicates = duplicates_;
    stats.failed = failed_;
    stats.last_stored_ms = last_stored_ms_;
    return stats;
}

std::size_t Archiver::prune_once(std::int64_t now_ms)
{
    const std::int64_t age_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.max_age).count();
    const std::int64_t older_than = age_ms > 0 ? now_ms - age_ms : 0;

    std::size_t removed = 0;
    for (const auto& room_id : store_.archived_rooms()) {
        // A room deleted while messages were still in flight: drop them all.
        const bool exists = store_.find_room_by_id(room_id).has_value();
        removed += exists ? store_.prune_room_messages(room_id, config_.keep_per_room, older_than)
                          : store_.prune_room_messages(room_id, 0, INT64_MAX);
    }
    return removed;
}

void Archiver::prune_loop()
{
    while (!stop_->stopping) {
        try {
            if (const auto removed = prune_once(now_millis()); removed > 0) {
                spdlog::info("archiver: retention removed={}", removed);
            }
        } catch (const std::exception& e) {
            spdlog::error("archiver: retention failed error={}", e.what());
        }
        std::unique_lock lock(stop_->mutex);
        stop_->wake.wait_for(lock, config_.prune_interval,
                             [this] { return stop_->stopping.load(); });
    }
}

void Archiver::stop()
{
    if (stopped_) {
        return;
    }
    stopped_ = true;
    stop_->raise();
    if (connector_.joinable()) {
        connector_.join();
    }
    if (pruner_.joinable()) {
        pruner_.join();
    }
    // Disconnect keeps the session: what arrives meanwhile is queued for us.
    detail::disconnect_quietly(*client_, "archiver");
    spdlog::info("archiver: stopped");
}

}  // namespace mqchat::service
