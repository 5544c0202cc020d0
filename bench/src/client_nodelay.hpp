// TCP_NODELAY on the benchmark's own Paho connections, as the client
// library and the room manager set it on theirs (mqchat/tcp_nodelay.hpp).
// On by default, so the bare Paho clients of the benchmark behave like
// mqchat's clients; --client-nagle leaves Nagle on, as every Paho client
// was before (docs/benchmarks.md, finding 2).
#pragma once

#include <string>

namespace mqchat::bench {

// Call before any connection is opened. Not thread-safe against
// apply_client_nodelay().
void set_client_nodelay(bool on);

[[nodiscard]] bool client_nodelay();

// After connects to `broker` succeeded: sets TCP_NODELAY on every socket
// of this process connected to it, when switched on. Thread-safe.
void apply_client_nodelay(const std::string& broker);

}  // namespace mqchat::bench
