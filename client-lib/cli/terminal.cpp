#include "terminal.hpp"

#include <cerrno>
#include <iostream>

#include <poll.h>
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

// ---------------------------------------------------------------------------
// LineEditor
// ---------------------------------------------------------------------------

namespace {

constexpr unsigned char key_ctrl_d = 0x04;
constexpr unsigned char key_backspace = 0x08;
constexpr unsigned char key_ctrl_u = 0x15;
constexpr unsigned char key_escape = 0x1b;
constexpr unsigned char key_delete = 0x7f;

// Back to the start of the line and erase it (VT100, which every terminal
// emulator in use understands).
constexpr const char* clear_line = "\r\033[K";

}  // namespace

bool LineEditor::available()
{
    return ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
}

LineEditor::LineEditor()
{
    restore_ = ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (restore_) {
        termios keys = saved_;
        keys.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
        keys.c_cc[VMIN] = 1;
        keys.c_cc[VTIME] = 0;
        ::tcsetattr(STDIN_FILENO, TCSANOW, &keys);
    }
}

LineEditor::~LineEditor()
{
    if (restore_) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    std::lock_guard lock(mutex_);
    if (!typed_.empty()) {
        std::cout << "\n" << std::flush;  // leave the unfinished line visible
    }
}

LineEditor::Input LineEditor::read(std::chrono::milliseconds wait)
{
    Input input;
    pollfd in{STDIN_FILENO, POLLIN, 0};
    int ready = ::poll(&in, 1, static_cast<int>(wait.count()));
    if (ready < 0) {
        input.ended = errno != EINTR;
        return input;
    }
    if (ready == 0) {
        return input;
    }

    unsigned char bytes[256];
    ssize_t got = ::read(STDIN_FILENO, bytes, sizeof bytes);
    if (got <= 0) {
        input.ended = got == 0 || errno != EINTR;
        return input;
    }
    std::lock_guard lock(mutex_);
    for (ssize_t i = 0; i < got; ++i) {
        if (bytes[i] == key_ctrl_d && typed_.empty()) {
            input.ended = true;
            break;
        }
        input.edited = key(bytes[i]) || input.edited;
    }
    std::cout << std::flush;
    return input;
}

// Handles one byte with mutex_ held; echoes what it does.
bool LineEditor::key(unsigned char byte)
{
    // Escape sequences (cursor keys, function keys): skipped whole.
    if (escape_ == 1) {
        escape_ = (byte == '[' || byte == 'O') ? 2 : 0;
        return false;
    }
    if (escape_ == 2) {
        if (byte >= 0x40 && byte <= 0x7e) {
            escape_ = 0;
        }
        return false;
    }

    switch (byte) {
    case key_escape:
        escape_ = 1;
        return false;
    case '\r':
    case '\n':
        lines_.push_back(std::move(typed_));
        typed_.clear();
        std::cout << "\n";
        return true;
    case key_backspace:
    case key_delete: {
        if (typed_.empty()) {
            return false;
        }
        // One character: its UTF-8 continuation bytes, then its first byte.
        while (!typed_.empty() && (static_cast<unsigned char>(typed_.back()) & 0xc0) == 0x80) {
            typed_.pop_back();
        }
        if (!typed_.empty()) {
            typed_.pop_back();
        }
        std::cout << "\b \b";
        return true;
    }
    case key_ctrl_u:
        if (typed_.empty()) {
            return false;
        }
        typed_.clear();
        std::cout << clear_line;
        return true;
    default:
        if (byte < 0x20) {
            return false;  // other control keys do nothing
        }
        typed_.push_back(static_cast<char>(byte));
        std::cout << static_cast<char>(byte);
        return true;
    }
}

std::optional<std::string> LineEditor::next_line()
{
    std::lock_guard lock(mutex_);
    if (lines_.empty()) {
        return std::nullopt;
    }
    std::string line = std::move(lines_.front());
    lines_.pop_front();
    return line;
}

bool LineEditor::empty() const
{
    std::lock_guard lock(mutex_);
    return typed_.empty();
}

void LineEditor::print_above(const std::string& text, std::ostream& out)
{
    std::lock_guard lock(mutex_);
    std::cout << clear_line << std::flush;
    out << text << "\n" << std::flush;
    std::cout << typed_ << std::flush;
}

}  // namespace mqchat::cli
