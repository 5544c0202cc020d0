// forge_token: prints a session or join token signed with any EC P-256
// private key, for tests that attack the broker with tokens the room manager
// would never issue (expired, for another user or room, from another key).
//
//   forge_token --key data/signing-key.pem --type join --user bob
//       --room 3f9a0c61d2b4 --expires-in -60
#include <CLI/CLI.hpp>

#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "mqchat/token.hpp"

int main(int argc, char** argv)
{
    CLI::App app{"forge_token: print a JWT signed with the given EC P-256 private key"};
    std::string key_path;
    std::string type = "session";
    std::string user;
    std::string room;
    std::int64_t expires_in = 3600;
    std::optional<std::int64_t> issued_ms;
    app.add_option("--key", key_path, "private key PEM file")->required()->check(CLI::ExistingFile);
    app.add_option("--type", type, "token type")->check(CLI::IsMember({"join", "session"}));
    app.add_option("--user", user, "the \"sub\" claim")->required();
    app.add_option("--room", room, "the \"room\" claim (join tokens)");
    app.add_option("--expires-in", expires_in, "seconds from now; negative: already expired");
    app.add_option("--issued-ms", issued_ms, "the \"ims\" claim [now]");
    CLI11_PARSE(app, argc, argv);

    if (type == "join" && room.empty()) {
        std::cerr << "forge_token: --room is required for a join token\n";
        return 2;
    }
    try {
        mqchat::TokenClaims claims;
        claims.type = type == "join" ? mqchat::TokenType::join : mqchat::TokenType::session;
        claims.user = user;
        claims.room_id = room;
        claims.issued_ms = issued_ms.value_or(mqchat::now_millis());
        claims.expires_s = mqchat::now_seconds() + expires_in;
        std::cout << mqchat::TokenSigner::from_pem_file(key_path).sign(claims) << '\n';
    } catch (const std::exception& e) {
        std::cerr << "forge_token: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
