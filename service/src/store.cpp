#include "mqchat/service/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace mqchat::service {

namespace {

// Ordered schema migrations: entry i brings the schema to version i + 1.
// Never edit an entry once released; append a new one.
constexpr const char* migrations[] = {
    // 1: accounts, rooms and memberships.
    R"sql(
        CREATE TABLE users (
            name          TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            created       INTEGER NOT NULL
        );
        CREATE TABLE rooms (
            id            TEXT PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            owner         TEXT NOT NULL REFERENCES users(name),
            password_hash TEXT NOT NULL,
            created       INTEGER NOT NULL
        );
        CREATE TABLE members (
            room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
            user      TEXT NOT NULL REFERENCES users(name),
            role      TEXT NOT NULL CHECK (role IN ('owner', 'member')),
            joined_ms INTEGER NOT NULL,
            PRIMARY KEY (room_id, user)
        );
    )sql",
    // 2: room directory fields.
    R"sql(
        ALTER TABLE rooms ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE rooms ADD COLUMN description TEXT NOT NULL DEFAULT '';
    )sql",
    // 3: bans, and the revocations the broker must know about. Revocations
    // outlive their room: they are re-sent to the broker on every connect.
    R"sql(
        CREATE TABLE bans (
            room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
            user      TEXT NOT NULL REFERENCES users(name),
            banned_ms INTEGER NOT NULL,
            PRIMARY KEY (room_id, user)
        );
        CREATE TABLE revocations (
            room_id   TEXT NOT NULL,
            user      TEXT NOT NULL,
            before_ms INTEGER NOT NULL,
            PRIMARY KEY (room_id, user)
        );
    )sql",
    // 4: the message archive. msg_id and text are NULL for a payload that
    // was not {"id","text"}: the row keeps the sequence dense anyway.
    R"sql(
        CREATE TABLE messages (
            room_id TEXT NOT NULL,
            seq     INTEGER NOT NULL,
            msg_id  TEXT,
            sender  TEXT NOT NULL,
            text    TEXT,
            ts      INTEGER NOT NULL,
            PRIMARY KEY (room_id, seq)
        ) WITHOUT ROWID;
        CREATE INDEX messages_by_ts ON messages (ts);
    )sql",
};

// A prepared statement that finalizes itself, or one borrowed from
// Store's cache, which it resets (and unbinds) for the next use instead.
class Statement {
public:
    Statement(sqlite3* db, const char* sql) : db_(db)
    {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
            throw StoreError(std::string("prepare: ") + sqlite3_errmsg(db));
        }
    }
    Statement(sqlite3* db, sqlite3_stmt* cached) : db_(db), stmt_(cached), owned_(false) {}
    ~Statement()
    {
        if (owned_) {
            sqlite3_finalize(stmt_);
        } else {
            sqlite3_reset(stmt_);
            sqlite3_clear_bindings(stmt_);
        }
    }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text)
    {
        check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                                SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind(int index, std::int64_t value)
    {
        check(sqlite3_bind_int64(stmt_, index, value));
        return *this;
    }
    Statement& bind_optional(int index, const std::optional<std::string>& text)
    {
        if (!text) {
            check(sqlite3_bind_null(stmt_, index));
            return *this;
        }
        return bind(index, std::string_view(*text));
    }

    // True while a row is available.
    bool step()
    {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        throw StoreError(std::string("step: ") + sqlite3_errmsg(db_));
    }

    // Runs a write; false when it broke a UNIQUE / PRIMARY KEY constraint.
    bool execute_unique()
    {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_DONE) {
            return true;
        }
        const int extended = sqlite3_extended_errcode(db_);
        if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return false;
        }
        throw StoreError(std::string("step: ") + sqlite3_errmsg(db_));
    }

    std::string text(int column)
    {
        const auto* p = sqlite3_column_text(stmt_, column);
        const int n = sqlite3_column_bytes(stmt_, column);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                 : std::string();
    }
    std::optional<std::string> optional_text(int column)
    {
        if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) {
            return std::nullopt;
        }
        return text(column);
    }
    std::int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }

private:
    void check(int rc)
    {
        if (rc != SQLITE_OK) {
            throw StoreError(std::string("bind: ") + sqlite3_errmsg(db_));
        }
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    bool owned_ = true;
};

constexpr const char* room_columns =
    "SELECT id, name, owner, password_hash, created, listed, description FROM rooms ";

RoomRecord read_room(Statement& s)
{
    RoomRecord r;
    r.id = s.text(0);
    r.name = s.text(1);
    r.owner = s.text(2);
    r.password_hash = s.text(3);
    r.created = s.integer(4);
    r.listed = s.integer(5) != 0;
    r.description = s.text(6);
    return r;
}

std::optional<RoomRecord> find_room(sqlite3* db, const char* where, std::string_view key)
{
    const std::string sql = std::string(room_columns) + where;
    Statement s(db, sql.c_str());
    s.bind(1, key);
    if (!s.step()) {
        return std::nullopt;
    }
    return read_room(s);
}

}  // namespace

Store::Store(const std::string& path)
{
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        throw StoreError("cannot open " + path + ": " + message);
    }
    try {
        sqlite3_extended_result_codes(db_, 1);
        sqlite3_busy_timeout(db_, 5000);
        exec("PRAGMA journal_mode=WAL;");
        // In WAL mode NORMAL survives a crash of the process (kill -9); only
        // a power cut can lose the last commits. Full fsync per archived
        // message would cap the archive at disk-flush speed.
        exec("PRAGMA synchronous=NORMAL;");
        exec("PRAGMA foreign_keys=ON;");
        migrate();
    } catch (...) {
        sqlite3_close(db_);
        throw;
    }
}

Store::~Store()
{
    for (auto& [sql, stmt] : statements_) {
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db_);
}

sqlite3_stmt* Store::cached(const char* sql)
{
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
        return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
        throw StoreError(std::string("prepare: ") + sqlite3_errmsg(db_));
    }
    statements_.emplace(sql, stmt);
    return stmt;
}

void Store::exec(const char* sql)
{
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
        std::string message = error ? error : "unknown error";
        sqlite3_free(error);
        throw StoreError(message);
    }
}

void Store::migrate()
{
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);");

    const int current = current_version();
    const int target = static_cast<int>(std::size(migrations));
    for (int version = current + 1; version <= target; ++version) {
        // One transaction per migration: a failed step leaves the previous version.
        exec("BEGIN IMMEDIATE;");
        try {
            exec(migrations[version - 1]);
            Statement s(db_, "INSERT INTO schema_version (version) VALUES (?1)");
            s.bind(1, static_cast<std::int64_t>(version));
            s.step();
            exec("COMMIT;");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
            throw;
        }
    }
}

int Store::schema_version()
{
    std::lock_guard lock(mutex_);
    return current_version();
}

int Store::current_version()
{
    Statement s(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    s.step();
    return static_cast<int>(s.integer(0));
}

bool Store::add_user(std::string_view name, std::string_view password_hash,
                     std::int64_t created_s)
{
    std::lock_guard lock(mutex_);
    // "Alice" next to "alice" would let one pass for the other; names are
    // kept as typed but unique regardless of case. The insert runs under the
    // same lock, so the check cannot race another register.
    Statement taken(db_, "SELECT 1 FROM users WHERE name = ?1 COLLATE NOCASE");
    taken.bind(1, name);
    if (taken.step()) {
        return false;
    }
    Statement s(db_, "INSERT INTO users (name, password_hash, created) VALUES (?1, ?2, ?3)");
    s.bind(1, name).bind(2, password_hash).bind(3, created_s);
    return s.execute_unique();
}

std::optional<std::string> Store::user_hash(std::string_view name)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT password_hash FROM users WHERE name = ?1");
    s.bind(1, name);
    if (!s.step()) {
        return std::nullopt;
    }
    return s.text(0);
}

bool Store::add_room(const RoomRecord& room, std::int64_t joined_ms)
{
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE;");
    try {
        Statement insert(db_,
                         "INSERT INTO rooms (id, name, owner, password_hash, created, listed, "
                         "description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        insert.bind(1, room.id).bind(2, room.name).bind(3, room.owner);
        insert.bind(4, room.password_hash).bind(5, room.created);
        insert.bind(6, static_cast<std::int64_t>(room.listed ? 1 : 0));
        insert.bind(7, room.description);
        if (!insert.execute_unique()) {
            exec("ROLLBACK;");
            return false;
        }

        Statement member(db_,
                         "INSERT INTO members (room_id, user, role, joined_ms) "
                         "VALUES (?1, ?2, 'owner', ?3)");
        member.bind(1, room.id).bind(2, room.owner).bind(3, joined_ms);
        member.step();
        exec("COMMIT;");
        return true;
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
        throw;
    }
}

std::optional<RoomRecord> Store::find_room_by_name(std::string_view name)
{
    std::lock_guard lock(mutex_);
    return find_room(db_, "WHERE name = ?1", name);
}

std::optional<RoomRecord> Store::find_room_by_id(std::string_view id)
{
    std::lock_guard lock(mutex_);
    return find_room(db_, "WHERE id = ?1", id);
}

std::vector<RoomRecord> Store::rooms()
{
    std::lock_guard lock(mutex_);
    const std::string sql = std::string(room_columns) + "ORDER BY created, id";
    Statement s(db_, sql.c_str());
    std::vector<RoomRecord> out;
    while (s.step()) {
        out.push_back(read_room(s));
    }
    return out;
}

bool Store::add_member(std::string_view room_id, std::string_view user, MemberRole role,
                       std::int64_t joined_ms)
{
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT INTO members (room_id, user, role, joined_ms) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (room_id, user) DO NOTHING");
    s.bind(1, room_id).bind(2, user);
    s.bind(3, role == MemberRole::owner ? std::string_view("owner") : "member");
    s.bind(4, joined_ms);
    s.step();
    return sqlite3_changes(db_) > 0;
}

bool Store::remove_member(std::string_view room_id, std::string_view user)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM members WHERE room_id = ?1 AND user = ?2");
    s.bind(1, room_id).bind(2, user);
    s.step();
    return sqlite3_changes(db_) > 0;
}

bool Store::is_member(std::string_view room_id, std::string_view user)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT 1 FROM members WHERE room_id = ?1 AND user = ?2");
    s.bind(1, room_id).bind(2, user);
    return s.step();
}

std::vector<MemberRecord> Store::members(std::string_view room_id)
{
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT user, role, joined_ms FROM members WHERE room_id = ?1 "
                "ORDER BY role = 'member', user");
    s.bind(1, room_id);
    std::vector<MemberRecord> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1) == "owner" ? MemberRole::owner : MemberRole::member,
                       s.integer(2)});
    }
    return out;
}

bool Store::user_exists(std::string_view name)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT 1 FROM users WHERE name = ?1");
    s.bind(1, name);
    return s.step();
}

bool Store::add_ban(std::string_view room_id, std::string_view user, std::int64_t banned_ms)
{
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT INTO bans (room_id, user, banned_ms) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (room_id, user) DO NOTHING");
    s.bind(1, room_id).bind(2, user).bind(3, banned_ms);
    s.step();
    return sqlite3_changes(db_) > 0;
}

bool Store::remove_ban(std::string_view room_id, std::string_view user)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "DELETE FROM bans WHERE room_id = ?1 AND user = ?2");
    s.bind(1, room_id).bind(2, user);
    s.step();
    return sqlite3_changes(db_) > 0;
}

bool Store::is_banned(std::string_view room_id, std::string_view user)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT 1 FROM bans WHERE room_id = ?1 AND user = ?2");
    s.bind(1, room_id).bind(2, user);
    return s.step();
}

void Store::set_room_password(std::string_view room_id, std::string_view password_hash)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "UPDATE rooms SET password_hash = ?2 WHERE id = ?1");
    s.bind(1, room_id).bind(2, password_hash);
    s.step();
}

bool Store::update_room(std::string_view room_id, const std::optional<std::string>& description,
                        std::optional<bool> listed)
{
    std::lock_guard lock(mutex_);
    // COALESCE keeps a field whose parameter is NULL (not given).
    Statement s(db_,
                "UPDATE rooms SET description = COALESCE(?2, description), "
                "listed = COALESCE(?3, listed) WHERE id = ?1");
    s.bind(1, room_id).bind_optional(2, description);
    if (listed) {
        s.bind(3, static_cast<std::int64_t>(*listed ? 1 : 0));
    }
    s.step();
    return sqlite3_changes(db_) > 0;
}

TransferResult Store::transfer_owner(std::string_view room_id, std::string_view from,
                                    std::string_view to)
{
    std::lock_guard lock(mutex_);
    exec("BEGIN IMMEDIATE;");
    try {
        const auto outcome = [&](TransferResult result) {
            exec(result == TransferResult::ok ? "COMMIT;" : "ROLLBACK;");
            return result;
        };

        // Checked inside the transaction, so two racing transfers cannot both win.
        Statement owner(db_, "SELECT owner FROM rooms WHERE id = ?1");
        owner.bind(1, room_id);
        if (!owner.step()) {
            return outcome(TransferResult::no_such_room);
        }
        if (owner.text(0) != from) {
            return outcome(TransferResult::not_owner);
        }
        Statement member(db_, "SELECT 1 FROM members WHERE room_id = ?1 AND user = ?2");
        member.bind(1, room_id).bind(2, to);
        if (!member.step()) {
            return outcome(TransferResult::not_member);
        }

        Statement demote(db_,
                         "UPDATE members SET role = 'member' WHERE room_id = ?1 AND user = ?2");
        demote.bind(1, room_id).bind(2, from);
        demote.step();
        Statement promote(db_,
                          "UPDATE members SET role = 'owner' WHERE room_id = ?1 AND user = ?2");
        promote.bind(1, room_id).bind(2, to);
        promote.step();
        Statement room(db_, "UPDATE rooms SET owner = ?2 WHERE id = ?1");
        room.bind(1, room_id).bind(2, to);
        room.step();
        return outcome(TransferResult::ok);
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
        throw;
    }
}

namespace {

std::vector<Membership> read_memberships(Statement& s)
{
    std::vector<Membership> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1),
                       s.text(2) == "owner" ? MemberRole::owner : MemberRole::member});
    }
    return out;
}

}  // namespace

std::vector<Membership> Store::memberships_of(std::string_view user)
{
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT room_id, user, role FROM members WHERE user = ?1 ORDER BY room_id");
    s.bind(1, user);
    return read_memberships(s);
}

std::vector<Membership> Store::memberships()
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT room_id, user, role FROM members ORDER BY room_id, user");
    return read_memberships(s);
}

RoomPage Store::list_rooms(const RoomQuery& query)
{
    // The same columns as read_room(), then membership and count. One row
    // more than asked tells whether there is more.
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "SELECT r.id, r.name, r.owner, r.password_hash, r.created, r.listed, "
                "r.description, m.user IS NOT NULL, "
                "(SELECT COUNT(*) FROM members c WHERE c.room_id = r.id) "
                "FROM rooms r LEFT JOIN members m ON m.room_id = r.id AND m.user = ?1 "
                "WHERE (r.listed = 1 OR m.user IS NOT NULL) "
                "AND (?2 = '' OR instr(lower(r.name), lower(?2)) > 0 "
                "OR instr(lower(r.description), lower(?2)) > 0) "
                "ORDER BY r.name COLLATE NOCASE, r.name LIMIT ?3");
    s.bind(1, query.user).bind(2, query.match);
    s.bind(3, static_cast<std::int64_t>(query.limit) + 1);

    RoomPage page;
    while (s.step()) {
        RoomListing listing;
        listing.room = read_room(s);
        listing.member = s.integer(7) != 0;
        listing.members = s.integer(8);
        page.rooms.push_back(std::move(listing));
    }
    if (page.rooms.size() > query.limit) {
        page.more = true;
        page.rooms.pop_back();
    }
    return page;
}

bool Store::delete_room(std::string_view room_id)
{
    std::lock_guard lock(mutex_);
    // Members and bans go with it (ON DELETE CASCADE); revocations stay.
    Statement s(db_, "DELETE FROM rooms WHERE id = ?1");
    s.bind(1, room_id);
    s.step();
    const bool deleted = sqlite3_changes(db_) > 0;

    Statement messages(db_, "DELETE FROM messages WHERE room_id = ?1");
    messages.bind(1, room_id);
    messages.step();
    return deleted;
}

void Store::add_revocation(const Revocation& revocation)
{
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT INTO revocations (room_id, user, before_ms) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (room_id, user) DO UPDATE SET "
                "before_ms = MAX(before_ms, excluded.before_ms)");
    s.bind(1, revocation.room_id).bind(2, revocation.user).bind(3, revocation.before_ms);
    s.step();
}

std::vector<Revocation> Store::revocations()
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT room_id, user, before_ms FROM revocations ORDER BY room_id, user");
    std::vector<Revocation> out;
    while (s.step()) {
        out.push_back({s.text(0), s.text(1), s.integer(2)});
    }
    return out;
}

bool Store::append_message(const ArchivedMessage& message)
{
    std::lock_guard lock(mutex_);
    // Once per archived message: prepared once (see cached()).
    Statement s(db_, cached("INSERT INTO messages (room_id, seq, msg_id, sender, text, ts) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                            "ON CONFLICT (room_id, seq) DO NOTHING"));
    s.bind(1, message.room_id).bind(2, message.seq);
    s.bind_optional(3, message.id).bind(4, message.sender).bind_optional(5, message.text);
    s.bind(6, message.ts);
    s.step();
    return sqlite3_changes(db_) > 0;
}

HistoryPage Store::history(std::string_view room_id, const HistoryQuery& query)
{
    // Newest first when scrolling back (or no bound), oldest first when
    // catching up; one row more than asked tells whether there is more.
    const bool forward = query.after.has_value();
    std::string sql =
        "SELECT seq, msg_id, sender, text, ts FROM messages WHERE room_id = ?1 "
        "AND seq > ?2 AND seq < ?3 ORDER BY seq ";
    sql += forward ? "ASC" : "DESC";
    sql += " LIMIT ?4";

    std::lock_guard lock(mutex_);
    Statement s(db_, cached(sql.c_str()));
    s.bind(1, room_id);
    s.bind(2, query.after.value_or(0));
    s.bind(3, query.before.value_or(INT64_MAX));
    s.bind(4, static_cast<std::int64_t>(query.limit) + 1);

    HistoryPage page;
    while (s.step()) {
        ArchivedMessage m;
        m.room_id = std::string(room_id);
        m.seq = s.integer(0);
        m.id = s.optional_text(1);
        m.sender = s.text(2);
        m.text = s.optional_text(3);
        m.ts = s.integer(4);
        page.messages.push_back(std::move(m));
    }
    if (page.messages.size() > query.limit) {
        page.more = true;
        page.messages.pop_back();
    }
    if (!forward) {
        std::reverse(page.messages.begin(), page.messages.end());
    }

    Statement last(db_,
                   cached("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room_id = ?1"));
    last.bind(1, room_id);
    last.step();
    page.last_seq = last.integer(0);
    return page;
}

std::size_t Store::prune_room_messages(std::string_view room_id, std::int64_t keep,
                                       std::int64_t older_than_ms)
{
    std::lock_guard lock(mutex_);
    std::size_t removed = 0;
    if (keep > 0) {
        Statement s(db_,
                    "DELETE FROM messages WHERE room_id = ?1 AND seq <= "
                    "(SELECT MAX(seq) FROM messages WHERE room_id = ?1) - ?2");
        s.bind(1, room_id).bind(2, keep);
        s.step();
        removed += static_cast<std::size_t>(sqlite3_changes(db_));
    }
    if (older_than_ms > 0) {
        Statement s(db_, "DELETE FROM messages WHERE room_id = ?1 AND ts < ?2");
        s.bind(1, room_id).bind(2, older_than_ms);
        s.step();
        removed += static_cast<std::size_t>(sqlite3_changes(db_));
    }
    return removed;
}

std::vector<std::string> Store::archived_rooms()
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT DISTINCT room_id FROM messages");
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(0));
    }
    return out;
}

std::int64_t Store::member_count(std::string_view room_id)
{
    std::lock_guard lock(mutex_);
    Statement s(db_, "SELECT COUNT(*) FROM members WHERE room_id = ?1");
    s.bind(1, room_id);
    s.step();
    return s.integer(0);
}

}  // namespace mqchat::service
