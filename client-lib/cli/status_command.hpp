// `mqchat status`: the room manager's health report, for operators.
// Kept apart from main.cpp so its formatting is unit tested.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace mqchat::cli {

// The report (docs/protocol.md, Health) as lines for people. `now_ms` is
// the current time, to say how old the report is. Missing or mistyped
// fields are shown as "?" rather than failing: the report may come from a
// newer or older room manager.
[[nodiscard]] std::string human_status(const nlohmann::json& report, std::int64_t now_ms);

// Prints `report_text` (the JSON from Client::health_report) to `out`: as
// one JSON line with `json`, else as human_status(). Returns the exit
// status: 0 when the report says "ok", 1 otherwise (also for a report that
// is not JSON, with a message on `out`).
int print_status(const std::string& report_text, bool json, std::ostream& out);

}  // namespace mqchat::cli
