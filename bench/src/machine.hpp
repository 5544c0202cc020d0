// What the numbers were measured on, and how much memory a process holds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace mqchat::bench {

struct Machine {
    unsigned nproc = 0;      // CPUs this process may run on
    std::string cpu_model;   // "model name" of /proc/cpuinfo
    std::string kernel;      // uname -r
};

[[nodiscard]] Machine describe_machine();

// VmRSS of /proc/<pid>/status in bytes; nullopt if the process is gone or
// `pid` is 0.
[[nodiscard]] std::optional<std::uint64_t> resident_bytes(pid_t pid);

// CPU time (user + system) a process has used so far, in seconds; nullopt
// if it is gone or `pid` is 0.
[[nodiscard]] std::optional<double> cpu_seconds(pid_t pid);

// The same for this process.
[[nodiscard]] std::optional<double> own_cpu_seconds();

}  // namespace mqchat::bench
