#include "mqchat/service/key_rotation.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mqchat::service {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Written beside `path` and renamed over it, so readers see old or new.
void replace_file(const fs::path& path, const std::string& content)
{
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) {
            throw std::runtime_error("cannot write " + tmp.string());
        }
    }
    fs::rename(tmp, path);
}

json read_retired(const fs::path& path)
{
    if (!fs::exists(path)) {
        return json::object();
    }
    json doc = json::parse(read_text(path), nullptr, false);
    if (!doc.is_object()) {
        throw std::runtime_error(path.string() + " is not a JSON object; fix or remove it");
    }
    return doc;
}

}  // namespace

RotationResult rotate_signing_key(const DataDirFiles& files, std::chrono::seconds keep,
                                  bool retire_previous, std::int64_t now_s)
{
    RotationResult result;
    result.old_key_id = key_id(read_text(files.public_key));

    // 1. The new pair, beside the current one.
    const fs::path new_private = files.signing_key.string() + ".new";
    const fs::path new_public = files.public_key.string() + ".new";
    fs::remove(new_private);
    fs::remove(new_public);
    generate_signing_key(new_private, new_public);
    result.new_key_id = key_id(read_text(new_public));

    // 2. The old public key stays accepted (unless retired at once), then
    //    keys retired longer ago than `keep` go.
    fs::create_directories(files.public_keys);
    const fs::path ledger = files.public_keys / "retired.json";
    json retired = read_retired(ledger);
    if (!retire_previous) {
        replace_file(files.public_keys / (result.old_key_id + ".pem"),
                     read_text(files.public_key));
        retired[result.old_key_id] = now_s;
    } else {
        retired[result.old_key_id] = 0;  // removed below with the rest
    }
    for (auto it = retired.begin(); it != retired.end();) {
        const std::int64_t since = it.value().is_number_integer() ? it.value().get<std::int64_t>()
                                                                  : 0;
        if (retire_previous || since + keep.count() <= now_s) {
            fs::remove(files.public_keys / (it.key() + ".pem"));
            result.removed.push_back(it.key());
            it = retired.erase(it);
        } else {
            ++it;
        }
    }
    replace_file(ledger, retired.dump(2) + "\n");

    // 3. Public half first: a token of the new key must never reach a
    //    plugin that cannot know it.
    fs::rename(new_public, files.public_key);
    fs::rename(new_private, files.signing_key);
    return result;
}

SigningKeyWatcher::SigningKeyWatcher(std::string private_key_path, TokenSigner& signer,
                                     std::function<void()> before_switch)
    : path_(std::move(private_key_path)), signer_(signer),
      before_switch_(std::move(before_switch))
{
}

bool SigningKeyWatcher::check()
{
    try {
        std::string pem = read_text(path_);
        const std::string id = key_id(pem);
        warned_ = false;
        if (id == signer_.current_key_id()) {
            return false;
        }
        const std::string old_id = signer_.current_key_id();
        if (before_switch_) {
            before_switch_();
        }
        signer_.replace(std::move(pem));
        spdlog::info("room_manager: signing key rotated old_kid={} kid={}", old_id, id);
        return true;
    } catch (const std::exception& e) {
        if (!warned_) {
            spdlog::warn("room_manager: cannot read the signing key, keeping the current one "
                         "path={} error={}",
                         path_, e.what());
            warned_ = true;
        }
        return false;
    }
}

}  // namespace mqchat::service
