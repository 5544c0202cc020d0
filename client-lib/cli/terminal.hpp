// Reading secrets without echo.
#pragma once

#include <optional>
#include <string>

namespace mqchat::cli {

// Reads one line. When stdin is a terminal, shows `prompt` on stderr and
// turns echo off while the user types; otherwise reads the next line of
// stdin silently. nullopt on end of input.
[[nodiscard]] std::optional<std::string> read_secret(const std::string& prompt);

}  // namespace mqchat::cli
