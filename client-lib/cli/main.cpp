// mqchat: the command-line client. Every command is a few calls into the
// client library; this file adds passwords, state and output.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cli_options.hpp"
#include "mqchat/client/client.hpp"
#include "mqchat/names.hpp"
#include "output.hpp"
#include "status_command.hpp"
#include "terminal.hpp"

namespace {

using mqchat::ErrorCode;
using mqchat::cli::Command;
using mqchat::client::Error;

constexpr int exit_usage = 2;
constexpr int exit_failure = 1;

// chat on a terminal: a pause this long in typing a line stops the typing
// indicator (receivers would drop it a little later by themselves).
constexpr auto typing_idle = std::chrono::seconds(5);

std::atomic<bool> interrupted{false};

void on_interrupt(int)
{
    interrupted = true;
}

// Ctrl-C ends `listen` and `chat` cleanly. No SA_RESTART, so a blocked read
// of stdin returns and the loop sees the flag.
void install_interrupt_handler()
{
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

class Cli {
public:
    Cli(mqchat::cli::CliOptions options, mqchat::cli::GetEnv env)
        : options_(std::move(options)), env_(std::move(env))
    {
    }

    int run();

private:
    std::string secret(const std::string& env_name, const std::string& prompt);
    void ensure_session();
    void print_message(const mqchat::client::Message& message);
    // One output line on stdout or stderr (above the line being typed in chat).
    void out_line(const std::string& line);
    void err_line(const std::string& line);
    void type_lines(const std::function<bool(const std::string&)>& send_line);
    // Prints presence and typing events; in text form only other users'
    // changes, and of the snapshot on entering only who is online.
    void print_events();
    int typing();
    void print_room(const std::string& action, const mqchat::client::RoomInfo& room);
    // One result line: `json` with --json, `text` otherwise.
    void print_done(const nlohmann::json& json, const std::string& text);
    void announce_listening();
    int listen();
    int chat();
    int history();

    mqchat::cli::CliOptions options_;
    mqchat::cli::GetEnv env_;
    void require_join_token();

    std::shared_ptr<mqchat::client::FileTokenStore> tokens_;
    std::unique_ptr<mqchat::client::Client> client_;
    std::mutex out_mutex_;
    mqchat::cli::LineEditor* editor_ = nullptr;  // chat on a terminal; guarded by out_mutex_
};

std::string Cli::secret(const std::string& env_name, const std::string& prompt)
{
    if (auto value = env_(env_name)) {
        return *value;
    }
    auto line = mqchat::cli::read_secret(prompt);
    if (!line) {
        throw Error(ErrorCode::usage, "no password given (set " + env_name + " or type it)");
    }
    return *line;
}

// Connects with the stored session token; without one (or when the broker
// refuses it) logs in with MQCHAT_PASSWORD if that is set.
void Cli::ensure_session()
{
    try {
        client_->connect();
        return;
    } catch (const Error& e) {
        if (e.code() != ErrorCode::not_authenticated) {
            throw;
        }
        if (!env_("MQCHAT_PASSWORD")) {
            throw Error(ErrorCode::not_authenticated,
                        e.message() + " (run `mqchat login` or set MQCHAT_PASSWORD)");
        }
    }
    client_->login(*env_("MQCHAT_PASSWORD"));
}

// Fails before any network traffic when the room was never joined here.
void Cli::require_join_token()
{
    if (!tokens_->join_token(options_.room)) {
        throw Error(ErrorCode::not_joined, "no join token for room \"" + options_.room +
                                               "\"; run `mqchat join " + options_.room +
                                               "` first");
    }
}

void Cli::print_message(const mqchat::client::Message& message)
{
    out_line(options_.json ? mqchat::cli::json_line(mqchat::cli::message_json(message))
                           : mqchat::cli::human_line(message));
}

void Cli::out_line(const std::string& line)
{
    std::lock_guard lock(out_mutex_);
    if (editor_ != nullptr) {
        editor_->print_above(line, std::cout);
    } else {
        std::cout << line << std::endl;
    }
}

void Cli::err_line(const std::string& line)
{
    std::lock_guard lock(out_mutex_);
    if (editor_ != nullptr) {
        editor_->print_above(line, std::cerr);
    } else {
        std::cerr << line << std::endl;
    }
}

void Cli::print_events()
{
    client_->on_presence([this](const mqchat::client::PresenceEvent& event) {
        if (options_.json) {
            out_line(mqchat::cli::json_line(mqchat::cli::presence_json(event)));
            return;
        }
        const bool quiet_snapshot = event.initial && !event.online;
        if (event.user != options_.user && !quiet_snapshot) {
            out_line(mqchat::cli::presence_line(event));
        }
    });
    client_->on_typing([this](const mqchat::client::TypingEvent& event) {
        out_line(options_.json ? mqchat::cli::json_line(mqchat::cli::typing_json(event))
                               : mqchat::cli::typing_line(event));
    });
}

void Cli::print_done(const nlohmann::json& json, const std::string& text)
{
    if (options_.json) {
        std::cout << mqchat::cli::json_line(json) << std::endl;
    } else {
        std::cout << text << std::endl;
    }
}

void Cli::print_room(const std::string& action, const mqchat::client::RoomInfo& room)
{
    if (options_.json) {
        std::cout << mqchat::cli::json_line(mqchat::cli::room_json(room)) << std::endl;
    } else {
        std::cout << action << " room \"" << room.name << "\" (" << room.id << ")" << std::endl;
    }
}

int Cli::run()
{
    // The user name becomes a file name and an MQTT username: check it first.
    if (mqchat::check_user_name(options_.user) != ErrorCode::ok) {
        throw Error(ErrorCode::invalid_name, "invalid user name");
    }

    mqchat::client::Options client_options;
    client_options.broker = options_.broker;
    client_options.ca_file = options_.ca_file;
    client_options.user = options_.user;
    tokens_ = std::make_shared<mqchat::client::FileTokenStore>(
        mqchat::cli::state_path(options_.broker, options_.user, env_));
    client_options.tokens = tokens_;
    // `typing` enters the room only to be admitted; it shows nothing.
    client_options.history_on_enter = options_.command == Command::typing ? 0 : options_.history;
    if (env_("MQCHAT_DEBUG")) {
        client_options.logger = [](mqchat::client::LogLevel, std::string_view line) {
            std::cerr << "mqchat: debug: " << line << "\n";
        };
    }
    client_ = std::make_unique<mqchat::client::Client>(std::move(client_options));

    switch (options_.command) {
    case Command::register_user: {
        client_->register_account(secret("MQCHAT_PASSWORD", "Password: "));
        if (options_.json) {
            std::cout << mqchat::cli::json_line({{"user", options_.user}}) << std::endl;
        } else {
            std::cout << "registered " << options_.user << std::endl;
        }
        return 0;
    }
    case Command::login: {
        std::string token = client_->login(secret("MQCHAT_PASSWORD", "Password: "));
        if (options_.json) {
            std::cout << mqchat::cli::json_line({{"user", options_.user}, {"token", token}})
                      << std::endl;
        } else {
            std::cout << token << std::endl;
        }
        return 0;
    }
    case Command::create:
    case Command::join: {
        bool create = options_.command == Command::create;
        std::string password = secret("MQCHAT_ROOM_PASSWORD", "Room password: ");
        ensure_session();
        mqchat::client::CreateOptions create_options;
        create_options.listed = options_.listed.value_or(true);
        create_options.description = options_.description.value_or("");
        auto room = create ? client_->create_room(options_.room, password, create_options)
                           : client_->join_room(options_.room, password);
        print_room(create ? "created" : "joined", room);
        return 0;
    }
    case Command::leave: {
        ensure_session();
        client_->leave_room(options_.room);
        print_done({{"room", options_.room}, {"left", true}},
                   "left room \"" + options_.room + "\"");
        return 0;
    }
    case Command::rooms: {
        ensure_session();
        auto found = client_->rooms(options_.match, options_.rooms_limit);
        if (options_.json) {
            for (const auto& room : found.rooms) {
                std::cout << mqchat::cli::json_line(mqchat::cli::room_json(room)) << "\n";
            }
        } else {
            std::cout << mqchat::cli::rooms_table(found.rooms);
        }
        std::cout << std::flush;
        if (found.more) {
            std::cerr << "mqchat: more rooms match; narrow with --match or raise --limit"
                      << std::endl;
        }
        return 0;
    }
    case Command::send: {
        require_join_token();
        ensure_session();
        std::string id = client_->send(options_.room, options_.text);
        if (options_.json) {
            std::cout << mqchat::cli::json_line({{"room", options_.room}, {"id", id}})
                      << std::endl;
        }
        return 0;
    }
    case Command::members: {
        ensure_session();
        auto members = client_->members(options_.room);
        if (options_.json) {
            for (const auto& member : members) {
                std::cout << mqchat::cli::json_line(mqchat::cli::member_json(member)) << "\n";
            }
        } else {
            std::cout << mqchat::cli::members_table(members);
        }
        std::cout << std::flush;
        return 0;
    }
    case Command::kick:
    case Command::ban:
    case Command::unban: {
        ensure_session();
        const char* done = "unbanned";
        nlohmann::json result = {{"room", options_.room}, {"user", options_.target}};
        std::string note;
        if (options_.command == Command::kick) {
            client_->kick(options_.room, options_.target);
            done = "kicked";
        } else if (options_.command == Command::ban) {
            client_->ban(options_.room, options_.target);
            done = "banned";
        } else {
            const bool was_banned = client_->unban(options_.room, options_.target);
            result["was_banned"] = was_banned;
            note = was_banned ? "" : " (was not banned)";
        }
        result[done] = true;
        print_done(result, std::string(done) + " " + options_.target + " from room \"" +
                               options_.room + "\"" + note);
        return 0;
    }
    case Command::passwd: {
        std::string password = secret("MQCHAT_ROOM_PASSWORD", "New room password: ");
        ensure_session();
        int revoked = client_->change_password(options_.room, password, options_.revoke);
        print_done({{"room", options_.room}, {"revoked", revoked}},
                   "changed the password of room \"" + options_.room + "\"" +
                       (options_.revoke ? "; removed " + std::to_string(revoked) + " members"
                                        : std::string()));
        return 0;
    }
    case Command::delete_room: {
        ensure_session();
        client_->delete_room(options_.room);
        print_done({{"room", options_.room}, {"deleted", true}},
                   "deleted room \"" + options_.room + "\"");
        return 0;
    }
    case Command::update: {
        ensure_session();
        print_room("updated", client_->update_room(options_.room, options_.description,
                                                   options_.listed));
        return 0;
    }
    case Command::transfer: {
        ensure_session();
        auto room = client_->transfer(options_.room, options_.target);
        if (options_.json) {
            std::cout << mqchat::cli::json_line(mqchat::cli::room_json(room)) << std::endl;
        } else {
            std::cout << "room \"" << room.name << "\" now belongs to " << room.owner
                      << std::endl;
        }
        return 0;
    }
    case Command::typing:
        return typing();
    case Command::listen:
        return listen();
    case Command::chat:
        return chat();
    case Command::history:
        return history();
    case Command::status:
        ensure_session();
        return mqchat::cli::print_status(client_->health_report(), options_.json, std::cout);
    }
    return 0;
}

// Tells the person (and scripts waiting on stderr) that the subscription is
// granted, so anything sent from now on will be shown.
void Cli::announce_listening()
{
    std::lock_guard lock(out_mutex_);
    std::cerr << "mqchat: listening to room \"" << options_.room << "\"" << std::endl;
}

// Prints messages until --count arrived, --timeout passed or Ctrl-C.
int Cli::listen()
{
    require_join_token();
    ensure_session();

    std::mutex mutex;
    std::condition_variable arrived;
    int seen = 0;
    client_->on_message([&](const mqchat::client::Message& message) {
        std::lock_guard lock(mutex);
        if (options_.count && seen >= *options_.count) {
            return;  // already done; do not print one too many
        }
        print_message(message);
        ++seen;
        arrived.notify_all();
    });
    if (options_.events) {
        print_events();
    }
    client_->enter_room(options_.room);
    announce_listening();

    auto deadline = std::chrono::steady_clock::time_point::max();
    if (options_.timeout) {
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<long long>(*options_.timeout * 1000));
    }

    // Wake up now and then to notice Ctrl-C.
    std::unique_lock lock(mutex);
    while (!interrupted) {
        if (options_.count && seen >= *options_.count) {
            break;
        }
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            break;
        }
        arrived.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
    }
    lock.unlock();

    // Closing the client runs the callbacks still queued while the state
    // they use (on this stack) still exists.
    client_.reset();
    return 0;
}

// Sends stdin lines, prints arriving messages, presence changes and typing,
// until EOF or Ctrl-C. Lines typed while the connection is down are queued
// and go out once it is back; each failure is printed. At EOF it waits for
// the queued lines' outcomes.
//
// Typing indicators need keystrokes, so only a terminal sends them: there
// keys are read one at a time (LineEditor). From a pipe or a file, lines
// arrive whole and chat sends no typing indicator at all.
int Cli::chat()
{
    require_join_token();
    ensure_session();

    // Outcomes of queued lines; a refusal ends the chat.
    std::mutex mutex;
    std::condition_variable settled;
    int waiting = 0;
    bool refused = false;
    client_->on_send_result([&](const mqchat::client::SendResult& result) {
        if (!result.delivered()) {
            err_line(mqchat::cli::error_line(std::string(to_string(result.code)),
                                             result.message));
        }
        std::lock_guard lock(mutex);
        --waiting;
        refused = refused || result.code == ErrorCode::not_admitted;
        settled.notify_all();
    });
    client_->on_message([this](const mqchat::client::Message& m) { print_message(m); });
    print_events();
    client_->enter_room(options_.room);
    announce_listening();

    // Queues one line; false when the chat must end (the room refused us).
    auto send_line = [&](const std::string& line) {
        if (line.empty()) {
            return true;
        }
        try {
            std::lock_guard lock(mutex);
            if (refused) {
                return false;
            }
            client_->send_async(options_.room, line);
            ++waiting;
        } catch (const Error& e) {
            // A line that cannot even be queued is reported; the chat goes on.
            err_line(mqchat::cli::error_line(std::string(to_string(e.code())), e.message()));
        }
        return true;
    };
    if (mqchat::cli::LineEditor::available()) {
        type_lines(send_line);
    } else {
        std::string line;
        while (!interrupted && std::getline(std::cin, line) && send_line(line)) {
        }
    }

    // Every queued line is settled (or reported as failed) before exiting.
    {
        std::unique_lock lock(mutex);
        while (waiting > 0 && !interrupted) {
            settled.wait_for(lock, std::chrono::milliseconds(200));
        }
    }

    // As in listen(): the callbacks use this stack; let them finish first.
    client_.reset();
    std::lock_guard lock(mutex);
    return refused ? exit_failure : 0;
}

// chat on a terminal: reads keys, hands finished lines to `send_line`, and
// tells the room while a line is being typed (see Client::set_typing).
void Cli::type_lines(const std::function<bool(const std::string&)>& send_line)
{
    mqchat::cli::LineEditor editor;
    {
        std::lock_guard lock(out_mutex_);
        editor_ = &editor;
    }
    auto set_typing = [this](bool typing) {
        try {
            client_->set_typing(options_.room, typing);
        } catch (const Error&) {
            // Only not_joined, checked before the chat began; nothing to tell.
        }
    };

    bool typing = false;
    auto last_key = std::chrono::steady_clock::now();
    bool go_on = true;
    while (go_on && !interrupted) {
        auto input = editor.read(std::chrono::milliseconds(200));

        // Finished lines first: sending one ends its typing by itself.
        while (auto line = editor.next_line()) {
            typing = false;
            if (!send_line(*line)) {
                go_on = false;
                break;
            }
        }
        if (input.ended) {
            break;
        }

        // A key while text is there is typing; an emptied line or a pause stops it.
        auto now = std::chrono::steady_clock::now();
        if (input.edited) {
            last_key = now;
            typing = !editor.empty();
            set_typing(typing);
        } else if (typing && now - last_key >= typing_idle) {
            typing = false;
            set_typing(false);
        }
    }
    if (typing) {
        set_typing(false);
    }
    std::lock_guard lock(out_mutex_);
    editor_ = nullptr;
}

// Announces typing in the room, refreshed, until Ctrl-C, SIGTERM or --for
// ends; then sends typing off. Killed with SIGKILL, it sends nothing more and
// the others' clients drop the indicator after limits::typing_ttl_ms.
int Cli::typing()
{
    require_join_token();
    ensure_session();
    client_->enter_room(options_.room);  // admission; shows nothing (no history)
    {
        std::lock_guard lock(out_mutex_);
        std::cerr << "mqchat: typing in room \"" << options_.room << "\"" << std::endl;
    }

    auto deadline = std::chrono::steady_clock::time_point::max();
    if (options_.typing_for) {
        deadline = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(static_cast<long long>(*options_.typing_for * 1000));
    }

    // A "keystroke" four times a second; the library sends a refresh every
    // limits::typing_refresh_ms of them.
    while (!interrupted) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            break;
        }
        client_->set_typing(options_.room, true);
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
            deadline - now, std::chrono::milliseconds(250)));
    }

    // At most one indicator a second goes out, so an off right after an on
    // waits for its turn: stay connected until it has gone.
    client_->set_typing(options_.room, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    client_.reset();
    if (options_.json) {
        std::cout << mqchat::cli::json_line({{"room", options_.room}, {"typing", false}})
                  << std::endl;
    }
    return 0;
}

// Prints up to --limit archived messages before --before, oldest first,
// paging back as far as needed.
int Cli::history()
{
    ensure_session();

    // Newest page first; each further page is older.
    std::vector<std::vector<mqchat::client::Message>> pages;
    std::optional<std::int64_t> before = options_.before;
    int left = options_.limit;
    while (left > 0) {
        auto page = client_->history(options_.room, before, std::min(left, 500));
        left -= static_cast<int>(page.messages.size());
        pages.push_back(std::move(page.messages));
        if (!page.more || page.oldest_seq <= 1) {
            break;
        }
        before = page.oldest_seq;
    }

    for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
        for (const auto& message : *page) {
            print_message(message);
        }
    }
    return 0;
}

void report(bool json, const std::string& code, const std::string& message)
{
    std::cerr << mqchat::cli::error_line(code, message) << std::endl;
    if (json) {
        std::cerr << mqchat::cli::json_line(mqchat::cli::error_json(code, message)) << std::endl;
    }
}

bool wants_json(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--json") == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

int main(int argc, char** argv)
{
    auto env = mqchat::cli::process_env();
    mqchat::cli::CommandLine command_line(env);

    try {
        command_line.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return command_line.app().exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return command_line.app().exit(e);
    } catch (const CLI::ParseError& e) {
        report(wants_json(argc, argv), "usage",
               std::string(e.what()) + " (see mqchat --help)");
        return exit_usage;
    }

    install_interrupt_handler();
    bool json = command_line.options().json;
    try {
        Cli cli(command_line.options(), env);
        return cli.run();
    } catch (const Error& e) {
        report(json, std::string(to_string(e.code())), e.message());
        return e.code() == ErrorCode::usage ? exit_usage : exit_failure;
    } catch (const std::exception& e) {
        report(json, "internal_error", e.what());
        return exit_failure;
    }
}
