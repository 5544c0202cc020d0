// The room manager's persistent state in SQLite: users, rooms, members.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

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

// One membership, for walking the rooms of a user or of everyone.
struct Membership {
    std::string room_id;
    std::string user;
    MemberRole role = MemberRole::member;
};

// Which rooms `rooms` lists (docs/protocol.md, "Finding rooms"): the listed
// ones and those `user` is a member of; with a non-empty `match`, only
// rooms whose name or description contains it, ignoring case.
struct RoomQuery {
    std::string user;
    std::string match;
    std::size_t limit = 100;
};

struct RoomListing {
    RoomRecord room;
    bool member = false;       // `user` of the query is a member
    std::int64_t members = 0;  // member count
};

struct RoomPage {
    std::vector<RoomListing> rooms;  // by name, ignoring case
    bool more = false;               // more rooms matched than `limit`
};

// What transfer_owner() did.
enum class TransferResult { ok, no_such_room, not_owner, not_member };

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

    // Sets the fields given; leaves the others. False if there is no such room.
    bool update_room(std::string_view room_id, const std::optional<std::string>& description,
                     std::optional<bool> listed);

    // Makes `to` the owner instead of `from`, in one transaction; `from`
    // stays a member. Nothing changes unless `from` owns the room now
    // (not_owner) and `to` is a member (not_member).
    [[nodiscard]] TransferResult transfer_owner(std::string_view room_id, std::string_view from,
                                                std::string_view to);

    // The rooms `user` is a member of, by room id.
    [[nodiscard]] std::vector<Membership> memberships_of(std::string_view user);
    // Every membership of every room, by room id then user.
    [[nodiscard]] std::vector<Membership> memberships();

    // Room discovery. `match` folds ASCII letters only: SQLite's lower()
    // leaves other scripts as they are, so "É" does not match "é". Folding
    // all of Unicode would need ICU in SQLite or a folded copy of each name.
    [[nodiscard]] RoomPage list_rooms(const RoomQuery& query);

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
    // The statement for `sql`, prepared on first use and kept until the
    // Store closes, for the per-message paths (archive insert, history):
    // preparing took 15 % of the room manager's CPU per archived message
    // (docs/benchmarks.md, finding 4). Call with mutex_ held; the caller
    // wraps it in a Statement, which resets it afterwards.
    sqlite3_stmt* cached(const char* sql);

    std::mutex mutex_;
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace mqchat::service
