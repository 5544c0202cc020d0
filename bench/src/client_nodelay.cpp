#include "client_nodelay.hpp"

#include <atomic>

#include "mqchat/tcp_nodelay.hpp"

namespace mqchat::bench {

namespace {

std::atomic<bool> nodelay{true};

}  // namespace

void set_client_nodelay(bool on)
{
    nodelay = on;
}

bool client_nodelay()
{
    return nodelay;
}

void apply_client_nodelay(const std::string& broker)
{
    if (nodelay) {
        (void)set_tcp_nodelay_to(broker);
    }
}

}  // namespace mqchat::bench
