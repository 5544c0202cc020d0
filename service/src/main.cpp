// mqchat-room-manager: prepares the data folder, then answers control
// requests over MQTT until SIGINT or SIGTERM.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>
#include <thread>

#include "mqchat/service/archiver.hpp"
#include "mqchat/service/config_file.hpp"
#include "mqchat/service/data_dir.hpp"
#include "mqchat/service/health.hpp"
#include "mqchat/service/key_rotation.hpp"
#include "mqchat/service/password_hasher.hpp"
#include "mqchat/service/room_manager.hpp"
#include "mqchat/service/service.hpp"
#include "mqchat/service/store.hpp"
#include "mqchat/names.hpp"
#include "mqchat/token.hpp"

namespace {

using namespace mqchat::service;

// Request workers by default: one CPU fewer than the machine has (at least
// one), so that a burst of logins, each an Argon2id hash that keeps a CPU
// busy for its whole duration, always leaves a CPU to the broker and the
// rest of the process. On two CPUs that is one worker: every control
// request then waits for a hash in progress (170 ms at the default cost).
std::size_t default_workers()
{
    const unsigned cpus = std::thread::hardware_concurrency();
    return cpus > 1 ? cpus - 1 : 1;
}

struct Options {
    std::string data_dir = "data";
    std::string broker = "tcp://127.0.0.1:1883";
    std::string service_user = "mqchat-service";
    Argon2Params argon2;
    std::size_t workers = default_workers();
    int worker_nice = 10;
    std::string log_level = "info";
    bool init_only = false;
    std::string ready_file;
    std::string instance = "main";
    std::int64_t history_keep = 100'000;
    int history_max_days = 0;
    int presence_grace_ms = 2000;
    int meta_interval_ms = 1000;

    // Deployment (issue 7): the config file, the broker's settings (the
    // room manager resolves them so scripts render mosquitto.conf from the
    // same values), the health report, operators and key rotation.
    std::string config_file;
    int mqtt_port = 1883;
    int ws_port = 9001;
    std::string bind = "0.0.0.0";
    int max_queued = 10'000;
    // TLS listeners (0 turns one off); empty cert/key: the local CA's.
    int mqtts_port = 8883;
    int wss_port = 9443;
    std::string tls_bind;
    std::string tls_cert;
    std::string tls_key;
    int health_interval_ms = 5000;
    std::vector<std::string> operators;
    bool print_broker_settings = false;
    int keep_previous_days = 30;
    bool retire_previous = false;
};

// Paho speaks tcp:// and ssl://; people and the docs say mqtt:// and mqtts://.
std::string paho_uri(const std::string& uri)
{
    if (uri.starts_with("mqtt://")) {
        return "tcp://" + uri.substr(7);
    }
    if (uri.starts_with("mqtts://")) {
        return "ssl://" + uri.substr(8);
    }
    return uri;
}

// Single quotes for sh: the output of --print-broker-settings is eval'd.
std::string shell_quote(const std::string& value)
{
    std::string quoted = "'";
    for (char c : value) {
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return quoted + "'";
}

// --print-broker-settings: what scripts/broker-conf.sh fills into the
// broker's configuration, as KEY=VALUE lines a shell can eval.
int print_broker_settings(const Options& options)
{
    std::cout << "MQCHAT_DATA_DIR="
              << shell_quote(std::filesystem::absolute(options.data_dir).lexically_normal())
              << "\n"
              << "MQCHAT_MQTT_PORT=" << options.mqtt_port << "\n"
              << "MQCHAT_WS_PORT=" << options.ws_port << "\n"
              << "MQCHAT_BIND=" << shell_quote(options.bind) << "\n"
              << "MQCHAT_MAX_QUEUED=" << options.max_queued << "\n"
              << "MQCHAT_MQTTS_PORT=" << options.mqtts_port << "\n"
              << "MQCHAT_WSS_PORT=" << options.wss_port << "\n"
              << "MQCHAT_TLS_BIND="
              << shell_quote(options.tls_bind.empty() ? options.bind : options.tls_bind) << "\n"
              << "MQCHAT_TLS_CERT=" << shell_quote(options.tls_cert) << "\n"
              << "MQCHAT_TLS_KEY=" << shell_quote(options.tls_key) << "\n"
              << "MQCHAT_SERVICE_USER=" << shell_quote(options.service_user) << "\n";
    return EXIT_SUCCESS;
}

// rotate-keys: a new signing key; the running room manager picks it up.
int rotate_keys(const Options& options)
{
    const DataDirFiles files = ensure_data_dir(options.data_dir);
    const RotationResult result =
        rotate_signing_key(files, std::chrono::hours(24 * options.keep_previous_days),
                           options.retire_previous, mqchat::now_seconds());
    spdlog::info("room_manager: rotated signing key old_kid={} kid={} removed={}",
                 result.old_key_id, result.new_key_id, result.removed.size());
    std::cout << "new signing key " << result.new_key_id << " (previous " << result.old_key_id
              << (options.retire_previous ? ", refused from now on" : ", still accepted")
              << ")\n";
    for (const auto& id : result.removed) {
        std::cout << "no longer accepted: " << id << "\n";
    }
    return EXIT_SUCCESS;
}

int run(const Options& options)
{
    // Data folder first: --init-only stops once the keys exist.
    const DataDirFiles files = ensure_data_dir(options.data_dir);
    spdlog::info("room_manager: data_dir={} public_key={}", files.dir.string(),
                 files.public_key.string());
    if (options.init_only) {
        spdlog::info("room_manager: init-only done");
        return EXIT_SUCCESS;
    }

    // Block the stop signals before any thread starts, so all of them inherit
    // the mask and only sigwait() below sees SIGINT/SIGTERM.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    Store store(files.database.string());
    const PasswordHasher hasher(options.argon2);
    auto signer = mqchat::TokenSigner::from_pem_file(files.signing_key.string());
    Metrics metrics;

    ServiceConfig config;
    config.broker_uri = paho_uri(options.broker);
    config.service_user = options.service_user;
    config.secret = read_service_secret(files.service_secret);
    config.workers = options.workers;
    config.on_handled = [&metrics](std::string_view op, mqchat::ErrorCode code) {
        metrics.record(op, code);
    };
    config.worker_nice = options.worker_nice;
    if (!options.ready_file.empty()) {
        // Scripts and tests wait for this file instead of guessing a delay.
        config.on_ready = [path = options.ready_file] {
            std::ofstream(path) << "ready\n";
            spdlog::info("room_manager: ready ready_file={}", path);
        };
    }

    // The archive's own connection, up first so no message is missed.
    ArchiverConfig archive;
    archive.broker_uri = config.broker_uri;
    archive.service_user = config.service_user;
    archive.secret = config.secret;
    archive.instance = options.instance;
    archive.keep_per_room = options.history_keep;
    archive.max_age = std::chrono::hours(24 * options.history_max_days);
    Archiver archiver(archive, store);
    archiver.start();

    Service service(config);
    RoomManagerConfig manager_config;
    manager_config.service_user = options.service_user;
    manager_config.presence_grace = std::chrono::milliseconds(options.presence_grace_ms);
    manager_config.meta_interval = std::chrono::milliseconds(options.meta_interval_ms);
    manager_config.operators.insert(options.operators.begin(), options.operators.end());
    RoomManager manager(store, hasher, signer, service.publisher(), manager_config);
    service.start(manager);
    spdlog::info("room_manager: running schema_version={} kid={}", store.schema_version(),
                 signer.current_key_id());

    // Health report; its ticks also watch for a rotated signing key. The
    // plugin re-reads its keys before the first token of the new key goes
    // out, through the same connection as the replies that carry tokens.
    SigningKeyWatcher key_watcher(files.signing_key.string(), signer, [&service] {
        service.publisher().publish(std::string(mqchat::topic::plugin_control),
                                    R"({"op":"reload_keys"})", false);
    });
    HealthConfig health;
    health.broker_uri = config.broker_uri;
    health.service_user = config.service_user;
    health.secret = config.secret;
    health.instance = options.instance;
    health.version = MQCHAT_VERSION;
    health.interval = std::chrono::milliseconds(options.health_interval_ms);
    health.on_tick = [&key_watcher] { key_watcher.check(); };
    HealthReporter reporter(health, store, metrics, archiver);
    reporter.start();

    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("room_manager: stopping signal={}", signal);
    reporter.stop();
    service.stop();
    archiver.stop();
    return EXIT_SUCCESS;
}

// The options of issue 7 (deployment); returns the rotate-keys subcommand.
CLI::App* add_deployment_options(CLI::App& app, Options& options)
{
    app.add_option("--config", options.config_file,
                   "TOML config file (see mqchat.toml.example); flags and MQCHAT_* win over it")
        ->envname("MQCHAT_CONFIG")
        ->configurable(false);
    app.add_option("--mqtt-port", options.mqtt_port, "broker MQTT port (for mosquitto.conf)")
        ->envname("MQCHAT_MQTT_PORT")
        ->check(CLI::Range(1, 65535))
        ->capture_default_str();
    app.add_option("--ws-port", options.ws_port, "broker WebSocket port (for mosquitto.conf)")
        ->envname("MQCHAT_WS_PORT")
        ->check(CLI::Range(1, 65535))
        ->capture_default_str();
    app.add_option("--bind", options.bind, "address the broker listens on (for mosquitto.conf)")
        ->envname("MQCHAT_BIND")
        ->check([](const std::string& v) {
            return !v.empty() && v.find_first_of(" \t\n#'\"") == std::string::npos
                       ? std::string()
                       : std::string("must be a host name or an address");
        })
        ->capture_default_str();
    app.add_option("--max-queued", options.max_queued,
                   "messages the broker queues per offline session (for mosquitto.conf)")
        ->envname("MQCHAT_MAX_QUEUED")
        ->check(CLI::Range(1, 10'000'000))
        ->capture_default_str();
    app.add_option("--mqtts-port", options.mqtts_port,
                   "broker MQTT-over-TLS port, 0 = off (for mosquitto.conf)")
        ->envname("MQCHAT_MQTTS_PORT")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    app.add_option("--wss-port", options.wss_port,
                   "broker WebSocket-over-TLS port, 0 = off (for mosquitto.conf)")
        ->envname("MQCHAT_WSS_PORT")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    app.add_option("--tls-bind", options.tls_bind,
                   "address the TLS listeners bind to [--bind] (for mosquitto.conf)")
        ->envname("MQCHAT_TLS_BIND");
    app.add_option("--tls-cert", options.tls_cert,
                   "server certificate, PEM [generated local CA's] (for mosquitto.conf)")
        ->envname("MQCHAT_TLS_CERT");
    app.add_option("--tls-key", options.tls_key,
                   "the certificate's private key, PEM (for mosquitto.conf)")
        ->envname("MQCHAT_TLS_KEY");
    app.add_option("--health-interval-ms", options.health_interval_ms,
                   "how often the health report on chat/v1/sys/health is refreshed")
        ->envname("MQCHAT_HEALTH_INTERVAL_MS")
        ->check(CLI::Range(100, 3'600'000))
        ->capture_default_str();
    app.add_option("--operator,--operators", options.operators,
                   "user allowed to read the health report (repeat, or comma-separated)")
        ->envname("MQCHAT_OPERATORS")
        ->delimiter(',')
        ->check([](const std::string& v) {
            return mqchat::check_user_name(v) == mqchat::ErrorCode::ok
                       ? std::string()
                       : std::string("not a valid user name: " + v);
        });
    app.add_flag("--print-broker-settings", options.print_broker_settings,
                 "print the broker's settings as shell KEY=VALUE lines, then exit")
        ->configurable(false);
    app.get_option("--init-only")->configurable(false);
    app.get_option("--ready-file")->configurable(false);

    CLI::App* rotate = app.add_subcommand(
        "rotate-keys", "make a new signing key; tokens of the previous one stay valid");
    rotate->add_option("--keep-days", options.keep_previous_days,
                       "accept tokens of a retired key this long (the longest token lifetime)")
        ->check(CLI::Range(0, 3650))
        ->capture_default_str();
    rotate->add_flag("--retire-previous", options.retire_previous,
                     "refuse every token signed before (a leaked key)");
    app.fallthrough();
    return rotate;
}

}  // namespace

int main(int argc, char** argv)
{
    Options options;
    CLI::App app{"mqchat room manager: accounts, rooms and tokens over MQTT"};

    app.add_option("--data-dir", options.data_dir, "data folder (keys, secret, database)")
        ->envname("MQCHAT_DATA_DIR")
        ->capture_default_str();
    app.add_option("--broker", options.broker, "broker URL (tcp://, mqtt://, ssl://)")
        ->envname("MQCHAT_BROKER")
        ->capture_default_str();
    app.add_option("--service-user", options.service_user, "MQTT username of the service")
        ->capture_default_str();
    app.add_option("--argon2-t", options.argon2.t_cost, "Argon2id iterations")
        ->envname("MQCHAT_ARGON2_T")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--argon2-m", options.argon2.m_cost_kib, "Argon2id memory in KiB")
        ->envname("MQCHAT_ARGON2_M")
        ->check(CLI::Range(8, 4 * 1024 * 1024))
        ->capture_default_str();
    app.add_option("--argon2-p", options.argon2.parallelism, "Argon2id lanes")
        ->envname("MQCHAT_ARGON2_P")
        ->check(CLI::Range(1, 16))
        ->capture_default_str();
    app.add_option("--workers", options.workers,
                   "request worker threads (default: CPUs - 1, at least 1)")
        ->envname("MQCHAT_WORKERS")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--worker-nice", options.worker_nice,
                   "added to the worker threads' nice value, so password hashing yields the "
                   "CPU to message delivery (0: same priority)")
        ->envname("MQCHAT_WORKER_NICE")
        ->check(CLI::Range(0, 19))
        ->capture_default_str();
    app.add_option("--log-level", options.log_level, "trace|debug|info|warn|error")
        ->envname("MQCHAT_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
        ->capture_default_str();
    app.add_flag("--init-only", options.init_only,
                 "create the data folder, keys and secret, then exit");
    app.add_option("--instance", options.instance,
                   "name of this room manager's archive session (unique per instance)")
        ->envname("MQCHAT_INSTANCE")
        ->check([](const std::string& v) {
            return mqchat::is_safe_topic_level(v) && !v.empty() && v.size() <= 64
                       ? std::string()
                       : std::string("must be 1-64 characters without / + # $");
        })
        ->capture_default_str();
    app.add_option("--history-keep", options.history_keep,
                   "messages kept per room in the archive (0: no limit)")
        ->envname("MQCHAT_HISTORY_KEEP")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--history-max-days", options.history_max_days,
                   "days a message is kept in the archive (0: no limit)")
        ->envname("MQCHAT_HISTORY_MAX_DAYS")
        ->check(CLI::Range(0, 36500))
        ->capture_default_str();
    app.add_option("--presence-grace-ms", options.presence_grace_ms,
                   "how long a user must be gone before they show offline")
        ->envname("MQCHAT_PRESENCE_GRACE_MS")
        ->check(CLI::Range(0, 600'000))
        ->capture_default_str();
    app.add_option("--meta-interval-ms", options.meta_interval_ms,
                   "least time between two count updates of one room's metadata")
        ->envname("MQCHAT_META_INTERVAL_MS")
        ->check(CLI::Range(0, 600'000))
        ->capture_default_str();
    app.add_option("--ready-file", options.ready_file,
                   "file to create once control requests are being answered");
    CLI::App* rotate = add_deployment_options(app, options);

    // Command line and environment, then the config file beneath them.
    // Any bad value, wherever it came from, is a usage error: exit 2.
    try {
        app.parse(argc, argv);
        if (!options.config_file.empty()) {
            apply_config_file(app, options.config_file);
        }
        if (app.get_option("--broker")->count() == 0) {
            options.broker = "tcp://127.0.0.1:" + std::to_string(options.mqtt_port);
        }
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "mqchat-room-manager: " << e.what() << "\n";
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << "mqchat-room-manager: " << e.what() << "\n";
        return 2;
    }
    if (options.print_broker_settings) {
        return print_broker_settings(options);
    }

    spdlog::set_level(spdlog::level::from_str(options.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    // The effective configuration; secrets are redacted, and the service
    // secret and the keys are files that are never printed.
    spdlog::info("room_manager: config {}", effective_config(app));

    try {
        if (rotate->parsed()) {
            return rotate_keys(options);
        }
        return run(options);
    } catch (const std::exception& e) {
        spdlog::critical("room_manager: fatal: {}", e.what());
        return EXIT_FAILURE;
    }
}
