// mqchat_bench: runs the benchmark scenarios against a plain Mosquitto and
// against mqchat (both already running; scripts/bench.sh starts them),
// prints one table and writes the results as JSON.
//
//   mqchat_bench --plain-broker tcp://127.0.0.1:P1 --mqchat-broker tcp://127.0.0.1:P2
//                --joins-broker tcp://127.0.0.1:P3 [--smoke] [--out FILE] [sizes...]
//
// Exit status: 0 when every selected scenario produced its numbers (met
// targets or not), 1 otherwise, 2 for usage errors.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client_nodelay.hpp"
#include "machine.hpp"
#include "report.hpp"
#include "scenarios.hpp"

namespace {

using namespace mqchat::bench;
using nlohmann::json;

struct Config {
    Sizes sizes;
    bool smoke = false;
    Target plain{"plain", "", false, 0, 0, "", false};
    Target mqchat{"mqchat", "", true, 0, 0, "", false};
    JoinTarget joins;
    std::vector<std::string> scenarios{"fanout", "latency", "rooms",       "joins",
                                       "storm",  "archive", "connections"};
    std::string out = "bench-results.json";
    bool client_nagle = false;
    std::vector<std::string> settings;  // KEY=VALUE, recorded as given
};

void add_options(CLI::App& app, Config& c)
{
    app.add_flag("--smoke", c.smoke, "tiny sizes: every scenario in well under a minute");
    app.add_option("--plain-broker", c.plain.broker, "plain Mosquitto, Paho URI");
    app.add_option("--plain-broker-pid", c.plain.broker_pid, "its pid, for VmRSS");
    app.add_option("--mqchat-broker", c.mqchat.broker, "mqchat's broker, Paho URI");
    app.add_option("--mqchat-broker-pid", c.mqchat.broker_pid, "its pid, for VmRSS");
    app.add_option("--room-manager-pid", c.mqchat.manager_pid, "the room manager's pid");
    app.add_option("--mqchat-store", c.mqchat.store_path,
                   "the room manager's SQLite file (scenario 5 reads and seeds it)");
    app.add_option("--joins-broker", c.joins.broker,
                   "mqchat backend at the default Argon2id cost (scenario 4)");
    app.add_option("--joins-argon2-t", c.joins.cost.t_cost, "its Argon2id iterations")
        ->capture_default_str();
    app.add_option("--joins-argon2-m", c.joins.cost.m_cost_kib, "its Argon2id memory, KiB")
        ->capture_default_str();
    app.add_option("--joins-argon2-p", c.joins.cost.lanes, "its Argon2id lanes")
        ->capture_default_str();
    app.add_option("--joins-workers", c.joins.workers, "its room manager's worker threads")
        ->capture_default_str();
    app.add_option("--scenarios", c.scenarios,
                   "fanout (with the archive's rate), latency, rooms (with memory), joins, "
                   "storm, archive (history), connections")
        ->delimiter(',')
        ->check(CLI::IsMember(
            {"fanout", "latency", "rooms", "joins", "storm", "archive", "connections"}))
        ->capture_default_str();
    app.add_option("--out", c.out, "JSON results file")->capture_default_str();
    app.add_flag("--plain-with-properties", c.plain.add_stamps,
                 "plain senders attach the sender/seq/ts properties mqchat stamps, so both "
                 "targets deliver the same bytes (a control, not the comparison asked for)");
    app.add_flag("--client-nagle", c.client_nagle,
                 "leave Nagle on for the benchmark's own client sockets (as before mqchat set "
                 "TCP_NODELAY; the room manager and the client library still set it)");
    app.add_option("--setting", c.settings, "KEY=VALUE to record under settings (repeatable)");

    Sizes& s = c.sizes;
    app.add_option("--text-bytes", s.text_bytes, "message text length")->capture_default_str();
    app.add_option("--window", s.window, "throughput runs: max messages a receiver lags")
        ->capture_default_str();
    app.add_option("--sender-inflight", s.sender_inflight,
                   "unacknowledged publishes per sender; keep below the broker's 20")
        ->capture_default_str();
    app.add_option("--total-inflight", s.total_inflight,
                   "unacknowledged publishes over all senders")
        ->capture_default_str();
    app.add_option("--fanout-receivers", s.fanout_receivers)->capture_default_str();
    app.add_option("--fanout-messages", s.fanout_messages)->capture_default_str();
    app.add_option("--latency-rate", s.latency_rate, "messages/s in total")
        ->capture_default_str();
    app.add_option("--latency-rooms", s.latency_rooms)->capture_default_str();
    app.add_option("--latency-members", s.latency_members)->capture_default_str();
    app.add_option("--latency-seconds", s.latency_seconds)->capture_default_str();
    app.add_option("--latency-warmup-seconds", s.latency_warmup_seconds)
        ->capture_default_str();
    app.add_option("--latency-rounds", s.latency_rounds, "turns per target")
        ->capture_default_str();
    app.add_option("--rooms-small", s.rooms_small)->capture_default_str();
    app.add_option("--rooms-large", s.rooms_large)->capture_default_str();
    app.add_option("--room-members", s.room_members)->capture_default_str();
    app.add_option("--rooms-users", s.rooms_users, "connections sharing the rooms")
        ->capture_default_str();
    app.add_option("--rooms-messages", s.rooms_messages, "per phase")->capture_default_str();
    app.add_option("--join-users", s.join_users, "users joining at once")
        ->capture_default_str();
    app.add_option("--join-rooms", s.join_rooms, "rooms each user joins")
        ->capture_default_str();
    app.add_option("--history-stored", s.history_stored, "archived messages while querying")
        ->capture_default_str();
    app.add_option("--history-per-room", s.history_per_room, "seeded messages per room")
        ->capture_default_str();
    app.add_option("--history-back", s.history_back, "how far back the deep page starts")
        ->capture_default_str();
    app.add_option("--history-queries", s.history_queries, "queries of each kind")
        ->capture_default_str();
    app.add_option("--storm-logins", s.storm_logins, "logins sent at once")
        ->capture_default_str();
    app.add_option("--storm-users", s.storm_users, "accounts the logins are for")
        ->capture_default_str();
    app.add_option("--storm-idle-seconds", s.storm_idle_seconds, "baseline traffic")
        ->capture_default_str();
    app.add_option("--connections", s.connections, "idle connections")->capture_default_str();
    app.add_option("--connection-users", s.connection_users, "mqchat accounts they use")
        ->capture_default_str();
    app.add_option("--connect-depth", s.connect_depth, "connects in flight at once")
        ->capture_default_str();
}

json sizes_json(const Sizes& s)
{
    return {{"text_bytes", s.text_bytes},
            {"window", s.window},
            {"sender_inflight", s.sender_inflight},
            {"total_inflight", s.total_inflight},
            {"fanout_receivers", s.fanout_receivers},
            {"fanout_messages", s.fanout_messages},
            {"latency_rate", s.latency_rate},
            {"latency_rooms", s.latency_rooms},
            {"latency_members", s.latency_members},
            {"latency_seconds", s.latency_seconds},
            {"latency_warmup_seconds", s.latency_warmup_seconds},
            {"latency_rounds", s.latency_rounds},
            {"rooms_small", s.rooms_small},
            {"rooms_large", s.rooms_large},
            {"room_members", s.room_members},
            {"rooms_users", s.rooms_users},
            {"rooms_messages", s.rooms_messages},
            {"join_users", s.join_users},
            {"join_rooms", s.join_rooms},
            {"history_stored", s.history_stored},
            {"history_per_room", s.history_per_room},
            {"history_back", s.history_back},
            {"history_queries", s.history_queries},
            {"storm_logins", s.storm_logins},
            {"storm_users", s.storm_users},
            {"storm_idle_seconds", s.storm_idle_seconds},
            {"connections", s.connections},
            {"connection_users", s.connection_users},
            {"connect_depth", s.connect_depth}};
}

json header(const Config& c, int argc, char** argv)
{
    const Machine machine = describe_machine();
    std::string command;
    for (int i = 0; i < argc; ++i) {
        command += (i ? " " : "") + std::string(argv[i]);
    }
    json recorded = json::object();
    for (const std::string& kv : c.settings) {
        const auto eq = kv.find('=');
        recorded[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    }
    const std::time_t now = std::time(nullptr);
    char started[32];
    std::strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));

    return {{"schema", "mqchat-bench/1"},
            {"started", started},
            {"size", c.smoke ? "smoke" : "full"},
            {"command", command},
            {"machine",
             {{"nproc", machine.nproc}, {"cpu", machine.cpu_model}, {"kernel", machine.kernel}}},
            {"settings",
             {{"client_tcp_nodelay", !c.client_nagle},
              {"plain_with_properties", c.plain.add_stamps},
              {"joins_argon2",
               {{"t", c.joins.cost.t_cost},
                {"m_kib", c.joins.cost.m_cost_kib},
                {"p", c.joins.cost.lanes},
                {"workers", c.joins.workers}}},
              {"recorded", recorded},
              {"sizes", sizes_json(c.sizes)}}},
            {"scenarios", json::object()},
            {"errors", json::array()}};
}

// Runs one scenario on `where`; its result's members are merged into the
// scenario's entry. A failure becomes an "errors" line.
void attempt(json& document, const std::string& scenario, const std::string& where,
             const std::function<json()>& run)
{
    std::cerr << "bench: " << scenario << " on " << where << " ..." << std::endl;
    try {
        const json result = run();
        document["scenarios"][scenario].update(result);
        std::cerr << "bench: " << scenario << " on " << where << ": " << result.dump()
                  << std::endl;
    } catch (const std::exception& e) {
        document["errors"].push_back(scenario + " on " + where + ": " + e.what());
        std::cerr << "bench: " << scenario << " on " << where << " failed: " << e.what()
                  << std::endl;
    }
}

void run_all(const Config& c, json& document)
{
    for (const std::string& scenario : c.scenarios) {
        document["scenarios"][scenario] = json::object();

        // Joins only exist in mqchat; the comparison is libargon2 itself.
        if (scenario == "joins") {
            attempt(document, scenario, "mqchat",
                    [&] { return json{{"mqchat", to_json(run_joins(c.joins, c.sizes))}}; });
            continue;
        }
        // The login storm needs the default Argon2id cost: the joins backend.
        if (scenario == "storm") {
            const Target joins{"joins", c.joins.broker, true, 0, 0, "", false};
            attempt(document, scenario, "mqchat (joins backend)",
                    [&] { return json{{"mqchat", to_json(run_storm(joins, c.sizes))}}; });
            continue;
        }
        if (scenario == "archive") {
            attempt(document, scenario, "mqchat",
                    [&] { return json{{"mqchat", to_json(run_history(c.mqchat, c.sizes))}}; });
            continue;
        }
        if (c.plain.broker.empty() || c.mqchat.broker.empty()) {
            document["errors"].push_back(scenario + ": needs --plain-broker and --mqchat-broker");
            continue;
        }

        // Latency runs on both at once; the others on one after the other.
        if (scenario == "latency") {
            attempt(document, scenario, "plain and mqchat, alternating", [&] {
                const LatencyPair pair = run_latency(c.plain, c.mqchat, c.sizes);
                return json{{"plain", to_json(pair.plain)}, {"mqchat", to_json(pair.mqchat)}};
            });
            continue;
        }
        for (const Target* t : {&c.plain, &c.mqchat}) {
            attempt(document, scenario, t->name, [&]() -> json {
                if (scenario == "fanout") return {{t->name, to_json(run_fanout(*t, c.sizes))}};
                if (scenario == "connections") {
                    return {{t->name, to_json(run_connections(*t, c.sizes))}};
                }
                return {{t->name, to_json(run_rooms(*t, c.sizes))}};
            });
        }
    }
}

}  // namespace

int main(int argc, char** argv)
{
    // --smoke picks the defaults the other size flags then override.
    Config config;
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--smoke") {
            config.sizes = Sizes::smoke();
        }
    }
    CLI::App app{"mqchat benchmark: plain Mosquitto against mqchat"};
    add_options(app, config);
    CLI11_PARSE(app, argc, argv);
    if (config.joins.broker.empty()) {
        config.joins.broker = config.mqchat.broker;
    }
    set_client_nodelay(!config.client_nagle);

    json document = header(config, argc, argv);
    run_all(config, document);
    judge(document["scenarios"]);
    print_table(document, std::cout);

    std::ofstream out(config.out);
    out << document.dump(2) << '\n';
    if (!out) {
        std::cerr << "bench: cannot write " << config.out << std::endl;
        return EXIT_FAILURE;
    }
    std::cerr << "bench: results in " << config.out << std::endl;
    return complete(document["scenarios"], config.scenarios) ? EXIT_SUCCESS : EXIT_FAILURE;
}
