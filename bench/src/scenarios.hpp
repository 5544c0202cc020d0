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

[[nodiscard]] TrafficResult run_fanout(const Target& target, const Sizes& sizes);
// Unlike the others, runs on both targets together: set up at once, then
// alternating in short rounds, because latency tails on a shared machine
// follow whatever else runs there, and both sides must see the same.
[[nodiscard]] LatencyPair run_latency(const Target& plain, const Target& mqchat,
                                      const Sizes& sizes);
[[nodiscard]] RoomsResult run_rooms(const Target& target, const Sizes& sizes);
[[nodiscard]] JoinsResult run_joins(const JoinTarget& target, const Sizes& sizes);

}  // namespace mqchat::bench
