#include "mqchat/protocol.hpp"

#include <gtest/gtest.h>

using mqchat::ErrorCode;
namespace topic = mqchat::topic;

TEST(ErrorCodes, RoundTripThroughTheirWireSpelling)
{
    for (int i = 0; i <= static_cast<int>(ErrorCode::not_operator); ++i) {
        auto code = static_cast<ErrorCode>(i);
        auto text = mqchat::to_string(code);
        ASSERT_EQ(mqchat::error_code_from_string(text), code) << text;
    }
    EXPECT_EQ(mqchat::to_string(ErrorCode::wrong_password), "wrong_password");
    EXPECT_EQ(mqchat::to_string(ErrorCode::tls_failed), "tls_failed");
    EXPECT_FALSE(mqchat::error_code_from_string("no_such_code").has_value());
}

TEST(Topics, BuildersProduceTheDocumentedNames)
{
    EXPECT_EQ(topic::control("login"), "chat/v1/ctl/login");
    EXPECT_EQ(topic::user_inbox("alice", "r1"), "chat/v1/users/alice/inbox/r1");
    EXPECT_EQ(topic::guest_inbox("guest:1", "n"), "chat/v1/guest/guest:1/n");
    EXPECT_EQ(topic::room_meta("0123456789ab"), "chat/v1/rooms/0123456789ab/meta");
    EXPECT_EQ(topic::room_messages("0123456789ab"), "chat/v1/rooms/0123456789ab/msg");
}

TEST(Topics, ParseRecognisesEachKind)
{
    auto p = topic::parse("chat/v1/ctl/join");
    EXPECT_EQ(p.kind, topic::Kind::control);
    EXPECT_EQ(p.subject, "join");

    p = topic::parse("chat/v1/users/alice/inbox/x/y");
    EXPECT_EQ(p.kind, topic::Kind::user_inbox);
    EXPECT_EQ(p.subject, "alice");
    EXPECT_EQ(p.rest, "x/y");

    p = topic::parse("chat/v1/guest/guest:1/abc");
    EXPECT_EQ(p.kind, topic::Kind::guest_inbox);
    EXPECT_EQ(p.subject, "guest:1");

    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/msg").kind, topic::Kind::room_msg);
    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/meta").kind, topic::Kind::room_meta);
    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/x").kind, topic::Kind::room_other);
    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/typing").kind,
              topic::Kind::room_typing);

    const std::string presence = topic::room_presence("0123456789ab", "bob");
    p = topic::parse(presence);
    EXPECT_EQ(p.kind, topic::Kind::room_presence);
    EXPECT_EQ(p.subject, "0123456789ab");
    EXPECT_EQ(p.rest, "presence/bob");

    EXPECT_EQ(topic::parse("$CONTROL/mqchat/v1").kind, topic::Kind::plugin_control);
    EXPECT_EQ(topic::parse("other/thing").kind, topic::Kind::other);
}

TEST(Topics, ParseRefusesShapesThatOnlyLookClose)
{
    EXPECT_EQ(topic::parse("chat/v1/ctl/join/extra").kind, topic::Kind::unknown_chat);
    EXPECT_EQ(topic::parse("chat/v1/ctl/").kind, topic::Kind::unknown_chat);
    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/presence/").kind,
              topic::Kind::room_other);
    EXPECT_EQ(topic::parse("chat/v1/rooms/0123456789ab/presence/bob/x").kind,
              topic::Kind::room_other);
    EXPECT_EQ(topic::parse("chat/v1/users/alice/inbox").kind, topic::Kind::unknown_chat);
    EXPECT_EQ(topic::parse("chat/v1/users/alice/outbox/x").kind, topic::Kind::unknown_chat);
    EXPECT_EQ(topic::parse("chat/v1/guest/g/a/b").kind, topic::Kind::unknown_chat);
    EXPECT_EQ(topic::parse("chat/v1/rooms//msg").kind, topic::Kind::unknown_chat);
}
