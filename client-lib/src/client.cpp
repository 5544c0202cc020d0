#include "mqchat/client/client.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <thread>

#include "connection.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client {

using detail::Connection;
using nlohmann::json;

namespace {

constexpr std::string_view meta_prefix = "chat/v1/rooms/";
constexpr std::string_view meta_suffix = "/meta";

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

class Client::Impl {
public:
    explicit Impl(Options options);
    ~Impl();

    void register_account(const std::string& password);
    std::string login(const std::string& password);
    void connect();
    bool is_connected() const;
    RoomInfo create_or_join(std::string_view op, const std::string& name,
                            const std::string& password);
    void leave_room(const std::string& name);
    nlohmann::json admin_request(std::string_view op, const std::string& payload);
    void forget_room(const std::string& name);
    std::vector<RoomInfo> list_rooms(std::chrono::milliseconds settle);
    void enter_room(const std::string& room_name);
    std::string send(const std::string& room_name, const std::string& text);
    void on_message(std::function<void(const Message&)> handler);
    void disconnect();

    Options options_;

private:
    struct EnteredRoom {
        std::string name;
        std::string id;
    };

    std::unique_ptr<Connection> guest_connection();
    std::shared_ptr<Connection> user_connection();  // connects if needed
    JoinToken stored_join_token(const std::string& room_name) const;
    void present(Connection& connection, const JoinToken& token);
    void on_paho_message(mqtt::const_message_ptr message);
    void deliver(const mqtt::const_message_ptr& message);
    void resync_after_reconnect();
    void post(std::function<void()> task);
    void run_dispatch();
    void log(LogLevel level, const std::string& line) const;

    // The user connection; created by connect(), guarded by connect_mutex_.
    mutable std::mutex connect_mutex_;
    std::shared_ptr<Connection> user_;
    std::atomic<int> connects_{0};

    // Rooms entered (by message topic) and room ids presented on the
    // current connection.
    mutable std::mutex rooms_mutex_;
    std::map<std::string, EnteredRoom> entered_;
    std::set<std::string> presented_;

    // list_rooms collects retained metadata here while it is running.
    std::mutex list_mutex_;
    std::mutex meta_mutex_;
    bool collecting_meta_ = false;
    std::map<std::string, RoomInfo> meta_;

    // The dispatch thread and its queue.
    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::function<void(const Message&)> handler_;  // dispatch thread reads it
    detail::MessageDeduper deduper_;               // dispatch thread only
    std::thread dispatcher_;
};

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

Client::Impl::Impl(Options options) : options_(std::move(options))
{
    if (options_.user.empty()) {
        throw Error(ErrorCode::usage, "no user name given");
    }
    if (!options_.tokens) {
        options_.tokens = std::make_shared<MemoryTokenStore>();
    }
    if (options_.client_id.empty()) {
        options_.client_id = options_.user + ":" + detail::random_hex(8);
    }
    dispatcher_ = std::thread([this] { run_dispatch(); });
}

Client::Impl::~Impl()
{
    disconnect();
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    dispatcher_.join();
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

// A short-lived connection without username or password whose replies come
// on chat/v1/guest/<client id>/<nonce>, subscribed exactly (no wildcard).
std::unique_ptr<Connection> Client::Impl::guest_connection()
{
    std::string client_id = "guest:" + detail::random_hex(8);
    auto connection = std::make_unique<Connection>(options_.broker, client_id, options_.logger);

    auto connect_options = mqtt::connect_options_builder()
                               .mqtt_version(MQTTVERSION_5)
                               .clean_start(true)
                               .connect_timeout(options_.request_timeout)
                               .finalize();
    connection->connect(connect_options, options_.request_timeout, false);
    connection->set_reply_topic(topic::guest_inbox(client_id, detail::random_hex(16)),
                                options_.request_timeout);
    return connection;
}

void Client::Impl::register_account(const std::string& password)
{
    auto guest = guest_connection();
    guest->request(op::register_user, detail::credentials_request(options_.user, password),
                   options_.request_timeout);
    log(LogLevel::info, "registered user=" + options_.user);
}

std::string Client::Impl::login(const std::string& password)
{
    // Step 1: trade the password for a session token as a guest.
    json reply;
    {
        auto guest = guest_connection();
        reply = guest->request(op::login, detail::credentials_request(options_.user, password),
                               options_.request_timeout);
    }
    auto token = reply.find("token");
    if (token == reply.end() || !token->is_string()) {
        throw Error(ErrorCode::internal_error, "login reply without a token");
    }
    std::string session = token->get<std::string>();
    options_.tokens->set_session(session);
    log(LogLevel::info, "logged in user=" + options_.user);

    // Step 2: drop any connection made with an older token, connect as the user.
    disconnect();
    connect();
    return session;
}

void Client::Impl::connect()
{
    std::lock_guard lock(connect_mutex_);
    if (user_ && user_->is_connected()) {
        return;
    }
    auto session = options_.tokens->session();
    if (!session) {
        throw Error(ErrorCode::not_authenticated, "not logged in");
    }

    // A fresh Paho client each time keeps no state from an earlier session.
    user_.reset();
    auto connection =
        std::make_unique<Connection>(options_.broker, options_.client_id, options_.logger);
    connection->set_message_handler(
        [this](mqtt::const_message_ptr m) { on_paho_message(std::move(m)); });

    // After an automatic reconnect the broker has forgotten our clean-start
    // session: re-present and resubscribe, off Paho's thread.
    connects_ = 0;
    connection->paho().set_connected_handler([this](const std::string&) {
        if (connects_++ > 0) {
            log(LogLevel::info, "reconnected client=" + options_.client_id);
            post([this] { resync_after_reconnect(); });
        }
    });
    connection->paho().set_connection_lost_handler([this](const std::string&) {
        log(LogLevel::warning, "connection lost client=" + options_.client_id);
    });

    auto connect_options = mqtt::connect_options_builder()
                               .mqtt_version(MQTTVERSION_5)
                               .clean_start(true)
                               .user_name(options_.user)
                               .password(*session)
                               .keep_alive_interval(std::chrono::seconds(30))
                               .connect_timeout(options_.request_timeout)
                               .automatic_reconnect(std::chrono::seconds(1),
                                                    std::chrono::seconds(30))
                               .finalize();
    connection->connect(connect_options, options_.request_timeout, true);
    connection->set_reply_topic(topic::user_inbox(options_.user, detail::random_hex(8)),
                                options_.request_timeout);
    {
        std::lock_guard rooms_lock(rooms_mutex_);
        presented_.clear();
    }
    user_ = std::move(connection);
}

bool Client::Impl::is_connected() const
{
    std::lock_guard lock(connect_mutex_);
    return user_ && user_->is_connected();
}

std::shared_ptr<Connection> Client::Impl::user_connection()
{
    connect();
    std::lock_guard lock(connect_mutex_);
    if (!user_) {
        throw Error(ErrorCode::connect_failed, "disconnected while connecting");
    }
    return user_;
}

void Client::Impl::disconnect()
{
    std::shared_ptr<Connection> old;
    {
        std::lock_guard lock(connect_mutex_);
        old = std::move(user_);
    }
    // Destroying the connection disconnects it, outside our locks.
    old.reset();
    std::lock_guard rooms_lock(rooms_mutex_);
    presented_.clear();
}

// ---------------------------------------------------------------------------
// Rooms
// ---------------------------------------------------------------------------

RoomInfo Client::Impl::create_or_join(std::string_view op, const std::string& name,
                                      const std::string& password)
{
    json reply = user_connection()->request(op, detail::room_request(name, password),
                                           options_.request_timeout);
    if (!reply.contains("room") || !reply.contains("token") || !reply["token"].is_string()) {
        throw Error(ErrorCode::internal_error, "reply without room or token");
    }
    RoomInfo room = detail::room_info_from_json(reply["room"]);

    // Key by the name the caller used, which is how later calls find it.
    // The new token has not been shown to the broker yet.
    options_.tokens->set_join_token(name, {room.id, reply["token"].get<std::string>()});
    {
        std::lock_guard lock(rooms_mutex_);
        presented_.erase(room.id);
    }
    log(LogLevel::info, std::string(op) + " room=" + room.id);
    return room;
}

void Client::Impl::leave_room(const std::string& name)
{
    user_connection()->request(op::leave, detail::room_only_request(name),
                              options_.request_timeout);
    forget_room(name);
}

json Client::Impl::admin_request(std::string_view op, const std::string& payload)
{
    return user_connection()->request(op, payload, options_.request_timeout);
}

// The broker already stopped deliveries; tidy up our side.
void Client::Impl::forget_room(const std::string& name)
{
    auto token = options_.tokens->join_token(name);
    options_.tokens->remove_join_token(name);
    if (!token) {
        return;
    }
    std::string messages = topic::room_messages(token->room_id);
    bool was_entered = false;
    {
        std::lock_guard lock(rooms_mutex_);
        was_entered = entered_.erase(messages) > 0;
        presented_.erase(token->room_id);
    }
    if (was_entered) {
        user_connection()->unsubscribe(messages, options_.request_timeout);
    }
}

std::vector<RoomInfo> Client::Impl::list_rooms(std::chrono::milliseconds settle)
{
    std::lock_guard list_lock(list_mutex_);
    auto connection = user_connection();
    {
        std::lock_guard lock(meta_mutex_);
        meta_.clear();
        collecting_meta_ = true;
    }
    try {
        connection->subscribe(std::string(topic::all_room_meta), options_.request_timeout);
    } catch (...) {
        std::lock_guard lock(meta_mutex_);
        collecting_meta_ = false;
        throw;
    }

    // Retained messages follow the SUBACK at once; give them a moment.
    std::this_thread::sleep_for(settle);
    connection->unsubscribe(std::string(topic::all_room_meta), options_.request_timeout);

    std::vector<RoomInfo> rooms;
    {
        std::lock_guard lock(meta_mutex_);
        collecting_meta_ = false;
        for (auto& [topic_name, info] : meta_) {
            rooms.push_back(std::move(info));
        }
        meta_.clear();
    }
    std::sort(rooms.begin(), rooms.end(),
              [](const RoomInfo& a, const RoomInfo& b) { return a.name < b.name; });
    return rooms;
}

JoinToken Client::Impl::stored_join_token(const std::string& room_name) const
{
    auto token = options_.tokens->join_token(room_name);
    if (!token) {
        throw Error(ErrorCode::not_joined,
                    "no join token for room \"" + room_name + "\"; join it first");
    }
    return *token;
}

// Hands the join token to the broker plugin. The plugin says nothing back; a
// bad token shows up as a refused subscribe or publish afterwards.
void Client::Impl::present(Connection& connection, const JoinToken& token)
{
    connection.publish(std::string(topic::plugin_control), detail::present_payload(token.token),
                       options_.request_timeout);
    std::lock_guard lock(rooms_mutex_);
    presented_.insert(token.room_id);
}

void Client::Impl::enter_room(const std::string& room_name)
{
    JoinToken token = stored_join_token(room_name);
    auto connection = user_connection();
    present(*connection, token);

    // Register before subscribing so the first message finds its room.
    std::string messages = topic::room_messages(token.room_id);
    {
        std::lock_guard lock(rooms_mutex_);
        entered_[messages] = {room_name, token.room_id};
    }
    try {
        connection->subscribe(messages, options_.request_timeout);
    } catch (...) {
        std::lock_guard lock(rooms_mutex_);
        entered_.erase(messages);
        throw;
    }
    log(LogLevel::info, "entered room=" + token.room_id);
}

std::string Client::Impl::send(const std::string& room_name, const std::string& text)
{
    if (text.size() > limits::max_text || !is_valid_utf8(text)) {
        throw Error(ErrorCode::bad_request, "text must be valid UTF-8 of at most 8 KiB");
    }
    JoinToken token = stored_join_token(room_name);
    auto connection = user_connection();

    bool presented = false;
    {
        std::lock_guard lock(rooms_mutex_);
        presented = presented_.count(token.room_id) > 0;
    }
    if (!presented) {
        present(*connection, token);
    }

    std::string id = detail::random_hex(16);
    connection->publish(topic::room_messages(token.room_id), detail::message_payload(id, text),
                       options_.request_timeout);
    return id;
}

// ---------------------------------------------------------------------------
// Incoming messages and the dispatch thread
// ---------------------------------------------------------------------------

void Client::Impl::on_message(std::function<void(const Message&)> handler)
{
    // The handler is only read on the dispatch thread, so swap it there.
    post([this, handler = std::move(handler)]() mutable { handler_ = std::move(handler); });
}

void Client::Impl::on_paho_message(mqtt::const_message_ptr message)
{
    // Paho thread: never block. Metadata is stored at once, the rest queued.
    if (is_meta_topic(message->get_topic())) {
        std::lock_guard lock(meta_mutex_);
        if (!collecting_meta_) {
            return;
        }
        std::string why;
        auto info = detail::parse_room_meta(message->get_payload_str(), &why);
        if (info) {
            meta_[message->get_topic()] = std::move(*info);
        } else if (!message->get_payload().empty()) {
            log(LogLevel::warning, "skipped room metadata topic=" + message->get_topic() +
                                       " reason=" + why);
        }
        return;
    }
    post([this, message = std::move(message)] { deliver(message); });
}

void Client::Impl::deliver(const mqtt::const_message_ptr& message)
{
    EnteredRoom room;
    {
        std::lock_guard lock(rooms_mutex_);
        auto it = entered_.find(message->get_topic());
        if (it == entered_.end()) {
            return;  // a room we left while the message was in flight
        }
        room = it->second;
    }

    std::string why;
    auto parsed = detail::parse_room_message(room.name, room.id, message->get_payload_str(),
                                             user_properties(message->get_properties()),
                                             options_.user, &why);
    if (!parsed) {
        log(LogLevel::warning, "skipped malformed message room=" + room.id + " reason=" + why);
        return;
    }
    if (!deduper_.first_time(room.id, parsed->id)) {
        log(LogLevel::debug, "dropped duplicate room=" + room.id + " id=" + parsed->id);
        return;
    }
    if (handler_) {
        try {
            handler_(*parsed);
        } catch (const std::exception& e) {
            // The application's bug must not stop the dispatch thread.
            log(LogLevel::error, std::string("message handler threw: ") + e.what());
        }
    }
}

void Client::Impl::resync_after_reconnect()
{
    std::shared_ptr<Connection> connection;
    {
        std::lock_guard lock(connect_mutex_);
        connection = user_;
    }
    if (!connection || !connection->is_connected()) {
        return;  // disconnected again; the next reconnect posts another resync
    }
    try {
        connection->set_reply_topic(connection->reply_topic(), options_.request_timeout);

        // Present every stored token; the plugin may have restarted too.
        {
            std::lock_guard lock(rooms_mutex_);
            presented_.clear();
        }
        for (const auto& [name, token] : options_.tokens->load().rooms) {
            present(*connection, token);
        }

        std::vector<std::string> topics;
        {
            std::lock_guard lock(rooms_mutex_);
            for (const auto& [messages, room] : entered_) {
                topics.push_back(messages);
            }
        }
        for (const auto& messages : topics) {
            connection->subscribe(messages, options_.request_timeout);
        }
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("resync after reconnect failed: ") + e.what());
    }
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
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping and drained
            }
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

void Client::Impl::log(LogLevel level, const std::string& line) const
{
    if (options_.logger) {
        options_.logger(level, line);
    }
}

// ---------------------------------------------------------------------------
// Client: forwards to Impl
// ---------------------------------------------------------------------------

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;

void Client::register_account(const std::string& password)
{
    impl_->register_account(password);
}

std::string Client::login(const std::string& password)
{
    return impl_->login(password);
}

void Client::connect()
{
    impl_->connect();
}

bool Client::is_connected() const
{
    return impl_->is_connected();
}

RoomInfo Client::create_room(const std::string& name, const std::string& password)
{
    return impl_->create_or_join(op::create, name, password);
}

RoomInfo Client::join_room(const std::string& name, const std::string& password)
{
    return impl_->create_or_join(op::join, name, password);
}

void Client::leave_room(const std::string& name)
{
    impl_->leave_room(name);
}

std::vector<Member> Client::members(const std::string& room_name)
{
    return detail::members_from_json(
        impl_->admin_request(op::members, detail::room_only_request(room_name)));
}

void Client::kick(const std::string& room_name, const std::string& user)
{
    (void)impl_->admin_request(op::kick, detail::room_user_request(room_name, user));
}

void Client::ban(const std::string& room_name, const std::string& user)
{
    (void)impl_->admin_request(op::ban, detail::room_user_request(room_name, user));
}

void Client::unban(const std::string& room_name, const std::string& user)
{
    (void)impl_->admin_request(op::unban, detail::room_user_request(room_name, user));
}

int Client::change_password(const std::string& room_name, const std::string& password,
                            bool revoke_members)
{
    json reply = impl_->admin_request(
        op::passwd, detail::passwd_request(room_name, password, revoke_members));
    return reply.value("revoked", 0);
}

void Client::delete_room(const std::string& room_name)
{
    (void)impl_->admin_request(op::delete_room, detail::room_only_request(room_name));
    impl_->forget_room(room_name);
}

std::vector<RoomInfo> Client::list_rooms(std::chrono::milliseconds settle)
{
    return impl_->list_rooms(settle);
}

void Client::enter_room(const std::string& room_name)
{
    impl_->enter_room(room_name);
}

std::string Client::send(const std::string& room_name, const std::string& text)
{
    return impl_->send(room_name, text);
}

void Client::on_message(std::function<void(const Message&)> handler)
{
    impl_->on_message(std::move(handler));
}

void Client::disconnect()
{
    impl_->disconnect();
}

const std::string& Client::user() const noexcept
{
    return impl_->options_.user;
}

const std::string& Client::client_id() const noexcept
{
    return impl_->options_.client_id;
}

}  // namespace mqchat::client
