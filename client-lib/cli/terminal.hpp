// The terminal: reading secrets without echo, and reading chat lines a key
// at a time.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>

#include <termios.h>

namespace mqchat::cli {

// Reads one line. When stdin is a terminal, shows `prompt` on stderr and
// turns echo off while the user types; otherwise reads the next line of
// stdin silently. nullopt on end of input.
[[nodiscard]] std::optional<std::string> read_secret(const std::string& prompt);

// Line input for `chat` on a terminal, read a key at a time so the caller
// sees each keystroke (to send typing indicators), with output from other
// threads printed above the line being typed instead of through it.
//
// Editing: printable characters, Backspace, Ctrl-U (clear the line),
// Enter; Ctrl-D on an empty line ends the input. Cursor keys and other
// escape sequences are ignored (no cursor movement or history): a full
// line editor such as readline would be a new dependency for little gain.
// Wide characters (CJK) are erased by one column instead of two.
//
// While it exists the terminal is in non-canonical, no-echo mode (signals
// still work, so Ctrl-C reaches the program); the destructor restores it.
// A process killed with SIGKILL leaves it so (`stty sane` repairs it).
//
// Thread safety: read() and next_line() on one thread; print_above() from
// any thread.
class LineEditor {
public:
    // Both stdin and stdout are terminals (else use plain line reading).
    [[nodiscard]] static bool available();

    LineEditor();
    ~LineEditor();

    LineEditor(const LineEditor&) = delete;
    LineEditor& operator=(const LineEditor&) = delete;

    struct Input {
        bool edited = false;  // the line being typed changed
        bool ended = false;   // Ctrl-D on an empty line, end of input or a read error
    };

    // Waits up to `wait` for keys and handles all that arrived. Returns
    // early (nothing edited) when a signal interrupts the wait.
    [[nodiscard]] Input read(std::chrono::milliseconds wait);

    // A line finished with Enter, oldest first; nullopt when none is left.
    [[nodiscard]] std::optional<std::string> next_line();

    // Whether the line being typed is empty.
    [[nodiscard]] bool empty() const;

    // Prints `text` and a newline to `out` on a line of its own, then shows
    // the line being typed again below it.
    void print_above(const std::string& text, std::ostream& out);

private:
    bool key(unsigned char byte);  // true when the line being typed changed

    mutable std::mutex mutex_;
    std::string typed_;
    std::deque<std::string> lines_;
    int escape_ = 0;  // 0: none; 1: after ESC; 2: inside ESC [ or ESC O
    termios saved_{};
    bool restore_ = false;
};

}  // namespace mqchat::cli
