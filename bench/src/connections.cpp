// 8. Many idle connections: how fast they connect and what each costs the
// broker, plain against mqchat (authenticated with session tokens).
#include <sys/resource.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "scenario_support.hpp"
#include "scenarios.hpp"

namespace mqchat::bench {

ConnectionsResult run_connections(const Target& target, const Sizes& sizes)
{
    using namespace detail;
    using namespace std::chrono_literals;
    ConnectionsResult result;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        result.open_files_limit = static_cast<long>(files.rlim_cur);
    }

    // The users whose sessions the connections use (mqchat), connected
    // themselves on both targets so both start from the same state.
    const std::size_t users = std::max<std::size_t>(1, sizes.connection_users);
    Swarm swarm(target, fresh_tag('c'), users);
    swarm.connect();
    std::this_thread::sleep_for(500ms);
    result.before = memory_of(target);

    // At most connect_depth connects in flight: more only fill the broker's
    // listen queue and time out.
    std::vector<std::unique_ptr<BenchConnection>> connections;
    std::deque<mqtt::token_ptr> in_flight;
    const std::size_t depth = std::max<std::size_t>(1, sizes.connect_depth);
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < sizes.connections; ++i) {
        const std::size_t user = i % users;
        connections.push_back(std::make_unique<BenchConnection>(
            target.broker, swarm.user_name(user) + "-c" + std::to_string(i)));
        in_flight.push_back(target.is_mqchat
                                ? connections.back()->connect(swarm.user_name(user),
                                                              swarm.session(user))
                                : connections.back()->connect("", ""));
        while (in_flight.size() >= depth) {
            wait_all({in_flight.front()}, 60s, target.name + " connect");
            in_flight.pop_front();
        }
    }
    wait_all({in_flight.begin(), in_flight.end()}, 60s, target.name + " connect");
    result.seconds = seconds_since(start);
    result.connections = connections.size();
    result.connects_per_s = static_cast<double>(result.connections) / result.seconds;

    // Idle for a moment, then what every connection costs.
    std::this_thread::sleep_for(1s);
    result.after = memory_of(target);
    const auto n = static_cast<double>(std::max<std::size_t>(1, result.connections));
    auto per = [&](const std::optional<std::uint64_t>& a, const std::optional<std::uint64_t>& b) {
        return a && b ? (static_cast<double>(*b) - static_cast<double>(*a)) / n : 0.0;
    };
    result.broker_bytes_per_connection = per(result.before.broker, result.after.broker);
    result.manager_bytes_per_connection = per(result.before.manager, result.after.manager);

    // Leave in waves, so the destructors never wait one by one.
    for (std::size_t first = 0; first < connections.size(); first += depth) {
        std::vector<mqtt::token_ptr> leaving;
        for (std::size_t i = first; i < std::min(connections.size(), first + depth); ++i) {
            leaving.push_back(connections[i]->disconnect());
        }
        try {
            wait_all(leaving, 30s, "disconnect");
        } catch (const std::exception&) {
            // Teardown only: the numbers are taken.
        }
    }
    return result;
}

}  // namespace mqchat::bench
