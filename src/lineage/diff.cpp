#include "lineage/diff.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "error/error.hpp"
#include "lineage/query.hpp"

namespace mloop::lineage {

namespace {

std::string status_of(bool in_a, bool in_b, bool equal) {
    if (!in_a) {
        return "added";
    }
    if (!in_b) {
        return "removed";
    }
    return equal ? "same" : "changed";
}

DiffSide side_of(registry::Db& db, const registry::Ref& ref) {
    DiffSide s;
    int64_t run_id = 0;
    if (const auto* r = std::get_if<registry::RunRef>(&ref)) {
        run_id = r->id;
        s.label = fmt::format("run {}", r->id);
    } else if (const auto* v = std::get_if<registry::VersionRef>(&ref)) {
        registry::Stmt q = db.prepare(
            "SELECT v.run_id FROM model_versions v JOIN models m ON m.id = v.model_id "
            "WHERE m.name = ? AND v.version = ?");
        q.bind_all(v->model, v->version);
        if (!q.step()) {
            throw error::UsageError(fmt::format("{} has no version {}", v->model, v->version));
        }
        run_id = q.int64(0);
        s.label = v->text();
    } else {
        const char* what = std::holds_alternative<registry::CommitRef>(ref)     ? "a commit"
                           : std::holds_alternative<registry::ArtifactRef>(ref) ? "an artifact"
                           : std::holds_alternative<registry::DatasetRef>(ref)  ? "a dataset"
                                                                                : "a deployment";
        throw error::UsageError(fmt::format("'mloop diff' compares runs and model versions, "
                                            "not {}",
                                            what),
                                "name two runs (12 14) or two versions (churn@3 churn@4)");
    }
    auto run = registry::Runs(db).get(run_id);
    if (!run) {
        throw error::UsageError(fmt::format("no run {}", run_id));
    }
    s.run = std::move(*run);
    s.versions = registry::Models(db).versions_of_run(run_id);
    return s;
}

template <class T, class Key>
std::map<std::string, T> by_name(const std::vector<T>& items, Key key) {
    std::map<std::string, T> out;
    for (const auto& i : items) {
        out.emplace(key(i), i);
    }
    return out;
}

template <class T>
std::set<std::string> names_of(const std::map<std::string, T>& a,
                               const std::map<std::string, T>& b) {
    std::set<std::string> out;
    for (const auto& [k, v] : a) {
        out.insert(k);
    }
    for (const auto& [k, v] : b) {
        out.insert(k);
    }
    return out;
}

}  // namespace

size_t RunDiff::changed_params() const {
    size_t n = 0;
    for (const auto& p : params) {
        n += p.status != "same";
    }
    return n;
}

RunDiff diff(registry::Db& db, const registry::Ref& ra, const registry::Ref& rb) {
    return db.read([&] {
        RunDiff d;
        d.a = side_of(db, ra);
        d.b = side_of(db, rb);
        registry::Runs runs(db);
        const int64_t a = d.a.run.id;
        const int64_t b = d.b.run.id;

        auto pname = [](const registry::Param& p) {
            return p.name;
        };
        const auto pa = by_name(runs.params(a), pname);
        const auto pb = by_name(runs.params(b), pname);
        for (const auto& n : names_of(pa, pb)) {
            ParamChange c{n, {}, {}, {}};
            if (auto i = pa.find(n); i != pa.end()) {
                c.a = i->second.value;
            }
            if (auto i = pb.find(n); i != pb.end()) {
                c.b = i->second.value;
            }
            c.status = status_of(c.a.has_value(), c.b.has_value(), c.a == c.b);
            d.params.push_back(std::move(c));
        }

        auto mname = [](const registry::Metric& m) {
            return m.name;
        };
        const auto ma = by_name(runs.metrics(a), mname);
        const auto mb = by_name(runs.metrics(b), mname);
        for (const auto& n : names_of(ma, mb)) {
            MetricChange c{n, {}, {}, {}, {}, {}};
            if (auto i = ma.find(n); i != ma.end()) {
                c.a = i->second.value;
            }
            if (auto i = mb.find(n); i != mb.end()) {
                c.b = i->second.value;
            }
            if (c.a && c.b) {
                c.delta = *c.b - *c.a;
                if (*c.a != 0) {
                    c.delta_pct = (*c.b - *c.a) / std::fabs(*c.a) * 100.0;
                }
            }
            c.status = status_of(c.a.has_value(), c.b.has_value(), c.a == c.b);
            d.metrics.push_back(std::move(c));
        }

        auto iname = [](const registry::Input& i) {
            return i.name;
        };
        const auto ia = by_name(runs.inputs(a), iname);
        const auto ib = by_name(runs.inputs(b), iname);
        for (const auto& n : names_of(ia, ib)) {
            DataChange c{n, {}, {}, {}, {}, {}, {}};
            if (auto i = ia.find(n); i != ia.end()) {
                c.kind = i->second.kind;
                c.a = i->second.digest;
                c.a_path = i->second.path;
            }
            if (auto i = ib.find(n); i != ib.end()) {
                c.kind = i->second.kind;
                c.b = i->second.digest;
                c.b_path = i->second.path;
            }
            c.status = status_of(c.a.has_value(), c.b.has_value(), c.a == c.b);
            d.data.push_back(std::move(c));
        }
        // Datasets first, then code and other files, each by name.
        std::stable_sort(d.data.begin(), d.data.end(), [](const auto& x, const auto& y) {
            return (x.kind == "dataset") > (y.kind == "dataset");
        });

        auto sname = [](const Stage& s) {
            return s.name;
        };
        const auto sa = by_name(stages_of(db, a), sname);
        const auto sb = by_name(stages_of(db, b), sname);
        for (const auto& n : names_of(sa, sb)) {
            StageChange c{n, {}, {}, {}, {}, {}};
            if (auto i = sa.find(n); i != sa.end()) {
                c.a_state = i->second.state;
                c.a_key = i->second.cache_key;
            }
            if (auto i = sb.find(n); i != sb.end()) {
                c.b_state = i->second.state;
                c.b_key = i->second.cache_key;
            }
            c.status = status_of(c.a_key.has_value(), c.b_key.has_value(), c.a_key == c.b_key);
            d.stages.push_back(std::move(c));
        }
        return d;
    });
}

}  // namespace mloop::lineage
