#include "scenarios.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "client_nodelay.hpp"
#include "machine.hpp"
#include "scenario_support.hpp"
#include "store_file.hpp"
#include "mqchat/client/client.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/error.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::bench {

namespace detail {

// A fresh prefix for users, client ids and rooms: "<letter><6 hex>".
std::string fresh_tag(char scenario)
{
    return std::string(1, scenario) + client::detail::random_hex(3);
}

TrafficOptions traffic_options(const Sizes& sizes)
{
    TrafficOptions options;
    options.text_bytes = sizes.text_bytes;
    options.window = sizes.window;
    options.sender_inflight = sizes.sender_inflight;
    options.total_inflight = sizes.total_inflight;
    return options;
}

Percentiles percentiles(std::vector<std::int64_t> latencies_ns)
{
    Percentiles p;
    p.samples = latencies_ns.size();
    if (latencies_ns.empty()) {
        return p;
    }
    std::sort(latencies_ns.begin(), latencies_ns.end());

    // Nearest rank: the smallest sample with at least q of all at or below it.
    auto at = [&](double q) {
        const auto rank = static_cast<std::size_t>(std::ceil(q * latencies_ns.size()));
        return static_cast<double>(latencies_ns[std::max<std::size_t>(rank, 1) - 1]) / 1e6;
    };
    p.p50_ms = at(0.50);
    p.p99_ms = at(0.99);
    p.max_ms = static_cast<double>(latencies_ns.back()) / 1e6;
    return p;
}

Memory memory_of(const Target& target)
{
    return {resident_bytes(target.broker_pid), resident_bytes(target.manager_pid)};
}

std::chrono::milliseconds to_ms(double seconds)
{
    return std::chrono::milliseconds(std::llround(seconds * 1000));
}

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace detail

using namespace detail;
using namespace std::chrono_literals;

namespace {

// CPU time of the broker, the room manager and this process over a run.
class CpuMeter {
public:
    explicit CpuMeter(const Target& target)
        : target_(target),
          broker_(cpu_seconds(target.broker_pid)),
          manager_(cpu_seconds(target.manager_pid)),
          bench_(own_cpu_seconds())
    {
    }

    void charge(TrafficResult& result) const
    {
        result.broker_cpu_s = used(broker_, cpu_seconds(target_.broker_pid));
        result.manager_cpu_s = used(manager_, cpu_seconds(target_.manager_pid));
        result.bench_cpu_s = used(bench_, own_cpu_seconds());
    }

private:
    static double used(const std::optional<double>& before, const std::optional<double>& now)
    {
        return before && now ? *now - *before : -1;
    }

    const Target& target_;
    std::optional<double> broker_;
    std::optional<double> manager_;
    std::optional<double> bench_;
};

// pump() with the CPU it cost.
TrafficResult metered_pump(const Target& target, const std::vector<Route>& routes,
                           const std::vector<BenchConnection*>& receivers,
                           std::uint64_t messages, const TrafficOptions& options)
{
    const CpuMeter meter(target);
    TrafficResult result = pump(routes, receivers, messages, options);
    meter.charge(result);
    return result;
}

}  // namespace

Sizes Sizes::smoke()
{
    Sizes s;
    s.fanout_receivers = 10;
    s.fanout_messages = 2'000;
    s.latency_rate = 200;
    s.latency_rooms = 3;
    s.latency_members = 4;
    s.latency_seconds = 2;
    s.latency_warmup_seconds = 0.5;
    s.latency_rounds = 2;
    s.rooms_small = 4;
    s.rooms_large = 40;
    s.rooms_users = 20;
    s.rooms_messages = 1'000;
    s.join_users = 2;
    s.join_rooms = 2;
    s.history_stored = 20'000;
    s.history_per_room = 10'000;
    s.history_back = 1'000;
    s.history_queries = 20;
    s.storm_logins = 8;
    s.storm_users = 2;
    s.storm_idle_seconds = 1;
    s.connections = 100;
    s.connection_users = 10;
    s.connect_depth = 50;
    return s;
}

// ---------------------------------------------------------------------------
// 1. Fan-out throughput
// ---------------------------------------------------------------------------

namespace {

// Samples, while a fan-out runs, how many of its messages the first receiver
// has and how many the archive has stored, on its own thread.
class ArchiveSampler {
public:
    ArchiveSampler(const std::string& store_path, std::string room_id,
                   const BenchConnection& receiver)
        : store_(store_path),
          room_id_(std::move(room_id)),
          receiver_(receiver),
          base_received_(receiver.received()),
          base_archived_(store_.room_messages(room_id_)),
          start_(std::chrono::steady_clock::now())
    {
        thread_ = std::thread([this] { loop(); });
    }

    ~ArchiveSampler() { finish(); }
    ArchiveSampler(const ArchiveSampler&) = delete;
    ArchiveSampler& operator=(const ArchiveSampler&) = delete;

    // Waits (bounded) until `messages` rows are archived, then stops.
    ArchiveRate result(std::uint64_t messages, double traffic_seconds)
    {
        const auto deadline = std::chrono::steady_clock::now() + archive_drain_timeout;
        while (archived_.load() < messages && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(sample_every);
        }
        finish();

        ArchiveRate rate;
        rate.messages = messages;
        rate.archived = archived_.load();
        rate.seconds = last_growth_s_;
        rate.archived_per_s = rate.seconds > 0 ? static_cast<double>(rate.archived) / rate.seconds
                                               : 0;
        rate.drain_s = std::max(0.0, last_growth_s_ - traffic_seconds);
        for (const auto& [at, backlog] : backlog_) {
            rate.max_backlog = std::max(rate.max_backlog, backlog);
            auto& half = at < traffic_seconds / 2 ? rate.backlog_first_half
                                                  : rate.backlog_second_half;
            if (at <= traffic_seconds) {
                half = std::max(half, backlog);
            }
        }
        return rate;
    }

private:
    static constexpr auto sample_every = std::chrono::milliseconds(50);
    static constexpr auto archive_drain_timeout = std::chrono::seconds(30);

    void loop()
    {
        while (!stop_.load()) {
            const std::uint64_t received = receiver_.received() - base_received_;
            const std::uint64_t archived = store_.room_messages(room_id_) - base_archived_;
            const double at = seconds_since(start_);
            if (archived > archived_.load()) {
                last_growth_s_ = at;
            }
            archived_.store(archived);
            backlog_.emplace_back(at, received > archived ? received - archived : 0);
            std::this_thread::sleep_for(sample_every);
        }
    }

    void finish()
    {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    StoreFile store_;
    std::string room_id_;
    const BenchConnection& receiver_;
    std::uint64_t base_received_;
    std::uint64_t base_archived_;
    std::chrono::steady_clock::time_point start_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> archived_{0};
    double last_growth_s_ = 0;                                // sampler thread, then result()
    std::vector<std::pair<double, std::uint64_t>> backlog_;  // the same
    std::thread thread_;
};

}  // namespace

FanoutResult run_fanout(const Target& target, const Sizes& sizes)
{
    // User 0 sends; users 1..N receive.
    const auto setup = std::chrono::steady_clock::now();
    Swarm swarm(target, fresh_tag('f'), sizes.fanout_receivers + 1);
    swarm.connect();
    std::vector<RoomSpec> rooms(1);
    rooms[0].name = swarm.user_name(0) + " fan-out";
    rooms[0].sender = 0;
    for (std::size_t i = 1; i <= sizes.fanout_receivers; ++i) {
        rooms[0].receivers.push_back(i);
    }
    swarm.open(rooms);
    const double setup_s = seconds_since(setup);

    // 5. On mqchat, the archive stores every message of the run meanwhile.
    std::unique_ptr<ArchiveSampler> sampler;
    if (target.is_mqchat && !target.store_path.empty() && sizes.fanout_receivers > 0) {
        sampler = std::make_unique<ArchiveSampler>(target.store_path, rooms[0].id,
                                                   *swarm.connections()[1]);
    }
    FanoutResult result;
    result.traffic = metered_pump(target, swarm.routes(rooms), swarm.connections(),
                                  sizes.fanout_messages, traffic_options(sizes));
    result.traffic.setup_s = setup_s;
    if (sampler) {
        result.archive = sampler->result(sizes.fanout_messages, result.traffic.seconds);
    }
    return result;
}

// ---------------------------------------------------------------------------
// 2. Latency at a steady load
// ---------------------------------------------------------------------------

namespace {

// One target's side of the latency scenario: its users and rooms, and what
// its rounds added up to.
struct LatencySide {
    const Target* target = nullptr;
    std::unique_ptr<Swarm> swarm;
    std::vector<Route> routes;
    std::vector<BenchConnection*> receivers;
    std::vector<std::int64_t> latencies;
    LatencyResult result;
};

LatencySide prepare_latency(const Target& target, const Sizes& sizes)
{
    // Room r's members are users r*M .. r*M+M-1; the first one also sends.
    const auto setup = std::chrono::steady_clock::now();
    const std::size_t members = sizes.latency_members;
    LatencySide side;
    side.target = &target;
    side.swarm = std::make_unique<Swarm>(target, fresh_tag('l'), sizes.latency_rooms * members);
    side.swarm->connect();
    std::vector<RoomSpec> rooms(sizes.latency_rooms);
    for (std::size_t r = 0; r < rooms.size(); ++r) {
        rooms[r].name = side.swarm->user_name(r * members) + " latency";
        rooms[r].sender = r * members;
        for (std::size_t k = 0; k < members; ++k) {
            rooms[r].receivers.push_back(r * members + k);
        }
    }
    side.swarm->open(rooms);
    side.routes = side.swarm->routes(rooms);
    side.receivers = side.swarm->connections();
    side.result.traffic.setup_s = seconds_since(setup);
    return side;
}

// One round of paced traffic on one side; its samples are kept if `keep`.
void latency_round(LatencySide& side, const Sizes& sizes, std::chrono::milliseconds duration,
                   bool keep)
{
    const CpuMeter meter(*side.target);
    TrafficResult round = pace(side.routes, side.receivers, sizes.latency_rate, duration,
                               traffic_options(sizes));
    meter.charge(round);
    for (auto* r : side.receivers) {
        const std::vector<std::int64_t> samples = r->take_latencies();
        if (keep) {
            side.latencies.insert(side.latencies.end(), samples.begin(), samples.end());
        }
    }
    if (!keep) {
        return;
    }

    // The rounds add up to one run.
    TrafficResult& total = side.result.traffic;
    total.sent += round.sent;
    total.expected += round.expected;
    total.delivered += round.delivered;
    total.seconds += round.seconds;
    total.delivered_per_s = static_cast<double>(total.delivered) / total.seconds;
    total.max_send_lag_ms = std::max(total.max_send_lag_ms, round.max_send_lag_ms);
    for (auto [sum, part] : {std::pair{&total.broker_cpu_s, round.broker_cpu_s},
                             std::pair{&total.manager_cpu_s, round.manager_cpu_s},
                             std::pair{&total.bench_cpu_s, round.bench_cpu_s}}) {
        *sum = part < 0 ? -1 : std::max(*sum, 0.0) + part;
    }
}

}  // namespace

LatencyPair run_latency(const Target& plain, const Target& mqchat, const Sizes& sizes)
{
    // Both targets are set up at once, then take turns.
    std::array<LatencySide, 2> sides{prepare_latency(plain, sizes),
                                     prepare_latency(mqchat, sizes)};
    for (LatencySide& side : sides) {
        latency_round(side, sizes, to_ms(sizes.latency_warmup_seconds), false);
    }

    // Short rounds in the order ABBA ABBA ..., so that whatever else the
    // machine does in the meantime falls on both alike.
    const std::size_t rounds = std::max<std::size_t>(sizes.latency_rounds, 1);
    const auto round_length = to_ms(sizes.latency_seconds / static_cast<double>(rounds));
    for (std::size_t round = 0; round < rounds; ++round) {
        const bool plain_first = round % 2 == 0;
        latency_round(sides[plain_first ? 0 : 1], sizes, round_length, true);
        latency_round(sides[plain_first ? 1 : 0], sizes, round_length, true);
    }

    LatencyPair pair;
    for (LatencySide& side : sides) {
        side.result.latency = percentiles(std::move(side.latencies));
    }
    pair.plain = std::move(sides[0].result);
    pair.mqchat = std::move(sides[1].result);
    return pair;
}

// ---------------------------------------------------------------------------
// 7. Login storm during scenario 2's traffic
// ---------------------------------------------------------------------------

namespace {

// Requests in flight on one guest connection (see Swarm's connection_depth).
constexpr std::size_t guest_depth = 16;
constexpr auto storm_timeout = std::chrono::seconds(600);
constexpr std::string_view storm_password = "bench-storm-password";

std::vector<std::unique_ptr<BenchConnection>> open_guests(const Target& target,
                                                          const std::string& tag,
                                                          std::size_t count)
{
    std::vector<std::unique_ptr<BenchConnection>> guests;
    std::vector<mqtt::token_ptr> waiting;
    for (std::size_t g = 0; g < count; ++g) {
        guests.push_back(
            std::make_unique<BenchConnection>(target.broker, tag + "-g" + std::to_string(g)));
        waiting.push_back(guests.back()->connect("", ""));
    }
    wait_all(waiting, 60s, "storm guest connect");
    apply_client_nodelay(target.broker);
    waiting.clear();
    for (auto& guest : guests) {
        const std::string inbox =
            topic::guest_inbox(guest->client_id(), client::detail::random_hex(16));
        guest->set_reply_topic(inbox);
        waiting.push_back(guest->subscribe(inbox));
    }
    wait_all(waiting, 60s, "storm guest subscribe");
    return guests;
}

// Sends `op` for every user at once, round-robin over the guests (at most
// guest_depth each), and waits for every reply. Throws on an error reply.
void request_all(const std::vector<std::unique_ptr<BenchConnection>>& guests,
                 std::string_view op, const std::vector<std::string>& users)
{
    if (users.size() > guests.size() * guest_depth) {
        throw std::invalid_argument("storm: too few guest connections");
    }
    std::vector<std::future<std::string>> replies;
    for (std::size_t i = 0; i < users.size(); ++i) {
        replies.push_back(guests[i % guests.size()]->request(
            op, client::detail::credentials_request(users[i], storm_password)));
    }
    const auto deadline = std::chrono::steady_clock::now() + storm_timeout;
    for (auto& reply : replies) {
        if (reply.wait_until(deadline) != std::future_status::ready) {
            throw std::runtime_error(std::string(op) + ": no reply from the room manager");
        }
        try {
            (void)client::detail::parse_reply(reply.get());
        } catch (const client::Error& e) {
            throw std::runtime_error(std::string(op) + ": " + e.what());
        }
    }
}

// Paced traffic for `duration`; returns its latency samples.
std::vector<std::int64_t> paced(LatencySide& side, const Sizes& sizes,
                                std::chrono::milliseconds duration, TrafficResult& total)
{
    const TrafficResult round = pace(side.routes, side.receivers, sizes.latency_rate, duration,
                                     traffic_options(sizes));
    total.sent += round.sent;
    total.expected += round.expected;
    total.delivered += round.delivered;
    total.seconds += round.seconds;
    total.delivered_per_s = static_cast<double>(total.delivered) / total.seconds;
    total.max_send_lag_ms = std::max(total.max_send_lag_ms, round.max_send_lag_ms);
    std::vector<std::int64_t> all;
    for (auto* r : side.receivers) {
        const std::vector<std::int64_t> samples = r->take_latencies();
        all.insert(all.end(), samples.begin(), samples.end());
    }
    return all;
}

}  // namespace

StormResult run_storm(const Target& target, const Sizes& sizes)
{
    LatencySide side = prepare_latency(target, sizes);
    const std::string tag = fresh_tag('s');
    const std::size_t users = std::max<std::size_t>(1, sizes.storm_users);
    auto guests = open_guests(target, tag, (std::max(sizes.storm_logins, users) + guest_depth -
                                            1) / guest_depth);
    std::vector<std::string> names;
    for (std::size_t u = 0; u < users; ++u) {
        names.push_back(tag + "u" + std::to_string(u));
    }
    request_all(guests, op::register_user, names);

    // Warm up, then the baseline: the same traffic, nothing else.
    TrafficResult ignored;
    (void)paced(side, sizes, to_ms(sizes.latency_warmup_seconds), ignored);
    StormResult result;
    result.idle = percentiles(paced(side, sizes, to_ms(sizes.storm_idle_seconds),
                                    result.idle_traffic));

    // The storm: every login in flight at once, while the traffic goes on in
    // one-second rounds until the last login is answered.
    std::vector<std::string> logins;
    for (std::size_t i = 0; i < sizes.storm_logins; ++i) {
        logins.push_back(names[i % names.size()]);
    }
    const auto start = std::chrono::steady_clock::now();
    auto storm = std::async(std::launch::async, [&] {
        request_all(guests, op::login, logins);
        return seconds_since(start);
    });
    std::vector<std::int64_t> during;
    do {
        auto samples = paced(side, sizes, 1000ms, result.storm_traffic);
        during.insert(during.end(), samples.begin(), samples.end());
    } while (storm.wait_for(0s) != std::future_status::ready);
    result.seconds = storm.get();
    result.logins = logins.size();
    result.logins_per_s = static_cast<double>(result.logins) / result.seconds;
    result.storm = percentiles(std::move(during));
    for (auto& guest : guests) {
        (void)guest->disconnect();
    }
    return result;
}

// ---------------------------------------------------------------------------
// 3. Many rooms, and 6. memory
// ---------------------------------------------------------------------------

RoomsResult run_rooms(const Target& target, const Sizes& sizes)
{
    if (sizes.room_members > sizes.rooms_users || sizes.rooms_small > sizes.rooms_large) {
        throw std::invalid_argument("rooms: need members <= users and small <= large");
    }

    // Room r's members are users (r*M + k) mod U, k < M: distinct, and
    // spread evenly. The first one sends.
    const std::size_t members = sizes.room_members;
    Swarm swarm(target, fresh_tag('m'), sizes.rooms_users);
    swarm.connect();
    std::vector<RoomSpec> all(sizes.rooms_large);
    for (std::size_t r = 0; r < all.size(); ++r) {
        all[r].name = "bench room " + std::to_string(r) + " of " + swarm.user_name(0);
        all[r].sender = (r * members) % sizes.rooms_users;
        for (std::size_t k = 0; k < members; ++k) {
            all[r].receivers.push_back((r * members + k) % sizes.rooms_users);
        }
    }
    const auto receivers = swarm.connections();
    const auto options = traffic_options(sizes);
    RoomsResult result;
    result.connected = memory_of(target);

    // Phase 1: the small number of rooms exists, and gets the traffic.
    std::vector<RoomSpec> small(all.begin(), all.begin() + sizes.rooms_small);
    auto setup = std::chrono::steady_clock::now();
    swarm.open(small);
    const double small_setup_s = seconds_since(setup);
    std::copy(small.begin(), small.end(), all.begin());
    result.small_memberships = small.size() * members;
    result.small_ready = memory_of(target);
    result.small =
        metered_pump(target, swarm.routes(small), receivers, sizes.rooms_messages, options);
    result.small.setup_s = small_setup_s;

    // Phase 2: all rooms exist; the same traffic is spread over all of them.
    std::vector<RoomSpec> rest(all.begin() + sizes.rooms_small, all.end());
    setup = std::chrono::steady_clock::now();
    swarm.open(rest);
    const double large_setup_s = seconds_since(setup);
    std::copy(rest.begin(), rest.end(), all.begin() + sizes.rooms_small);
    result.large_memberships = all.size() * members;
    result.large_ready = memory_of(target);
    result.large =
        metered_pump(target, swarm.routes(all), receivers, sizes.rooms_messages, options);
    result.large.setup_s = large_setup_s;
    result.at_end = memory_of(target);
    return result;
}

// ---------------------------------------------------------------------------
// 4. Joins at the configured Argon2id cost
// ---------------------------------------------------------------------------

JoinsResult run_joins(const JoinTarget& target, const Sizes& sizes)
{
    using client::Client;
    const std::string tag = fresh_tag('j');
    const std::string password = "bench-join-password";

    // An owner and the joiners, through the client library, all at once:
    // each login opens connections, and parallel connects share Paho's wait.
    auto make_user = [&](const std::string& name) {
        client::Options options;
        options.broker = target.broker;
        options.user = name;
        options.request_timeout = 120s;
        auto user = std::make_unique<Client>(options);
        user->register_account(password);
        (void)user->login(password);
        return user;
    };
    std::vector<std::future<std::unique_ptr<Client>>> making;
    for (std::size_t i = 0; i <= sizes.join_users; ++i) {
        making.push_back(std::async(std::launch::async, make_user, tag + "u" + std::to_string(i)));
    }
    std::vector<std::unique_ptr<Client>> users;
    for (auto& m : making) {
        users.push_back(m.get());
    }

    // User 0 owns the rooms.
    std::vector<std::string> rooms;
    for (std::size_t r = 0; r < sizes.join_rooms; ++r) {
        rooms.push_back(tag + " join room " + std::to_string(r));
        (void)users[0]->create_room(rooms.back(), password);
    }

    // Timed: every joiner joins every room, starting at different rooms.
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::future<void>> joining;
    for (std::size_t i = 1; i <= sizes.join_users; ++i) {
        joining.push_back(std::async(std::launch::async, [&, i] {
            for (std::size_t k = 0; k < rooms.size(); ++k) {
                (void)users[i]->join_room(rooms[(i + k) % rooms.size()], password);
            }
        }));
    }
    for (auto& j : joining) {
        j.get();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

    JoinsResult result;
    result.joins = sizes.join_users * sizes.join_rooms;
    result.seconds = elapsed.count();
    result.joins_per_s = static_cast<double>(result.joins) / result.seconds;

    // The ceiling: the same cost hashed directly, as many threads as the
    // room manager can run at once, about as many hashes as joins.
    users.clear();
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    result.raw_threads = std::min(std::max(1u, target.workers), cpus);
    const auto per_thread = static_cast<unsigned>(
        std::max<std::size_t>(2, (result.joins + result.raw_threads - 1) / result.raw_threads));
    result.raw_per_s = argon2_hashes_per_s(target.cost, result.raw_threads, per_thread);
    result.raw_single_per_s = argon2_hashes_per_s(target.cost, 1, std::min(per_thread, 4u));
    return result;
}

}  // namespace mqchat::bench
