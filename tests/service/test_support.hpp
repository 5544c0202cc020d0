// Shared helpers for the service unit tests: a temporary folder and a fake
// Publisher that records what the room manager would put on MQTT.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "mqchat/service/password_hasher.hpp"
#include "mqchat/service/publisher.hpp"

namespace mqchat::service::testing {

// A fresh folder under the system temp dir, removed with everything in it.
class TempDir {
public:
    TempDir()
    {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "mqchat-service-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct Publication {
    std::string topic;
    std::string payload;
    bool retained = false;
};

class FakePublisher : public Publisher {
public:
    void publish(const std::string& topic, const std::string& payload, bool retained) override
    {
        std::lock_guard lock(mutex_);
        sent_.push_back({topic, payload, retained});
    }

    std::vector<Publication> take()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(sent_, {});
    }

private:
    std::mutex mutex_;
    std::vector<Publication> sent_;
};

// Cheap enough for tests; production uses the RFC 9106 defaults.
inline constexpr Argon2Params test_argon2{.t_cost = 1, .m_cost_kib = 1024, .parallelism = 1};

}  // namespace mqchat::service::testing
