// Rotating the room manager's signing key, and noticing a rotation while
// running.
//
// rotate_signing_key() makes a new ES256 key pair in the data folder and
// keeps the old public key in public-keys/ so the plugin still accepts the
// tokens it signed until they expire. The running room manager notices the
// new private key (SigningKeyWatcher), tells the plugin to re-read its keys
// and signs with the new one from then on. No restart is needed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mqchat/service/data_dir.hpp"
#include "mqchat/token.hpp"

namespace mqchat::service {

struct RotationResult {
    std::string new_key_id;
    std::string old_key_id;
    std::vector<std::string> removed;  // public keys no longer accepted
};

// Makes a new signing key pair in `files`. The old public key goes to
// files.public_keys as <key id>.pem, recorded in retired.json with `now_s`;
// previously retired keys older than `keep` are removed. With
// `retire_previous` (a leaked key), the old key and every retired one are
// removed at once, so every token signed before is refused from the
// plugin's next key reload on. Files are replaced by rename, public halves
// before the private one, so a reader never sees a private key whose
// public half is unknown. Throws std::runtime_error; on failure before the
// final renames the current key stays in use.
RotationResult rotate_signing_key(const DataDirFiles& files, std::chrono::seconds keep,
                                  bool retire_previous, std::int64_t now_s);

// Re-reads the private key file on check() and, when it holds another key
// than `signer` signs with, calls `before_switch` (which tells the plugin
// to reload its public keys) and then switches `signer` to it.
// Thread safety: check() from one thread at a time; `signer` may be used by
// other threads meanwhile (TokenSigner::replace is thread-safe).
class SigningKeyWatcher {
public:
    SigningKeyWatcher(std::string private_key_path, TokenSigner& signer,
                      std::function<void()> before_switch);

    // Returns true when it switched to a new key. Never throws: an
    // unreadable file is logged once and the current key kept.
    bool check();

private:
    std::string path_;
    TokenSigner& signer_;
    std::function<void()> before_switch_;
    bool warned_ = false;
};

}  // namespace mqchat::service
