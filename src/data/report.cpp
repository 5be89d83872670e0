#include "data/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "data/value.hpp"

namespace mloop::data {

using nlohmann::ordered_json;

const char* verdict_name(Verdict v) {
    switch (v) {
        case Verdict::warn:
            return "warn";
        case Verdict::fail:
            return "fail";
        case Verdict::pass:
            break;
    }
    return "pass";
}

namespace {

Verdict verdict_from(const std::string& s) {
    return s == "fail" ? Verdict::fail : s == "warn" ? Verdict::warn : Verdict::pass;
}

}  // namespace

std::string DataProblem::location() const {
    std::string s = file;
    if (row > 0) {
        s += fmt::format(":{}", row);
        if (column > 0) {
            s += fmt::format(":{}", column);
        }
    }
    return s;
}

std::string DataProblem::text() const {
    std::string s = message;
    if (!column_name.empty()) {
        s = fmt::format("column {}: {}", display_value(column_name, 60), s);
    }
    return s;
}

size_t Report::failures() const {
    size_t n = problem ? 1 : 0;
    for (const auto& e : expectations) {
        n += e.verdict == Verdict::fail;
    }
    return n;
}

size_t Report::warnings() const {
    size_t n = 0;
    for (const auto& e : expectations) {
        n += e.verdict == Verdict::warn;
    }
    return n;
}

ordered_json to_json(const Report& r) {
    ordered_json exps = ordered_json::array();
    for (const auto& e : r.expectations) {
        ordered_json samples = ordered_json::array();
        for (const auto& s : e.samples) {
            ordered_json js;
            if (!s.file.empty()) {
                js["file"] = s.file;
            }
            js["row"] = s.row;
            js["value"] = s.value;
            samples.push_back(std::move(js));
        }
        exps.push_back({{"kind", e.kind},
                        {"column", e.column},
                        {"expected", e.expected},
                        {"checked", e.checked},
                        {"failed", e.failed},
                        {"fraction", e.fraction()},
                        {"allowed", e.allowed},
                        {"verdict", verdict_name(e.verdict)},
                        {"samples", std::move(samples)}});
    }
    ordered_json unique = ordered_json::array();
    for (const auto& u : r.unique) {
        unique.push_back({{"column", u.column}, {"values", u.values}, {"bytes", u.bytes}});
    }
    ordered_json j = {{"dataset", r.dataset},
                      {"path", r.path},
                      {"format", r.format},
                      {"digest", r.digest},
                      {"schema_digest", r.schema_digest},
                      {"passed", r.passed},
                      {"cached", r.cached},
                      {"rows", r.rows},
                      {"bytes", r.bytes},
                      {"threads", r.threads},
                      {"seconds", r.seconds},
                      {"validated_at", r.validated_at}};
    if (!r.files.empty()) {
        j["files"] = r.files;
    }
    if (r.problem) {
        const DataProblem& p = *r.problem;
        ordered_json jp = {{"file", p.file},
                           {"row", p.row},
                           {"column", p.column},
                           {"column_name", p.column_name},
                           {"message", p.message}};
        if (!p.hint.empty()) {
            jp["hint"] = p.hint;
        }
        j["error"] = std::move(jp);
    }
    j["expectations"] = std::move(exps);
    j["unique"] = std::move(unique);
    return j;
}

Report report_from_json(const ordered_json& j) {
    Report r;
    r.dataset = j.at("dataset").get<std::string>();
    r.path = j.at("path").get<std::string>();
    r.format = j.at("format").get<std::string>();
    r.digest = j.at("digest").get<std::string>();
    r.schema_digest = j.at("schema_digest").get<std::string>();
    r.passed = j.at("passed").get<bool>();
    r.rows = j.at("rows").get<uint64_t>();
    r.bytes = j.at("bytes").get<uint64_t>();
    r.threads = j.at("threads").get<unsigned>();
    r.seconds = j.at("seconds").get<double>();
    r.validated_at = j.value("validated_at", int64_t{0});
    if (j.contains("files")) {
        r.files = j.at("files").get<std::vector<std::string>>();
    }
    if (j.contains("error")) {
        const auto& jp = j.at("error");
        DataProblem p;
        p.file = jp.at("file").get<std::string>();
        p.row = jp.at("row").get<uint64_t>();
        p.column = jp.at("column").get<uint64_t>();
        p.column_name = jp.at("column_name").get<std::string>();
        p.message = jp.at("message").get<std::string>();
        p.hint = jp.value("hint", std::string{});
        r.problem = std::move(p);
    }
    for (const auto& je : j.at("expectations")) {
        Expectation e;
        e.kind = je.at("kind").get<std::string>();
        e.column = je.at("column").get<std::string>();
        e.expected = je.at("expected").get<std::string>();
        e.checked = je.at("checked").get<uint64_t>();
        e.failed = je.at("failed").get<uint64_t>();
        e.allowed = je.at("allowed").get<double>();
        e.verdict = verdict_from(je.at("verdict").get<std::string>());
        for (const auto& js : je.at("samples")) {
            Sample s;
            s.file = js.value("file", std::string{});
            s.row = js.at("row").get<uint64_t>();
            s.value = js.at("value").get<std::string>();
            e.samples.push_back(std::move(s));
        }
        r.expectations.push_back(std::move(e));
    }
    for (const auto& ju : j.at("unique")) {
        r.unique.push_back({ju.at("column").get<std::string>(), ju.at("values").get<uint64_t>(),
                            ju.at("bytes").get<uint64_t>()});
    }
    return r;
}

}  // namespace mloop::data
