#include "config/parse.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "config/keys.hpp"
#include "config/variables.hpp"
#include "util/text.hpp"

namespace mloop::config {

namespace {

using error::Diagnostic;
using error::Severity;

bool is_int(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    int64_t v;
    auto [p, ec] = std::from_chars(s.data() + (s[0] == '+'), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
}

std::optional<double> to_number(std::string_view s) {
    if (s.empty()) {
        return std::nullopt;
    }
    if (s[0] == '+') {
        s.remove_prefix(1);
    }
    double v;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::optional<bool> to_bool(std::string_view s) {
    if (s == "true" || s == "True" || s == "TRUE") {
        return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
        return false;
    }
    return std::nullopt;
}

Scalar scalar_of(const Node& n) {
    Scalar s;
    s.text = n.text;
    s.mark = n.mark;
    if (!n.plain) {
        s.type = Scalar::Type::string;
    } else if (is_int(n.text)) {
        s.type = Scalar::Type::integer;
    } else if (to_number(n.text)) {
        s.type = Scalar::Type::number;
    } else if (to_bool(n.text)) {
        s.type = Scalar::Type::boolean;
        s.text = *to_bool(n.text) ? "true" : "false";
    }
    return s;
}

class Parser;

// One mapping of the file, read against the key table: unknown and duplicate keys are
// reported when it is opened; getters fill typed fields and report bad values.
class Map {
  public:
    // `schema_path` names the table row ("deploy.environments.*"); `shown` the actual keys
    // ("deploy.environments.staging").
    Map(Parser& p, const Node* node, std::string schema_path, std::string shown);

    bool has(std::string_view key) const { return get(key) != nullptr; }
    const Node* get(std::string_view key) const;
    const Node* raw(std::string_view key) const;  // also returns null-valued keys
    Mark mark() const { return m_node ? m_node->mark : Mark{}; }
    Mark key_mark(std::string_view key) const;
    const std::string& shown() const { return m_shown; }
    std::string path(std::string_view key) const;
    std::string schema(std::string_view key) const;

    bool str(std::string_view key, std::string& out);
    bool text(std::string_view key, Text& out);
    bool text(std::string_view key, std::optional<Text>& out);
    bool texts(std::string_view key, std::vector<Text>& out, bool allow_single = false);
    bool command(std::string_view key, Command& out);
    bool boolean(std::string_view key, bool& out);
    bool integer(std::string_view key, int64_t& out, int64_t lo, int64_t hi);
    bool integer(std::string_view key, int& out, int lo, int hi);
    bool integer(std::string_view key, std::optional<int64_t>& out, int64_t lo, int64_t hi);
    bool number(std::string_view key, double& out);
    bool number(std::string_view key, std::optional<double>& out);
    bool fraction(std::string_view key, std::optional<double>& out, bool allow_zero);
    // `allow_zero`: 0s means "none" (a canary step without a pause, an immediate scale-down).
    bool duration(std::string_view key, Seconds& out, bool allow_zero = false);
    bool duration(std::string_view key, std::optional<Seconds>& out);
    bool choice(std::string_view key, std::string& out, std::initializer_list<const char*> allowed);
    bool require(std::string_view key);

  private:
    Parser& m_p;
    const Node* m_node;
    std::string m_schema;
    std::string m_shown;
    bool m_any_name = false;  // the mapping's keys are names (data, environments), not fields
};

class Parser {
  public:
    Parser(const std::string& file, ParseResult& out) : m_file(file), m_out(out) {}

    void error(Mark m, std::string message, std::string hint = {}) {
        m_out.diagnostics.push_back(Diagnostic{
            Severity::error, {m_file, m.line, m.column}, std::move(message), std::move(hint)});
    }
    void note_key(const std::string& schema_path) {
        if (find_key(schema_path) == nullptr) {
            throw std::logic_error("key missing from the key table: " + schema_path);
        }
        m_out.keys_read.insert(schema_path);
    }
    void note_text(const Text& t, const std::string& key) { m_out.texts.push_back({t, key}); }

    void parse(const Node& root);

  private:
    void parse_data(Map& top);
    void parse_schema(Map& top);
    void parse_train(Map& top);
    void parse_stages(Map& train, Train& t);
    void parse_sweep(Map& train, Train& t);
    void parse_model(Map& top);
    void parse_package(Map& top);
    void parse_deploy(Map& top);
    void parse_environment(Map& envs, const Node::Entry& e, Environment& env);
    void parse_monitor(Map& top);
    std::optional<DriftMethod> drift_method(Map& m, std::string_view key);

    const std::string& m_file;
    ParseResult& m_out;
    Project& project() { return m_out.project; }
};

// ---------------------------------------------------------------------------------------------
// Map

Map::Map(Parser& p, const Node* node, std::string schema_path, std::string shown)
    : m_p(p), m_node(node), m_schema(std::move(schema_path)), m_shown(std::move(shown)) {
    if (m_node == nullptr || m_node->is_null()) {
        m_node = nullptr;
        return;
    }
    if (!m_node->is_map()) {
        m_p.error(m_node->mark,
                  m_shown.empty()
                      ? fmt::format("the project file must be a mapping of keys, not {}",
                                    kind_name(m_node->kind))
                      : fmt::format("'{}' must be a mapping of keys, not {}", m_shown,
                                    kind_name(m_node->kind)));
        m_node = nullptr;
        return;
    }
    const auto allowed = child_keys(m_schema);
    const bool any_name = allowed.size() == 1 && allowed[0] == "*";
    m_any_name = any_name;
    std::map<std::string, Mark, std::less<>> seen;
    for (const auto& e : m_node->entries) {
        if (auto [it, fresh] = seen.emplace(e.key, e.key_mark); !fresh) {
            m_p.error(e.key_mark,
                      fmt::format("duplicate key '{}' {} (first at line {})", e.key,
                                  m_shown.empty() ? "at the top level" : "in '" + m_shown + "'",
                                  it->second.line));
            continue;
        }
        if (any_name) {
            continue;
        }
        if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
            const std::string where = m_shown.empty() ? "at the top level" : "in '" + m_shown + "'";
            m_p.error(e.key_mark, fmt::format("unknown key {} {}", util::quote(e.key), where),
                      util::did_you_mean(e.key, allowed));
        }
    }
}

const Node* Map::raw(std::string_view key) const {
    if (m_node == nullptr) {
        return nullptr;
    }
    m_p.note_key(schema(key));
    for (const auto& e : m_node->entries) {
        if (e.key == key) {
            return &e.value;
        }
    }
    return nullptr;
}

const Node* Map::get(std::string_view key) const {
    const Node* n = raw(key);
    return n != nullptr && !n->is_null() ? n : nullptr;
}

Mark Map::key_mark(std::string_view key) const {
    if (m_node != nullptr) {
        for (const auto& e : m_node->entries) {
            if (e.key == key) {
                return e.key_mark;
            }
        }
        return m_node->mark;
    }
    return {};
}

std::string Map::path(std::string_view key) const {
    return m_shown.empty() ? std::string(key) : m_shown + "." + std::string(key);
}

std::string Map::schema(std::string_view key) const {
    if (m_any_name) {
        return m_schema + ".*";
    }
    return m_schema.empty() ? std::string(key) : m_schema + "." + std::string(key);
}

bool Map::require(std::string_view key) {
    if (m_node != nullptr && get(key) == nullptr) {
        m_p.error(raw(key) ? key_mark(key) : mark(), fmt::format("'{}' is required", path(key)));
        return false;
    }
    return true;
}

bool Map::str(std::string_view key, std::string& out) {
    Text t;
    if (!text(key, t)) {
        return false;
    }
    out = std::move(t.value);
    return true;
}

bool Map::text(std::string_view key, Text& out) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    if (!n->is_scalar()) {
        m_p.error(n->mark,
                  fmt::format("'{}' must be a string, not {}", path(key), kind_name(n->kind)));
        return false;
    }
    out = Text{n->text, n->mark};
    m_p.note_text(out, path(key));
    return true;
}

bool Map::text(std::string_view key, std::optional<Text>& out) {
    Text t;
    if (!text(key, t)) {
        return false;
    }
    out = std::move(t);
    return true;
}

bool Map::texts(std::string_view key, std::vector<Text>& out, bool allow_single) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    if (n->is_scalar() && allow_single) {
        out = {Text{n->text, n->mark}};
        m_p.note_text(out.back(), path(key));
        return true;
    }
    if (!n->is_sequence()) {
        m_p.error(n->mark,
                  fmt::format("'{}' must be a list, not {}", path(key), kind_name(n->kind)),
                  n->is_scalar() ? fmt::format("write [{}]", n->text) : std::string{});
        return false;
    }
    out.clear();
    for (const auto& item : n->items) {
        if (!item.is_scalar()) {
            m_p.error(item.mark, fmt::format("items of '{}' must be strings, not {}", path(key),
                                             kind_name(item.kind)));
            continue;
        }
        out.push_back(Text{item.text, item.mark});
        m_p.note_text(out.back(), path(key));
    }
    return true;
}

bool Map::command(std::string_view key, Command& out) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    if (n->is_scalar()) {
        m_p.error(n->mark, fmt::format("'{}' must be a list of arguments, not a string", path(key)),
                  "mloop runs commands without a shell: write [python3, train.py, --out, "
                  "\"${run.dir}\"]");
        return false;
    }
    if (!texts(key, out)) {
        return false;
    }
    if (out.empty()) {
        m_p.error(n->mark, fmt::format("'{}' is an empty command", path(key)));
        return false;
    }
    if (out.front().value.empty()) {
        m_p.error(out.front().mark, fmt::format("'{}' names an empty program", path(key)));
        return false;
    }
    return true;
}

bool Map::boolean(std::string_view key, bool& out) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    std::optional<bool> v;
    if (n->is_scalar() && n->plain) {
        v = to_bool(n->text);
    }
    if (!v) {
        m_p.error(n->mark, fmt::format("'{}' must be true or false, not {}", path(key),
                                       n->is_scalar() ? util::quote(n->text) : kind_name(n->kind)));
        return false;
    }
    out = *v;
    return true;
}

bool Map::integer(std::string_view key, int64_t& out, int64_t lo, int64_t hi) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    int64_t v = 0;
    bool ok = n->is_scalar() && n->plain && is_int(n->text);
    if (ok) {
        const char* b = n->text.data() + (n->text[0] == '+');
        ok = std::from_chars(b, n->text.data() + n->text.size(), v).ec == std::errc();
    }
    if (!ok) {
        m_p.error(n->mark, fmt::format("'{}' must be a whole number, not {}", path(key),
                                       n->is_scalar() ? util::quote(n->text) : kind_name(n->kind)));
        return false;
    }
    if (v < lo || v > hi) {
        m_p.error(n->mark, hi == INT64_MAX
                               ? fmt::format("'{}' must be at least {}, not {}", path(key), lo, v)
                               : fmt::format("'{}' must be between {} and {}, not {}", path(key),
                                             lo, hi, v));
        return false;
    }
    out = v;
    return true;
}

bool Map::integer(std::string_view key, int& out, int lo, int hi) {
    int64_t v = 0;
    if (!integer(key, v, lo, hi)) {
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

bool Map::integer(std::string_view key, std::optional<int64_t>& out, int64_t lo, int64_t hi) {
    int64_t v = 0;
    if (!integer(key, v, lo, hi)) {
        return false;
    }
    out = v;
    return true;
}

bool Map::number(std::string_view key, double& out) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    std::optional<double> v;
    if (n->is_scalar() && n->plain) {
        v = to_number(n->text);
    }
    if (!v) {
        m_p.error(n->mark, fmt::format("'{}' must be a number, not {}", path(key),
                                       n->is_scalar() ? util::quote(n->text) : kind_name(n->kind)));
        return false;
    }
    out = *v;
    return true;
}

bool Map::number(std::string_view key, std::optional<double>& out) {
    double v = 0;
    if (!number(key, v)) {
        return false;
    }
    out = v;
    return true;
}

bool Map::fraction(std::string_view key, std::optional<double>& out, bool allow_zero) {
    double v = 0;
    if (!number(key, v)) {
        return false;
    }
    if (v > 1 || v < 0 || (!allow_zero && v == 0)) {
        m_p.error(get(key)->mark, fmt::format("'{}' must be between {} and 1, not {}", path(key),
                                              allow_zero ? "0" : "0 (exclusive)", get(key)->text));
        return false;
    }
    out = v;
    return true;
}

bool Map::duration(std::string_view key, Seconds& out, bool allow_zero) {
    const Node* n = get(key);
    if (n == nullptr) {
        return false;
    }
    if (!n->is_scalar()) {
        m_p.error(n->mark,
                  fmt::format("'{}' must be a duration such as 90s, 15m, 2h or 30d", path(key)));
        return false;
    }
    auto d = parse_duration(n->text);
    if (!d) {
        m_p.error(n->mark, fmt::format("'{}': {}", path(key), d.error()));
        return false;
    }
    if (d->count() == 0 && !allow_zero) {
        m_p.error(n->mark, fmt::format("'{}' must be longer than zero", path(key)));
        return false;
    }
    out = *d;
    return true;
}

bool Map::duration(std::string_view key, std::optional<Seconds>& out) {
    Seconds d{};
    if (!duration(key, d)) {
        return false;
    }
    out = d;
    return true;
}

bool Map::choice(std::string_view key, std::string& out,
                 std::initializer_list<const char*> allowed) {
    std::string v;
    if (!str(key, v)) {
        return false;
    }
    std::vector<std::string> names(allowed.begin(), allowed.end());
    if (std::find(names.begin(), names.end(), v) == names.end()) {
        m_p.error(get(key)->mark,
                  fmt::format("'{}' must be one of {}, not {}", path(key), util::join(names, ", "),
                              util::quote(v)),
                  util::did_you_mean(v, names));
        return false;
    }
    out = v;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Sections

void Parser::parse(const Node& root) {
    if (root.is_null()) {
        error({1, 1}, "project file is empty", "start with 'project: NAME' or run 'mloop init'");
        return;
    }
    Map top(*this, &root, "", "");
    if (!root.is_map()) {
        return;  // Map reported it
    }
    int64_t format = 1;
    if (top.integer("mloop", format, 1, INT64_MAX) && format != 1) {
        error(
            top.get("mloop")->mark,
            fmt::format("project file format {} is newer than this mloop understands (1)", format),
            "upgrade mloop");
    }
    project().format = static_cast<int>(format);
    if (top.require("project")) {
        Text name;
        if (top.text("project", name)) {
            project().name = name.value;
            project().name_mark = name.mark;
        }
    }
    parse_data(top);
    parse_schema(top);
    top.text("target", project().target);
    project().features_given = top.texts("features", project().features);
    parse_train(top);
    parse_model(top);
    parse_package(top);
    parse_deploy(top);
    parse_monitor(top);
}

void Parser::parse_data(Map& top) {
    Map data(*this, top.get("data"), "data", "data");
    const Node* n = top.get("data");
    if (n == nullptr || !n->is_map()) {
        return;
    }
    for (const auto& e : n->entries) {
        Dataset ds;
        ds.name = e.key;
        ds.mark = e.key_mark;
        const std::string shown = "data." + e.key;
        if (e.value.is_scalar()) {
            data.text(e.key, ds.path);
        } else if (e.value.is_map()) {
            Map m(*this, &e.value, "data.*", shown);
            if (m.require("path")) {
                m.text("path", ds.path);
            }
            m.choice("format", ds.format, {"csv", "jsonl"});
            m.boolean("snapshot", ds.snapshot);
        } else {
            data.get(e.key);
            error(e.value.mark, fmt::format("'{}' must be a path or a mapping with 'path', not {}",
                                            shown, kind_name(e.value.kind)));
            continue;
        }
        project().data.push_back(std::move(ds));
    }
}

ColumnType column_type_of(const std::string& s) {
    if (s == "int") {
        return ColumnType::integer;
    }
    if (s == "float") {
        return ColumnType::floating;
    }
    if (s == "bool") {
        return ColumnType::boolean;
    }
    if (s == "category") {
        return ColumnType::category;
    }
    if (s == "datetime") {
        return ColumnType::datetime;
    }
    return ColumnType::string;
}

void Parser::parse_schema(Map& top) {
    if (!top.has("schema")) {
        top.raw("schema");
        return;
    }
    Map m(*this, top.get("schema"), "schema", "schema");
    Schema s;
    s.mark = m.mark();
    Map columns(*this, m.get("columns"), "schema.columns", "schema.columns");
    if (const Node* cols = m.get("columns"); cols != nullptr && cols->is_map()) {
        for (const auto& e : cols->entries) {
            Column c;
            c.name = e.key;
            c.mark = e.key_mark;
            Map cm(*this, &e.value, "schema.columns.*", "schema.columns." + e.key);
            columns.raw(e.key);
            std::string type = "string";
            c.type_known =
                !cm.has("type") ||
                cm.choice("type", type, {"string", "int", "float", "bool", "category", "datetime"});
            c.type = column_type_of(type);
            cm.boolean("unique", c.unique);
            cm.boolean("nullable", c.nullable);
            cm.fraction("max_null_fraction", c.max_null_fraction, true);
            cm.number("min", c.min);
            cm.number("max", c.max);
            std::vector<Text> values;
            if (cm.texts("values", values)) {
                for (auto& v : values) {
                    c.values.push_back(v.value);
                }
            }
            cm.text("pattern", c.pattern);
            std::optional<double> mostly;
            if (cm.fraction("mostly", mostly, false)) {
                c.mostly = *mostly;
            }
            s.columns.push_back(std::move(c));
        }
    }
    Map rows(*this, m.get("rows"), "schema.rows", "schema.rows");
    rows.integer("min", s.rows_min, 0, INT64_MAX);
    rows.integer("max", s.rows_max, 0, INT64_MAX);
    std::string extra = "error";
    m.choice("extra_columns", extra, {"error", "warn", "ignore"});
    s.extra_columns = extra == "warn"     ? ExtraColumns::warn
                      : extra == "ignore" ? ExtraColumns::ignore
                                          : ExtraColumns::error;
    project().schema = std::move(s);
}

void Parser::parse_train(Map& top) {
    if (!top.has("train")) {
        top.raw("train");
        return;
    }
    Map m(*this, top.get("train"), "train", "train");
    Train t;
    t.mark = m.mark();
    t.command_given = m.has("command");
    m.command("command", t.command);
    Map params(*this, m.get("params"), "train.params", "train.params");
    if (const Node* p = m.get("params"); p != nullptr && p->is_map()) {
        for (const auto& e : p->entries) {
            params.raw(e.key);
            if (!e.value.is_scalar()) {
                error(e.value.mark, fmt::format("'train.params.{}' must be a string, number or "
                                                "boolean, not {}",
                                                e.key, kind_name(e.value.kind)));
                continue;
            }
            t.params.push_back({e.key, scalar_of(e.value)});
            if (!e.value.plain) {
                note_text(Text{e.value.text, e.value.mark}, "train.params." + e.key);
            }
        }
    }
    m.text("metrics", t.metrics);
    m.texts("artifacts", t.artifacts);
    m.texts("inputs", t.inputs);
    m.duration("timeout", t.timeout);
    Map env(*this, m.get("env"), "train.env", "train.env");
    if (const Node* p = m.get("env"); p != nullptr && p->is_map()) {
        for (const auto& e : p->entries) {
            Text v;
            if (!e.value.is_scalar()) {
                env.raw(e.key);
                error(e.value.mark, fmt::format("'train.env.{}' must be a string, not {}", e.key,
                                                kind_name(e.value.kind)));
                continue;
            }
            env.text(e.key, v);
            t.env.emplace_back(e.key, std::move(v));
        }
    }
    m.texts("secrets", t.secrets);
    parse_stages(m, t);
    parse_sweep(m, t);
    Map trig(*this, m.get("triggers"), "train.triggers", "train.triggers");
    trig.boolean("data_changed", t.triggers.data_changed);
    trig.boolean("code_changed", t.triggers.code_changed);
    trig.boolean("drift", t.triggers.drift);
    trig.boolean("performance", t.triggers.performance);
    trig.duration("max_age", t.triggers.max_age);
    project().train = std::move(t);
}

void Parser::parse_stages(Map& m, Train& t) {
    const Node* n = m.get("stages");
    if (n == nullptr) {
        return;
    }
    if (!n->is_sequence()) {
        error(n->mark,
              fmt::format("'train.stages' must be a list of stages, not {}", kind_name(n->kind)));
        return;
    }
    for (size_t i = 0; i < n->items.size(); ++i) {
        const Node& item = n->items[i];
        Stage s;
        s.mark = item.mark;
        Map sm(*this, &item, "train.stages[]", fmt::format("train.stages[{}]", i));
        if (!item.is_map()) {
            continue;
        }
        if (sm.require("name")) {
            sm.text("name", s.name);
        }
        if (sm.require("command")) {
            sm.command("command", s.command);
        }
        sm.texts("inputs", s.inputs);
        sm.texts("outputs", s.outputs);
        sm.texts("after", s.after);
        t.stages.push_back(std::move(s));
    }
}

void Parser::parse_sweep(Map& m, Train& t) {
    if (!m.has("sweep")) {
        m.raw("sweep");
        return;
    }
    Map sm(*this, m.get("sweep"), "train.sweep", "train.sweep");
    Sweep s;
    s.mark = sm.mark();
    std::string method = "grid";
    sm.choice("method", method, {"grid", "random"});
    s.method = method == "random" ? Sweep::Method::random : Sweep::Method::grid;
    sm.integer("trials", s.trials, 1, 100000);
    sm.integer("seed", s.seed, INT64_MIN, INT64_MAX);
    sm.integer("parallel", s.parallel, 1, 1024);
    if (sm.require("objective")) {
        Map obj(*this, sm.get("objective"), "train.sweep.objective", "train.sweep.objective");
        s.objective_mark = obj.mark();
        if (obj.require("metric")) {
            obj.str("metric", s.objective_metric);
        }
        std::string goal = "max";
        obj.choice("goal", goal, {"max", "min"});
        s.maximize = goal == "max";
    }
    if (sm.require("params")) {
        Map params(*this, sm.get("params"), "train.sweep.params", "train.sweep.params");
        if (const Node* p = sm.get("params"); p != nullptr && p->is_map()) {
            for (const auto& e : p->entries) {
                params.raw(e.key);
                SweepParam sp;
                sp.name = e.key;
                sp.mark = e.key_mark;
                const std::string shown = "train.sweep.params." + e.key;
                if (e.value.is_sequence()) {
                    for (const auto& v : e.value.items) {
                        if (!v.is_scalar()) {
                            error(v.mark, fmt::format("values of '{}' must be scalars", shown));
                            continue;
                        }
                        sp.values.push_back(scalar_of(v));
                    }
                    if (sp.values.empty()) {
                        error(e.value.mark, fmt::format("'{}' lists no values", shown));
                    }
                } else if (e.value.is_map()) {
                    Map rm(*this, &e.value, "train.sweep.params.*", shown);
                    const bool has_min = rm.require("min") && rm.number("min", sp.min);
                    const bool has_max = rm.require("max") && rm.number("max", sp.max);
                    std::string type = "float";
                    rm.choice("type", type, {"int", "float"});
                    sp.range_type = type == "int" ? Scalar::Type::integer : Scalar::Type::number;
                    rm.boolean("log", sp.log);
                    if (has_min && has_max && *sp.min >= *sp.max) {
                        error(e.value.mark, fmt::format("'{}': min ({}) must be less than max ({})",
                                                        shown, *sp.min, *sp.max));
                    }
                    if (has_min && sp.log && *sp.min <= 0) {
                        error(e.value.mark,
                              fmt::format("'{}': a log range needs min above 0", shown));
                    }
                } else {
                    error(e.value.mark,
                          fmt::format("'{}' must be a list of values or a range mapping "
                                      "{{min, max, type}}",
                                      shown));
                    continue;
                }
                s.params.push_back(std::move(sp));
            }
        }
    }
    t.sweep = std::move(s);
}

void Parser::parse_model(Map& top) {
    Map m(*this, top.get("model"), "model", "model");
    Model& model = project().model;
    model.mark = m.mark();
    model.name = project().name;
    model.name_given = m.str("name", model.name);
    m.command("evaluate", model.evaluate);
    const Node* gates = m.get("gates");
    if (gates == nullptr) {
        return;
    }
    if (!gates->is_sequence()) {
        error(gates->mark,
              fmt::format("'model.gates' must be a list of gates, not {}", kind_name(gates->kind)));
        return;
    }
    for (size_t i = 0; i < gates->items.size(); ++i) {
        const Node& item = gates->items[i];
        Map gm(*this, &item, "model.gates[]", fmt::format("model.gates[{}]", i));
        if (!item.is_map()) {
            continue;
        }
        Gate g;
        g.mark = item.mark;
        if (gm.require("metric")) {
            gm.text("metric", g.metric);
        }
        gm.number("min", g.min);
        gm.number("max", g.max);
        gm.text("baseline", g.baseline);
        gm.number("max_drop", g.max_drop);
        gm.number("max_increase_pct", g.max_increase_pct);
        const std::string shown = gm.shown();
        const bool relative = g.max_drop || g.max_increase_pct;
        if (!g.min && !g.max && !relative) {
            error(item.mark, fmt::format("'{}' sets no limit", shown),
                  "give min or max, or baseline with max_drop or max_increase_pct");
        }
        if (relative && !g.baseline) {
            error(item.mark,
                  fmt::format("'{}': max_drop and max_increase_pct need a baseline", shown));
        }
        if (g.baseline && !relative) {
            error(g.baseline->mark,
                  fmt::format("'{}': baseline needs max_drop or max_increase_pct", shown));
        }
        if (g.min && g.max && *g.min > *g.max) {
            error(item.mark,
                  fmt::format("'{}': min ({}) is above max ({})", shown, *g.min, *g.max));
        }
        if (g.max_drop && *g.max_drop < 0) {
            error(gm.key_mark("max_drop"),
                  fmt::format("'{}.max_drop' must not be negative", shown));
        }
        if (g.max_increase_pct && *g.max_increase_pct < 0) {
            error(gm.key_mark("max_increase_pct"),
                  fmt::format("'{}.max_increase_pct' must not be negative", shown));
        }
        model.gates.push_back(std::move(g));
    }
}

void Parser::parse_package(Map& top) {
    if (!top.has("package")) {
        top.raw("package");
        return;
    }
    Map m(*this, top.get("package"), "package", "package");
    Package p;
    p.mark = m.mark();
    m.text("image", p.image);
    m.str("base_image", p.base_image);
    m.command("serve", p.serve);
    m.integer("port", p.port, 1, 65535);
    m.texts("files", p.files);
    Map args(*this, m.get("build_args"), "package.build_args", "package.build_args");
    if (const Node* n = m.get("build_args"); n != nullptr && n->is_map()) {
        for (const auto& e : n->entries) {
            args.raw(e.key);
            if (!e.value.is_scalar()) {
                error(e.value.mark, fmt::format("'package.build_args.{}' must be a scalar", e.key));
                continue;
            }
            p.build_args.push_back({e.key, scalar_of(e.value)});
            note_text(Text{e.value.text, e.value.mark}, "package.build_args." + e.key);
        }
    }
    m.boolean("push", p.push);
    m.text("template", p.template_name);
    project().package = std::move(p);
}

std::optional<DriftMethod> Parser::drift_method(Map& m, std::string_view key) {
    std::string s;
    if (!m.choice(key, s, {"auto", "ks", "psi", "wasserstein", "jensenshannon", "chisquare"})) {
        return std::nullopt;
    }
    if (s == "ks") {
        return DriftMethod::ks;
    }
    if (s == "psi") {
        return DriftMethod::psi;
    }
    if (s == "wasserstein") {
        return DriftMethod::wasserstein;
    }
    if (s == "jensenshannon") {
        return DriftMethod::jensenshannon;
    }
    if (s == "chisquare") {
        return DriftMethod::chisquare;
    }
    return DriftMethod::auto_;
}

void Parser::parse_deploy(Map& top) {
    if (!top.has("deploy")) {
        top.raw("deploy");
        return;
    }
    Map m(*this, top.get("deploy"), "deploy", "deploy");
    Deploy d;
    d.mark = m.mark();
    Map health(*this, m.get("health"), "deploy.health", "deploy.health");
    health.str("path", d.health_path);
    if (!d.health_path.empty() && d.health_path[0] != '/') {
        error(health.get("path")->mark, "'deploy.health.path' must start with '/'");
    }
    health.duration("timeout", d.health_timeout);
    Map res(*this, m.get("resources"), "deploy.resources", "deploy.resources");
    res.str("cpu", d.cpu);
    res.str("memory", d.memory);
    Map envs(*this, m.get("environments"), "deploy.environments", "deploy.environments");
    if (const Node* n = m.get("environments"); n != nullptr && n->is_map()) {
        for (const auto& e : n->entries) {
            envs.raw(e.key);
            Environment env;
            parse_environment(envs, e, env);
            d.environments.push_back(std::move(env));
        }
    }
    project().deploy = std::move(d);
}

void Parser::parse_environment(Map& envs, const Node::Entry& e, Environment& env) {
    env.name = e.key;
    env.mark = e.key_mark;
    const std::string shown = envs.path(e.key);
    Map m(*this, &e.value, "deploy.environments.*", shown);
    std::string target = "docker";
    m.choice("target", target, {"docker", "kubernetes"});
    env.target = target == "kubernetes" ? Target::kubernetes : Target::docker;
    m.integer("port", env.port, 1, 65535);
    m.choice("network", env.network, {"host", "bridge"});
    m.text("context", env.context);
    m.str("namespace", env.namespace_name);
    m.integer("replicas", env.replicas, 0, 10000);
    std::string strategy = "rolling";
    m.choice("strategy", strategy, {"rolling", "canary", "bluegreen"});
    env.strategy = strategy == "canary"      ? Strategy::canary
                   : strategy == "bluegreen" ? Strategy::bluegreen
                                             : Strategy::rolling;
    Map canary(*this, m.get("canary"), "deploy.environments.*.canary", shown + ".canary");
    if (const Node* steps = canary.get("steps")) {
        if (!steps->is_sequence() || steps->items.empty()) {
            error(steps->mark,
                  fmt::format("'{}.canary.steps' must be a list of percentages", shown));
        } else {
            env.canary_steps.clear();
            int prev = 0;
            for (const auto& s : steps->items) {
                int64_t v = 0;
                if (!s.is_scalar() || !s.plain || !is_int(s.text) || (v = std::stoll(s.text)) < 1 ||
                    v > 100) {
                    error(s.mark, fmt::format("canary steps are whole percentages from 1 to 100, "
                                              "not {}",
                                              s.is_scalar() ? util::quote(s.text) : "a list"));
                    continue;
                }
                if (v <= prev) {
                    error(s.mark, fmt::format("canary steps must rise: {} follows {}", v, prev));
                }
                prev = static_cast<int>(v);
                env.canary_steps.push_back(static_cast<int>(v));
            }
            if (prev != 100 && prev != 0) {
                error(steps->mark, "the last canary step must be 100",
                      "the new version takes all replicas at the last step");
            }
        }
    }
    canary.duration("pause", env.canary_pause, true);
    Map bg(*this, m.get("bluegreen"), "deploy.environments.*.bluegreen", shown + ".bluegreen");
    bg.duration("scale_down_delay", env.scale_down_delay, true);
    m.integer("max_restarts", env.max_restarts, 0, 1000);
    m.text("requires", env.requires_env);
    const Node* analysis = m.get("analysis");
    if (analysis == nullptr) {
        return;
    }
    if (!analysis->is_sequence()) {
        error(analysis->mark, fmt::format("'{}.analysis' must be a list of checks", shown));
        return;
    }
    for (size_t i = 0; i < analysis->items.size(); ++i) {
        const Node& item = analysis->items[i];
        const std::string ashown = fmt::format("{}.analysis[{}]", shown, i);
        Map am(*this, &item, "deploy.environments.*.analysis[]", ashown);
        if (!item.is_map()) {
            continue;
        }
        Analysis a;
        a.mark = item.mark;
        const int kinds = am.has("prometheus") + am.has("command") + am.has("monitor");
        if (kinds != 1) {
            error(item.mark, fmt::format("'{}' must have exactly one of prometheus, command and "
                                         "monitor",
                                         ashown));
            continue;
        }
        if (am.has("prometheus")) {
            a.kind = Analysis::Kind::prometheus;
            Map pm(*this, am.get("prometheus"), "deploy.environments.*.analysis[].prometheus",
                   ashown + ".prometheus");
            if (pm.require("url")) {
                pm.text("url", a.url);
            }
            if (pm.require("query")) {
                pm.text("query", a.query);
            }
            pm.number("min", a.min);
            pm.number("max", a.max);
            if (!a.min && !a.max && item.entries.size() == 1) {
                error(pm.mark(), fmt::format("'{}.prometheus' sets neither min nor max", ashown));
            }
        } else if (am.has("command")) {
            a.kind = Analysis::Kind::command;
            am.command("command", a.command);
        } else {
            a.kind = Analysis::Kind::monitor;
            Map mm(*this, am.get("monitor"), "deploy.environments.*.analysis[].monitor",
                   ashown + ".monitor");
            if (mm.require("current")) {
                mm.texts("current", a.current, true);
            }
        }
        env.analysis.push_back(std::move(a));
    }
}

void Parser::parse_monitor(Map& top) {
    if (!top.has("monitor")) {
        top.raw("monitor");
        return;
    }
    Map m(*this, top.get("monitor"), "monitor", "monitor");
    Monitor mon;
    mon.mark = m.mark();
    m.text("reference", mon.reference);
    m.texts("current", mon.current, true);
    std::string s;
    if (m.str("prediction", s)) {
        mon.prediction = s;
    }
    if (m.str("id", s)) {
        mon.id = s;
    }
    if (m.str("timestamp", s)) {
        mon.timestamp = s;
    }
    m.duration("window", mon.window);
    if (m.has("feedback")) {
        Map fm(*this, m.get("feedback"), "monitor.feedback", "monitor.feedback");
        if (fm.require("path")) {
            fm.text("path", mon.feedback_path);
        }
        fm.str("id", mon.feedback_id);
    }
    Map dm(*this, m.get("drift"), "monitor.drift", "monitor.drift");
    if (auto method = drift_method(dm, "method")) {
        mon.drift_method = *method;
    }
    dm.number("threshold", mon.drift_threshold);
    std::optional<double> share;
    if (dm.fraction("share", share, false)) {
        mon.drift_share = *share;
    }
    Map cols(*this, dm.get("columns"), "monitor.drift.columns", "monitor.drift.columns");
    if (const Node* n = dm.get("columns"); n != nullptr && n->is_map()) {
        for (const auto& e : n->entries) {
            cols.raw(e.key);
            ColumnDrift cd;
            cd.column = Text{e.key, e.key_mark};
            Map cm(*this, &e.value, "monitor.drift.columns.*", "monitor.drift.columns." + e.key);
            cd.method = drift_method(cm, "method");
            cm.number("threshold", cd.threshold);
            mon.drift_columns.push_back(std::move(cd));
        }
    }
    if (m.has("performance")) {
        Map pm(*this, m.get("performance"), "monitor.performance", "monitor.performance");
        std::string metric;
        if (pm.require("metric") && pm.choice("metric", metric,
                                              {"accuracy", "precision", "recall", "f1", "auc",
                                               "log_loss", "rmse", "mae", "r2"})) {
            mon.performance_metric = Text{metric, pm.get("metric")->mark};
        }
        pm.number("min", mon.performance_min);
        pm.number("max", mon.performance_max);
    }
    if (const Node* kpis = m.get("kpis")) {
        if (!kpis->is_sequence()) {
            error(kpis->mark, "'monitor.kpis' must be a list");
        } else {
            for (size_t i = 0; i < kpis->items.size(); ++i) {
                Map km(*this, &kpis->items[i], "monitor.kpis[]",
                       fmt::format("monitor.kpis[{}]", i));
                if (!kpis->items[i].is_map()) {
                    continue;
                }
                Kpi k;
                k.mark = kpis->items[i].mark;
                if (km.require("column")) {
                    km.text("column", k.column);
                }
                km.choice("agg", k.agg, {"mean", "sum", "min", "max", "count", "median"});
                km.number("min", k.min);
                km.number("max", k.max);
                mon.kpis.push_back(std::move(k));
            }
        }
    }
    m.boolean("resources", mon.resources);
    if (const Node* alerts = m.get("alerts")) {
        if (!alerts->is_sequence()) {
            error(alerts->mark, "'monitor.alerts' must be a list");
        } else {
            for (size_t i = 0; i < alerts->items.size(); ++i) {
                const Node& item = alerts->items[i];
                const std::string shown = fmt::format("monitor.alerts[{}]", i);
                Map am(*this, &item, "monitor.alerts[]", shown);
                if (!item.is_map()) {
                    continue;
                }
                Alert a;
                a.mark = item.mark;
                if (am.has("webhook") == am.has("command")) {
                    error(item.mark,
                          fmt::format("'{}' must have exactly one of webhook and command", shown));
                    continue;
                }
                if (am.has("webhook")) {
                    a.kind = Alert::Kind::webhook;
                    am.text("webhook", a.url);
                } else {
                    a.kind = Alert::Kind::command;
                    am.command("command", a.command);
                }
                mon.alerts.push_back(std::move(a));
            }
        }
    }
    std::string on_alert = "none";
    m.choice("on_alert", on_alert, {"retrain", "none"});
    mon.on_alert_retrain = on_alert == "retrain";
    Map prom(*this, m.get("prometheus"), "monitor.prometheus", "monitor.prometheus");
    prom.text("textfile", mon.prometheus_textfile);
    prom.text("pushgateway", mon.prometheus_pushgateway);
    project().monitor = std::move(mon);
}

}  // namespace

void sort_diagnostics(std::vector<error::Diagnostic>& diagnostics) {
    std::stable_sort(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::pair(a.where.line, a.where.column) <
                                std::pair(b.where.line, b.where.column);
                     });
}

ParseResult parse_project(std::string_view text, const std::filesystem::path& file,
                          const std::string& display_file) {
    ParseResult out;
    out.project.file = file;
    out.project.root = file.parent_path();
    out.project.display_file = display_file;
    auto root = parse_yaml(text, display_file, out.diagnostics);
    if (!root) {
        return out;
    }
    out.parsed = true;
    Parser p(display_file, out);
    p.parse(*root);
    sort_diagnostics(out.diagnostics);
    return out;
}

}  // namespace mloop::config
