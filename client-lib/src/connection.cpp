#include "connection.hpp"

#include "tls_check.hpp"

#include "mqchat/client/detail/wire.hpp"
#include "mqchat/client/error.hpp"
#include "mqchat/protocol.hpp"
#include "mqchat/tcp_nodelay.hpp"

namespace mqchat::client::detail {

namespace {

// MQTT v5 reason codes we tell apart (MQTT 5.0, section 2.4).
constexpr int rc_failure = 0x80;
constexpr int rc_bad_credentials = 0x86;
constexpr int rc_not_authorized = 0x87;
constexpr int rc_banned = 0x8A;
constexpr int rc_bad_auth_method = 0x8C;

[[noreturn]] void throw_timeout(const std::string& what)
{
    throw Error(ErrorCode::timeout, what + ": no answer in time");
}

}  // namespace

Connection::Connection(const std::string& broker, const std::string& client_id, Logger log,
                       std::string ca_file)
    : client_(broker, client_id, mqtt::create_options(MQTTVERSION_5)),
      broker_(broker),
      client_id_(client_id),
      ca_file_(std::move(ca_file)),
      log_(std::move(log))
{
    // Replies are matched here; everything else goes to the owner's handler.
    client_.set_message_callback([this](mqtt::const_message_ptr m) { on_message(std::move(m)); });
}

Connection::~Connection()
{
    disconnect();
    // Paho's threads may outlive this object for a moment; stop them calling in.
    client_.disable_callbacks();
}

void Connection::set_message_handler(MessageHandler handler)
{
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

void Connection::connect(const mqtt::connect_options& options, std::chrono::milliseconds timeout,
                         bool credentials_refusal_is_auth)
{
    const bool tls = is_tls_url(broker_);
    try {
        mqtt::connect_options effective = options;
        if (tls) {
            // Verify the chain (enable_server_cert_auth) and that the
            // certificate names the host (verify); there is no way to turn
            // either off. An empty trust store means the system's.
            auto ssl = mqtt::ssl_options_builder()
                           .enable_server_cert_auth(true)
                           .verify(true)
                           .finalize();
            if (!ca_file_.empty()) {
                ssl.set_trust_store(ca_file_);
            }
            effective.set_ssl(std::move(ssl));
        }
        auto token = client_.connect(effective);
        if (!token->wait_for(timeout)) {
            throw_timeout("connect");
        }
    } catch (const mqtt::exception& e) {
        // Paho C++ 1.2 reports a refused CONNACK's reason code as the
        // exception's return code and leaves the reason code at 0.
        int rc = e.get_reason_code() != 0 ? e.get_reason_code() : e.get_return_code();
        bool refused = rc == rc_bad_credentials || rc == rc_not_authorized ||
                       rc == rc_banned || rc == rc_bad_auth_method;
        log(LogLevel::warning, "connect failed client=" + client_id_ + " reason=" +
                                   std::to_string(rc));
        if (refused && credentials_refusal_is_auth) {
            throw Error(ErrorCode::not_authenticated,
                        "the broker refused the session token (expired or revoked?); "
                        "log in again");
        }
        if (tls && !refused) {
            // Paho does not say why; a handshake of our own does.
            auto verdict = check_tls(broker_, ca_file_, timeout);
            if (verdict.kind == TlsVerdict::Kind::failed) {
                log(LogLevel::warning, "tls failed client=" + client_id_ + ": " + verdict.why);
                throw Error(ErrorCode::tls_failed, verdict.why);
            }
        }
        throw Error(ErrorCode::connect_failed, e.what());
    }
    log(LogLevel::info, "connected client=" + client_id_);
    // Paho C leaves Nagle on; see mqchat/tcp_nodelay.hpp.
    if (set_tcp_nodelay_to(client_.get_server_uri()) == 0) {
        log(LogLevel::debug, "tcp_nodelay: no socket found client=" + client_id_);
    }
}

void Connection::set_reply_topic(const std::string& reply_topic, std::chrono::milliseconds timeout)
{
    {
        std::lock_guard lock(mutex_);
        reply_topic_ = reply_topic;
    }
    subscribe(reply_topic, timeout);
}

void Connection::subscribe(const std::string& filter, std::chrono::milliseconds timeout)
{
    try {
        auto token = client_.subscribe(filter, 1);
        if (!token->wait_for(timeout)) {
            throw_timeout("subscribe");
        }
        // One topic, so the token's reason code is the SUBACK's. Paho 1.2's
        // get_subscribe_response() reads garbage for a single-topic v5
        // SUBACK (it indexes an array the C library does not fill), so it is
        // deliberately not used.
        int rc = token->get_reason_code();
        if (rc >= rc_failure) {
            throw Error(ErrorCode::not_admitted,
                        "the broker refused the subscription (reason " + std::to_string(rc) +
                            ")");
        }
    } catch (const mqtt::exception& e) {
        if (e.get_reason_code() >= rc_failure) {
            throw Error(ErrorCode::not_admitted,
                        "the broker refused the subscription (reason " +
                            std::to_string(e.get_reason_code()) + ")");
        }
        throw Error(ErrorCode::connect_failed, e.what());
    }
}

void Connection::unsubscribe(const std::string& filter, std::chrono::milliseconds timeout)
{
    try {
        client_.unsubscribe(filter)->wait_for(timeout);
    } catch (const mqtt::exception& e) {
        log(LogLevel::warning, std::string("unsubscribe failed: ") + e.what());
    }
}

void Connection::publish(const std::string& topic, const std::string& payload,
                         std::chrono::milliseconds timeout, mqtt::properties properties)
{
    try {
        auto message = mqtt::make_message(topic, payload, 1, false);
        message->set_properties(std::move(properties));
        auto token = client_.publish(message);
        if (!token->wait_for(timeout)) {
            throw_timeout("publish");
        }
        // Paho reports a PUBACK reason code >= 0x80 as a failure (above), but
        // older builds only record it on the token.
        if (token->get_reason_code() >= rc_failure) {
            throw Error(ErrorCode::not_admitted,
                        "the broker refused the message (reason " +
                            std::to_string(token->get_reason_code()) + ")");
        }
    } catch (const mqtt::exception& e) {
        if (e.get_reason_code() >= rc_failure) {
            throw Error(ErrorCode::not_admitted,
                        "the broker refused the message (reason " +
                            std::to_string(e.get_reason_code()) + ")");
        }
        throw Error(ErrorCode::connect_failed, e.what());
    }
}

bool Connection::publish_nowait(const std::string& topic, const std::string& payload) noexcept
{
    try {
        if (!client_.is_connected()) {
            return false;
        }
        (void)client_.publish(mqtt::make_message(topic, payload, 0, false));
        return true;
    } catch (const std::exception& e) {
        try {
            log(LogLevel::debug, "publish (QoS 0) not taken: " + std::string(e.what()));
        } catch (...) {
            // Out of memory while logging: the indicator is lost either way.
        }
        return false;
    }
}

mqtt::properties Connection::begin_request(const std::string& correlation,
                                           ReplyHandler on_reply,
                                           std::chrono::milliseconds timeout)
{
    auto now = std::chrono::steady_clock::now();
    std::string reply_topic;
    {
        std::lock_guard lock(mutex_);

        // Unanswered requests are dropped here, so the map stays small.
        std::erase_if(pending_, [now](const auto& p) { return p.second.forget_at <= now; });
        pending_[correlation] = {std::move(on_reply), now + timeout};
        reply_topic = reply_topic_;
    }
    mqtt::properties properties;
    properties.add(mqtt::property(mqtt::property::RESPONSE_TOPIC, reply_topic));
    properties.add(mqtt::property(mqtt::property::CORRELATION_DATA, correlation));
    return properties;
}

void Connection::forget(const std::string& correlation)
{
    std::lock_guard lock(mutex_);
    pending_.erase(correlation);
}

nlohmann::json Connection::request(std::string_view op, const std::string& payload,
                                   std::chrono::milliseconds timeout)
{
    // Register the correlation before publishing: the reply may beat PUBACK.
    std::string correlation = random_hex(16);
    auto promise = std::make_shared<std::promise<std::string>>();
    auto reply = promise->get_future();
    auto properties = begin_request(
        correlation, [promise](std::string payload) { promise->set_value(std::move(payload)); },
        timeout);
    struct Forget {
        Connection* self;
        std::string key;
        ~Forget() { self->forget(key); }
    } forget{this, correlation};

    auto started = std::chrono::steady_clock::now();
    publish(topic::control(op), payload, timeout, std::move(properties));

    auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started);
    if (reply.wait_for(std::max(left, std::chrono::milliseconds(0))) !=
        std::future_status::ready) {
        throw Error(ErrorCode::timeout,
                    "no reply to " + std::string(op) + " (is the room manager running?)");
    }
    return parse_reply(reply.get());
}

bool Connection::request_async(std::string_view op, const std::string& payload,
                               std::chrono::milliseconds timeout, ReplyHandler on_reply)
{
    std::string correlation = random_hex(16);
    auto properties = begin_request(correlation, std::move(on_reply), timeout);
    try {
        // No wait for PUBACK: the reply (or its absence) is what counts.
        auto message = mqtt::make_message(topic::control(op), payload, 1, false);
        message->set_properties(std::move(properties));
        client_.publish(message);
        return true;
    } catch (const mqtt::exception& e) {
        forget(correlation);
        log(LogLevel::debug, std::string("request not sent: ") + e.what());
        return false;
    }
}

void Connection::disconnect() noexcept
{
    try {
        if (client_.is_connected()) {
            client_.disconnect()->wait_for(std::chrono::seconds(2));
        }
    } catch (const std::exception& e) {
        log(LogLevel::debug, std::string("disconnect: ") + e.what());
    }
}

void Connection::on_message(mqtt::const_message_ptr message)
{
    // Paho thread: only quick, non-blocking work here.
    std::unique_lock lock(mutex_);
    if (!reply_topic_.empty() && message->get_topic() == reply_topic_) {
        const auto& props = message->get_properties();
        if (!props.contains(mqtt::property::CORRELATION_DATA)) {
            lock.unlock();
            log(LogLevel::warning, "reply without correlation data dropped");
            return;
        }
        auto correlation =
            mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
        auto it = pending_.find(correlation);
        if (it == pending_.end()) {
            lock.unlock();
            log(LogLevel::debug, "late or unknown reply dropped");
            return;
        }
        ReplyHandler on_reply = std::move(it->second.on_reply);
        pending_.erase(it);
        lock.unlock();
        on_reply(message->get_payload_str());
        return;
    }
    MessageHandler handler = handler_;
    lock.unlock();
    if (handler) {
        handler(std::move(message));
    }
}

void Connection::log(LogLevel level, const std::string& line) const
{
    if (log_) {
        log_(level, line);
    }
}

}  // namespace mqchat::client::detail
