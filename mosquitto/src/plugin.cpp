// mqchat's Mosquitto 2.0 plugin (plugin API v5): a thin adapter that turns
// broker events into calls on mqchat::access::AccessCore and its answers
// back into broker return codes. All decisions live in the core.
//
// Mosquitto facts this file relies on (checked against 2.0.11's source,
// src/security.c, src/handle_connect.c, src/plugin.c, src/handle_publish.c,
// and on the Debian broker by tests/mosquitto/plugin_smoke_test.sh):
//
// - Anonymous connections. mosquitto_unpwd_check() calls every BASIC_AUTH
//   callback for every CONNECT, also when the client sent no username
//   (event username == NULL). Only when all callbacks return
//   MOSQ_ERR_PLUGIN_DEFER does the broker fall back to `allow_anonymous`.
//   This plugin never defers: it answers SUCCESS for a guest and AUTH for
//   everything it refuses, so guests work with `allow_anonymous false` in
//   mosquitto.conf, and that setting stays as a safety net should the
//   plugin ever fail to load its callbacks.
// - ACL. Every check reaches the plugin (no acl_file is configured, so the
//   default ACL defers). READ is checked for each delivery, also for
//   retained messages sent on subscribe; for an offline persistent session
//   it is checked when the message is queued.
// - $CONTROL. A publish to $CONTROL/... first passes the WRITE ACL check,
//   then goes to the CONTROL callback registered for that exact topic, and
//   never reaches the MESSAGE event nor any subscriber.
// - Properties in MOSQ_EVT_MESSAGE. After the callbacks the broker stores
//   whatever `event_data->properties` points to as the message's property
//   list and frees it with the message; it does not free the list that was
//   there before. So a plugin that swaps the list must free the old one
//   itself and hand over a new one built with the broker's own
//   mosquitto_property_add_* (the broker's allocator; the plugin does not
//   link libmosquitto). The payload is different: the broker frees the old
//   payload if a plugin swaps it. This plugin never touches the payload.
// - Payload in READ checks. mosquitto_evt_acl_check carries the message's
//   payload and length for every delivery, live and retained (the room
//   metadata rule of the core needs it).
// - mosquitto_broker_publish*. The message is queued and routed from the
//   main loop after the callback returns, in the order queued, without a
//   WRITE check or a MESSAGE event. Without a client id it goes through
//   the READ check of each subscriber; with one (src/loop.c, single_publish)
//   it is put straight into that client's queue, subscribed or not, and
//   dropped when no session has that id. The _copy variant copies the
//   payload, so the plugin never allocates for the broker.
// - Session takeover. A CONNECT with a client id that is connected runs
//   BASIC_AUTH for the new connection first and only then sends the
//   DISCONNECT event for the old one, so the core counts a user's
//   connections without a gap (presence never flickers offline).
// tests/integration/presence_access_test.sh checks the last three on the
// Debian broker (retained and live metadata, a takeover ping-pong, the
// snapshot reaching only the client that asked).
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mqtt_protocol.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "mqchat/access/access_core.hpp"
#include "mqchat/protocol.hpp"
#include "mqchat/token.hpp"

#define MQCHAT_PLUGIN_API extern "C" __attribute__((visibility("default")))

namespace {

using mqchat::access::AccessCore;
using mqchat::access::Connection;

// Connections that have gone: the broker sends a client's Will after the
// DISCONNECT event, through a WRITE check but not through the MESSAGE event,
// so a Will would reach a room unstamped, with whatever sender property its
// client chose. Writes from a departed connection are refused, which drops
// every Will. Bounded: when full it is cleared, which leaves only delayed
// Wills (MQTT v5 Will Delay) of the cleared connections unguarded.
constexpr std::size_t max_departed = 65'536;

// Session takeover sends the old connection's Will BEFORE its DISCONNECT
// event (found by a fresh-user attack: a Will with forged sender and
// client-id stamps then reached the room manager as another user's request).
// So a connection is also marked departed the moment another one with its
// client id is authenticated: from then on the old one only goes away.
struct PluginState {
    mosquitto_plugin_id_t* id = nullptr;
    std::unique_ptr<AccessCore> core;
    std::unordered_set<const mosquitto*> departed;
    // Authenticated connections per client id, to find the one a takeover
    // replaces (the broker API cannot look a client up by id).
    std::unordered_map<std::string, std::unordered_set<const mosquitto*>> by_client_id;
    // The key files (plugin_opt_public_key, plugin_opt_public_keys_dir),
    // re-read on reload_keys and when a token names an unknown key.
    std::string public_key;
    std::string public_keys_dir;
    std::chrono::steady_clock::time_point last_reload{};
};

// Re-reads the public keys; keeps the old ones when the files are unreadable
// (a half-finished rotation must not lock everyone out).
void reload_keys(PluginState& state, const char* why)
{
    state.last_reload = std::chrono::steady_clock::now();
    try {
        auto verifier =
            mqchat::TokenVerifier::from_key_files(state.public_key, state.public_keys_dir);
        std::string ids;
        for (const auto& id : verifier.key_ids()) {
            ids += (ids.empty() ? "" : ",") + id;
        }
        state.core->replace_verifier(std::move(verifier));
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "mqchat: keys reloaded why=%s key_ids=%s", why,
                             ids.c_str());
    } catch (const std::exception& e) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: keys reload failed, old keys kept: %s",
                             e.what());
    }
}

std::string_view or_empty(const char* text)
{
    return text == nullptr ? std::string_view() : std::string_view(text);
}

std::string printable(const char* text)
{
    return text == nullptr ? std::string("-") : std::string(text);
}

// One audit line: "mqchat: client=<id> user=<u> | <what> | <details>".
void audit(int level, const char* client_id, const char* user, const std::string& what,
           const std::string& details)
{
    mosquitto_log_printf(level, "mqchat: client=%s user=%s | %s | %s",
                         printable(client_id).c_str(), printable(user).c_str(), what.c_str(),
                         details.c_str());
}

Connection connection_of(const PluginState& state, const mosquitto* client)
{
    return state.core->connection_for(or_empty(mosquitto_client_id(client)),
                                      or_empty(mosquitto_client_username(client)));
}

// Publishes `payload` on topic::sys_presence (QoS 1, not retained): to every
// reader when `client_id` is null (only the room manager may read it), else
// to that client alone.
void publish_presence(const char* client_id, const std::string& payload)
{
    const std::string topic(mqchat::topic::sys_presence);
    int rc = mosquitto_broker_publish_copy(client_id, topic.c_str(),
                                           static_cast<int>(payload.size()), payload.data(), 1,
                                           false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
        // The room manager's view stays wrong until its next presence_sync.
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: presence | publish failed rc=%d", rc);
    }
}

void publish_change(const mqchat::access::PresenceChange& change)
{
    publish_presence(nullptr, AccessCore::presence_payload(change));
}

std::string read_secret(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read service secret file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string secret = text.str();
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                               secret.back() == ' ' || secret.back() == '\t')) {
        secret.pop_back();
    }
    if (secret.empty()) {
        throw std::runtime_error("service secret file " + path + " is empty");
    }
    return secret;
}

// ---------------------------------------------------------------------------
// Callbacks. Each one catches everything: no exception may unwind into C.
// ---------------------------------------------------------------------------

int on_basic_auth(int, void* event_data, void* userdata)
{
    auto* ed = static_cast<mosquitto_evt_basic_auth*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    const char* client_id = mosquitto_client_id(ed->client);
    // A new connection may reuse the memory of a departed one.
    state->departed.erase(ed->client);
    try {
        auto result = state->core->authenticate(or_empty(client_id), or_empty(ed->username),
                                                or_empty(ed->password));
        // A token of a key newer than ours: the keys were rotated and the
        // room manager's reload_keys has not arrived yet. Once a second at
        // most, so unknown key ids cannot make the broker read files nonstop.
        if (!result.allowed && result.reason.ends_with("unknown_key") &&
            std::chrono::steady_clock::now() - state->last_reload > std::chrono::seconds(1)) {
            reload_keys(*state, "unknown_key_id");
            result = state->core->authenticate(or_empty(client_id), or_empty(ed->username),
                                               or_empty(ed->password));
        }
        if (result.allowed) {
            // Any other connection with this client id is being taken over:
            // whatever it writes from now on is its Will.
            auto& same_id = state->by_client_id[std::string(or_empty(client_id))];
            for (const mosquitto* old : same_id) {
                if (old != ed->client) {
                    state->departed.insert(old);
                }
            }
            same_id.clear();
            same_id.insert(ed->client);
            audit(MOSQ_LOG_INFO, client_id, ed->username, "connect", "result=ok");
            if (result.presence) {
                publish_change(*result.presence);
            }
            return MOSQ_ERR_SUCCESS;
        }
        audit(MOSQ_LOG_NOTICE, client_id, ed->username, "connect",
              "result=refused reason=\"" + result.reason + "\"");
    } catch (const std::exception& e) {
        audit(MOSQ_LOG_ERR, client_id, ed->username, "connect",
              std::string("result=error what=\"") + e.what() + "\"");
    } catch (...) {
        audit(MOSQ_LOG_ERR, client_id, ed->username, "connect", "result=error");
    }
    return MOSQ_ERR_AUTH;
}

int on_acl_check(int, void* event_data, void* userdata)
{
    auto* ed = static_cast<mosquitto_evt_acl_check*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    try {
        Connection conn = connection_of(*state, ed->client);
        std::string_view topic = or_empty(ed->topic);
        bool allowed = false;
        const char* what = "read";
        switch (ed->access) {
        case MOSQ_ACL_SUBSCRIBE:
            what = "subscribe";
            allowed = state->core->check_subscribe(conn, topic);
            break;
        case MOSQ_ACL_UNSUBSCRIBE:
            // Dropping a subscription never grants anything.
            return MOSQ_ERR_SUCCESS;
        case MOSQ_ACL_WRITE:
            what = "publish";
            if (state->departed.erase(ed->client) > 0) {
                what = "will";
                break;
            }
            allowed = state->core->check_publish(conn, topic, ed->retain, ed->qos);
            break;
        case MOSQ_ACL_READ: {
            std::string_view payload;
            if (ed->payload != nullptr) {
                payload = std::string_view(static_cast<const char*>(ed->payload), ed->payloadlen);
            }
            allowed = state->core->check_read(conn, topic, payload);
            break;
        }
        default:
            break;
        }
        if (allowed) {
            return MOSQ_ERR_SUCCESS;
        }
        // Denied reads are routine (a '#' subscriber sees most of them), so
        // they go to the debug level; denied writes and subscribes do not.
        audit(ed->access == MOSQ_ACL_READ ? MOSQ_LOG_DEBUG : MOSQ_LOG_NOTICE,
              mosquitto_client_id(ed->client), mosquitto_client_username(ed->client), what,
              "topic=" + std::string(topic) + " result=denied");
    } catch (const std::exception& e) {
        audit(MOSQ_LOG_ERR, mosquitto_client_id(ed->client), mosquitto_client_username(ed->client),
              "acl", std::string("result=error what=\"") + e.what() + "\"");
    } catch (...) {
        audit(MOSQ_LOG_ERR, mosquitto_client_id(ed->client), mosquitto_client_username(ed->client),
              "acl", "result=error");
    }
    return MOSQ_ERR_ACL_DENIED;
}

int on_control(int, void* event_data, void* userdata)
{
    auto* ed = static_cast<mosquitto_evt_control*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    const char* client_id = mosquitto_client_id(ed->client);
    const char* user = mosquitto_client_username(ed->client);
    try {
        Connection conn = connection_of(*state, ed->client);
        std::string_view payload(static_cast<const char*>(ed->payload), ed->payloadlen);
        auto result = state->core->handle_control(conn, payload);
        if (result.ok && !result.reply.empty()) {
            // presence_sync: the snapshot goes to the asking client id only.
            publish_presence(client_id, result.reply);
        }
        if (result.ok && result.op == mqchat::op::plugin::reload_keys) {
            reload_keys(*state, "reload_keys");
        }

        std::string details = "room=" + (result.room.empty() ? "-" : result.room);
        if (!result.target.empty()) {
            details += " target=" + result.target;
        }
        details += result.ok ? " result=ok" : " result=ignored reason=" + result.error;
        audit(result.ok ? MOSQ_LOG_INFO : MOSQ_LOG_NOTICE, client_id, user,
              result.op.empty() ? "control" : result.op, details);
    } catch (const std::exception& e) {
        audit(MOSQ_LOG_ERR, client_id, user, "control",
              std::string("result=error what=\"") + e.what() + "\"");
    } catch (...) {
        audit(MOSQ_LOG_ERR, client_id, user, "control", "result=error");
    }
    // Ignored requests are still acknowledged: the control topic has no
    // replies, and a refusal shows up as a refused subscribe.
    return MOSQ_ERR_SUCCESS;
}

// Copies one property (of any type a PUBLISH can carry) onto `dest`.
int copy_property(mosquitto_property** dest, const mosquitto_property* prop)
{
    int id = mosquitto_property_identifier(prop);
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR: {
        uint8_t value = 0;
        mosquitto_property_read_byte(prop, id, &value, false);
        return mosquitto_property_add_byte(dest, id, value);
    }
    case MQTT_PROP_TOPIC_ALIAS: {
        uint16_t value = 0;
        mosquitto_property_read_int16(prop, id, &value, false);
        return mosquitto_property_add_int16(dest, id, value);
    }
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL: {
        uint32_t value = 0;
        mosquitto_property_read_int32(prop, id, &value, false);
        return mosquitto_property_add_int32(dest, id, value);
    }
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER: {
        uint32_t value = 0;
        mosquitto_property_read_varint(prop, id, &value, false);
        return mosquitto_property_add_varint(dest, id, value);
    }
    case MQTT_PROP_CONTENT_TYPE:
    case MQTT_PROP_RESPONSE_TOPIC: {
        char* value = nullptr;
        mosquitto_property_read_string(prop, id, &value, false);
        int rc = mosquitto_property_add_string(dest, id, value == nullptr ? "" : value);
        free(value);
        return rc;
    }
    case MQTT_PROP_CORRELATION_DATA: {
        void* value = nullptr;
        uint16_t len = 0;
        mosquitto_property_read_binary(prop, id, &value, &len, false);
        int rc = mosquitto_property_add_binary(dest, id, value, len);
        free(value);
        return rc;
    }
    case MQTT_PROP_USER_PROPERTY: {
        char* name = nullptr;
        char* value = nullptr;
        mosquitto_property_read_string_pair(prop, id, &name, &value, false);
        int rc = mosquitto_property_add_string_pair(dest, id, name == nullptr ? "" : name,
                                                    value == nullptr ? "" : value);
        free(name);
        free(value);
        return rc;
    }
    default:
        // Nothing else is valid on a PUBLISH; the broker would have refused it.
        return MOSQ_ERR_SUCCESS;
    }
}

bool is_stamped_user_property(const mosquitto_property* prop)
{
    if (mosquitto_property_identifier(prop) != MQTT_PROP_USER_PROPERTY) {
        return false;
    }
    char* name = nullptr;
    char* value = nullptr;
    mosquitto_property_read_string_pair(prop, MQTT_PROP_USER_PROPERTY, &name, &value, false);
    bool stamped = name != nullptr && AccessCore::is_stamped_property(name);
    free(name);
    free(value);
    return stamped;
}

int on_message(int, void* event_data, void* userdata)
{
    auto* ed = static_cast<mosquitto_evt_message*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    const char* client_id = mosquitto_client_id(ed->client);
    const char* user = mosquitto_client_username(ed->client);
    mosquitto_property* fresh = nullptr;
    try {
        Connection conn = connection_of(*state, ed->client);
        auto stamps = state->core->stamp(conn, or_empty(ed->topic), mqchat::now_millis());
        if (stamps.empty()) {
            return MOSQ_ERR_SUCCESS;
        }

        // Build the new list: every property the client sent except the
        // ones we stamp, then ours.
        int rc = MOSQ_ERR_SUCCESS;
        for (const mosquitto_property* p = ed->properties; p != nullptr && rc == MOSQ_ERR_SUCCESS;
             p = mosquitto_property_next(p)) {
            if (!is_stamped_user_property(p)) {
                rc = copy_property(&fresh, p);
            }
        }
        for (const auto& [name, value] : stamps) {
            if (rc == MOSQ_ERR_SUCCESS) {
                rc = mosquitto_property_add_string_pair(&fresh, MQTT_PROP_USER_PROPERTY,
                                                        name.c_str(), value.c_str());
            }
        }
        if (rc != MOSQ_ERR_SUCCESS) {
            throw std::runtime_error("cannot build properties, rc=" + std::to_string(rc));
        }

        // Swap: we free the list we replace; the broker owns the new one.
        mosquitto_property_free_all(&ed->properties);
        ed->properties = fresh;
        return MOSQ_ERR_SUCCESS;
    } catch (const std::exception& e) {
        audit(MOSQ_LOG_ERR, client_id, user, "stamp",
              "topic=" + printable(ed->topic) + " result=error what=\"" + e.what() + "\"");
    } catch (...) {
        audit(MOSQ_LOG_ERR, client_id, user, "stamp", "result=error");
    }
    // An unstamped message must not be routed: a receiver would trust a
    // forged sender. A non-zero return makes the broker drop it.
    mosquitto_property_free_all(&fresh);
    return MOSQ_ERR_UNKNOWN;
}

int on_disconnect(int, void* event_data, void* userdata)
{
    auto* ed = static_cast<mosquitto_evt_disconnect*>(event_data);
    auto* state = static_cast<PluginState*>(userdata);
    try {
        // Its Will comes next, through the WRITE check (see max_departed).
        if (state->departed.size() >= max_departed) {
            state->departed.clear();
        }
        state->departed.insert(ed->client);

        // A refused CONNECT has no client id any more; it was never counted.
        const char* client_id = mosquitto_client_id(ed->client);
        if (client_id != nullptr) {
            auto same_id = state->by_client_id.find(client_id);
            if (same_id != state->by_client_id.end()) {
                same_id->second.erase(ed->client);
                if (same_id->second.empty()) {
                    state->by_client_id.erase(same_id);
                }
            }
            auto change = state->core->disconnected(
                client_id, or_empty(mosquitto_client_username(ed->client)));
            if (change) {
                publish_change(*change);
            }
        }
    } catch (...) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: disconnect handling failed");
    }
    return MOSQ_ERR_SUCCESS;
}

void unregister_all(mosquitto_plugin_id_t* id)
{
    mosquitto_callback_unregister(id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
    mosquitto_callback_unregister(id, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
    mosquitto_callback_unregister(id, MOSQ_EVT_CONTROL, on_control,
                                  std::string(mqchat::topic::plugin_control).c_str());
    mosquitto_callback_unregister(id, MOSQ_EVT_MESSAGE, on_message, nullptr);
    mosquitto_callback_unregister(id, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
}

}  // namespace

MQCHAT_PLUGIN_API int mosquitto_plugin_version(int supported_version_count,
                                               const int* supported_versions)
{
    for (int i = 0; i < supported_version_count; ++i) {
        if (supported_versions[i] == 5) {
            return 5;
        }
    }
    return -1;
}

MQCHAT_PLUGIN_API int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata,
                                            mosquitto_opt* options, int option_count)
{
    try {
        // Options: plugin_opt_<key> <value> in mosquitto.conf.
        std::string public_key;
        std::string public_keys_dir;
        std::string secret_file;
        mqchat::access::Options core_options;
        for (int i = 0; i < option_count; ++i) {
            std::string_view key = or_empty(options[i].key);
            std::string value(or_empty(options[i].value));
            if (key == "public_key") {
                public_key = value;
            } else if (key == "public_keys_dir") {
                public_keys_dir = value;
            } else if (key == "service_user") {
                core_options.service_user = value;
            } else if (key == "service_secret_file") {
                secret_file = value;
            } else if (key == "state_dir") {
                core_options.state_dir = value;
            } else {
                mosquitto_log_printf(MOSQ_LOG_WARNING, "mqchat: unknown option %s ignored",
                                     std::string(key).c_str());
            }
        }
        if (public_key.empty() || secret_file.empty() || core_options.state_dir.empty()) {
            mosquitto_log_printf(MOSQ_LOG_ERR,
                                 "mqchat: plugin_opt_public_key, plugin_opt_service_secret_file "
                                 "and plugin_opt_state_dir are required");
            return MOSQ_ERR_INVAL;
        }

        core_options.service_secret = read_secret(secret_file);
        // The current key and those retired by a rotation but still valid.
        auto verifier = mqchat::TokenVerifier::from_key_files(public_key, public_keys_dir);

        auto state = std::make_unique<PluginState>();
        state->id = identifier;
        state->public_key = public_key;
        state->public_keys_dir = public_keys_dir;
        state->core = std::make_unique<AccessCore>(std::move(core_options), std::move(verifier));

        // Register; on any failure undo what was registered.
        int rc = mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth,
                                             nullptr, state.get());
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check,
                                             nullptr, state.get());
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_callback_register(identifier, MOSQ_EVT_CONTROL, on_control,
                                             std::string(mqchat::topic::plugin_control).c_str(),
                                             state.get());
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, nullptr,
                                             state.get());
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect,
                                             nullptr, state.get());
        }
        if (rc != MOSQ_ERR_SUCCESS) {
            unregister_all(identifier);
            mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: cannot register callbacks (rc=%d)", rc);
            return rc;
        }

        mosquitto_log_printf(MOSQ_LOG_INFO, "mqchat: plugin ready, public_key=%s",
                             public_key.c_str());
        *userdata = state.release();
        return MOSQ_ERR_SUCCESS;
    } catch (const std::exception& e) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: plugin init failed: %s", e.what());
    } catch (...) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: plugin init failed");
    }
    return MOSQ_ERR_UNKNOWN;
}

MQCHAT_PLUGIN_API int mosquitto_plugin_cleanup(void* userdata, mosquitto_opt*, int)
{
    auto* state = static_cast<PluginState*>(userdata);
    if (state == nullptr) {
        return MOSQ_ERR_SUCCESS;
    }
    try {
        unregister_all(state->id);
        delete state;
    } catch (...) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "mqchat: plugin cleanup failed");
    }
    return MOSQ_ERR_SUCCESS;
}
