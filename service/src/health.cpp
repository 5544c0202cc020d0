#include "mqchat/service/health.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include "detail/connect_retry.hpp"
#include "mqchat/token.hpp"

#include <chrono>

namespace mqchat::service {
namespace {

using nlohmann::json;

// The operations a request can name; anything else is counted as unknown.
bool known_op(std::string_view op)
{
    for (std::string_view name :
         {op::register_user, op::login, op::create, op::join, op::leave, op::whoami,
          op::members, op::kick, op::ban, op::unban, op::passwd, op::delete_room, op::history,
          op::rooms, op::update, op::transfer}) {
        if (op == name) {
            return true;
        }
    }
    return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

void Metrics::record(std::string_view op, ErrorCode code)
{
    const std::string_view name = known_op(op) ? op : std::string_view("unknown");
    std::lock_guard lock(mutex_);
    auto it = by_op_.find(name);
    if (it == by_op_.end()) {
        it = by_op_.emplace(std::string(name), Counts{}).first;
    }
    ++it->second.requests;
    if (code != ErrorCode::ok) {
        ++it->second.errors;
    }
    if (op == op::join && code != ErrorCode::ok) {
        ++joins_refused_;
    }
    if (code == ErrorCode::rate_limited) {
        ++rate_limited_;
    }
}

json Metrics::to_json() const
{
    std::lock_guard lock(mutex_);
    json requests = json::object();
    std::uint64_t total = 0;
    std::uint64_t errors = 0;
    for (const auto& [name, counts] : by_op_) {
        requests[name] = {{"requests", counts.requests}, {"errors", counts.errors}};
        total += counts.requests;
        errors += counts.errors;
    }
    return {{"requests", requests},           {"requests_total", total},
            {"errors_total", errors},         {"joins_refused", joins_refused_},
            {"rate_limited", rate_limited_}};
}

// ---------------------------------------------------------------------------
// HealthReporter
// ---------------------------------------------------------------------------

HealthReporter::HealthReporter(HealthConfig config, Store& store, const Metrics& metrics,
                               const Archiver& archiver)
    : config_(std::move(config)), store_(store), metrics_(metrics), archiver_(archiver),
      started_ms_(now_millis()), stop_(std::make_unique<detail::StopSignal>())
{
    client_ = std::make_unique<mqtt::async_client>(
        config_.broker_uri, "mqchat-health-" + config_.instance,
        mqtt::create_options(MQTTVERSION_5), nullptr);
}

HealthReporter::~HealthReporter()
{
    stop();
}

void HealthReporter::start()
{
    client_->set_connected_handler([this](const std::string&) { on_connected(); });
    client_->set_connection_lost_handler([this](const std::string& cause) {
        std::lock_guard lock(presence_mutex_);
        presence_known_ = false;
        spdlog::warn("health: connection lost cause={}", cause);
    });
    client_->set_message_callback([this](mqtt::const_message_ptr message) {
        if (message && message->get_topic() == topic::sys_presence) {
            on_presence(message->get_payload_str());
        }
    });
    thread_ = std::thread([this] { run(); });
}

void HealthReporter::on_connected()
{
    // Follow the events first, then ask for the snapshot they continue.
    try {
        client_->subscribe(std::string(topic::sys_presence), 1);
        const json request = {{"op", op::plugin::presence_sync}};
        client_->publish(std::string(topic::plugin_control), request.dump(), 1, false);
    } catch (const std::exception& e) {
        spdlog::warn("health: presence subscribe failed error={}", e.what());
    }
}

void HealthReporter::on_presence(const std::string& payload)
{
    const json event = json::parse(payload, nullptr, false);
    if (!event.is_object() || !event.contains("event") || !event["event"].is_string()) {
        return;
    }
    const std::string kind = event["event"].get<std::string>();
    std::lock_guard lock(presence_mutex_);
    if (kind == "snapshot" && event.contains("online") && event["online"].is_array()) {
        online_.clear();
        for (const auto& user : event["online"]) {
            if (user.is_string()) {
                online_.insert(user.get<std::string>());
            }
        }
        presence_known_ = true;
    } else if (event.contains("user") && event["user"].is_string()) {
        const std::string user = event["user"].get<std::string>();
        if (kind == "online") {
            online_.insert(user);
        } else if (kind == "offline") {
            online_.erase(user);
        }
    }
}

json HealthReporter::report(std::string_view status)
{
    const std::int64_t now = now_millis();
    json doc = {{"status", status},
                {"version", config_.version},
                {"instance", config_.instance},
                {"ts", now},
                {"started", started_ms_},
                {"uptime_s", (now - started_ms_) / 1000},
                {"interval_ms", config_.interval.count()}};

    // The store: counting rooms and members is also its liveness check.
    try {
        std::int64_t members = 0;
        const auto rooms = store_.rooms();
        for (const auto& room : rooms) {
            members += store_.member_count(room.id);
        }
        doc["rooms"] = rooms.size();
        doc["members"] = members;
        doc["store"] = {{"ok", true}};
    } catch (const std::exception& e) {
        doc["rooms"] = nullptr;
        doc["members"] = nullptr;
        doc["store"] = {{"ok", false}, {"error", e.what()}};
    }

    {
        std::lock_guard lock(presence_mutex_);
        doc["online_users"] = presence_known_ ? json(online_.size()) : json(nullptr);
    }
    doc.update(metrics_.to_json());

    // Archive lag: what was delivered but is not (yet) in the store, and
    // how long ago the last message was stored.
    const ArchiveStats archive = archiver_.stats();
    const std::uint64_t done = archive.stored + archive.duplicates + archive.failed;
    doc["archive"] = {
        {"connected", archive.connected},
        {"received", archive.received},
        {"stored", archive.stored},
        {"duplicates", archive.duplicates},
        {"failed", archive.failed},
        {"pending", archive.received > done ? archive.received - done : 0},
        {"last_stored_ms", archive.last_stored_ms == 0 ? json(nullptr)
                                                       : json(archive.last_stored_ms)},
        {"last_stored_age_ms",
         archive.last_stored_ms == 0 ? json(nullptr) : json(now - archive.last_stored_ms)}};
    return doc;
}

void HealthReporter::publish(const json& report)
{
    try {
        if (client_->is_connected()) {
            client_->publish(std::string(topic::sys_health), report.dump(), 1, true);
        }
    } catch (const std::exception& e) {
        spdlog::warn("health: publish failed error={}", e.what());
    }
}

void HealthReporter::run()
{
    auto options =
        detail::service_connect_options(config_.service_user, config_.secret);
    detail::connect_until_stopped(*client_, options, *stop_, "health");

    bool archive_was_down = false;
    std::chrono::steady_clock::time_point archive_down_since{};

    while (!stop_->stopping) {
        if (config_.on_tick) {
            config_.on_tick();
        }
        // "degraded" when a part the report checks is down: the store does
        // not answer, or the archive is not connected (messages then wait
        // in the broker's queue for it). Operators and the Docker health
        // check see anything but "ok" as a failure.
        // The archive may take a moment to connect at start or after a
        // broker restart, so it counts only once down for a whole interval.
        json doc = report("ok");
        const auto now = std::chrono::steady_clock::now();
        if (doc["archive"].value("connected", false)) {
            archive_was_down = false;
        } else if (!archive_was_down) {
            archive_was_down = true;
            archive_down_since = now;
        }
        const bool archive_down =
            archive_was_down && now - archive_down_since >= config_.interval;
        if (!doc["store"].value("ok", false) || archive_down) {
            doc["status"] = "degraded";
        }
        publish(doc);
        std::unique_lock lock(stop_->mutex);
        stop_->wake.wait_for(lock, config_.interval, [&] { return stop_->stopping.load(); });
    }
}

void HealthReporter::stop()
{
    if (stopped_) {
        return;
    }
    stopped_ = true;
    stop_->raise();
    if (thread_.joinable()) {
        thread_.join();
    }
    // The last word stays retained: a stopped room manager is not healthy.
    try {
        if (client_->is_connected()) {
            client_->publish(std::string(topic::sys_health), report("stopped").dump(), 1, true)
                ->wait_for(std::chrono::seconds(2));
        }
    } catch (const std::exception& e) {
        spdlog::warn("health: final publish failed error={}", e.what());
    }
    detail::disconnect_quietly(*client_, "health");
}

}  // namespace mqchat::service
