#include "mqchat/client/detail/presence.hpp"

#include <gtest/gtest.h>

namespace mqchat::client::detail {
namespace {

PresenceUpdate state(const std::string& user, bool online, std::string role = "member",
                     std::int64_t since = 1000)
{
    return {user, true, std::move(role), online, since};
}

PresenceUpdate gone(const std::string& user)
{
    PresenceUpdate update;
    update.user = user;
    return update;
}

class PresenceTrackerTest : public ::testing::Test {
protected:
    PresenceTracker tracker{"Book club", "3f9a0c61d2b4"};
};

TEST_F(PresenceTrackerTest, SnapshotOnEnteringShowsEveryMemberAsInitial)
{
    auto alice = tracker.update(state("alice", true, "owner", 5), true);
    auto bob = tracker.update(state("bob", false), true);
    ASSERT_TRUE(alice && bob);
    EXPECT_EQ(alice->change, PresenceChange::online);
    EXPECT_TRUE(alice->initial);
    EXPECT_EQ(alice->role, "owner");
    EXPECT_EQ(alice->since, 5);
    EXPECT_EQ(alice->room, "Book club");
    EXPECT_EQ(alice->room_id, "3f9a0c61d2b4");
    EXPECT_EQ(bob->change, PresenceChange::offline);
    EXPECT_FALSE(bob->online);
}

TEST_F(PresenceTrackerTest, LiveNewMemberJoined)
{
    auto event = tracker.update(state("carol", true), false);
    ASSERT_TRUE(event);
    EXPECT_EQ(event->change, PresenceChange::joined);
    EXPECT_TRUE(event->online);
    EXPECT_FALSE(event->initial);
}

TEST_F(PresenceTrackerTest, FlipsAreReportedOnce)
{
    (void)tracker.update(state("bob", true), true);
    auto offline = tracker.update(state("bob", false, "member", 2000), false);
    ASSERT_TRUE(offline);
    EXPECT_EQ(offline->change, PresenceChange::offline);
    EXPECT_EQ(offline->since, 2000);
    EXPECT_FALSE(tracker.update(state("bob", false, "member", 2500), false));
    auto online = tracker.update(state("bob", true, "member", 3000), false);
    ASSERT_TRUE(online);
    EXPECT_EQ(online->change, PresenceChange::online);
}

TEST_F(PresenceTrackerTest, SnapshotAfterReconnectReportsOnlyWhatChanged)
{
    (void)tracker.update(state("alice", true), true);
    (void)tracker.update(state("bob", true), true);

    // The same snapshot again, except bob went offline while we were away.
    EXPECT_FALSE(tracker.update(state("alice", true), true));
    auto bob = tracker.update(state("bob", false), true);
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->change, PresenceChange::offline);
    EXPECT_TRUE(bob->initial);
}

TEST_F(PresenceTrackerTest, ClearedTopicOfAMemberIsLeft)
{
    (void)tracker.update(state("bob", true), true);
    auto left = tracker.update(gone("bob"), false);
    ASSERT_TRUE(left);
    EXPECT_EQ(left->change, PresenceChange::left);
    EXPECT_EQ(left->user, "bob");
    EXPECT_FALSE(left->online);
    EXPECT_FALSE(tracker.knows("bob"));

    // Joining again is a join, not a return.
    auto back = tracker.update(state("bob", true), false);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->change, PresenceChange::joined);
}

TEST_F(PresenceTrackerTest, ClearedTopicOfSomeoneUnknownIsNotReported)
{
    EXPECT_FALSE(tracker.update(gone("stranger"), false));
}

TEST_F(PresenceTrackerTest, RoleChangeAloneIsNotReported)
{
    (void)tracker.update(state("bob", true, "member"), true);
    EXPECT_FALSE(tracker.update(state("bob", true, "owner"), false));
    auto offline = tracker.update(state("bob", false, "owner"), false);
    ASSERT_TRUE(offline);
    EXPECT_EQ(offline->role, "owner");
}

TEST(PresenceChangeNames, AreTheWordsTheCliPrints)
{
    EXPECT_EQ(to_string(PresenceChange::joined), "joined");
    EXPECT_EQ(to_string(PresenceChange::online), "online");
    EXPECT_EQ(to_string(PresenceChange::offline), "offline");
    EXPECT_EQ(to_string(PresenceChange::left), "left");
}

}  // namespace
}  // namespace mqchat::client::detail
