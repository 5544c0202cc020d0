// An append-only file of JSON lines holding the plugin's durable state
// (admissions, revocations, sequence counters). Appends use write(2) without
// fsync: a record survives a kill -9 of the broker (it is in the page cache)
// but not a power loss. A torn last line is skipped on replay.
//
// Thread safety: none; one thread only (see access_core.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mqchat::access {

class StateLog {
public:
    // Opens (creating if needed) `dir` and `dir`/state.jsonl for appending.
    // Throws std::runtime_error with the path and errno text on failure.
    explicit StateLog(std::string dir);
    ~StateLog();

    StateLog(const StateLog&) = delete;
    StateLog& operator=(const StateLog&) = delete;

    // Every complete line currently in the file, oldest first.
    [[nodiscard]] std::vector<std::string> read_all() const;

    // Appends one record (a newline is added). Returns false if the write
    // failed; the caller logs and carries on (the state in memory is right).
    bool append(const std::string& line);

    // Replaces the file with `lines`: write to a temporary file, fsync,
    // rename over the log, reopen. Returns false (old log kept) on failure.
    bool rewrite(const std::vector<std::string>& lines);

    [[nodiscard]] std::uint64_t size_bytes() const { return size_; }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    void open_for_append();

    std::string dir_;
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

}  // namespace mqchat::access
