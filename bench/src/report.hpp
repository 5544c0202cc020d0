// The benchmark's results as one JSON document (written to the --out file)
// and the table printed from it. The document is the source of truth: the
// table shows nothing that is not in it.
//
// Layout: {"machine", "settings", "scenarios": {<name>: {"plain": ...,
// "mqchat": ..., "ratio", "target", "met"}}, "errors": [...]}. A scenario
// that failed on a target has no entry for it and a line in "errors".
#pragma once

#include <iosfwd>

#include <nlohmann/json.hpp>

#include "scenarios.hpp"

namespace mqchat::bench {

[[nodiscard]] nlohmann::json to_json(const TrafficResult& result);
[[nodiscard]] nlohmann::json to_json(const LatencyResult& result);
[[nodiscard]] nlohmann::json to_json(const RoomsResult& result);
[[nodiscard]] nlohmann::json to_json(const JoinsResult& result);
[[nodiscard]] nlohmann::json to_json(const FanoutResult& result);
[[nodiscard]] nlohmann::json to_json(const HistoryResult& result);
[[nodiscard]] nlohmann::json to_json(const StormResult& result);
[[nodiscard]] nlohmann::json to_json(const ConnectionsResult& result);

// Adds "ratio", "target" and "met" to every scenario whose numbers are all
// there, derives the "memory" scenario from "rooms", and completes
// "archive" with the archive's rate measured during "fanout".
void judge(nlohmann::json& scenarios);

// Whether every scenario in `wanted` has all its numbers.
[[nodiscard]] bool complete(const nlohmann::json& scenarios,
                            const std::vector<std::string>& wanted);

void print_table(const nlohmann::json& document, std::ostream& out);

}  // namespace mqchat::bench
