#include "mqchat/token.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
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

// The "kid" of a token's header without checking anything else; empty
// when the header has none or cannot be read (verification then decides).
std::string header_key_id(const std::string& token)
{
    const std::size_t dot = token.find('.');
    if (dot == std::string::npos || dot == 0 || dot > 1024) {
        return {};
    }
    // base64url without padding, as JWT uses it.
    std::string text;
    unsigned bits = 0;
    int count = 0;
    for (char c : std::string_view(token).substr(0, dot)) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        else return {};
        bits = (bits << 6) | static_cast<unsigned>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            text += static_cast<char>((bits >> count) & 0xff);
        }
    }
    const auto header = nlohmann::json::parse(text, nullptr, false);
    if (!header.is_object()) {
        return {};
    }
    const auto kid = header.find("kid");
    return kid != header.end() && kid->is_string() ? kid->get<std::string>() : std::string();
}

struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

}  // namespace

std::string key_id(std::string_view pem)
{
    // A private key PEM holds its public half too; try both forms.
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<EVP_PKEY, PkeyFree> key(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) {
        bio.reset(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
        key.reset(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    }
    if (!key) {
        throw std::runtime_error("no PEM key found");
    }
    unsigned char* der = nullptr;
    const int length = i2d_PUBKEY(key.get(), &der);
    if (length <= 0) {
        throw std::runtime_error("cannot encode the public key");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    const int ok = EVP_Digest(der, static_cast<std::size_t>(length), digest, &digest_length,
                              EVP_sha256(), nullptr);
    OPENSSL_free(der);
    if (ok != 1) {
        throw std::runtime_error("SHA-256 failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    for (unsigned int i = 0; i < 8; ++i) {
        id += hex[digest[i] >> 4];
        id += hex[digest[i] & 0x0f];
    }
    return id;
}

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
    case TokenError::unknown_key: return "unknown_key";
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

// One key shared by every copy of a signer, swapped whole under the lock.
struct TokenSigner::Key {
    mutable std::mutex mutex;
    std::string pem;
    std::string id;
};

TokenSigner::TokenSigner(std::string private_key_pem) : key_(std::make_shared<Key>())
{
    key_->id = key_id(private_key_pem);
    key_->pem = std::move(private_key_pem);
}

void TokenSigner::replace(std::string private_key_pem)
{
    std::string id = key_id(private_key_pem);
    std::lock_guard lock(key_->mutex);
    key_->pem = std::move(private_key_pem);
    key_->id = std::move(id);
}

std::string TokenSigner::current_key_id() const
{
    std::lock_guard lock(key_->mutex);
    return key_->id;
}

std::string TokenSigner::sign(const TokenClaims& claims) const
{
    std::string key_pem;
    std::string kid;
    {
        std::lock_guard lock(key_->mutex);
        key_pem = key_->pem;
        kid = key_->id;
    }

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
    if (ok && claims.is_operator) {
        ok = jwt_add_grant_bool(jwt.get(), "opr", 1) == 0;
    }
    ok = ok && jwt_add_header(jwt.get(), "kid", kid.c_str()) == 0;
    const auto* key = reinterpret_cast<const unsigned char*>(key_pem.data());
    if (!ok || jwt_set_alg(jwt.get(), JWT_ALG_ES256, key, static_cast<int>(key_pem.size())) != 0) {
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

TokenVerifier TokenVerifier::from_key_files(const std::string& current_path,
                                            const std::string& keys_dir)
{
    std::vector<std::string> pems{read_file(current_path)};
    std::error_code error;
    if (!keys_dir.empty() && std::filesystem::is_directory(keys_dir, error)) {
        std::vector<std::filesystem::path> paths;
        for (const auto& entry : std::filesystem::directory_iterator(keys_dir)) {
            if (entry.path().extension() == ".pem") {
                paths.push_back(entry.path());
            }
        }
        std::sort(paths.begin(), paths.end());
        for (const auto& path : paths) {
            pems.push_back(read_file(path.string()));
        }
    }
    return TokenVerifier(pems);
}

TokenVerifier::TokenVerifier(std::string public_key_pem)
    : TokenVerifier(std::vector<std::string>{std::move(public_key_pem)})
{
}

TokenVerifier::TokenVerifier(const std::vector<std::string>& public_key_pems)
{
    for (const std::string& pem : public_key_pems) {
        // A key that cannot be read still verifies nothing; keep it under an
        // id no token names, so a broken file never widens what is accepted.
        std::string id;
        try {
            id = key_id(pem);
        } catch (const std::runtime_error&) {
            id = "unreadable";
        }
        const bool seen = std::any_of(keys_.begin(), keys_.end(),
                                      [&](const PublicKey& k) { return k.id == id; });
        if (!seen || id == "unreadable") {
            keys_.push_back({id, pem});
        }
    }
}

std::vector<std::string> TokenVerifier::key_ids() const
{
    std::vector<std::string> ids;
    for (const PublicKey& key : keys_) {
        ids.push_back(key.id);
    }
    return ids;
}

VerifiedToken TokenVerifier::verify(std::string_view token, TokenType expected,
                                    std::int64_t now_s) const
{
    VerifiedToken result;

    // libjwt wants a C string; a token with an embedded NUL is not a token.
    std::string text(token);
    if (text.empty() || text.find('\0') != std::string::npos || text.size() > 8192) {
        return result;
    }

    // A named key is the only one tried; a token without a name (signed
    // before key ids existed) is tried with each key, the current one first.
    const std::string kid = header_key_id(text);
    if (!kid.empty()) {
        for (const PublicKey& key : keys_) {
            if (key.id == kid) {
                return verify_with(key, text, expected, now_s);
            }
        }
        result.error = TokenError::unknown_key;
        return result;
    }
    for (const PublicKey& key : keys_) {
        result = verify_with(key, text, expected, now_s);
        if (result.error != TokenError::bad_signature) {
            return result;
        }
    }
    return result;
}

VerifiedToken TokenVerifier::verify_with(const PublicKey& public_key, const std::string& text,
                                         TokenType expected, std::int64_t now_s) const
{
    VerifiedToken result;

    // jwt_decode checks the signature with the algorithm the token names, so
    // a token that names HS256 would be checked with our public key as the
    // HMAC secret. Decoding is therefore followed by a strict algorithm check:
    // only ES256 is ever accepted.
    jwt_t* raw = nullptr;
    const auto* key = reinterpret_cast<const unsigned char*>(public_key.pem.data());
    int rc = jwt_decode(&raw, text.c_str(), key, static_cast<int>(public_key.pem.size()));
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
    // jwt_get_grant_bool reports a missing claim through errno.
    errno = 0;
    const int opr = jwt_get_grant_bool(jwt.get(), "opr");
    claims.is_operator = errno == 0 && opr == 1 && expected == TokenType::session;

    if (claims.expires_s <= now_s) {
        result.error = TokenError::expired;
        return result;
    }
    result.error = TokenError::ok;
    result.claims = std::move(claims);
    return result;
}

}  // namespace mqchat
