#include "machine.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace mqchat::bench {

Machine describe_machine()
{
    Machine machine;
    machine.nproc = std::thread::hardware_concurrency();

    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.starts_with("model name")) {
            machine.cpu_model = line.substr(line.find(':') + 2);
            break;
        }
    }

    utsname names{};
    if (::uname(&names) == 0) {
        machine.kernel = names.release;
    }
    return machine;
}

std::optional<std::uint64_t> resident_bytes(pid_t pid)
{
    if (pid <= 0) {
        return std::nullopt;
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        // "VmRSS:	   12345 kB"
        if (line.starts_with("VmRSS:")) {
            return std::stoull(line.substr(6)) * 1024;
        }
    }
    return std::nullopt;
}

namespace {

std::optional<double> cpu_seconds_in(const std::string& stat_path)
{
    std::ifstream stat(stat_path);
    std::string line;
    if (!std::getline(stat, line)) {
        return std::nullopt;
    }

    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14 and stime 15 (proc(5)).
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    double ticks = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number == 14 || number == 15) {
            ticks += std::stod(field);
        }
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

std::optional<double> cpu_seconds(pid_t pid)
{
    if (pid <= 0) {
        return std::nullopt;
    }
    return cpu_seconds_in("/proc/" + std::to_string(pid) + "/stat");
}

std::optional<double> own_cpu_seconds()
{
    return cpu_seconds_in("/proc/self/stat");
}

}  // namespace mqchat::bench
