// hello_room: a complete program on the installed mqchat client library.
// It registers the account (or finds it taken), logs in, creates the room
// (or joins it when it exists), enters it, says hello, and waits until the
// broker hands its own message back, stamped with its sender.
//
//   MQCHAT_BROKER=mqtt://127.0.0.1:1883 MQCHAT_USER=alice MQCHAT_PASSWORD=... \
//   MQCHAT_ROOM_PASSWORD=... hello_room "Book club" "hello, book club"
//
// Exit status 0 once the message came back, 1 on any error or after 15 s.

#include <mqchat/client/client.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

namespace {

std::string env(const char* name)
{
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc != 3) {
        std::cerr << "usage: hello_room ROOM TEXT\n";
        return 2;
    }
    const std::string room = argv[1];
    const std::string text = argv[2];

    mqchat::client::Options options;
    options.broker = env("MQCHAT_BROKER");
    options.user = env("MQCHAT_USER");

    try {
        mqchat::client::Client client(options);

        // An account, then a session: login() also connects as the user.
        try {
            client.register_account(env("MQCHAT_PASSWORD"));
        } catch (const mqchat::client::Error& e) {
            if (e.code() != mqchat::ErrorCode::user_exists) throw;
        }
        client.login(env("MQCHAT_PASSWORD"));

        // The room: create it, or join it with its password when it exists.
        try {
            client.create_room(room, env("MQCHAT_ROOM_PASSWORD"));
            std::cout << "created " << room << "\n";
        } catch (const mqchat::client::Error& e) {
            if (e.code() != mqchat::ErrorCode::room_exists) throw;
            client.join_room(room, env("MQCHAT_ROOM_PASSWORD"));
            std::cout << "joined " << room << "\n";
        }

        // Messages arrive on the library's dispatch thread; hand ours over.
        std::mutex mutex;
        std::condition_variable arrived;
        bool echoed = false;
        client.on_message([&](const mqchat::client::Message& m) {
            std::cout << "#" << m.seq << " " << m.sender << (m.mine ? " (you)" : "") << ": "
                      << m.text << std::endl;
            if (m.mine && m.sender == client.user() && m.text == text) {
                std::lock_guard lock(mutex);
                echoed = true;
                arrived.notify_all();
            }
        });

        // Entering shows recent history, then live messages.
        client.enter_room(room);
        const std::string id = client.send(room, text);
        std::cout << "sent " << id << "\n";

        std::unique_lock lock(mutex);
        if (!arrived.wait_for(lock, std::chrono::seconds(15), [&] { return echoed; })) {
            std::cerr << "hello_room: my message did not come back\n";
            return 1;
        }
        lock.unlock();
        client.disconnect();
        std::cout << "received my own message\n";
    } catch (const mqchat::client::Error& e) {
        std::cerr << "hello_room: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
