// The operator's view: reading the room manager's health report.
#include <condition_variable>
#include <mutex>
#include <optional>

#include "client_impl.hpp"
#include "mqchat/client/detail/wire.hpp"
#include "mqchat/protocol.hpp"

namespace mqchat::client {

std::string Client::health_report(std::chrono::milliseconds wait)
{
    return impl_->health_report(wait);
}

std::string Client::Impl::health_report(std::chrono::milliseconds wait)
{
    const auto session = options_.tokens->session();
    if (!session) {
        throw Error(ErrorCode::not_authenticated, "not logged in");
    }

    // Declared before the connection, so they outlive its callbacks.
    std::mutex mutex;
    std::condition_variable arrived;
    std::optional<std::string> report;

    // A connection of its own, so the user connection's rooms and queued
    // sends are not touched. Its client id is new each time: the plugin
    // keeps used ids reserved for the user (see docs/security.md).
    detail::Connection connection(options_.broker,
                                  options_.user + ":status-" + detail::random_hex(4),
                                  options_.logger);
    connection.set_message_handler([&](mqtt::const_message_ptr message) {
        if (message->get_topic() == topic::sys_health) {
            std::lock_guard lock(mutex);
            report = message->get_payload_str();
            arrived.notify_all();
        }
    });
    connection.connect(user_connect_options(*session), options_.request_timeout, true);

    // The plugin refuses the subscription to anyone but an operator.
    try {
        connection.subscribe(std::string(topic::sys_health), options_.request_timeout);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::not_admitted) {
            throw;
        }
        throw Error(ErrorCode::not_operator,
                    "the health report is for operators only (an account listed in the room "
                    "manager's operators; log in again after being added)");
    }

    std::unique_lock lock(mutex);
    if (!arrived.wait_for(lock, wait, [&] { return report.has_value(); })) {
        lock.unlock();
        connection.disconnect();
        throw Error(ErrorCode::timeout, "no health report (is the room manager running?)");
    }
    std::string text = std::move(*report);
    lock.unlock();
    connection.disconnect();
    return text;
}

}  // namespace mqchat::client
