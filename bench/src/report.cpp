#include "report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace mqchat::bench {

namespace {

using nlohmann::json;

constexpr double fanout_target = 0.90;    // mqchat / plain delivered msg/s
constexpr double latency_target = 1.25;   // mqchat / plain p99, at most
constexpr double rooms_target = 0.90;     // mqchat large / small rooms msg/s
constexpr double joins_target = 0.80;     // joins/s / raw Argon2id hashes/s
constexpr double history_p99_target_ms = 5.0;  // absolute, per query
constexpr double archive_drain_target_s = 1.0;  // done within this after the run
constexpr double storm_target = 2.0;           // p99 during the storm / idle, at most
constexpr double connects_target = 0.5;        // mqchat / plain connects/s, at least
constexpr double connection_memory_target = 2.0;  // mqchat / plain bytes, at most
constexpr double mib = 1024.0 * 1024.0;

json optional_bytes(const std::optional<std::uint64_t>& bytes)
{
    return bytes ? json(*bytes) : json(nullptr);
}

json to_json(const Memory& memory)
{
    return {{"broker_rss_bytes", optional_bytes(memory.broker)},
            {"manager_rss_bytes", optional_bytes(memory.manager)}};
}

bool has_number(const json& object, const char* key)
{
    return object.is_object() && object.contains(key) && object[key].is_number() &&
           std::isfinite(object[key].get<double>());
}

// (later - earlier) / count for one process of two memory snapshots.
json per_membership(const json& earlier, const json& later, const char* key, double count)
{
    if (!has_number(earlier, key) || !has_number(later, key) || count <= 0) {
        return nullptr;
    }
    return (later[key].get<double>() - earlier[key].get<double>()) / count;
}

// Sets ratio/target/met on `entry` from two numbers, when both are there.
void compare(json& entry, const json& numerator, const json& denominator, const char* key,
             const char* direction, double target)
{
    if (!has_number(numerator, key) || !has_number(denominator, key) ||
        denominator[key].get<double>() <= 0) {
        return;
    }
    const double ratio = numerator[key].get<double>() / denominator[key].get<double>();
    const bool at_least = std::string(direction) == "at_least";
    entry["ratio"] = ratio;
    entry["target"] = {{direction, target}};
    entry["met"] = at_least ? ratio >= target : ratio <= target;
}

void judge_memory(json& scenarios)
{
    if (!scenarios.contains("rooms")) {
        return;
    }
    json memory = json::object();
    for (const char* target : {"plain", "mqchat"}) {
        const json rooms = scenarios["rooms"].value(target, json());
        if (!rooms.is_object()) {
            continue;
        }
        const double added = rooms["large_memberships"].get<double>() -
                             rooms["small_memberships"].get<double>();
        const json& before = rooms["memory"]["small_ready"];
        const json& after = rooms["memory"]["large_ready"];
        memory[target] = {
            {"memberships", rooms["large_memberships"]},
            {"broker_rss_bytes", rooms["memory"]["at_end"]["broker_rss_bytes"]},
            {"manager_rss_bytes", rooms["memory"]["at_end"]["manager_rss_bytes"]},
            {"broker_bytes_per_membership",
             per_membership(before, after, "broker_rss_bytes", added)},
            {"manager_bytes_per_membership",
             per_membership(before, after, "manager_rss_bytes", added)},
        };
    }
    if (memory.contains("plain") && memory.contains("mqchat") &&
        has_number(memory["plain"], "broker_rss_bytes") &&
        has_number(memory["mqchat"], "broker_rss_bytes")) {
        memory["ratio"] = memory["mqchat"]["broker_rss_bytes"].get<double>() /
                          memory["plain"]["broker_rss_bytes"].get<double>();
    }
    scenarios["memory"] = memory;
}

// "archive": history from its own run, the rate from the mqchat fan-out.
// Met when the archive stored every message of the fan-out, was done within
// archive_drain_target_s of the last delivery (no backlog left to work
// off), and both history p99s are under history_p99_target_ms.
void judge_archive(json& scenarios)
{
    if (!scenarios.contains("archive")) {
        return;
    }
    json& archive = scenarios["archive"];
    if (scenarios.contains("fanout") && scenarios["fanout"].contains("mqchat") &&
        scenarios["fanout"]["mqchat"].contains("archive")) {
        archive["rate"] = scenarios["fanout"]["mqchat"]["archive"];
    }
    const json history = archive.value("mqchat", json());
    if (!history.is_object()) {
        return;
    }
    bool met = history["latest"]["p99_ms"].get<double>() < history_p99_target_ms &&
               history["deep"]["p99_ms"].get<double>() < history_p99_target_ms;
    if (archive.contains("rate")) {
        const json& rate = archive["rate"];
        archive["ratio"] = rate["archived_per_s"].get<double>() /
                           std::max(rate["sent_per_s"].get<double>(), 1e-9);
        met = met && rate["archived"] == rate["messages"] &&
              rate["drain_seconds"].get<double>() <= archive_drain_target_s;
    }
    archive["target"] = {{"at_most", history_p99_target_ms}};
    archive["met"] = met;
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

using Row = std::array<std::string, 7>;

std::string number(const json& value, int decimals)
{
    if (!value.is_number()) {
        return "-";
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value.get<double>());
    return text;
}

std::string number_at(const json& object, const char* key, int decimals, double scale = 1.0)
{
    if (!has_number(object, key)) {
        return "-";
    }
    return number(object[key].get<double>() / scale, decimals);
}

std::string target_text(const json& entry)
{
    if (!entry.contains("target")) {
        return "";
    }
    const auto& [direction, value] = *entry["target"].items().begin();
    return (direction == "at_least" ? ">= " : "<= ") + number(value, 2);
}

std::string verdict(const json& entry)
{
    if (!entry.contains("met")) {
        return entry.contains("target") ? "no data" : "";
    }
    return entry["met"].get<bool>() ? "met" : "MISSED";
}

void print_rows(const std::vector<Row>& rows, std::ostream& out)
{
    std::array<std::size_t, 7> width{};
    for (const Row& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
        }
    }
    for (const Row& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            // Text columns left-aligned, numbers right-aligned.
            const std::string pad(width[c] - row[c].size(), ' ');
            line += (c < 2 || c > 4) ? row[c] + pad : pad + row[c];
            line += c + 1 < row.size() ? "  " : "";
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out << line << '\n';
    }
}

// Deliveries that never arrived, per scenario and target, if any.
void print_losses(const json& scenarios, std::ostream& out)
{
    auto check = [&](const std::string& where, const json& traffic) {
        if (traffic.is_object() && traffic.value("lost", 0) > 0) {
            out << "lost: " << where << " " << traffic["lost"] << " of " << traffic["expected"]
                << " deliveries\n";
        }
    };
    const json none;
    for (const char* target : {"plain", "mqchat"}) {
        if (scenarios.contains("fanout")) {
            check(std::string("fan-out ") + target, scenarios["fanout"].value(target, none));
        }
        if (scenarios.contains("latency")) {
            check(std::string("latency ") + target, scenarios["latency"].value(target, none));
        }
        if (scenarios.contains("rooms") && scenarios["rooms"].contains(target)) {
            check(std::string("rooms small ") + target, scenarios["rooms"][target]["small"]);
            check(std::string("rooms large ") + target, scenarios["rooms"][target]["large"]);
        }
    }
}

}  // namespace

json to_json(const TrafficResult& r)
{
    // CPU per delivered message: what a run cost, whoever was the bottleneck.
    auto per_delivery_us = [&](double cpu_s) -> json {
        if (cpu_s < 0 || r.delivered == 0) {
            return nullptr;
        }
        return cpu_s * 1e6 / static_cast<double>(r.delivered);
    };
    return {{"sent", r.sent},
            {"expected", r.expected},
            {"delivered", r.delivered},
            {"lost", r.expected - r.delivered},
            {"seconds", r.seconds},
            {"delivered_per_s", r.delivered_per_s},
            {"max_send_lag_ms", r.max_send_lag_ms},
            {"setup_seconds", r.setup_s},
            {"broker_cpu_us_per_delivery", per_delivery_us(r.broker_cpu_s)},
            {"manager_cpu_us_per_delivery", per_delivery_us(r.manager_cpu_s)},
            {"bench_cpu_us_per_delivery", per_delivery_us(r.bench_cpu_s)}};
}

json to_json(const LatencyResult& r)
{
    json out = to_json(r.traffic);
    out["samples"] = r.latency.samples;
    out["p50_ms"] = r.latency.p50_ms;
    out["p99_ms"] = r.latency.p99_ms;
    out["max_ms"] = r.latency.max_ms;
    return out;
}

json to_json(const RoomsResult& r)
{
    json out = {{"small", to_json(r.small)},
                {"large", to_json(r.large)},
                {"small_memberships", r.small_memberships},
                {"large_memberships", r.large_memberships},
                {"memory",
                 {{"connected", to_json(r.connected)},
                  {"small_ready", to_json(r.small_ready)},
                  {"large_ready", to_json(r.large_ready)},
                  {"at_end", to_json(r.at_end)}}}};
    if (r.small.delivered_per_s > 0) {
        out["large_over_small"] = r.large.delivered_per_s / r.small.delivered_per_s;
    }
    return out;
}

json to_json(const Percentiles& p)
{
    return {{"samples", p.samples}, {"p50_ms", p.p50_ms}, {"p99_ms", p.p99_ms},
            {"max_ms", p.max_ms}};
}

json to_json(const FanoutResult& r)
{
    json out = to_json(r.traffic);
    if (r.archive) {
        const ArchiveRate& a = *r.archive;
        out["archive"] = {{"messages", a.messages},
                          {"archived", a.archived},
                          {"seconds", a.seconds},
                          {"archived_per_s", a.archived_per_s},
                          {"sent_per_s", r.traffic.seconds > 0
                                             ? static_cast<double>(r.traffic.sent) /
                                                   r.traffic.seconds
                                             : 0.0},
                          {"drain_seconds", a.drain_s},
                          {"max_backlog", a.max_backlog},
                          {"backlog_first_half", a.backlog_first_half},
                          {"backlog_second_half", a.backlog_second_half}};
    }
    return out;
}

json to_json(const HistoryResult& r)
{
    return {{"stored", r.stored},
            {"room_messages", r.room_messages},
            {"seed_seconds", r.seed_s},
            {"latest", to_json(r.latest)},
            {"deep", to_json(r.deep)}};
}

json to_json(const StormResult& r)
{
    return {{"logins", r.logins},
            {"seconds", r.seconds},
            {"logins_per_s", r.logins_per_s},
            {"idle", to_json(r.idle)},
            {"storm", to_json(r.storm)},
            {"idle_traffic", to_json(r.idle_traffic)},
            {"storm_traffic", to_json(r.storm_traffic)}};
}

json to_json(const ConnectionsResult& r)
{
    return {{"connections", r.connections},
            {"seconds", r.seconds},
            {"connects_per_s", r.connects_per_s},
            {"before", to_json(r.before)},
            {"after", to_json(r.after)},
            {"broker_bytes_per_connection", r.broker_bytes_per_connection},
            {"manager_bytes_per_connection", r.manager_bytes_per_connection},
            {"open_files_limit", r.open_files_limit}};
}

json to_json(const JoinsResult& r)
{
    return {{"joins", r.joins},
            {"seconds", r.seconds},
            {"joins_per_s", r.joins_per_s},
            {"raw_threads", r.raw_threads},
            {"raw_argon2_per_s", r.raw_per_s},
            {"raw_argon2_single_thread_per_s", r.raw_single_per_s}};
}

void judge(json& scenarios)
{
    const json none;
    auto side = [&](const char* scenario, const char* target) -> json {
        return scenarios.contains(scenario) ? scenarios[scenario].value(target, none) : none;
    };
    if (scenarios.contains("fanout")) {
        compare(scenarios["fanout"], side("fanout", "mqchat"), side("fanout", "plain"),
                "delivered_per_s", "at_least", fanout_target);
    }
    if (scenarios.contains("latency")) {
        compare(scenarios["latency"], side("latency", "mqchat"), side("latency", "plain"),
                "p99_ms", "at_most", latency_target);
    }
    if (scenarios.contains("rooms") && has_number(side("rooms", "mqchat"), "large_over_small")) {
        json& rooms = scenarios["rooms"];
        rooms["ratio"] = rooms["mqchat"]["large_over_small"];
        rooms["target"] = {{"at_least", rooms_target}};
        rooms["met"] = rooms["ratio"].get<double>() >= rooms_target;
    }
    if (scenarios.contains("joins")) {
        json& joins = scenarios["joins"];
        if (joins.contains("mqchat")) {
            json raw = {{"rate", joins["mqchat"]["raw_argon2_per_s"]}};
            json measured = {{"rate", joins["mqchat"]["joins_per_s"]}};
            compare(joins, measured, raw, "rate", "at_least", joins_target);
        }
    }
    judge_memory(scenarios);
    judge_archive(scenarios);
    if (scenarios.contains("storm") && scenarios["storm"].contains("mqchat")) {
        json& storm = scenarios["storm"];
        compare(storm, storm["mqchat"]["storm"], storm["mqchat"]["idle"], "p99_ms", "at_most",
                storm_target);
    }
    if (scenarios.contains("connections")) {
        json& c = scenarios["connections"];
        compare(c, side("connections", "mqchat"), side("connections", "plain"),
                "connects_per_s", "at_least", connects_target);
        json memory = json::object();
        compare(memory, side("connections", "mqchat"), side("connections", "plain"),
                "broker_bytes_per_connection", "at_most", connection_memory_target);
        c["memory"] = memory;
    }
}

bool complete(const json& scenarios, const std::vector<std::string>& wanted)
{
    for (const std::string& name : wanted) {
        if (!scenarios.contains(name) || !scenarios[name].contains("met")) {
            return false;
        }
        // The archive's rate ratio exists only when the fan-out ran too.
        if (!has_number(scenarios[name], "ratio") && name != "archive") {
            return false;
        }
        // Memory per connection may be 0 at small sizes (no ratio): it is
        // complete when both sides measured it.
        if (name == "connections" &&
            (!has_number(scenarios[name].value("plain", json()), "broker_bytes_per_connection") ||
             !has_number(scenarios[name].value("mqchat", json()),
                         "broker_bytes_per_connection"))) {
            return false;
        }
        if (name == "rooms" && (!scenarios.contains("memory") ||
                                !has_number(scenarios["memory"], "ratio"))) {
            return false;
        }
    }
    return true;
}

void print_table(const json& document, std::ostream& out)
{
    const json& s = document["scenarios"];
    const json none;
    auto get = [&](const char* scenario, const char* target) -> json {
        return s.contains(scenario) ? s[scenario].value(target, none) : none;
    };
    auto ratio = [&](const char* scenario) {
        return s.contains(scenario) ? number_at(s[scenario], "ratio", 2) : "-";
    };
    auto judged = [&](const char* scenario) -> const json& {
        return s.contains(scenario) ? s[scenario] : none;
    };

    std::vector<Row> rows;
    rows.push_back({"scenario", "measure", "plain", "mqchat", "ratio", "target", "result"});

    // A row of two numbers and their ratio, untargeted.
    auto side_by_side = [&](const std::string& label, const json& plain, const json& mq,
                            const char* key, int decimals) {
        std::string r = "-";
        if (has_number(plain, key) && has_number(mq, key) && plain[key].get<double>() > 0) {
            r = number(mq[key].get<double>() / plain[key].get<double>(), 2);
        }
        rows.push_back({"", label, number_at(plain, key, decimals), number_at(mq, key, decimals),
                        r, "", ""});
    };

    if (s.contains("fanout")) {
        const std::string receivers = std::to_string(
            document["settings"]["sizes"]["fanout_receivers"].get<std::size_t>());
        rows.push_back({"1 fan-out", "delivered msg/s, 1 -> " + receivers,
                        number_at(get("fanout", "plain"), "delivered_per_s", 0),
                        number_at(get("fanout", "mqchat"), "delivered_per_s", 0), ratio("fanout"),
                        target_text(judged("fanout")), verdict(judged("fanout"))});
        side_by_side("broker CPU us/delivery", get("fanout", "plain"), get("fanout", "mqchat"),
                     "broker_cpu_us_per_delivery", 2);
        side_by_side("bench CPU us/delivery", get("fanout", "plain"), get("fanout", "mqchat"),
                     "bench_cpu_us_per_delivery", 2);
    }
    if (s.contains("latency")) {
        const json plain = get("latency", "plain");
        const json mq = get("latency", "mqchat");
        side_by_side("end-to-end p50 ms", plain, mq, "p50_ms", 2);
        rows.push_back({"2 latency", "end-to-end p99 ms", number_at(plain, "p99_ms", 2),
                        number_at(mq, "p99_ms", 2), ratio("latency"),
                        target_text(judged("latency")), verdict(judged("latency"))});
        side_by_side("end-to-end max ms", plain, mq, "max_ms", 2);
    }
    if (s.contains("rooms")) {
        const json& sizes = document["settings"]["sizes"];
        const std::string small = std::to_string(sizes["rooms_small"].get<std::size_t>());
        const std::string large = std::to_string(sizes["rooms_large"].get<std::size_t>());
        for (const char* phase : {"small", "large"}) {
            const json plain = get("rooms", "plain");
            const json mq = get("rooms", "mqchat");
            const std::string rooms = std::string(phase) == "small" ? small : large;
            side_by_side(rooms + " rooms msg/s", plain.is_object() ? plain[phase] : none,
                         mq.is_object() ? mq[phase] : none, "delivered_per_s", 0);
        }
        side_by_side(large + " rooms: broker CPU us/delivery",
                     get("rooms", "plain").is_object() ? get("rooms", "plain")["large"] : none,
                     get("rooms", "mqchat").is_object() ? get("rooms", "mqchat")["large"] : none,
                     "broker_cpu_us_per_delivery", 2);
        rows.push_back({"3 many rooms", large + " / " + small + " rooms",
                        number_at(get("rooms", "plain"), "large_over_small", 2),
                        number_at(get("rooms", "mqchat"), "large_over_small", 2), ratio("rooms"),
                        target_text(judged("rooms")), verdict(judged("rooms"))});
    }
    if (s.contains("joins")) {
        const json& mq = get("joins", "mqchat");
        const std::string threads = mq.is_object() ? number_at(mq, "raw_threads", 0) : "-";
        rows.push_back({"4 joins", "joins/s vs raw argon2id/s (" + threads + " thr)",
                        number_at(mq, "raw_argon2_per_s", 2), number_at(mq, "joins_per_s", 2),
                        ratio("joins"), target_text(judged("joins")), verdict(judged("joins"))});
    }
    if (s.contains("archive")) {
        const json& a = s["archive"];
        const json rate = a.value("rate", none);
        const json history = a.value("mqchat", none);
        rows.push_back({"5 archive", "msg/s sent in 1 | archived", number_at(rate, "sent_per_s", 0),
                        number_at(rate, "archived_per_s", 0), number_at(a, "ratio", 2),
                        "keeps up", verdict(a)});
        rows.push_back({"", "backlog max, 1st | 2nd half", number_at(rate, "backlog_first_half", 0),
                        number_at(rate, "backlog_second_half", 0), "", "", ""});
        rows.push_back({"", "archive done after last delivery s", "",
                        number_at(rate, "drain_seconds", 2), "", "", ""});
        const std::string stored =
            history.is_object() ? number_at(history, "stored", 0) + " stored" : "";
        for (const char* kind : {"latest", "deep"}) {
            const json part = history.is_object() ? history[kind] : none;
            const std::string back = std::to_string(
                document["settings"]["sizes"]["history_back"].get<std::uint64_t>());
            const std::string what = std::string(kind) == "latest" ? "newest 50" : back + " back";
            rows.push_back({"", "history p50 | p99 ms, " + what, number_at(part, "p50_ms", 2),
                            number_at(part, "p99_ms", 2), "", "< 5 ms", ""});
        }
        rows.push_back({"", "messages in the store", "", stored, "", "", ""});
    }
    if (s.contains("memory")) {
        const json& plain = get("memory", "plain");
        const json& mq = get("memory", "mqchat");
        rows.push_back({"6 memory", "broker RSS MiB at end of 3",
                        number_at(plain, "broker_rss_bytes", 1, mib),
                        number_at(mq, "broker_rss_bytes", 1, mib), ratio("memory"), "", ""});
        rows.push_back({"", "room manager RSS MiB", "", number_at(mq, "manager_rss_bytes", 1, mib),
                        "", "", ""});
        rows.push_back({"", "broker bytes/membership", number_at(plain,
                                                                 "broker_bytes_per_membership", 0),
                        number_at(mq, "broker_bytes_per_membership", 0), "", "", ""});
        rows.push_back({"", "room manager bytes/membership", "",
                        number_at(mq, "manager_bytes_per_membership", 0), "", "", ""});
    }
    if (s.contains("storm")) {
        const json mq = get("storm", "mqchat");
        const json idle = mq.is_object() ? mq["idle"] : none;
        const json storm = mq.is_object() ? mq["storm"] : none;
        rows.push_back({"7 login storm", "msg p99 ms idle | storm", number_at(idle, "p99_ms", 2),
                        number_at(storm, "p99_ms", 2), ratio("storm"),
                        target_text(judged("storm")), verdict(judged("storm"))});
        rows.push_back({"", "msg p50 ms idle | storm", number_at(idle, "p50_ms", 2),
                        number_at(storm, "p50_ms", 2), "", "", ""});
        rows.push_back({"", "logins/s (" + number_at(mq, "logins", 0) + " at once)", "",
                        number_at(mq, "logins_per_s", 2), "", "", ""});
    }
    if (s.contains("connections")) {
        const json plain = get("connections", "plain");
        const json mq = get("connections", "mqchat");
        const json& memory = s["connections"].value("memory", none);
        rows.push_back({"8 connections", "connects/s, " + number_at(mq, "connections", 0) + " idle",
                        number_at(plain, "connects_per_s", 0), number_at(mq, "connects_per_s", 0),
                        ratio("connections"), target_text(judged("connections")),
                        verdict(judged("connections"))});
        rows.push_back({"", "broker bytes/connection", number_at(plain,
                                                                 "broker_bytes_per_connection", 0),
                        number_at(mq, "broker_bytes_per_connection", 0),
                        number_at(memory, "ratio", 2), target_text(memory), verdict(memory)});
        rows.push_back({"", "room manager bytes/connection", "",
                        number_at(mq, "manager_bytes_per_connection", 0), "", "", ""});
    }
    print_rows(rows, out);
    print_losses(s, out);
    for (const auto& error : document["errors"]) {
        out << "error: " << error.get<std::string>() << '\n';
    }
}

}  // namespace mqchat::bench
