// Driver for bench/stats_check: reads one JSON request per line on stdin, answers one JSON
// line on stdout, so a Python script can hold src/stats against live SciPy and scikit-learn.
//
//   {"op": "ks", "a": [...], "b": [...]}           -> {"statistic": .., "p_value": .., "exact": ..}
//   {"op": "wasserstein" | "wasserstein_norm" | "psi" | "jensenshannon" | "chisquare", "a", "b"}
//   {"op": "psi" | "jensenshannon" | "chisquare", "categories": true, "a": [str], "b": [str]}
//   {"op": "drift", "a", "b", "method": "auto" | name}   numbers, null for NaN, "inf" strings
//   {"op": "kstwo", "d": .., "n": ..}  {"op": "smirnov", "n": .., "d": ..}
//   {"op": "metric", "name": "auc", "y": [...], "p": [...]}
// Failures answer {"error": "..."}.
#include <cmath>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "stats/distance.hpp"
#include "stats/drift.hpp"
#include "stats/kolmogorov.hpp"
#include "stats/ks.hpp"
#include "stats/metrics.hpp"
#include "stats/numeric.hpp"

using namespace mloop::stats;
using nlohmann::json;

namespace {

double number(const json& v) {
    if (v.is_null()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (v.is_string()) {
        const auto s = v.get<std::string>();
        return s == "inf" ? INFINITY : s == "-inf" ? -INFINITY : NAN;
    }
    return v.get<double>();
}

std::vector<double> numbers(const json& a) {
    std::vector<double> out;
    out.reserve(a.size());
    for (const auto& v : a) {
        out.push_back(number(v));
    }
    return out;
}

json out_number(double x) {
    if (std::isnan(x)) {
        return "nan";
    }
    if (std::isinf(x)) {
        return x > 0 ? "inf" : "-inf";
    }
    return x;
}

json answer(const json& req) {
    const auto op = req.at("op").get<std::string>();
    if (op == "kstwo") {
        return {
            {"sf", out_number(kstwo_sf(req.at("d").get<double>(), req.at("n").get<int64_t>()))}};
    }
    if (op == "smirnov") {
        return {
            {"sf", out_number(smirnov_sf(req.at("n").get<int64_t>(), req.at("d").get<double>()))}};
    }
    if (op == "metric") {
        const auto m = parse_metric(req.at("name").get<std::string>());
        if (!m) {
            return {{"error", "unknown metric"}};
        }
        auto r = compute_metric(*m, numbers(req.at("y")), numbers(req.at("p")));
        if (!r) {
            return {{"error", r.error()}};
        }
        return {{"value", out_number(*r)}};
    }
    if (req.value("categories", false)) {
        const auto sa = req.at("a").get<std::vector<std::string>>();
        const auto sb = req.at("b").get<std::vector<std::string>>();
        const std::vector<std::string_view> a(sa.begin(), sa.end());
        const std::vector<std::string_view> b(sb.begin(), sb.end());
        const Bins bins = bin_categories(a, b);
        if (op == "psi") {
            return {{"value", out_number(psi(bins))}};
        }
        if (op == "jensenshannon") {
            return {{"value", out_number(jensenshannon(bins))}};
        }
        if (op == "chisquare") {
            auto chi = chisquare(bins);
            if (!chi) {
                return {{"error", chi.error()}};
            }
            return {{"statistic", out_number(chi->statistic)},
                    {"p_value", out_number(chi->p_value)}};
        }
        if (op == "drift") {
            DriftOptions o;
            o.method = parse_method(req.value("method", std::string("auto")));
            auto d = categorical_drift(a, b, o);
            if (!d) {
                return {{"error", d.error()}};
            }
            return {{"method", method_name(d->method)},
                    {"score", out_number(d->score)},
                    {"drifted", d->drifted},
                    {"notes", d->notes}};
        }
        return {{"error", "unknown op"}};
    }
    auto a = numbers(req.at("a"));
    auto b = numbers(req.at("b"));
    if (op == "drift") {
        DriftOptions o;
        o.method = parse_method(req.value("method", std::string("auto")));
        auto d = numeric_drift(a, b, o);
        if (!d) {
            return {{"error", d.error()}};
        }
        json j = {{"method", method_name(d->method)},
                  {"score", out_number(d->score)},
                  {"statistic", out_number(d->statistic)},
                  {"drifted", d->drifted},
                  {"notes", d->notes}};
        if (d->p_value) {
            j["p_value"] = out_number(*d->p_value);
        }
        return j;
    }
    if (op == "ks") {
        auto r = ks_2samp(a, b);
        if (!r) {
            return {{"error", r.error()}};
        }
        return {{"statistic", out_number(r->statistic)},
                {"p_value", out_number(r->p_value)},
                {"exact", r->exact}};
    }
    sort_doubles(a);
    sort_doubles(b);
    if (op == "wasserstein") {
        return {{"value", out_number(wasserstein_sorted(a, b))}};
    }
    if (op == "wasserstein_norm") {
        return {{"value", out_number(wasserstein_norm_sorted(a, b))}};
    }
    if (op == "psi") {
        return {{"value", out_number(psi(bin_numeric(a, b)))}};
    }
    if (op == "jensenshannon") {
        return {{"value", out_number(jensenshannon(bin_numeric(a, b)))}};
    }
    if (op == "chisquare") {
        auto chi = chisquare(bin_values(a, b));
        if (!chi) {
            return {{"error", chi.error()}};
        }
        return {{"statistic", out_number(chi->statistic)}, {"p_value", out_number(chi->p_value)}};
    }
    return {{"error", "unknown op"}};
}

}  // namespace

int main() {
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) {
            continue;
        }
        json out;
        try {
            out = answer(json::parse(line));
        } catch (const std::exception& e) {
            out = {{"error", std::string("bad request: ") + e.what()}};
        }
        std::cout << out.dump() << '\n' << std::flush;
    }
    return 0;
}
