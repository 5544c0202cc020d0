#include "swarm.hpp"

#include <algorithm>
#include <deque>
#include <future>
#include <map>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "client_nodelay.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/error.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::bench {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr auto setup_timeout = 120s;
constexpr auto reply_timeout = 60s;
// Control requests in flight at once: enough to keep the room manager's
// workers busy, far below its queue (256).
constexpr std::size_t request_depth = 64;
// Unacknowledged publishes per connection: below the broker's Receive
// Maximum (20), where Paho C stalls a client (see TrafficOptions).
constexpr std::size_t connection_depth = 16;
constexpr std::string_view user_password = "bench-user-password";
constexpr std::string_view room_password = "bench-room-password";
constexpr std::string_view inbox_suffix = "bench";
// MQTT v5 reason codes of at least this value are refusals.
constexpr int first_refusal = 0x80;

struct Request {
    BenchConnection* via = nullptr;
    std::string_view op;
    std::string payload;
    std::string what;  // for error messages
};

// Sends the requests with at most request_depth in flight, and at most
// connection_depth on one connection, and returns the replies in order.
// Throws on a missing reply or an error reply.
std::vector<json> run_requests(const std::vector<Request>& requests)
{
    std::vector<json> replies(requests.size());
    std::deque<std::pair<std::size_t, std::future<std::string>>> in_flight;
    std::map<BenchConnection*, std::size_t> per_connection;

    auto collect_oldest = [&] {
        auto& [index, reply] = in_flight.front();
        const Request& request = requests[index];
        if (reply.wait_for(reply_timeout) != std::future_status::ready) {
            throw std::runtime_error(request.what + ": no reply from the room manager");
        }
        try {
            replies[index] = client::detail::parse_reply(reply.get());
        } catch (const client::Error& e) {
            throw std::runtime_error(request.what + ": " + e.what());
        }
        --per_connection[request.via];
        in_flight.pop_front();
    };

    for (std::size_t i = 0; i < requests.size(); ++i) {
        while (in_flight.size() >= request_depth ||
               per_connection[requests[i].via] >= connection_depth) {
            collect_oldest();
        }
        in_flight.emplace_back(i, requests[i].via->request(requests[i].op, requests[i].payload));
        ++per_connection[requests[i].via];
    }
    while (!in_flight.empty()) {
        collect_oldest();
    }
    return replies;
}

std::string random_room_id()
{
    return client::detail::random_hex(6);
}

}  // namespace

Swarm::Swarm(Target target, std::string tag, std::size_t users)
    : target_(std::move(target)), tag_(std::move(tag)), users_(users)
{
}

Swarm::~Swarm()
{
    std::vector<mqtt::token_ptr> leaving;
    for (auto& c : connections_) {
        leaving.push_back(c->disconnect());
    }
    try {
        wait_all(leaving, 10s, "disconnect");
    } catch (const std::exception&) {
        // The destructors below give up on their own.
    }
}

std::string Swarm::user_name(std::size_t index) const
{
    return tag_ + "u" + std::to_string(index);
}

std::vector<BenchConnection*> Swarm::connections()
{
    std::vector<BenchConnection*> all;
    for (auto& c : connections_) {
        all.push_back(c.get());
    }
    return all;
}

void Swarm::connect()
{
    if (target_.is_mqchat) {
        log_in_everyone();
    }

    // Every connect in flight before any is waited for.
    std::vector<mqtt::token_ptr> connecting;
    for (std::size_t i = 0; i < users_; ++i) {
        const std::string user = user_name(i);
        connections_.push_back(std::make_unique<BenchConnection>(target_.broker, user + "-bench"));
        connecting.push_back(target_.is_mqchat ? connections_.back()->connect(user, sessions_[i])
                                               : connections_.back()->connect("", ""));
    }
    wait_all(connecting, setup_timeout, target_.name + " connect");
    apply_client_nodelay(target_.broker);

    // mqchat replies to users go to their inbox.
    if (target_.is_mqchat) {
        std::vector<mqtt::token_ptr> subscribing;
        for (std::size_t i = 0; i < users_; ++i) {
            const std::string inbox = topic::user_inbox(user_name(i), inbox_suffix);
            connections_[i]->set_reply_topic(inbox);
            subscribing.push_back(connections_[i]->subscribe(inbox));
        }
        wait_all(subscribing, setup_timeout, "inbox subscribe");
    }
}

void Swarm::log_in_everyone()
{
    // One guest connection serves every registration and login.
    const std::string guest_id = tag_ + "-guest";
    BenchConnection guest(target_.broker, guest_id);
    if (!guest.connect("", "")->wait_for(setup_timeout)) {
        throw std::runtime_error("guest connect: no CONNACK");
    }
    apply_client_nodelay(target_.broker);
    const std::string reply_topic =
        topic::guest_inbox(guest_id, client::detail::random_hex(16));
    if (!guest.subscribe(reply_topic)->wait_for(setup_timeout)) {
        throw std::runtime_error("guest subscribe: no SUBACK");
    }
    guest.set_reply_topic(reply_topic);

    // Register everyone, then log everyone in.
    for (std::string_view op : {op::register_user, op::login}) {
        std::vector<Request> requests;
        for (std::size_t i = 0; i < users_; ++i) {
            requests.push_back({&guest, op,
                                client::detail::credentials_request(user_name(i), user_password),
                                std::string(op) + " " + user_name(i)});
        }
        std::vector<json> replies = run_requests(requests);
        if (op == op::login) {
            for (const json& reply : replies) {
                sessions_.push_back(reply.at("token").get<std::string>());
            }
        }
    }
    (void)guest.disconnect();
}

void Swarm::open(std::vector<RoomSpec>& rooms)
{
    if (target_.is_mqchat) {
        admit(rooms);
    } else {
        for (RoomSpec& room : rooms) {
            room.id = random_room_id();
        }
    }
    subscribe(rooms);
}

void Swarm::admit(std::vector<RoomSpec>& rooms)
{
    // The senders create the rooms; their create replies carry their join tokens.
    std::vector<std::pair<std::size_t, std::string>> tokens;  // (user, join token)
    std::vector<Request> creates;
    for (const RoomSpec& room : rooms) {
        creates.push_back({connections_[room.sender].get(), op::create,
                           client::detail::room_request(room.name, room_password),
                           "create " + room.name});
    }
    std::vector<json> created = run_requests(creates);
    for (std::size_t r = 0; r < rooms.size(); ++r) {
        rooms[r].id = created[r].at("room").at("id").get<std::string>();
        tokens.emplace_back(rooms[r].sender, created[r].at("token").get<std::string>());
    }

    // The other receivers join.
    std::vector<Request> joins;
    std::vector<std::size_t> joiners;
    for (const RoomSpec& room : rooms) {
        for (std::size_t user : room.receivers) {
            if (user == room.sender) {
                continue;
            }
            joins.push_back({connections_[user].get(), op::join,
                             client::detail::room_request(room.name, room_password),
                             "join " + room.name + " as " + user_name(user)});
            joiners.push_back(user);
        }
    }
    std::vector<json> joined = run_requests(joins);
    for (std::size_t j = 0; j < joined.size(); ++j) {
        tokens.emplace_back(joiners[j], joined[j].at("token").get<std::string>());
    }

    // Each user presents his tokens on his own connection, in waves of
    // connection_depth per connection.
    std::vector<std::vector<std::string>> by_user(users_);
    for (auto& [user, token] : tokens) {
        by_user[user].push_back(std::move(token));
    }
    for (std::size_t wave = 0;; wave += connection_depth) {
        std::vector<mqtt::token_ptr> presenting;
        for (std::size_t user = 0; user < users_; ++user) {
            const std::size_t end = std::min(by_user[user].size(), wave + connection_depth);
            for (std::size_t t = wave; t < end; ++t) {
                presenting.push_back(
                    connections_[user]->publish(std::string(topic::plugin_control),
                                                client::detail::present_payload(by_user[user][t])));
            }
        }
        if (presenting.empty()) {
            break;
        }
        wait_all(presenting, setup_timeout, "present join tokens");
    }
}

void Swarm::subscribe(const std::vector<RoomSpec>& rooms)
{
    std::vector<mqtt::token_ptr> subscribing;
    for (const RoomSpec& room : rooms) {
        for (std::size_t user : room.receivers) {
            subscribing.push_back(connections_[user]->subscribe(topic::room_messages(room.id)));
        }
    }
    wait_all(subscribing, setup_timeout, target_.name + " room subscribe");

    // A refused subscription would silently shrink the fan-out.
    for (const auto& token : subscribing) {
        if (token->get_reason_code() >= first_refusal) {
            throw std::runtime_error(target_.name + ": a room subscription was refused (reason " +
                                     std::to_string(token->get_reason_code()) + ")");
        }
    }
}

std::vector<Route> Swarm::routes(const std::vector<RoomSpec>& rooms)
{
    std::vector<Route> routes;
    for (const RoomSpec& room : rooms) {
        routes.push_back({topic::room_messages(room.id), connections_[room.sender].get(),
                          room.receivers, target_.add_stamps, user_name(room.sender)});
    }
    return routes;
}

}  // namespace mqchat::bench
