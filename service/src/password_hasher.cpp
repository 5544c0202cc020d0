#include "mqchat/service/password_hasher.hpp"

#include <argon2.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace mqchat::service {

namespace {

constexpr std::size_t salt_length = 16;
constexpr std::size_t hash_length = 32;

// Reads "<key>=<digits>" at the front of `text` and advances past it.
bool take_number(std::string_view& text, std::string_view key, std::uint32_t& out)
{
    if (!text.starts_with(key)) {
        return false;
    }
    text.remove_prefix(key.size());
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec != std::errc{} || ptr == begin) {
        return false;
    }
    text.remove_prefix(static_cast<std::size_t>(ptr - begin));
    return true;
}

}  // namespace

PasswordHasher::PasswordHasher(Argon2Params params, Argon2Params max)
    : params_(params), max_(max)
{
    max_.t_cost = std::max(max_.t_cost, params_.t_cost);
    max_.m_cost_kib = std::max(max_.m_cost_kib, params_.m_cost_kib);
    max_.parallelism = std::max(max_.parallelism, params_.parallelism);
}

std::string PasswordHasher::hash(std::string_view password) const
{
    std::array<unsigned char, salt_length> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }

    const std::size_t length = argon2_encodedlen(params_.t_cost, params_.m_cost_kib,
                                                 params_.parallelism, salt_length,
                                                 hash_length, Argon2_id);
    std::string encoded(length, '\0');
    const int rc = argon2id_hash_encoded(params_.t_cost, params_.m_cost_kib,
                                         params_.parallelism, password.data(),
                                         password.size(), salt.data(), salt.size(),
                                         hash_length, encoded.data(), encoded.size());
    if (rc != ARGON2_OK) {
        throw std::runtime_error(std::string("argon2id_hash_encoded: ") +
                                 argon2_error_message(rc));
    }

    // The buffer size includes the terminating NUL.
    encoded.resize(encoded.find('\0'));
    return encoded;
}

std::optional<Argon2Params> PasswordHasher::parse_params(std::string_view encoded)
{
    std::string_view text = encoded;
    constexpr std::string_view head = "$argon2id$v=19$";
    if (!text.starts_with(head)) {
        return std::nullopt;
    }
    text.remove_prefix(head.size());

    Argon2Params p;
    if (!take_number(text, "m=", p.m_cost_kib) || !take_number(text, ",t=", p.t_cost) ||
        !take_number(text, ",p=", p.parallelism) || !text.starts_with('$')) {
        return std::nullopt;
    }
    return p;
}

bool PasswordHasher::verify(std::string_view encoded, std::string_view password) const
{
    const auto stored = parse_params(encoded);
    if (!stored) {
        spdlog::error("password_hasher: stored hash is malformed");
        return false;
    }
    if (stored->t_cost > max_.t_cost || stored->m_cost_kib > max_.m_cost_kib ||
        stored->parallelism > max_.parallelism) {
        spdlog::error("password_hasher: stored hash exceeds cost bounds t={} m={} p={}",
                      stored->t_cost, stored->m_cost_kib, stored->parallelism);
        return false;
    }

    // argon2id_verify needs a NUL-terminated string.
    const std::string copy(encoded);
    return argon2id_verify(copy.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace mqchat::service
