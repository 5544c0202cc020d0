#include "mqchat/names.hpp"

#include <gtest/gtest.h>

#include <string>

using mqchat::ErrorCode;

TEST(Utf8, AcceptsAsciiAndMultibyte)
{
    EXPECT_TRUE(mqchat::is_valid_utf8("hello"));
    EXPECT_TRUE(mqchat::is_valid_utf8("caf\xC3\xA9"));          // é
    EXPECT_TRUE(mqchat::is_valid_utf8("\xE2\x82\xAC"));         // €
    EXPECT_TRUE(mqchat::is_valid_utf8("\xF0\x9F\x98\x80"));     // 😀
}

TEST(Utf8, RejectsMalformedSequences)
{
    EXPECT_FALSE(mqchat::is_valid_utf8("\xC3"));                // truncated
    EXPECT_FALSE(mqchat::is_valid_utf8("\xC0\xAF"));            // overlong '/'
    EXPECT_FALSE(mqchat::is_valid_utf8("\xED\xA0\x80"));        // surrogate
    EXPECT_FALSE(mqchat::is_valid_utf8("\xF4\x90\x80\x80"));    // above U+10FFFF
    EXPECT_FALSE(mqchat::is_valid_utf8("\xFF"));
    EXPECT_FALSE(mqchat::is_valid_utf8(std::string("a\0b", 3)));
}

TEST(UserName, AcceptsTheDocumentedCharacterSet)
{
    EXPECT_EQ(mqchat::check_user_name("alice"), ErrorCode::ok);
    EXPECT_EQ(mqchat::check_user_name("Bob_2.x-y"), ErrorCode::ok);
    EXPECT_EQ(mqchat::check_user_name(std::string(32, 'a')), ErrorCode::ok);
}

TEST(UserName, RejectsTopicCharactersAndOddShapes)
{
    for (const char* bad : {"", "a/b", "a+b", "a#b", "$sys", "a b", "-lead", ".lead", "a:b",
                            "caf\xC3\xA9"}) {
        EXPECT_EQ(mqchat::check_user_name(bad), ErrorCode::invalid_name) << bad;
    }
    EXPECT_EQ(mqchat::check_user_name(std::string(33, 'a')), ErrorCode::invalid_name);
}

TEST(RoomName, AcceptsFreeTextWithSpacesAndUnicode)
{
    EXPECT_EQ(mqchat::check_room_name("Book club"), ErrorCode::ok);
    EXPECT_EQ(mqchat::check_room_name("caf\xC3\xA9 & friends!"), ErrorCode::ok);
}

TEST(RoomName, RejectsWildcardsControlsAndBadUtf8)
{
    for (const char* bad : {"", "a/b", "a+b", "a#b", "$room", " lead", "trail ", "tab\there",
                            "nl\n", "del\x7f", "c1\xC2\x85"}) {
        EXPECT_EQ(mqchat::check_room_name(bad), ErrorCode::invalid_name) << bad;
    }
    EXPECT_EQ(mqchat::check_room_name("bad\xC3"), ErrorCode::invalid_utf8);
    EXPECT_EQ(mqchat::check_room_name(std::string(65, 'r')), ErrorCode::invalid_name);
}

TEST(RoomId, IsTwelveLowercaseHexDigits)
{
    EXPECT_TRUE(mqchat::is_room_id("0123456789ab"));
    EXPECT_FALSE(mqchat::is_room_id("0123456789AB"));
    EXPECT_FALSE(mqchat::is_room_id("0123456789a"));
    EXPECT_FALSE(mqchat::is_room_id("0123456789abc"));
    EXPECT_FALSE(mqchat::is_room_id("0123456789a+"));
}

TEST(Password, RejectsEmptyTooLongAndBadUtf8)
{
    EXPECT_EQ(mqchat::check_password("s3cret"), ErrorCode::ok);
    EXPECT_EQ(mqchat::check_password(""), ErrorCode::weak_password);
    EXPECT_EQ(mqchat::check_password(std::string(1025, 'x')), ErrorCode::weak_password);
    EXPECT_EQ(mqchat::check_password("\xC3"), ErrorCode::invalid_utf8);
}

TEST(TopicLevel, RejectsWildcardsSlashDollarAndControls)
{
    EXPECT_TRUE(mqchat::is_safe_topic_level("guest:0a1b2c"));
    for (const char* bad : {"", "a/b", "+", "#", "$x", "a\nb"}) {
        EXPECT_FALSE(mqchat::is_safe_topic_level(bad)) << bad;
    }
    EXPECT_FALSE(mqchat::is_safe_topic_level(std::string(129, 'a')));
}
