// The client library against a real backend (Mosquitto + plugin + room
// manager, started by TestBackend once for the whole suite): two users
// chatting, wrong room passwords, unauthenticated and malformed raw MQTT
// traffic, and leaving a room. Raw Paho connections do what the library
// never does on purpose.
//
// Every test uses its own users and rooms, so the tests share one backend
// without seeing each other. Waits for something to arrive are bounded
// condition-variable waits; only "nothing else arrives" needs a short window.

#include <gtest/gtest.h>

#include <mqtt/async_client.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mqchat/client/client.hpp"
#include "mqchat/protocol.hpp"
#include "test_backend.hpp"

namespace {

using mqchat::client::Client;
using mqchat::client::Error;
using mqchat::client::MemoryTokenStore;
using mqchat::client::Message;
using mqchat::client::RoomInfo;
using nlohmann::json;
using namespace std::chrono_literals;

// How long something that should happen may take; generous for slow CI.
constexpr auto kWait = 10s;
// How long we watch for something that must not happen.
constexpr auto kQuiet = 500ms;

// MQTT v5 reason codes (MQTT 5.0, section 2.4).
constexpr int kGrantedQos1 = 0x01;
constexpr int kBadCredentials = 0x86;
constexpr int kNotAuthorized = 0x87;
// reason_of() when a token did not complete in time.
constexpr int kNoAnswer = -1000;

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Names are unique per process, so tests sharing the backend never collide.
std::string unique(const std::string& base)
{
    static std::atomic<int> counter{0};
    return base + "-" + std::to_string(++counter);
}

// The code an Error carries, or a note that something else was thrown.
template <typename Call>
std::string error_code_of(Call&& call)
{
    try {
        call();
    } catch (const Error& e) {
        return std::string(mqchat::to_string(e.code()));
    } catch (const std::exception& e) {
        return std::string("non-Error exception: ") + e.what();
    }
    return "no error";
}

// The reason code of a finished Paho token: 0 or a grant on success, the
// broker's (or Paho's) failure code otherwise, kNoAnswer on timeout.
int reason_of(const mqtt::token_ptr& token)
{
    try {
        if (!token->wait_for(kWait)) {
            return kNoAnswer;
        }
        return token->get_reason_code();
    } catch (const mqtt::exception& e) {
        // Paho 1.2 puts a refusing CONNACK's code in the return code and
        // leaves the reason code at 0; PUBACK and SUBACK codes come as
        // reason codes. Either way a failure must not read as success.
        if (e.get_reason_code() != 0) {
            return e.get_reason_code();
        }
        return e.get_return_code() != 0 ? e.get_return_code() : -1;
    }
}

// Collects what one client's message handler receives, for waiting on.
class Inbox {
public:
    void push(const Message& message)
    {
        {
            std::lock_guard lock(mutex_);
            messages_.push_back(message);
        }
        cv_.notify_all();
    }

    // Bounded wait until at least `count` messages arrived.
    bool wait_for_count(std::size_t count)
    {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, kWait, [&] { return messages_.size() >= count; });
    }

    // Bounded wait until a message with this text arrived.
    bool wait_for_text(const std::string& text)
    {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, kWait, [&] { return has_text_locked(text); });
    }

    // True if no more than `count` messages arrive during the quiet window;
    // returns early (false) as soon as one more shows up.
    bool stays_at(std::size_t count)
    {
        std::unique_lock lock(mutex_);
        return !cv_.wait_for(lock, kQuiet, [&] { return messages_.size() > count; });
    }

    bool has_text(const std::string& text) const
    {
        std::lock_guard lock(mutex_);
        return has_text_locked(text);
    }

    std::vector<Message> snapshot() const
    {
        std::lock_guard lock(mutex_);
        return messages_;
    }

private:
    bool has_text_locked(const std::string& text) const
    {
        return std::any_of(messages_.begin(), messages_.end(),
                           [&](const Message& m) { return m.text == text; });
    }

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Message> messages_;
};

// One account driven through the library. The inbox is declared before the
// client so the client (and its dispatch thread) is gone before the inbox.
struct User {
    std::string name;
    std::shared_ptr<MemoryTokenStore> tokens = std::make_shared<MemoryTokenStore>();
    Inbox inbox;
    std::string session;  // also the MQTT password for raw connections
    std::unique_ptr<Client> client;

    // Routes the client's messages into the inbox.
    void listen()
    {
        client->on_message([this](const Message& m) { inbox.push(m); });
    }
};

// A bare Paho MQTT v5 connection that records every message it receives.
class RawClient {
public:
    RawClient(const std::string& broker, const std::string& client_id)
        : client_(broker, client_id, mqtt::create_options(MQTTVERSION_5))
    {
        client_.set_message_callback([this](mqtt::const_message_ptr message) {
            {
                std::lock_guard lock(mutex_);
                received_.push_back(std::move(message));
            }
            cv_.notify_all();
        });
    }

    ~RawClient()
    {
        try {
            if (client_.is_connected()) {
                client_.disconnect()->wait_for(2s);
            }
        } catch (const std::exception&) {
            // Teardown only; the test already has its verdict.
        }
        client_.disable_callbacks();
    }

    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // Connects as a guest (no user) or as `user` with `password`; returns 0
    // on success, else the CONNACK's or Paho's failure code.
    int connect(const std::string& user = "", const std::string& password = "")
    {
        auto builder = mqtt::connect_options_builder()
                           .mqtt_version(MQTTVERSION_5)
                           .clean_start(true)
                           .connect_timeout(kWait);
        if (!user.empty()) {
            builder.user_name(user).password(password);
        }
        return reason_of(client_.connect(builder.finalize()));
    }

    // Subscribes with QoS 1; returns the SUBACK reason code.
    int subscribe(const std::string& filter) { return reason_of(client_.subscribe(filter, 1)); }

    // Publishes QoS 1; returns the PUBACK reason code.
    int publish(const std::string& topic, const std::string& payload,
                mqtt::properties properties = {})
    {
        auto message = mqtt::make_message(topic, payload, 1, false);
        message->set_properties(std::move(properties));
        return reason_of(client_.publish(message));
    }

    // Hands a join token to the broker plugin, as enter_room does.
    int present(const std::string& join_token)
    {
        json payload = {{"op", "present"}, {"token", join_token}};
        return publish(std::string(mqchat::topic::plugin_control), payload.dump());
    }

    // Sends a control request to chat/v1/ctl/<op> with a response topic and
    // correlation data, and waits for the matching reply. nullopt when the
    // publish failed or no reply came in time; a non-JSON reply is
    // returned as a discarded value.
    std::optional<json> request(const std::string& op, const std::string& payload,
                                const std::string& reply_topic)
    {
        std::string correlation = "corr-" + std::to_string(++correlations_);
        mqtt::properties properties;
        properties.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, reply_topic));
        properties.add(mqtt::property(mqtt::property::CORRELATION_DATA, correlation));
        if (publish(mqchat::topic::control(op), payload, std::move(properties)) != 0) {
            return std::nullopt;
        }
        auto reply = wait_for([&](const mqtt::const_message_ptr& m) {
            const auto& props = m->get_properties();
            return m->get_topic() == reply_topic &&
                   props.contains(mqtt::property::CORRELATION_DATA) &&
                   mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA) ==
                       correlation;
        });
        if (!reply) {
            return std::nullopt;
        }
        return json::parse(reply->get_payload_str(), nullptr, false);
    }

    // Bounded wait for a received message with this payload substring.
    bool wait_for_payload(const std::string& needle)
    {
        return wait_for([&](const mqtt::const_message_ptr& m) {
                   return m->get_payload_str().find(needle) != std::string::npos;
               }) != nullptr;
    }

    // Whether a message with this payload substring was received so far.
    bool saw_payload(const std::string& needle) const
    {
        std::lock_guard lock(mutex_);
        return std::any_of(received_.begin(), received_.end(), [&](const auto& m) {
            return m->get_payload_str().find(needle) != std::string::npos;
        });
    }

private:
    mqtt::const_message_ptr wait_for(
        const std::function<bool(const mqtt::const_message_ptr&)>& match)
    {
        std::unique_lock lock(mutex_);
        mqtt::const_message_ptr found;
        cv_.wait_for(lock, kWait, [&] {
            for (const auto& m : received_) {
                if (match(m)) {
                    found = m;
                    return true;
                }
            }
            return false;
        });
        return found;
    }

    mqtt::async_client client_;
    int correlations_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<mqtt::const_message_ptr> received_;
};

// "ok", or the error code of a control reply, or what was wrong with it.
std::string reply_code(const std::optional<json>& reply)
{
    if (!reply) {
        return "no reply";
    }
    if (!reply->is_object()) {
        return "reply is not a JSON object";
    }
    if (reply->value("ok", false)) {
        return "ok";
    }
    const auto error = reply->find("error");
    if (error == reply->end() || !error->is_object() || !error->contains("code") ||
        !(*error)["code"].is_string()) {
        return "error without a code: " + reply->dump();
    }
    return (*error)["code"].get<std::string>();
}

class LibraryChat : public ::testing::Test {
protected:
    // One backend for the whole suite: starting it is the slow part.
    static void SetUpTestSuite()
    {
        try {
            backend_ = std::make_unique<mqchat::test::TestBackend>();
        } catch (const std::exception& e) {
            backend_error_ = e.what();
        }
    }

    static void TearDownTestSuite() { backend_.reset(); }

    void SetUp() override
    {
        ASSERT_NE(backend_, nullptr) << "backend did not start: " << backend_error_;
    }

    // On failure, the backend's own account of what happened.
    void TearDown() override
    {
        if (HasFailure() && backend_) {
            std::ifstream log(backend_->dir() + "/backend.log");
            std::vector<std::string> lines;
            for (std::string line; std::getline(log, line);) {
                lines.push_back(line);
            }
            std::size_t from = lines.size() > 60 ? lines.size() - 60 : 0;
            std::cerr << "---- backend log (last 60 lines) ----\n";
            for (std::size_t i = from; i < lines.size(); ++i) {
                std::cerr << lines[i] << '\n';
            }
        }
    }

    static std::string broker() { return backend_->broker_url(); }

    // Library options for `name` with its own token store and a stderr log
    // of warnings and errors, so a failing test shows what the library saw.
    static mqchat::client::Options options_for(const std::string& name,
                                               std::shared_ptr<MemoryTokenStore> tokens)
    {
        mqchat::client::Options options;
        options.broker = broker();
        options.user = name;
        options.tokens = std::move(tokens);
        options.logger = [name](mqchat::client::LogLevel level, std::string_view line) {
            if (level >= mqchat::client::LogLevel::warning) {
                std::cerr << "[lib " << name << "] " << line << '\n';
            }
        };
        return options;
    }

    // A freshly registered, logged-in user whose messages go to its inbox.
    static std::unique_ptr<User> make_user(const std::string& base)
    {
        auto user = std::make_unique<User>();
        user->name = unique(base);
        user->client = std::make_unique<Client>(options_for(user->name, user->tokens));
        user->client->register_account(user->name + "-password");
        user->session = user->client->login(user->name + "-password");
        user->listen();
        return user;
    }

    // Alice and bob, set up at the same time: Paho's shared network thread
    // makes each new connection in a busy process wait up to ~2 s, and
    // concurrent connects share that wait.
    static std::pair<std::unique_ptr<User>, std::unique_ptr<User>> make_alice_and_bob()
    {
        auto alice = std::async(std::launch::async, [] { return make_user("alice"); });
        auto bob = std::async(std::launch::async, [] { return make_user("bob"); });
        return {alice.get(), bob.get()};
    }

    // A raw connection of `user` under its own client id, admitted to `room`
    // with the user's stored join token and subscribed to its messages.
    static std::unique_ptr<RawClient> admitted_observer(const User& user, const RoomInfo& room,
                                                        const std::string& room_name)
    {
        auto raw = std::make_unique<RawClient>(broker(), unique(user.name + "-raw"));
        auto token = user.tokens->join_token(room_name);
        if (!token) {
            ADD_FAILURE() << user.name << " holds no join token for " << room_name;
            return nullptr;
        }
        EXPECT_EQ(raw->connect(user.name, user.session), 0);
        EXPECT_EQ(raw->present(token->token), 0);
        EXPECT_EQ(raw->subscribe(mqchat::topic::room_messages(room.id)), kGrantedQos1);
        return raw;
    }

    static inline std::unique_ptr<mqchat::test::TestBackend> backend_;
    static inline std::string backend_error_;
};

// ---------------------------------------------------------------------------
// 1. Two members chatting
// ---------------------------------------------------------------------------

TEST_F(LibraryChat, TwoMembersSeeEachOthersMessagesWithSender)
{
    // Two accounts, each logged in through the library.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;

    // Alice creates a protected room; bob joins it with the password.
    const std::string room_name = unique("Book club");
    RoomInfo created = alice.client->create_room(room_name, "club-secret");
    RoomInfo joined = bob.client->join_room(room_name, "club-secret");
    EXPECT_EQ(created.id, joined.id);
    EXPECT_EQ(created.name, room_name);
    EXPECT_EQ(created.owner, alice.name);
    EXPECT_TRUE(created.is_protected);
    EXPECT_EQ(joined.members, 2);

    // Both enter, so the room's messages reach their handlers.
    alice.client->enter_room(room_name);
    bob.client->enter_room(room_name);

    // Each sends one message; send returns after the broker's PUBACK.
    const std::int64_t before = now_ms();
    const std::string alice_id = alice.client->send(room_name, "hello from alice");
    const std::string bob_id = bob.client->send(room_name, "hi alice, bob here");
    const std::int64_t after = now_ms();

    // Both messages reach both members (bounded wait).
    ASSERT_TRUE(alice.inbox.wait_for_count(2)) << "alice got " << alice.inbox.snapshot().size();
    ASSERT_TRUE(bob.inbox.wait_for_count(2)) << "bob got " << bob.inbox.snapshot().size();

    // Exactly once: nothing further (no duplicate) turns up.
    EXPECT_TRUE(alice.inbox.stays_at(2));
    EXPECT_EQ(bob.inbox.snapshot().size(), 2u);  // bob had the same window

    for (User* user : {&alice, &bob}) {
        SCOPED_TRACE("inbox of " + user->name);
        auto got = user->inbox.snapshot();
        ASSERT_EQ(got.size(), 2u);

        // In send order, with the broker-stamped sender and the sender's ids.
        EXPECT_EQ(got[0].text, "hello from alice");
        EXPECT_EQ(got[0].sender, alice.name);
        EXPECT_EQ(got[0].id, alice_id);
        EXPECT_EQ(got[1].text, "hi alice, bob here");
        EXPECT_EQ(got[1].sender, bob.name);
        EXPECT_EQ(got[1].id, bob_id);

        // Own messages are marked mine, the other's are not.
        EXPECT_EQ(got[0].mine, user == &alice);
        EXPECT_EQ(got[1].mine, user == &bob);

        // The room's sequence starts at 1 and goes up by one per message.
        EXPECT_EQ(got[0].seq, 1);
        EXPECT_EQ(got[1].seq, got[0].seq + 1);

        for (const Message& m : got) {
            // Room identity as the library knows it.
            EXPECT_EQ(m.room, room_name);
            EXPECT_EQ(m.room_id, created.id);

            // A server timestamp from the time of sending (same host clock;
            // a second of slack either side).
            EXPECT_GE(m.ts, before - 1000);
            EXPECT_LE(m.ts, after + 1000);
        }
        EXPECT_LE(got[0].ts, got[1].ts);
    }
}

// ---------------------------------------------------------------------------
// 2. Wrong room password
// ---------------------------------------------------------------------------

TEST_F(LibraryChat, WrongRoomPasswordIsRefusedAndRoomStaysClosed)
{
    // Alice owns a protected room and listens in it.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;
    const std::string room_name = unique("Vault");
    RoomInfo room = alice.client->create_room(room_name, "right-password");
    alice.client->enter_room(room_name);

    // The wrong password is refused with its own code.
    EXPECT_EQ(error_code_of([&] { bob.client->join_room(room_name, "wrong-password"); }),
              "wrong_password");

    // Without a join token bob can neither enter nor send.
    EXPECT_FALSE(bob.tokens->join_token(room_name).has_value());
    EXPECT_EQ(error_code_of([&] { bob.client->enter_room(room_name); }), "not_joined");
    EXPECT_EQ(error_code_of([&] { bob.client->send(room_name, "let me in"); }), "not_joined");

    // A forged join token gets past the library but not the broker.
    bob.tokens->set_join_token(room_name, {room.id, "not-a-real-join-token"});
    EXPECT_EQ(error_code_of([&] { bob.client->enter_room(room_name); }), "not_admitted");
    EXPECT_EQ(error_code_of([&] { bob.client->send(room_name, "forged entry"); }),
              "not_admitted");

    // Alice's room heard none of it; her own message proves she is listening.
    alice.client->send(room_name, "still private");
    ASSERT_TRUE(alice.inbox.wait_for_text("still private"));
    EXPECT_TRUE(alice.inbox.stays_at(1));
    EXPECT_FALSE(alice.inbox.has_text("forged entry"));
    EXPECT_TRUE(bob.inbox.snapshot().empty());
}

// ---------------------------------------------------------------------------
// 3. Unauthenticated MQTT
// ---------------------------------------------------------------------------

TEST_F(LibraryChat, GuestCannotPublishIntoARoomAndBadPasswordsCannotConnect)
{
    // Two members in a room, both listening through the library.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;
    const std::string room_name = unique("Lobby");
    RoomInfo room = alice.client->create_room(room_name, "lobby-pw");
    bob.client->join_room(room_name, "lobby-pw");
    alice.client->enter_room(room_name);
    bob.client->enter_room(room_name);

    // Four raw connections, opened at once so Paho's connect wait is paid
    // once: an admitted member (it sees every routed payload, stamped or
    // not, so "not delivered" does not rest on the library skipping
    // unstamped ones), a guest, and two with bad credentials.
    RawClient guest(broker(), unique("guest-raw"));
    RawClient impostor(broker(), unique("impostor-raw"));
    RawClient borrower(broker(), unique("borrower-raw"));
    auto observing = std::async(std::launch::async,
                                [&] { return admitted_observer(alice, room, room_name); });
    auto guest_connect = std::async(std::launch::async, [&] { return guest.connect(); });
    auto garbage = std::async(std::launch::async,
                              [&] { return impostor.connect(alice.name, "garbage-not-a-token"); });
    auto borrowed = std::async(std::launch::async,
                               [&] { return borrower.connect(alice.name, bob.session); });
    auto observer = observing.get();
    ASSERT_NE(observer, nullptr);

    // A guest (no username) may connect: register and login need that.
    ASSERT_EQ(guest_connect.get(), 0);

    // Its QoS 1 publish into the room is refused in the PUBACK.
    const std::string forged = R"({"id":"guestguestguestguest0001","text":"from a guest"})";
    EXPECT_EQ(guest.publish(mqchat::topic::room_messages(room.id), forged), kNotAuthorized);

    // Nobody receives it within a short window (bob's inbox had the same
    // window while alice's was watched)...
    EXPECT_TRUE(alice.inbox.stays_at(0));
    EXPECT_TRUE(bob.inbox.snapshot().empty());
    EXPECT_FALSE(observer->saw_payload("from a guest"));

    // ...while a real message right after it arrives everywhere, so the
    // silence above is not a dead pipe.
    alice.client->send(room_name, "real message after the guest");
    ASSERT_TRUE(alice.inbox.wait_for_text("real message after the guest"));
    ASSERT_TRUE(bob.inbox.wait_for_text("real message after the guest"));
    ASSERT_TRUE(observer->wait_for_payload("real message after the guest"));
    EXPECT_FALSE(alice.inbox.has_text("from a guest"));
    EXPECT_FALSE(bob.inbox.has_text("from a guest"));
    EXPECT_FALSE(observer->saw_payload("from a guest"));
    EXPECT_EQ(alice.inbox.snapshot().size(), 1u);
    EXPECT_EQ(bob.inbox.snapshot().size(), 1u);

    // A garbage password, and alice's name with bob's valid session token,
    // were refused at CONNECT.
    const int garbage_reason = garbage.get();
    const int borrowed_reason = borrowed.get();
    EXPECT_TRUE(garbage_reason == kBadCredentials || garbage_reason == kNotAuthorized)
        << "CONNECT with a garbage password gave reason " << garbage_reason;
    EXPECT_TRUE(borrowed_reason == kBadCredentials || borrowed_reason == kNotAuthorized)
        << "CONNECT with bob's token as alice gave reason " << borrowed_reason;
}

// ---------------------------------------------------------------------------
// Regression tests for two library bugs this suite found.
// ---------------------------------------------------------------------------

// Client::connect documents not_authenticated when the broker refuses the
// stored session token, so an application knows to log in again instead of
// retrying the network. Paho 1.2 leaves mqtt::exception::get_reason_code()
// at 0 for a refusing CONNACK (the 0x87 is in get_return_code()); reading
// only the former reported connect_failed.
TEST_F(LibraryChat, RefusedSessionTokenIsReportedAsNotAuthenticated)
{
    // A client whose token store holds a token the broker cannot verify.
    auto tokens = std::make_shared<MemoryTokenStore>();
    tokens->set_session("garbage-not-a-token");
    Client stranger(options_for(unique("carol"), tokens));

    // Connecting fails with the code that means "log in again".
    EXPECT_EQ(error_code_of([&] { stranger.connect(); }), "not_authenticated");
    EXPECT_FALSE(stranger.is_connected());
}

// After a join token was refused on a connection, joining again stores a
// fresh token, and send() (which presents a token only for rooms it has not
// presented on this connection) must present the fresh one. The room used
// to stay marked as presented after the plugin ignored the old token, so
// send() failed with not_admitted until enter_room() or a reconnect.
TEST_F(LibraryChat, SendPresentsTheFreshJoinTokenAfterARefusedOne)
{
    // Alice listens in her room; bob holds a token the broker refuses.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;
    const std::string room_name = unique("Second chance");
    RoomInfo room = alice.client->create_room(room_name, "second-pw");
    alice.client->enter_room(room_name);
    bob.tokens->set_join_token(room_name, {room.id, "not-a-real-join-token"});
    EXPECT_EQ(error_code_of([&] { bob.client->send(room_name, "too early"); }),
              "not_admitted");

    // Bob joins properly and sends without entering (send presents itself).
    bob.client->join_room(room_name, "second-pw");
    EXPECT_EQ(error_code_of([&] { bob.client->send(room_name, "now I am in"); }), "no error");
    EXPECT_TRUE(alice.inbox.wait_for_text("now I am in"));
}

// ---------------------------------------------------------------------------
// 4. Bad control input
// ---------------------------------------------------------------------------

TEST_F(LibraryChat, MalformedControlRequestsGetDocumentedErrorsAndServiceStaysUp)
{
    // A room that exists before the bad input, to check state afterwards.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;
    const std::string steady = unique("Steady room");
    alice.client->create_room(steady, "steady-pw");

    // Alice's raw connection, replying into her own inbox.
    RawClient raw(broker(), unique(alice.name + "-raw"));
    ASSERT_EQ(raw.connect(alice.name, alice.session), 0);
    const std::string inbox = mqchat::topic::user_inbox(alice.name, "raw-test");
    ASSERT_EQ(raw.subscribe(inbox), kGrantedQos1);

    // The connection works for a well-formed request first.
    EXPECT_EQ(reply_code(raw.request("whoami", "{}", inbox)), "ok");

    // Each bad request and the code docs/protocol.md promises for it.
    struct Case {
        std::string what;
        std::string op;
        std::string payload;
        std::string code;
    };
    const std::string big(mqchat::limits::max_control_payload + 1, 'x');
    const std::vector<Case> cases = {
        {"truncated JSON", "create", R"({"room": "x", "password": )", "bad_json"},
        {"not JSON at all", "create", "hello there", "bad_json"},
        {"a JSON array", "create", R"(["room", "password"])", "bad_json"},
        {"room is a number", "create", R"({"room": 42, "password": "pw"})", "bad_request"},
        {"password is an object", "join", R"({"room": "x", "password": {}})", "bad_request"},
        {"password missing", "create", R"({"room": "no password"})", "bad_request"},
        {"unknown op", "bogus", "{}", "unknown_op"},
        {"slash in room name", "create", R"({"room": "a/b", "password": "pw"})",
         "invalid_name"},
        {"plus in room name", "create", R"({"room": "a+b", "password": "pw"})",
         "invalid_name"},
        {"hash in room name", "create", R"({"room": "a#b", "password": "pw"})",
         "invalid_name"},
        {"invalid UTF-8 in room name", "create",
         std::string("{\"room\": \"bad \xff\xfe name\", \"password\": \"pw\"}"), "invalid_utf8"},
        {"payload over 16 KiB", "create",
         R"({"room": "big", "password": ")" + big + R"("})", "payload_too_large"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        auto reply = raw.request(c.op, c.payload, inbox);
        EXPECT_EQ(reply_code(reply), c.code);
        // Every refusal has the documented shape {"ok":false,"error":{...}}.
        if (reply && reply->is_object()) {
            EXPECT_EQ(reply->value("ok", true), false);
        }
    }

    // The service is still up: a new room can be created through the library.
    const std::string fresh = unique("After the storm");
    RoomInfo created = alice.client->create_room(fresh, "fresh-pw");
    EXPECT_EQ(created.name, fresh);

    // And its state is intact: the room from before can still be joined.
    RoomInfo joined = bob.client->join_room(steady, "steady-pw");
    EXPECT_EQ(joined.name, steady);
    EXPECT_EQ(joined.owner, alice.name);
    EXPECT_EQ(joined.members, 2);

    // None of the refused names became a room.
    for (const RoomInfo& r : alice.client->list_rooms()) {
        EXPECT_NE(r.name, "a/b");
        EXPECT_NE(r.name, "a+b");
        EXPECT_NE(r.name, "a#b");
        EXPECT_NE(r.name, "big");
        EXPECT_NE(r.name, "no password");
    }
}

// ---------------------------------------------------------------------------
// 5. Leaving a room
// ---------------------------------------------------------------------------

TEST_F(LibraryChat, AfterLeavingMemberGetsNoMoreMessagesWhileOthersStillDo)
{
    // Alice and bob in one room, both listening.
    auto users = make_alice_and_bob();
    User& alice = *users.first;
    User& bob = *users.second;
    const std::string room_name = unique("Passing through");
    RoomInfo room = alice.client->create_room(room_name, "pass-pw");
    bob.client->join_room(room_name, "pass-pw");
    alice.client->enter_room(room_name);
    bob.client->enter_room(room_name);

    // A second, raw connection of bob's, admitted with the same join token:
    // it shows what the broker delivers, not just what the library passes on.
    // A third one, for replaying that token after the leave, connects at the
    // same time (one Paho connect wait for both).
    RawClient replay(broker(), unique(bob.name + "-replay"));
    auto replay_connect =
        std::async(std::launch::async, [&] { return replay.connect(bob.name, bob.session); });
    auto bob_raw = admitted_observer(bob, room, room_name);
    ASSERT_NE(bob_raw, nullptr);
    ASSERT_EQ(replay_connect.get(), 0);
    const std::string old_token = bob.tokens->join_token(room_name)->token;

    // Before leaving, bob gets alice's message on both connections.
    alice.client->send(room_name, "before bob leaves");
    ASSERT_TRUE(bob.inbox.wait_for_text("before bob leaves"));
    ASSERT_TRUE(bob_raw->wait_for_payload("before bob leaves"));
    ASSERT_TRUE(alice.inbox.wait_for_text("before bob leaves"));

    // Bob leaves; the library forgets his join token.
    bob.client->leave_room(room_name);
    EXPECT_FALSE(bob.tokens->join_token(room_name).has_value());

    // Alice keeps chatting and still receives her room's messages.
    alice.client->send(room_name, "after bob left");
    ASSERT_TRUE(alice.inbox.wait_for_text("after bob left"));

    // Bob's handler stays silent, and the broker stopped delivering to his
    // other connection too (the revocation covers every client id).
    EXPECT_TRUE(bob.inbox.stays_at(1));
    EXPECT_FALSE(bob.inbox.has_text("after bob left"));
    EXPECT_FALSE(bob_raw->saw_payload("after bob left"));

    // Bob can no longer enter or write through the library...
    EXPECT_EQ(error_code_of([&] { bob.client->enter_room(room_name); }), "not_joined");
    EXPECT_EQ(error_code_of([&] { bob.client->send(room_name, "am I still here?"); }),
              "not_joined");

    // ...and his old join token is refused by the broker from now on.
    EXPECT_EQ(replay.present(old_token), 0);  // the plugin acks, then ignores it
    EXPECT_EQ(replay.subscribe(mqchat::topic::room_messages(room.id)), kNotAuthorized);
    EXPECT_EQ(replay.publish(mqchat::topic::room_messages(room.id),
                             R"({"id":"replayreplayreplay0001","text":"replayed token"})"),
              kNotAuthorized);

    // Alice's room goes on: one more message arrives, none of bob's did.
    alice.client->send(room_name, "last word");
    ASSERT_TRUE(alice.inbox.wait_for_text("last word"));
    EXPECT_FALSE(alice.inbox.has_text("replayed token"));
    EXPECT_FALSE(alice.inbox.has_text("am I still here?"));
    EXPECT_EQ(alice.inbox.snapshot().size(), 3u);
    EXPECT_EQ(bob.inbox.snapshot().size(), 1u);
}

}  // namespace
