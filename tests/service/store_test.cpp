#include "mqchat/service/store.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mqchat::service {
namespace {

RoomRecord book_club()
{
    RoomRecord room;
    room.id = "3f9a0c61d2b4";
    room.name = "Book club";
    room.owner = "alice";
    room.password_hash = "$argon2id$v=19$m=1024,t=1,p=1$x$y";
    room.created = 1764800000;
    return room;
}

class StoreTest : public ::testing::Test {
protected:
    testing::TempDir dir;
    std::string path = (dir.path() / "mqchat.db").string();
};

TEST_F(StoreTest, AppliesAllMigrations)
{
    Store store(path);
    EXPECT_EQ(store.schema_version(), 4);
}

TEST_F(StoreTest, ReopeningKeepsDataAndSchemaVersion)
{
    {
        Store store(path);
        ASSERT_TRUE(store.add_user("alice", "h1", 1));
    }
    Store again(path);
    EXPECT_EQ(again.schema_version(), 4);
    EXPECT_EQ(again.user_hash("alice"), "h1");
}

TEST_F(StoreTest, RefusesDuplicateUser)
{
    Store store(path);
    EXPECT_TRUE(store.add_user("alice", "h1", 1));
    EXPECT_FALSE(store.add_user("alice", "h2", 2));
    EXPECT_EQ(store.user_hash("alice"), "h1");
    EXPECT_FALSE(store.user_hash("bob"));
}

TEST_F(StoreTest, AddsRoomWithOwnerAsMember)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("alice", "h", 1));
    ASSERT_TRUE(store.add_room(book_club(), 1000));

    const auto found = store.find_room_by_name("Book club");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id, "3f9a0c61d2b4");
    EXPECT_EQ(found->owner, "alice");
    EXPECT_TRUE(found->listed);
    EXPECT_EQ(found->description, "");
    EXPECT_TRUE(store.is_member(found->id, "alice"));
    EXPECT_EQ(store.member_count(found->id), 1);
    EXPECT_TRUE(store.find_room_by_id("3f9a0c61d2b4"));
}

TEST_F(StoreTest, RefusesDuplicateRoomName)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("alice", "h", 1));
    ASSERT_TRUE(store.add_room(book_club(), 1000));

    RoomRecord other = book_club();
    other.id = "000000000001";
    EXPECT_FALSE(store.add_room(other, 1000));
    EXPECT_FALSE(store.find_room_by_id("000000000001"));
    EXPECT_EQ(store.rooms().size(), 1u);
}

TEST_F(StoreTest, MembershipIsIdempotentAndRemovable)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("alice", "h", 1));
    ASSERT_TRUE(store.add_user("bob", "h", 1));
    ASSERT_TRUE(store.add_room(book_club(), 1000));
    const std::string id = book_club().id;

    EXPECT_TRUE(store.add_member(id, "bob", MemberRole::member, 2000));
    EXPECT_FALSE(store.add_member(id, "bob", MemberRole::member, 3000));
    EXPECT_EQ(store.member_count(id), 2);

    EXPECT_TRUE(store.remove_member(id, "bob"));
    EXPECT_FALSE(store.remove_member(id, "bob"));
    EXPECT_FALSE(store.is_member(id, "bob"));
    EXPECT_EQ(store.member_count(id), 1);
}

TEST_F(StoreTest, ForeignKeysRefuseMembersOfMissingRooms)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("bob", "h", 1));
    EXPECT_THROW(store.add_member("ffffffffffff", "bob", MemberRole::member, 1), StoreError);
}

TEST_F(StoreTest, StoresNamesWithQuotesVerbatim)
{
    Store store(path);
    const std::string tricky = "x'); DROP TABLE users; --";
    ASSERT_TRUE(store.add_user("alice", tricky, 1));
    EXPECT_EQ(store.user_hash("alice"), tricky);
}

TEST_F(StoreTest, DeletingARoomTakesMembersAndBansButKeepsRevocations)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("alice", "h", 1));
    ASSERT_TRUE(store.add_user("bob", "h", 1));
    ASSERT_TRUE(store.add_room(book_club(), 1000));
    ASSERT_TRUE(store.add_ban("3f9a0c61d2b4", "bob", 2000));
    EXPECT_FALSE(store.add_ban("3f9a0c61d2b4", "bob", 2001));
    EXPECT_TRUE(store.is_banned("3f9a0c61d2b4", "bob"));
    store.add_revocation({"3f9a0c61d2b4", "*", 3000});

    EXPECT_TRUE(store.delete_room("3f9a0c61d2b4"));
    EXPECT_FALSE(store.delete_room("3f9a0c61d2b4"));
    EXPECT_FALSE(store.find_room_by_id("3f9a0c61d2b4"));
    EXPECT_EQ(store.member_count("3f9a0c61d2b4"), 0);
    EXPECT_FALSE(store.is_banned("3f9a0c61d2b4", "bob"));
    ASSERT_EQ(store.revocations().size(), 1u);
    EXPECT_EQ(store.revocations()[0].user, "*");
}

TEST_F(StoreTest, RevocationsKeepTheLatestCutOff)
{
    Store store(path);
    store.add_revocation({"3f9a0c61d2b4", "bob", 5000});
    store.add_revocation({"3f9a0c61d2b4", "bob", 4000});
    store.add_revocation({"3f9a0c61d2b4", "carol", 1000});
    const auto all = store.revocations();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].user, "bob");
    EXPECT_EQ(all[0].before_ms, 5000);
    EXPECT_EQ(all[1].user, "carol");
}

TEST_F(StoreTest, ChangesTheRoomPasswordHash)
{
    Store store(path);
    ASSERT_TRUE(store.add_user("alice", "h", 1));
    ASSERT_TRUE(store.add_room(book_club(), 1000));
    store.set_room_password("3f9a0c61d2b4", "$argon2id$new");
    EXPECT_EQ(store.find_room_by_id("3f9a0c61d2b4")->password_hash, "$argon2id$new");
}

TEST(Store, OpenFailsOnAnUnwritablePath)
{
    EXPECT_THROW(Store("/nonexistent-dir/for/sure/mqchat.db"), StoreError);
}

}  // namespace
}  // namespace mqchat::service
