// The Client without a broker: argument checks, the send queue's outcomes
// and the reconnect loop against a port nobody listens on.
#include "mqchat/client/client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace mqchat::client {
namespace {

using namespace std::chrono_literals;

// A loopback port that was free a moment ago, so connecting is refused.
int closed_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

ErrorCode code_of(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::ok;
}

// Options for a user who logged in and joined "lobby" earlier, with a
// broker that is not there.
Options offline_options(std::vector<std::string>* log = nullptr, std::mutex* log_mutex = nullptr)
{
    Options options;
    options.broker = "mqtt://127.0.0.1:" + std::to_string(closed_port());
    options.user = "alice";
    options.request_timeout = 2s;
    options.reconnect_delay_min = 50ms;
    options.reconnect_delay_max = 200ms;
    options.tokens = std::make_shared<MemoryTokenStore>();
    options.tokens->set_session("a.session.token");
    options.tokens->set_join_token("lobby", {"3f9a0c61d2b4", "a.join.token"});
    if (log != nullptr) {
        options.logger = [log, log_mutex](LogLevel, std::string_view line) {
            std::lock_guard lock(*log_mutex);
            log->emplace_back(line);
        };
    }
    return options;
}

// Collects send outcomes from the dispatch thread.
struct Results {
    std::mutex mutex;
    std::vector<SendResult> all;

    std::function<void(const SendResult&)> handler()
    {
        return [this](const SendResult& r) {
            std::lock_guard lock(mutex);
            all.push_back(r);
        };
    }

    std::size_t size()
    {
        std::lock_guard lock(mutex);
        return all.size();
    }
};

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

TEST(Client, NeedsAUserName)
{
    EXPECT_EQ(code_of([] { Client client(Options{}); }), ErrorCode::usage);
}

TEST(Client, ConnectWithoutASessionIsNotAuthenticated)
{
    Options options = offline_options();
    options.tokens = std::make_shared<MemoryTokenStore>();
    Client client(options);
    EXPECT_EQ(code_of([&] { client.connect(); }), ErrorCode::not_authenticated);
}

TEST(Client, SendAsyncChecksTextAndRoomBeforeQueueing)
{
    Client client(offline_options());
    EXPECT_EQ(code_of([&] { (void)client.send_async("lobby", "\xff\xfe"); }),
              ErrorCode::bad_request);
    EXPECT_EQ(code_of([&] { (void)client.send_async("lobby", std::string(9000, 'x')); }),
              ErrorCode::bad_request);
    EXPECT_EQ(code_of([&] { (void)client.send_async("nowhere", "hi"); }),
              ErrorCode::not_joined);
}

TEST(Client, UnreachableBrokerFailsFastAndKeepsTrying)
{
    std::vector<std::string> log;
    std::mutex log_mutex;
    Client client(offline_options(&log, &log_mutex));

    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(code_of([&] { client.connect(); }), ErrorCode::connect_failed);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_FALSE(client.is_connected());

    // More attempts follow by themselves.
    auto attempts = [&] {
        std::lock_guard lock(log_mutex);
        return std::count_if(log.begin(), log.end(), [](const std::string& line) {
            return line.find("connect attempt failed") != std::string::npos;
        });
    };
    EXPECT_TRUE(eventually([&] { return attempts() >= 3; }, 5s));

    // Entering offline is remembered rather than refused.
    EXPECT_EQ(code_of([&] { client.enter_room("lobby"); }), ErrorCode::ok);
}

TEST(Client, ReconnectAttemptsStopAtTheLimit)
{
    std::vector<std::string> log;
    std::mutex log_mutex;
    Options options = offline_options(&log, &log_mutex);
    options.reconnect_attempts = 2;
    Client client(options);
    EXPECT_EQ(code_of([&] { client.connect(); }), ErrorCode::connect_failed);

    auto gave_up = [&] {
        std::lock_guard lock(log_mutex);
        return std::any_of(log.begin(), log.end(), [](const std::string& line) {
            return line.find("failures=2") != std::string::npos &&
                   line.find("giving up") != std::string::npos;
        });
    };
    ASSERT_TRUE(eventually(gave_up, 5s));
    std::this_thread::sleep_for(500ms);
    std::lock_guard lock(log_mutex);
    EXPECT_EQ(std::count_if(log.begin(), log.end(),
                            [](const std::string& line) {
                                return line.find("failures=3") != std::string::npos;
                            }),
              0);
}

TEST(Client, QueuedSendThatNeverGoesOutTimesOutOnce)
{
    Options options = offline_options();
    options.send_timeout = 300ms;
    Client client(options);
    Results results;
    client.on_send_result(results.handler());
    EXPECT_EQ(code_of([&] { client.connect(); }), ErrorCode::connect_failed);

    std::string id = client.send_async("lobby", "anyone?");
    ASSERT_TRUE(eventually([&] { return results.size() == 1; }, 3s));
    std::this_thread::sleep_for(500ms);

    std::lock_guard lock(results.mutex);
    ASSERT_EQ(results.all.size(), 1u);
    EXPECT_EQ(results.all[0].id, id);
    EXPECT_EQ(results.all[0].room, "lobby");
    EXPECT_EQ(results.all[0].code, ErrorCode::timeout);
    EXPECT_FALSE(results.all[0].delivered());
}

TEST(Client, FullQueueRefusesTheNextSend)
{
    Options options = offline_options();
    options.max_queued_sends = 2;
    Client client(options);
    (void)client.send_async("lobby", "one");
    (void)client.send_async("lobby", "two");
    EXPECT_EQ(code_of([&] { (void)client.send_async("lobby", "three"); }),
              ErrorCode::rate_limited);
}

TEST(Client, DestroyingTheClientReportsEverySendStillQueued)
{
    Results results;
    std::vector<std::string> ids;
    {
        Client client(offline_options());
        client.on_send_result(results.handler());
        ids.push_back(client.send_async("lobby", "one"));
        ids.push_back(client.send_async("lobby", "two"));
    }
    std::lock_guard lock(results.mutex);
    ASSERT_EQ(results.all.size(), 2u);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        EXPECT_EQ(results.all[i].id, ids[i]);
        EXPECT_EQ(results.all[i].code, ErrorCode::connect_failed);
    }
}

}  // namespace
}  // namespace mqchat::client
