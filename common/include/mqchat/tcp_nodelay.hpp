// Turns off Nagle's algorithm on this process's connections to an MQTT
// broker, which Paho C 1.3 neither does nor offers a hook for.
//
// Why: an MQTT client both acknowledges and sends. Under Nagle a small
// PUBLISH that follows a PUBACK waits until the broker's delayed TCP ACK
// (up to 40 ms on Linux), which made every chat message 25-45 ms late on
// loopback (docs/benchmarks.md, finding 2). The broker already sets
// TCP_NODELAY (mosquitto.conf.in: set_tcp_nodelay true).
//
// How: Paho keeps its socket to itself, so this looks for it. It walks
// /proc/self/fd and sets TCP_NODELAY on every TCP socket whose peer port is
// the broker's (and whose peer address is the broker's, when the URI names
// it by number). Call it right after a connect succeeds, and again after
// every automatic reconnect (Paho makes a new socket each time), e.g. from
// the connected handler.
//
// Known limits, all harmless: other sockets of the process connected to
// the same port (another client of the same broker, say) get TCP_NODELAY
// too; with a host name instead of an address, any peer on that port
// matches (no name lookup here, so it never blocks); without /proc (not
// Linux) nothing happens. A socket closed and its number reused by another
// thread in between is checked again just before the option is set, and
// setting TCP_NODELAY cannot break a TCP socket.
#pragma once

#include <cstddef>
#include <string_view>

namespace mqchat {

// `server_uri` as given to Paho: tcp://, mqtt://, ssl://, mqtts://, ws://
// or wss://host:port[/path]; IPv6 hosts in brackets. Returns how many
// sockets now have TCP_NODELAY (0 when the URI has no port or nothing
// matched). Never throws. Thread-safe.
std::size_t set_tcp_nodelay_to(std::string_view server_uri) noexcept;

}  // namespace mqchat
