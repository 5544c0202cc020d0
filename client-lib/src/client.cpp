#include "mqchat/client/client.hpp"

#include <algorithm>
#include <thread>

#include "client_impl.hpp"
#include "connection.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client {

using detail::Connection;
using nlohmann::json;

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
    options_.history_on_enter =
        std::clamp(options_.history_on_enter, 0, static_cast<int>(limits::max_history_page));
    dispatcher_ = std::thread([this] { run_dispatch(); });
    link_ = std::thread([this] { run_link(); });
}

Client::Impl::~Impl()
{
    // Step 1: no more network; the link thread ends.
    disconnect();
    {
        std::lock_guard lock(link_mutex_);
        stopping_link_ = true;
    }
    link_cv_.notify_all();
    link_.join();

    // Step 2: every send still queued is reported, so none goes missing.
    std::deque<QueuedSend> left;
    {
        std::lock_guard lock(link_mutex_);
        left.swap(sends_);
    }
    for (const auto& send : left) {
        report_send(send, ErrorCode::connect_failed, "the client closed before it was sent");
    }

    // Step 3: the dispatch thread runs what is queued, then ends.
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

    // Step 2: drop any connection made with an older token, connect as the
    // user; entered rooms are entered again on the new connection.
    disconnect();
    connect();
    return session;
}

// ---------------------------------------------------------------------------
// Rooms
// ---------------------------------------------------------------------------

RoomInfo Client::Impl::create_or_join(std::string_view op, const std::string& name,
                                      const std::string& password)
{
    json reply = online_connection()->request(op, detail::room_request(name, password),
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
    online_connection()->request(op::leave, detail::room_only_request(name),
                                 options_.request_timeout);
    forget_room(name);
}

json Client::Impl::admin_request(std::string_view op, const std::string& payload)
{
    return online_connection()->request(op, payload, options_.request_timeout);
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
    if (!was_entered) {
        return;
    }
    post([this, id = token->room_id] { room_left(id); });
    if (auto connection = ready_connection()) {
        connection->unsubscribe(messages, options_.request_timeout);
    }
}

std::vector<RoomInfo> Client::Impl::list_rooms(std::chrono::milliseconds settle)
{
    std::lock_guard list_lock(list_mutex_);
    auto connection = online_connection();
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

void Client::Impl::present_if_needed(Connection& connection, const JoinToken& token)
{
    bool presented = false;
    {
        std::lock_guard lock(rooms_mutex_);
        presented = presented_.count(token.room_id) > 0;
    }
    if (!presented) {
        present(connection, token);
    }
}

void Client::Impl::enter_room(const std::string& room_name)
{
    JoinToken token = stored_join_token(room_name);

    // Remember it first: the link thread enters every remembered room after
    // each (re)connect, and the first message must find its room.
    std::string messages = topic::room_messages(token.room_id);
    bool is_new = false;
    {
        std::lock_guard lock(rooms_mutex_);
        is_new = entered_.insert_or_assign(messages, EnteredRoom{room_name, token.room_id}).second;
    }

    // Reconnecting: the link thread enters it once the connection is up.
    auto connection = ready_connection();
    if (!connection && is_connecting()) {
        log(LogLevel::info, "will enter room=" + token.room_id + " once connected");
        return;
    }

    // Not connected at all: connecting enters every remembered room.
    if (!connection) {
        connect();
        if (!entered_by_topic(messages)) {
            throw Error(ErrorCode::not_admitted, "the broker refused the room");
        }
        return;
    }

    // Online: enter now, so a refusal reaches the caller.
    try {
        present(*connection, token);
        connection->subscribe(messages, options_.request_timeout);
    } catch (const Error& e) {
        if (e.code() == ErrorCode::not_admitted) {
            // Refused: the room is not ours to remember.
            {
                std::lock_guard lock(rooms_mutex_);
                entered_.erase(messages);
            }
            if (!is_new) {
                post([this, id = token.room_id] { room_left(id); });
            }
            throw;
        }
        if (e.code() != ErrorCode::connect_failed) {
            throw;  // a timeout; the room stays remembered for the next reconnect
        }
        // The connection dropped meanwhile; the reconnect enters the room.
        log(LogLevel::warning, "enter room=" + token.room_id + " deferred: " + e.message());
        return;
    }
    post([this, id = token.room_id] { room_subscribed(id); });
    log(LogLevel::info, "entered room=" + token.room_id);
}

HistoryPage Client::Impl::history(const std::string& room_name,
                                  std::optional<std::int64_t> before_seq, int limit)
{
    json reply = online_connection()->request(
        op::history, detail::history_request(room_name, before_seq, std::nullopt, limit),
        options_.request_timeout);
    detail::HistoryBatch batch = detail::history_from_json(reply, room_name, options_.user);

    HistoryPage page;
    page.more = batch.more;
    page.last_seq = batch.last_seq;
    if (!batch.entries.empty()) {
        page.oldest_seq = batch.entries.front().seq;
    }
    for (auto& entry : batch.entries) {
        if (entry.message) {
            page.messages.push_back(std::move(*entry.message));
        }
    }
    return page;
}

std::string Client::Impl::send(const std::string& room_name, const std::string& text)
{
    if (text.size() > limits::max_text || !is_valid_utf8(text)) {
        throw Error(ErrorCode::bad_request, "text must be valid UTF-8 of at most 8 KiB");
    }
    JoinToken token = stored_join_token(room_name);
    auto connection = online_connection();
    present_if_needed(*connection, token);

    std::string id = detail::random_hex(16);
    connection->publish(topic::room_messages(token.room_id), detail::message_payload(id, text),
                        options_.request_timeout);
    return id;
}

std::optional<Client::Impl::EnteredRoom> Client::Impl::entered_by_topic(
    const std::string& topic_name) const
{
    std::lock_guard lock(rooms_mutex_);
    auto it = entered_.find(topic_name);
    if (it == entered_.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<Client::Impl::EnteredRoom> Client::Impl::entered_by_id(
    const std::string& room_id) const
{
    return entered_by_topic(topic::room_messages(room_id));
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

bool Client::unban(const std::string& room_name, const std::string& user)
{
    return impl_->admin_request(op::unban, detail::room_user_request(room_name, user))
        .value("was_banned", false);
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

HistoryPage Client::history(const std::string& room_name, std::optional<std::int64_t> before_seq,
                            int limit)
{
    return impl_->history(room_name, before_seq, limit);
}

std::string Client::send(const std::string& room_name, const std::string& text)
{
    return impl_->send(room_name, text);
}

std::string Client::send_async(const std::string& room_name, const std::string& text)
{
    return impl_->send_async(room_name, text);
}

void Client::on_message(std::function<void(const Message&)> handler)
{
    impl_->on_message(std::move(handler));
}

void Client::on_send_result(std::function<void(const SendResult&)> handler)
{
    impl_->on_send_result(std::move(handler));
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
