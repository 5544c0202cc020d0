// A real mqchat backend for integration tests: Mosquitto with the plugin and
// the room manager, started through scripts/backend.sh on free loopback ports
// with a fresh data folder, and stopped (process group, SIGTERM then SIGKILL)
// when the object goes away.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

namespace mqchat::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

class TestBackend {
public:
    TestBackend()
    {
        namespace fs = std::filesystem;
        char pattern[] = "/tmp/mqchat-test-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        dir_ = pattern;
        mqtt_port_ = free_port();
        ws_port_ = free_port();
        mqtts_port_ = free_port();
        wss_port_ = free_port();
        start();
    }

    ~TestBackend()
    {
        stop();
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }

    TestBackend(const TestBackend&) = delete;
    TestBackend& operator=(const TestBackend&) = delete;

    std::string broker_url() const { return "mqtt://127.0.0.1:" + std::to_string(mqtt_port_); }
    int mqtt_port() const { return mqtt_port_; }
    std::string mqtts_url() const { return "mqtts://127.0.0.1:" + std::to_string(mqtts_port_); }
    std::string wss_url() const { return "wss://127.0.0.1:" + std::to_string(wss_port_); }
    // The local CA the backend made on its first start; signs its TLS certificate.
    std::string ca_file() const { return dir_ + "/data/tls/ca.pem"; }
    const std::string& dir() const { return dir_; }

    // Stops both processes; start() brings them back on the same ports and
    // data folder (a restart with persistence).
    void stop()
    {
        if (pid_ <= 0) {
            return;
        }
        const pid_t group = pid_;
        ::kill(-group, SIGTERM);
        bool exited = false;
        for (int i = 0; i < 100 && !exited; ++i) {
            exited = ::waitpid(pid_, nullptr, WNOHANG) == pid_;
            if (!exited) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }

        // Whatever is left of the group gets no more chances.
        ::kill(-group, SIGKILL);
        if (!exited) {
            ::waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }

    void start()
    {
        namespace fs = std::filesystem;
        std::string ready = dir_ + "/ready";
        fs::remove(ready);

        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            // Own process group, so stop() can end the script and both children.
            ::setpgid(0, 0);
            std::string log = dir_ + "/backend.log";
            FILE* out = std::freopen(log.c_str(), "a", stdout);
            FILE* err = std::freopen(log.c_str(), "a", stderr);
            (void)out;
            (void)err;
            ::setenv("MQCHAT_DATA_DIR", (dir_ + "/data").c_str(), 1);
            ::setenv("MQCHAT_MQTT_PORT", std::to_string(mqtt_port_).c_str(), 1);
            ::setenv("MQCHAT_WS_PORT", std::to_string(ws_port_).c_str(), 1);
            ::setenv("MQCHAT_BIND", "127.0.0.1", 1);
            ::setenv("MQCHAT_MQTTS_PORT", std::to_string(mqtts_port_).c_str(), 1);
            ::setenv("MQCHAT_WSS_PORT", std::to_string(wss_port_).c_str(), 1);
            ::setenv("MQCHAT_TLS_BIND", "127.0.0.1", 1);
            // Always the generated certificate, whatever the caller's shell has.
            ::unsetenv("MQCHAT_TLS_CERT");
            ::unsetenv("MQCHAT_TLS_KEY");
            ::setenv("MQCHAT_BUILD_DIR", MQCHAT_BINARY_DIR, 1);
            ::setenv("MQCHAT_READY_FILE", ready.c_str(), 1);
            // Cheap hashing keeps the suite fast; production cost is tested
            // by the benchmarks, not here.
            ::setenv("MQCHAT_ARGON2_T", "1", 0);
            ::setenv("MQCHAT_ARGON2_M", "8192", 0);
            std::string script = std::string(MQCHAT_SOURCE_DIR) + "/scripts/backend.sh";
            ::execl("/bin/bash", "bash", script.c_str(), static_cast<char*>(nullptr));
            std::_Exit(127);
        }

        // Bounded wait for the room manager to report that it serves requests.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!fs::exists(ready)) {
            if (std::chrono::steady_clock::now() > deadline ||
                ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("backend did not become ready; see " + dir_ +
                                         "/backend.log");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

private:
    std::string dir_;
    int mqtt_port_ = 0;
    int ws_port_ = 0;
    int mqtts_port_ = 0;
    int wss_port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace mqchat::test
