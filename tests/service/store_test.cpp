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

// Three rooms of alice's and one unlisted room of carol's that bob belongs to.
class RoomListTest : public StoreTest {
protected:
    void SetUp() override
    {
        for (const char* user : {"alice", "bob", "carol"}) {
            ASSERT_TRUE(store.add_user(user, "h", 1));
        }
        add("000000000001", "chess", "alice", true, "Openings and endgames");
        add("000000000002", "Book club", "alice", true, "One BOOK a month");
        add("000000000003", "alice's secret", "alice", false, "");
        add("000000000004", "Carol's den", "carol", false, "books only");
        ASSERT_TRUE(store.add_member("000000000004", "bob", MemberRole::member, 5));
    }

    void add(const char* id, const char* name, const char* owner, bool listed,
             const char* description)
    {
        RoomRecord room = book_club();
        room.id = id;
        room.name = name;
        room.owner = owner;
        room.listed = listed;
        room.description = description;
        ASSERT_TRUE(store.add_room(room, 1));
    }

    static std::vector<std::string> names(const RoomPage& page)
    {
        std::vector<std::string> out;
        for (const auto& listing : page.rooms) {
            out.push_back(listing.room.name);
        }
        return out;
    }

    Store store{path};
};

TEST_F(RoomListTest, ListsListedRoomsAndOwnMembershipsByName)
{
    const RoomPage bob = store.list_rooms({"bob", "", 100});
    EXPECT_EQ(names(bob), (std::vector<std::string>{"Book club", "Carol's den", "chess"}));
    EXPECT_FALSE(bob.more);
    EXPECT_FALSE(bob.rooms[0].member);
    EXPECT_TRUE(bob.rooms[1].member);
    EXPECT_EQ(bob.rooms[1].members, 2);

    // Unlisted rooms stay hidden from non-members, whoever asks.
    const RoomPage alice = store.list_rooms({"alice", "", 100});
    EXPECT_EQ(names(alice),
              (std::vector<std::string>{"alice's secret", "Book club", "chess"}));
    EXPECT_EQ(names(store.list_rooms({"nobody", "", 100})),
              (std::vector<std::string>{"Book club", "chess"}));
}

TEST_F(RoomListTest, MatchesNameOrDescriptionIgnoringCase)
{
    EXPECT_EQ(names(store.list_rooms({"bob", "BOOK", 100})),
              (std::vector<std::string>{"Book club", "Carol's den"}));
    EXPECT_EQ(names(store.list_rooms({"bob", "endgame", 100})),
              (std::vector<std::string>{"chess"}));
    // Wildcards of LIKE are plain text here.
    EXPECT_TRUE(store.list_rooms({"bob", "%", 100}).rooms.empty());
    EXPECT_EQ(names(store.list_rooms({"bob", "'s", 100})),
              (std::vector<std::string>{"Carol's den"}));
}

TEST_F(RoomListTest, StopsAtTheLimitAndSaysThereIsMore)
{
    const RoomPage page = store.list_rooms({"bob", "", 2});
    EXPECT_EQ(names(page), (std::vector<std::string>{"Book club", "Carol's den"}));
    EXPECT_TRUE(page.more);
    EXPECT_FALSE(store.list_rooms({"bob", "", 3}).more);
}

TEST_F(RoomListTest, UpdatesOnlyTheFieldsGiven)
{
    EXPECT_TRUE(store.update_room("000000000001", std::string("Tuesdays"), std::nullopt));
    auto room = store.find_room_by_id("000000000001");
    EXPECT_EQ(room->description, "Tuesdays");
    EXPECT_TRUE(room->listed);

    EXPECT_TRUE(store.update_room("000000000001", std::nullopt, false));
    room = store.find_room_by_id("000000000001");
    EXPECT_EQ(room->description, "Tuesdays");
    EXPECT_FALSE(room->listed);
    EXPECT_FALSE(store.update_room("ffffffffffff", std::string("x"), true));
}

TEST_F(RoomListTest, TransfersOwnershipToAMemberOnly)
{
    const std::string den = "000000000004";
    EXPECT_EQ(store.transfer_owner(den, "carol", "alice"), TransferResult::not_member);
    EXPECT_EQ(store.transfer_owner(den, "bob", "carol"), TransferResult::not_owner);
    EXPECT_EQ(store.transfer_owner("ffffffffffff", "carol", "bob"),
              TransferResult::no_such_room);
    EXPECT_EQ(store.find_room_by_id(den)->owner, "carol");

    ASSERT_EQ(store.transfer_owner(den, "carol", "bob"), TransferResult::ok);
    EXPECT_EQ(store.find_room_by_id(den)->owner, "bob");
    const auto members = store.members(den);
    ASSERT_EQ(members.size(), 2u);
    EXPECT_EQ(members[0].user, "bob");
    EXPECT_EQ(members[0].role, MemberRole::owner);
    EXPECT_EQ(members[1].user, "carol");
    EXPECT_EQ(members[1].role, MemberRole::member);
}

TEST_F(RoomListTest, ListsMembershipsOfAUserAndOfEveryone)
{
    const auto bob = store.memberships_of("bob");
    ASSERT_EQ(bob.size(), 1u);
    EXPECT_EQ(bob[0].room_id, "000000000004");
    EXPECT_EQ(bob[0].role, MemberRole::member);
    EXPECT_EQ(store.memberships_of("alice").size(), 3u);
    EXPECT_EQ(store.memberships().size(), 5u);
}

TEST(Store, OpenFailsOnAnUnwritablePath)
{
    EXPECT_THROW(Store("/nonexistent-dir/for/sure/mqchat.db"), StoreError);
}

// The archive insert and the history queries are prepared once and reused:
// each use must see the rows and bounds of that call, not the last one's.
TEST_F(StoreTest, ReusedArchiveStatementsSeeEachCallsArguments)
{
    Store store(path);
    auto message = [](std::string room, std::int64_t seq, std::optional<std::string> text) {
        return ArchivedMessage{std::move(room), seq, "m" + std::to_string(seq), "alice",
                               std::move(text), 1764800000000 + seq};
    };
    EXPECT_TRUE(store.append_message(message("3f9a0c61d2b4", 1, "one")));
    EXPECT_FALSE(store.append_message(message("3f9a0c61d2b4", 1, "again")));
    EXPECT_TRUE(store.append_message(message("3f9a0c61d2b4", 2, std::nullopt)));
    EXPECT_TRUE(store.append_message(message("0123456789ab", 1, "other room")));

    HistoryPage first = store.history("3f9a0c61d2b4", {});
    ASSERT_EQ(first.messages.size(), 2u);
    EXPECT_EQ(first.messages[0].text, "one");         // the duplicate did not replace it
    EXPECT_EQ(first.messages[1].text, std::nullopt);  // no text left from a binding
    EXPECT_EQ(first.last_seq, 2);

    EXPECT_TRUE(store.append_message(message("3f9a0c61d2b4", 3, "three")));
    HistoryPage second =
        store.history("3f9a0c61d2b4", {.after = std::nullopt, .before = 3, .limit = 1});
    ASSERT_EQ(second.messages.size(), 1u);
    EXPECT_EQ(second.messages[0].seq, 2);
    EXPECT_TRUE(second.more);
    EXPECT_EQ(second.last_seq, 3);

    HistoryPage other =
        store.history("0123456789ab", {.after = 0, .before = std::nullopt, .limit = 50});
    ASSERT_EQ(other.messages.size(), 1u);
    EXPECT_EQ(other.messages[0].text, "other room");
    EXPECT_EQ(other.last_seq, 1);
}

}  // namespace
}  // namespace mqchat::service
