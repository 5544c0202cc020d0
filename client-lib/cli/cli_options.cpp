#include "cli_options.hpp"

#include <cstdlib>

namespace mqchat::cli {

GetEnv process_env()
{
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr || *value == '\0') {
            return std::nullopt;
        }
        return std::string(value);
    };
}

CommandLine::CommandLine(const GetEnv& env)
    : app_("mqchat: chat rooms over MQTT", "mqchat")
{
    options_.broker = env("MQCHAT_BROKER").value_or("mqtt://127.0.0.1:1883");
    options_.user = env("MQCHAT_USER").value_or("");
    options_.ca_file = env("MQCHAT_CAFILE").value_or("");

    app_.option_defaults()->always_capture_default();
    app_.add_option("--broker", options_.broker, "broker URL (env MQCHAT_BROKER)");
    app_.add_option("--user", options_.user, "account name (env MQCHAT_USER)");
    app_.add_option("--cafile", options_.ca_file,
                    "CA certificate (PEM) to trust for mqtts:// and wss:// brokers; "
                    "default: the system's (env MQCHAT_CAFILE)")
        ->check(CLI::ExistingFile);
    app_.add_flag("--json", options_.json, "machine-readable output, one JSON object a line");
    app_.require_subcommand(1);

    // Each subcommand sets the command when it is the one given.
    auto command = [this](const char* name, const char* help, Command which) {
        CLI::App* sub = app_.add_subcommand(name, help);
        sub->callback([this, which] { options_.command = which; });
        return sub;
    };
    auto with_room = [this](CLI::App* sub) {
        sub->add_option("ROOM", options_.room, "room name")->required();
        return sub;
    };

    command("register", "create the account (password from MQCHAT_PASSWORD or a prompt)",
            Command::register_user);
    command("login", "print a session token, usable as MQTT password", Command::login);
    CLI::App* create = with_room(command(
        "create", "create a room (password from MQCHAT_ROOM_PASSWORD or a prompt)",
        Command::create));
    create->add_flag_callback(
        "--unlisted", [this] { options_.listed = false; },
        "only members see the room (default: every logged-in user)");
    create->add_option("--description", options_.description, "what the room is about");
    with_room(command("join", "join a room (password from MQCHAT_ROOM_PASSWORD or a prompt)",
                      Command::join));
    with_room(command("leave", "leave a room", Command::leave));
    CLI::App* rooms = command("rooms", "list the listed rooms and your own", Command::rooms);
    rooms->add_option("--match", options_.match,
                      "only rooms whose name or description contains TEXT (any case)");
    rooms->add_option("--limit", options_.rooms_limit, "at most N rooms (default 100, max 500)")
        ->check(CLI::Range(1, 500));

    CLI::App* send = with_room(command("send", "send one message", Command::send));
    send->add_option("TEXT", options_.text, "message text")->required();

    // listen and chat show recent history first, then live messages.
    auto with_history = [this](CLI::App* sub) {
        sub->add_option("--history", options_.history,
                        "show the last N messages first (0 = none, at most 500)")
            ->check(CLI::Range(0, 500));
        return sub;
    };
    CLI::App* listen = with_history(
        with_room(command("listen", "print a room's messages", Command::listen)));
    listen->add_flag("--events", options_.events,
                     "also print presence and typing events (they do not count for --count)");
    listen->add_option("--count", options_.count,
                       "exit after N messages (history ones count too)")
        ->check(CLI::PositiveNumber);
    listen->add_option("--timeout", options_.timeout, "exit after SECONDS")
        ->check(CLI::NonNegativeNumber);

    with_history(with_room(command(
        "chat", "interactive: stdin lines are sent, messages printed", Command::chat)));

    CLI::App* history = with_room(
        command("history", "print a room's archived messages, oldest first", Command::history));
    history->add_option("--limit", options_.limit, "how many messages (default 50)")
        ->check(CLI::PositiveNumber);
    history->add_option("--before", options_.before, "only messages with a seq below SEQ")
        ->check(CLI::PositiveNumber);

    // Room administration; all but `members` are for the owner.
    with_room(command("members", "list a room's members", Command::members));
    auto with_target = [this](CLI::App* sub) {
        sub->add_option("USER", options_.target, "user name")->required();
        return sub;
    };
    with_target(with_room(command("kick", "remove a member (may rejoin)", Command::kick)));
    with_target(with_room(command("ban", "remove a user and refuse rejoining", Command::ban)));
    with_target(with_room(command("unban", "allow a banned user to join again",
                                  Command::unban)));
    CLI::App* passwd = with_room(command(
        "passwd", "change the room password (new one from MQCHAT_ROOM_PASSWORD or a prompt)",
        Command::passwd));
    passwd->add_flag("--revoke", options_.revoke,
                     "remove every member but the owner; they rejoin with the new password");
    with_room(command("delete", "delete the room for everyone", Command::delete_room));
    CLI::App* update = with_room(
        command("update", "change the room's description or visibility", Command::update));
    update->add_option("--description", options_.description, "the new description");
    auto* listed = update->add_flag_callback(
        "--listed", [this] { options_.listed = true; }, "every logged-in user sees the room");
    auto* unlisted = update->add_flag_callback(
        "--unlisted", [this] { options_.listed = false; }, "only members see the room");
    listed->excludes(unlisted);
    with_target(with_room(
        command("transfer", "make a member the room's owner", Command::transfer)));

    CLI::App* typing = with_room(command(
        "typing", "announce typing, refreshed until killed or --for ends", Command::typing));
    typing->add_option("--for", options_.typing_for, "stop after SECONDS (then send typing off)")
        ->check(CLI::NonNegativeNumber);

    // Operators only (issue 7).
    command("status", "operators: print the room manager's health report", Command::status);
}

void CommandLine::parse(int argc, const char* const* argv)
{
    app_.parse(argc, argv);
    if (options_.user.empty()) {
        throw CLI::RequiredError("--user (or MQCHAT_USER)");
    }
    if (options_.command == Command::update && !options_.description && !options_.listed) {
        throw CLI::RequiredError("--description, --listed or --unlisted");
    }
}

std::string broker_folder_name(const std::string& broker)
{
    std::string rest = broker;
    if (auto scheme = rest.find("://"); scheme != std::string::npos) {
        rest = rest.substr(scheme + 3);
    }
    if (auto path = rest.find('/'); path != std::string::npos) {
        rest = rest.substr(0, path);
    }
    // user:pass@host is not used by mqchat, but must never reach a file name.
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        rest = rest.substr(at + 1);
    }
    std::string name;
    for (char c : rest) {
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '-';
        name.push_back(safe ? c : '_');
    }
    // "." and ".." must not become folder names that climb out of MQCHAT_HOME.
    if (name.find_first_not_of('.') == std::string::npos) {
        name = "_" + name;
    }
    return name;
}

std::string state_path(const std::string& broker, const std::string& user, const GetEnv& env)
{
    std::string home;
    if (auto explicit_home = env("MQCHAT_HOME")) {
        home = *explicit_home;
    } else if (auto xdg = env("XDG_STATE_HOME")) {
        home = *xdg + "/mqchat";
    } else {
        home = env("HOME").value_or(".") + "/.local/state/mqchat";
    }
    return home + "/" + broker_folder_name(broker) + "/" + user + ".json";
}

}  // namespace mqchat::cli
