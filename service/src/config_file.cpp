#include "mqchat/service/config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>
#include <vector>

namespace mqchat::service {
namespace {

// What a TOML value must be for an option, from CLI11's type name
// ("INT", "UINT", "FLOAT", "TEXT", with validators after a ':').
enum class Want { flag, integer, number, text };

Want wanted(const CLI::Option& option)
{
    if (option.get_expected_min() == 0) {
        return Want::flag;
    }
    const std::string type = option.get_type_name();
    if (type.starts_with("INT") || type.starts_with("UINT")) {
        return Want::integer;
    }
    if (type.starts_with("FLOAT")) {
        return Want::number;
    }
    return Want::text;
}

const char* describe(Want want)
{
    switch (want) {
    case Want::flag: return "true or false";
    case Want::integer: return "an integer";
    case Want::number: return "a number";
    case Want::text: return "a string";
    }
    return "?";
}

// One scalar as the option's string, or nullopt when its type is wrong.
std::optional<std::string> scalar(const toml::node& node, Want want)
{
    if (want == Want::flag && node.is_boolean()) {
        return node.as_boolean()->get() ? "true" : "false";
    }
    if ((want == Want::integer || want == Want::number) && node.is_integer()) {
        return std::to_string(node.as_integer()->get());
    }
    if (want == Want::number && node.is_floating_point()) {
        std::ostringstream text;
        text << node.as_floating_point()->get();
        return text.str();
    }
    if (want == Want::text && node.is_string()) {
        return node.as_string()->get();
    }
    return std::nullopt;
}

// Sets one option from one key. `key` is the key as written in the file
// (dotted inside a table), `name` the option it names.
void apply_key(CLI::App& app, const std::string& key, std::string name, const toml::node& node)
{
    std::replace(name.begin(), name.end(), '_', '-');
    CLI::Option* option = app.get_option_no_throw("--" + name);
    if (option == nullptr) {
        throw ConfigError(key, "unknown key");
    }
    if (!option->get_configurable()) {
        throw ConfigError(key, "cannot be set in a config file (command line only)");
    }
    // The command line and the environment win over the file.
    if (option->count() > 0) {
        return;
    }

    const Want want = wanted(*option);
    std::vector<std::string> values;
    if (const toml::array* array = node.as_array()) {
        if (option->get_expected_max() <= 1) {
            throw ConfigError(key, std::string("expected ") + describe(want) + ", not a list");
        }
        for (const toml::node& element : *array) {
            auto value = scalar(element, want);
            if (!value) {
                throw ConfigError(key, std::string("expected a list of ") + describe(want));
            }
            values.push_back(*value);
        }
    } else {
        auto value = scalar(node, want);
        if (!value) {
            throw ConfigError(key, std::string("expected ") + describe(want));
        }
        values.push_back(*value);
    }

    // An empty list leaves the default (CLI11 would call it too few values).
    if (values.empty()) {
        return;
    }

    // The option's own checks (range, choices) and conversion.
    try {
        for (auto& value : values) {
            option->add_result(value);
        }
        option->run_callback();
    } catch (const CLI::Error& e) {
        option->clear();
        throw ConfigError(key, e.what());
    }
}

}  // namespace

ConfigError::ConfigError(std::string key, std::string problem, const std::string& file)
    : std::runtime_error((file.empty() ? "" : "config file " + file + ": ") +
                         (key.empty() ? problem : "key " + key + ": " + problem)),
      key_(std::move(key)), problem_(std::move(problem))
{
}

void apply_config_file(CLI::App& app, const std::filesystem::path& path)
{
    toml::table file;
    try {
        file = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream message;
        message << "line " << e.source().begin.line << ": " << e.description();
        throw ConfigError("", message.str(), path.string());
    }

    try {
        for (auto&& [key, node] : file) {
            const std::string name(key.str());
            if (const toml::table* table = node.as_table()) {
                // [argon2] t = 3  is  argon2_t = 3
                for (auto&& [inner_key, inner] : *table) {
                    const std::string inner_name(inner_key.str());
                    if (inner.is_table()) {
                        throw ConfigError(name + "." + inner_name, "tables nest one level only");
                    }
                    apply_key(app, name + "." + inner_name, name + "-" + inner_name, inner);
                }
                continue;
            }
            apply_key(app, name, name, node);
        }
    } catch (const ConfigError& e) {
        throw ConfigError(e.key(), e.problem(), path.string());
    }
}

bool is_secret_option(std::string_view name)
{
    for (std::string_view word : {"secret", "password", "passwd", "token", "private"}) {
        if (name.find(word) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

std::string effective_config(const CLI::App& app)
{
    std::string line;
    for (const CLI::Option* option : app.get_options()) {
        if (option->get_lnames().empty() || option->get_lnames().front() == "help") {
            continue;
        }
        const std::string& name = option->get_lnames().front();
        std::string value;
        if (option->count() > 0) {
            for (const std::string& result : option->results()) {
                value += (value.empty() ? "" : ",") + result;
            }
        } else {
            value = option->get_default_str();
        }
        if (is_secret_option(name) && !value.empty()) {
            value = "<redacted>";
        }
        if (value.find_first_of(" \"") != std::string::npos || value.empty()) {
            value = "\"" + value + "\"";
        }
        line += (line.empty() ? "" : " ") + name + "=" + value;
    }
    return line;
}

}  // namespace mqchat::service
