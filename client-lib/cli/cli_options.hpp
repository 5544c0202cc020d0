// The `mqchat` command line: what the user asked for, and where its state
// lives. Kept apart from main.cpp so tests can check parsing without a broker.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace mqchat::cli {

// Reads an environment variable; injected so tests need not touch the real
// environment.
using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment, with empty values treated as unset.
[[nodiscard]] GetEnv process_env();

enum class Command {
    register_user,
    login,
    create,
    join,
    leave,
    rooms,
    send,
    listen,
    chat,
    members,
    kick,
    ban,
    unban,
    passwd,
    delete_room,
    history,
    update,
    transfer,
    typing,
    status,  // operators: the room manager's health report (status_command.cpp)
};

struct CliOptions {
    std::string broker;              // --broker, env MQCHAT_BROKER, default mqtt://127.0.0.1:1883
    std::string user;                // --user, env MQCHAT_USER
    std::string ca_file;             // --cafile, env MQCHAT_CAFILE: CA for TLS brokers
    bool json = false;               // --json
    Command command = Command::rooms;
    std::string room;                // create/join/leave/send/listen/chat
    std::string text;                // send
    std::string target;              // kick/ban/unban/transfer: the user acted on
    bool revoke = false;             // passwd --revoke
    std::optional<int> count;        // listen --count
    std::optional<double> timeout;   // listen --timeout, seconds
    int history = 50;                // listen/chat --history: shown first; 0 = none
    int limit = 50;                  // history --limit
    std::optional<std::int64_t> before;  // history --before SEQ
    std::string match;               // rooms --match TEXT; empty = all
    int rooms_limit = 100;           // rooms --limit N
    std::optional<bool> listed;      // create --unlisted, update --listed/--unlisted
    std::optional<std::string> description;  // create/update --description TEXT
    bool events = false;             // listen --events: presence and typing too
    std::optional<double> typing_for;  // typing --for SECONDS; unset = until killed
};

// Builds the CLI11 description of the command line. parse() fills options();
// CLI11 throws CLI::ParseError for bad usage and CLI::CallForHelp for --help,
// which the caller passes to app().exit().
class CommandLine {
public:
    explicit CommandLine(const GetEnv& env);

    // Parses argv (argv[0] is the program name). Throws CLI::ParseError.
    // Checks that a user name is known for every command.
    void parse(int argc, const char* const* argv);

    [[nodiscard]] const CliOptions& options() const noexcept { return options_; }
    [[nodiscard]] CLI::App& app() noexcept { return app_; }

private:
    CLI::App app_;
    CliOptions options_;
};

// Where the state of `user` on `broker` is kept:
// $MQCHAT_HOME/<host_port>/<user>.json, MQCHAT_HOME defaulting to
// $XDG_STATE_HOME/mqchat, then ~/.local/state/mqchat. Characters of the host
// other than [A-Za-z0-9._-] become '_'.
[[nodiscard]] std::string state_path(const std::string& broker, const std::string& user,
                                     const GetEnv& env);

// "mqtt://127.0.0.1:1883" -> "127.0.0.1_1883".
[[nodiscard]] std::string broker_folder_name(const std::string& broker);

}  // namespace mqchat::cli
