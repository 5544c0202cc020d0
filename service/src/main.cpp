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
#include <string>
#include <thread>

#include "mqchat/service/archiver.hpp"
#include "mqchat/service/data_dir.hpp"
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
    const auto signer = mqchat::TokenSigner::from_pem_file(files.signing_key.string());

    ServiceConfig config;
    config.broker_uri = paho_uri(options.broker);
    config.service_user = options.service_user;
    config.secret = read_service_secret(files.service_secret);
    config.workers = options.workers;
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
    RoomManager manager(store, hasher, signer, service.publisher(), manager_config);
    service.start(manager);
    spdlog::info("room_manager: running schema_version={}", store.schema_version());

    int signal = 0;
    sigwait(&stop_signals, &signal);
    spdlog::info("room_manager: stopping signal={}", signal);
    service.stop();
    archiver.stop();
    return EXIT_SUCCESS;
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
    CLI11_PARSE(app, argc, argv);

    spdlog::set_level(spdlog::level::from_str(options.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

    // The effective configuration; the secret is read later and never printed.
    spdlog::info("room_manager: config data_dir={} broker={} service_user={} argon2_t={} "
                 "argon2_m_kib={} argon2_p={} workers={} worker_nice={} log_level={} init_only={} "
                 "instance={} "
                 "history_keep={} history_max_days={} presence_grace_ms={} meta_interval_ms={}",
                 options.data_dir, paho_uri(options.broker), options.service_user,
                 options.argon2.t_cost, options.argon2.m_cost_kib, options.argon2.parallelism,
                 options.workers, options.worker_nice, options.log_level, options.init_only,
                 options.instance,
                 options.history_keep, options.history_max_days, options.presence_grace_ms,
                 options.meta_interval_ms);

    try {
        return run(options);
    } catch (const std::exception& e) {
        spdlog::critical("room_manager: fatal: {}", e.what());
        return EXIT_FAILURE;
    }
}
