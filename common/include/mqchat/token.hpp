// Session and join tokens: JWTs signed with ES256 (ECDSA P-256 + SHA-256).
//
// The room manager holds the private key and signs; the broker plugin holds
// only the public key and verifies. Signing and checking go through libjwt;
// this file adds the checks libjwt leaves to its caller: the algorithm must be
// exactly ES256 (which refuses "alg: none" and HMAC keyed with the public
// key), the issuer and type must match, and the token must not be expired.
//
// Key rotation: every token names its signing key in the JWT header ("kid",
// see key_id()), and a verifier may hold several public keys (the current
// one and those retired but not yet expired), so tokens signed before a
// rotation keep working until they expire.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mqchat {

enum class TokenType { session, join };

struct TokenClaims {
    TokenType type = TokenType::session;
    std::string user;          // "sub"
    std::string room_id;       // "room"; join tokens only
    std::int64_t issued_ms = 0;   // "ims": issue time in milliseconds
    std::int64_t expires_s = 0;   // "exp": expiry, seconds since the epoch
    // "opr": session tokens of operator accounts, which may read the
    // room manager's health topic (topic::sys_health). Absent means false.
    bool is_operator = false;
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
    unknown_key,     // the header names a key id the verifier does not hold
};

std::string_view to_string(TokenError error);

struct VerifiedToken {
    TokenError error = TokenError::malformed;
    TokenClaims claims;  // meaningful only when error == ok
};

// The id of an EC public or private key: the first 16 hex digits of the
// SHA-256 of its public half (DER SubjectPublicKeyInfo). Stable across PEM
// re-encodings. Throws std::runtime_error when `pem` holds no such key.
[[nodiscard]] std::string key_id(std::string_view pem);

// Signs tokens with an EC P-256 private key in PEM form, naming the key's
// key_id() in the "kid" header.
// Thread safety: sign() and replace() may be called from several threads at
// once; copies share one key, so replace() on one is seen by all.
class TokenSigner {
public:
    // Throws std::runtime_error if the file cannot be read or holds no key.
    static TokenSigner from_pem_file(const std::string& path);
    explicit TokenSigner(std::string private_key_pem);

    [[nodiscard]] std::string sign(const TokenClaims& claims) const;

    // Signs with `private_key_pem` from now on (key rotation). Throws
    // std::runtime_error, keeping the old key, when it holds no key.
    void replace(std::string private_key_pem);

    // key_id() of the key sign() uses now.
    [[nodiscard]] std::string current_key_id() const;

private:
    struct Key;
    std::shared_ptr<Key> key_;
};

// Verifies tokens with one or more public keys in PEM form: the key named
// by the token's "kid" header, or, for a token without one (issued before
// key ids existed), each key in turn.
// Thread safety: verify() is const and safe to call from several threads.
class TokenVerifier {
public:
    static TokenVerifier from_pem_file(const std::string& path);
    // The key in `current_path` plus every "*.pem" file in `keys_dir` (a
    // missing folder counts as empty; duplicates are dropped). Throws
    // std::runtime_error when a file cannot be read or holds no key.
    static TokenVerifier from_key_files(const std::string& current_path,
                                        const std::string& keys_dir);
    explicit TokenVerifier(std::string public_key_pem);
    explicit TokenVerifier(const std::vector<std::string>& public_key_pems);

    // `expected` is the type the caller wants; `now_s` the current time in
    // seconds (a parameter so tests can move the clock).
    [[nodiscard]] VerifiedToken verify(std::string_view token, TokenType expected,
                                       std::int64_t now_s) const;

    // The key ids this verifier accepts, in no particular order.
    [[nodiscard]] std::vector<std::string> key_ids() const;

private:
    struct PublicKey {
        std::string id;
        std::string pem;
    };
    [[nodiscard]] VerifiedToken verify_with(const PublicKey& key, const std::string& token,
                                            TokenType expected, std::int64_t now_s) const;

    std::vector<PublicKey> keys_;
};

// Current wall-clock time.
std::int64_t now_seconds();
std::int64_t now_millis();

}  // namespace mqchat
