// Session and join tokens: JWTs signed with ES256 (ECDSA P-256 + SHA-256).
//
// The room manager holds the private key and signs; the broker plugin holds
// only the public key and verifies. Signing and checking go through libjwt;
// this file adds the checks libjwt leaves to its caller: the algorithm must be
// exactly ES256 (which refuses "alg: none" and HMAC keyed with the public
// key), the issuer and type must match, and the token must not be expired.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mqchat {

enum class TokenType { session, join };

struct TokenClaims {
    TokenType type = TokenType::session;
    std::string user;          // "sub"
    std::string room_id;       // "room"; join tokens only
    std::int64_t issued_ms = 0;   // "ims": issue time in milliseconds
    std::int64_t expires_s = 0;   // "exp": expiry, seconds since the epoch
};

enum class TokenError {
    ok = 0,
    malformed,       // not a JWT, or bad base64/JSON
    bad_signature,   // signature does not verify with our key
    wrong_algorithm, // anything but ES256 (none, HS256, RS256, ...)
    wrong_issuer,
    wrong_type,      // a session token used as a join token or vice versa
    missing_claim,
    expired,
};

std::string_view to_string(TokenError error);

struct VerifiedToken {
    TokenError error = TokenError::malformed;
    TokenClaims claims;  // meaningful only when error == ok
};

// Signs tokens with an EC P-256 private key in PEM form.
// Thread safety: sign() is const and safe to call from several threads.
class TokenSigner {
public:
    // Throws std::runtime_error if the file cannot be read.
    static TokenSigner from_pem_file(const std::string& path);
    explicit TokenSigner(std::string private_key_pem);

    [[nodiscard]] std::string sign(const TokenClaims& claims) const;

private:
    std::string key_pem_;
};

// Verifies tokens with the matching public key in PEM form.
// Thread safety: verify() is const and safe to call from several threads.
class TokenVerifier {
public:
    static TokenVerifier from_pem_file(const std::string& path);
    explicit TokenVerifier(std::string public_key_pem);

    // `expected` is the type the caller wants; `now_s` the current time in
    // seconds (a parameter so tests can move the clock).
    [[nodiscard]] VerifiedToken verify(std::string_view token, TokenType expected,
                                       std::int64_t now_s) const;

private:
    std::string key_pem_;
};

// Current wall-clock time.
std::int64_t now_seconds();
std::int64_t now_millis();

}  // namespace mqchat
