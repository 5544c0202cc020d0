// History, catch-up and reconnects of the client library against a real
// backend (Mosquitto with the plugin, the room manager, SQLite): entering
// mid-conversation, paging back, missing messages while offline, starting
// while the broker is down, and broker restarts. Label "broker".

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "mqchat/client/client.hpp"
#include "tcp_proxy.hpp"
#include "test_backend.hpp"

namespace mqchat::client {
namespace {

using namespace std::chrono_literals;
using mqchat::test::TcpProxy;
using mqchat::test::TestBackend;

// Polls `done` until it holds or `timeout` passes.
template <class Done>
bool eventually(Done done, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

// What on_message and on_send_result hand out, for the test to look at.
class Inbox {
public:
    std::function<void(const Message&)> messages()
    {
        return [this](const Message& m) {
            std::lock_guard lock(mutex_);
            messages_.push_back(m);
        };
    }

    std::function<void(const SendResult&)> results()
    {
        return [this](const SendResult& r) {
            std::lock_guard lock(mutex_);
            results_.push_back(r);
        };
    }

    std::vector<Message> snapshot(const std::string& room = {}) const
    {
        std::lock_guard lock(mutex_);
        std::vector<Message> out;
        for (const auto& m : messages_) {
            if (room.empty() || m.room == room) {
                out.push_back(m);
            }
        }
        return out;
    }

    std::size_t count_text(const std::string& text) const
    {
        std::lock_guard lock(mutex_);
        return std::count_if(messages_.begin(), messages_.end(),
                             [&](const Message& m) { return m.text == text; });
    }

    bool wait_for_text(const std::string& text, std::chrono::milliseconds timeout) const
    {
        return eventually([&] { return count_text(text) > 0; }, timeout);
    }

    std::optional<SendResult> result(const std::string& id) const
    {
        std::lock_guard lock(mutex_);
        for (const auto& r : results_) {
            if (r.id == id) {
                return r;
            }
        }
        return std::nullopt;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
    std::vector<SendResult> results_;
};

// Options for tests: quick reconnects, warnings on stderr (everything, with
// the time, when MQCHAT_TEST_DEBUG is set).
Options test_options(const std::string& broker, const std::string& user)
{
    static const bool debug = std::getenv("MQCHAT_TEST_DEBUG") != nullptr;
    Options options;
    options.broker = broker;
    options.user = user;
    options.request_timeout = 5s;
    options.reconnect_delay_min = 100ms;
    options.reconnect_delay_max = 1s;
    options.logger = [user](LogLevel level, std::string_view line) {
        if (debug) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now().time_since_epoch());
            std::cerr << ms.count() % 100000 << " [" << user << "] " << line << "\n";
        } else if (level >= LogLevel::warning) {
            std::cerr << "[" << user << "] " << line << "\n";
        }
    };
    return options;
}

// A registered, logged-in user.
std::unique_ptr<Client> account(const std::string& broker, const std::string& user,
                                std::shared_ptr<TokenStore> tokens = nullptr,
                                std::function<void(Options&)> tweak = nullptr)
{
    Options options = test_options(broker, user);
    options.tokens = std::move(tokens);
    if (tweak) {
        tweak(options);
    }
    auto client = std::make_unique<Client>(options);
    client->register_account(user + "-pw");
    client->login(user + "-pw");
    return client;
}

// Seqs go up by one and no message id shows twice.
void expect_consecutive_once(const std::vector<Message>& messages)
{
    std::set<std::string> ids;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        EXPECT_TRUE(ids.insert(messages[i].id).second) << "twice: " << messages[i].text;
        if (i > 0) {
            EXPECT_EQ(messages[i].seq, messages[i - 1].seq + 1)
                << "after " << messages[i - 1].text << " came " << messages[i].text;
        }
    }
}

// Waits until the archive holds `seq` messages of the room.
void wait_archived(Client& client, const std::string& room, std::int64_t seq)
{
    ASSERT_TRUE(eventually([&] { return client.history(room, std::nullopt, 1).last_seq >= seq; },
                           20s))
        << "the archive never reached seq " << seq;
}

// --- entering a room ------------------------------------------------------

TEST(Sync, JoinMidConversationShowsHistoryThenLiveOnceInOrder)
{
    TestBackend backend;
    auto alice = account(backend.broker_url(), "alice");
    alice->create_room("Pub", "pw");
    for (int i = 1; i <= 80; ++i) {
        alice->send("Pub", "m" + std::to_string(i));
    }
    auto bob = account(backend.broker_url(), "bob");
    bob->join_room("Pub", "pw");
    Inbox inbox;
    bob->on_message(inbox.messages());

    // Alice goes on talking while Bob enters, so live messages arrive while
    // his history is still loading.
    std::thread talker([&] {
        for (int i = 81; i <= 120; ++i) {
            alice->send("Pub", "m" + std::to_string(i));
            std::this_thread::sleep_for(3ms);
        }
    });
    bob->enter_room("Pub");
    talker.join();
    ASSERT_TRUE(inbox.wait_for_text("m120", 15s));
    std::this_thread::sleep_for(300ms);  // room for a duplicate to show up

    // The last 50 (at least) before entering, then everything live.
    auto got = inbox.snapshot();
    expect_consecutive_once(got);
    for (const auto& m : got) {
        EXPECT_EQ(m.text, "m" + std::to_string(m.seq));
        EXPECT_EQ(m.sender, "alice");
    }
    EXPECT_GE(got.front().seq, 31);
    EXPECT_LE(got.front().seq, 71);
    EXPECT_EQ(got.back().seq, 120);
}

TEST(Sync, PagingBackThroughAThousandMessagesReturnsEachOnce)
{
    TestBackend backend;
    auto alice = account(backend.broker_url(), "alice");
    alice->create_room("Long", "pw");
    for (int i = 1; i <= 1000; ++i) {
        alice->send("Long", "p" + std::to_string(i));
    }
    wait_archived(*alice, "Long", 1000);

    // Bob scrolls back from the newest message, a page at a time.
    auto bob = account(backend.broker_url(), "bob");
    bob->join_room("Long", "pw");
    std::vector<Message> all;
    std::optional<std::int64_t> before;
    int pages = 0;
    for (;;) {
        HistoryPage page = bob->history("Long", before, 100);
        ASSERT_LE(page.messages.size(), 100u);
        EXPECT_EQ(page.last_seq, 1000);
        all.insert(all.begin(), page.messages.begin(), page.messages.end());
        ++pages;
        if (!page.more) {
            break;
        }
        ASSERT_LT(page.oldest_seq, before.value_or(1001));
        before = page.oldest_seq;
    }

    EXPECT_EQ(pages, 10);
    ASSERT_EQ(all.size(), 1000u);
    expect_consecutive_once(all);
    EXPECT_EQ(all.front().seq, 1);
    for (const auto& m : all) {
        EXPECT_EQ(m.text, "p" + std::to_string(m.seq));
    }
}

// --- being away -----------------------------------------------------------

TEST(Sync, MemberOfflineBeyondTheBrokerQueueGetsEveryMessageOnce)
{
    // The broker keeps at most 100 messages per client; 150 are sent.
    ::setenv("MQCHAT_MAX_QUEUED", "100", 1);
    TestBackend backend;
    ::unsetenv("MQCHAT_MAX_QUEUED");
    std::ifstream conf(backend.dir() + "/data/mosquitto/mosquitto.conf");
    std::stringstream conf_text;
    conf_text << conf.rdbuf();
    ASSERT_NE(conf_text.str().find("max_queued_messages 100"), std::string::npos);

    // Bob's network goes through a proxy the test can cut.
    TcpProxy proxy(backend.mqtt_port());
    auto alice = account(backend.broker_url(), "alice");
    alice->create_room("Busy", "pw");
    auto bob = account(proxy.url(), "bob");
    bob->join_room("Busy", "pw");
    Inbox inbox;
    bob->on_message(inbox.messages());
    bob->enter_room("Busy");
    alice->send("Busy", "before");
    ASSERT_TRUE(inbox.wait_for_text("before", 10s));

    // Bob drops off; 150 messages go by.
    proxy.cut();
    ASSERT_TRUE(eventually([&] { return !bob->is_connected(); }, 10s));
    for (int i = 1; i <= 150; ++i) {
        alice->send("Busy", "away" + std::to_string(i));
    }
    wait_archived(*alice, "Busy", 151);

    // Back again: all 150 once, in order, then live as before.
    proxy.restore();
    ASSERT_TRUE(inbox.wait_for_text("away150", 20s));
    alice->send("Busy", "after");
    ASSERT_TRUE(inbox.wait_for_text("after", 10s));
    std::this_thread::sleep_for(300ms);

    auto got = inbox.snapshot();
    ASSERT_EQ(got.size(), 152u);
    expect_consecutive_once(got);
    EXPECT_EQ(got.front().text, "before");
    for (int i = 1; i <= 150; ++i) {
        EXPECT_EQ(got[static_cast<std::size_t>(i)].text, "away" + std::to_string(i));
    }
    EXPECT_EQ(got.back().text, "after");
}

TEST(Sync, ClientStartedWhileTheBrokerIsDownConnectsWhenItComesUp)
{
    TestBackend backend;
    auto tokens = std::make_shared<MemoryTokenStore>();
    {
        auto first = account(backend.broker_url(), "alice", tokens);
        first->create_room("Late", "pw");
        first->send("Late", "before the outage");
    }
    backend.stop();

    // The very first connect fails; the client keeps trying by itself.
    Options options = test_options(backend.broker_url(), "alice");
    options.tokens = tokens;
    Client alice(options);
    Inbox inbox;
    alice.on_message(inbox.messages());
    alice.on_send_result(inbox.results());
    try {
        alice.connect();
        FAIL() << "connected to a stopped broker";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::connect_failed);
    }
    EXPECT_FALSE(alice.is_connected());

    // Entering and sending while down: remembered and queued.
    alice.enter_room("Late");
    std::string queued = alice.send_async("Late", "sent while the broker was down");
    std::this_thread::sleep_for(1500ms);
    EXPECT_FALSE(inbox.result(queued));
    backend.start();

    // Up by itself: the queued send went out, history and live come in.
    ASSERT_TRUE(eventually([&] { return alice.is_connected(); }, 20s));
    ASSERT_TRUE(eventually([&] { return inbox.result(queued).has_value(); }, 10s));
    EXPECT_TRUE(inbox.result(queued)->delivered()) << inbox.result(queued)->message;
    ASSERT_TRUE(inbox.wait_for_text("sent while the broker was down", 10s));
    alice.send("Late", "round trip");
    ASSERT_TRUE(inbox.wait_for_text("round trip", 5s));

    std::this_thread::sleep_for(300ms);
    auto got = inbox.snapshot();
    ASSERT_EQ(got.size(), 3u);
    expect_consecutive_once(got);
    EXPECT_EQ(got[0].text, "before the outage");
    EXPECT_EQ(got[1].text, "sent while the broker was down");
    EXPECT_EQ(got[1].id, queued);
}

TEST(Sync, QueuedSendsThatCannotGoOutAreReportedAsFailed)
{
    TestBackend backend;
    auto alice = account(backend.broker_url(), "alice");
    alice->create_room("Strict", "pw");
    auto bob = account(backend.broker_url(), "bob", nullptr, [](Options& options) {
        options.send_timeout = 1s;
        options.max_queued_sends = 2;
    });
    bob->join_room("Strict", "pw");
    Inbox inbox;
    bob->on_send_result(inbox.results());

    // Refused: bob was kicked, so the broker turns the message away.
    alice->kick("Strict", "bob");
    std::string refused = bob->send_async("Strict", "let me in");
    ASSERT_TRUE(eventually([&] { return inbox.result(refused).has_value(); }, 10s));
    EXPECT_EQ(inbox.result(refused)->code, ErrorCode::not_admitted);

    // Offline: two wait, a third does not fit, and both time out.
    backend.stop();
    ASSERT_TRUE(eventually([&] { return !bob->is_connected(); }, 10s));
    std::string first = bob->send_async("Strict", "one");
    std::string second = bob->send_async("Strict", "two");
    try {
        (void)bob->send_async("Strict", "three");
        FAIL() << "a third send fitted a queue of two";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::rate_limited);
    }
    ASSERT_TRUE(eventually([&] { return inbox.result(second).has_value(); }, 5s));
    EXPECT_EQ(inbox.result(first)->code, ErrorCode::timeout);
    EXPECT_EQ(inbox.result(second)->code, ErrorCode::timeout);
    EXPECT_FALSE(inbox.result(second)->delivered());
}

// --- presence over a dead network -----------------------------------------

// Bob's network goes quiet without closing his socket (no FIN, no RST): only
// the broker's keep-alive check can notice. The library's keep-alive is
// 30 s, so the broker drops him once 45 s pass without a packet from him,
// noticed on its next round of keep-alive checks (seen: up to 50 s), and
// the room manager shows him offline after its grace period (2 s) on top.
TEST(Sync, DroppedNetworkShowsOfflineWithinTheKeepAliveWindow)
{
    TestBackend backend;
    TcpProxy proxy(backend.mqtt_port());
    auto alice = account(backend.broker_url(), "alice");
    alice->create_room("Porch", "pw");
    auto bob = account(proxy.url(), "bob");
    bob->join_room("Porch", "pw");
    bob->enter_room("Porch");

    std::mutex mutex;
    std::optional<bool> bob_online;
    alice->on_presence([&](const PresenceEvent& e) {
        if (e.user == "bob") {
            std::lock_guard lock(mutex);
            bob_online = e.online;
        }
    });
    auto seen = [&](bool online) {
        std::lock_guard lock(mutex);
        return bob_online == online;
    };
    alice->enter_room("Porch");
    ASSERT_TRUE(eventually([&] { return seen(true); }, 10s)) << "bob never showed online";

    auto dropped = std::chrono::steady_clock::now();
    proxy.stall();
    ASSERT_TRUE(eventually([&] { return seen(false); }, 75s))
        << "bob still online 75 s after his network went quiet";
    auto after = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now() - dropped);
    std::cout << "offline seen " << after.count() << " s after the network went quiet\n";
    EXPECT_LE(after, 60s);
    // Not at once: a quiet network is not a closed socket (the broker last
    // heard from bob at most one keep-alive interval before the stall).
    EXPECT_GE(after, 5s);
}


TEST(Sync, TwentyBrokerRestartsWithFiftyRoomsEntered)
{
    TestBackend backend;
    auto alice = account(backend.broker_url(), "alice");
    Inbox inbox;
    alice->on_message(inbox.messages());
    constexpr int rooms = 50;
    for (int r = 0; r < rooms; ++r) {
        alice->create_room("room" + std::to_string(r), "pw");
        alice->enter_room("room" + std::to_string(r));
    }

    for (int i = 0; i < 20; ++i) {
        SCOPED_TRACE("restart " + std::to_string(i));
        backend.stop();
        ASSERT_TRUE(eventually([&] { return !alice->is_connected(); }, 10s));
        backend.start();

        // Back without help; a round trip works a few seconds later.
        ASSERT_TRUE(eventually([&] { return alice->is_connected(); }, 20s));
        auto reconnected = std::chrono::steady_clock::now();
        std::string room = "room" + std::to_string(i % rooms);
        std::string text = "after restart " + std::to_string(i);
        alice->send(room, text);
        ASSERT_TRUE(inbox.wait_for_text(text, 5s));
        auto took = std::chrono::steady_clock::now() - reconnected;
        EXPECT_LT(took, 5s);
    }

    // Each message once, in order within its room.
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(inbox.snapshot().size(), 20u);
    for (int r = 0; r < rooms; ++r) {
        expect_consecutive_once(inbox.snapshot("room" + std::to_string(r)));
    }
}

}  // namespace
}  // namespace mqchat::client
