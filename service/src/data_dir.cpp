#include "mqchat/service/data_dir.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace mqchat::service {

namespace {

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::string bio_contents(BIO* bio)
{
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(length));
}

// Creates `path` exclusively with `mode` and writes `content`.
void write_new_file(const std::filesystem::path& path, const std::string& content, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + path.string() + ": " +
                                 std::strerror(errno));
    }
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string() + ": " +
                                     std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    // The umask may have narrowed the mode; make it exact.
    ::fchmod(fd, mode);
    if (::close(fd) != 0) {
        throw std::runtime_error("cannot close " + path.string());
    }
}

}  // namespace

DataDirFiles data_dir_files(const std::filesystem::path& dir)
{
    return {dir, dir / "signing-key.pem", dir / "signing-key.pub.pem", dir / "service-secret",
            dir / "mqchat.db", dir / "public-keys"};
}

void generate_signing_key(const std::filesystem::path& private_pem,
                          const std::filesystem::path& public_pem)
{
    std::unique_ptr<EVP_PKEY, KeyDeleter> key(EVP_EC_gen("P-256"));
    if (!key) {
        throw std::runtime_error("EC P-256 key generation failed");
    }

    std::unique_ptr<BIO, BioDeleter> priv(BIO_new(BIO_s_mem()));
    std::unique_ptr<BIO, BioDeleter> pub(BIO_new(BIO_s_mem()));
    // PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY").
    if (!priv || !pub ||
        PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr,
                                 nullptr) != 1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
        throw std::runtime_error("cannot encode the signing key as PEM");
    }

    write_new_file(private_pem, bio_contents(priv.get()), 0600);
    write_new_file(public_pem, bio_contents(pub.get()), 0644);
}

void generate_service_secret(const std::filesystem::path& path)
{
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string secret;
    for (unsigned char b : bytes) {
        secret += hex[b >> 4];
        secret += hex[b & 0x0f];
    }
    write_new_file(path, secret, 0600);
}

std::string read_service_secret(const std::filesystem::path& path)
{
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string secret = buffer.str();
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
        secret.pop_back();
    }
    if (secret.empty()) {
        throw std::runtime_error(path.string() + " is empty");
    }
    return secret;
}

DataDirFiles ensure_data_dir(const std::filesystem::path& dir)
{
    // Keys, the service secret and the password hashes live here: owner only.
    std::filesystem::create_directories(dir);
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    const DataDirFiles files = data_dir_files(dir);

    // The pair is generated together; a lone half means someone else's mistake.
    const bool have_private = std::filesystem::exists(files.signing_key);
    const bool have_public = std::filesystem::exists(files.public_key);
    if (!have_private && !have_public) {
        generate_signing_key(files.signing_key, files.public_key);
    } else if (have_private != have_public) {
        throw std::runtime_error("only one half of the signing key pair exists in " +
                                 dir.string() + "; remove it or restore the other half");
    }

    if (!std::filesystem::exists(files.service_secret)) {
        generate_service_secret(files.service_secret);
    }
    return files;
}

}  // namespace mqchat::service
