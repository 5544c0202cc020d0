#include "output.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

namespace mqchat::cli {
namespace {

client::Message sample(bool mine)
{
    client::Message message;
    message.room = "Book club";
    message.room_id = "3f9a0c61d2b4";
    message.id = "7c1e2f0a9b3d4e5f";
    message.sender = "alice";
    message.text = "hello";
    message.seq = 3;
    message.ts = 1764800000123;  // 2025-12-03 22:13:20.123 UTC
    message.mine = mine;
    return message;
}

class OutputTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

TEST_F(OutputTest, HumanLineShowsTimeSenderText)
{
    EXPECT_EQ(human_line(sample(false)), "[22:13:20] alice: hello");
}

TEST_F(OutputTest, HumanLineMarksOwnMessages)
{
    EXPECT_EQ(human_line(sample(true)), "[22:13:20] alice (you): hello");
}

TEST_F(OutputTest, JsonLineHasExactlyTheContractFields)
{
    auto value = nlohmann::json::parse(json_line(message_json(sample(true))));
    EXPECT_EQ(value, nlohmann::json({{"room", "Book club"},
                                     {"id", "7c1e2f0a9b3d4e5f"},
                                     {"sender", "alice"},
                                     {"text", "hello"},
                                     {"ts", 1764800000123},
                                     {"mine", true},
                                     {"seq", 3}}));
}

TEST_F(OutputTest, RoomJsonUsesMetadataFieldNames)
{
    client::RoomInfo room{"3f9a0c61d2b4", "Book club", "alice", true, 2, 1764800000};
    EXPECT_EQ(room_json(room), nlohmann::json({{"id", "3f9a0c61d2b4"},
                                               {"name", "Book club"},
                                               {"owner", "alice"},
                                               {"protected", true},
                                               {"members", 2},
                                               {"created", 1764800000}}));
    EXPECT_EQ(human_room(room), "Book club (3f9a0c61d2b4) owner alice, 2 members, protected");
}

TEST_F(OutputTest, ErrorFormats)
{
    EXPECT_EQ(error_line("not_joined", "run it"), "mqchat: error: not_joined: run it");
    EXPECT_EQ(error_json("timeout", "m"),
              nlohmann::json({{"error", {{"code", "timeout"}, {"message", "m"}}}}));
}

TEST_F(OutputTest, JsonLineReplacesInvalidUtf8InsteadOfThrowing)
{
    EXPECT_NO_THROW((void)json_line({{"text", "bad \xff byte"}}));
}

}  // namespace
}  // namespace mqchat::cli
