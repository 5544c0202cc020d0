#include "mqchat/client/detail/room_sync.hpp"

#include <gtest/gtest.h>

namespace mqchat::client::detail {
namespace {

using namespace std::chrono_literals;
using Clock = RoomSync::Clock;

// A message as the archive or the broker would hand it over.
Message message(std::int64_t seq, std::string id = {})
{
    Message m;
    m.room = "Book club";
    m.room_id = "3f9a0c61d2b4";
    m.id = id.empty() ? "id-" + std::to_string(seq) : std::move(id);
    m.sender = "bob";
    m.text = "text " + std::to_string(seq);
    m.seq = seq;
    return m;
}

// Archive entries first..last, all well-formed.
HistoryBatch archive(std::int64_t first, std::int64_t last, bool more = false)
{
    HistoryBatch batch;
    batch.room_id = "3f9a0c61d2b4";
    for (std::int64_t seq = first; seq <= last; ++seq) {
        batch.entries.push_back({seq, message(seq)});
    }
    batch.more = more;
    batch.last_seq = std::max<std::int64_t>(last, 0);
    return batch;
}

std::vector<std::int64_t> seqs(const std::vector<Message>& messages)
{
    std::vector<std::int64_t> out;
    for (const auto& m : messages) {
        out.push_back(m.seq);
    }
    return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last)
{
    std::vector<std::int64_t> out;
    for (std::int64_t seq = first; seq <= last; ++seq) {
        out.push_back(seq);
    }
    return out;
}

// A RoomSync with a clock the test moves by hand.
class RoomSyncTest : public ::testing::Test {
protected:
    RoomSync make(int history = 50)
    {
        RoomSync::Settings settings;
        settings.history = history;
        return RoomSync(settings);
    }

    // Enters with history, answers the load with `batch`; returns the sync.
    RoomSync live_at(std::int64_t last)
    {
        RoomSync sync = make();
        sync.subscribed(now);
        auto fetch = sync.take_fetch();
        sync.fetched(fetch->id, archive(1, last), now);
        (void)sync.take_ready();
        return sync;
    }

    Clock::time_point now = Clock::time_point() + 1h;
};

// --- entering a room ------------------------------------------------------

TEST_F(RoomSyncTest, EnteringLoadsTheNewestHistory)
{
    RoomSync sync = make(50);
    sync.subscribed(now);

    auto fetch = sync.take_fetch();
    ASSERT_TRUE(fetch);
    EXPECT_FALSE(fetch->after);
    EXPECT_EQ(fetch->limit, 50);
    EXPECT_TRUE(sync.syncing());
    EXPECT_FALSE(sync.take_fetch());  // handed out once
}

TEST_F(RoomSyncTest, LiveMessagesDuringTheLoadComeAfterHistoryExactlyOnce)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    auto fetch = sync.take_fetch();

    // 9 and 10 reach the archive and the subscription; 11 and 12 only live.
    for (std::int64_t seq : {9, 10, 11, 12}) {
        sync.live(seq, message(seq), now);
    }
    EXPECT_TRUE(sync.take_ready().empty());

    sync.fetched(fetch->id, archive(1, 10), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(1, 12));
    EXPECT_FALSE(sync.syncing());
    EXPECT_EQ(sync.last_seq(), 12);
}

TEST_F(RoomSyncTest, EmptyRoomStartsAtZero)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    auto fetch = sync.take_fetch();
    sync.fetched(fetch->id, archive(1, 0), now);

    EXPECT_FALSE(sync.syncing());
    sync.live(1, message(1), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(1, 1));
}

TEST_F(RoomSyncTest, LiveBacklogOlderThanTheHistoryWindowIsKept)
{
    // History of 2, but 5 and 6 arrived live before the archive's 8..10.
    RoomSync sync = make(2);
    sync.subscribed(now);
    auto load = sync.take_fetch();
    sync.live(5, message(5), now);
    sync.live(6, message(6), now);
    sync.fetched(load->id, archive(9, 10), now);

    EXPECT_EQ(seqs(sync.take_ready()), range(5, 6));
    auto fill = sync.take_fetch();
    ASSERT_TRUE(fill);
    EXPECT_EQ(fill->after, 6);
    sync.fetched(fill->id, archive(7, 10), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(7, 10));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, HistoryZeroDeliversLiveAtOnceWithoutFetching)
{
    RoomSync sync = make(0);
    sync.subscribed(now);
    EXPECT_FALSE(sync.take_fetch());

    sync.live(41, message(41), now);
    sync.live(42, message(42), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(41, 42));
}

TEST_F(RoomSyncTest, MessagesBeforeTheSubscribeIsConfirmedWait)
{
    RoomSync sync = make(0);
    sync.live(7, message(7), now);
    EXPECT_TRUE(sync.take_ready().empty());

    sync.subscribed(now);
    EXPECT_EQ(seqs(sync.take_ready()), range(7, 7));
}

TEST_F(RoomSyncTest, FailedLoadIsRetriedWithBackoff)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    auto first = sync.take_fetch();
    sync.failed(first->id, now);
    EXPECT_FALSE(sync.take_fetch());
    EXPECT_EQ(sync.next_wakeup(), now + 100ms);

    sync.tick(now + 100ms);
    auto second = sync.take_fetch();
    ASSERT_TRUE(second);
    EXPECT_NE(second->id, first->id);
    EXPECT_FALSE(second->after);

    // The next failure waits twice as long.
    sync.failed(second->id, now + 100ms);
    EXPECT_EQ(sync.next_wakeup(), now + 300ms);
}

TEST_F(RoomSyncTest, LoadThatNeverAnswersGivesUpAndDeliversLiveInOrder)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    (void)sync.take_fetch();
    sync.live(21, message(21), now);
    sync.live(20, message(20), now);

    // Attempts time out and are retried until the patience runs out.
    for (auto t = now; t < now + 10s; t += 50ms) {
        sync.tick(t);
        (void)sync.take_fetch();
    }
    EXPECT_TRUE(sync.syncing());
    for (auto t = now + 10s; t <= now + 10100ms; t += 50ms) {
        sync.tick(t);
        (void)sync.take_fetch();
    }
    EXPECT_FALSE(sync.syncing());
    EXPECT_EQ(seqs(sync.take_ready()), range(20, 21));
    sync.live(22, message(22), now + 3s);
    EXPECT_EQ(seqs(sync.take_ready()), range(22, 22));
}

// --- live order and duplicates -------------------------------------------

TEST_F(RoomSyncTest, DuplicatesAndOldSeqsAreDropped)
{
    RoomSync sync = live_at(10);
    sync.live(10, message(10), now);
    sync.live(3, message(3), now);
    sync.live(11, message(11), now);
    sync.live(11, message(11), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 11));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, RetriedSendStoredUnderTwoSeqsIsShownOnce)
{
    RoomSync sync = live_at(4);
    sync.live(5, message(5, "same-id"), now);
    sync.live(6, message(6, "same-id"), now);
    sync.live(7, message(7), now);

    EXPECT_EQ(seqs(sync.take_ready()), (std::vector<std::int64_t>{5, 7}));
    EXPECT_EQ(sync.last_seq(), 7);
}

TEST_F(RoomSyncTest, MalformedLivePayloadCountsAsSeen)
{
    RoomSync sync = live_at(10);
    sync.live(11, std::nullopt, now);
    sync.live(12, message(12), now);

    EXPECT_EQ(seqs(sync.take_ready()), range(12, 12));
    EXPECT_FALSE(sync.syncing());
    EXPECT_FALSE(sync.take_fetch());
}

TEST_F(RoomSyncTest, MalformedArchiveEntriesAreSeenButNotDelivered)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    auto fetch = sync.take_fetch();
    HistoryBatch batch = archive(1, 3);
    batch.entries[1].message.reset();
    sync.fetched(fetch->id, batch, now);

    EXPECT_EQ(seqs(sync.take_ready()), (std::vector<std::int64_t>{1, 3}));
    sync.live(4, message(4), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(4, 4));
    EXPECT_FALSE(sync.syncing());
}

// --- gaps -----------------------------------------------------------------

TEST_F(RoomSyncTest, GapHoldsLaterMessagesAndFetchesTheMissingOnes)
{
    RoomSync sync = live_at(10);
    sync.live(13, message(13), now);
    EXPECT_TRUE(sync.take_ready().empty());
    auto fetch = sync.take_fetch();
    ASSERT_TRUE(fetch);
    EXPECT_EQ(fetch->after, 10);
    EXPECT_EQ(fetch->limit, 500);

    sync.live(14, message(14), now);
    EXPECT_TRUE(sync.take_ready().empty());
    sync.fetched(fetch->id, archive(11, 14), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 14));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, ArchiveBehindLiveIsAskedAgainAfterABackoff)
{
    RoomSync sync = live_at(10);
    sync.live(13, message(13), now);
    auto first = sync.take_fetch();

    // The archive has 11 but not yet 12.
    sync.fetched(first->id, archive(11, 11), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 11));
    EXPECT_FALSE(sync.take_fetch());
    EXPECT_EQ(sync.next_wakeup(), now + 100ms);

    sync.tick(now + 100ms);
    auto second = sync.take_fetch();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->after, 11);
    sync.fetched(second->id, archive(12, 13), now + 120ms);
    EXPECT_EQ(seqs(sync.take_ready()), range(12, 13));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, GapTheArchiveNeverFillsIsReportedAndSkipped)
{
    RoomSync sync = live_at(10);
    sync.live(13, message(13), now);
    sync.live(15, message(15), now);

    // The archive keeps answering with nothing new.
    for (auto t = now; t < now + 3s; t += 10ms) {
        if (auto fetch = sync.take_fetch()) {
            sync.fetched(fetch->id, archive(1, 0), t);
        }
        sync.tick(t);
    }
    EXPECT_TRUE(sync.syncing());
    sync.tick(now + 3s);

    EXPECT_FALSE(sync.syncing());
    EXPECT_EQ(seqs(sync.take_ready()), (std::vector<std::int64_t>{13, 15}));
    auto gaps = sync.take_gaps();
    ASSERT_EQ(gaps.size(), 2u);
    EXPECT_EQ(gaps[0].first, 11);
    EXPECT_EQ(gaps[0].last, 12);
    EXPECT_EQ(gaps[1].first, 14);
    EXPECT_EQ(gaps[1].last, 14);
}

TEST_F(RoomSyncTest, ProgressExtendsThePatience)
{
    RoomSync sync = live_at(0);
    sync.live(2000, message(2000), now);
    auto fetch = sync.take_fetch();

    // Each page answers 2 s late, after its attempt timed out: slow, but
    // every answer brings something new, so the catch-up goes on.
    auto t = now;
    for (std::int64_t first = 1; first < 2000; first += 500) {
        ASSERT_TRUE(fetch) << "page from " << first;
        t += 2s;
        sync.tick(t);
        std::int64_t last = std::min<std::int64_t>(first + 499, 1999);
        sync.fetched(fetch->id, archive(first, last, last < 1999), t);
        t += 100ms;
        sync.tick(t);
        fetch = sync.take_fetch();
    }
    EXPECT_EQ(seqs(sync.take_ready()), range(1, 2000));
    EXPECT_TRUE(sync.take_gaps().empty());
}

TEST_F(RoomSyncTest, UnansweredFetchIsRetriedAndALateAnswerStillCounts)
{
    RoomSync sync = live_at(10);
    sync.live(12, message(12), now);
    auto first = sync.take_fetch();

    sync.tick(now + 1s);  // attempt timeout
    sync.tick(now + 1100ms);
    auto second = sync.take_fetch();
    ASSERT_TRUE(second);
    EXPECT_NE(second->id, first->id);

    sync.fetched(first->id, archive(11, 12), now + 1200ms);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 12));

    // The current fetch then finds nothing more and the catch-up ends.
    sync.fetched(second->id, archive(11, 12), now + 1300ms);
    EXPECT_FALSE(sync.syncing());
    EXPECT_TRUE(sync.take_ready().empty());
}

TEST_F(RoomSyncTest, TooManyHeldMessagesEndTheCatchUp)
{
    RoomSync::Settings settings;
    settings.max_held = 3;
    RoomSync sync(settings);
    sync.subscribed(now);
    auto load = sync.take_fetch();
    sync.fetched(load->id, archive(1, 1), now);
    (void)sync.take_ready();

    for (std::int64_t seq = 3; seq <= 6; ++seq) {
        sync.live(seq, message(seq), now);
    }
    EXPECT_FALSE(sync.syncing());
    EXPECT_EQ(seqs(sync.take_ready()), range(3, 6));
    ASSERT_EQ(sync.take_gaps().size(), 1u);
}

// --- reconnects -----------------------------------------------------------

TEST_F(RoomSyncTest, ReconnectCatchesUpExactlyWhatWasMissed)
{
    RoomSync sync = live_at(10);
    sync.subscribed(now);  // resubscribed after a reconnect
    auto fetch = sync.take_fetch();
    ASSERT_TRUE(fetch);
    EXPECT_EQ(fetch->after, 10);

    // New live traffic waits until the archive filled the outage.
    sync.live(16, message(16), now);
    EXPECT_TRUE(sync.take_ready().empty());
    sync.fetched(fetch->id, archive(11, 16), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 16));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, ReconnectWithNothingMissedGoesLiveAgain)
{
    RoomSync sync = live_at(10);
    sync.subscribed(now);
    auto fetch = sync.take_fetch();
    sync.fetched(fetch->id, archive(1, 0), now);

    EXPECT_FALSE(sync.syncing());
    sync.live(11, message(11), now);
    EXPECT_EQ(seqs(sync.take_ready()), range(11, 11));
}

TEST_F(RoomSyncTest, LongOutageIsFetchedPageByPage)
{
    RoomSync sync = live_at(0);
    sync.subscribed(now);
    auto page1 = sync.take_fetch();
    sync.fetched(page1->id, archive(1, 500, true), now);
    auto page2 = sync.take_fetch();
    ASSERT_TRUE(page2);
    EXPECT_EQ(page2->after, 500);
    sync.fetched(page2->id, archive(501, 650), now);

    EXPECT_EQ(seqs(sync.take_ready()), range(1, 650));
    EXPECT_FALSE(sync.syncing());
}

TEST_F(RoomSyncTest, ReconnectDuringTheLoadLoadsAgain)
{
    RoomSync sync = make(50);
    sync.subscribed(now);
    auto lost = sync.take_fetch();
    sync.subscribed(now);
    auto again = sync.take_fetch();
    ASSERT_TRUE(again);
    EXPECT_NE(again->id, lost->id);
    EXPECT_FALSE(again->after);
}

TEST_F(RoomSyncTest, HistoryZeroWithNothingSeenHasNothingToCatchUp)
{
    RoomSync sync = make(0);
    sync.subscribed(now);
    sync.subscribed(now);
    EXPECT_FALSE(sync.take_fetch());
    EXPECT_FALSE(sync.syncing());
}

}  // namespace
}  // namespace mqchat::client::detail
