#include "mqchat/names.hpp"

#include <cstdint>

namespace mqchat {

bool is_valid_utf8(std::string_view text)
{
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        auto byte = static_cast<std::uint8_t>(text[i]);
        if (byte == 0) {
            return false;
        }
        if (byte < 0x80) {
            ++i;
            continue;
        }

        // Lead byte: how many continuation bytes, and the smallest code point
        // that may use this length (anything smaller is an overlong form).
        int extra = 0;
        std::uint32_t cp = 0;
        std::uint32_t min = 0;
        if ((byte & 0xE0) == 0xC0) {
            extra = 1, cp = byte & 0x1F, min = 0x80;
        } else if ((byte & 0xF0) == 0xE0) {
            extra = 2, cp = byte & 0x0F, min = 0x800;
        } else if ((byte & 0xF8) == 0xF0) {
            extra = 3, cp = byte & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + extra >= n) {
            return false;
        }
        for (int k = 1; k <= extra; ++k) {
            auto next = static_cast<std::uint8_t>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (next & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

ErrorCode check_user_name(std::string_view name)
{
    if (name.empty() || name.size() > limits::max_user_name) {
        return ErrorCode::invalid_name;
    }
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(name.front())) {
        return ErrorCode::invalid_name;
    }
    for (char c : name) {
        if (!alnum(c) && c != '_' && c != '.' && c != '-') {
            return ErrorCode::invalid_name;
        }
    }
    return ErrorCode::ok;
}

ErrorCode check_room_name(std::string_view name)
{
    if (name.empty() || name.size() > limits::max_room_name) {
        return ErrorCode::invalid_name;
    }
    if (!is_valid_utf8(name)) {
        return ErrorCode::invalid_utf8;
    }
    if (name.front() == ' ' || name.back() == ' ') {
        return ErrorCode::invalid_name;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<std::uint8_t>(name[i]);
        if (c < 0x20 || c == 0x7F || c == '/' || c == '+' || c == '#' || c == '$') {
            return ErrorCode::invalid_name;
        }
        // C1 controls U+0080..U+009F are encoded as C2 80..C2 9F.
        if (c == 0xC2 && i + 1 < name.size()) {
            auto next = static_cast<std::uint8_t>(name[i + 1]);
            if (next >= 0x80 && next <= 0x9F) {
                return ErrorCode::invalid_name;
            }
        }
    }
    return ErrorCode::ok;
}

bool is_room_id(std::string_view id)
{
    if (id.size() != 12) {
        return false;
    }
    for (char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

ErrorCode check_password(std::string_view password)
{
    if (password.empty() || password.size() > limits::max_password) {
        return ErrorCode::weak_password;
    }
    if (!is_valid_utf8(password)) {
        return ErrorCode::invalid_utf8;
    }
    return ErrorCode::ok;
}

bool is_safe_topic_level(std::string_view level)
{
    if (level.empty() || level.size() > 128 || !is_valid_utf8(level)) {
        return false;
    }
    for (char ch : level) {
        auto c = static_cast<std::uint8_t>(ch);
        if (c < 0x20 || c == 0x7F || ch == '/' || ch == '+' || ch == '#' || ch == '$') {
            return false;
        }
    }
    return true;
}

}  // namespace mqchat
