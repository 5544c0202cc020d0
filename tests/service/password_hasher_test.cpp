#include "mqchat/service/password_hasher.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace mqchat::service {
namespace {

using testing::test_argon2;

TEST(PasswordHasher, HashesInArgon2idEncodedForm)
{
    const PasswordHasher hasher(test_argon2);
    const std::string hash = hasher.hash("correct horse");

    EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << hash;
    EXPECT_EQ(hash.find("correct horse"), std::string::npos);
}

TEST(PasswordHasher, VerifiesTheRightPassword)
{
    const PasswordHasher hasher(test_argon2);
    EXPECT_TRUE(hasher.verify(hasher.hash("correct horse"), "correct horse"));
}

TEST(PasswordHasher, RejectsAWrongPassword)
{
    const PasswordHasher hasher(test_argon2);
    const std::string hash = hasher.hash("correct horse");

    EXPECT_FALSE(hasher.verify(hash, "correct horsf"));
    EXPECT_FALSE(hasher.verify(hash, ""));
}

TEST(PasswordHasher, SaltsEveryHash)
{
    const PasswordHasher hasher(test_argon2);
    EXPECT_NE(hasher.hash("same"), hasher.hash("same"));
}

TEST(PasswordHasher, ParsesCostParameters)
{
    const auto params =
        PasswordHasher::parse_params("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->m_cost_kib, 65536u);
    EXPECT_EQ(params->t_cost, 3u);
    EXPECT_EQ(params->parallelism, 4u);
}

TEST(PasswordHasher, RefusesMalformedHashes)
{
    const PasswordHasher hasher(test_argon2);
    EXPECT_FALSE(PasswordHasher::parse_params("$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"));
    EXPECT_FALSE(PasswordHasher::parse_params("$argon2id$v=19$m=,t=1,p=1$x$y"));
    EXPECT_FALSE(PasswordHasher::parse_params("plaintext"));
    EXPECT_FALSE(hasher.verify("plaintext", "plaintext"));
    EXPECT_FALSE(hasher.verify("", ""));
}

TEST(PasswordHasher, RefusesTamperedCostAboveBounds)
{
    const PasswordHasher hasher(test_argon2, {.t_cost = 4, .m_cost_kib = 4096, .parallelism = 2});
    std::string hash = hasher.hash("pw");

    // Raising m in the stored string must be refused before libargon2 allocates it.
    std::string huge = hash;
    huge.replace(huge.find("m=1024"), 6, "m=4194304");
    EXPECT_FALSE(hasher.verify(huge, "pw"));

    std::string many_passes = hash;
    many_passes.replace(many_passes.find("t=1"), 3, "t=99999");
    EXPECT_FALSE(hasher.verify(many_passes, "pw"));

    std::string many_lanes = hash;
    many_lanes.replace(many_lanes.find("p=1"), 3, "p=255");
    EXPECT_FALSE(hasher.verify(many_lanes, "pw"));

    // The untouched hash still verifies.
    EXPECT_TRUE(hasher.verify(hash, "pw"));
}

}  // namespace
}  // namespace mqchat::service
