#include "terminal.hpp"

#include <iostream>

#include <termios.h>
#include <unistd.h>

namespace mqchat::cli {

std::optional<std::string> read_secret(const std::string& prompt)
{
    std::string line;
    if (!::isatty(STDIN_FILENO)) {
        if (!std::getline(std::cin, line)) {
            return std::nullopt;
        }
        return line;
    }

    std::cerr << prompt << std::flush;
    termios saved{};
    bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = static_cast<bool>(std::getline(std::cin, line));
    if (restore) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    }
    std::cerr << "\n";
    if (!got) {
        return std::nullopt;
    }
    return line;
}

}  // namespace mqchat::cli
