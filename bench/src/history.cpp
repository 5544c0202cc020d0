// 5. Archive, second half: history queries against a large archive. (The
// first half, how fast the archive stores, is measured during the fan-out
// in scenarios.cpp.)
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/error.hpp"
#include "mqchat/protocol.hpp"
#include "scenario_support.hpp"
#include "scenarios.hpp"
#include "store_file.hpp"

namespace mqchat::bench {

namespace {

using namespace std::chrono_literals;

constexpr int page = 50;
constexpr auto reply_timeout = 30s;

// Sends one history request and waits for its reply; returns the latency
// in nanoseconds and the reply.
std::int64_t time_history(BenchConnection& via, const std::string& room,
                          std::optional<std::int64_t> before, nlohmann::json& reply)
{
    const std::int64_t start = steady_ns();
    auto future =
        via.request(op::history, client::detail::history_request(room, before, {}, page));
    if (future.wait_for(reply_timeout) != std::future_status::ready) {
        throw std::runtime_error("history: no reply from the room manager");
    }
    const std::string payload = future.get();
    const std::int64_t took = steady_ns() - start;
    try {
        reply = client::detail::parse_reply(payload);
    } catch (const client::Error& e) {
        throw std::runtime_error(std::string("history: ") + e.what());
    }
    if (!reply.contains("messages") || reply["messages"].size() != page) {
        throw std::runtime_error("history: a page of the wrong size");
    }
    return took;
}

}  // namespace

HistoryResult run_history(const Target& target, const Sizes& sizes)
{
    using namespace detail;
    if (!target.is_mqchat || target.store_path.empty()) {
        throw std::invalid_argument("history: needs mqchat and its store file");
    }
    if (sizes.history_per_room < sizes.history_back + page) {
        throw std::invalid_argument("history: rooms must hold more than the deep page");
    }

    // One user owns the rooms the seeded messages go to; the first room is
    // the one queried, and it is full.
    StoreFile store(target.store_path);
    const std::uint64_t existing = store.all_messages();
    const std::uint64_t missing =
        sizes.history_stored > existing ? sizes.history_stored - existing : 0;
    const std::size_t room_count = static_cast<std::size_t>(
        std::max<std::uint64_t>(1, (missing + sizes.history_per_room - 1) /
                                       sizes.history_per_room));
    Swarm swarm(target, fresh_tag('h'), 1);
    swarm.connect();
    std::vector<RoomSpec> rooms(room_count);
    for (std::size_t r = 0; r < rooms.size(); ++r) {
        rooms[r].name = swarm.user_name(0) + " history " + std::to_string(r);
    }
    swarm.open(rooms);

    const auto seeding = std::chrono::steady_clock::now();
    std::uint64_t left = std::max(missing, sizes.history_per_room);
    for (const RoomSpec& room : rooms) {
        const std::uint64_t rows = std::min(left, sizes.history_per_room);
        store.seed(room.id, swarm.user_name(0), rows, sizes.text_bytes);
        left -= rows;
    }

    HistoryResult result;
    result.seed_s = seconds_since(seeding);
    result.stored = store.all_messages();
    result.room_messages = store.room_messages(rooms[0].id);

    // One query at a time, the two kinds taking turns.
    BenchConnection& via = *swarm.connections()[0];
    const auto deep_before =
        static_cast<std::int64_t>(result.room_messages - sizes.history_back + 1);
    std::vector<std::int64_t> latest, deep;
    nlohmann::json reply;
    for (std::size_t q = 0; q < sizes.history_queries; ++q) {
        latest.push_back(time_history(via, rooms[0].name, std::nullopt, reply));
        if (reply.value("last_seq", 0) != static_cast<std::int64_t>(result.room_messages)) {
            throw std::runtime_error("history: last_seq is not the seeded count");
        }
        deep.push_back(time_history(via, rooms[0].name, deep_before, reply));
        if (reply["messages"].back().value("seq", 0) != deep_before - 1) {
            throw std::runtime_error("history: the deep page starts at the wrong seq");
        }
    }
    result.latest = percentiles(std::move(latest));
    result.deep = percentiles(std::move(deep));
    return result;
}

}  // namespace mqchat::bench
