#include "store_file.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace mqchat::bench {

namespace {

// Rows per transaction while seeding: long enough to be quick, short enough
// that the room manager's own writes wait well under its 5 s busy timeout.
constexpr std::uint64_t seed_batch = 20'000;

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

}  // namespace

StoreFile::StoreFile(const std::string& path)
{
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const std::string error = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw std::runtime_error("store " + path + ": " + error);
    }
    sqlite3_busy_timeout(db_, 5000);
}

StoreFile::~StoreFile()
{
    sqlite3_close(db_);
}

void StoreFile::exec(const char* sql)
{
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        const std::string text = error ? error : "unknown error";
        sqlite3_free(error);
        throw std::runtime_error(std::string("store: ") + sql + ": " + text);
    }
}

std::uint64_t StoreFile::count(const char* sql, std::string_view room_id)
{
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
    }
    Statement s(raw);
    if (!room_id.empty()) {
        sqlite3_bind_text(raw, 1, room_id.data(), static_cast<int>(room_id.size()),
                          SQLITE_TRANSIENT);
    }
    if (sqlite3_step(raw) != SQLITE_ROW) {
        throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
    }
    return static_cast<std::uint64_t>(sqlite3_column_int64(raw, 0));
}

std::uint64_t StoreFile::room_messages(std::string_view room_id)
{
    return count("SELECT COUNT(*) FROM messages WHERE room_id = ?1", room_id);
}

std::uint64_t StoreFile::all_messages()
{
    return count("SELECT COUNT(*) FROM messages", {});
}

void StoreFile::seed(std::string_view room_id, std::string_view sender, std::uint64_t count,
                     std::size_t text_bytes)
{
    sqlite3_stmt* raw = nullptr;
    const char* sql =
        "INSERT INTO messages (room_id, seq, msg_id, sender, text, ts) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("store: ") + sqlite3_errmsg(db_));
    }
    Statement s(raw);
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    std::string text(text_bytes, 'x');
    for (std::uint64_t first = 1; first <= count; first += seed_batch) {
        exec("BEGIN IMMEDIATE");
        const std::uint64_t last = std::min(count, first + seed_batch - 1);
        for (std::uint64_t seq = first; seq <= last; ++seq) {
            char id[17];
            std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(seq));
            const auto n = std::to_string(seq);
            text.replace(0, n.size(), n);
            sqlite3_reset(raw);
            sqlite3_bind_text(raw, 1, room_id.data(), static_cast<int>(room_id.size()),
                              SQLITE_STATIC);
            sqlite3_bind_int64(raw, 2, static_cast<sqlite3_int64>(seq));
            sqlite3_bind_text(raw, 3, id, 16, SQLITE_TRANSIENT);
            sqlite3_bind_text(raw, 4, sender.data(), static_cast<int>(sender.size()),
                              SQLITE_STATIC);
            sqlite3_bind_text(raw, 5, text.data(), static_cast<int>(text.size()),
                              SQLITE_TRANSIENT);
            sqlite3_bind_int64(raw, 6, now_ms - static_cast<std::int64_t>(count - seq));
            if (sqlite3_step(raw) != SQLITE_DONE) {
                const std::string error = sqlite3_errmsg(db_);
                exec("ROLLBACK");
                throw std::runtime_error("store: seeding: " + error);
            }
        }
        exec("COMMIT");
    }
}

}  // namespace mqchat::bench
