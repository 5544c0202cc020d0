// Keeps one room's messages exactly once and in seq order across history,
// live delivery, gaps and reconnects. Pure: it gets events with the time
// they happened and says what to deliver and what to fetch from the
// archive, so every ordering rule is unit-tested without a broker. The
// Client runs one per entered room on its dispatch thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/types.hpp"

namespace mqchat::client::detail {

// What RoomSync wants from the archive. With `after`: the oldest `limit`
// messages with seq > after (catching up). Without: the newest `limit`
// (entering the room).
struct HistoryFetch {
    std::uint64_t id = 0;  // hand back to fetched() or failed()
    std::optional<std::int64_t> after;
    int limit = 50;
};

// Seqs first..last (inclusive) given up on: never delivered.
struct SeqGap {
    std::int64_t first = 0;
    std::int64_t last = 0;
};

// The rules, in order of precedence:
// - a seq at or below the last one accounted for is a duplicate: dropped;
// - the next seq (last + 1) is delivered at once, then whatever it unblocks;
// - a later seq is held, and the missing range is fetched with `after`;
// - entering loads the newest `history` messages first, holding live ones;
// - a reconnect (subscribed() again) catches up from the last seq;
// - an archive entry marked malformed (or a live message whose payload is
//   malformed) counts as seen, so it is no gap, but is not delivered;
// - the same message id twice (a retried send, stored under two seqs) is
//   delivered once;
// - a catch-up that makes no progress for `give_up_after` stops: held
//   messages are delivered in order and the holes reported as gaps.
//
// Not thread-safe: one thread (the Client's dispatch thread) owns it.
class RoomSync {
public:
    using Clock = std::chrono::steady_clock;

    struct Settings {
        int history = 50;  // messages shown on entering; 0 = only live ones
        int page = 500;    // catch-up page size (the protocol's maximum)
        // A catch-up that gets nothing new for this long gives up.
        std::chrono::milliseconds give_up_after{3000};
        // The same for loading history on entering: a slow room manager
        // delays the first messages, but they still come with history.
        std::chrono::milliseconds load_give_up_after{10000};
        // An unanswered fetch counts as failed after this; a late answer is
        // still used.
        std::chrono::milliseconds attempt_timeout{1000};
        // Backoff between fetches while the archive lags or fails.
        std::chrono::milliseconds retry_min{100};
        std::chrono::milliseconds retry_max{1000};
        // Held live messages beyond this end a catch-up at once.
        std::size_t max_held = 10000;
        // Message ids remembered for deduplication.
        std::size_t remembered_ids = 4096;
    };

    explicit RoomSync(Settings settings);

    // The room's subscription is in place: the first time, load history;
    // after that (a reconnect), catch up from the last seq.
    void subscribed(Clock::time_point now);

    // A live message with the broker's seq; `message` is empty when its
    // payload was malformed.
    void live(std::int64_t seq, std::optional<Message> message, Clock::time_point now);

    // The archive's answer to fetch `fetch_id` (an earlier, superseded one
    // is used too: what it lists is still true).
    void fetched(std::uint64_t fetch_id, const HistoryBatch& batch, Clock::time_point now);

    // Fetch `fetch_id` failed (error reply, not connected).
    void failed(std::uint64_t fetch_id, Clock::time_point now);

    // Time passed: retries, attempt timeouts and giving up.
    void tick(Clock::time_point now);

    // Messages to hand to the application, in order; clears them.
    [[nodiscard]] std::vector<Message> take_ready();

    // The fetch to send now, if any; at most one is in flight.
    [[nodiscard]] std::optional<HistoryFetch> take_fetch();

    // Ranges given up on since the last call, for the log.
    [[nodiscard]] std::vector<SeqGap> take_gaps();

    // When tick() has something to do; nullopt when nothing is pending.
    [[nodiscard]] std::optional<Clock::time_point> next_wakeup() const;

    // The last seq accounted for (delivered, malformed or given up).
    [[nodiscard]] std::optional<std::int64_t> last_seq() const { return last_; }

    // Whether history is loading or a catch-up is running.
    [[nodiscard]] bool syncing() const;

    // Live messages waiting for a hole before them to be filled.
    [[nodiscard]] std::size_t held() const { return held_.size(); }

private:
    enum class Phase {
        waiting,      // not subscribed yet: hold everything
        loading,      // fetching the newest `history` messages
        live,         // in order; nothing pending
        catching_up,  // fetching after last_
    };

    void start(Clock::time_point now);
    void issue(Clock::time_point now);
    void retry_later(Clock::time_point now);
    void merge(const HistoryBatch& batch);
    bool drain();
    void catch_up_if_hole(Clock::time_point now);
    void loaded(const HistoryBatch& batch, Clock::time_point now);
    void caught_up_step(bool current, bool progressed, bool more, Clock::time_point now);
    void give_up();
    void finish();

    Settings settings_;
    Phase phase_ = Phase::waiting;
    std::optional<std::int64_t> last_;
    // seq -> message (empty: malformed), for seqs above last_.
    std::map<std::int64_t, std::optional<Message>> held_;
    std::vector<Message> ready_;
    std::vector<SeqGap> gaps_;
    MessageDeduper deduper_;

    // The fetch state while loading or catching up.
    std::optional<HistoryFetch> to_send_;
    std::uint64_t next_fetch_id_ = 1;
    std::optional<std::uint64_t> in_flight_;
    Clock::time_point attempt_deadline_{};
    std::optional<Clock::time_point> retry_at_;
    Clock::time_point give_up_at_{};
    std::chrono::milliseconds backoff_{};
};

}  // namespace mqchat::client::detail
