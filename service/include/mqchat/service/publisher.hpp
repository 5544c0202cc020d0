// The room manager's side effects on MQTT, behind an interface so the
// request logic can be tested with a fake.
#pragma once

#include <string>

namespace mqchat::service {

class Publisher {
public:
    virtual ~Publisher() = default;

    // Publishes at QoS 1. Must not throw; failures are the implementation's
    // to log. Called from worker threads, possibly several at once.
    virtual void publish(const std::string& topic, const std::string& payload,
                         bool retained) = 0;
};

}  // namespace mqchat::service
