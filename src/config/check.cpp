#include "config/check.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "config/variables.hpp"
#include "util/text.hpp"

namespace mloop::config {

namespace {

using error::Diagnostic;
using error::Severity;
namespace fs = std::filesystem;

bool is_name(std::string_view s, size_t max = 41) {
    if (s.empty() || s.size() > max || !(s[0] >= 'a' && s[0] <= 'z')) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

bool is_env_name(std::string_view s) {
    if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

bool has_variables(std::string_view s) {
    return s.find("${") != std::string_view::npos;
}

// Which ${…} names each top-level section may use; documented in mloop.yaml(5).
struct VariableRule {
    std::string_view name;  // "data.*" matches data.<dataset>
    std::initializer_list<std::string_view> sections;
    std::string_view where;  // said in the message when used elsewhere
};

const VariableRule k_rules[] = {
    {"env.*", {"data", "train", "model", "package", "deploy", "monitor"}, ""},
    {"project", {"data", "train", "model", "package", "deploy", "monitor"}, ""},
    {"git.commit", {"train", "model", "package", "deploy", "monitor"}, "outside data"},
    {"data.*", {"train", "model", "package", "deploy", "monitor"}, "outside data"},
    {"params.*", {"train", "model"}, "in train and model"},
    {"run.id", {"train", "model"}, "in train and model"},
    {"run.dir", {"train", "model"}, "in train and model"},
    {"model.name", {"model", "package", "deploy", "monitor"}, "in model, package, deploy, monitor"},
    {"model.version",
     {"model", "package", "deploy", "monitor"},
     "in model, package, deploy, monitor"},
    {"model.dir", {"model", "package", "deploy", "monitor"}, "in model, package, deploy, monitor"},
    {"image", {"deploy", "monitor"}, "in deploy and monitor"},
    {"deploy.env", {"deploy", "monitor"}, "in deploy and monitor"},
    {"deploy.url", {"deploy", "monitor"}, "in deploy and monitor"},
};

class Checker {
  public:
    explicit Checker(ParseResult& r) : m_r(r), m_p(r.project) {}

    void run() {
        check_project_name();
        check_data();
        check_schema();
        check_train();
        check_model();
        check_package();
        check_deploy();
        check_monitor();
        check_variables();
    }

  private:
    void error(Mark m, std::string message, std::string hint = {}) {
        m_r.diagnostics.push_back(Diagnostic{Severity::error,
                                             {m_p.display_file, m.line, m.column},
                                             std::move(message),
                                             std::move(hint)});
    }

    fs::path resolve(const std::string& p) const {
        fs::path path(p);
        return path.is_absolute() ? path : m_p.root / path;
    }

    // A path the file names, which must exist now (unless it holds variables).
    void must_exist(const Text& t, std::string_view what) {
        if (t.value.empty()) {
            error(t.mark, fmt::format("{} is empty", what));
            return;
        }
        if (has_variables(t.value)) {
            return;
        }
        std::error_code ec;
        if (!fs::exists(resolve(t.value), ec)) {
            error(t.mark, fmt::format("{} '{}' does not exist", what, t.value));
        }
    }

    // A path that must stay beneath the run directory or the project.
    void must_be_inside(const Text& t, std::string_view what) {
        fs::path p(t.value);
        if (t.value.empty()) {
            error(t.mark, fmt::format("{} is empty", what));
            return;
        }
        if (p.is_absolute()) {
            error(t.mark, fmt::format("{} '{}' must be a relative path", what, t.value));
            return;
        }
        for (const auto& part : p.lexically_normal()) {
            if (part == "..") {
                error(t.mark, fmt::format("{} '{}' leaves its directory", what, t.value));
                return;
            }
        }
    }

    // A program given with a directory part (./smoke.sh) must exist; a bare name is looked up
    // in PATH when it runs.
    void check_program(const Command& c, std::string_view what) {
        if (c.empty() || has_variables(c[0].value) || c[0].value.find('/') == std::string::npos) {
            return;
        }
        must_exist(c[0], fmt::format("program of {}", what));
    }

    void check_project_name() {
        if (!m_p.name.empty() && !is_name(m_p.name)) {
            error(m_p.name_mark, fmt::format("project name {} must match [a-z][a-z0-9-]{{0,40}}",
                                             util::quote(m_p.name)));
        }
    }

    void check_data() {
        for (auto& ds : m_p.data) {
            if (ds.name.empty() || !(std::isalpha(static_cast<unsigned char>(ds.name[0]))) ||
                !std::all_of(ds.name.begin(), ds.name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                })) {
                error(ds.mark, fmt::format("dataset name {} must start with a letter and hold "
                                           "only letters, digits, '_' and '-'",
                                           util::quote(ds.name)));
            }
            must_exist(ds.path, fmt::format("dataset '{}': path", ds.name));
            std::string p = ds.path.value;
            if (util::ends_with(p, ".gz")) {
                ds.compressed = true;
                p.resize(p.size() - 3);
            }
            if (!ds.format.empty()) {
                continue;
            }
            if (util::ends_with(p, ".csv") || util::ends_with(p, ".tsv")) {
                ds.format = "csv";
            } else if (util::ends_with(p, ".jsonl") || util::ends_with(p, ".ndjson")) {
                ds.format = "jsonl";
            } else {
                std::error_code ec;
                if (!has_variables(p) && !fs::is_directory(resolve(ds.path.value), ec)) {
                    error(ds.path.mark,
                          fmt::format("cannot tell the format of dataset '{}' from its name",
                                      ds.name),
                          "add 'format: csv' or 'format: jsonl'");
                }
            }
        }
    }

    void check_schema() {
        std::vector<std::string> names;
        if (m_p.schema) {
            for (const auto& c : m_p.schema->columns) {
                names.push_back(c.name);
                if (!c.type_known) {
                    continue;  // the type was reported; checks that depend on it would cascade
                }
                const bool numeric =
                    c.type == ColumnType::integer || c.type == ColumnType::floating;
                if ((c.min || c.max) && !numeric) {
                    error(c.mark, fmt::format("column '{}': min and max apply to int and float "
                                              "columns, not {}",
                                              c.name, column_type_name(c.type)));
                }
                if (c.min && c.max && *c.min > *c.max) {
                    error(c.mark, fmt::format("column '{}': min ({}) is above max ({})", c.name,
                                              *c.min, *c.max));
                }
                if (!c.values.empty() && c.type != ColumnType::category) {
                    error(c.mark,
                          fmt::format("column '{}': values apply to category columns", c.name),
                          "set 'type: category'");
                }
                if (c.pattern) {
                    if (c.type != ColumnType::string && c.type != ColumnType::category) {
                        error(
                            c.pattern->mark,
                            fmt::format("column '{}': pattern applies to string columns", c.name));
                    }
                    RE2::Options opts;
                    opts.set_log_errors(false);
                    RE2 re(c.pattern->value, opts);
                    if (!re.ok()) {
                        error(c.pattern->mark,
                              fmt::format("column '{}': invalid pattern: {}", c.name, re.error()));
                    }
                }
                if (!c.nullable && c.max_null_fraction && *c.max_null_fraction > 0) {
                    error(c.mark, fmt::format("column '{}' is not nullable but allows a null "
                                              "fraction of {}",
                                              c.name, *c.max_null_fraction));
                }
            }
            if (m_p.schema->rows_min && m_p.schema->rows_max &&
                *m_p.schema->rows_min > *m_p.schema->rows_max) {
                error(m_p.schema->mark, fmt::format("schema.rows: min ({}) is above max ({})",
                                                    *m_p.schema->rows_min, *m_p.schema->rows_max));
            }
        }
        auto check_column = [&](const Text& t, std::string_view what) {
            if (names.empty() || std::find(names.begin(), names.end(), t.value) != names.end()) {
                return;
            }
            error(t.mark, fmt::format("{} '{}' is not a column of the schema", what, t.value),
                  util::did_you_mean(t.value, names));
        };
        if (m_p.target) {
            check_column(*m_p.target, "target");
        }
        std::set<std::string> seen;
        for (const auto& f : m_p.features) {
            check_column(f, "feature");
            if (!seen.insert(f.value).second) {
                error(f.mark, fmt::format("feature '{}' is listed twice", f.value));
            }
            if (m_p.target && f.value == m_p.target->value) {
                error(f.mark, fmt::format("the target '{}' cannot also be a feature", f.value));
            }
        }
    }

    void check_train() {
        if (!m_p.train) {
            return;
        }
        auto& t = *m_p.train;
        if (!t.command_given && t.stages.empty()) {
            error(t.mark, "'train' needs a command or stages");
        }
        if (!t.command.empty() && !t.stages.empty()) {
            error(t.stages.front().mark, "'train' has both command and stages; use one");
        }
        check_program(t.command, "train.command");
        must_be_inside(t.metrics, "train.metrics");
        for (const auto& a : t.artifacts) {
            must_be_inside(a, "artifact");
        }
        std::set<std::string> produced;
        for (const auto& s : t.stages) {
            for (const auto& o : s.outputs) {
                produced.insert(fs::path(o.value).lexically_normal().string());
                must_be_inside(o, fmt::format("output of stage '{}'", s.name.value));
            }
        }
        for (const auto& i : t.inputs) {
            must_exist(i, "input");
        }
        for (const auto& [name, value] : t.env) {
            if (!is_env_name(name)) {
                error(value.mark,
                      fmt::format("'{}' is not a valid environment variable name", name));
            }
        }
        for (const auto& s : t.secrets) {
            if (!is_env_name(s.value)) {
                error(s.mark,
                      fmt::format("secret '{}' is not a valid environment variable name", s.value));
            }
        }
        check_stages(t, produced);
        check_sweep(t);
    }

    void check_stages(const Train& t, const std::set<std::string>& produced) {
        std::map<std::string, const Stage*> by_name;
        std::vector<std::string> names;
        for (const auto& s : t.stages) {
            if (s.name.value.empty()) {
                continue;
            }
            if (!is_name(s.name.value, 64) && !is_env_name(s.name.value)) {
                error(s.name.mark, fmt::format("stage name {} must hold only letters, digits, "
                                               "'_' and '-'",
                                               util::quote(s.name.value)));
            }
            if (!by_name.emplace(s.name.value, &s).second) {
                error(s.name.mark, fmt::format("stage '{}' is defined twice", s.name.value));
            }
            names.push_back(s.name.value);
            check_program(s.command, fmt::format("stage '{}'", s.name.value));
            for (const auto& i : s.inputs) {
                if (!produced.count(fs::path(i.value).lexically_normal().string())) {
                    must_exist(i, fmt::format("input of stage '{}'", s.name.value));
                }
            }
        }
        bool refs_ok = true;
        for (const auto& s : t.stages) {
            for (const auto& a : s.after) {
                if (!by_name.count(a.value)) {
                    error(a.mark,
                          fmt::format("stage '{}' runs after unknown stage '{}'", s.name.value,
                                      a.value),
                          util::did_you_mean(a.value, names));
                    refs_ok = false;
                }
            }
        }
        if (!refs_ok) {
            return;
        }
        // Depth-first search for a cycle; the message names it in order.
        std::map<std::string, int> state;  // 0 new, 1 on the path, 2 done
        std::vector<std::string> path;
        std::function<bool(const Stage&)> visit = [&](const Stage& s) {
            state[s.name.value] = 1;
            path.push_back(s.name.value);
            for (const auto& a : s.after) {
                const int st = state[a.value];
                if (st == 1) {
                    auto from = std::find(path.begin(), path.end(), a.value);
                    std::vector<std::string> cycle(from, path.end());
                    cycle.push_back(a.value);
                    error(a.mark, fmt::format("stages form a cycle: {}", util::join(cycle, " → ")));
                    return true;
                }
                if (st == 0 && visit(*by_name[a.value])) {
                    return true;
                }
            }
            path.pop_back();
            state[s.name.value] = 2;
            return false;
        };
        for (const auto& s : t.stages) {
            if (state[s.name.value] == 0 && visit(s)) {
                return;
            }
        }
    }

    void check_sweep(const Train& t) {
        if (!t.sweep) {
            return;
        }
        const auto& s = *t.sweep;
        if (s.params.empty()) {
            error(s.mark, "'train.sweep.params' names no parameter to search");
        }
        for (const auto& p : s.params) {
            if (s.method == Sweep::Method::grid && p.values.empty()) {
                error(p.mark,
                      fmt::format("sweep parameter '{}' is a range; a grid needs a list of values",
                                  p.name),
                      "list the values, or set 'method: random'");
            }
        }
    }

    std::vector<std::string> environment_names() const {
        std::vector<std::string> out;
        if (m_p.deploy) {
            for (const auto& e : m_p.deploy->environments) {
                out.push_back(e.name);
            }
        }
        return out;
    }

    void check_model() {
        const auto& m = m_p.model;
        if (m.name_given && !is_name(m.name)) {
            error(m.mark, fmt::format("model name {} must match [a-z][a-z0-9-]{{0,40}}",
                                      util::quote(m.name)));
        }
        // A baseline is an alias: an environment's name, or one that `promote` moves (e.g.
        // champion). A name near an environment's is taken for a typo of it.
        const auto envs = environment_names();
        for (const auto& g : m.gates) {
            if (!g.baseline ||
                std::find(envs.begin(), envs.end(), g.baseline->value) != envs.end()) {
                continue;
            }
            const std::string& alias = g.baseline->value;
            if (const auto hint = util::did_you_mean(alias, envs); !hint.empty()) {
                error(g.baseline->mark,
                      fmt::format("gate baseline '{}' is not an environment", alias), hint);
            } else if (!is_name(alias, std::string::npos) || alias == "latest") {
                error(g.baseline->mark, fmt::format("gate baseline '{}' cannot be an alias", alias),
                      "an alias is [a-z][a-z0-9-]*, and 'latest' always means the newest version");
            }
        }
        check_program(m.evaluate, "model.evaluate");
    }

    void check_package() {
        if (!m_p.package) {
            return;
        }
        const auto& p = *m_p.package;
        if (p.image && !has_variables(p.image->value)) {
            static const RE2 k_repo(
                R"(([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*)");
            if (!RE2::FullMatch(p.image->value, k_repo)) {
                error(p.image->mark,
                      fmt::format("package.image {} is not an image repository",
                                  util::quote(p.image->value)),
                      "write it without a tag, in lowercase: registry.example.com/team/name; "
                      "the tag is v<version>");
            }
        }
        for (const auto& f : p.files) {
            must_be_inside(f, "package file");
            must_exist(f, "package file");
        }
        // package.serve runs inside the image, not here: its program is not looked for.
        std::error_code ec;
        const auto builtin = builtin_templates();
        if (!fs::exists(m_p.root / "templates" / p.template_name.value, ec) &&
            std::find(builtin.begin(), builtin.end(), p.template_name.value) == builtin.end()) {
            error(p.template_name.mark,
                  fmt::format("template '{}' is neither built in nor in templates/",
                              p.template_name.value),
                  util::did_you_mean(p.template_name.value, builtin));
        }
    }

    static bool is_quantity(std::string_view q) {
        static const RE2 k_quantity(R"([0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)");
        return RE2::FullMatch(re2::StringPiece(q.data(), q.size()), k_quantity);
    }

    static bool is_url(std::string_view u) {
        return util::starts_with(u, "http://") || util::starts_with(u, "https://");
    }

    void check_deploy() {
        if (!m_p.deploy) {
            return;
        }
        const auto& d = *m_p.deploy;
        if (!is_quantity(d.cpu)) {
            error(d.mark, fmt::format("deploy.resources.cpu {} is not a quantity such as 500m or 2",
                                      util::quote(d.cpu)));
        }
        if (!is_quantity(d.memory)) {
            error(d.mark,
                  fmt::format("deploy.resources.memory {} is not a quantity such as 512Mi or 2Gi",
                              util::quote(d.memory)));
        }
        const auto names = environment_names();
        for (const auto& env : d.environments) {
            if (!is_name(env.name) || env.name == "latest") {
                error(env.mark, fmt::format("environment name {} must match "
                                            "[a-z][a-z0-9-]{{0,40}} and not be 'latest'",
                                            util::quote(env.name)));
            }
            if (env.target == Target::docker && env.strategy != Strategy::rolling) {
                error(env.mark, fmt::format("environment '{}': strategy {} needs target "
                                            "kubernetes",
                                            env.name, strategy_name(env.strategy)));
            }
            if (env.target == Target::kubernetes && !is_name(env.namespace_name, 63)) {
                error(env.mark, fmt::format("environment '{}': namespace {} is not a valid "
                                            "Kubernetes name",
                                            env.name, util::quote(env.namespace_name)));
            }
            if (env.requires_env) {
                const auto& r = env.requires_env->value;
                if (r == env.name) {
                    error(env.requires_env->mark,
                          fmt::format("environment '{}' requires itself", env.name));
                } else if (std::find(names.begin(), names.end(), r) == names.end()) {
                    error(env.requires_env->mark,
                          fmt::format("environment '{}' requires unknown environment '{}'",
                                      env.name, r),
                          util::did_you_mean(r, names));
                }
            }
            for (const auto& a : env.analysis) {
                if (a.kind == Analysis::Kind::prometheus && !has_variables(a.url.value) &&
                    !is_url(a.url.value)) {
                    error(a.url.mark, fmt::format("prometheus url {} must start with http:// or "
                                                  "https://",
                                                  util::quote(a.url.value)));
                }
                if (a.kind == Analysis::Kind::command) {
                    check_program(a.command, fmt::format("an analysis of '{}'", env.name));
                }
            }
        }
        check_requires_cycle();
    }

    void check_requires_cycle() {
        std::set<std::string> reported;
        for (const auto& env : m_p.deploy->environments) {
            if (reported.count(env.name)) {
                continue;
            }
            std::vector<std::string> chain{env.name};
            const Environment* cur = &env;
            while (cur->requires_env) {
                const Environment* next = m_p.environment(cur->requires_env->value);
                if (next == nullptr || next == cur) {
                    break;
                }
                if (std::find(chain.begin(), chain.end(), next->name) != chain.end()) {
                    chain.push_back(next->name);
                    if (chain.front() == next->name) {
                        error(env.requires_env->mark,
                              fmt::format("environments require each other in a cycle: {}",
                                          util::join(chain, " → ")));
                        reported.insert(chain.begin(), chain.end());
                    }
                    break;
                }
                chain.push_back(next->name);
                cur = next;
            }
        }
    }

    void check_monitor() {
        if (!m_p.monitor) {
            return;
        }
        auto& m = *m_p.monitor;
        if (m.window && !m.timestamp) {
            error(m.mark, "'monitor.window' needs 'monitor.timestamp' to know each row's time");
        }
        if (m.feedback_path) {
            if (m.feedback_id.empty() && m.id) {
                m.feedback_id = *m.id;
            }
            if (m.feedback_id.empty()) {
                error(m.feedback_path->mark,
                      "'monitor.feedback' needs an id column: set monitor.id or feedback.id");
            }
            if (!m_p.target) {
                error(m.feedback_path->mark,
                      "'monitor.feedback' brings labels but no 'target' column is named");
            }
        }
        if (m.performance_metric && !m_p.target) {
            error(m.performance_metric->mark,
                  "'monitor.performance' needs 'target', the label column");
        }
        if (m.drift_threshold && *m.drift_threshold < 0) {
            error(m.mark, "'monitor.drift.threshold' must not be negative");
        }
        const auto features = m_p.feature_names();
        for (const auto& c : m.drift_columns) {
            if (!features.empty() &&
                std::find(features.begin(), features.end(), c.column.value) == features.end()) {
                error(c.column.mark,
                      fmt::format("monitor.drift.columns names '{}', which is not a feature",
                                  c.column.value),
                      util::did_you_mean(c.column.value, features));
            }
            if (c.threshold && *c.threshold < 0) {
                error(c.column.mark,
                      fmt::format("drift threshold of '{}' must not be negative", c.column.value));
            }
        }
        if (m.reference.value != "auto" && m_p.dataset(m.reference.value) == nullptr &&
            !has_variables(m.reference.value) && m.reference.value.find('/') == std::string::npos &&
            m.reference.value.find('.') == std::string::npos &&
            m.reference.value.find('@') == std::string::npos &&
            !util::starts_with(m.reference.value, "sha256:")) {
            std::vector<std::string> names{"auto"};
            for (const auto& d : m_p.data) {
                names.push_back(d.name);
            }
            error(m.reference.mark,
                  fmt::format("monitor.reference '{}' is not auto, a dataset, a path or a "
                              "reference",
                              m.reference.value),
                  util::did_you_mean(m.reference.value, names));
        }
        for (const auto& a : m.alerts) {
            if (a.kind == Alert::Kind::webhook && !has_variables(a.url.value) &&
                !is_url(a.url.value)) {
                error(a.url.mark, fmt::format("webhook {} must start with http:// or https://",
                                              util::quote(a.url.value)));
            }
            if (a.kind == Alert::Kind::command) {
                check_program(a.command, "an alert");
            }
        }
        if (m.on_alert_retrain && !m_p.train) {
            error(m.mark, "'monitor.on_alert: retrain' needs a 'train' section");
        } else if (m.on_alert_retrain && !m_p.train->triggers.drift &&
                   !m_p.train->triggers.performance) {
            error(m.mark,
                  "'monitor.on_alert: retrain' needs 'train.triggers.drift' or "
                  "'train.triggers.performance': train --if-triggered reads the report through "
                  "them");
        }
        if (m.prometheus_pushgateway && !has_variables(m.prometheus_pushgateway->value) &&
            !is_url(m.prometheus_pushgateway->value)) {
            error(m.prometheus_pushgateway->mark,
                  fmt::format("pushgateway {} must start with http:// or https://",
                              util::quote(m.prometheus_pushgateway->value)));
        }
    }

    // Every ${…} must name something that exists where it is used.
    void check_variables() {
        std::set<std::string> params;
        if (m_p.train) {
            for (const auto& p : m_p.train->params) {
                params.insert(p.name);
            }
            if (m_p.train->sweep) {
                for (const auto& p : m_p.train->sweep->params) {
                    params.insert(p.name);
                }
            }
        }
        for (const auto& use : m_r.texts) {
            const std::string section = use.key.substr(0, use.key.find_first_of(".["));
            auto pieces = split_variables(use.text.value);
            if (!pieces) {
                error(use.text.mark, fmt::format("'{}': {}", use.key, pieces.error()),
                      "write '$${' for a literal '${'");
                continue;
            }
            for (const auto& piece : pieces.value()) {
                if (!piece.variable) {
                    continue;
                }
                check_variable(use, section, piece, params);
            }
        }
    }

    void check_variable(const TextUse& use, const std::string& section, const Piece& piece,
                        const std::set<std::string>& params) {
        const std::string& name = piece.text;
        const Mark mark{use.text.mark.line, use.text.mark.column};
        const std::string ns = name.substr(0, name.find('.'));
        const std::string rest =
            name.find('.') == std::string::npos ? std::string{} : name.substr(name.find('.') + 1);
        // Find the rule; for namespaces with names, check the name.
        const VariableRule* rule = nullptr;
        for (const auto& r : k_rules) {
            if (r.name == name || (util::ends_with(r.name, ".*") &&
                                   r.name.substr(0, r.name.size() - 2) == ns && !rest.empty())) {
                rule = &r;
                break;
            }
        }
        if (rule == nullptr) {
            std::vector<std::string> known;
            for (const auto& r : k_rules) {
                if (!util::ends_with(r.name, ".*")) {
                    known.emplace_back(r.name);
                }
            }
            for (const auto& d : m_p.data) {
                known.push_back("data." + d.name);
            }
            for (const auto& p : params) {
                known.push_back("params." + p);
            }
            error(mark, fmt::format("unknown variable '${{{}}}' in '{}'", name, use.key),
                  util::did_you_mean(name, known));
            return;
        }
        if (std::find(rule->sections.begin(), rule->sections.end(), section) ==
            rule->sections.end()) {
            error(mark,
                  fmt::format("'${{{}}}' cannot be used in '{}'{}", name, use.key,
                              rule->where.empty() ? std::string{}
                                                  : fmt::format("; it is set {}", rule->where)));
            return;
        }
        if (ns == "data" && m_p.dataset(rest) == nullptr) {
            std::vector<std::string> names;
            for (const auto& d : m_p.data) {
                names.push_back(d.name);
            }
            error(mark, fmt::format("'${{{}}}' names no dataset under 'data'", name),
                  util::did_you_mean(rest, names));
        } else if (ns == "params" && !params.count(rest)) {
            std::vector<std::string> names(params.begin(), params.end());
            error(mark, fmt::format("'${{{}}}' names no parameter under 'train.params'", name),
                  util::did_you_mean(rest, names));
        } else if (ns == "env" && !is_env_name(rest)) {
            error(mark,
                  fmt::format("'${{{}}}': '{}' is not an environment variable name", name, rest));
        }
    }

    ParseResult& m_r;
    Project& m_p;
};

}  // namespace

std::vector<std::string> builtin_templates() {
    return {"Dockerfile", "Dockerfile.scratch"};
}

void check_project(ParseResult& parsed) {
    Checker c(parsed);
    c.run();
    sort_diagnostics(parsed.diagnostics);
}

}  // namespace mloop::config
