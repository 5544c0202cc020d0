// Throwaway EC P-256 key pairs for unit tests, made with OpenSSL at run time
// so no key material is ever committed.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace mqchat::test {

struct KeyPair {
    std::string private_pem;
    std::string public_pem;
};

inline std::string bio_to_string(BIO* bio)
{
    char* data = nullptr;
    long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

inline KeyPair make_ec_key_pair()
{
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) {
        throw std::runtime_error("EVP_EC_gen failed");
    }
    std::unique_ptr<BIO, decltype(&BIO_free)> priv(BIO_new(BIO_s_mem()), BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> pub(BIO_new(BIO_s_mem()), BIO_free);
    if (PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1) {
        throw std::runtime_error("PEM export failed");
    }
    return {bio_to_string(priv.get()), bio_to_string(pub.get())};
}

}  // namespace mqchat::test
