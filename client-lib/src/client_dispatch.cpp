// The dispatch thread: incoming room messages go through each room's
// RoomSync, catch-up requests go out without blocking, and every
// application callback runs here.

#include <algorithm>

#include "client_impl.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client {

namespace {

constexpr std::string_view meta_prefix = "chat/v1/rooms/";
constexpr std::string_view meta_suffix = "/meta";

// The dispatch thread wakes at least this often even with nothing to do.
constexpr auto idle_wakeup = std::chrono::seconds(60);

// How often rooms are looked at while the connection is down.
constexpr auto offline_recheck = std::chrono::seconds(1);

bool is_meta_topic(std::string_view name)
{
    return name.size() > meta_prefix.size() + meta_suffix.size() &&
           name.starts_with(meta_prefix) && name.ends_with(meta_suffix);
}

detail::UserProperties user_properties(const mqtt::properties& props)
{
    detail::UserProperties out;
    std::size_t count = props.count(mqtt::property::USER_PROPERTY);
    for (std::size_t i = 0; i < count; ++i) {
        auto [name, value] =
            mqtt::get<mqtt::string_pair>(props, mqtt::property::USER_PROPERTY, i);
        out.emplace_back(std::move(name), std::move(value));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Handlers and the queue
// ---------------------------------------------------------------------------

void Client::Impl::on_message(std::function<void(const Message&)> handler)
{
    // Handlers are only read on the dispatch thread, so swap them there.
    post([this, handler = std::move(handler)]() mutable { handler_ = std::move(handler); });
}

void Client::Impl::on_send_result(std::function<void(const SendResult&)> handler)
{
    post([this, handler = std::move(handler)]() mutable {
        send_handler_ = std::move(handler);
    });
}

void Client::Impl::post(std::function<void()> task)
{
    {
        std::lock_guard lock(queue_mutex_);
        queue_.push_back(std::move(task));
    }
    queue_cv_.notify_one();
}

void Client::Impl::run_dispatch()
{
    auto next_tick = Clock::now() + idle_wakeup;
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait_until(lock, next_tick,
                                 [this] { return stopping_ || !queue_.empty(); });
            if (!queue_.empty()) {
                task = std::move(queue_.front());
                queue_.pop_front();
            } else if (stopping_) {
                return;  // stopping and drained
            }
        }
        if (task) {
            task();
        }
        next_tick = std::min(tick_rooms(Clock::now()), Clock::now() + idle_wakeup);
    }
}

// Retries, attempt timeouts and give-ups of every room that is due.
// Returns when the next one is due.
Client::Impl::Clock::time_point Client::Impl::tick_rooms(Clock::time_point now)
{
    // Offline, time does not count against a catch-up: giving up would skip
    // messages the archive has. The reconnect restarts every room's sync.
    if (!ready_connection()) {
        return now + offline_recheck;
    }
    auto next = Clock::time_point::max();
    for (auto& [id, room] : synced_) {
        if (auto due = room.sync.next_wakeup(); due && *due <= now) {
            room.sync.tick(now);
            pump(id, room);
        }
        if (auto due = room.sync.next_wakeup()) {
            next = std::min(next, *due);
        }
    }
    return next;
}

// ---------------------------------------------------------------------------
// Incoming messages
// ---------------------------------------------------------------------------

void Client::Impl::on_paho_message(mqtt::const_message_ptr message)
{
    // Paho thread: never block. Metadata is stored at once, the rest queued.
    if (is_meta_topic(message->get_topic())) {
        collect_meta(message);
        return;
    }
    post([this, message = std::move(message)] { deliver_live(message); });
}

void Client::Impl::collect_meta(const mqtt::const_message_ptr& message)
{
    std::string why;
    {
        std::lock_guard lock(meta_mutex_);
        if (!collecting_meta_) {
            return;
        }
        auto info = detail::parse_room_meta(message->get_payload_str(), &why);
        if (info) {
            meta_[message->get_topic()] = std::move(*info);
            return;
        }
    }
    if (!message->get_payload().empty()) {
        log(LogLevel::warning,
            "skipped room metadata topic=" + message->get_topic() + " reason=" + why);
    }
}

void Client::Impl::deliver_live(const mqtt::const_message_ptr& message)
{
    auto room = entered_by_topic(message->get_topic());
    if (!room) {
        return;  // a room we left while the message was in flight
    }

    // The seq alone decides order; a malformed payload still counts as seen.
    auto properties = user_properties(message->get_properties());
    auto seq = detail::stamped_seq(properties);
    if (!seq) {
        log(LogLevel::warning, "skipped unstamped message room=" + room->id);
        return;
    }
    std::string why;
    auto parsed = detail::parse_room_message(room->name, room->id, message->get_payload_str(),
                                             properties, options_.user, &why);
    if (!parsed) {
        log(LogLevel::warning, "skipped malformed message room=" + room->id +
                                   " seq=" + std::to_string(*seq) + " reason=" + why);
    }

    SyncedRoom& synced_room = synced(*room);
    synced_room.sync.live(*seq, std::move(parsed), Clock::now());
    pump(room->id, synced_room);
}

// ---------------------------------------------------------------------------
// Rooms and their catch-up
// ---------------------------------------------------------------------------

Client::Impl::SyncedRoom& Client::Impl::synced(const EnteredRoom& room)
{
    auto it = synced_.find(room.id);
    if (it == synced_.end()) {
        detail::RoomSync::Settings settings;
        settings.history = options_.history_on_enter;
        settings.give_up_after = options_.catch_up_wait;
        settings.load_give_up_after = std::max(options_.catch_up_wait, options_.request_timeout);
        settings.attempt_timeout = std::clamp<std::chrono::milliseconds>(
            options_.catch_up_wait / 3, std::chrono::milliseconds(200),
            std::max(options_.request_timeout, std::chrono::milliseconds(200)));
        it = synced_.emplace(room.id, SyncedRoom{room.name, detail::RoomSync(settings)}).first;
    }
    return it->second;
}

void Client::Impl::room_subscribed(const std::string& room_id)
{
    auto room = entered_by_id(room_id);
    if (!room) {
        return;
    }
    SyncedRoom& synced_room = synced(*room);
    synced_room.sync.subscribed(Clock::now());
    pump(room_id, synced_room);
}

void Client::Impl::room_left(const std::string& room_id)
{
    // Entered again meanwhile? Then its state stays.
    if (!entered_by_id(room_id)) {
        synced_.erase(room_id);
    }
}

// Hands out what the room's RoomSync has ready and sends what it asks for.
void Client::Impl::pump(const std::string& room_id, SyncedRoom& room)
{
    for (const auto& message : room.sync.take_ready()) {
        hand_out(message);
    }
    for (const auto& gap : room.sync.take_gaps()) {
        log(LogLevel::warning, "gap room=" + room_id + " first=" + std::to_string(gap.first) +
                                   " last=" + std::to_string(gap.last) +
                                   " (not in the archive in time; skipped)");
    }
    if (auto request = room.sync.take_fetch()) {
        fetch(room_id, room, *request);
    }
}

// Asks the archive without blocking; the answer comes back as a task.
void Client::Impl::fetch(const std::string& room_id, const SyncedRoom& room,
                         const detail::HistoryFetch& request)
{
    const auto fetch_id = request.id;
    bool sent = false;
    if (auto connection = ready_connection()) {
        auto payload =
            detail::history_request(room.name, std::nullopt, request.after, request.limit);
        sent = connection->request_async(
            op::history, payload, options_.request_timeout,
            [this, room_id, fetch_id](std::string reply) {
                post([this, room_id, fetch_id, reply = std::move(reply)]() mutable {
                    history_reply(room_id, fetch_id, std::move(reply));
                });
            });
    }
    if (!sent) {
        post([this, room_id, fetch_id] { history_reply(room_id, fetch_id, std::nullopt); });
    }
}

void Client::Impl::history_reply(const std::string& room_id, std::uint64_t fetch_id,
                                 std::optional<std::string> payload)
{
    auto it = synced_.find(room_id);
    if (it == synced_.end()) {
        return;  // left meanwhile
    }
    SyncedRoom& room = it->second;
    auto now = Clock::now();
    if (!payload) {
        room.sync.failed(fetch_id, now);
        pump(room_id, room);
        return;
    }

    try {
        auto batch = detail::history_from_json(detail::parse_reply(*payload), room.name,
                                               options_.user);
        // The name may now belong to a new room (deleted, created again).
        if (!batch.room_id.empty() && batch.room_id != room_id) {
            throw Error(ErrorCode::no_such_room, "the room was replaced by another of that name");
        }
        for (auto& entry : batch.entries) {
            if (entry.message) {
                entry.message->room_id = room_id;
            }
        }
        room.sync.fetched(fetch_id, batch, now);
    } catch (const Error& e) {
        log(LogLevel::warning, "history request failed room=" + room_id + ": " + e.what());
        room.sync.failed(fetch_id, now);
    }
    pump(room_id, room);
}

void Client::Impl::hand_out(const Message& message)
{
    if (!handler_) {
        return;
    }
    try {
        handler_(message);
    } catch (const std::exception& e) {
        // The application's bug must not stop the dispatch thread.
        log(LogLevel::error, std::string("message handler threw: ") + e.what());
    }
}

}  // namespace mqchat::client
