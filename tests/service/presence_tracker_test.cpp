#include "mqchat/service/presence_tracker.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace mqchat::service {
namespace {

using std::chrono::milliseconds;

class PresenceTrackerTest : public ::testing::Test {
protected:
    std::atomic<std::int64_t> clock{1'000'000};
    PresenceTracker tracker{milliseconds(2000), [this] { return clock.load(); }};
};

TEST_F(PresenceTrackerTest, UsersNeverSeenAreOfflineSinceTheStart)
{
    clock += 5000;
    const PresenceState state = tracker.state("alice");
    EXPECT_FALSE(state.online);
    EXPECT_EQ(state.since_ms, 1'000'000);
}

TEST_F(PresenceTrackerTest, GoesOnlineAtOnce)
{
    clock += 10;
    const auto change = tracker.user_online("alice");
    ASSERT_TRUE(change);
    EXPECT_EQ(change->user, "alice");
    EXPECT_TRUE(change->state.online);
    EXPECT_EQ(change->state.since_ms, 1'000'010);
    EXPECT_TRUE(tracker.is_online("alice"));
    EXPECT_FALSE(tracker.is_online("bob"));
}

TEST_F(PresenceTrackerTest, GoesOfflineOnlyWhenTheGraceRunsOut)
{
    ASSERT_TRUE(tracker.user_online("alice"));
    clock += 500;
    EXPECT_FALSE(tracker.user_offline("alice"));
    EXPECT_TRUE(tracker.is_online("alice"));

    clock += 1999;
    EXPECT_TRUE(tracker.expire().empty());
    EXPECT_TRUE(tracker.is_online("alice"));

    // Offline since the disconnect, not since the grace ran out.
    clock += 1;
    const auto changes = tracker.expire();
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].user, "alice");
    EXPECT_FALSE(changes[0].state.online);
    EXPECT_EQ(changes[0].state.since_ms, 1'000'500);
    EXPECT_FALSE(tracker.is_online("alice"));
    EXPECT_TRUE(tracker.expire().empty());
}

TEST_F(PresenceTrackerTest, QuickReconnectShowsNothing)
{
    // A session takeover or a network blip: gone and back within the grace.
    ASSERT_TRUE(tracker.user_online("alice"));
    clock += 100;
    EXPECT_FALSE(tracker.user_offline("alice"));
    clock += 1500;
    EXPECT_FALSE(tracker.user_online("alice"));

    clock += 10'000;
    EXPECT_TRUE(tracker.expire().empty());
    EXPECT_TRUE(tracker.is_online("alice"));
    EXPECT_EQ(tracker.state("alice").since_ms, 1'000'000);
}

TEST_F(PresenceTrackerTest, SecondDeviceAndRepeatedEventsChangeNothing)
{
    ASSERT_TRUE(tracker.user_online("alice"));
    clock += 100;
    EXPECT_FALSE(tracker.user_online("alice"));
    EXPECT_EQ(tracker.state("alice").since_ms, 1'000'000);

    // A repeated offline does not push the end of the grace further.
    EXPECT_FALSE(tracker.user_offline("alice"));
    clock += 1000;
    EXPECT_FALSE(tracker.user_offline("alice"));
    clock += 1000;
    ASSERT_EQ(tracker.expire().size(), 1u);
    EXPECT_FALSE(tracker.user_offline("alice"));
    EXPECT_TRUE(tracker.expire().empty());
}

TEST_F(PresenceTrackerTest, SnapshotSetsWhoIsOnline)
{
    ASSERT_TRUE(tracker.user_online("alice"));
    ASSERT_TRUE(tracker.user_online("bob"));
    clock += 100;

    // Carol and Dave are new; Bob stays; Alice left while nobody listened.
    const auto changes = tracker.snapshot({"dave", "bob", "carol"});
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].user, "carol");
    EXPECT_EQ(changes[1].user, "dave");
    EXPECT_TRUE(changes[1].state.online);
    EXPECT_EQ(changes[1].state.since_ms, 1'000'100);
    EXPECT_EQ(tracker.state("bob").since_ms, 1'000'000);

    // Alice gets the grace like any disconnect.
    EXPECT_TRUE(tracker.is_online("alice"));
    clock += 2000;
    const auto expired = tracker.expire();
    ASSERT_EQ(expired.size(), 1u);
    EXPECT_EQ(expired[0].user, "alice");
    EXPECT_FALSE(tracker.is_online("alice"));
}

TEST_F(PresenceTrackerTest, SnapshotCancelsAPendingOffline)
{
    ASSERT_TRUE(tracker.user_online("alice"));
    EXPECT_FALSE(tracker.user_offline("alice"));
    EXPECT_TRUE(tracker.snapshot({"alice"}).empty());
    clock += 5000;
    EXPECT_TRUE(tracker.expire().empty());
    EXPECT_TRUE(tracker.is_online("alice"));
}

TEST(PresenceTracker, ZeroGraceGoesOfflineAtOnce)
{
    std::int64_t now = 50;
    PresenceTracker tracker(milliseconds(0), [&now] { return now; });
    ASSERT_TRUE(tracker.user_online("alice"));
    now = 70;
    const auto change = tracker.user_offline("alice");
    ASSERT_TRUE(change);
    EXPECT_FALSE(change->state.online);
    EXPECT_EQ(change->state.since_ms, 70);

    ASSERT_TRUE(tracker.user_online("bob"));
    const auto changes = tracker.snapshot({"carol"});
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].user, "bob");
    EXPECT_FALSE(changes[0].state.online);
    EXPECT_EQ(changes[1].user, "carol");
    EXPECT_TRUE(changes[1].state.online);
}

}  // namespace
}  // namespace mqchat::service
