// Driver for bench/stats: times the drift statistics in process on two samples of raw float64
// (little-endian, as numpy's tofile writes them) and prints one JSON line per statistic with
// the median wall time of RUNS runs and the value, for the script to set beside SciPy's.
//
//   bench_stats REFERENCE.f64 CURRENT.f64 [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stats/distance.hpp"
#include "stats/drift.hpp"
#include "stats/ks.hpp"
#include "stats/numeric.hpp"

using namespace mloop::stats;

namespace {

std::vector<double> read_f64(const char* path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        std::cerr << "bench_stats: cannot read " << path << "\n";
        std::exit(2);
    }
    const auto bytes = static_cast<size_t>(in.tellg());
    std::vector<double> v(bytes / sizeof(double));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 8));
    return v;
}

void time(const std::string& name, int runs, const std::function<nlohmann::json()>& f) {
    std::vector<double> ms;
    nlohmann::json value;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        value = f();
        const auto t1 = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    nlohmann::json line = {{"name", name}, {"ms", ms[ms.size() / 2]}, {"min_ms", ms.front()}};
    line["value"] = value;
    std::cout << line.dump() << "\n" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: bench_stats REFERENCE.f64 CURRENT.f64 [RUNS]\n";
        return 2;
    }
    const auto ref = read_f64(argv[1]);
    const auto cur = read_f64(argv[2]);
    const int runs = argc > 3 ? std::stoi(argv[3]) : 7;

    time("ks", runs, [&] {
        auto r = ks_2samp(ref, cur);
        return nlohmann::json{r->statistic, r->p_value};
    });
    // The monitor sorts the reference once per report; current alone is sorted per column.
    std::vector<double> sorted_ref = ref;
    sort_doubles(sorted_ref);
    time("ks_sorted_reference", runs, [&] {
        std::vector<double> c = cur;
        sort_doubles(c);
        auto r = ks_2samp_sorted(sorted_ref, c);
        return nlohmann::json{r.statistic, r.p_value};
    });
    time("psi", runs, [&] { return nlohmann::json(psi(bin_numeric(ref, cur))); });
    time("jensenshannon", runs,
         [&] { return nlohmann::json(jensenshannon(bin_numeric(ref, cur))); });
    time("wasserstein_norm", runs, [&] {
        std::vector<double> a = ref;
        std::vector<double> b = cur;
        sort_doubles(a);
        sort_doubles(b);
        return nlohmann::json(wasserstein_norm_sorted(a, b));
    });
    // The distance's sum alone, on samples already sorted (as the monitor has them).
    std::vector<double> sorted_cur = cur;
    sort_doubles(sorted_cur);
    time("wasserstein_sorted", runs,
         [&] { return nlohmann::json(wasserstein_norm_sorted(sorted_ref, sorted_cur)); });
    time("drift_auto", runs, [&] {
        auto d = numeric_drift(ref, cur);
        return nlohmann::json{method_name(d->method), d->score};
    });
    return 0;
}
