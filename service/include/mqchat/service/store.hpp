// The room manager's persistent state in SQLite: users, rooms, members.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace mqchat::service {

// Thrown for any SQLite failure other than a constraint the API reports
// through its return value (duplicate user, room, member).
class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct RoomRecord {
    std::string id;             // 12 lowercase hex digits
    std::string name;
    std::string owner;
    std::string password_hash;  // Argon2id encoded; never leaves the service
    std::int64_t created = 0;   // seconds since the epoch
    bool listed = true;
    std::string description;
};

enum class MemberRole { owner, member };

struct MemberRecord {
    std::string user;
    MemberRole role = MemberRole::member;
    std::int64_t joined_ms = 0;
};

// "Join tokens of `user` (or "*": everyone) for `room_id` issued at or
// before `before_ms` are void." The broker plugin holds the same records.
struct Revocation {
    std::string room_id;
    std::string user;
    std::int64_t before_ms = 0;
};

// One archived room message. `id` and `text` are empty for a payload that
// was not {"id": string, "text": string}; the row is kept so the sequence
// has no holes.
struct ArchivedMessage {
    std::string room_id;
    std::int64_t seq = 0;
    std::optional<std::string> id;
    std::string sender;
    std::optional<std::string> text;
    std::int64_t ts = 0;  // broker clock, milliseconds since the epoch
};

// Which slice of a room's archive (docs/protocol.md, "History"): with
// `after`, the oldest `limit` messages above it; otherwise the newest
// `limit` below `before` (or below the end).
struct HistoryQuery {
    std::optional<std::int64_t> after;
    std::optional<std::int64_t> before;
    std::size_t limit = 50;
};

struct HistoryPage {
    std::vector<ArchivedMessage> messages;  // oldest first
    bool more = false;                      // more exist in the asked direction
    std::int64_t last_seq = 0;              // highest seq archived for the room
};

// One SQLite connection (WAL, foreign keys on, busy timeout) guarded by a
// mutex. The schema is brought up to date by ordered migrations at open.
// Every statement binds user data as parameters.
//
// Thread safety: every member may be called from any thread.
class Store {
public:
    // Opens or creates the database at `path` (":memory:" works) and applies
    // missing migrations, each in its own transaction. Throws StoreError.
    explicit Store(const std::string& path);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // The highest migration applied.
    [[nodiscard]] int schema_version();

    // False if the name is taken, also in another case ("Alice", "alice").
    [[nodiscard]] bool add_user(std::string_view name, std::string_view password_hash,
                                std::int64_t created_s);
    [[nodiscard]] std::optional<std::string> user_hash(std::string_view name);

    // Inserts the room and its owner's membership in one transaction.
    // False (and nothing stored) if the name or the id is taken.
    [[nodiscard]] bool add_room(const RoomRecord& room, std::int64_t joined_ms);
    [[nodiscard]] std::optional<RoomRecord> find_room_by_name(std::string_view name);
    [[nodiscard]] std::optional<RoomRecord> find_room_by_id(std::string_view id);
    [[nodiscard]] std::vector<RoomRecord> rooms();

    // True if the user became a member, false if already one.
    bool add_member(std::string_view room_id, std::string_view user, MemberRole role,
                    std::int64_t joined_ms);
    // True if a membership was removed.
    bool remove_member(std::string_view room_id, std::string_view user);
    [[nodiscard]] bool is_member(std::string_view room_id, std::string_view user);
    [[nodiscard]] std::int64_t member_count(std::string_view room_id);
    // The owner first, then members by name.
    [[nodiscard]] std::vector<MemberRecord> members(std::string_view room_id);

    [[nodiscard]] bool user_exists(std::string_view name);

    // True if the ban is new / was removed.
    bool add_ban(std::string_view room_id, std::string_view user, std::int64_t banned_ms);
    bool remove_ban(std::string_view room_id, std::string_view user);
    [[nodiscard]] bool is_banned(std::string_view room_id, std::string_view user);

    void set_room_password(std::string_view room_id, std::string_view password_hash);

    // Removes the room with its members and bans. True if it existed.
    bool delete_room(std::string_view room_id);

    // Archives a message; false if (room, seq) was stored already.
    bool append_message(const ArchivedMessage& message);
    [[nodiscard]] HistoryPage history(std::string_view room_id, const HistoryQuery& query);

    // Retention: keeps the newest `keep` messages of the room (0: no count
    // limit) and drops those older than `older_than_ms` (0: no age limit).
    // Returns how many were removed.
    std::size_t prune_room_messages(std::string_view room_id, std::int64_t keep,
                                    std::int64_t older_than_ms);
    // Every room id with archived messages.
    [[nodiscard]] std::vector<std::string> archived_rooms();

    // Keeps the latest before_ms per (room, user).
    void add_revocation(const Revocation& revocation);
    [[nodiscard]] std::vector<Revocation> revocations();

private:
    void migrate();
    int current_version();
    void exec(const char* sql);

    std::mutex mutex_;
    sqlite3* db_ = nullptr;
};

}  // namespace mqchat::service
