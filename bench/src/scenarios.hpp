// The benchmark scenarios. Each one runs against one Target and returns
// plain numbers; main.cpp runs it against the plain broker and against
// mqchat and compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "argon2_rate.hpp"
#include "swarm.hpp"
#include "traffic.hpp"

namespace mqchat::bench {

// The size of every scenario; each field is a command-line flag.
struct Sizes {
    // Common to the message scenarios.
    std::size_t text_bytes = 200;
    std::size_t window = 500;
    std::size_t sender_inflight = 16;
    std::size_t total_inflight = 64;

    // 1. Fan-out: one sender, this many receivers in one room.
    std::size_t fanout_receivers = 50;
    std::uint64_t fanout_messages = 20'000;

    // 2. Latency at a steady load.
    double latency_rate = 1000;
    std::size_t latency_rooms = 10;
    std::size_t latency_members = 10;
    double latency_seconds = 20;        // per target, in latency_rounds turns
    double latency_warmup_seconds = 2;  // per target, before the counted rounds
    std::size_t latency_rounds = 10;

    // 3. Many rooms (and 6. memory at its end).
    std::size_t rooms_small = 10;
    std::size_t rooms_large = 2000;
    std::size_t room_members = 5;
    std::size_t rooms_users = 100;      // each user is in large * members / users rooms
    std::uint64_t rooms_messages = 20'000;  // per phase

    // 4. Joins.
    std::size_t join_users = 8;  // joining at the same time
    std::size_t join_rooms = 8;  // each user joins every room

    // 5. Archive: history queries against this many stored messages, in
    // rooms of at most history_per_room (the shipped retention keeps
    // 100,000 per room), `history_queries` of each kind, one at a time.
    std::uint64_t history_stored = 1'000'000;
    std::uint64_t history_per_room = 100'000;
    std::uint64_t history_back = 10'000;  // the deep page starts this far back
    std::size_t history_queries = 200;

    // 7. Login storm during scenario 2's traffic (on the joins backend).
    std::size_t storm_logins = 200;
    std::size_t storm_users = 20;       // each logs in storm_logins / storm_users times
    double storm_idle_seconds = 10;     // traffic without the storm, for the baseline

    // 8. Idle connections.
    std::size_t connections = 10'000;
    std::size_t connection_users = 100;  // mqchat: sessions shared by the connections
    std::size_t connect_depth = 200;     // connects in flight at once

    [[nodiscard]] static Sizes full() { return {}; }
    [[nodiscard]] static Sizes smoke();
};

struct Percentiles {
    std::size_t samples = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
};

struct LatencyResult {
    TrafficResult traffic;
    Percentiles latency;
};

struct LatencyPair {
    LatencyResult plain;
    LatencyResult mqchat;
};

// Resident sizes at one moment of scenario 3.
struct Memory {
    std::optional<std::uint64_t> broker;
    std::optional<std::uint64_t> manager;  // mqchat only
};

struct RoomsResult {
    TrafficResult small;
    TrafficResult large;
    std::size_t small_memberships = 0;
    std::size_t large_memberships = 0;
    Memory connected;    // users connected, no rooms yet
    Memory small_ready;  // small rooms set up, before their traffic
    Memory large_ready;  // all rooms set up, before their traffic
    Memory at_end;       // after all traffic
};

// The mqchat backend for scenario 4, running at the project's default
// Argon2id cost.
struct JoinTarget {
    std::string broker;
    Argon2Cost cost;
    unsigned workers = 4;  // the room manager's --workers
};

struct JoinsResult {
    std::size_t joins = 0;
    double seconds = 0;
    double joins_per_s = 0;
    unsigned raw_threads = 0;  // min(workers, nproc): what the manager can use
    double raw_per_s = 0;      // hashes/s with raw_threads threads
    double raw_single_per_s = 0;
};

// 5. How the archive kept up with one fan-out run (mqchat only).
struct ArchiveRate {
    std::uint64_t messages = 0;   // sent in the run
    std::uint64_t archived = 0;   // rows for the room at the end
    double seconds = 0;           // first send to the last row archived
    double archived_per_s = 0;
    double drain_s = 0;           // last delivery to the last row archived
    std::uint64_t max_backlog = 0;           // delivered - archived, sampled
    std::uint64_t backlog_first_half = 0;    // its maximum in each half of the run
    std::uint64_t backlog_second_half = 0;
};

struct FanoutResult {
    TrafficResult traffic;
    std::optional<ArchiveRate> archive;  // when Target::store_path is known
};

struct HistoryResult {
    std::uint64_t stored = 0;  // rows in the store while querying
    std::uint64_t room_messages = 0;
    Percentiles latest;        // the newest 50
    Percentiles deep;          // 50 before (last_seq - history_back)
    double seed_s = 0;
};

struct StormResult {
    std::size_t logins = 0;
    double seconds = 0;
    double logins_per_s = 0;
    Percentiles idle;    // scenario 2 traffic before the storm
    Percentiles storm;   // the same traffic while the logins run
    TrafficResult idle_traffic;
    TrafficResult storm_traffic;
};

struct ConnectionsResult {
    std::size_t connections = 0;
    double seconds = 0;
    double connects_per_s = 0;
    Memory before;  // only the setup connections
    Memory after;   // all connected, idle
    double broker_bytes_per_connection = 0;
    double manager_bytes_per_connection = 0;
    long open_files_limit = 0;  // this process's soft RLIMIT_NOFILE
};

[[nodiscard]] FanoutResult run_fanout(const Target& target, const Sizes& sizes);
// Unlike the others, runs on both targets together: set up at once, then
// alternating in short rounds, because latency tails on a shared machine
// follow whatever else runs there, and both sides must see the same.
[[nodiscard]] LatencyPair run_latency(const Target& plain, const Target& mqchat,
                                      const Sizes& sizes);
[[nodiscard]] RoomsResult run_rooms(const Target& target, const Sizes& sizes);
[[nodiscard]] JoinsResult run_joins(const JoinTarget& target, const Sizes& sizes);
// mqchat only: seeds the store (Target::store_path) up to
// Sizes::history_stored rows, then times history queries.
[[nodiscard]] HistoryResult run_history(const Target& target, const Sizes& sizes);
// mqchat at the default Argon2id cost only: scenario 2's traffic, then the
// same while Sizes::storm_logins logins are in flight at once.
[[nodiscard]] StormResult run_storm(const Target& target, const Sizes& sizes);
[[nodiscard]] ConnectionsResult run_connections(const Target& target, const Sizes& sizes);

}  // namespace mqchat::bench
