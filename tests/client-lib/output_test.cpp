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

client::RoomInfo room(std::string name, std::string id, bool is_protected = true)
{
    client::RoomInfo info;
    info.id = std::move(id);
    info.name = std::move(name);
    info.owner = "alice";
    info.is_protected = is_protected;
    info.members = 2;
    info.created = 1764800000;
    return info;
}

TEST_F(OutputTest, RoomJsonUsesMetadataFieldNames)
{
    client::RoomInfo info = room("Book club", "3f9a0c61d2b4");
    info.listed = false;
    info.description = "We read";
    info.online = 1;
    info.member = true;
    EXPECT_EQ(room_json(info), nlohmann::json({{"id", "3f9a0c61d2b4"},
                                               {"name", "Book club"},
                                               {"owner", "alice"},
                                               {"protected", true},
                                               {"members", 2},
                                               {"created", 1764800000},
                                               {"listed", false},
                                               {"description", "We read"},
                                               {"online", 1},
                                               {"member", true}}));
}

TEST_F(OutputTest, RoomsTableAlignsColumnsUnderAHeader)
{
    client::RoomInfo book = room("Book club", "3f9a0c61d2b4");
    book.member = true;
    book.online = 1;
    book.description = "One book a month";
    client::RoomInfo chess = room("Ch\xc3\xa9ss", "000000000002", false);
    chess.listed = false;
    // Columns line up by characters, not bytes: "Chéss" is five wide.
    EXPECT_EQ(rooms_table({book, chess}),
              "NAME       ID            OWNER  MEMBERS  ONLINE  FLAGS             DESCRIPTION\n"
              "Book club  3f9a0c61d2b4  alice  2        1       member,protected  "
              "One book a month\n"
              "Ch\xc3\xa9ss      000000000002  alice  2        0       unlisted\n");
    EXPECT_EQ(rooms_table({}), "no rooms\n");
}

TEST_F(OutputTest, MembersTableShowsRoleAndOnline)
{
    client::Member alice{"alice", "owner", 1, true};
    client::Member bob{"bob", "member", 2, false};
    EXPECT_EQ(members_table({alice, bob}), "alice  owner   online\nbob    member  offline\n");
    EXPECT_EQ(member_json(bob), nlohmann::json({{"user", "bob"},
                                                {"role", "member"},
                                                {"joined", 2},
                                                {"online", false}}));
}

client::PresenceEvent presence(client::PresenceChange change, bool online, bool initial)
{
    client::PresenceEvent event;
    event.room = "Book club";
    event.room_id = "3f9a0c61d2b4";
    event.user = "bob";
    event.role = "member";
    event.online = online;
    event.since = 1764800012345;
    event.change = change;
    event.initial = initial;
    return event;
}

TEST_F(OutputTest, PresenceLinesSayWhatHappened)
{
    using client::PresenceChange;
    EXPECT_EQ(presence_line(presence(PresenceChange::joined, true, false)), "* bob joined");
    EXPECT_EQ(presence_line(presence(PresenceChange::left, false, false)), "* bob left");
    EXPECT_EQ(presence_line(presence(PresenceChange::online, true, false)), "* bob is online");
    EXPECT_EQ(presence_line(presence(PresenceChange::offline, false, false)),
              "* bob went offline");
    EXPECT_EQ(presence_line(presence(PresenceChange::offline, false, true)), "* bob is offline");
}

TEST_F(OutputTest, PresenceAndTypingJsonCarryTheirType)
{
    EXPECT_EQ(presence_json(presence(client::PresenceChange::offline, false, false)),
              nlohmann::json({{"type", "presence"},
                              {"room", "Book club"},
                              {"user", "bob"},
                              {"online", false},
                              {"change", "offline"},
                              {"role", "member"},
                              {"since", 1764800012345},
                              {"initial", false}}));
    client::TypingEvent typing{"Book club", "3f9a0c61d2b4", "bob", true};
    EXPECT_EQ(typing_json(typing), nlohmann::json({{"type", "typing"},
                                                   {"room", "Book club"},
                                                   {"user", "bob"},
                                                   {"typing", true}}));
    EXPECT_EQ(typing_line(typing), "* bob is typing\xe2\x80\xa6");
    typing.typing = false;
    EXPECT_EQ(typing_line(typing), "* bob stopped typing");
    EXPECT_FALSE(message_json(sample(false)).contains("type"));
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
