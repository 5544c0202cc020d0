// Where a client keeps its session token and its join tokens.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mqchat::client {

// A join token together with the id of the room it admits to, so that a
// client can enter a room by name without asking the room manager again.
struct JoinToken {
    std::string room_id;
    std::string token;
};

// The persisted state of one user on one broker. Room names are the keys.
struct StoredTokens {
    std::optional<std::string> session;
    std::map<std::string, JoinToken> rooms;
};

// Storage for tokens. Implementations must be safe to call from several
// threads at once; the Client calls them from the caller's thread and from
// its link thread (on every reconnect and for queued sends).
class TokenStore {
public:
    virtual ~TokenStore() = default;

    // A snapshot of everything stored.
    [[nodiscard]] virtual StoredTokens load() const = 0;

    // Replaces (or, with nullopt, forgets) the session token.
    virtual void set_session(std::optional<std::string> token) = 0;

    // Stores the join token for `room_name`, replacing an older one.
    virtual void set_join_token(const std::string& room_name, JoinToken token) = 0;

    // Forgets the join token for `room_name`; no effect if there is none.
    virtual void remove_join_token(const std::string& room_name) = 0;

    // Convenience lookups over load().
    [[nodiscard]] std::optional<std::string> session() const;
    [[nodiscard]] std::optional<JoinToken> join_token(const std::string& room_name) const;
};

// Keeps tokens in memory only: they are gone when the process ends.
class MemoryTokenStore : public TokenStore {
public:
    [[nodiscard]] StoredTokens load() const override;
    void set_session(std::optional<std::string> token) override;
    void set_join_token(const std::string& room_name, JoinToken token) override;
    void remove_join_token(const std::string& room_name) override;

private:
    mutable std::mutex mutex_;
    StoredTokens tokens_;
};

// Keeps tokens in a JSON file so that separate processes (successive `mqchat`
// commands) share one login and the rooms joined:
//   {"session": "...", "rooms": {"Book club": {"id": "...", "token": "..."}}}
// The file is created with mode 0600 (its folder, if missing, with 0700) and
// replaced atomically (write a temporary file, fsync, rename). Every change
// re-reads the file under an exclusive flock on "<path>.lock" first, so two
// processes changing different rooms do not undo each other.
//
// Errors: load() and the setters throw std::runtime_error when the file cannot
// be read, parsed or written. A missing file is an empty store.
class FileTokenStore : public TokenStore {
public:
    explicit FileTokenStore(std::string path);

    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    [[nodiscard]] StoredTokens load() const override;
    void set_session(std::optional<std::string> token) override;
    void set_join_token(const std::string& room_name, JoinToken token) override;
    void remove_join_token(const std::string& room_name) override;

private:
    template <typename Change>
    void update(Change&& change);

    std::string path_;
    mutable std::mutex mutex_;
};

}  // namespace mqchat::client
