#include "argon2_rate.hpp"

#include <argon2.h>

#include <array>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mqchat::bench {

double argon2_hashes_per_s(const Argon2Cost& cost, unsigned threads, unsigned hashes_per_thread)
{
    std::atomic<int> failure{ARGON2_OK};
    auto hash_many = [&] {
        const std::string password = "bench: a password of ordinary length";
        std::array<unsigned char, 16> salt{};
        std::array<unsigned char, 32> hash{};
        for (unsigned i = 0; i < hashes_per_thread; ++i) {
            salt[0] = static_cast<unsigned char>(i);
            const int rc = argon2id_hash_raw(cost.t_cost, cost.m_cost_kib, cost.lanes,
                                             password.data(), password.size(), salt.data(),
                                             salt.size(), hash.data(), hash.size());
            if (rc != ARGON2_OK) {
                failure = rc;
                return;
            }
        }
    };

    // All threads at once, timed together.
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back(hash_many);
    }
    for (auto& w : workers) {
        w.join();
    }
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

    if (failure != ARGON2_OK) {
        throw std::runtime_error(std::string("argon2id_hash_raw: ") +
                                 argon2_error_message(failure));
    }
    return static_cast<double>(threads) * hashes_per_thread / elapsed.count();
}

}  // namespace mqchat::bench
