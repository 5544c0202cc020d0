// The room manager's data folder: signing key pair and service secret.
#pragma once

#include <filesystem>
#include <string>

namespace mqchat::service {

struct DataDirFiles {
    std::filesystem::path dir;
    std::filesystem::path signing_key;      // signing-key.pem (PKCS#8, 0600)
    std::filesystem::path public_key;       // signing-key.pub.pem
    std::filesystem::path service_secret;   // service-secret (64 hex, 0600)
    std::filesystem::path database;         // mqchat.db
    // Public keys retired by rotate_signing_key() whose tokens may still be
    // valid (<key id>.pem), and retired.json with when each was retired.
    std::filesystem::path public_keys;      // public-keys/
};

[[nodiscard]] DataDirFiles data_dir_files(const std::filesystem::path& dir);

// Creates the folder and any missing key or secret file; never overwrites an
// existing one. Throws std::runtime_error on any failure.
DataDirFiles ensure_data_dir(const std::filesystem::path& dir);

// Generates an EC P-256 key pair (OpenSSL EVP) and writes the private key
// as PKCS#8 PEM with mode 0600 and the public key as SubjectPublicKeyInfo
// PEM. Fails if either file already exists. Throws std::runtime_error.
void generate_signing_key(const std::filesystem::path& private_pem,
                          const std::filesystem::path& public_pem);

// Writes 64 random hex characters with mode 0600. Throws std::runtime_error.
void generate_service_secret(const std::filesystem::path& path);

// Reads the secret (trailing whitespace removed). Throws std::runtime_error.
[[nodiscard]] std::string read_service_secret(const std::filesystem::path& path);

}  // namespace mqchat::service
