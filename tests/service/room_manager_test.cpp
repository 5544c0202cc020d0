#include "mqchat/service/room_manager.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <optional>
#include <memory>
#include <vector>

#include "mqchat/names.hpp"
#include "mqchat/service/data_dir.hpp"
#include "test_support.hpp"

namespace mqchat::service {
namespace {

using nlohmann::json;

const Requester guest{"", "guest-client"};
const Requester alice{"alice", "alice-client"};
const Requester bob{"bob", "bob-client"};

class RoomManagerTest : public ::testing::Test {
protected:
    RoomManagerTest()
        : files(ensure_data_dir(dir.path())),
          store(files.database.string()),
          hasher(testing::test_argon2),
          signer(TokenSigner::from_pem_file(files.signing_key.string())),
          verifier(TokenVerifier::from_pem_file(files.public_key.string())),
          manager(store, hasher, signer, publisher, config(), [this] { return clock.load(); })
    {
    }

    static RoomManagerConfig config()
    {
        RoomManagerConfig c;
        c.user_join_failures = {3, std::chrono::milliseconds(60'000)};
        c.room_join_failures = {5, std::chrono::milliseconds(60'000)};
        return c;
    }

    json call_raw(std::string_view op, const Requester& who, std::string_view payload)
    {
        const Reply reply = manager.handle(op, who, payload);
        json body = json::parse(reply.body, nullptr, false);
        EXPECT_TRUE(body.is_object()) << reply.body;
        EXPECT_EQ(body.value("ok", false), reply.code == ErrorCode::ok);
        return body;
    }

    json call(std::string_view op, const Requester& who, const json& payload)
    {
        return call_raw(op, who, payload.dump());
    }

    static std::string code(const json& reply)
    {
        if (reply.value("ok", false)) {
            return "ok";
        }
        return reply["error"]["code"].get<std::string>();
    }

    void register_user(const std::string& name)
    {
        ASSERT_EQ(code(call("register", guest, json{{"user", name}, {"password", "pw-" + name}})),
                  "ok");
    }

    json create_book_club()
    {
        return call("create", alice, json{{"room", "Book club"}, {"password", "secret"}});
    }

    testing::TempDir dir;
    DataDirFiles files;
    Store store;
    PasswordHasher hasher;
    TokenSigner signer;
    TokenVerifier verifier;
    testing::FakePublisher publisher;
    std::atomic<std::int64_t> clock{1'764'800'000'000};
    RoomManager manager;
};

// ---------------------------------------------------------------------------
// Happy path

TEST_F(RoomManagerTest, RegisterLoginCreateJoinLeave)
{
    // Register and log in.
    EXPECT_EQ(call("register", guest, json{{"user", "alice"}, {"password", "pw"}}),
              (json{{"ok", true}, {"user", "alice"}}));
    register_user("bob");
    const json login = call("login", guest, json{{"user", "alice"}, {"password", "pw"}});
    ASSERT_EQ(code(login), "ok");
    const auto session =
        verifier.verify(login["token"].get<std::string>(), TokenType::session, clock / 1000);
    ASSERT_EQ(session.error, TokenError::ok);
    EXPECT_EQ(session.claims.user, "alice");
    EXPECT_EQ(login["expires"], clock / 1000 + 24 * 3600);

    // Create: metadata, join token, retained meta.
    const json created = create_book_club();
    ASSERT_EQ(code(created), "ok");
    const json room = created["room"];
    const std::string id = room["id"];
    EXPECT_TRUE(mqchat::is_room_id(id));
    EXPECT_EQ(room, (json{{"id", id}, {"name", "Book club"}, {"owner", "alice"},
                          {"protected", true}, {"members", 1}, {"created", clock / 1000}}));
    const auto join_token =
        verifier.verify(created["token"].get<std::string>(), TokenType::join, clock / 1000);
    ASSERT_EQ(join_token.error, TokenError::ok);
    EXPECT_EQ(join_token.claims.room_id, id);
    EXPECT_EQ(join_token.claims.user, "alice");

    auto sent = publisher.take();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].topic, "chat/v1/rooms/" + id + "/meta");
    EXPECT_TRUE(sent[0].retained);
    EXPECT_EQ(json::parse(sent[0].payload), room);

    // Bob joins: members go to 2.
    const json joined = call("join", bob, json{{"room", "Book club"}, {"password", "secret"}});
    ASSERT_EQ(code(joined), "ok");
    EXPECT_EQ(joined["room"]["members"], 2);
    const auto bob_token =
        verifier.verify(joined["token"].get<std::string>(), TokenType::join, clock / 1000);
    ASSERT_EQ(bob_token.error, TokenError::ok);
    EXPECT_EQ(bob_token.claims.user, "bob");
    sent = publisher.take();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(json::parse(sent[0].payload)["members"], 2);

    // Bob leaves: a revocation newer than his token, then meta with 1 member.
    const json left = call("leave", bob, json{{"room", "Book club"}});
    ASSERT_EQ(code(left), "ok");
    EXPECT_EQ(left["room"]["members"], 1);
    sent = publisher.take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].topic, "$CONTROL/mqchat/v1");
    EXPECT_FALSE(sent[0].retained);
    const json revoke = json::parse(sent[0].payload);
    EXPECT_EQ(revoke["op"], "revoke");
    EXPECT_EQ(revoke["room"], id);
    EXPECT_EQ(revoke["user"], "bob");
    EXPECT_GT(revoke["before_ms"].get<std::int64_t>(), bob_token.claims.issued_ms);
    EXPECT_EQ(sent[1].topic, "chat/v1/rooms/" + id + "/meta");
    EXPECT_EQ(json::parse(sent[1].payload)["members"], 1);

    // A second leave is refused.
    EXPECT_EQ(code(call("leave", bob, json{{"room", "Book club"}})), "not_member");
}

TEST_F(RoomManagerTest, WhoamiNamesTheRequester)
{
    EXPECT_EQ(call_raw("whoami", alice, "{}"), (json{{"ok", true}, {"user", "alice"}}));
}

TEST_F(RoomManagerTest, TokensAreStampedStrictlyIncreasing)
{
    register_user("alice");
    // The clock stands still; issued_ms must still move.
    std::int64_t last = 0;
    for (int i = 0; i < 3; ++i) {
        const json login = call("login", guest, json{{"user", "alice"}, {"password", "pw-alice"}});
        const auto token = verifier.verify(login["token"].get<std::string>(), TokenType::session,
                                           clock / 1000);
        EXPECT_GT(token.claims.issued_ms, last);
        last = token.claims.issued_ms;
    }
}

TEST_F(RoomManagerTest, JoinIsIdempotentForMembers)
{
    register_user("alice");
    ASSERT_EQ(code(create_book_club()), "ok");
    publisher.take();
    const json again = call("join", alice, json{{"room", "Book club"}, {"password", "secret"}});
    EXPECT_EQ(code(again), "ok");
    EXPECT_EQ(again["room"]["members"], 1);
    EXPECT_TRUE(publisher.take().empty());
}

TEST_F(RoomManagerTest, RepublishesAllRoomMeta)
{
    register_user("alice");
    ASSERT_EQ(code(create_book_club()), "ok");
    ASSERT_EQ(code(call("create", alice, json{{"room", "Chess"}, {"password", "x"}})), "ok");
    publisher.take();

    manager.publish_all_meta();
    const auto sent = publisher.take();
    ASSERT_EQ(sent.size(), 2u);
    for (const auto& p : sent) {
        EXPECT_TRUE(p.retained);
        EXPECT_EQ(p.payload.find("argon2"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------
// Errors, in validation order

TEST_F(RoomManagerTest, RefusesOversizedPayload)
{
    const std::string big = R"({"user":"alice","password":")" +
                            std::string(limits::max_control_payload, 'a') + "\"}";
    EXPECT_EQ(code(call_raw("register", guest, big)), "payload_too_large");
    // Size comes before everything, even an unknown op.
    EXPECT_EQ(code(call_raw("nope", guest, big)), "payload_too_large");
}

TEST_F(RoomManagerTest, RefusesMalformedJson)
{
    for (std::string_view bad : {"", "{", "not json", "[1,2]", "\"str\"", "42", "null",
                                 "{\"user\":\"a\",}"}) {
        EXPECT_EQ(code(call_raw("register", guest, bad)), "bad_json") << bad;
    }
}

TEST_F(RoomManagerTest, RefusesUnknownOp)
{
    EXPECT_EQ(code(call_raw("delete_everything", alice, "{}")), "unknown_op");
    EXPECT_EQ(code(call_raw("", guest, "{}")), "unknown_op");
}

TEST_F(RoomManagerTest, GuestMayOnlyRegisterOrLogin)
{
    for (auto op : {"create", "join", "leave", "whoami"}) {
        EXPECT_EQ(code(call(op, guest, json{{"room", "x"}, {"password", "y"}})),
                  "not_authenticated")
            << op;
    }
}

TEST_F(RoomManagerTest, RefusesMissingOrWrongTypedFields)
{
    EXPECT_EQ(code(call("register", guest, json{{"user", "alice"}})), "bad_request");
    EXPECT_EQ(code(call("register", guest, json{{"user", 7}, {"password", "x"}})), "bad_request");
    EXPECT_EQ(code(call("login", guest, json{{"user", "alice"}, {"password", nullptr}})),
              "bad_request");
    EXPECT_EQ(code(call("create", alice, json{{"room", json::array()}, {"password", "x"}})),
              "bad_request");
    EXPECT_EQ(code(call("join", alice, json{{"password", "x"}})), "bad_request");
    EXPECT_EQ(code(call("leave", alice, json{{"room", true}})), "bad_request");
}

TEST_F(RoomManagerTest, RefusesInvalidUtf8WithoutEchoingIt)
{
    const std::string raw = "{\"room\":\"caf\xc3\x28\",\"password\":\"x\"}";
    const Reply reply = manager.handle("create", alice, raw);
    EXPECT_EQ(reply.code, ErrorCode::invalid_utf8);
    EXPECT_EQ(reply.body.find('\xc3'), std::string::npos);

    // An escaped NUL parses as JSON but is not an acceptable string.
    EXPECT_EQ(code(call_raw("create", alice, R"({"room":"a\u0000b","password":"x"})")),
              "invalid_utf8");
    EXPECT_EQ(code(call_raw("register", guest, R"({"user":"bob","password":"a\u0000"})")),
              "invalid_utf8");
}

TEST_F(RoomManagerTest, RefusesInvalidNames)
{
    const std::vector<std::string> bad_users{
        "", "a/b", "a+b", "a#b", "$sys", "-lead", "has space", std::string(33, 'a'), "tab\t"};
    for (const std::string& name : bad_users) {
        EXPECT_EQ(code(call("register", guest, json{{"user", name}, {"password", "x"}})),
                  "invalid_name")
            << name;
    }
    const std::vector<std::string> bad_rooms{
        "", "a/b", "a+b", "x#", "$room", " lead", "trail ", "bell\x07", std::string(65, 'r')};
    for (const std::string& room : bad_rooms) {
        EXPECT_EQ(code(call("create", alice, json{{"room", room}, {"password", "x"}})),
                  "invalid_name")
            << room;
    }
}

TEST_F(RoomManagerTest, RefusesWeakPasswords)
{
    EXPECT_EQ(code(call("register", guest, json{{"user", "alice"}, {"password", ""}})),
              "weak_password");
    EXPECT_EQ(code(call("create", alice,
                        json{{"room", "Big"}, {"password", std::string(1025, 'p')}})),
              "weak_password");
}

TEST_F(RoomManagerTest, RefusesDuplicateUser)
{
    register_user("alice");
    EXPECT_EQ(code(call("register", guest, json{{"user", "alice"}, {"password", "other"}})),
              "user_exists");
}

TEST_F(RoomManagerTest, RefusesNamesDifferingOnlyInCaseAndTheServiceName)
{
    register_user("alice");
    EXPECT_EQ(code(call("register", guest, json{{"user", "Alice"}, {"password", "pw"}})),
              "user_exists");
    EXPECT_EQ(code(call("register", guest, json{{"user", "mqchat-service"}, {"password", "pw"}})),
              "user_exists");
}

TEST_F(RoomManagerTest, LoginFailsTheSameForUnknownUserAndWrongPassword)
{
    register_user("alice");
    const json unknown = call("login", guest, json{{"user", "nobody"}, {"password", "pw"}});
    const json wrong = call("login", guest, json{{"user", "alice"}, {"password", "wrong"}});
    EXPECT_EQ(code(unknown), "bad_credentials");
    EXPECT_EQ(unknown, wrong);
}

TEST_F(RoomManagerTest, RefusesExistingRoom)
{
    register_user("alice");
    ASSERT_EQ(code(create_book_club()), "ok");
    EXPECT_EQ(code(call("create", bob, json{{"room", "Book club"}, {"password", "z"}})),
              "room_exists");
}

TEST_F(RoomManagerTest, RefusesUnknownRoom)
{
    EXPECT_EQ(code(call("join", bob, json{{"room", "Nowhere"}, {"password", "z"}})),
              "no_such_room");
    EXPECT_EQ(code(call("leave", bob, json{{"room", "Nowhere"}})), "no_such_room");
}

TEST_F(RoomManagerTest, RefusesWrongRoomPassword)
{
    register_user("alice");
    ASSERT_EQ(code(create_book_club()), "ok");
    publisher.take();
    const json reply = call("join", bob, json{{"room", "Book club"}, {"password", "guess"}});
    EXPECT_EQ(code(reply), "wrong_password");
    EXPECT_FALSE(reply.contains("token"));
    EXPECT_TRUE(publisher.take().empty());
    EXPECT_EQ(code(call("leave", bob, json{{"room", "Book club"}})), "not_member");
}

TEST_F(RoomManagerTest, RateLimitsFailedJoinsPerUserAndRoom)
{
    register_user("alice");
    register_user("bob");
    register_user("carol");
    ASSERT_EQ(code(create_book_club()), "ok");
    const json wrong = {{"room", "Book club"}, {"password", "guess"}};
    const json right = {{"room", "Book club"}, {"password", "secret"}};

    // Three failures (the test limit), then even the right password is refused.
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(code(call("join", bob, wrong)), "wrong_password");
    }
    EXPECT_EQ(code(call("join", bob, right)), "rate_limited");

    // Other users are not blocked by bob's failures...
    EXPECT_EQ(code(call("join", alice, right)), "ok");

    // ...until the room-wide limit (5) is reached.
    const Requester carol{"carol", "carol-client"};
    EXPECT_EQ(code(call("join", carol, wrong)), "wrong_password");
    EXPECT_EQ(code(call("join", carol, wrong)), "wrong_password");
    EXPECT_EQ(code(call("join", alice, right)), "rate_limited");

    // The window passes.
    clock += 61'000;
    EXPECT_EQ(code(call("join", bob, right)), "ok");
}

TEST_F(RoomManagerTest, RateLimitsFailedLoginsPerAccount)
{
    register_user("alice");
    const json wrong = {{"user", "alice"}, {"password", "guess"}};
    const json right = {{"user", "alice"}, {"password", "pw-alice"}};
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(code(call("login", guest, wrong)), "bad_credentials");
    }
    EXPECT_EQ(code(call("login", guest, right)), "rate_limited");
    clock += 61'000;
    EXPECT_EQ(code(call("login", guest, right)), "ok");
}

TEST_F(RoomManagerTest, SuccessfulJoinsDoNotCountTowardTheLimit)
{
    register_user("alice");
    register_user("bob");
    ASSERT_EQ(code(create_book_club()), "ok");
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(code(call("join", bob, json{{"room", "Book club"}, {"password", "secret"}})),
                  "ok");
    }
}

TEST_F(RoomManagerTest, StaysUsableAfterEveryBadRequest)
{
    const std::string junk[] = {"", "{", "\xff\xfe", "[]", std::string(20000, '{'),
                                R"({"user":1})", R"({"room":"a/b","password":"x"})"};
    for (const auto& payload : junk) {
        // whoami takes no fields, so only the junk that is not an object fails it.
        for (auto op : {"register", "login", "create", "join", "leave", "x"}) {
            const Reply reply = manager.handle(op, alice, payload);
            EXPECT_NE(reply.code, ErrorCode::ok);
            EXPECT_NE(reply.code, ErrorCode::internal_error) << op;
        }
    }
    register_user("alice");
    EXPECT_EQ(code(create_book_club()), "ok");
}

TEST_F(RoomManagerTest, RepliesNeverContainHashesOrPasswords)
{
    register_user("alice");
    const json created = create_book_club();
    const std::string text = created.dump();
    EXPECT_EQ(text.find("argon2"), std::string::npos);
    EXPECT_EQ(text.find("secret"), std::string::npos);
    EXPECT_FALSE(created["room"].contains("password_hash"));
}

// ---------------------------------------------------------------------------
// Room administration

class RoomAdminTest : public RoomManagerTest {
protected:
    void SetUp() override
    {
        register_user("alice");
        register_user("bob");
        ASSERT_EQ(code(create_book_club()), "ok");
        ASSERT_EQ(code(call("join", bob, right)), "ok");
        room_id = store.find_room_by_name("Book club")->id;
        publisher.take();
    }

    // The revocations sent to the broker, as (user, before_ms).
    std::vector<std::pair<std::string, std::int64_t>> revocations(
        const std::vector<testing::Publication>& sent)
    {
        std::vector<std::pair<std::string, std::int64_t>> out;
        for (const auto& p : sent) {
            if (p.topic == "$CONTROL/mqchat/v1") {
                const json r = json::parse(p.payload);
                EXPECT_EQ(r["op"], "revoke");
                EXPECT_EQ(r["room"], room_id);
                out.emplace_back(r["user"], r["before_ms"]);
            }
        }
        return out;
    }

    const json right = {{"room", "Book club"}, {"password", "secret"}};
    std::string room_id;
};

TEST_F(RoomAdminTest, MembersListsOwnerFirstForMembersOnly)
{
    const json reply = call("members", bob, json{{"room", "Book club"}});
    ASSERT_EQ(code(reply), "ok");
    ASSERT_EQ(reply["members"].size(), 2u);
    EXPECT_EQ(reply["members"][0]["user"], "alice");
    EXPECT_EQ(reply["members"][0]["role"], "owner");
    EXPECT_EQ(reply["members"][1]["user"], "bob");
    EXPECT_EQ(reply["members"][1]["role"], "member");

    const Requester carol{"carol", "carol-client"};
    EXPECT_EQ(code(call("members", carol, json{{"room", "Book club"}})), "not_member");
}

TEST_F(RoomAdminTest, OnlyTheOwnerAdministers)
{
    const json target = {{"room", "Book club"}, {"user", "alice"}};
    EXPECT_EQ(code(call("kick", bob, target)), "not_owner");
    EXPECT_EQ(code(call("ban", bob, target)), "not_owner");
    EXPECT_EQ(code(call("unban", bob, target)), "not_owner");
    EXPECT_EQ(code(call("passwd", bob, json{{"room", "Book club"}, {"password", "x"}})),
              "not_owner");
    EXPECT_EQ(code(call("delete", bob, json{{"room", "Book club"}})), "not_owner");
    EXPECT_TRUE(publisher.take().empty());
}

TEST_F(RoomAdminTest, KickRevokesButAllowsRejoin)
{
    const json reply = call("kick", alice, json{{"room", "Book club"}, {"user", "bob"}});
    ASSERT_EQ(code(reply), "ok");
    EXPECT_EQ(reply["room"]["members"], 1);
    const auto revoked = revocations(publisher.take());
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].first, "bob");
    EXPECT_FALSE(store.is_member(room_id, "bob"));

    EXPECT_EQ(code(call("kick", alice, json{{"room", "Book club"}, {"user", "bob"}})),
              "not_member");
    EXPECT_EQ(code(call("join", bob, right)), "ok");
}

TEST_F(RoomAdminTest, BanKeepsOutUntilUnban)
{
    ASSERT_EQ(code(call("ban", alice, json{{"room", "Book club"}, {"user", "bob"}})), "ok");
    EXPECT_EQ(revocations(publisher.take()).size(), 1u);

    // The right password no longer helps, and a ban costs no rate-limit slot.
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(code(call("join", bob, right)), "banned");
    }
    const json unban = call("unban", alice, json{{"room", "Book club"}, {"user", "bob"}});
    ASSERT_EQ(code(unban), "ok");
    EXPECT_EQ(unban["was_banned"], true);
    EXPECT_EQ(code(call("join", bob, right)), "ok");
}

TEST_F(RoomAdminTest, BanRefusesUnknownUsersAndTheOwner)
{
    EXPECT_EQ(code(call("ban", alice, json{{"room", "Book club"}, {"user", "nobody"}})),
              "no_such_user");
    EXPECT_EQ(code(call("ban", alice, json{{"room", "Book club"}, {"user", "alice"}})),
              "owner_cannot_leave");
    EXPECT_EQ(code(call("kick", alice, json{{"room", "Book club"}, {"user", "a/b"}})),
              "invalid_name");
    EXPECT_EQ(code(call("kick", alice, json{{"room", "Book club"}, {"user", 7}})),
              "bad_request");
    EXPECT_EQ(code(call("leave", alice, json{{"room", "Book club"}})), "owner_cannot_leave");
}

TEST_F(RoomAdminTest, PasswordChangeKeepsMembersUnlessAskedToRevoke)
{
    const json new_pw = {{"room", "Book club"}, {"password", "new-secret"}};
    ASSERT_EQ(code(call("passwd", alice, new_pw)), "ok");
    EXPECT_TRUE(revocations(publisher.take()).empty());
    EXPECT_TRUE(store.is_member(room_id, "bob"));
    EXPECT_EQ(code(call("join", bob, right)), "wrong_password");

    json revoking = new_pw;
    revoking["revoke"] = true;
    const json reply = call("passwd", alice, revoking);
    ASSERT_EQ(code(reply), "ok");
    EXPECT_EQ(reply["revoked"], 1);
    const auto revoked = revocations(publisher.take());
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].first, "bob");
    EXPECT_TRUE(store.is_member(room_id, "alice"));
    EXPECT_FALSE(store.is_member(room_id, "bob"));

    revoking["revoke"] = "yes";
    EXPECT_EQ(code(call("passwd", alice, revoking)), "bad_request");
}

TEST_F(RoomAdminTest, DeleteRevokesEveryoneAndClearsTheMetadata)
{
    ASSERT_EQ(code(call("delete", alice, json{{"room", "Book club"}})), "ok");
    const auto sent = publisher.take();
    const auto revoked = revocations(sent);
    ASSERT_EQ(revoked.size(), 1u);
    EXPECT_EQ(revoked[0].first, "*");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[1].topic, "chat/v1/rooms/" + room_id + "/meta");
    EXPECT_TRUE(sent[1].retained);
    EXPECT_EQ(sent[1].payload, "");

    EXPECT_EQ(code(call("join", bob, right)), "no_such_room");
    // The name is free again; the new room has another id.
    ASSERT_EQ(code(create_book_club()), "ok");
    EXPECT_NE(store.find_room_by_name("Book club")->id, room_id);
}

TEST_F(RoomAdminTest, BrokerStateResendsEveryRevocationBeforeMeta)
{
    ASSERT_EQ(code(call("kick", alice, json{{"room", "Book club"}, {"user", "bob"}})), "ok");
    const auto kicked = revocations(publisher.take());

    manager.publish_broker_state();
    const auto sent = publisher.take();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(revocations({sent[0]}), kicked);
    EXPECT_EQ(sent[1].topic, "chat/v1/rooms/" + room_id + "/meta");
}

// ---------------------------------------------------------------------------
// History

class HistoryTest : public RoomAdminTest {
protected:
    void SetUp() override
    {
        RoomAdminTest::SetUp();
        for (std::int64_t seq = 1; seq <= 120; ++seq) {
            ASSERT_TRUE(store.append_message({room_id, seq, "id" + std::to_string(seq),
                                              seq % 2 ? "alice" : "bob",
                                              "text " + std::to_string(seq), 1000 + seq}));
        }
    }

    json history(json request)
    {
        request["room"] = "Book club";
        return call("history", bob, request);
    }

    static std::vector<std::int64_t> seqs(const json& reply)
    {
        std::vector<std::int64_t> out;
        for (const auto& m : reply["messages"]) {
            out.push_back(m["seq"]);
        }
        return out;
    }
};

TEST_F(HistoryTest, NewestPageComesOldestFirst)
{
    const json reply = history(json::object());
    ASSERT_EQ(code(reply), "ok");
    ASSERT_EQ(reply["messages"].size(), 50u);
    EXPECT_EQ(reply["messages"][0],
              (json{{"seq", 71}, {"id", "id71"}, {"sender", "alice"}, {"text", "text 71"},
                    {"ts", 1071}}));
    EXPECT_EQ(seqs(reply).back(), 120);
    EXPECT_EQ(reply["more"], true);
    EXPECT_EQ(reply["last_seq"], 120);
}

TEST_F(HistoryTest, ScrollsBackToTheBeginningWithEachMessageOnce)
{
    std::vector<std::int64_t> seen;
    std::optional<std::int64_t> before;
    for (int page = 0; page < 10; ++page) {
        json request = {{"limit", 33}};
        if (before) {
            request["before"] = *before;
        }
        const json reply = history(request);
        ASSERT_EQ(code(reply), "ok");
        const auto got = seqs(reply);
        seen.insert(seen.begin(), got.begin(), got.end());
        if (!reply["more"].get<bool>()) {
            break;
        }
        before = got.front();
    }
    ASSERT_EQ(seen.size(), 120u);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i], static_cast<std::int64_t>(i) + 1);
    }
}

TEST_F(HistoryTest, CatchesUpAfterASequenceNumber)
{
    const json reply = history({{"after", 100}, {"limit", 5}});
    EXPECT_EQ(seqs(reply), (std::vector<std::int64_t>{101, 102, 103, 104, 105}));
    EXPECT_EQ(reply["more"], true);

    const json bounded = history({{"after", 100}, {"before", 104}});
    EXPECT_EQ(seqs(bounded), (std::vector<std::int64_t>{101, 102, 103}));
    EXPECT_EQ(bounded["more"], false);

    EXPECT_TRUE(seqs(history({{"after", 120}})).empty());
}

TEST_F(HistoryTest, MarksMalformedMessagesWithoutText)
{
    ASSERT_TRUE(store.append_message({room_id, 121, std::nullopt, "bob", std::nullopt, 5000}));
    const json reply = history({{"after", 120}});
    ASSERT_EQ(reply["messages"].size(), 1u);
    EXPECT_EQ(reply["messages"][0],
              (json{{"seq", 121}, {"sender", "bob"}, {"ts", 5000}, {"malformed", true}}));
}

TEST_F(HistoryTest, IsForMembersOnly)
{
    ASSERT_EQ(code(call("kick", alice, json{{"room", "Book club"}, {"user", "bob"}})), "ok");
    EXPECT_EQ(code(history(json::object())), "not_member");
}

TEST_F(HistoryTest, RefusesBadBoundsAndLimits)
{
    for (const json& bad : {json{{"limit", 0}}, json{{"limit", 501}}, json{{"limit", "5"}},
                            json{{"before", -1}}, json{{"after", 1.5}}, json{{"after", "x"}}}) {
        EXPECT_EQ(code(history(bad)), "bad_request") << bad.dump();
    }
}

TEST_F(HistoryTest, AReplyStaysBelowTheBrokerPacketLimit)
{
    // 500 messages of 8 KiB would be 4 MiB; the reply is cut, newest kept.
    const std::string big(8 * 1024, 'x');
    for (std::int64_t seq = 121; seq <= 140; ++seq) {
        ASSERT_TRUE(store.append_message({room_id, seq, "big" + std::to_string(seq), "bob",
                                          big, 9000 + seq}));
    }
    const Reply reply = manager.handle("history", bob, R"({"room":"Book club","limit":500})");
    ASSERT_EQ(reply.code, ErrorCode::ok);
    EXPECT_LT(reply.body.size(), 60u * 1024);
    const json body = json::parse(reply.body);
    EXPECT_EQ(body["more"], true);
    EXPECT_EQ(seqs(body).back(), 140);
}

TEST_F(HistoryTest, DeletingTheRoomDeletesItsArchive)
{
    ASSERT_EQ(code(call("delete", alice, json{{"room", "Book club"}})), "ok");
    EXPECT_TRUE(store.history(room_id, {}).messages.empty());
}

}  // namespace
}  // namespace mqchat::service
