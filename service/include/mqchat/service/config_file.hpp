// The room manager's configuration file (TOML) on top of its command line.
//
// Every long command-line option is also a key of the file, spelt with `_`
// or `-` (`history_keep` is --history-keep); a table groups keys by their
// first word (`[argon2]` `t = 3` is --argon2-t). Precedence, highest first:
// command-line flag, environment variable, file, built-in default. A value is
// checked by the same rules as on the command line (type, range, choices).
// The sample file is mqchat.toml.example at the top of the repository.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mqchat::service {

// A config file that cannot be used. what() names the file, the key (when
// there is one) and the problem, in one line for the log.
class ConfigError : public std::runtime_error {
public:
    // "key <key>: <problem>", or only the problem when `key` is empty;
    // with `file`, "config file <file>: " before it.
    ConfigError(std::string key, std::string problem, const std::string& file = {});
    [[nodiscard]] const std::string& key() const { return key_; }
    [[nodiscard]] const std::string& problem() const { return problem_; }

private:
    std::string key_;
    std::string problem_;
};

// Reads the TOML file at `path` and gives each value to the option of
// `app` with the same long name, unless the command line or the
// environment already set that option. Call after `app` parsed the command
// line. Throws ConfigError for a file that cannot be read or parsed, an
// unknown key, a key that cannot be set from a file, a wrong type or a value
// the option's check refuses.
void apply_config_file(CLI::App& app, const std::filesystem::path& path);

// Whether an option holds a secret: its name has a word such as "secret",
// "password", "token" or "private". Such values are never printed.
[[nodiscard]] bool is_secret_option(std::string_view name);

// The effective value of every long option of `app` (what was given, else
// the default) as "name=value" pairs separated by spaces, in declaration
// order, with secrets shown as <redacted>. For the start-up log.
[[nodiscard]] std::string effective_config(const CLI::App& app);

}  // namespace mqchat::service
