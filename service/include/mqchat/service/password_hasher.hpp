// Argon2id hashing of account and room passwords (libargon2, encoded form).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mqchat::service {

// Argon2id cost parameters. The defaults follow RFC 9106's second
// recommendation / OWASP's minimum (t=3, 64 MiB, one lane).
struct Argon2Params {
    std::uint32_t t_cost = 3;
    std::uint32_t m_cost_kib = 65536;
    std::uint32_t parallelism = 1;
};

// Hashes passwords into the self-describing PHC string
// `$argon2id$v=19$m=..,t=..,p=..$salt$hash` and verifies against it.
//
// Thread safety: all members are const and may be called from any thread.
class PasswordHasher {
public:
    // `params` is used for new hashes. `max` bounds what verify() accepts in
    // a stored hash: a tampered store must not make us allocate gigabytes.
    // Each bound is raised to at least the matching value of `params`.
    explicit PasswordHasher(Argon2Params params = {},
                            Argon2Params max = {.t_cost = 32,
                                                .m_cost_kib = 1024 * 1024,
                                                .parallelism = 16});

    // Returns a fresh encoded hash with a 16-byte random salt.
    // Throws std::runtime_error if randomness or libargon2 fails.
    [[nodiscard]] std::string hash(std::string_view password) const;

    // True when `password` matches `encoded`. False for a wrong password, a
    // malformed hash, or cost parameters above the bounds (logged as an
    // internal error, since only a damaged store produces one).
    [[nodiscard]] bool verify(std::string_view encoded, std::string_view password) const;

    // Extracts m, t and p from an encoded Argon2id hash; nullopt if the
    // string is not of the form `$argon2id$v=19$m=<n>,t=<n>,p=<n>$...`.
    [[nodiscard]] static std::optional<Argon2Params> parse_params(std::string_view encoded);

    [[nodiscard]] const Argon2Params& params() const { return params_; }

private:
    Argon2Params params_;
    Argon2Params max_;
};

}  // namespace mqchat::service
