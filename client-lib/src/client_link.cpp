// The user connection's life, run by the link thread: connecting with
// backoff, restoring everything a clean session lacks after each
// (re)connect, and publishing queued sends.

#include <algorithm>
#include <random>

#include "client_impl.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/names.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client {

using detail::Connection;

namespace {

// The link thread looks at the connection at least this often, also when
// nothing woke it: a backstop for a loss Paho did not report, and the
// clock for expiring queued sends.
constexpr auto link_poll = std::chrono::milliseconds(200);

}  // namespace

// ---------------------------------------------------------------------------
// Connecting, as the API sees it
// ---------------------------------------------------------------------------

std::shared_ptr<Connection> Client::Impl::make_user_connection()
{
    auto connection =
        std::make_shared<Connection>(options_.broker, options_.client_id, options_.logger);
    connection->set_message_handler(
        [this](mqtt::const_message_ptr m) { on_paho_message(std::move(m)); });

    // Paho threads: only note the loss; the link thread does the rest.
    const Connection* raw = connection.get();
    connection->paho().set_connection_lost_handler(
        [this, raw](const std::string& cause) { on_connection_lost(raw, cause); });
    connection->paho().set_disconnected_handler(
        [this, raw](const mqtt::properties&, mqtt::ReasonCode reason) {
            on_connection_lost(raw, "the broker disconnected us (reason " +
                                        std::to_string(static_cast<int>(reason)) + ")");
        });
    return connection;
}

// Clean start: the client catches up from the archive, not from a broker
// queue, so nothing has to survive in the broker while it is away.
mqtt::connect_options Client::Impl::user_connect_options(const std::string& session) const
{
    return mqtt::connect_options_builder()
        .mqtt_version(MQTTVERSION_5)
        .clean_start(true)
        .user_name(options_.user)
        .password(session)
        .keep_alive_interval(std::chrono::seconds(30))
        .connect_timeout(options_.request_timeout)
        .finalize();
}

void Client::Impl::connect()
{
    if (!options_.tokens->session()) {
        throw Error(ErrorCode::not_authenticated, "not logged in");
    }
    if (ready_connection()) {
        return;
    }

    // Start or hurry the link thread, with a fresh budget of attempts.
    std::unique_lock lock(link_mutex_);
    if (!connection_) {
        connection_ = make_user_connection();
    }
    want_connected_ = true;
    retry_now_ = true;
    failures_ = 0;
    ++link_events_;
    const auto seen = attempts_;
    link_cv_.notify_all();

    // One attempt is bounded by request_timeout; restoring rooms adds a few
    // round trips, each bounded the same way.
    state_cv_.wait_for(lock, 2 * options_.request_timeout + std::chrono::seconds(1),
                       [&] { return ready_ || attempts_ > seen || stopping_link_; });
    if (ready_) {
        return;
    }
    if (attempts_ > seen && last_error_code_ == ErrorCode::not_authenticated) {
        throw Error(ErrorCode::not_authenticated, last_error_);
    }
    std::string why = attempts_ > seen ? last_error_ : "no connection in time";
    throw Error(ErrorCode::connect_failed,
                why + (want_connected_ ? "; still trying in the background" : ""));
}

bool Client::Impl::is_connected() const
{
    return ready_connection() != nullptr;
}

std::shared_ptr<Connection> Client::Impl::ready_connection() const
{
    std::shared_ptr<Connection> connection;
    {
        std::lock_guard lock(link_mutex_);
        if (ready_) {
            connection = connection_;
        }
    }
    // Paho's own lock is taken outside ours.
    return connection && connection->is_connected() ? connection : nullptr;
}

std::shared_ptr<Connection> Client::Impl::online_connection()
{
    if (auto connection = ready_connection()) {
        return connection;
    }
    connect();
    if (auto connection = ready_connection()) {
        return connection;
    }
    throw Error(ErrorCode::connect_failed, "disconnected while connecting");
}

bool Client::Impl::is_connecting() const
{
    std::lock_guard lock(link_mutex_);
    return want_connected_ && connection_;
}

void Client::Impl::disconnect()
{
    std::shared_ptr<Connection> old;
    {
        std::lock_guard lock(link_mutex_);
        old = std::move(connection_);
        want_connected_ = false;
        ready_ = false;
        ++link_events_;
    }
    link_cv_.notify_all();
    state_cv_.notify_all();

    // Destroying the connection disconnects it, outside our locks. If the
    // link thread still holds it mid-attempt, it goes when that ends.
    old.reset();
    std::lock_guard rooms_lock(rooms_mutex_);
    presented_.clear();
}

void Client::Impl::on_connection_lost(const Connection* which, const std::string& cause)
{
    {
        std::lock_guard lock(link_mutex_);
        if (connection_.get() != which) {
            return;  // an old connection's last words
        }
        ready_ = false;
        ++link_events_;
    }
    link_cv_.notify_all();
    log(LogLevel::warning, "connection lost client=" + options_.client_id + " cause=" + cause);
}

// ---------------------------------------------------------------------------
// The link thread
// ---------------------------------------------------------------------------

void Client::Impl::run_link()
{
    std::unique_lock lock(link_mutex_);
    while (!stopping_link_) {
        auto connection = want_connected_ ? connection_ : nullptr;
        const bool was_ready = ready_;
        const bool has_sends = !sends_.empty();
        const auto seen = link_events_;
        lock.unlock();
        const bool up = connection && was_ready && connection->is_connected();
        if (connection && !up) {
            std::lock_guard retry_lock(link_mutex_);
            retry_now_ = false;  // this attempt is the one asked for
        }

        // One step of work, with no lock held: each blocks on the network.
        bool progress = false;
        if (connection && !up) {
            progress = bring_up(connection);
        } else if (up && has_sends) {
            progress = flush_sends(*connection);
        }
        expire_sends();
        connection.reset();

        // Sleep until something changes, or the poll interval passes.
        lock.lock();
        if (!progress) {
            link_cv_.wait_for(lock, link_poll,
                              [&] { return stopping_link_ || link_events_ != seen; });
        }
    }
}

// One attempt: connect, restore, ready. True when the connection is ready.
bool Client::Impl::bring_up(const std::shared_ptr<Connection>& connection)
{
    try {
        // Step 1: connect, unless a restore failed halfway on a live link.
        if (!connection->is_connected()) {
            auto session = options_.tokens->session();
            if (!session) {
                throw Error(ErrorCode::not_authenticated, "not logged in");
            }
            connection->connect(user_connect_options(*session), options_.request_timeout, true);
        }

        // Step 2: what a clean session lacks: the reply topic, then the
        // tokens and subscriptions of the entered rooms.
        std::string reply_topic = connection->reply_topic().empty()
                                      ? topic::user_inbox(options_.user, detail::random_hex(8))
                                      : connection->reply_topic();
        connection->set_reply_topic(reply_topic, options_.request_timeout);
        {
            std::lock_guard lock(rooms_mutex_);
            presented_.clear();
        }
        std::vector<std::string> rooms = enter_remembered(*connection, {});

        // Step 3: ready, unless it dropped or was replaced meanwhile.
        {
            std::lock_guard lock(link_mutex_);
            if (connection_ != connection || !connection->is_connected()) {
                throw Error(ErrorCode::connect_failed, "connection lost while restoring");
            }
            ready_ = true;
            failures_ = 0;
            ++attempts_;
            last_error_code_.reset();
            last_error_.clear();
        }
        state_cv_.notify_all();

        // Step 4: rooms entered during step 2 saw "not ready" and left them
        // to us; from now on enter_room subscribes by itself.
        try {
            auto late = enter_remembered(*connection, rooms);
            rooms.insert(rooms.end(), late.begin(), late.end());
        } catch (const std::exception& e) {
            // A loss shows up as one; the reconnect enters them all again.
            log(LogLevel::warning, std::string("entering rooms after connect: ") + e.what());
        }

        // Each room catches up from where it was, on the dispatch thread.
        for (const auto& id : rooms) {
            post([this, id] { room_subscribed(id); });
        }
        log(LogLevel::info, "connected client=" + options_.client_id +
                                " rooms=" + std::to_string(rooms.size()));
        return true;
    } catch (const Error& e) {
        attempt_failed(connection, e);
    } catch (const std::exception& e) {
        // The TokenStore could not be read; try again like any failure.
        attempt_failed(connection, Error(ErrorCode::connect_failed, e.what()));
    }
    return false;
}

// Presents the tokens of the entered rooms not in `done` and subscribes to
// them. Returns the ids of the rooms subscribed. A room the broker refuses is
// forgotten (its membership ended while we were away). Errors: connect_failed
// or timeout when the connection is in trouble.
std::vector<std::string> Client::Impl::enter_remembered(Connection& connection,
                                                        const std::vector<std::string>& done)
{
    std::vector<EnteredRoom> rooms;
    {
        std::lock_guard lock(rooms_mutex_);
        for (const auto& [messages, room] : entered_) {
            if (std::find(done.begin(), done.end(), room.id) == done.end()) {
                rooms.push_back(room);
            }
        }
    }

    std::vector<std::string> subscribed;
    for (const auto& room : rooms) {
        std::string messages = topic::room_messages(room.id);
        try {
            auto token = options_.tokens->join_token(room.name);
            if (!token || token->room_id != room.id) {
                throw Error(ErrorCode::not_joined, "no join token any more");
            }
            present(connection, *token);
            connection.subscribe(messages, options_.request_timeout);
            subscribed.push_back(room.id);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_admitted && e.code() != ErrorCode::not_joined) {
                throw;  // the connection is in trouble; the next attempt redoes it all
            }
            log(LogLevel::error, "left room=" + room.id + " after reconnect: " + e.message());
            {
                std::lock_guard lock(rooms_mutex_);
                entered_.erase(messages);
            }
            post([this, id = room.id] { room_left(id); });
        }
    }
    return subscribed;
}

void Client::Impl::attempt_failed(const std::shared_ptr<Connection>& connection,
                                  const Error& error)
{
    std::unique_lock lock(link_mutex_);
    if (connection_ != connection) {
        return;  // disconnect() or a new login replaced it
    }
    ++attempts_;
    ++failures_;
    last_error_code_ = error.code();
    last_error_ = error.message();

    // A refused token does not get better by retrying; nor does a limit.
    const bool give_up =
        error.code() == ErrorCode::not_authenticated ||
        (options_.reconnect_attempts > 0 && failures_ >= options_.reconnect_attempts);
    if (give_up) {
        want_connected_ = false;
    }
    const int failures = failures_;
    lock.unlock();
    state_cv_.notify_all();
    log(give_up ? LogLevel::error : LogLevel::warning,
        "connect attempt failed client=" + options_.client_id +
            " failures=" + std::to_string(failures) + " reason=" + error.message() +
            (give_up ? " (giving up)" : ""));
    if (give_up) {
        return;
    }

    // Back off, unless connect() asked for an attempt since this one began.
    lock.lock();
    link_cv_.wait_for(lock, backoff(failures), [&] {
        return stopping_link_ || retry_now_ || !want_connected_ || connection_ != connection;
    });
    retry_now_ = false;
}

std::chrono::milliseconds Client::Impl::backoff(int failures)
{
    // Doubling from the minimum, capped, then a random half to a full delay
    // so many clients of a restarted broker do not all come back at once.
    auto delay = options_.reconnect_delay_min;
    for (int i = 1; i < failures && delay < options_.reconnect_delay_max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, options_.reconnect_delay_max);
    static thread_local std::minstd_rand random{std::random_device{}()};
    std::uniform_int_distribution<long long> pick(delay.count() / 2, delay.count());
    return std::chrono::milliseconds(pick(random));
}

// ---------------------------------------------------------------------------
// Queued sends
// ---------------------------------------------------------------------------

std::string Client::Impl::send_async(const std::string& room_name, const std::string& text)
{
    if (text.size() > limits::max_text || !is_valid_utf8(text)) {
        throw Error(ErrorCode::bad_request, "text must be valid UTF-8 of at most 8 KiB");
    }
    (void)stored_join_token(room_name);

    std::string id = detail::random_hex(16);
    {
        std::lock_guard lock(link_mutex_);
        if (sends_.size() >= options_.max_queued_sends) {
            throw Error(ErrorCode::rate_limited, std::to_string(sends_.size()) +
                                                     " sends are waiting already; retry later");
        }
        sends_.push_back({room_name, id, text, Clock::now() + options_.send_timeout});
        ++link_events_;
    }
    link_cv_.notify_all();
    return id;
}

// Publishes queued sends in order until the queue is empty or the link
// fails. A send stays first in the queue until its outcome is known, so a
// send interrupted by a connection loss goes again, with the same id.
bool Client::Impl::flush_sends(Connection& connection)
{
    bool progress = false;
    for (;;) {
        QueuedSend send;
        {
            std::lock_guard lock(link_mutex_);
            if (sends_.empty() || !ready_) {
                return progress;
            }
            send = sends_.front();
        }

        // Publish and wait for PUBACK; only a refusal is final.
        ErrorCode code = ErrorCode::ok;
        std::string why;
        try {
            auto token = options_.tokens->join_token(send.room);
            if (!token) {
                throw Error(ErrorCode::not_joined, "no join token for the room any more");
            }
            present_if_needed(connection, *token);
            connection.publish(topic::room_messages(token->room_id),
                               detail::message_payload(send.id, send.text),
                               options_.request_timeout);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::not_admitted && e.code() != ErrorCode::not_joined) {
                log(LogLevel::debug, "send id=" + send.id + " waits: " + e.message());
                return progress;
            }
            code = e.code();
            why = e.message();
        } catch (const std::exception& e) {
            log(LogLevel::warning, std::string("send waits, token store failed: ") + e.what());
            return progress;
        }

        // Only this thread removes sends while it runs, so it is still first.
        {
            std::lock_guard lock(link_mutex_);
            if (!sends_.empty() && sends_.front().id == send.id) {
                sends_.pop_front();
            }
        }
        report_send(send, code, why);
        progress = true;
    }
}

void Client::Impl::expire_sends()
{
    std::vector<QueuedSend> expired;
    {
        std::lock_guard lock(link_mutex_);
        auto now = Clock::now();
        while (!sends_.empty() && sends_.front().expires <= now) {
            expired.push_back(std::move(sends_.front()));
            sends_.pop_front();
        }
    }
    for (const auto& send : expired) {
        report_send(send, ErrorCode::timeout,
                    "the broker did not accept it in time (it may still have arrived once)");
    }
}

void Client::Impl::report_send(const QueuedSend& send, ErrorCode code, const std::string& why)
{
    SendResult result{send.room, send.id, code, why};
    if (code != ErrorCode::ok) {
        log(LogLevel::warning, "send failed id=" + send.id + " code=" +
                                   std::string(to_string(code)) + " reason=" + why);
    }
    post([this, result = std::move(result)] {
        if (!send_handler_) {
            return;
        }
        try {
            send_handler_(result);
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("send result handler threw: ") + e.what());
        }
    });
}

}  // namespace mqchat::client
