#include "mqchat/token.hpp"

#include <jwt.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace mqchat {
namespace {

constexpr const char* issuer = "mqchat";

struct JwtDeleter {
    void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read key file " + path);
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

const char* type_name(TokenType type)
{
    return type == TokenType::join ? "join" : "session";
}

// Reads an integer claim; libjwt reports a missing one through errno.
bool get_int_claim(jwt_t* jwt, const char* name, std::int64_t& out)
{
    errno = 0;
    long value = jwt_get_grant_int(jwt, name);
    if (errno != 0) {
        return false;
    }
    out = value;
    return true;
}

}  // namespace

std::string_view to_string(TokenError error)
{
    switch (error) {
    case TokenError::ok: return "ok";
    case TokenError::malformed: return "malformed";
    case TokenError::bad_signature: return "bad_signature";
    case TokenError::wrong_algorithm: return "wrong_algorithm";
    case TokenError::wrong_issuer: return "wrong_issuer";
    case TokenError::wrong_type: return "wrong_type";
    case TokenError::missing_claim: return "missing_claim";
    case TokenError::expired: return "expired";
    }
    return "unknown";
}

std::int64_t now_seconds()
{
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t now_millis()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

TokenSigner TokenSigner::from_pem_file(const std::string& path)
{
    return TokenSigner(read_file(path));
}

TokenSigner::TokenSigner(std::string private_key_pem) : key_pem_(std::move(private_key_pem)) {}

std::string TokenSigner::sign(const TokenClaims& claims) const
{
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) {
        throw std::runtime_error("jwt_new failed");
    }
    JwtPtr jwt(raw);

    // Claims first, then the key: libjwt signs at encode time.
    bool ok = jwt_add_grant(jwt.get(), "iss", issuer) == 0 &&
              jwt_add_grant(jwt.get(), "sub", claims.user.c_str()) == 0 &&
              jwt_add_grant(jwt.get(), "typ", type_name(claims.type)) == 0 &&
              jwt_add_grant_int(jwt.get(), "iat", claims.issued_ms / 1000) == 0 &&
              jwt_add_grant_int(jwt.get(), "ims", claims.issued_ms) == 0 &&
              jwt_add_grant_int(jwt.get(), "exp", claims.expires_s) == 0;
    if (ok && claims.type == TokenType::join) {
        ok = jwt_add_grant(jwt.get(), "room", claims.room_id.c_str()) == 0;
    }
    const auto* key = reinterpret_cast<const unsigned char*>(key_pem_.data());
    if (!ok || jwt_set_alg(jwt.get(), JWT_ALG_ES256, key, static_cast<int>(key_pem_.size())) != 0) {
        throw std::runtime_error("cannot build token");
    }

    char* encoded = jwt_encode_str(jwt.get());
    if (encoded == nullptr) {
        throw std::runtime_error("cannot sign token (is the key an EC P-256 private key?)");
    }
    std::string token(encoded);
    std::free(encoded);
    return token;
}

TokenVerifier TokenVerifier::from_pem_file(const std::string& path)
{
    return TokenVerifier(read_file(path));
}

TokenVerifier::TokenVerifier(std::string public_key_pem) : key_pem_(std::move(public_key_pem)) {}

VerifiedToken TokenVerifier::verify(std::string_view token, TokenType expected,
                                    std::int64_t now_s) const
{
    VerifiedToken result;

    // libjwt wants a C string; a token with an embedded NUL is not a token.
    std::string text(token);
    if (text.empty() || text.find('\0') != std::string::npos || text.size() > 8192) {
        return result;
    }

    // jwt_decode checks the signature with the algorithm the token names, so
    // a token that names HS256 would be checked with our public key as the
    // HMAC secret. Decoding is therefore followed by a strict algorithm check:
    // only ES256 is ever accepted.
    jwt_t* raw = nullptr;
    const auto* key = reinterpret_cast<const unsigned char*>(key_pem_.data());
    int rc = jwt_decode(&raw, text.c_str(), key, static_cast<int>(key_pem_.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt) {
        result.error = rc == EINVAL ? TokenError::bad_signature : TokenError::malformed;
        return result;
    }
    if (jwt_get_alg(jwt.get()) != JWT_ALG_ES256) {
        result.error = TokenError::wrong_algorithm;
        return result;
    }

    // Issuer and type.
    const char* iss = jwt_get_grant(jwt.get(), "iss");
    if (iss == nullptr || std::string_view(iss) != issuer) {
        result.error = TokenError::wrong_issuer;
        return result;
    }
    const char* typ = jwt_get_grant(jwt.get(), "typ");
    if (typ == nullptr || std::string_view(typ) != type_name(expected)) {
        result.error = TokenError::wrong_type;
        return result;
    }

    // Required claims.
    const char* sub = jwt_get_grant(jwt.get(), "sub");
    TokenClaims claims;
    claims.type = expected;
    if (sub == nullptr || !get_int_claim(jwt.get(), "exp", claims.expires_s) ||
        !get_int_claim(jwt.get(), "ims", claims.issued_ms)) {
        result.error = TokenError::missing_claim;
        return result;
    }
    claims.user = sub;
    if (expected == TokenType::join) {
        const char* room = jwt_get_grant(jwt.get(), "room");
        if (room == nullptr) {
            result.error = TokenError::missing_claim;
            return result;
        }
        claims.room_id = room;
    }

    if (claims.expires_s <= now_s) {
        result.error = TokenError::expired;
        return result;
    }
    result.error = TokenError::ok;
    result.claims = std::move(claims);
    return result;
}

}  // namespace mqchat
