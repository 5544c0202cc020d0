// Optionally disables Nagle's algorithm on the TCP connections the
// benchmark's clients open (--client-nodelay).
//
// Paho C (1.3.12, Debian 12) never sets TCP_NODELAY and has no option to,
// so the client library cannot either. To show what that costs, this file
// defines connect(): the executable's definition takes precedence over
// libc's for every library in the process (the target exports its
// symbols), sets TCP_NODELAY on TCP sockets when switched on, and calls
// the real connect(). Off by default: the benchmark measures what the
// project ships.
#pragma once

namespace mqchat::bench {

// Call before any connection is opened.
void set_client_nodelay(bool on);

[[nodiscard]] bool client_nodelay();

}  // namespace mqchat::bench
