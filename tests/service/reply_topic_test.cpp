#include "mqchat/service/reply_topic.hpp"

#include <gtest/gtest.h>

namespace mqchat::service {
namespace {

const Requester alice{"alice", "c1"};
const Requester guest{"", "guest-1"};
constexpr const char* nonce = "0123456789abcdef0123456789abcdef";

TEST(ReplyTopic, AllowsAUsersOwnInbox)
{
    EXPECT_TRUE(reply_topic_allowed(alice, "chat/v1/users/alice/inbox/r1"));
    EXPECT_TRUE(reply_topic_allowed(alice, "chat/v1/users/alice/inbox/a/b"));
}

TEST(ReplyTopic, RefusesSomeoneElsesInbox)
{
    EXPECT_FALSE(reply_topic_allowed(alice, "chat/v1/users/bob/inbox/r1"));
    EXPECT_FALSE(reply_topic_allowed(alice, "chat/v1/users/alice/inbox/"));
    EXPECT_FALSE(reply_topic_allowed(alice, "chat/v1/users/alice/inbox/+"));
    EXPECT_FALSE(reply_topic_allowed(alice, "chat/v1/rooms/3f9a0c61d2b4/msg"));
    EXPECT_FALSE(reply_topic_allowed(alice, "$CONTROL/mqchat/v1"));
    EXPECT_FALSE(reply_topic_allowed(alice, ""));
}

TEST(ReplyTopic, AllowsAGuestsOwnTopicWithALongNonce)
{
    EXPECT_TRUE(reply_topic_allowed(guest, std::string("chat/v1/guest/guest-1/") + nonce));
}

TEST(ReplyTopic, RefusesGuestTopicsThatAreNotTheirs)
{
    EXPECT_FALSE(reply_topic_allowed(guest, std::string("chat/v1/guest/guest-2/") + nonce));
    EXPECT_FALSE(reply_topic_allowed(guest, "chat/v1/guest/guest-1/short"));
    EXPECT_FALSE(reply_topic_allowed(guest, std::string("chat/v1/guest/guest-1/") + nonce + "/x"));
    EXPECT_FALSE(reply_topic_allowed(guest, "chat/v1/users/alice/inbox/r1"));
    EXPECT_FALSE(reply_topic_allowed(Requester{"", ""}, "chat/v1/guest//0123456789abcdef0"));
}

}  // namespace
}  // namespace mqchat::service
