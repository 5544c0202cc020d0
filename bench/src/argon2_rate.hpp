// The raw Argon2id hash rate of this machine, with libargon2 directly: the
// ceiling for anything that costs one hash, such as an mqchat join.
#pragma once

#include <cstdint>

namespace mqchat::bench {

struct Argon2Cost {
    std::uint32_t t_cost = 3;        // iterations
    std::uint32_t m_cost_kib = 65536;
    std::uint32_t lanes = 1;
};

// Hashes/s with `threads` threads hashing `hashes_per_thread` times each,
// at once (same 32-byte output and 16-byte salt as the room manager).
// Throws std::runtime_error if libargon2 refuses the cost.
[[nodiscard]] double argon2_hashes_per_s(const Argon2Cost& cost, unsigned threads,
                                         unsigned hashes_per_thread);

}  // namespace mqchat::bench
