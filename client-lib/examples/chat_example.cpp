// A short mqchat session: log in, join a room, say hello, and print what
// the room says for a few seconds: its recent history first, then live.
//
//   MQCHAT_USER=alice MQCHAT_PASSWORD=... MQCHAT_ROOM_PASSWORD=... mqchat-example "Book club"
//
// The account and the room must exist (`mqchat register`, `mqchat create`).

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "mqchat/client/client.hpp"

namespace {

std::string env_or(const char* name, const char* fallback)
{
    const char* value = std::getenv(name);
    return (value != nullptr && *value != '\0') ? value : fallback;
}

}  // namespace

int main(int argc, char** argv)
{
    std::string room = argc > 1 ? argv[1] : "lobby";

    try {
        // Say who we are and where the broker is.
        mqchat::client::Options options;
        options.broker = env_or("MQCHAT_BROKER", "mqtt://127.0.0.1:1883");
        options.user = env_or("MQCHAT_USER", "alice");
        mqchat::client::Client client(options);

        // Log in: the password buys a session token, then we connect as the user.
        client.login(env_or("MQCHAT_PASSWORD", ""));

        // Join the room with its password; the library keeps the join token.
        client.join_room(room, env_or("MQCHAT_ROOM_PASSWORD", ""));

        // Print every message that arrives (on the library's dispatch thread).
        client.on_message([](const mqchat::client::Message& message) {
            std::cout << "#" << message.seq << " " << message.sender
                      << (message.mine ? " (you)" : "") << ": " << message.text << std::endl;
        });

        // Hear how queued sends end; they are queued even while offline.
        client.on_send_result([](const mqchat::client::SendResult& result) {
            if (!result.delivered()) {
                std::cerr << "not sent: " << result.message << std::endl;
            }
        });

        // Enter the room: the last 50 messages come first, then live ones.
        client.enter_room(room);

        // Say hello without waiting; the outcome reaches on_send_result.
        client.send_async(room, "hello from the mqchat example");

        // Listen for a few seconds, then leave quietly (still a member).
        std::this_thread::sleep_for(std::chrono::seconds(5));
        client.disconnect();
    } catch (const mqchat::client::Error& e) {
        std::cerr << "mqchat-example: " << e.what() << std::endl;
        return 1;
    }
    return 0;
}
