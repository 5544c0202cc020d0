#include "mqchat/client/detail/typing.hpp"

#include <gtest/gtest.h>

namespace mqchat::client::detail {
namespace {

using namespace std::chrono_literals;
using Clock = TypingThrottle::Clock;

// --- TypingThrottle: what this client publishes ----------------------------

class TypingThrottleTest : public ::testing::Test {
protected:
    // Keystrokes every `every` from `from` to `until` (exclusive); returns
    // the indicators published, with their times since the start.
    std::vector<std::pair<std::chrono::milliseconds, bool>> type(std::chrono::milliseconds from,
                                                                 std::chrono::milliseconds until,
                                                                 std::chrono::milliseconds every)
    {
        std::vector<std::pair<std::chrono::milliseconds, bool>> sent;
        for (auto t = from; t < until; t += every) {
            if (auto out = throttle.tick(start + t)) {
                sent.emplace_back(t, *out);
            }
            if (auto out = throttle.set(true, start + t)) {
                sent.emplace_back(t, *out);
            }
        }
        return sent;
    }

    TypingThrottle throttle;
    Clock::time_point start = Clock::time_point() + 1h;
};

TEST_F(TypingThrottleTest, FirstKeystrokeAnnouncesAtOnce)
{
    EXPECT_EQ(throttle.set(true, start), true);
    EXPECT_TRUE(throttle.announced());
}

TEST_F(TypingThrottleTest, KeepsTypingRefreshesEveryThreeSecondsOnly)
{
    auto sent = type(0ms, 10000ms, 100ms);
    std::vector<std::pair<std::chrono::milliseconds, bool>> expected = {
        {0ms, true}, {3000ms, true}, {6000ms, true}, {9000ms, true}};
    EXPECT_EQ(sent, expected);
}

TEST_F(TypingThrottleTest, RefreshComesBeforeReceiversWouldExpireIt)
{
    auto sent = type(0ms, 20000ms, 250ms);
    for (std::size_t i = 1; i < sent.size(); ++i) {
        EXPECT_LT((sent[i].first - sent[i - 1].first).count(), limits::typing_ttl_ms);
    }
}

TEST_F(TypingThrottleTest, StopSendsFalseOnceAndNothingWhenNeverStarted)
{
    EXPECT_FALSE(throttle.set(false, start));  // never typed: nothing to take back
    ASSERT_EQ(throttle.set(true, start), true);
    EXPECT_EQ(throttle.set(false, start + 2s), false);
    EXPECT_FALSE(throttle.set(false, start + 4s));
    EXPECT_FALSE(throttle.announced());
}

TEST_F(TypingThrottleTest, StopWithinASecondIsHeldAndSentWhenTheSecondIsOver)
{
    ASSERT_EQ(throttle.set(true, start), true);
    EXPECT_FALSE(throttle.set(false, start + 300ms));
    ASSERT_EQ(throttle.next_wakeup(), start + 1s);
    EXPECT_FALSE(throttle.tick(start + 999ms));
    EXPECT_EQ(throttle.tick(start + 1s), false);
    EXPECT_FALSE(throttle.next_wakeup());
    EXPECT_FALSE(throttle.tick(start + 2s));
}

TEST_F(TypingThrottleTest, StopAndRestartWithinASecondSendNothing)
{
    ASSERT_EQ(throttle.set(true, start), true);
    EXPECT_FALSE(throttle.set(false, start + 300ms));
    EXPECT_FALSE(throttle.set(true, start + 600ms));
    EXPECT_FALSE(throttle.next_wakeup());
    EXPECT_FALSE(throttle.tick(start + 1s));
    EXPECT_TRUE(throttle.announced());
}

TEST_F(TypingThrottleTest, RestartSoonAfterStopIsHeldToo)
{
    ASSERT_EQ(throttle.set(true, start), true);
    ASSERT_EQ(throttle.set(false, start + 1500ms), false);
    EXPECT_FALSE(throttle.set(true, start + 1800ms));
    EXPECT_EQ(throttle.tick(start + 2500ms), true);
}

TEST_F(TypingThrottleTest, NeverMoreThanOnePerSecond)
{
    // Alternating wishes every 100 ms, with ticks in between.
    std::vector<Clock::time_point> sent;
    for (int i = 0; i < 100; ++i) {
        auto now = start + i * 100ms;
        if (throttle.tick(now)) {
            sent.push_back(now);
        }
        if (throttle.set(i % 3 != 0, now)) {
            sent.push_back(now);
        }
    }
    ASSERT_GT(sent.size(), 2u);
    for (std::size_t i = 1; i < sent.size(); ++i) {
        EXPECT_GE(sent[i] - sent[i - 1], 1s);
    }
}

TEST_F(TypingThrottleTest, UnsentIndicatorStartsOverOnTheNextKeystroke)
{
    ASSERT_EQ(throttle.set(true, start), true);
    throttle.not_sent();  // offline: receivers saw nothing
    EXPECT_FALSE(throttle.announced());
    EXPECT_FALSE(throttle.set(false, start + 2s));  // nothing to take back
    EXPECT_EQ(throttle.set(true, start + 3s), true);
}

// --- TypingTracker: what the others are doing -------------------------------

class TypingTrackerTest : public ::testing::Test {
protected:
    TypingTracker tracker;
    Clock::time_point start = Clock::time_point() + 1h;
};

TEST_F(TypingTrackerTest, StartIsReportedOnceAndRefreshesAreQuiet)
{
    EXPECT_EQ(tracker.received("bob", true, start), true);
    EXPECT_FALSE(tracker.received("bob", true, start + 3s));
    EXPECT_TRUE(tracker.is_typing("bob"));
}

TEST_F(TypingTrackerTest, FalseEndsItOnce)
{
    EXPECT_FALSE(tracker.received("bob", false, start));  // was not typing
    ASSERT_EQ(tracker.received("bob", true, start), true);
    EXPECT_EQ(tracker.received("bob", false, start + 1s), false);
    EXPECT_FALSE(tracker.received("bob", false, start + 2s));
}

TEST_F(TypingTrackerTest, ExpiresSixSecondsAfterTheLastRefresh)
{
    ASSERT_EQ(tracker.received("bob", true, start), true);
    (void)tracker.received("bob", true, start + 3s);
    EXPECT_EQ(tracker.next_wakeup(), start + 9s);
    EXPECT_TRUE(tracker.expire(start + 8999ms).empty());
    EXPECT_EQ(tracker.expire(start + 9s), std::vector<std::string>{"bob"});
    EXPECT_FALSE(tracker.is_typing("bob"));
    EXPECT_TRUE(tracker.expire(start + 20s).empty());
    EXPECT_FALSE(tracker.next_wakeup());
}

TEST_F(TypingTrackerTest, KilledTypistStopsWithinTheTtl)
{
    // The sender refreshes every 3 s, then dies right after a refresh.
    ASSERT_EQ(tracker.received("bob", true, start), true);
    (void)tracker.received("bob", true, start + 3s);
    auto died = start + 3s;
    EXPECT_EQ(tracker.expire(died + std::chrono::milliseconds(limits::typing_ttl_ms)),
              std::vector<std::string>{"bob"});
}

TEST_F(TypingTrackerTest, EachTypistExpiresOnItsOwn)
{
    (void)tracker.received("bob", true, start);
    (void)tracker.received("carol", true, start + 2s);
    EXPECT_EQ(tracker.next_wakeup(), start + 6s);
    EXPECT_EQ(tracker.expire(start + 6s), std::vector<std::string>{"bob"});
    EXPECT_EQ(tracker.next_wakeup(), start + 8s);
    EXPECT_TRUE(tracker.is_typing("carol"));
}

TEST_F(TypingTrackerTest, MessageFromTheTypistEndsIt)
{
    EXPECT_FALSE(tracker.message_from("bob"));
    (void)tracker.received("bob", true, start);
    EXPECT_TRUE(tracker.message_from("bob"));
    EXPECT_FALSE(tracker.is_typing("bob"));
    EXPECT_FALSE(tracker.received("bob", false, start + 1s));  // its false, late: quiet
}

}  // namespace
}  // namespace mqchat::client::detail
