// The users of one scenario, one MQTT connection each, and the rooms they
// are in. The same scenario code runs against the plain broker and against
// mqchat; only setting up the rooms differs:
//
// - plain Mosquitto: users connect anonymously, a room id is made up and its
//   receivers subscribe to chat/v1/rooms/<id>/msg;
// - mqchat: users are registered and logged in over a guest connection and
//   connect with their session token; each room's sender creates it, its
//   receivers join it (control requests, pipelined), everyone presents the
//   join token on his own connection (client id), then the receivers
//   subscribe.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "bench_connection.hpp"
#include "traffic.hpp"

namespace mqchat::bench {

// Where a scenario runs.
struct Target {
    std::string name;        // "plain" or "mqchat"
    std::string broker;      // Paho URI, tcp://127.0.0.1:<port>
    bool is_mqchat = false;
    pid_t broker_pid = 0;    // for VmRSS; 0 when unknown
    pid_t manager_pid = 0;   // the room manager's, mqchat only
    // mqchat only: the room manager's SQLite file, read (and for scenario 5
    // seeded) directly by the benchmark; empty when unknown.
    std::string store_path;
    // Plain only: senders attach sender/seq/ts themselves (see Route).
    bool add_stamps = false;
};

// One room of a scenario. The sender creates it (mqchat) and publishes;
// the receivers subscribe. The sender may be a receiver too.
struct RoomSpec {
    std::string name;
    std::size_t sender = 0;               // user index
    std::vector<std::size_t> receivers;   // user indices
    std::string id;                       // set by Swarm::open()
};

// Thread safety: none; one scenario drives its swarm from one thread.
class Swarm {
public:
    // `users` users named "<tag>u<index>"; `tag` must be unique per run so
    // accounts, client ids and rooms never collide with earlier scenarios.
    Swarm(Target target, std::string tag, std::size_t users);

    // Disconnects everyone, all at once.
    ~Swarm();

    Swarm(const Swarm&) = delete;
    Swarm& operator=(const Swarm&) = delete;

    // Connects every user (mqchat: registers and logs them in first). All
    // connects are started before any is waited for: Paho makes each new
    // connection wait ~2 s while others are open, and parallel connects
    // share that wait. Throws std::runtime_error or mqchat::client::Error.
    void connect();

    // Makes the rooms exist (filling in their ids) and subscribes their
    // receivers. May be called again with more rooms.
    void open(std::vector<RoomSpec>& rooms);

    // Routes for pump()/pace(): receiver indices are user indices, so pass
    // connections() as the receiver list.
    [[nodiscard]] std::vector<Route> routes(const std::vector<RoomSpec>& rooms);

    [[nodiscard]] std::vector<BenchConnection*> connections();

    [[nodiscard]] std::string user_name(std::size_t index) const;

    // mqchat: user index's session token (after connect()).
    [[nodiscard]] const std::string& session(std::size_t index) const
    {
        return sessions_.at(index);
    }

private:
    void log_in_everyone();
    void admit(std::vector<RoomSpec>& rooms);
    void subscribe(const std::vector<RoomSpec>& rooms);

    Target target_;
    std::string tag_;
    std::size_t users_;
    std::vector<std::string> sessions_;  // mqchat session tokens by user
    std::vector<std::unique_ptr<BenchConnection>> connections_;
};

}  // namespace mqchat::bench
