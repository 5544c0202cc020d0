#include "cli_options.hpp"

#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace mqchat::cli {
namespace {

GetEnv fake_env(std::map<std::string, std::string> values)
{
    return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

CliOptions parse(std::vector<const char*> args, std::map<std::string, std::string> env = {})
{
    args.insert(args.begin(), "mqchat");
    CommandLine command_line(fake_env(std::move(env)));
    command_line.parse(static_cast<int>(args.size()), args.data());
    return command_line.options();
}

TEST(CommandLine, DefaultsComeFromEnvironment)
{
    auto options = parse({"rooms"}, {{"MQCHAT_USER", "alice"},
                                     {"MQCHAT_BROKER", "mqtt://10.0.0.1:1884"}});
    EXPECT_EQ(options.command, Command::rooms);
    EXPECT_EQ(options.user, "alice");
    EXPECT_EQ(options.broker, "mqtt://10.0.0.1:1884");
    EXPECT_FALSE(options.json);
}

TEST(CommandLine, FlagsBeatEnvironment)
{
    auto options = parse({"--broker", "mqtt://h:1", "--user", "bob", "--json", "rooms"},
                         {{"MQCHAT_USER", "alice"}});
    EXPECT_EQ(options.user, "bob");
    EXPECT_EQ(options.broker, "mqtt://h:1");
    EXPECT_TRUE(options.json);
}

TEST(CommandLine, BrokerDefaultsToLocalhost)
{
    EXPECT_EQ(parse({"--user", "a", "login"}).broker, "mqtt://127.0.0.1:1883");
}

TEST(CommandLine, SendTakesRoomAndText)
{
    auto options = parse({"--user", "a", "send", "Book club", "hello there"});
    EXPECT_EQ(options.command, Command::send);
    EXPECT_EQ(options.room, "Book club");
    EXPECT_EQ(options.text, "hello there");
}

TEST(CommandLine, ListenTakesCountAndTimeout)
{
    auto options = parse({"--user", "a", "listen", "lobby", "--count", "3", "--timeout", "2.5"});
    EXPECT_EQ(options.command, Command::listen);
    EXPECT_EQ(options.count, 3);
    EXPECT_DOUBLE_EQ(options.timeout.value(), 2.5);
}

TEST(CommandLine, ListenAndChatShowFiftyMessagesOfHistoryUnlessTold)
{
    EXPECT_EQ(parse({"--user", "a", "listen", "lobby"}).history, 50);
    EXPECT_EQ(parse({"--user", "a", "listen", "lobby", "--history", "0"}).history, 0);
    EXPECT_EQ(parse({"--user", "a", "chat", "lobby", "--history", "500"}).history, 500);
    EXPECT_THROW(parse({"--user", "a", "listen", "r", "--history", "501"}), CLI::ParseError);
    EXPECT_THROW(parse({"--user", "a", "chat", "r", "--history", "-1"}), CLI::ParseError);
}

TEST(CommandLine, HistoryTakesLimitAndBefore)
{
    auto plain = parse({"--user", "a", "history", "lobby"});
    EXPECT_EQ(plain.command, Command::history);
    EXPECT_EQ(plain.room, "lobby");
    EXPECT_EQ(plain.limit, 50);
    EXPECT_FALSE(plain.before);

    auto paged = parse({"--user", "a", "history", "lobby", "--limit", "1000", "--before", "77"});
    EXPECT_EQ(paged.limit, 1000);
    EXPECT_EQ(paged.before, 77);
    EXPECT_THROW(parse({"--user", "a", "history", "r", "--limit", "0"}), CLI::ParseError);
    EXPECT_THROW(parse({"--user", "a", "history", "r", "--before", "0"}), CLI::ParseError);
}

TEST(CommandLine, EveryCommandParses)
{
    EXPECT_EQ(parse({"--user", "a", "register"}).command, Command::register_user);
    EXPECT_EQ(parse({"--user", "a", "create", "r"}).command, Command::create);
    EXPECT_EQ(parse({"--user", "a", "join", "r"}).command, Command::join);
    EXPECT_EQ(parse({"--user", "a", "leave", "r"}).command, Command::leave);
    EXPECT_EQ(parse({"--user", "a", "chat", "r"}).command, Command::chat);
}

TEST(CommandLine, RejectsBadUsage)
{
    EXPECT_THROW(parse({"--user", "a"}), CLI::ParseError);                  // no command
    EXPECT_THROW(parse({"--user", "a", "fly"}), CLI::ParseError);           // unknown command
    EXPECT_THROW(parse({"--user", "a", "join"}), CLI::ParseError);          // no room
    EXPECT_THROW(parse({"--user", "a", "send", "r"}), CLI::ParseError);     // no text
    EXPECT_THROW(parse({"--user", "a", "listen", "r", "--count", "0"}), CLI::ParseError);
    EXPECT_THROW(parse({"rooms"}), CLI::ParseError);                        // no user
}

TEST(CommandLine, PasswordsAreNotAcceptedOnTheCommandLine)
{
    EXPECT_THROW(parse({"--user", "a", "--password", "x", "login"}), CLI::ParseError);
    EXPECT_THROW(parse({"--user", "a", "login", "x"}), CLI::ParseError);
}

TEST(StatePath, UsesMqchatHomeFirst)
{
    auto env = fake_env({{"MQCHAT_HOME", "/s"}, {"XDG_STATE_HOME", "/x"}, {"HOME", "/h"}});
    EXPECT_EQ(state_path("mqtt://127.0.0.1:1883", "alice", env), "/s/127.0.0.1_1883/alice.json");
}

TEST(StatePath, FallsBackToXdgThenHome)
{
    EXPECT_EQ(state_path("mqtt://h:1", "a", fake_env({{"XDG_STATE_HOME", "/x"}})),
              "/x/mqchat/h_1/a.json");
    EXPECT_EQ(state_path("mqtt://h:1", "a", fake_env({{"HOME", "/h"}})),
              "/h/.local/state/mqchat/h_1/a.json");
}

TEST(StatePath, BrokerFolderNameIsSafe)
{
    EXPECT_EQ(broker_folder_name("mqtt://127.0.0.1:1883"), "127.0.0.1_1883");
    EXPECT_EQ(broker_folder_name("ws://host:9001/mqtt"), "host_9001");
    EXPECT_EQ(broker_folder_name("tcp://[::1]:1883"), "___1__1883");
    EXPECT_EQ(broker_folder_name("mqtt://u:p@host:1"), "host_1");
    EXPECT_EQ(broker_folder_name("mqtt://.."), "_..");
    EXPECT_EQ(broker_folder_name("mqtt://"), "_");
}

}  // namespace
}  // namespace mqchat::cli
