// Small helpers the scenario files share (scenarios.cpp, history.cpp,
// connections.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "scenarios.hpp"

namespace mqchat::bench::detail {

// A fresh prefix for users, client ids and rooms: "<letter><6 hex>".
[[nodiscard]] std::string fresh_tag(char scenario);

[[nodiscard]] TrafficOptions traffic_options(const Sizes& sizes);

// Nearest-rank p50, p99 and maximum of nanosecond samples, in ms.
[[nodiscard]] Percentiles percentiles(std::vector<std::int64_t> latencies_ns);

[[nodiscard]] Memory memory_of(const Target& target);

[[nodiscard]] std::chrono::milliseconds to_ms(double seconds);

[[nodiscard]] double seconds_since(std::chrono::steady_clock::time_point start);

}  // namespace mqchat::bench::detail
