#include "mqchat/client/token_store.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace mqchat::client {

using nlohmann::json;

std::optional<std::string> TokenStore::session() const
{
    return load().session;
}

std::optional<JoinToken> TokenStore::join_token(const std::string& room_name) const
{
    auto tokens = load();
    auto it = tokens.rooms.find(room_name);
    if (it == tokens.rooms.end()) {
        return std::nullopt;
    }
    return it->second;
}

// ---------------------------------------------------------------------------
// MemoryTokenStore
// ---------------------------------------------------------------------------

StoredTokens MemoryTokenStore::load() const
{
    std::lock_guard lock(mutex_);
    return tokens_;
}

void MemoryTokenStore::set_session(std::optional<std::string> token)
{
    std::lock_guard lock(mutex_);
    tokens_.session = std::move(token);
}

void MemoryTokenStore::set_join_token(const std::string& room_name, JoinToken token)
{
    std::lock_guard lock(mutex_);
    tokens_.rooms[room_name] = std::move(token);
}

void MemoryTokenStore::remove_join_token(const std::string& room_name)
{
    std::lock_guard lock(mutex_);
    tokens_.rooms.erase(room_name);
}

// ---------------------------------------------------------------------------
// FileTokenStore
// ---------------------------------------------------------------------------

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path)
{
    throw std::runtime_error("token store " + path + ": " + what + ": " + std::strerror(errno));
}

StoredTokens read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno == ENOENT) {
            return {};
        }
        fail("cannot read", path);
    }
    std::stringstream text;
    text << in.rdbuf();

    StoredTokens tokens;
    try {
        json doc = json::parse(text.str());
        if (auto it = doc.find("session"); it != doc.end() && it->is_string()) {
            tokens.session = it->get<std::string>();
        }
        if (auto it = doc.find("rooms"); it != doc.end() && it->is_object()) {
            for (const auto& [name, room] : it->items()) {
                tokens.rooms[name] = {room.at("id").get<std::string>(),
                                      room.at("token").get<std::string>()};
            }
        }
    } catch (const json::exception& e) {
        throw std::runtime_error("token store " + path + ": malformed: " + e.what());
    }
    return tokens;
}

void write_all(int fd, const std::string& data, const std::string& path)
{
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail("cannot write", path);
        }
        done += static_cast<std::size_t>(n);
    }
}

// Writes a temporary file beside `path` with mode 0600 and renames it over
// `path`, so a reader sees either the old or the new content, never half.
void write_file_atomically(const std::string& path, const StoredTokens& tokens)
{
    json doc = json::object();
    if (tokens.session) {
        doc["session"] = *tokens.session;
    }
    doc["rooms"] = json::object();
    for (const auto& [name, room] : tokens.rooms) {
        doc["rooms"][name] = {{"id", room.room_id}, {"token", room.token}};
    }
    std::string data = doc.dump(2) + "\n";

    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(tmp.data());  // mkstemp creates with mode 0600
    if (fd < 0) {
        fail("cannot create temporary file", path);
    }
    try {
        write_all(fd, data, path);
        if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
            fail("cannot sync", path);
        }
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        fail("cannot rename", path);
    }
}

// Holds an exclusive flock on "<path>.lock" for the life of the object.
class FileLock {
public:
    explicit FileLock(const std::string& path)
    {
        std::string lock_path = path + ".lock";
        fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            fail("cannot open lock file", path);
        }
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                ::close(fd_);
                fail("cannot lock", path);
            }
        }
    }
    ~FileLock() { ::close(fd_); }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace

FileTokenStore::FileTokenStore(std::string path) : path_(std::move(path))
{
    // Create the folder now, private to the user, so writes cannot fail later
    // for a reason the caller could have seen at startup.
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty() && !std::filesystem::exists(parent)) {
        std::filesystem::create_directories(parent);
        std::filesystem::permissions(parent, std::filesystem::perms::owner_all);
    }
}

StoredTokens FileTokenStore::load() const
{
    std::lock_guard lock(mutex_);
    return read_file(path_);
}

template <typename Change>
void FileTokenStore::update(Change&& change)
{
    std::lock_guard lock(mutex_);
    FileLock file_lock(path_);
    StoredTokens tokens = read_file(path_);
    change(tokens);
    write_file_atomically(path_, tokens);
}

void FileTokenStore::set_session(std::optional<std::string> token)
{
    update([&](StoredTokens& tokens) { tokens.session = std::move(token); });
}

void FileTokenStore::set_join_token(const std::string& room_name, JoinToken token)
{
    update([&](StoredTokens& tokens) { tokens.rooms[room_name] = std::move(token); });
}

void FileTokenStore::remove_join_token(const std::string& room_name)
{
    update([&](StoredTokens& tokens) { tokens.rooms.erase(room_name); });
}

}  // namespace mqchat::client
