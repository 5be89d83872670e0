#include "config/project.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error/error.hpp"
#include "util/text.hpp"

namespace mloop::config {

const char* column_type_name(ColumnType t) {
    switch (t) {
        case ColumnType::string:
            return "string";
        case ColumnType::integer:
            return "int";
        case ColumnType::floating:
            return "float";
        case ColumnType::boolean:
            return "bool";
        case ColumnType::category:
            return "category";
        case ColumnType::datetime:
            return "datetime";
    }
    return "string";
}

const char* strategy_name(Strategy s) {
    switch (s) {
        case Strategy::rolling:
            return "rolling";
        case Strategy::canary:
            return "canary";
        case Strategy::bluegreen:
            return "bluegreen";
    }
    return "rolling";
}

const char* drift_method_name(DriftMethod m) {
    switch (m) {
        case DriftMethod::auto_:
            return "auto";
        case DriftMethod::ks:
            return "ks";
        case DriftMethod::psi:
            return "psi";
        case DriftMethod::wasserstein:
            return "wasserstein";
        case DriftMethod::jensenshannon:
            return "jensenshannon";
        case DriftMethod::chisquare:
            return "chisquare";
    }
    return "auto";
}

const Dataset* Project::dataset(std::string_view n) const {
    auto it = std::find_if(data.begin(), data.end(), [&](const Dataset& d) { return d.name == n; });
    return it == data.end() ? nullptr : &*it;
}

const Environment* Project::environment(std::string_view n) const {
    if (!deploy) {
        return nullptr;
    }
    const auto& envs = deploy->environments;
    auto it =
        std::find_if(envs.begin(), envs.end(), [&](const Environment& e) { return e.name == n; });
    return it == envs.end() ? nullptr : &*it;
}

const Environment& Project::require_environment(const std::string& wanted) const {
    if (const Environment* env = environment(wanted)) {
        return *env;
    }
    std::vector<std::string> names;
    if (deploy) {
        for (const auto& e : deploy->environments) {
            names.push_back(e.name);
        }
    }
    const std::string guess = util::did_you_mean(wanted, names);
    throw error::UsageError(fmt::format("no environment '{}' in {}{}{}", wanted, display_file,
                                        guess.empty() ? "" : "; ", guess),
                            names.empty() ? "add it under deploy.environments"
                                          : "environments: " + util::join(names, ", "));
}

std::vector<std::string> Project::feature_names() const {
    std::vector<std::string> out;
    if (features_given) {
        for (const auto& f : features) {
            out.push_back(f.value);
        }
        return out;
    }
    if (!schema) {
        return out;
    }
    for (const auto& c : schema->columns) {
        if ((target && c.name == target->value) || c.unique) {
            continue;
        }
        out.push_back(c.name);
    }
    return out;
}

}  // namespace mloop::config
