// Unit tests of the broker-neutral access core: no broker involved.
#include "mqchat/access/access_core.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "mqchat/protocol.hpp"
#include "mqchat/token.hpp"
#include "test_keys.hpp"

namespace mqchat::access {
namespace {

constexpr const char* room_a = "0123456789ab";
constexpr const char* room_b = "ba9876543210";
constexpr const char* secret = "0011223344556677889900112233445566778899001122334455667788990011";

class AccessCoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        keys_ = test::make_ec_key_pair();
        signer_ = std::make_unique<TokenSigner>(keys_.private_pem);
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() /
               ("mqchat-access-" + std::to_string(rd()) + std::to_string(rd()));
        core_ = make_core();
    }

    void TearDown() override
    {
        core_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::unique_ptr<AccessCore> make_core()
    {
        Options options;
        options.service_secret = secret;
        options.state_dir = dir_.string();
        return std::make_unique<AccessCore>(options, TokenVerifier(keys_.public_pem),
                                            [this] { return now_ms_; });
    }

    std::string token(TokenType type, const std::string& user, const std::string& room = "",
                      std::int64_t issued_ms = -1, std::int64_t ttl_s = 3600)
    {
        TokenClaims claims;
        claims.type = type;
        claims.user = user;
        claims.room_id = room;
        claims.issued_ms = issued_ms < 0 ? now_ms_ : issued_ms;
        claims.expires_s = now_ms_ / 1000 + ttl_s;
        return signer_->sign(claims);
    }

    std::string present_payload(const std::string& tok)
    {
        return R"({"op":"present","token":")" + tok + R"("})";
    }

    // Connects `user` with client id `cid` and returns its connection.
    Connection login(AccessCore& core, const std::string& cid, const std::string& user)
    {
        AuthResult auth = core.authenticate(cid, user, token(TokenType::session, user));
        EXPECT_TRUE(auth.allowed) << auth.reason;
        return core.connection_for(cid, user);
    }

    Connection service() { return core_->connection_for("svc", "mqchat-service"); }

    std::string revoke_payload(const std::string& room, const std::string& user, std::int64_t ms)
    {
        return R"({"op":"revoke","room":")" + room + R"(","user":")" + user +
               R"(","before_ms":)" + std::to_string(ms) + "}";
    }

    test::KeyPair keys_;
    std::unique_ptr<TokenSigner> signer_;
    std::filesystem::path dir_;
    std::int64_t now_ms_ = 1'764'800'000'000;
    std::unique_ptr<AccessCore> core_;
};

TEST_F(AccessCoreTest, GuestConnectsWithoutCredentials)
{
    AuthResult auth = core_->authenticate("guest-1", "", "");
    EXPECT_TRUE(auth.allowed);
    EXPECT_EQ(auth.role, Role::guest);
    EXPECT_FALSE(core_->authenticate("guest-2", "", "pw").allowed);
}

TEST_F(AccessCoreTest, GuestMayOnlyRegisterLoginAndReadOwnExactReplyTopic)
{
    Connection guest = core_->connection_for("g1", "");
    EXPECT_TRUE(core_->check_publish(guest, "chat/v1/ctl/login"));
    EXPECT_TRUE(core_->check_publish(guest, "chat/v1/ctl/register"));
    EXPECT_FALSE(core_->check_publish(guest, "chat/v1/ctl/create"));
    EXPECT_FALSE(core_->check_publish(guest, "$CONTROL/mqchat/v1"));
    EXPECT_FALSE(core_->check_publish(guest, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_publish(guest, "other/topic"));

    EXPECT_TRUE(core_->check_subscribe(guest, "chat/v1/guest/g1/abcdefabcdefabcdef"));
    EXPECT_FALSE(core_->check_subscribe(guest, "chat/v1/guest/g1/+"));
    EXPECT_FALSE(core_->check_subscribe(guest, "chat/v1/guest/g1/#"));
    EXPECT_FALSE(core_->check_subscribe(guest, "chat/v1/guest/g2/abcdefabcdefabcdef"));
    EXPECT_FALSE(core_->check_subscribe(guest, "chat/v1/guest/g1/a/b"));
    EXPECT_FALSE(core_->check_subscribe(guest, "#"));
    EXPECT_FALSE(core_->check_subscribe(guest, "$share/g/chat/v1/guest/g1/abcdefabcdefabcdef"));
    EXPECT_TRUE(core_->check_read(guest, "chat/v1/guest/g1/abcdefabcdefabcdef"));
    EXPECT_FALSE(core_->check_read(guest, "chat/v1/guest/g2/abcdefabcdefabcdef"));
    EXPECT_FALSE(core_->check_read(guest, "chat/v1/rooms/0123456789ab/meta"));
}

TEST_F(AccessCoreTest, ServiceNeedsTheSecret)
{
    EXPECT_TRUE(core_->authenticate("svc", "mqchat-service", secret).allowed);
    EXPECT_FALSE(core_->authenticate("svc2", "mqchat-service", "wrong").allowed);
    EXPECT_FALSE(core_->authenticate("svc3", "mqchat-service", "").allowed);
    // A session token is no service secret.
    EXPECT_FALSE(core_->authenticate("svc4", "mqchat-service",
                                     token(TokenType::session, "mqchat-service"))
                     .allowed);
}

TEST_F(AccessCoreTest, ServiceMayDoEverythingButWriteForeignDollarTopics)
{
    Connection svc = service();
    EXPECT_TRUE(core_->check_subscribe(svc, "chat/v1/ctl/+"));
    EXPECT_TRUE(core_->check_subscribe(svc, "$share/rm/chat/v1/rooms/+/msg"));
    EXPECT_TRUE(core_->check_read(svc, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_TRUE(core_->check_publish(svc, "chat/v1/users/alice/inbox/x"));
    EXPECT_TRUE(core_->check_publish(svc, "$CONTROL/mqchat/v1"));
    EXPECT_FALSE(core_->check_publish(svc, "$SYS/broker/x"));
    EXPECT_FALSE(core_->check_publish(svc, "$CONTROL/dynamic-security/v1"));
}

TEST_F(AccessCoreTest, UserNeedsOwnSessionToken)
{
    EXPECT_TRUE(core_->authenticate("c1", "alice", token(TokenType::session, "alice")).allowed);
    EXPECT_FALSE(core_->authenticate("c2", "alice", token(TokenType::session, "bob")).allowed);
    EXPECT_FALSE(core_->authenticate("c3", "alice", "not-a-token").allowed);
    EXPECT_FALSE(
        core_->authenticate("c4", "alice", token(TokenType::join, "alice", room_a)).allowed);
    EXPECT_FALSE(core_->authenticate("c5", "bad/name", token(TokenType::session, "bad/name"))
                     .allowed);
    EXPECT_FALSE(core_->authenticate("c6", "alice",
                                     token(TokenType::session, "alice", "", -1, -10))
                     .allowed);
}

TEST_F(AccessCoreTest, UserRightsWithoutAdmission)
{
    Connection alice = login(*core_, "c1", "alice");
    EXPECT_TRUE(core_->check_publish(alice, "chat/v1/ctl/create"));
    EXPECT_TRUE(core_->check_publish(alice, "chat/v1/ctl/whatever"));
    EXPECT_TRUE(core_->check_publish(alice, "$CONTROL/mqchat/v1"));
    EXPECT_FALSE(core_->check_publish(alice, "$CONTROL/other/v1"));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/rooms/0123456789ab/meta"));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/users/alice/inbox/x"));

    EXPECT_TRUE(core_->check_subscribe(alice, "chat/v1/users/alice/inbox/r1"));
    EXPECT_FALSE(core_->check_subscribe(alice, "chat/v1/users/bob/inbox/r1"));
    EXPECT_TRUE(core_->check_subscribe(alice, "chat/v1/rooms/0123456789ab/meta"));
    EXPECT_FALSE(core_->check_subscribe(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_subscribe(alice, "$CONTROL/mqchat/v1"));
    EXPECT_FALSE(core_->check_subscribe(alice, "chat/v1/guest/c1/abcdefabcdefabcdef"));
    EXPECT_TRUE(core_->check_read(alice, "chat/v1/users/alice/inbox/r1"));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/users/bob/inbox/r1"));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
}

TEST_F(AccessCoreTest, WildcardSubscribeGrantedButReadsDenied)
{
    Connection alice = login(*core_, "c1", "alice");
    for (const char* filter : {"#", "+/+/+/+", "chat/#", "chat/v1/rooms/+/msg"}) {
        EXPECT_TRUE(core_->check_subscribe(alice, filter)) << filter;
    }
    EXPECT_FALSE(core_->check_subscribe(alice, "$SYS/#"));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/users/bob/inbox/x"));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/ctl/login"));
    EXPECT_FALSE(core_->check_read(alice, "other/topic"));
}

// Regression: a user in the archive's share group took a share of the room
// messages, which the read check then dropped, so the archive lost them.
TEST_F(AccessCoreTest, SharedSubscriptionsAreTheServicesOnly)
{
    Connection alice = login(*core_, "c1", "alice");
    EXPECT_FALSE(core_->check_subscribe(alice, "$share/mqchat-archive/chat/v1/rooms/+/msg"));
    EXPECT_FALSE(core_->check_subscribe(alice, "$share/g/chat/v1/users/alice/inbox/x"));
    EXPECT_FALSE(core_->check_subscribe(alice, "$share/g/chat/v1/rooms/0123456789ab/meta"));
    EXPECT_FALSE(core_->check_subscribe(alice, "$share/g/#"));
    EXPECT_FALSE(core_->check_subscribe(alice, "$share/g"));
    EXPECT_TRUE(core_->check_subscribe(alice, "chat/v1/users/alice/inbox/x"));
}

// Regression: after a broker restart (reservations are in memory) a user
// could connect first as mqchat-archive-main, resume the archive's session
// and keep the room manager out of it.
TEST_F(AccessCoreTest, RoomManagerClientIdsAreReservedForTheService)
{
    AuthResult user = core_->authenticate("mqchat-archive-main", "alice",
                                          token(TokenType::session, "alice"));
    EXPECT_FALSE(user.allowed);
    EXPECT_EQ(user.reason, "client id reserved for the room manager");
    EXPECT_FALSE(core_->authenticate("mqchat-health-main", "", "").allowed);
    EXPECT_TRUE(core_->authenticate("mqchat-archive-main", "mqchat-service", secret).allowed);
    EXPECT_TRUE(core_->authenticate("mqchatter", "alice",
                                    token(TokenType::session, "alice")).allowed);
}

// Regression: QoS 2 room messages used up a seq for every re-sent copy (the
// MESSAGE event runs again) and for one never released: holes in the seqs.
TEST_F(AccessCoreTest, RoomMessagesAtQos2AreRefused)
{
    Connection alice = login(*core_, "c1", "alice");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a)))
            .ok);
    const std::string msg = "chat/v1/rooms/0123456789ab/msg";
    EXPECT_TRUE(core_->check_publish(alice, msg, false, 0));
    EXPECT_TRUE(core_->check_publish(alice, msg, false, 1));
    EXPECT_FALSE(core_->check_publish(alice, msg, false, 2));
}

// Regression: a retained control request was replayed to the room manager
// on each of its reconnects (a retained `leave` removed its sender again).
TEST_F(AccessCoreTest, RetainedControlRequestsAreRefused)
{
    Connection alice = login(*core_, "c1", "alice");
    AuthResult auth = core_->authenticate("g1", "", "");
    ASSERT_TRUE(auth.allowed);
    Connection guest = core_->connection_for("g1", "");
    EXPECT_TRUE(core_->check_publish(alice, "chat/v1/ctl/leave", false));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/ctl/leave", true));
    EXPECT_FALSE(core_->check_publish(guest, "chat/v1/ctl/register", true));
    EXPECT_FALSE(core_->check_publish(alice, "$CONTROL/mqchat/v1", true));
}

TEST_F(AccessCoreTest, PresentingJoinTokenAdmitsClientId)
{
    Connection alice = login(*core_, "c1", "alice");
    ControlResult r = core_->handle_control(alice, present_payload(token(TokenType::join, "alice",
                                                                         room_a)));
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.room, room_a);
    EXPECT_TRUE(core_->check_subscribe(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_TRUE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_TRUE(core_->check_publish(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/rooms/0123456789ab/msg", true));
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/ba9876543210/msg"));

    // Another client id of the same user is not admitted.
    Connection alice2 = login(*core_, "c2", "alice");
    EXPECT_FALSE(core_->check_read(alice2, "chat/v1/rooms/0123456789ab/msg"));
}

TEST_F(AccessCoreTest, RefusesJoinTokenOfAnotherUser)
{
    Connection alice = login(*core_, "c1", "alice");
    ControlResult r =
        core_->handle_control(alice, present_payload(token(TokenType::join, "bob", room_a)));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "token_of_another_user");
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
}

TEST_F(AccessCoreTest, RefusesExpiredJoinToken)
{
    Connection alice = login(*core_, "c1", "alice");
    ControlResult r = core_->handle_control(
        alice, present_payload(token(TokenType::join, "alice", room_a, -1, -5)));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "token_expired");
}

TEST_F(AccessCoreTest, AdmissionEndsWhenJoinTokenExpires)
{
    Connection alice = login(*core_, "c1", "alice");
    ASSERT_TRUE(core_->handle_control(
                         alice, present_payload(token(TokenType::join, "alice", room_a, -1, 60)))
                    .ok);
    now_ms_ += 61'000;
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
}

TEST_F(AccessCoreTest, RefusesSessionTokenAsJoinToken)
{
    Connection alice = login(*core_, "c1", "alice");
    ControlResult r =
        core_->handle_control(alice, present_payload(token(TokenType::session, "alice")));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "token_wrong_type");
}

TEST_F(AccessCoreTest, GuestsAndGarbageCannotPresent)
{
    Connection guest = core_->connection_for("g1", "");
    EXPECT_EQ(core_->handle_control(guest, present_payload(token(TokenType::join, "alice",
                                                                 room_a)))
                  .error,
              "not_a_user");
    Connection alice = login(*core_, "c1", "alice");
    EXPECT_EQ(core_->handle_control(alice, "nope").error, "bad_json");
    EXPECT_EQ(core_->handle_control(alice, R"({"op":"dance"})").error, "unknown_op");
    EXPECT_EQ(core_->handle_control(alice, R"({"op":"present"})").error, "bad_request");
}

TEST_F(AccessCoreTest, OnlyServiceMayRevoke)
{
    Connection alice = login(*core_, "c1", "alice");
    ControlResult r = core_->handle_control(alice, revoke_payload(room_a, "bob", now_ms_));
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "not_the_service");
}

TEST_F(AccessCoreTest, RevocationDropsAdmissionAndRefusesOlderTokens)
{
    Connection alice = login(*core_, "c1", "alice");
    std::string old_token = token(TokenType::join, "alice", room_a);
    ASSERT_TRUE(core_->handle_control(alice, present_payload(old_token)).ok);

    now_ms_ += 1000;
    ASSERT_TRUE(core_->handle_control(service(), revoke_payload(room_a, "alice", now_ms_)).ok);
    EXPECT_FALSE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_FALSE(core_->check_publish(alice, "chat/v1/rooms/0123456789ab/msg"));
    EXPECT_EQ(core_->handle_control(alice, present_payload(old_token)).error, "revoked");

    // A token issued after the revocation works again.
    now_ms_ += 1000;
    EXPECT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a)))
            .ok);
    EXPECT_TRUE(core_->check_read(alice, "chat/v1/rooms/0123456789ab/msg"));
}

TEST_F(AccessCoreTest, WildcardRevocationCoversEveryUserOfTheRoom)
{
    Connection alice = login(*core_, "c1", "alice");
    Connection bob = login(*core_, "c2", "bob");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);
    ASSERT_TRUE(
        core_->handle_control(bob, present_payload(token(TokenType::join, "bob", room_a))).ok);
    ASSERT_TRUE(
        core_->handle_control(bob, present_payload(token(TokenType::join, "bob", room_b))).ok);
    now_ms_ += 1;
    ASSERT_TRUE(core_->handle_control(service(), revoke_payload(room_a, "*", now_ms_)).ok);
    EXPECT_FALSE(core_->is_admitted("c1", "alice", room_a));
    EXPECT_FALSE(core_->is_admitted("c2", "bob", room_a));
    EXPECT_TRUE(core_->is_admitted("c2", "bob", room_b));
}

TEST_F(AccessCoreTest, RefusesClientIdTakeoverByAnotherUser)
{
    login(*core_, "shared-id", "alice");
    EXPECT_FALSE(
        core_->authenticate("shared-id", "bob", token(TokenType::session, "bob")).allowed);
    EXPECT_FALSE(core_->authenticate("shared-id", "", "").allowed);
    // The same user may reconnect with it.
    EXPECT_TRUE(
        core_->authenticate("shared-id", "alice", token(TokenType::session, "alice")).allowed);
}

TEST_F(AccessCoreTest, ClientIdWithAdmissionsStaysWithItsUserAfterDisconnect)
{
    Connection alice = login(*core_, "cid", "alice");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);
    core_->disconnected("cid", "alice");
    EXPECT_FALSE(core_->authenticate("cid", "bob", token(TokenType::session, "bob")).allowed);
}

TEST_F(AccessCoreTest, UserMayReuseAGuestClientId)
{
    ASSERT_TRUE(core_->authenticate("app-1", "", "").allowed);
    login(*core_, "app-1", "alice");
    // The guest's late disconnect must not release alice's hold on the id.
    core_->disconnected("app-1", "");
    EXPECT_FALSE(core_->authenticate("app-1", "bob", token(TokenType::session, "bob")).allowed);
}

TEST_F(AccessCoreTest, OfflineSessionStaysWithItsUserUntilItExpires)
{
    // Bob leaves a client id without any admission behind (a persistent
    // session the broker keeps for him).
    login(*core_, "bob-z", "bob");
    core_->disconnected("bob-z", "bob");

    // Nobody else may resume it, guests included; bob may.
    EXPECT_FALSE(core_->authenticate("bob-z", "mallory", token(TokenType::session, "mallory"))
                     .allowed);
    EXPECT_FALSE(core_->authenticate("bob-z", "", "").allowed);
    login(*core_, "bob-z", "bob");
    core_->disconnected("bob-z", "bob");

    // Once the broker would have expired the session, the id is free.
    now_ms_ += 31LL * 24 * 3600 * 1000;
    EXPECT_TRUE(core_->authenticate("bob-z", "mallory", token(TokenType::session, "mallory"))
                    .allowed);
}

TEST_F(AccessCoreTest, StampsRoomMessagesWithPerRoomSequence)
{
    Connection alice = login(*core_, "c1", "alice");
    auto first = core_->stamp(alice, "chat/v1/rooms/0123456789ab/msg", 111);
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0], Property("sender", "alice"));
    EXPECT_EQ(first[1], Property("seq", "1"));
    EXPECT_EQ(first[2], Property("ts", "111"));
    EXPECT_EQ(core_->stamp(alice, "chat/v1/rooms/0123456789ab/msg", 112)[1],
              Property("seq", "2"));
    EXPECT_EQ(core_->stamp(alice, "chat/v1/rooms/ba9876543210/msg", 113)[1],
              Property("seq", "1"));
    EXPECT_EQ(core_->last_seq(room_a), 2);
}

TEST_F(AccessCoreTest, StampsControlRequests)
{
    Connection alice = login(*core_, "c1", "alice");
    auto props = core_->stamp(alice, "chat/v1/ctl/create", 1);
    ASSERT_EQ(props.size(), 2u);
    EXPECT_EQ(props[0], Property("sender", "alice"));
    EXPECT_EQ(props[1], Property("client-id", "c1"));

    auto guest = core_->stamp(core_->connection_for("g1", ""), "chat/v1/ctl/login", 1);
    ASSERT_EQ(guest.size(), 1u);
    EXPECT_EQ(guest[0], Property("client-id", "g1"));

    EXPECT_TRUE(core_->stamp(alice, "chat/v1/users/alice/inbox/x", 1).empty());
    EXPECT_TRUE(AccessCore::is_stamped_property("sender"));
    EXPECT_FALSE(AccessCore::is_stamped_property("other"));
}

TEST_F(AccessCoreTest, StateSurvivesRestart)
{
    Connection alice = login(*core_, "c1", "alice");
    Connection bob = login(*core_, "c2", "bob");
    std::string alice_old = token(TokenType::join, "alice", room_a);
    ASSERT_TRUE(core_->handle_control(alice, present_payload(alice_old)).ok);
    ASSERT_TRUE(
        core_->handle_control(bob, present_payload(token(TokenType::join, "bob", room_a))).ok);
    for (int i = 0; i < 5; ++i) {
        (void)core_->stamp(alice, "chat/v1/rooms/0123456789ab/msg", now_ms_);
    }
    now_ms_ += 1;
    ASSERT_TRUE(core_->handle_control(service(), revoke_payload(room_a, "alice", now_ms_)).ok);

    // A new core over the same folder, as after a broker restart.
    core_.reset();
    core_ = make_core();
    EXPECT_EQ(core_->last_seq(room_a), 5);
    EXPECT_EQ(core_->stamp(bob, "chat/v1/rooms/0123456789ab/msg", now_ms_)[1],
              Property("seq", "6"));
    EXPECT_TRUE(core_->is_admitted("c2", "bob", room_a));
    EXPECT_FALSE(core_->is_admitted("c1", "alice", room_a));
    EXPECT_EQ(core_->handle_control(alice, present_payload(alice_old)).error, "revoked");

    // And once more, after the compaction the first restart did.
    core_.reset();
    core_ = make_core();
    EXPECT_EQ(core_->last_seq(room_a), 6);
    EXPECT_TRUE(core_->is_admitted("c2", "bob", room_a));
    EXPECT_EQ(core_->handle_control(alice, present_payload(alice_old)).error, "revoked");
}

TEST_F(AccessCoreTest, ExpiredAdmissionsAreDroppedOnLoad)
{
    Connection alice = login(*core_, "c1", "alice");
    ASSERT_TRUE(core_->handle_control(
                         alice, present_payload(token(TokenType::join, "alice", room_a, -1, 60)))
                    .ok);
    now_ms_ += 120'000;
    core_.reset();
    core_ = make_core();
    EXPECT_FALSE(core_->is_admitted("c1", "alice", room_a));
    // And the id is free for someone else.
    EXPECT_TRUE(core_->authenticate("c1", "bob", token(TokenType::session, "bob")).allowed);
}

// ---------------------------------------------------------------------------
// Presence
// ---------------------------------------------------------------------------

TEST_F(AccessCoreTest, FirstConnectionOfAUserBringsThemOnline)
{
    AuthResult auth = core_->authenticate("phone", "alice", token(TokenType::session, "alice"));
    ASSERT_TRUE(auth.allowed);
    EXPECT_EQ(auth.presence, (PresenceChange{"alice", true}));
    EXPECT_EQ(core_->online_users(), std::vector<std::string>{"alice"});
}

TEST_F(AccessCoreTest, UserWithTwoDevicesStaysOnlineWhenOneDrops)
{
    login(*core_, "phone", "alice");
    AuthResult laptop =
        core_->authenticate("laptop", "alice", token(TokenType::session, "alice"));
    ASSERT_TRUE(laptop.allowed);
    EXPECT_FALSE(laptop.presence.has_value());

    EXPECT_FALSE(core_->disconnected("phone", "alice").has_value());
    EXPECT_EQ(core_->online_users(), std::vector<std::string>{"alice"});

    EXPECT_EQ(core_->disconnected("laptop", "alice"), (PresenceChange{"alice", false}));
    EXPECT_TRUE(core_->online_users().empty());
}

TEST_F(AccessCoreTest, SessionTakeoverNeverGoesOffline)
{
    // The broker authenticates the new connection first, then reports the
    // one it replaced as gone.
    login(*core_, "phone", "alice");
    AuthResult again = core_->authenticate("phone", "alice", token(TokenType::session, "alice"));
    ASSERT_TRUE(again.allowed);
    EXPECT_FALSE(again.presence.has_value());
    EXPECT_FALSE(core_->disconnected("phone", "alice").has_value());
    EXPECT_EQ(core_->online_users(), std::vector<std::string>{"alice"});

    // The last connection going away still ends it.
    EXPECT_EQ(core_->disconnected("phone", "alice"), (PresenceChange{"alice", false}));
}

TEST_F(AccessCoreTest, ReconnectAfterDisconnectIsOfflineThenOnline)
{
    login(*core_, "phone", "alice");
    EXPECT_EQ(core_->disconnected("phone", "alice"), (PresenceChange{"alice", false}));
    AuthResult back = core_->authenticate("phone", "alice", token(TokenType::session, "alice"));
    EXPECT_EQ(back.presence, (PresenceChange{"alice", true}));
}

TEST_F(AccessCoreTest, GuestsAndServiceHaveNoPresence)
{
    AuthResult guest = core_->authenticate("g1", "", "");
    AuthResult svc = core_->authenticate("svc", "mqchat-service", secret);
    ASSERT_TRUE(guest.allowed);
    ASSERT_TRUE(svc.allowed);
    EXPECT_FALSE(guest.presence.has_value());
    EXPECT_FALSE(svc.presence.has_value());
    EXPECT_TRUE(core_->online_users().empty());
    EXPECT_FALSE(core_->disconnected("g1", "").has_value());
    EXPECT_FALSE(core_->disconnected("svc", "mqchat-service").has_value());
}

TEST_F(AccessCoreTest, RefusedConnectsDoNotCount)
{
    login(*core_, "phone", "alice");
    EXPECT_FALSE(core_->authenticate("phone", "alice", "not-a-token").allowed);
    EXPECT_FALSE(
        core_->authenticate("phone", "bob", token(TokenType::session, "bob")).allowed);
    // A disconnect for an id that bob never held changes nothing.
    EXPECT_FALSE(core_->disconnected("phone", "bob").has_value());
    EXPECT_EQ(core_->online_users(), std::vector<std::string>{"alice"});
}

TEST_F(AccessCoreTest, GuestDisplacedByUserKeepsTheUserOnline)
{
    ASSERT_TRUE(core_->authenticate("app-1", "", "").allowed);
    login(*core_, "app-1", "alice");
    // The guest's late disconnect is not alice's.
    EXPECT_FALSE(core_->disconnected("app-1", "").has_value());
    EXPECT_EQ(core_->online_users(), std::vector<std::string>{"alice"});
}

TEST_F(AccessCoreTest, PresencePayloads)
{
    EXPECT_EQ(AccessCore::presence_payload({"alice", true}),
              R"({"event":"online","user":"alice"})");
    EXPECT_EQ(AccessCore::presence_payload({"alice", false}),
              R"({"event":"offline","user":"alice"})");
    EXPECT_EQ(core_->presence_snapshot(), R"({"event":"snapshot","online":[]})");
    login(*core_, "c2", "bob");
    login(*core_, "c1", "alice");
    EXPECT_EQ(core_->presence_snapshot(), R"({"event":"snapshot","online":["alice","bob"]})");
}

TEST_F(AccessCoreTest, OnlyServiceMaySyncPresence)
{
    login(*core_, "c1", "alice");
    ControlResult ok = core_->handle_control(service(), R"({"op":"presence_sync"})");
    EXPECT_TRUE(ok.ok) << ok.error;
    EXPECT_EQ(ok.op, "presence_sync");
    EXPECT_EQ(ok.reply, R"({"event":"snapshot","online":["alice"]})");

    Connection alice = core_->connection_for("c1", "alice");
    ControlResult refused = core_->handle_control(alice, R"({"op":"presence_sync"})");
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(refused.op, "presence_sync");
    EXPECT_EQ(refused.error, "not_the_service");
    EXPECT_TRUE(refused.reply.empty());
    EXPECT_EQ(core_->handle_control(core_->connection_for("g1", ""), R"({"op":"presence_sync"})")
                  .error,
              "not_the_service");
}

TEST_F(AccessCoreTest, OnlyTheServiceReadsSysPresenceAndNobodyWritesIt)
{
    const std::string sys(topic::sys_presence);
    Connection alice = login(*core_, "c1", "alice");
    Connection guest = core_->connection_for("g1", "");
    Connection svc = service();

    EXPECT_TRUE(core_->check_read(svc, sys));
    EXPECT_TRUE(core_->check_subscribe(svc, sys));
    EXPECT_FALSE(core_->check_read(alice, sys));
    EXPECT_FALSE(core_->check_subscribe(alice, sys));
    EXPECT_FALSE(core_->check_read(guest, sys));
    EXPECT_FALSE(core_->check_subscribe(guest, sys));
    // A '#' subscription is granted, but every delivery on it is read-checked.
    EXPECT_TRUE(core_->check_subscribe(alice, "#"));
    EXPECT_FALSE(core_->check_read(alice, sys, R"({"event":"online","user":"bob"})"));

    for (const Connection& conn : {alice, guest, svc}) {
        EXPECT_FALSE(core_->check_publish(conn, sys)) << conn.client_id;
        EXPECT_FALSE(core_->check_publish(conn, sys, true)) << conn.client_id;
    }
}

// ---------------------------------------------------------------------------
// Health report and key rotation (issue 7)
// ---------------------------------------------------------------------------

TEST_F(AccessCoreTest, OnlyOperatorConnectionsAndTheServiceReadTheHealthTopic)
{
    const std::string health(topic::sys_health);
    TokenClaims claims;
    claims.type = TokenType::session;
    claims.user = "olivia";
    claims.issued_ms = now_ms_;
    claims.expires_s = now_ms_ / 1000 + 3600;
    claims.is_operator = true;
    ASSERT_TRUE(core_->authenticate("op1", "olivia", signer_->sign(claims)).allowed);
    Connection olivia = core_->connection_for("op1", "olivia");
    Connection alice = login(*core_, "c1", "alice");
    Connection guest = core_->connection_for("g1", "");

    EXPECT_TRUE(olivia.is_operator);
    EXPECT_TRUE(core_->check_subscribe(olivia, health));
    EXPECT_TRUE(core_->check_read(olivia, health, "{}"));
    EXPECT_TRUE(core_->check_read(service(), health, "{}"));
    EXPECT_FALSE(alice.is_operator);
    EXPECT_FALSE(core_->check_subscribe(alice, health));
    EXPECT_FALSE(core_->check_read(alice, health, "{}"));
    EXPECT_TRUE(core_->check_subscribe(alice, "#"));  // granted, but delivers nothing
    EXPECT_FALSE(core_->check_read(guest, health, "{}"));

    // Nothing else opens up for an operator, and only the service writes.
    EXPECT_FALSE(core_->check_read(olivia, std::string(topic::sys_presence)));
    EXPECT_FALSE(core_->check_read(olivia, topic::room_messages(room_a)));
    EXPECT_FALSE(core_->check_publish(olivia, health));
    EXPECT_TRUE(core_->check_publish(service(), health, true));

    // The operator's offline session is no operator's.
    core_->disconnected("op1", "olivia");
    EXPECT_FALSE(core_->connection_for("op1", "olivia").is_operator);
}

TEST_F(AccessCoreTest, AcceptsTheRotatedKeyOnceTheVerifierIsReplaced)
{
    const auto next = test::make_ec_key_pair();
    const TokenSigner next_signer(next.private_pem);
    TokenClaims claims;
    claims.type = TokenType::session;
    claims.user = "alice";
    claims.issued_ms = now_ms_;
    claims.expires_s = now_ms_ / 1000 + 3600;
    const std::string new_token = next_signer.sign(claims);
    const std::string old_token = token(TokenType::session, "alice");

    AuthResult before = core_->authenticate("c1", "alice", new_token);
    EXPECT_FALSE(before.allowed);
    EXPECT_EQ(before.reason, "session token unknown_key");

    core_->replace_verifier(TokenVerifier({next.public_pem, keys_.public_pem}));
    EXPECT_TRUE(core_->authenticate("c1", "alice", new_token).allowed);
    EXPECT_TRUE(core_->authenticate("c2", "alice", old_token).allowed);

    // reload_keys is the service's to ask for.
    EXPECT_TRUE(core_->handle_control(service(), R"({"op":"reload_keys"})").ok);
    EXPECT_FALSE(
        core_->handle_control(core_->connection_for("c1", "alice"), R"({"op":"reload_keys"})")
            .ok);
}

// ---------------------------------------------------------------------------
// Typing indicators and room presence topics
// ---------------------------------------------------------------------------

TEST_F(AccessCoreTest, TypingIsForAdmittedMembersAndNeverRetained)
{
    const std::string typing = topic::room_typing(room_a);
    Connection alice = login(*core_, "c1", "alice");
    Connection bob = login(*core_, "c2", "bob");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);

    EXPECT_TRUE(core_->check_publish(alice, typing));
    EXPECT_FALSE(core_->check_publish(alice, typing, true));
    EXPECT_TRUE(core_->check_subscribe(alice, typing));
    EXPECT_TRUE(core_->check_read(alice, typing));
    EXPECT_FALSE(core_->check_publish(alice, topic::room_typing(room_b)));

    EXPECT_FALSE(core_->check_publish(bob, typing));
    EXPECT_FALSE(core_->check_subscribe(bob, typing));
    EXPECT_FALSE(core_->check_read(bob, typing));
    EXPECT_FALSE(core_->check_publish(core_->connection_for("g1", ""), typing));

    // Revocation ends it like the room itself.
    now_ms_ += 1;
    ASSERT_TRUE(core_->handle_control(service(), revoke_payload(room_a, "alice", now_ms_)).ok);
    EXPECT_FALSE(core_->check_publish(alice, typing));
    EXPECT_FALSE(core_->check_read(alice, typing));
}

TEST_F(AccessCoreTest, StampsTypingWithSenderAndTimeButNoSequence)
{
    Connection alice = login(*core_, "c1", "alice");
    auto props = core_->stamp(alice, topic::room_typing(room_a), 777);
    ASSERT_EQ(props.size(), 2u);
    EXPECT_EQ(props[0], Property("sender", "alice"));
    EXPECT_EQ(props[1], Property("ts", "777"));
    EXPECT_EQ(core_->last_seq(room_a), 0);

    // Nothing was persisted either: a restart still has no sequence.
    core_.reset();
    core_ = make_core();
    EXPECT_EQ(core_->last_seq(room_a), 0);
}

TEST_F(AccessCoreTest, RoomPresenceIsReadByMembersAndWrittenByTheServiceOnly)
{
    const std::string bob_state = topic::room_presence(room_a, "bob");
    Connection alice = login(*core_, "c1", "alice");
    Connection bob = login(*core_, "c2", "bob");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);

    EXPECT_TRUE(core_->check_read(alice, bob_state));
    EXPECT_TRUE(core_->check_subscribe(alice, bob_state));
    EXPECT_TRUE(core_->check_subscribe(alice, topic::room_presence_filter(room_a)));
    EXPECT_FALSE(core_->check_read(alice, topic::room_presence(room_b, "bob")));
    EXPECT_FALSE(core_->check_read(bob, bob_state));
    EXPECT_FALSE(core_->check_subscribe(bob, bob_state));

    EXPECT_FALSE(core_->check_publish(alice, topic::room_presence(room_a, "alice")));
    EXPECT_FALSE(core_->check_publish(alice, topic::room_presence(room_a, "alice"), true));
    EXPECT_FALSE(core_->check_publish(bob, bob_state, true));
    EXPECT_TRUE(core_->check_publish(service(), bob_state, true));
    EXPECT_TRUE(core_->stamp(service(), bob_state, 1).empty());
}

// ---------------------------------------------------------------------------
// Listed and unlisted rooms
// ---------------------------------------------------------------------------

TEST_F(AccessCoreTest, NonMembersSeeOnlyListedMetadata)
{
    const std::string meta = topic::room_meta(room_a);
    Connection bob = login(*core_, "c2", "bob");

    EXPECT_TRUE(core_->check_subscribe(bob, meta));
    EXPECT_TRUE(core_->check_read(bob, meta, R"({"id":"0123456789ab","listed":true})"));
    EXPECT_FALSE(core_->check_read(bob, meta, R"({"id":"0123456789ab","listed":false})"));

    // Fail closed on anything that is not plainly listed.
    for (const char* payload : {"", "not json", "[1]", R"({"id":"0123456789ab"})",
                                R"({"listed":"true"})", R"({"listed":1})", R"({"listed":null})",
                                R"({"listed":true)"}) {
        EXPECT_FALSE(core_->check_read(bob, meta, payload)) << payload;
    }
    EXPECT_FALSE(core_->check_read(bob, meta));
}

TEST_F(AccessCoreTest, MembersAlwaysSeeTheirRoomsMetadata)
{
    const std::string meta = topic::room_meta(room_a);
    Connection alice = login(*core_, "c1", "alice");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);

    EXPECT_TRUE(core_->check_read(alice, meta, R"({"listed":false})"));
    EXPECT_TRUE(core_->check_read(alice, meta, ""));
    EXPECT_FALSE(core_->check_read(alice, topic::room_meta(room_b), R"({"listed":false})"));
    EXPECT_TRUE(core_->check_read(service(), meta, R"({"listed":false})"));
    EXPECT_FALSE(core_->check_read(core_->connection_for("g1", ""), meta, R"({"listed":true})"));

    // Once revoked, alice is a non-member like anyone else.
    now_ms_ += 1;
    ASSERT_TRUE(core_->handle_control(service(), revoke_payload(room_a, "alice", now_ms_)).ok);
    EXPECT_FALSE(core_->check_read(alice, meta, R"({"listed":false})"));
    EXPECT_TRUE(core_->check_read(alice, meta, R"({"listed":true})"));
}

TEST_F(AccessCoreTest, OnlyTheServiceWritesMetadata)
{
    const std::string meta = topic::room_meta(room_a);
    Connection alice = login(*core_, "c1", "alice");
    ASSERT_TRUE(
        core_->handle_control(alice, present_payload(token(TokenType::join, "alice", room_a))).ok);
    EXPECT_FALSE(core_->check_publish(alice, meta));
    EXPECT_FALSE(core_->check_publish(alice, meta, true));
    EXPECT_TRUE(core_->check_publish(service(), meta, true));
}

}  // namespace
}  // namespace mqchat::access
