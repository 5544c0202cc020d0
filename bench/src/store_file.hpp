// Direct access to the room manager's SQLite store, for scenario 5: counting
// archived rows while messages flow, and seeding a large archive before
// querying it. The room manager keeps running meanwhile; the store is in
// WAL mode with a busy timeout on both sides, and seeding commits in small
// transactions so the archiver and control requests wait at most a moment.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;

namespace mqchat::bench {

// Thread safety: one thread at a time per StoreFile.
class StoreFile {
public:
    // Opens an existing store read-write. Throws std::runtime_error.
    explicit StoreFile(const std::string& path);
    ~StoreFile();
    StoreFile(const StoreFile&) = delete;
    StoreFile& operator=(const StoreFile&) = delete;

    // Archived rows of one room, and of all rooms.
    [[nodiscard]] std::uint64_t room_messages(std::string_view room_id);
    [[nodiscard]] std::uint64_t all_messages();

    // Appends rows seq 1..count to a room that has none, sent by `sender`
    // with texts of `text_bytes` bytes, a millisecond apart ending now.
    // Throws std::runtime_error.
    void seed(std::string_view room_id, std::string_view sender, std::uint64_t count,
              std::size_t text_bytes);

private:
    std::uint64_t count(const char* sql, std::string_view room_id);
    void exec(const char* sql);

    sqlite3* db_ = nullptr;
};

}  // namespace mqchat::bench
