#include "mqchat/access/state_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace mqchat::access {
namespace {

std::runtime_error io_error(const std::string& what, const std::string& path)
{
    return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

// Writes all of `data`, retrying short writes and EINTR.
bool write_all(int fd, const std::string& data)
{
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

StateLog::StateLog(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/state.jsonl")
{
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        throw std::runtime_error("cannot create state folder " + dir_ + ": " + ec.message());
    }
    open_for_append();
}

StateLog::~StateLog()
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void StateLog::open_for_append()
{
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw io_error("cannot open state log", path_);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        throw io_error("cannot stat state log", path_);
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
    size_ = static_cast<std::uint64_t>(st.st_size);
}

std::vector<std::string> StateLog::read_all() const
{
    std::vector<std::string> lines;
    std::ifstream in(path_, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    // Only newline-terminated lines count: a torn last write has none.
    std::size_t start = 0;
    for (std::size_t nl = content.find('\n'); nl != std::string::npos;
         nl = content.find('\n', start)) {
        if (nl > start) {
            lines.push_back(content.substr(start, nl - start));
        }
        start = nl + 1;
    }
    return lines;
}

bool StateLog::append(const std::string& line)
{
    std::string record = line + "\n";
    if (!write_all(fd_, record)) {
        return false;
    }
    size_ += record.size();
    return true;
}

bool StateLog::rewrite(const std::vector<std::string>& lines)
{
    // Build the new file beside the old one, make it durable, then swap.
    std::string tmp = path_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return false;
    }
    std::string data;
    for (const auto& line : lines) {
        data += line;
        data += '\n';
    }
    bool ok = write_all(fd, data) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }

    // Make the rename itself durable.
    int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    open_for_append();
    return true;
}

}  // namespace mqchat::access
