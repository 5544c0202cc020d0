#include "mqchat/client/detail/room_sync.hpp"

#include <algorithm>

namespace mqchat::client::detail {

RoomSync::RoomSync(Settings settings)
    : settings_(settings), deduper_(settings.remembered_ids), backoff_(settings.retry_min)
{
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

void RoomSync::subscribed(Clock::time_point now)
{
    switch (phase_) {
    case Phase::waiting:
        if (settings_.history > 0) {
            phase_ = Phase::loading;
            start(now);
            return;
        }
        // No history wanted: the first live message is where we start.
        phase_ = Phase::live;
        if (!held_.empty()) {
            last_ = held_.begin()->first - 1;
        }
        drain();
        catch_up_if_hole(now);
        return;
    case Phase::loading:
        // The reply to the old request may be lost with the old connection.
        start(now);
        return;
    case Phase::live:
    case Phase::catching_up:
        // A reconnect: whatever was published meanwhile is only in the archive.
        if (last_) {
            phase_ = Phase::catching_up;
            start(now);
        }
        return;
    }
}

void RoomSync::live(std::int64_t seq, std::optional<Message> message, Clock::time_point now)
{
    if (last_ && seq <= *last_) {
        return;  // a duplicate, or already delivered from history
    }
    held_.emplace(seq, std::move(message));

    switch (phase_) {
    case Phase::waiting:
        return;
    case Phase::loading:
        if (held_.size() > settings_.max_held) {
            give_up();
        }
        return;
    case Phase::live:
        if (!last_) {
            last_ = seq - 1;  // history 0: the first message sets the start
        }
        drain();
        catch_up_if_hole(now);
        return;
    case Phase::catching_up:
        // Reordered deliveries can fill a hole by themselves.
        drain();
        if (held_.size() > settings_.max_held) {
            give_up();
        }
        return;
    }
}

void RoomSync::fetched(std::uint64_t fetch_id, const HistoryBatch& batch, Clock::time_point now)
{
    const bool current = in_flight_ && *in_flight_ == fetch_id;
    switch (phase_) {
    case Phase::waiting:
        return;
    case Phase::loading:
        // Any answer to "the newest N" will do, superseded or not.
        loaded(batch, now);
        return;
    case Phase::live:
        // A late answer after a catch-up ended; a new hole starts another.
        merge(batch);
        drain();
        catch_up_if_hole(now);
        return;
    case Phase::catching_up: {
        const auto before = last_;
        merge(batch);
        drain();
        caught_up_step(current, last_ != before, batch.more, now);
        return;
    }
    }
}

void RoomSync::failed(std::uint64_t fetch_id, Clock::time_point now)
{
    if (!syncing() || !in_flight_ || *in_flight_ != fetch_id) {
        return;
    }
    in_flight_.reset();
    retry_later(now);
}

void RoomSync::tick(Clock::time_point now)
{
    if (!syncing()) {
        return;
    }
    if (now >= give_up_at_) {
        give_up();
        return;
    }
    if (in_flight_ && now >= attempt_deadline_) {
        in_flight_.reset();
        retry_later(now);
    }
    if (!in_flight_ && retry_at_ && now >= *retry_at_) {
        issue(now);
    }
}

// ---------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------

std::vector<Message> RoomSync::take_ready()
{
    std::vector<Message> out;
    out.swap(ready_);
    return out;
}

std::optional<HistoryFetch> RoomSync::take_fetch()
{
    auto out = std::move(to_send_);
    to_send_.reset();
    return out;
}

std::vector<SeqGap> RoomSync::take_gaps()
{
    std::vector<SeqGap> out;
    out.swap(gaps_);
    return out;
}

std::optional<RoomSync::Clock::time_point> RoomSync::next_wakeup() const
{
    if (!syncing()) {
        return std::nullopt;
    }
    auto next = give_up_at_;
    if (in_flight_) {
        next = std::min(next, attempt_deadline_);
    } else if (retry_at_) {
        next = std::min(next, *retry_at_);
    }
    return next;
}

bool RoomSync::syncing() const
{
    return phase_ == Phase::loading || phase_ == Phase::catching_up;
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------

// A fresh sync: a full patience budget and the shortest backoff.
void RoomSync::start(Clock::time_point now)
{
    give_up_at_ = now + (phase_ == Phase::loading ? settings_.load_give_up_after
                                                   : settings_.give_up_after);
    backoff_ = settings_.retry_min;
    issue(now);
}

// Hands out a new fetch; it supersedes any still in flight.
void RoomSync::issue(Clock::time_point now)
{
    HistoryFetch fetch;
    fetch.id = next_fetch_id_++;
    if (phase_ == Phase::loading) {
        fetch.limit = settings_.history;
    } else {
        fetch.after = last_.value_or(0);
        fetch.limit = settings_.page;
    }
    in_flight_ = fetch.id;
    attempt_deadline_ = now + settings_.attempt_timeout;
    retry_at_.reset();
    to_send_ = fetch;
}

void RoomSync::retry_later(Clock::time_point now)
{
    retry_at_ = now + backoff_;
    backoff_ = std::min(backoff_ * 2, settings_.retry_max);
}

// Archive entries above last_ join the held live messages; a live copy of
// the same seq is kept (they are the same message).
void RoomSync::merge(const HistoryBatch& batch)
{
    for (const auto& entry : batch.entries) {
        if (!last_ || entry.seq > *last_) {
            held_.emplace(entry.seq, entry.message);
        }
    }
}

// Delivers the run of consecutive seqs after last_. True if it moved.
bool RoomSync::drain()
{
    if (!last_) {
        return false;
    }
    bool moved = false;
    while (!held_.empty()) {
        auto it = held_.begin();
        if (it->first <= *last_) {
            held_.erase(it);
            continue;
        }
        if (it->first != *last_ + 1) {
            break;
        }
        // One RoomSync per room, so the deduper needs no room key.
        auto& message = it->second;
        if (message && deduper_.first_time(std::string(), message->id)) {
            ready_.push_back(std::move(*message));
        }
        last_ = it->first;
        held_.erase(it);
        moved = true;
    }
    return moved;
}

void RoomSync::catch_up_if_hole(Clock::time_point now)
{
    if (phase_ == Phase::live && !held_.empty()) {
        phase_ = Phase::catching_up;
        start(now);
    }
}

// The newest-N answer: it sets where the room starts for us. Live messages
// older than the history window (a small N, a busy room) start it earlier,
// so none of them is lost; the catch-up then fills in between.
void RoomSync::loaded(const HistoryBatch& batch, Clock::time_point now)
{
    std::int64_t start_at =
        batch.entries.empty() ? batch.last_seq : batch.entries.front().seq - 1;
    if (!held_.empty()) {
        start_at = std::min(start_at, held_.begin()->first - 1);
    }
    last_ = std::max<std::int64_t>(start_at, 0);
    merge(batch);
    drain();

    // Held messages beyond a hole: the archive lags behind live, or the
    // history window was too small. Either way, catch up from here.
    in_flight_.reset();
    to_send_.reset();
    phase_ = Phase::live;
    catch_up_if_hole(now);
}

void RoomSync::caught_up_step(bool current, bool progressed, bool more, Clock::time_point now)
{
    if (progressed) {
        give_up_at_ = now + settings_.give_up_after;
        backoff_ = settings_.retry_min;
    }
    if (!current) {
        return;  // the fetch in flight decides what comes next
    }
    in_flight_.reset();
    if (more) {
        issue(now);  // the next page, at once
    } else if (held_.empty()) {
        finish();  // the archive has nothing newer, and nothing is waiting
    } else {
        retry_later(now);  // a hole the archive cannot fill yet
    }
}

// Delivers every held message in order; each hole becomes a reported gap.
void RoomSync::give_up()
{
    if (!last_ && !held_.empty()) {
        last_ = held_.begin()->first - 1;  // history never came
    }
    while (last_ && !held_.empty()) {
        drain();
        if (held_.empty()) {
            break;
        }
        std::int64_t next = held_.begin()->first;
        gaps_.push_back({*last_ + 1, next - 1});
        last_ = next - 1;
    }
    finish();
}

void RoomSync::finish()
{
    phase_ = Phase::live;
    in_flight_.reset();
    to_send_.reset();
    retry_at_.reset();
}

}  // namespace mqchat::client::detail
