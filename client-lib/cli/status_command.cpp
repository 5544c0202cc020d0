#include "status_command.hpp"

#include <chrono>
#include <sstream>

namespace mqchat::cli {
namespace {

using nlohmann::json;

std::string field(const json& doc, const char* name)
{
    auto it = doc.find(name);
    if (it == doc.end() || it->is_null()) {
        return "?";
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string duration(std::int64_t seconds)
{
    std::ostringstream text;
    if (seconds >= 86400) {
        text << seconds / 86400 << "d ";
    }
    if (seconds >= 3600) {
        text << seconds % 86400 / 3600 << "h ";
    }
    if (seconds >= 60) {
        text << seconds % 3600 / 60 << "m ";
    }
    text << seconds % 60 << "s";
    return text.str();
}

std::int64_t number(const json& doc, const char* name)
{
    auto it = doc.find(name);
    return it != doc.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}

}  // namespace

std::string human_status(const json& report, std::int64_t now_ms)
{
    std::ostringstream out;
    const std::int64_t ts = number(report, "ts");
    const std::int64_t uptime = number(report, "uptime_s");
    out << "room manager " << field(report, "version") << " (instance "
        << field(report, "instance") << "): " << field(report, "status") << ", up "
        << (uptime >= 0 ? duration(uptime) : "?") << ", report "
        << (ts >= 0 ? duration(std::max<std::int64_t>(0, (now_ms - ts) / 1000)) : "?")
        << " old\n";
    out << "rooms " << field(report, "rooms") << ", members " << field(report, "members")
        << ", online users " << field(report, "online_users") << "\n";

    out << "requests " << field(report, "requests_total") << ", errors "
        << field(report, "errors_total") << ", joins refused " << field(report, "joins_refused")
        << ", rate limited " << field(report, "rate_limited") << "\n";
    if (auto requests = report.find("requests"); requests != report.end() &&
                                                 requests->is_object()) {
        for (const auto& [op, counts] : requests->items()) {
            out << "  " << op << ": " << field(counts, "requests") << " requests, "
                << field(counts, "errors") << " errors\n";
        }
    }

    const json archive = report.value("archive", json::object());
    const std::int64_t age = number(archive, "last_stored_age_ms");
    out << "archive: " << (archive.value("connected", false) ? "connected" : "NOT connected")
        << ", received " << field(archive, "received") << ", stored "
        << field(archive, "stored") << ", pending " << field(archive, "pending")
        << ", failed " << field(archive, "failed") << ", last stored "
        << (age >= 0 ? duration(age / 1000) + " ago" : std::string("never")) << "\n";

    const json store = report.value("store", json::object());
    out << "store: " << (store.value("ok", false) ? "ok" : "FAILING: " + field(store, "error"))
        << "\n";
    return out.str();
}

int print_status(const std::string& report_text, bool as_json, std::ostream& out)
{
    const json report = json::parse(report_text, nullptr, false);
    if (!report.is_object()) {
        out << "mqchat: the health report is not a JSON object\n";
        return 1;
    }
    if (as_json) {
        out << report.dump() << "\n";
    } else {
        using namespace std::chrono;
        const auto now =
            duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        out << human_status(report, now);
    }
    out << std::flush;
    return report.value("status", "") == "ok" ? 0 : 1;
}

}  // namespace mqchat::cli
