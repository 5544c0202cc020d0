#include "mqchat/service/archiver.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mqchat::service {
namespace {

using Props = std::vector<std::pair<std::string, std::string>>;

const std::string room_topic = "chat/v1/rooms/3f9a0c61d2b4/msg";
const Props stamped = {{"sender", "alice"}, {"seq", "7"}, {"ts", "1764800000123"}};

TEST(ArchiverDecode, ReadsStampsAndPayload)
{
    const auto row = Archiver::decode(room_topic, R"({"id":"abc","text":"hi"})", stamped);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->room_id, "3f9a0c61d2b4");
    EXPECT_EQ(row->seq, 7);
    EXPECT_EQ(row->sender, "alice");
    EXPECT_EQ(row->ts, 1764800000123);
    EXPECT_EQ(row->id, "abc");
    EXPECT_EQ(row->text, "hi");
}

TEST(ArchiverDecode, KeepsAMalformedPayloadAsARowWithoutText)
{
    for (const char* payload : {"", "not json", "[]", R"({"id":1,"text":"x"})", R"({"id":"a"})"}) {
        const auto row = Archiver::decode(room_topic, payload, stamped);
        ASSERT_TRUE(row) << payload;
        EXPECT_EQ(row->seq, 7);
        EXPECT_FALSE(row->id) << payload;
        EXPECT_FALSE(row->text) << payload;
    }
}

TEST(ArchiverDecode, RefusesMessagesWithoutExactlyOneOfEachStamp)
{
    const std::string ok = R"({"id":"a","text":"b"})";
    EXPECT_FALSE(Archiver::decode(room_topic, ok, {}));
    EXPECT_FALSE(Archiver::decode(room_topic, ok, {{"sender", "a"}, {"seq", "1"}}));
    Props twice = stamped;
    twice.emplace_back("sender", "mallory");
    EXPECT_FALSE(Archiver::decode(room_topic, ok, twice));
    EXPECT_FALSE(Archiver::decode(room_topic, ok, {{"sender", "a"}, {"seq", "x"}, {"ts", "1"}}));
    EXPECT_FALSE(Archiver::decode(room_topic, ok, {{"sender", "a"}, {"seq", "0"}, {"ts", "1"}}));
}

TEST(ArchiverDecode, IgnoresOtherTopics)
{
    const std::string ok = R"({"id":"a","text":"b"})";
    EXPECT_FALSE(Archiver::decode("chat/v1/rooms/3f9a0c61d2b4/meta", ok, stamped));
    EXPECT_FALSE(Archiver::decode("chat/v1/rooms/NOT-AN-ID/msg", ok, stamped));
}

class ArchiveRetentionTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(store.add_user("alice", "h", 1));
        RoomRecord room;
        room.id = "3f9a0c61d2b4";
        room.name = "Book club";
        room.owner = "alice";
        room.password_hash = "h";
        ASSERT_TRUE(store.add_room(room, 1));
    }

    void archive(const std::string& room_id, std::int64_t first, std::int64_t last,
                 std::int64_t ts)
    {
        for (std::int64_t seq = first; seq <= last; ++seq) {
            ASSERT_TRUE(store.append_message({room_id, seq, "m" + std::to_string(seq), "alice",
                                              "text", ts}));
        }
    }

    testing::TempDir dir;
    Store store{(dir.path() / "mqchat.db").string()};
};

TEST_F(ArchiveRetentionTest, KeepsTheNewestMessagesPerRoom)
{
    archive("3f9a0c61d2b4", 1, 30, 1000);
    ArchiverConfig config;
    config.keep_per_room = 10;
    Archiver archiver(config, store);

    EXPECT_EQ(archiver.prune_once(2000), 20u);
    const auto page = store.history("3f9a0c61d2b4", {.after = 0, .before = {}, .limit = 100});
    ASSERT_EQ(page.messages.size(), 10u);
    EXPECT_EQ(page.messages.front().seq, 21);
    EXPECT_EQ(page.last_seq, 30);
}

TEST_F(ArchiveRetentionTest, DropsMessagesOlderThanTheAgeLimit)
{
    archive("3f9a0c61d2b4", 1, 5, 1000);
    archive("3f9a0c61d2b4", 6, 8, 10 * 3600 * 1000);
    ArchiverConfig config;
    config.keep_per_room = 0;
    config.max_age = std::chrono::hours(1);
    Archiver archiver(config, store);

    EXPECT_EQ(archiver.prune_once(10 * 3600 * 1000 + 1), 5u);
    EXPECT_EQ(store.history("3f9a0c61d2b4", {}).messages.front().seq, 6);
}

TEST_F(ArchiveRetentionTest, DropsTheMessagesOfDeletedRooms)
{
    archive("00000000dead", 1, 3, 1000);
    archive("3f9a0c61d2b4", 1, 3, 1000);
    Archiver archiver(ArchiverConfig{}, store);

    EXPECT_EQ(archiver.prune_once(2000), 3u);
    EXPECT_EQ(store.archived_rooms(), std::vector<std::string>{"3f9a0c61d2b4"});
}

}  // namespace
}  // namespace mqchat::service
