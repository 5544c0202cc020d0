// The inside of mqchat::client::Client. Internal to the client library.
//
// Three kinds of threads meet here:
// - the caller's threads run the blocking API (requests, enter_room, send);
// - the link thread owns the user connection's life: connecting with
//   backoff, restoring reply topic, tokens and room subscriptions after
//   every (re)connect, and publishing queued sends (client_link.cpp);
// - the dispatch thread runs every application callback and each room's
//   RoomSync, and sends catch-up requests without blocking
//   (client_dispatch.cpp).
// Paho's own threads only hand events over to the other two; they never
// block and never call the application.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/message.h>

#include "connection.hpp"
#include "mqchat/client/client.hpp"
#include "mqchat/client/detail/presence.hpp"
#include "mqchat/client/detail/room_sync.hpp"
#include "mqchat/client/detail/typing.hpp"

namespace mqchat::client {

class Client::Impl {
public:
    using Clock = std::chrono::steady_clock;

    explicit Impl(Options options);
    ~Impl();

    // Accounts (client.cpp).
    void register_account(const std::string& password);
    std::string login(const std::string& password);

    // Rooms and requests (client.cpp).
    // `payload` is the create or join request for room `name`.
    RoomInfo create_or_join(std::string_view op, const std::string& name,
                            const std::string& payload);
    void leave_room(const std::string& name);
    nlohmann::json admin_request(std::string_view op, const std::string& payload);
    void forget_room(const std::string& name);
    std::vector<RoomInfo> list_rooms(std::chrono::milliseconds settle);
    void enter_room(const std::string& room_name);
    HistoryPage history(const std::string& room_name, std::optional<std::int64_t> before_seq,
                        int limit);
    std::string send(const std::string& room_name, const std::string& text);
    void set_typing(const std::string& room_name, bool typing);

    // The connection and queued sends (client_link.cpp).
    void connect();
    bool is_connected() const;
    void disconnect();
    std::string send_async(const std::string& room_name, const std::string& text);

    // Operators (client_status.cpp).
    std::string health_report(std::chrono::milliseconds wait);

    // Callbacks (client_dispatch.cpp).
    void on_message(std::function<void(const Message&)> handler);
    void on_send_result(std::function<void(const SendResult&)> handler);
    void on_presence(std::function<void(const PresenceEvent&)> handler);
    void on_typing(std::function<void(const TypingEvent&)> handler);

    Options options_;

private:
    struct EnteredRoom {
        std::string name;
        std::string id;
    };

    // A send_async() waiting for the link thread.
    struct QueuedSend {
        std::string room;
        std::string id;
        std::string text;
        Clock::time_point expires;
    };

    // One entered room as the dispatch thread sees it.
    struct SyncedRoom {
        std::string name;
        detail::RoomSync sync;
    };

    // Who is there and who is typing in one entered room (dispatch thread).
    struct RoomSignals {
        std::string name;
        detail::PresenceTracker presence;
        detail::TypingTracker typing;
    };

    // --- client.cpp -------------------------------------------------------
    std::unique_ptr<detail::Connection> guest_connection();
    JoinToken stored_join_token(const std::string& room_name) const;
    void present(detail::Connection& connection, const JoinToken& token);
    void present_if_needed(detail::Connection& connection, const JoinToken& token);
    std::optional<EnteredRoom> entered_by_topic(const std::string& topic) const;
    std::optional<EnteredRoom> entered_by_id(const std::string& room_id) const;
    std::optional<EnteredRoom> entered_by_name(const std::string& room_name) const;
    void subscribe_signals(detail::Connection& connection, const std::string& room_id);
    void publish_typing(const std::string& room_id, bool typing);
    void log(LogLevel level, const std::string& line) const;

    // --- client_link.cpp --------------------------------------------------
    std::shared_ptr<detail::Connection> make_user_connection();
    mqtt::connect_options user_connect_options(const std::string& session) const;
    std::shared_ptr<detail::Connection> ready_connection() const;  // null when not ready
    std::shared_ptr<detail::Connection> online_connection();        // connects, or throws
    bool is_connecting() const;  // connect() called and the client still trying
    void on_connection_lost(const detail::Connection* which, const std::string& cause);
    void run_link();
    bool bring_up(const std::shared_ptr<detail::Connection>& connection);
    std::vector<std::string> enter_remembered(detail::Connection& connection,
                                              const std::vector<std::string>& done);
    void attempt_failed(const std::shared_ptr<detail::Connection>& connection,
                        const Error& error);
    bool flush_sends(detail::Connection& connection);
    void expire_sends();
    void report_send(const QueuedSend& send, ErrorCode code, const std::string& why);
    std::chrono::milliseconds backoff(int failures);

    // --- client_dispatch.cpp ----------------------------------------------
    void post(std::function<void()> task);
    void run_dispatch();
    void on_paho_message(mqtt::const_message_ptr message);
    void collect_meta(const mqtt::const_message_ptr& message);
    void deliver_live(const mqtt::const_message_ptr& message);
    void deliver_presence(const mqtt::const_message_ptr& message);
    void deliver_typing(const mqtt::const_message_ptr& message);
    RoomSignals& signals(const EnteredRoom& room);
    Clock::time_point tick_typing(Clock::time_point now);
    void hand_out_presence(const PresenceEvent& event);
    void hand_out_typing(const TypingEvent& event);
    void room_subscribed(const std::string& room_id);
    void room_left(const std::string& room_id);
    void history_reply(const std::string& room_id, std::uint64_t fetch_id,
                       std::optional<std::string> payload);
    SyncedRoom& synced(const EnteredRoom& room);
    void pump(const std::string& room_id, SyncedRoom& room);
    void fetch(const std::string& room_id, const SyncedRoom& room,
               const detail::HistoryFetch& request);
    Clock::time_point tick_rooms(Clock::time_point now);
    void hand_out(const Message& message);

    // The user connection and its state; guarded by link_mutex_.
    mutable std::mutex link_mutex_;
    std::condition_variable link_cv_;   // wakes the link thread
    std::condition_variable state_cv_;  // wakes callers waiting for an attempt
    std::shared_ptr<detail::Connection> connection_;
    bool want_connected_ = false;       // connect() called, disconnect() not since
    bool ready_ = false;                // connected and restored
    bool retry_now_ = false;            // skip the current backoff
    bool stopping_link_ = false;
    std::uint64_t link_events_ = 0;     // bumped by everything the link thread waits for
    std::uint64_t attempts_ = 0;        // connect attempts finished
    int failures_ = 0;                  // consecutive failed attempts
    std::optional<ErrorCode> last_error_code_;
    std::string last_error_;
    std::deque<QueuedSend> sends_;
    std::thread link_;

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
    std::thread dispatcher_;

    // Owned by the dispatch thread.
    std::function<void(const Message&)> handler_;
    std::function<void(const SendResult&)> send_handler_;
    std::map<std::string, SyncedRoom> synced_;  // by room id
    std::function<void(const PresenceEvent&)> presence_handler_;
    std::function<void(const TypingEvent&)> typing_handler_;
    std::map<std::string, RoomSignals> signals_;  // by room id

    // This client's typing indicators, by room id; set_typing on the
    // caller's threads, held-back ones sent by the dispatch thread.
    std::mutex typing_mutex_;
    std::map<std::string, detail::TypingThrottle> typing_out_;
};

}  // namespace mqchat::client
