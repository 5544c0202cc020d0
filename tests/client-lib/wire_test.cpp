#include "mqchat/client/detail/wire.hpp"

#include <gtest/gtest.h>

#include "mqchat/client/error.hpp"

namespace mqchat::client::detail {
namespace {

using nlohmann::json;

ErrorCode code_of(std::string_view reply)
{
    try {
        (void)parse_reply(reply);
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::ok;
}

UserProperties stamped(std::string sender = "bob", std::string seq = "7",
                       std::string ts = "1764800000123")
{
    return {{"sender", std::move(sender)}, {"seq", std::move(seq)}, {"ts", std::move(ts)}};
}

// --- random ids -----------------------------------------------------------

TEST(RandomHex, HasTwoLowercaseDigitsPerByte)
{
    std::string hex = random_hex(16);
    ASSERT_EQ(hex.size(), 32u);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(hex, random_hex(16));
}

// --- requests -------------------------------------------------------------

TEST(Requests, CredentialsCarryUserAndPassword)
{
    EXPECT_EQ(json::parse(credentials_request("alice", "s3cret")),
              json({{"user", "alice"}, {"password", "s3cret"}}));
}

TEST(Requests, RoomRequestEscapesQuotesAndUnicode)
{
    json body = json::parse(room_request("Book \"club\" \xc3\xa9", "p"));
    EXPECT_EQ(body["room"], "Book \"club\" \xc3\xa9");
    EXPECT_EQ(body["password"], "p");
}

TEST(Requests, LeaveCarriesOnlyTheRoom)
{
    EXPECT_EQ(json::parse(room_only_request("lobby")), json({{"room", "lobby"}}));
}

TEST(Requests, PresentNamesTheOpAndToken)
{
    EXPECT_EQ(json::parse(present_payload("a.b.c")),
              json({{"op", "present"}, {"token", "a.b.c"}}));
}

TEST(Requests, MessagePayloadHasIdAndTextOnly)
{
    EXPECT_EQ(json::parse(message_payload("0123456789abcdef", "hi")),
              json({{"id", "0123456789abcdef"}, {"text", "hi"}}));
}

// --- replies --------------------------------------------------------------

TEST(Replies, OkReplyIsReturnedWhole)
{
    json reply = parse_reply(R"({"ok":true,"user":"alice","token":"t","expires":5})");
    EXPECT_EQ(reply["token"], "t");
}

TEST(Replies, RefusalBecomesErrorWithItsCode)
{
    try {
        (void)parse_reply(
            R"({"ok":false,"error":{"code":"wrong_password","message":"wrong room password"}})");
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::wrong_password);
        EXPECT_STREQ(e.what(), "wrong_password: wrong room password");
    }
}

TEST(Replies, EveryServiceCodeIsRecognised)
{
    for (auto code : {ErrorCode::bad_json, ErrorCode::user_exists, ErrorCode::bad_credentials,
                      ErrorCode::room_exists, ErrorCode::no_such_room, ErrorCode::not_member,
                      ErrorCode::rate_limited, ErrorCode::not_authenticated}) {
        std::string reply = R"({"ok":false,"error":{"code":")" + std::string(to_string(code)) +
                            R"(","message":"m"}})";
        EXPECT_EQ(code_of(reply), code) << reply;
    }
}

TEST(Replies, UnknownCodeBecomesInternalErrorKeepingTheText)
{
    try {
        (void)parse_reply(R"({"ok":false,"error":{"code":"brand_new","message":"m"}})");
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::internal_error);
        EXPECT_EQ(e.message(), "brand_new: m");
    }
}

TEST(Replies, MalformedReplyIsInternalError)
{
    EXPECT_EQ(code_of("not json"), ErrorCode::internal_error);
    EXPECT_EQ(code_of("[1,2]"), ErrorCode::internal_error);
    EXPECT_EQ(code_of(R"({"user":"alice"})"), ErrorCode::internal_error);
    EXPECT_EQ(code_of(R"({"ok":"yes"})"), ErrorCode::internal_error);
    EXPECT_EQ(code_of(R"({"ok":false})"), ErrorCode::internal_error);
    EXPECT_EQ(code_of(R"({"ok":false,"error":{"code":"ok"}})"), ErrorCode::internal_error);
}

// --- room metadata --------------------------------------------------------

TEST(RoomMeta, ParsesEveryField)
{
    auto room = parse_room_meta(R"({"id":"3f9a0c61d2b4","name":"Book club","owner":"alice",
                                    "protected":true,"members":2,"created":1764800000})");
    ASSERT_TRUE(room);
    EXPECT_EQ(room->id, "3f9a0c61d2b4");
    EXPECT_EQ(room->name, "Book club");
    EXPECT_EQ(room->owner, "alice");
    EXPECT_TRUE(room->is_protected);
    EXPECT_EQ(room->members, 2);
    EXPECT_EQ(room->created, 1764800000);
}

TEST(RoomMeta, EmptyRetainedPayloadMeansDeleted)
{
    std::string why;
    EXPECT_FALSE(parse_room_meta("", &why));
    EXPECT_NE(why.find("deleted"), std::string::npos);
}

TEST(RoomMeta, MissingFieldIsSkippedNotThrown)
{
    std::string why;
    EXPECT_FALSE(parse_room_meta(R"({"id":"3f9a0c61d2b4","name":"x"})", &why));
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(parse_room_meta("{", &why));
}

TEST(RoomMeta, ReplyRoomWithWrongTypeThrowsInternalError)
{
    json meta = {{"id", "3f9a0c61d2b4"}, {"name", "x"},   {"owner", "a"},
                 {"protected", "yes"},  {"members", 1}, {"created", 1}};
    try {
        (void)room_info_from_json(meta);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::internal_error);
    }
}

// --- room messages --------------------------------------------------------

TEST(RoomMessage, TakesSenderSeqAndTsFromUserProperties)
{
    auto message = parse_room_message("Book club", "3f9a0c61d2b4",
                                      R"({"id":"7c1e2f0a9b3d4e5f","text":"hello"})", stamped(),
                                      "alice");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->room, "Book club");
    EXPECT_EQ(message->room_id, "3f9a0c61d2b4");
    EXPECT_EQ(message->id, "7c1e2f0a9b3d4e5f");
    EXPECT_EQ(message->sender, "bob");
    EXPECT_EQ(message->text, "hello");
    EXPECT_EQ(message->seq, 7);
    EXPECT_EQ(message->ts, 1764800000123);
    EXPECT_FALSE(message->mine);
}

TEST(RoomMessage, IgnoresForgedSenderInPayload)
{
    auto message = parse_room_message(
        "r", "3f9a0c61d2b4",
        R"({"id":"7c1e2f0a9b3d4e5f","text":"hi","sender":"alice","seq":99,"ts":1})", stamped(),
        "alice");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->sender, "bob");
    EXPECT_EQ(message->seq, 7);
    EXPECT_EQ(message->ts, 1764800000123);
    EXPECT_FALSE(message->mine);
}

TEST(RoomMessage, OwnMessageIsMarkedMine)
{
    auto message = parse_room_message("r", "3f9a0c61d2b4", R"({"id":"x1","text":"hi"})",
                                      stamped("alice"), "alice");
    ASSERT_TRUE(message);
    EXPECT_TRUE(message->mine);
}

TEST(RoomMessage, BrokerValueWinsOverAnEarlierDuplicateProperty)
{
    UserProperties properties = {{"sender", "mallory"}, {"sender", "bob"}, {"seq", "1"},
                                 {"ts", "2"}};
    auto message = parse_room_message("r", "3f9a0c61d2b4", R"({"id":"x1","text":"hi"})",
                                      properties, "alice");
    ASSERT_TRUE(message);
    EXPECT_EQ(message->sender, "bob");
}

TEST(RoomMessage, MissingPropertiesAreSkipped)
{
    const char* payload = R"({"id":"x1","text":"hi"})";
    std::string why;
    EXPECT_FALSE(parse_room_message("r", "i", payload, {}, "alice", &why));
    EXPECT_NE(why.find("property"), std::string::npos);
    EXPECT_FALSE(parse_room_message("r", "i", payload, {{"sender", "bob"}, {"seq", "1"}},
                                    "alice"));
    EXPECT_FALSE(parse_room_message("r", "i", payload, {{"seq", "1"}, {"ts", "2"}}, "alice"));
    EXPECT_FALSE(parse_room_message("r", "i", payload, stamped(""), "alice"));
}

TEST(RoomMessage, NonNumericSeqOrTsIsSkipped)
{
    const char* payload = R"({"id":"x1","text":"hi"})";
    EXPECT_FALSE(parse_room_message("r", "i", payload, stamped("bob", "7a"), "alice"));
    EXPECT_FALSE(parse_room_message("r", "i", payload, stamped("bob", "7", ""), "alice"));
    EXPECT_FALSE(parse_room_message("r", "i", payload, stamped("bob", "", "5"), "alice"));
}

TEST(RoomMessage, MalformedPayloadIsSkippedWithoutText)
{
    std::string why;
    for (const char* payload : {"", "hello", "[]", R"({"text":"hi"})", R"({"id":5,"text":"x"})",
                                R"({"id":"","text":"x"})", R"({"id":"x1"})",
                                R"({"id":"x1","text":3})"}) {
        EXPECT_FALSE(parse_room_message("r", "i", payload, stamped(), "alice", &why)) << payload;
        EXPECT_FALSE(why.empty());
    }
}

// --- history --------------------------------------------------------------

TEST(History, RequestCarriesOnlyTheBoundsGiven)
{
    EXPECT_EQ(json::parse(history_request("lobby", std::nullopt, std::nullopt, std::nullopt)),
              json({{"room", "lobby"}}));
    EXPECT_EQ(json::parse(history_request("lobby", 120, 80, 50)),
              json({{"room", "lobby"}, {"before", 120}, {"after", 80}, {"limit", 50}}));
}

TEST(History, ReplyEntriesBecomeMessagesOfTheRoom)
{
    json reply = json::parse(R"({"ok": true, "room": {"id": "3f9a0c61d2b4"}, "more": true,
        "last_seq": 131, "messages": [
          {"seq": 130, "id": "7c1e", "sender": "alice", "text": "hi", "ts": 1764800000123},
          {"seq": 131, "sender": "bob", "ts": 1764800000456, "malformed": true}]})");
    HistoryBatch batch = history_from_json(reply, "Book club", "alice");

    EXPECT_EQ(batch.room_id, "3f9a0c61d2b4");
    EXPECT_TRUE(batch.more);
    EXPECT_EQ(batch.last_seq, 131);
    ASSERT_EQ(batch.entries.size(), 2u);
    EXPECT_EQ(batch.entries[0].seq, 130);
    ASSERT_TRUE(batch.entries[0].message);
    const Message& m = *batch.entries[0].message;
    EXPECT_EQ(m.room, "Book club");
    EXPECT_EQ(m.room_id, "3f9a0c61d2b4");
    EXPECT_EQ(m.id, "7c1e");
    EXPECT_EQ(m.sender, "alice");
    EXPECT_EQ(m.text, "hi");
    EXPECT_EQ(m.seq, 130);
    EXPECT_EQ(m.ts, 1764800000123);
    EXPECT_TRUE(m.mine);
    EXPECT_EQ(batch.entries[1].seq, 131);
    EXPECT_FALSE(batch.entries[1].message);
}

TEST(History, EntryMissingAFieldCountsAsMalformed)
{
    json reply = json::parse(R"({"ok": true, "messages": [
          {"seq": 5, "sender": "bob", "ts": 1},
          {"seq": 6, "id": 7, "sender": "bob", "text": "x", "ts": 1},
          {"id": "no-seq", "sender": "bob", "text": "x", "ts": 1},
          "not an object"]})");
    HistoryBatch batch = history_from_json(reply, "r", "alice");

    ASSERT_EQ(batch.entries.size(), 2u);  // the two without a seq are skipped
    EXPECT_FALSE(batch.entries[0].message);
    EXPECT_FALSE(batch.entries[1].message);
    EXPECT_FALSE(batch.more);
    EXPECT_EQ(batch.last_seq, 0);
}

TEST(History, ReplyWithoutMessagesIsInternalError)
{
    try {
        (void)history_from_json(json({{"ok", true}}), "r", "alice");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::internal_error);
    }
}

TEST(History, StampedSeqIsReadEvenWithoutTheOtherProperties)
{
    EXPECT_EQ(stamped_seq({{"seq", "42"}}), 42);
    EXPECT_FALSE(stamped_seq({{"seq", "4x"}}));
    EXPECT_FALSE(stamped_seq({{"sender", "bob"}}));
}

// --- dedupe ---------------------------------------------------------------

TEST(MessageDeduper, DropsSecondCopyInSameRoom)
{
    MessageDeduper deduper;
    EXPECT_TRUE(deduper.first_time("room1", "a"));
    EXPECT_FALSE(deduper.first_time("room1", "a"));
}

TEST(MessageDeduper, SameIdInAnotherRoomIsNew)
{
    MessageDeduper deduper;
    EXPECT_TRUE(deduper.first_time("room1", "a"));
    EXPECT_TRUE(deduper.first_time("room2", "a"));
}

TEST(MessageDeduper, ForgetsOldestIdsBeyondItsBound)
{
    MessageDeduper deduper(2);
    EXPECT_TRUE(deduper.first_time("r", "a"));
    EXPECT_TRUE(deduper.first_time("r", "b"));
    EXPECT_TRUE(deduper.first_time("r", "c"));  // pushes "a" out
    EXPECT_FALSE(deduper.first_time("r", "c"));
    EXPECT_FALSE(deduper.first_time("r", "b"));
    EXPECT_TRUE(deduper.first_time("r", "a"));
}

}  // namespace
}  // namespace mqchat::client::detail
