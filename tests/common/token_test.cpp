#include "mqchat/token.hpp"

#include <jwt.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "test_keys.hpp"

using mqchat::TokenClaims;
using mqchat::TokenError;
using mqchat::TokenType;

namespace {

constexpr std::int64_t now = 1'800'000'000;

TokenClaims join_claims()
{
    TokenClaims c;
    c.type = TokenType::join;
    c.user = "alice";
    c.room_id = "0123456789ab";
    c.issued_ms = now * 1000;
    c.expires_s = now + 3600;
    return c;
}

std::string base64url(const std::string& in)
{
    static const char* table =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    int val = 0;
    int bits = -6;
    for (unsigned char c : in) {
        val = (val << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(table[(val >> bits) & 0x3F]);
            bits -= 6;
        }
    }
    if (bits > -6) {
        out.push_back(table[((val << 8) >> (bits + 8)) & 0x3F]);
    }
    return out;
}

class TokenTest : public ::testing::Test {
protected:
    mqchat::test::KeyPair keys = mqchat::test::make_ec_key_pair();
    mqchat::TokenSigner signer{keys.private_pem};
    mqchat::TokenVerifier verifier{keys.public_pem};
};

}  // namespace

TEST_F(TokenTest, AcceptsAFreshJoinTokenAndReturnsItsClaims)
{
    auto token = signer.sign(join_claims());
    auto result = verifier.verify(token, TokenType::join, now);

    ASSERT_EQ(result.error, TokenError::ok);
    EXPECT_EQ(result.claims.user, "alice");
    EXPECT_EQ(result.claims.room_id, "0123456789ab");
    EXPECT_EQ(result.claims.issued_ms, now * 1000);
    EXPECT_EQ(result.claims.expires_s, now + 3600);
}

TEST_F(TokenTest, RejectsExpired)
{
    auto token = signer.sign(join_claims());
    EXPECT_EQ(verifier.verify(token, TokenType::join, now + 3600).error, TokenError::expired);
}

TEST_F(TokenTest, RejectsTamperedPayload)
{
    auto token = signer.sign(join_claims());
    auto first_dot = token.find('.');
    auto second_dot = token.find('.', first_dot + 1);

    // Swap the payload for one naming another user, keep the signature.
    std::string forged_payload = base64url(
        R"({"iss":"mqchat","sub":"mallory","typ":"join","room":"0123456789ab",)"
        R"("iat":1800000000,"ims":1800000000000,"exp":1800003600})");
    std::string forged = token.substr(0, first_dot + 1) + forged_payload + token.substr(second_dot);

    EXPECT_NE(verifier.verify(forged, TokenType::join, now).error, TokenError::ok);
}

TEST_F(TokenTest, RejectsTokenSignedWithAnotherKey)
{
    auto other = mqchat::test::make_ec_key_pair();
    mqchat::TokenSigner other_signer(other.private_pem);
    auto token = other_signer.sign(join_claims());

    // Its header names a key we do not hold.
    EXPECT_EQ(verifier.verify(token, TokenType::join, now).error, TokenError::unknown_key);

    // Without a key id (as before key rotation existed), every key is tried.
    jwt_t* raw = nullptr;
    ASSERT_EQ(jwt_new(&raw), 0);
    jwt_add_grant(raw, "iss", "mqchat");
    jwt_add_grant(raw, "sub", "alice");
    jwt_add_grant(raw, "typ", "join");
    jwt_add_grant(raw, "room", "0123456789ab");
    jwt_add_grant_int(raw, "ims", now * 1000);
    jwt_add_grant_int(raw, "exp", now + 3600);
    const auto* key = reinterpret_cast<const unsigned char*>(other.private_pem.data());
    ASSERT_EQ(jwt_set_alg(raw, JWT_ALG_ES256, key, static_cast<int>(other.private_pem.size())), 0);
    char* encoded = jwt_encode_str(raw);
    jwt_free(raw);
    ASSERT_NE(encoded, nullptr);
    const std::string no_kid(encoded);
    std::free(encoded);
    EXPECT_EQ(verifier.verify(no_kid, TokenType::join, now).error, TokenError::bad_signature);
}

TEST_F(TokenTest, RejectsAlgNone)
{
    std::string header = base64url(R"({"alg":"none","typ":"JWT"})");
    std::string payload = base64url(
        R"({"iss":"mqchat","sub":"alice","typ":"join","room":"0123456789ab",)"
        R"("iat":1800000000,"ims":1800000000000,"exp":1800003600})");

    for (const std::string& token : {header + "." + payload + ".", header + "." + payload}) {
        EXPECT_NE(verifier.verify(token, TokenType::join, now).error, TokenError::ok) << token;
    }
}

TEST_F(TokenTest, RejectsHmacKeyedWithThePublicKey)
{
    // The classic confusion attack: sign with HS256 using the public PEM as
    // the shared secret, hoping the verifier uses the algorithm from the token.
    jwt_t* jwt = nullptr;
    ASSERT_EQ(jwt_new(&jwt), 0);
    jwt_add_grant(jwt, "iss", "mqchat");
    jwt_add_grant(jwt, "sub", "alice");
    jwt_add_grant(jwt, "typ", "join");
    jwt_add_grant(jwt, "room", "0123456789ab");
    jwt_add_grant_int(jwt, "ims", now * 1000);
    jwt_add_grant_int(jwt, "exp", now + 3600);
    const auto* key = reinterpret_cast<const unsigned char*>(keys.public_pem.data());
    ASSERT_EQ(jwt_set_alg(jwt, JWT_ALG_HS256, key, static_cast<int>(keys.public_pem.size())), 0);
    char* encoded = jwt_encode_str(jwt);
    ASSERT_NE(encoded, nullptr);
    std::string token(encoded);
    std::free(encoded);
    jwt_free(jwt);

    auto error = verifier.verify(token, TokenType::join, now).error;
    EXPECT_NE(error, TokenError::ok);
}

TEST_F(TokenTest, RejectsSessionTokenWhereJoinTokenIsExpected)
{
    auto claims = join_claims();
    claims.type = TokenType::session;
    auto token = signer.sign(claims);

    EXPECT_EQ(verifier.verify(token, TokenType::join, now).error, TokenError::wrong_type);
    EXPECT_EQ(verifier.verify(token, TokenType::session, now).error, TokenError::ok);
}

TEST_F(TokenTest, RejectsGarbage)
{
    for (const char* junk : {"", "abc", "a.b.c", "....", "eyJ.eyJ.x"}) {
        EXPECT_NE(verifier.verify(junk, TokenType::join, now).error, TokenError::ok) << junk;
    }
    EXPECT_NE(verifier.verify(std::string("a\0b", 3), TokenType::join, now).error,
              TokenError::ok);
}

// Key rotation (issue 7): tokens name their key; a verifier holds several.

TEST_F(TokenTest, NamesItsKeyInTheHeader)
{
    const std::string token = signer.sign(join_claims());
    jwt_t* raw = nullptr;
    ASSERT_EQ(jwt_decode(&raw, token.c_str(), nullptr, 0), 0);
    const char* kid = jwt_get_header(raw, "kid");
    ASSERT_NE(kid, nullptr);
    EXPECT_EQ(std::string(kid), mqchat::key_id(keys.public_pem));
    EXPECT_EQ(std::string(kid), signer.current_key_id());
    EXPECT_EQ(mqchat::key_id(keys.private_pem), mqchat::key_id(keys.public_pem));
    EXPECT_EQ(std::string(kid).size(), 16u);
    jwt_free(raw);
}

TEST_F(TokenTest, AcceptsTokensOfEveryKeyItHoldsAndRefusesOthers)
{
    const auto retired = mqchat::test::make_ec_key_pair();
    const auto stranger = mqchat::test::make_ec_key_pair();
    const mqchat::TokenVerifier both({keys.public_pem, retired.public_pem});

    EXPECT_EQ(both.verify(signer.sign(join_claims()), TokenType::join, now).error,
              TokenError::ok);
    const mqchat::TokenSigner old_signer(retired.private_pem);
    EXPECT_EQ(both.verify(old_signer.sign(join_claims()), TokenType::join, now).error,
              TokenError::ok);
    const mqchat::TokenSigner stranger_signer(stranger.private_pem);
    EXPECT_EQ(both.verify(stranger_signer.sign(join_claims()), TokenType::join, now).error,
              TokenError::unknown_key);
    // The single-key verifier refuses the retired key's tokens too.
    EXPECT_EQ(verifier.verify(old_signer.sign(join_claims()), TokenType::join, now).error,
              TokenError::unknown_key);
}

TEST_F(TokenTest, ReplaceSwitchesEveryCopyToTheNewKey)
{
    const auto next = mqchat::test::make_ec_key_pair();
    mqchat::TokenSigner copy = signer;
    signer.replace(next.private_pem);

    EXPECT_EQ(copy.current_key_id(), mqchat::key_id(next.public_pem));
    const mqchat::TokenVerifier next_verifier(next.public_pem);
    EXPECT_EQ(next_verifier.verify(copy.sign(join_claims()), TokenType::join, now).error,
              TokenError::ok);
    EXPECT_THROW(signer.replace("not a key"), std::runtime_error);
    EXPECT_EQ(signer.current_key_id(), mqchat::key_id(next.public_pem));
}

TEST_F(TokenTest, CarriesTheOperatorClaimOnSessionTokensOnly)
{
    TokenClaims claims = join_claims();
    claims.type = TokenType::session;
    EXPECT_FALSE(verifier.verify(signer.sign(claims), TokenType::session, now)
                     .claims.is_operator);
    claims.is_operator = true;
    const auto result = verifier.verify(signer.sign(claims), TokenType::session, now);
    ASSERT_EQ(result.error, TokenError::ok);
    EXPECT_TRUE(result.claims.is_operator);

    TokenClaims join = join_claims();
    join.is_operator = true;
    EXPECT_FALSE(verifier.verify(signer.sign(join), TokenType::join, now).claims.is_operator);
}
