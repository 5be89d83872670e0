#include "train/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "error/error.hpp"
#include "git/git.hpp"
#include "registry/registry.hpp"
#include "train/internal.hpp"

namespace mloop::train {

namespace {

// Uniform in [0, 1) from 53 random bits: the same draws on every platform and library, which
// std::uniform_real_distribution does not promise.
double unit(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

std::string draw(const config::SweepParam& p, std::mt19937_64& rng) {
    if (!p.values.empty()) {
        return p.values[static_cast<size_t>(unit(rng) * static_cast<double>(p.values.size()))].text;
    }
    const double lo = *p.min;
    const double hi = *p.max;
    if (p.range_type == config::Scalar::Type::integer) {
        const auto a = static_cast<int64_t>(std::ceil(lo));
        const auto b = static_cast<int64_t>(std::floor(hi));
        if (p.log) {
            const double x = std::exp(
                std::log(static_cast<double>(a)) +
                unit(rng) * (std::log(static_cast<double>(b)) - std::log(static_cast<double>(a))));
            return std::to_string(std::clamp<int64_t>(std::llround(x), a, b));
        }
        return std::to_string(a + static_cast<int64_t>(unit(rng) * static_cast<double>(b - a + 1)));
    }
    const double x = p.log ? std::exp(std::log(lo) + unit(rng) * (std::log(hi) - std::log(lo)))
                           : lo + unit(rng) * (hi - lo);
    return fmt::format("{:.6g}", x);
}

}  // namespace

std::vector<Trial> plan_trials(const config::Sweep& sweep) {
    std::vector<Trial> out;
    if (sweep.method == config::Sweep::Method::random) {
        std::mt19937_64 rng(static_cast<uint64_t>(sweep.seed));
        for (int i = 0; i < sweep.trials; ++i) {
            Trial t;
            t.index = static_cast<size_t>(i);
            for (const auto& p : sweep.params) {
                t.params.push_back(p.name + "=" + draw(p, rng));
            }
            out.push_back(std::move(t));
        }
        return out;
    }
    // Grid: an odometer over the lists, the last parameter turning fastest.
    std::vector<size_t> at(sweep.params.size(), 0);
    while (true) {
        Trial t;
        t.index = out.size();
        for (size_t i = 0; i < sweep.params.size(); ++i) {
            t.params.push_back(sweep.params[i].name + "=" + sweep.params[i].values[at[i]].text);
        }
        out.push_back(std::move(t));
        size_t i = sweep.params.size();
        while (i > 0) {
            --i;
            if (++at[i] < sweep.params[i].values.size()) {
                break;
            }
            at[i] = 0;
            if (i == 0) {
                return out;
            }
        }
        if (sweep.params.empty()) {
            return out;
        }
    }
}

SweepOutcome run_sweep(Session& s, const SweepOptions& o) {
    const auto& p = s.project;
    if (!p.train || !p.train->sweep) {
        throw error::UsageError(fmt::format("{} has no train.sweep", p.display_file),
                                "add train.sweep with params and an objective");
    }
    const auto& sweep = *p.train->sweep;
    SweepOutcome out;
    out.objective = sweep.objective_metric;
    out.maximize = sweep.maximize;
    const auto trials = plan_trials(sweep);
    const unsigned jobs = std::max(1u, o.jobs > 0 ? o.jobs : static_cast<unsigned>(sweep.parallel));

    // The sweep's own run: its params are the base ones, its trials point at it.
    const auto params = resolve_params(p, o.params);
    const git::State& git = s.git.get();
    registry::RunStart start;
    start.kind = "sweep";
    start.params = params;
    start.git.commit = git.commit;
    start.git.branch = git.branch;
    start.git.dirty = git.dirty;
    start.git.diff_digest = git.diff_digest;
    std::vector<std::string> names;
    for (const auto& sp : sweep.params) {
        names.push_back(sp.name);
    }
    nlohmann::json spec = {
        {"method", sweep.method == config::Sweep::Method::grid ? "grid" : "random"},
        {"trials", trials.size()},
        {"parallel", jobs},
        {"objective", sweep.objective_metric},
        {"goal", sweep.maximize ? "max" : "min"},
        {"params", names}};
    start.command = spec.dump();
    start.message = o.message;
    out.run = s.db().write([&] { return registry::Runs(s.db()).begin(start); });
    s.reporter->note(
        fmt::format("sweep run {}: {} trials, {} at a time", out.run, trials.size(), jobs));

    out.trials.resize(trials.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    std::optional<int> interrupted;
    std::mutex mu;
    auto worker = [&] {
        for (size_t i = next++; i < trials.size() && !stop; i = next++) {
            TrialOutcome& t = out.trials[i];
            t.trial = trials[i];
            process::Command cmd;
            cmd.program = o.self.string();
            cmd.args = o.global_args;
            for (const auto& a : {"--json", "-q", "train"}) {
                cmd.args.emplace_back(a);
            }
            for (const auto& param : o.params) {
                cmd.args.push_back("--param");
                cmd.args.push_back(param);
            }
            for (const auto& param : t.trial.params) {
                cmd.args.push_back("--param");
                cmd.args.push_back(param);
            }
            for (const auto& a : {std::string("--parent"), std::to_string(out.run),
                                  std::string("--kind"), std::string("trial")}) {
                cmd.args.push_back(a);
            }
            cmd.cwd = p.root;
            cmd.grace = std::chrono::seconds(10);  // the trial records its interruption first
            process::RunOptions ro;
            ro.out.capture = true;
            ro.err.capture = true;
            ro.secrets = s.secrets;
            const process::Result r = s.runner->run(cmd, ro);
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(r.out);
            } catch (const nlohmann::json::parse_error&) {
            }
            std::lock_guard lock(mu);
            if (j.is_object() && j.contains("run")) {
                t.run = j["run"].get<int64_t>();
                t.state = j.value("state", "failed");
                if (j.contains("metrics") && j["metrics"].contains(sweep.objective_metric)) {
                    t.objective = j["metrics"][sweep.objective_metric].get<double>();
                }
                if (j.contains("version") && j["version"].is_string()) {
                    t.version = j["version"].get<std::string>();
                }
                if (j.contains("reason")) {
                    t.error = j["reason"].get<std::string>();
                }
            } else {
                t.state = "error";
                t.error = j.is_object() && j.contains("error")
                              ? j["error"].value("message", r.describe())
                              : fmt::format("the trial's mloop {}", r.describe());
            }
            if (r.interrupted_by) {
                interrupted = r.interrupted_by;
                stop = true;
                if (t.state == "succeeded") {
                    t.state = "interrupted";
                }
            }
            s.reporter->note(fmt::format(
                "trial {}/{} ({}): {}{}", i + 1, trials.size(), fmt::join(t.trial.params, ", "),
                t.state,
                t.objective ? fmt::format(", {} {:.6g}", sweep.objective_metric, *t.objective)
                            : (t.error.empty() ? std::string{} : ": " + t.error)));
        }
    };
    std::vector<std::thread> threads;
    for (unsigned k = 1; k < jobs; ++k) {
        threads.emplace_back(worker);
    }
    worker();
    for (auto& th : threads) {
        th.join();
    }

    for (size_t i = 0; i < out.trials.size(); ++i) {
        const auto& t = out.trials[i];
        if (t.state != "succeeded" || !t.objective) {
            continue;
        }
        if (!out.best || (sweep.maximize ? *t.objective > *out.trials[*out.best].objective
                                         : *t.objective < *out.trials[*out.best].objective)) {
            out.best = i;
        }
    }
    registry::RunEnd end;
    end.state = interrupted ? "interrupted" : out.best ? "succeeded" : "failed";
    if (out.best) {
        end.metrics.push_back({sweep.objective_metric, *out.trials[*out.best].objective});
    }
    out.state = end.state;
    s.db().write([&] {
        registry::Runs(s.db()).finish(out.run, end);
        if (out.best) {
            registry::Events(s.db()).append(
                "sweep-best", std::to_string(out.run),
                nlohmann::json({{"trial_run", *out.trials[*out.best].run},
                                {"objective", sweep.objective_metric},
                                {"value", *out.trials[*out.best].objective}})
                    .dump());
        }
    });
    if (interrupted) {
        throw error::Interrupted(*interrupted);
    }
    return out;
}

}  // namespace mloop::train
