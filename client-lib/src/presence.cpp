#include "mqchat/client/detail/presence.hpp"

namespace mqchat::client::detail {

std::optional<PresenceEvent> PresenceTracker::update(const PresenceUpdate& update, bool retained)
{
    PresenceEvent event;
    event.room = room_name_;
    event.room_id = room_id_;
    event.user = update.user;
    event.initial = retained;

    auto known = members_.find(update.user);

    // Gone: report it only for someone shown before.
    if (!update.member) {
        if (known == members_.end()) {
            return std::nullopt;
        }
        members_.erase(known);
        event.change = PresenceChange::left;
        return event;
    }

    event.role = update.role;
    event.online = update.online;
    event.since = update.since;
    const auto state_change = update.online ? PresenceChange::online : PresenceChange::offline;

    // New: from the snapshot it is simply there; live it just joined.
    if (known == members_.end()) {
        members_.emplace(update.user, State{update.role, update.online});
        event.change = retained ? state_change : PresenceChange::joined;
        return event;
    }

    // Known: only a flip of the online flag is news.
    const bool flipped = known->second.online != update.online;
    known->second = State{update.role, update.online};
    if (!flipped) {
        return std::nullopt;
    }
    event.change = state_change;
    return event;
}

}  // namespace mqchat::client::detail
