#include "mqchat/service/config_file.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using mqchat::service::apply_config_file;
using mqchat::service::ConfigError;
using mqchat::service::effective_config;

namespace {

// A small app shaped like the room manager's: a number with a range and an
// env var, a text, a list, a secret, and a command-line-only flag.
class ConfigFileTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                ("mqchat-config-" + std::to_string(rd()) + ".toml");
        app_.add_option("--mqtt-port", port_)->envname("MQCHAT_TEST_PORT")->check(
            CLI::Range(1, 65535))->capture_default_str();
        app_.add_option("--log-level", level_)->capture_default_str();
        app_.add_option("--argon2-t", t_)->capture_default_str();
        app_.add_option("--operator,--operators", operators_)->delimiter(',');
        app_.add_option("--service-password", password_);
        app_.add_flag("--init-only", init_only_)->configurable(false);
        ::unsetenv("MQCHAT_TEST_PORT");
    }

    void TearDown() override
    {
        std::filesystem::remove(path_);
        ::unsetenv("MQCHAT_TEST_PORT");
    }

    // Parses `args` (after the program name), then applies `toml`.
    void load(const std::string& toml, std::vector<std::string> args = {})
    {
        std::ofstream(path_) << toml;
        std::vector<const char*> argv{"prog"};
        for (const auto& a : args) {
            argv.push_back(a.c_str());
        }
        app_.parse(static_cast<int>(argv.size()), argv.data());
        apply_config_file(app_, path_);
    }

    std::string error_of(const std::string& toml)
    {
        try {
            load(toml);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }

    CLI::App app_{"test"};
    std::filesystem::path path_;
    int port_ = 1883;
    std::string level_ = "info";
    int t_ = 3;
    std::vector<std::string> operators_;
    std::string password_;
    bool init_only_ = false;
};

}  // namespace

TEST_F(ConfigFileTest, FileValuesApplyOverDefaults)
{
    load("mqtt_port = 2883\noperators = [\"alice\", \"bob\"]\n[argon2]\nt = 2\n");
    EXPECT_EQ(port_, 2883);
    EXPECT_EQ(t_, 2);
    EXPECT_EQ(operators_, (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(level_, "info");
}

TEST_F(ConfigFileTest, EnvironmentBeatsTheFileAndTheCommandLineBeatsBoth)
{
    ::setenv("MQCHAT_TEST_PORT", "3000", 1);
    load("mqtt_port = 2883\n");
    EXPECT_EQ(port_, 3000);

    CLI::App other{"test"};
    int port = 0;
    other.add_option("--mqtt-port", port)->envname("MQCHAT_TEST_PORT");
    std::ofstream(path_) << "mqtt_port = 2883\n";
    const char* argv[] = {"prog", "--mqtt-port", "4000"};
    other.parse(3, argv);
    apply_config_file(other, path_);
    EXPECT_EQ(port, 4000);
}

TEST_F(ConfigFileTest, BadValuesNameTheKeyAndTheProblem)
{
    EXPECT_NE(error_of("mqtt_port = \"x\"").find("key mqtt_port: expected an integer"),
              std::string::npos);
    EXPECT_NE(error_of("mqtt_port = 0").find("key mqtt_port: "), std::string::npos);
    EXPECT_NE(error_of("mqtt_port = 0").find("not in range"), std::string::npos);
    EXPECT_NE(error_of("colour = 1").find("key colour: unknown key"), std::string::npos);
    EXPECT_NE(error_of("log_level = 5").find("key log_level: expected a string"),
              std::string::npos);
    EXPECT_NE(error_of("mqtt_port = [1]").find("not a list"), std::string::npos);
    EXPECT_NE(error_of("init_only = true").find("command line only"), std::string::npos);
    EXPECT_NE(error_of("[argon2]\nt = \"x\"").find("key argon2.t"), std::string::npos);
    EXPECT_NE(error_of("mqtt_port = = 1").find("line 1"), std::string::npos);
    EXPECT_NE(error_of("mqtt_port = 1").find("no error"), std::string::npos);
}

TEST_F(ConfigFileTest, EffectiveConfigShowsValuesAndRedactsSecrets)
{
    load("service_password = \"hunter2\"\nmqtt_port = 2883\n");
    const std::string line = effective_config(app_);
    EXPECT_NE(line.find("mqtt-port=2883"), std::string::npos) << line;
    EXPECT_NE(line.find("log-level=info"), std::string::npos) << line;
    EXPECT_NE(line.find("service-password=<redacted>"), std::string::npos) << line;
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    EXPECT_TRUE(mqchat::service::is_secret_option("service-secret"));
    EXPECT_FALSE(mqchat::service::is_secret_option("history-keep"));
}
