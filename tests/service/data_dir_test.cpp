#include "mqchat/service/data_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "mqchat/token.hpp"
#include "test_support.hpp"

namespace mqchat::service {
namespace {

unsigned mode_of(const std::filesystem::path& path)
{
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info.st_mode & 0777;
}

std::string read(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(DataDir, CreatesKeysAndSecretWithPrivateModes)
{
    testing::TempDir tmp;
    const auto files = ensure_data_dir(tmp.path() / "data");

    EXPECT_EQ(mode_of(files.dir), 0700u);
    EXPECT_EQ(mode_of(files.signing_key), 0600u);
    EXPECT_EQ(mode_of(files.service_secret), 0600u);
    EXPECT_TRUE(read(files.signing_key).starts_with("-----BEGIN PRIVATE KEY-----"));
    EXPECT_TRUE(read(files.public_key).starts_with("-----BEGIN PUBLIC KEY-----"));

    const std::string secret = read_service_secret(files.service_secret);
    EXPECT_EQ(secret.size(), 64u);
    EXPECT_EQ(secret.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(DataDir, KeepsExistingFiles)
{
    testing::TempDir tmp;
    const auto first = ensure_data_dir(tmp.path());
    const std::string key = read(first.signing_key);
    const std::string secret = read(first.service_secret);

    const auto second = ensure_data_dir(tmp.path());
    EXPECT_EQ(read(second.signing_key), key);
    EXPECT_EQ(read(second.service_secret), secret);
}

TEST(DataDir, GeneratedKeySignsTokensThePublicHalfVerifies)
{
    testing::TempDir tmp;
    const auto files = ensure_data_dir(tmp.path());
    const auto signer = TokenSigner::from_pem_file(files.signing_key.string());
    const auto verifier = TokenVerifier::from_pem_file(files.public_key.string());

    TokenClaims claims;
    claims.user = "alice";
    claims.issued_ms = now_millis();
    claims.expires_s = now_seconds() + 60;
    const auto checked = verifier.verify(signer.sign(claims), TokenType::session, now_seconds());
    EXPECT_EQ(checked.error, TokenError::ok);
    EXPECT_EQ(checked.claims.user, "alice");
}

}  // namespace
}  // namespace mqchat::service
