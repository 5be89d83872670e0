#include "data/expect.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <re2/re2.h>
#include <nlohmann/json.hpp>

#include "data/value.hpp"
#include "store/sha256.hpp"
#include "util/text.hpp"

namespace mloop::data {

namespace {

// Bump when what a type accepts, or how an expectation is judged, changes: recorded results
// made under other rules are then not reused.
constexpr int k_rules_version = 1;

constexpr size_t k_max_extra_names = 20;

std::string number_text(double v) {
    if (std::floor(v) == v && std::fabs(v) < 1e15) {
        return fmt::format("{}", static_cast<int64_t>(v));
    }
    return fmt::format("{}", v);
}

std::string percent(double f) {
    return number_text(std::round(f * 1e6) / 1e4) + "%";
}

}  // namespace

Rules::Rules(const config::Schema& s) : schema(&s) {
    for (const auto& c : s.columns) {
        m_index.emplace(c.name, static_cast<int>(columns.size()));
        columns.push_back(&c);
    }
}

int Rules::find(std::string_view name) const {
    const auto it = m_index.find(name);
    return it == m_index.end() ? -1 : it->second;
}

std::string schema_digest(const config::Schema& s, const std::string& format) {
    nlohmann::ordered_json cols = nlohmann::ordered_json::array();
    for (const auto& c : s.columns) {
        nlohmann::ordered_json j = {{"name", c.name},
                                    {"type", config::column_type_name(c.type)},
                                    {"unique", c.unique},
                                    {"nullable", c.nullable},
                                    {"mostly", c.mostly}};
        if (c.max_null_fraction) {
            j["max_null_fraction"] = *c.max_null_fraction;
        }
        if (c.min) {
            j["min"] = *c.min;
        }
        if (c.max) {
            j["max"] = *c.max;
        }
        if (!c.values.empty()) {
            j["values"] = c.values;
        }
        if (c.pattern) {
            j["pattern"] = c.pattern->value;
        }
        cols.push_back(std::move(j));
    }
    nlohmann::ordered_json doc = {{"rules", k_rules_version},
                                  {"format", format},
                                  {"columns", std::move(cols)},
                                  {"extra_columns", static_cast<int>(s.extra_columns)}};
    if (s.rows_min) {
        doc["rows_min"] = *s.rows_min;
    }
    if (s.rows_max) {
        doc["rows_max"] = *s.rows_max;
    }
    return store::sha256(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)).str();
}

// ---------------------------------------------------------------------------------------------
// Tallies

void Tally::add(uint64_t pos, std::string_view value) {
    ++count;
    if (samples.size() < k_samples) {
        samples.emplace_back(pos, display_value(value));
    }
}

void Tally::add_null(uint64_t pos) {
    ++count;
    if (samples.size() < k_samples) {
        samples.emplace_back(pos, "null");
    }
}

void Tally::merge(Tally&& later, uint64_t offset) {
    count += later.count;
    for (auto& s : later.samples) {
        if (samples.size() >= k_samples) {
            break;
        }
        samples.emplace_back(s.first + offset, std::move(s.second));
    }
}

Accumulator::Accumulator(const Rules& rules) : columns(rules.columns.size()) {
    for (size_t i = 0; i < rules.columns.size(); ++i) {
        if (rules.columns[i]->unique) {
            columns[i].seen.emplace();
        }
    }
}

void Accumulator::note_extra(std::string_view name, uint64_t pos) {
    if (extra_names.size() >= k_max_fields) {
        return;  // a hostile file's endless names: the count stops there
    }
    if (!extra_names.emplace(name).second) {
        return;
    }
    ++extra_total;
    if (extra.size() < k_max_extra_names) {
        extra.emplace_back(std::string(name), pos);
    }
}

void Accumulator::merge(Accumulator&& later, uint64_t offset) {
    rows += later.rows;
    for (size_t i = 0; i < columns.size(); ++i) {
        ColumnTally& a = columns[i];
        ColumnTally& b = later.columns[i];
        a.values += b.values;
        a.nulls += b.nulls;
        a.typed += b.typed;
        a.present = a.present || b.present;
        a.missing_files += b.missing_files;
        a.not_null.merge(std::move(b.not_null), offset);
        a.type.merge(std::move(b.type), offset);
        a.min.merge(std::move(b.min), offset);
        a.max.merge(std::move(b.max), offset);
        a.values_in.merge(std::move(b.values_in), offset);
        a.pattern.merge(std::move(b.pattern), offset);
        if (a.seen && b.seen) {
            // A value first seen in the later part that the earlier part has is one more
            // duplicate, at the position it was first seen in the later part.
            std::vector<std::pair<uint64_t, std::string>> found;
            a.seen->reserve(a.seen->size() + b.seen->size());
            b.seen->for_each([&](std::string_view v, uint64_t pos) {
                if (!a.seen->insert(v, pos + offset)) {
                    ++a.unique.count;
                    found.emplace_back(pos + offset, display_value(v));
                }
            });
            a.unique.count += b.unique.count;
            for (auto& s : b.unique.samples) {
                found.emplace_back(s.first + offset, std::move(s.second));
            }
            std::sort(found.begin(), found.end(),
                      [](const auto& x, const auto& y) { return x.first < y.first; });
            for (auto& f : found) {
                if (a.unique.samples.size() >= k_samples) {
                    break;
                }
                a.unique.samples.push_back(std::move(f));
            }
            b.seen.reset();
        }
    }
    // The later part's names in order of first sight, then those beyond its first few.
    for (const auto& e : later.extra) {
        note_extra(e.first, e.second + offset);
    }
    for (const auto& name : later.extra_names) {
        if (extra_names.size() < k_max_fields && extra_names.insert(name).second) {
            ++extra_total;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checking

Checker::Checker(const Rules& rules, Accumulator& acc) : m_rules(rules), m_acc(acc) {
    const size_t n = rules.columns.size();
    m_patterns.resize(n);
    m_values.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const config::Column& c = *rules.columns[i];
        if (c.pattern) {
            RE2::Options opts;
            opts.set_log_errors(false);
            auto re = std::make_unique<RE2>(c.pattern->value, opts);
            if (re->ok()) {  // `validate config` reports a pattern that is not
                m_patterns[i] = std::move(re);
            }
        }
        for (const auto& v : c.values) {
            m_values[i].push_back(v);
        }
        ColumnTally& t = acc.columns[i];
        m_plans.push_back(
            Plan{c.type, c.nullable, c.min.has_value(), c.max.has_value(), c.min.value_or(0),
                 c.max.value_or(0), m_values[i].empty() ? nullptr : m_values[i].data(),
                 m_values[i].size(), m_patterns[i].get(), t.seen ? &*t.seen : nullptr, &t});
    }
    m_seen_in_row.assign(n, 0);
}

Checker::~Checker() = default;

void Checker::begin_csv(const std::vector<std::string>& header, uint64_t file, bool first_part) {
    m_file = file;
    m_csv_map.assign(header.size(), -1);
    finish();
    m_csv_unique.clear();
    std::vector<bool> found(m_rules.columns.size(), false);
    for (size_t i = 0; i < header.size(); ++i) {
        const int c = m_rules.find(header[i]);
        m_csv_map[i] = c;
        if (c >= 0) {
            found[static_cast<size_t>(c)] = true;
            if (m_plans[static_cast<size_t>(c)].seen != nullptr) {
                Pending p;
                p.plan = &m_plans[static_cast<size_t>(c)];
                m_csv_unique.emplace_back(i, std::move(p));
            }
        } else if (first_part) {
            m_acc.note_extra(header[i], position(file, 1));
        }
    }
    if (first_part) {
        for (size_t c = 0; c < found.size(); ++c) {
            if (found[c]) {
                m_acc.columns[c].present = true;
            } else {
                ++m_acc.columns[c].missing_files;
            }
        }
    }
}

void Checker::begin_jsonl(uint64_t file) {
    m_file = file;
    m_key_cache.clear();
}

void Checker::sample_row(uint64_t bytes) {
    if (m_sample_rows == 0) {
        m_seen_before.clear();
        for (const auto& plan : m_plans) {
            m_seen_before.push_back(plan.seen != nullptr ? plan.seen->size() : 0);
        }
    }
    m_sample_bytes += bytes;
    if (++m_sample_rows < k_sample_rows || m_expect_bytes == 0 || m_sample_bytes == 0) {
        return;
    }
    // 5 % over the estimate: rows a little longer than the first ones' still fit. An estimate
    // past every row the bytes can hold (a row takes a byte at least) is not believed.
    const double rows =
        std::min(static_cast<double>(m_expect_bytes) * static_cast<double>(m_sample_rows) /
                     static_cast<double>(m_sample_bytes) * 1.05,
                 static_cast<double>(m_expect_bytes));
    for (size_t i = 0; i < m_plans.size(); ++i) {
        UniqueSet* seen = m_plans[i].seen;
        if (seen == nullptr) {
            continue;
        }
        // Room for as many distinct values as the first rows promise at their rate, so that
        // memory stays in proportion to the distinct values: a column of a few values repeated
        // reserves little. (Capped at 2^32 values, which would be a 64 GiB table.)
        const double share = static_cast<double>(seen->size() - m_seen_before[i]) /
                             static_cast<double>(m_sample_rows);
        const auto want = static_cast<size_t>(std::min(rows * share, 4294967296.0));
        try {
            seen->reserve(seen->size() + want);
        } catch (const std::bad_alloc&) {
            // the set grows as it goes instead
        }
    }
}

void Checker::row(uint64_t number, std::span<const std::string_view> fields) {
    if (m_sample_rows < k_sample_rows) [[unlikely]] {
        uint64_t bytes = fields.size();  // the delimiters and the newline
        for (const auto& f : fields) {
            bytes += f.size();
        }
        sample_row(bytes);
    }
    const uint64_t pos = position(m_file, number);
    ++m_acc.rows;
    const size_t n = std::min(fields.size(), m_csv_map.size());
    for (size_t i = 0; i < n; ++i) {
        const int c = m_csv_map[i];
        if (c >= 0) {
            check(m_plans[static_cast<size_t>(c)], Input::text, fields[i], pos, 1);
        }
    }
    // Unique columns: the previous row's value goes in now, this row's waits.
    for (auto& [i, held] : m_csv_unique) {
        if (held.held) {
            insert_unique(held);
        }
        if (i < n && !fields[i].empty()) {
            held.hash = UniqueSet::hash(fields[i]);
            held.plan->seen->prefetch(held.hash);
            held.pos = pos;
            held.value.assign(fields[i]);
            held.held = true;
        }
    }
}

void Checker::insert_unique(Pending& p) {
    if (!p.plan->seen->insert(p.value, p.hash, p.pos)) {
        p.plan->tally->unique.add(p.pos, p.value);
    }
    p.held = false;
}

void Checker::finish() {
    for (auto& [i, held] : m_csv_unique) {
        if (held.held) {
            insert_unique(held);
        }
    }
}

int Checker::column_of(std::string_view key, size_t index) {
    // JSON lines mostly repeat their keys in one order: try the column seen at this index last.
    if (index < m_key_cache.size()) {
        const int c = m_key_cache[index];
        if (c >= 0 && m_rules.columns[static_cast<size_t>(c)]->name == key) {
            return c;
        }
    } else {
        m_key_cache.resize(index + 1, -1);
    }
    const int c = m_rules.find(key);
    m_key_cache[index] = c;
    return c;
}

void Checker::row(uint64_t number, std::span<const JsonField> fields) {
    if (m_sample_rows < k_sample_rows) [[unlikely]] {
        uint64_t bytes = 3;  // {}, the newline
        for (const auto& f : fields) {
            bytes += f.key.size() + f.text.size() + 6;  // quotes, colon, comma, a space
        }
        sample_row(bytes);
    }
    const uint64_t pos = position(m_file, number);
    ++m_acc.rows;
    ++m_row;
    for (size_t i = 0; i < fields.size(); ++i) {
        const JsonField& f = fields[i];
        const int c = column_of(f.key, i);
        if (c < 0) {
            m_acc.note_extra(f.key, pos);
            continue;
        }
        const auto ci = static_cast<size_t>(c);
        if (m_seen_in_row[ci] == m_row) {
            throw DataError(
                fmt::format("member {} appears twice in the object", display_value(f.key, 60)),
                number, f.offset + 1, std::string(f.key));
        }
        m_seen_in_row[ci] = m_row;
        m_acc.columns[ci].present = true;
        Input in = Input::json_other;
        switch (f.kind) {
            case JsonKind::null:
                check(m_plans[ci], Input::text, {}, pos, 0);
                continue;
            case JsonKind::string:
                in = Input::json_string;
                break;
            case JsonKind::number:
                in = Input::json_number;
                break;
            case JsonKind::true_:
            case JsonKind::false_:
                in = Input::json_bool;
                break;
            case JsonKind::object:
            case JsonKind::array:
                break;
        }
        check(m_plans[ci], in, f.text, pos, 0);  // "" is a value in JSON, not a null
    }
    // A member missing from the object is a null.
    for (size_t c = 0; c < m_seen_in_row.size(); ++c) {
        if (m_seen_in_row[c] != m_row) {
            check(m_plans[c], Input::text, {}, pos, 0);
        }
    }
}

// `unique`: 0 to check uniqueness here, else the caller does (CSV holds values back a row).
void Checker::check(const Plan& p, Input input, std::string_view text, uint64_t pos,
                    uint64_t unique) {
    ColumnTally& t = *p.tally;
    if (input == Input::text && text.empty()) {
        ++t.nulls;
        if (!p.nullable) {
            t.not_null.add_null(pos);
        }
        return;
    }
    ++t.values;
    const bool as_text = input == Input::text;
    bool typed = true;
    bool numeric = false;
    double number = 0;
    switch (p.type) {
        case config::ColumnType::string:
            typed = as_text || input == Input::json_string;
            break;
        case config::ColumnType::category:
            typed = input != Input::json_other;
            break;
        case config::ColumnType::integer:
            if (as_text || input == Input::json_number) {
                int64_t v = 0;
                if (parse_int(text, v)) {
                    numeric = true;
                    number = static_cast<double>(v);
                }
            }
            typed = numeric;
            break;
        case config::ColumnType::floating:
            if (as_text || input == Input::json_number) {
                numeric = parse_float(text, number);
            }
            typed = numeric;
            break;
        case config::ColumnType::boolean:
            typed = input == Input::json_bool ||
                    ((as_text || input == Input::json_number) && parse_bool(text).has_value());
            break;
        case config::ColumnType::datetime:
            typed = (as_text || input == Input::json_string) && parse_datetime(text).has_value();
            break;
    }
    if (!typed) {
        t.type.add(pos, text);
    } else {
        ++t.typed;
        if (numeric) {
            if (p.has_min && number < p.min) {
                t.min.add(pos, text);
            }
            if (p.has_max && number > p.max) {
                t.max.add(pos, text);
            }
        }
        if (p.values != nullptr) {
            bool found = false;
            for (size_t k = 0; k < p.n_values && !found; ++k) {
                found = p.values[k] == text;
            }
            if (!found) {
                t.values_in.add(pos, text);
            }
        }
    }
    if (p.pattern != nullptr && !p.pattern->Match(re2::StringPiece(text.data(), text.size()), 0,
                                                  text.size(), RE2::UNANCHORED, nullptr, 0)) {
        t.pattern.add(pos, text);
    }
    if (p.seen != nullptr && unique == 0 && !p.seen->insert(text, pos)) {
        t.unique.add(pos, text);
    }
}

// ---------------------------------------------------------------------------------------------
// Verdicts

std::vector<Expectation> judge(const Rules& rules, const Accumulator& acc,
                               const std::vector<std::string>& files) {
    std::vector<Expectation> out;
    auto samples_of = [&](const Tally& t) {
        std::vector<Sample> s;
        for (const auto& [pos, value] : t.samples) {
            const uint64_t file = pos >> k_row_bits;
            s.push_back(
                {file < files.size() ? files[file] : std::string{}, pos & k_row_mask, value});
        }
        return s;
    };
    auto add = [&](std::string kind, std::string column, std::string expected, uint64_t checked,
                   const Tally& t, double allowed) {
        Expectation e;
        e.kind = std::move(kind);
        e.column = std::move(column);
        e.expected = std::move(expected);
        e.checked = checked;
        e.failed = t.count;
        e.allowed = allowed;
        e.samples = samples_of(t);
        // A tolerance is a share: allow at most floor(allowed * checked) failures (with a hair
        // of slack for shares like 0.01 that binary floating point cannot hold exactly).
        const double limit = std::floor(allowed * static_cast<double>(checked) + 1e-9);
        e.verdict = static_cast<double>(t.count) <= limit ? Verdict::pass : Verdict::fail;
        out.push_back(std::move(e));
    };
    for (size_t i = 0; i < rules.columns.size(); ++i) {
        const config::Column& c = *rules.columns[i];
        const ColumnTally& t = acc.columns[i];
        if (!t.present || t.missing_files > 0) {
            Tally missing;
            missing.count = std::max<uint64_t>(t.missing_files, 1);
            add("present", c.name, "present", std::max<size_t>(files.size(), 1), missing, 0);
            continue;
        }
        const double tolerance = 1.0 - c.mostly;
        add("type", c.name, std::string("type ") + config::column_type_name(c.type), t.values,
            t.type, tolerance);
        if (!c.nullable) {
            add("not_null", c.name, "not null", acc.rows, t.not_null, 0);
        }
        if (c.max_null_fraction) {
            Tally nulls;
            nulls.count = t.nulls;
            add("null_fraction", c.name, "nulls <= " + percent(*c.max_null_fraction), acc.rows,
                nulls, *c.max_null_fraction);
        }
        if (c.min) {
            add("min", c.name, ">= " + number_text(*c.min), t.typed, t.min, tolerance);
        }
        if (c.max) {
            add("max", c.name, "<= " + number_text(*c.max), t.typed, t.max, tolerance);
        }
        if (!c.values.empty()) {
            add("values", c.name, "in " + util::join(c.values, ", "), t.typed, t.values_in,
                tolerance);
        }
        if (c.pattern) {
            add("pattern", c.name, "matches " + display_value(c.pattern->value, 60), t.values,
                t.pattern, tolerance);
        }
        if (c.unique) {
            add("unique", c.name, "unique", t.values, t.unique, 0);
        }
    }
    const config::Schema& s = *rules.schema;
    if (s.rows_min) {
        Tally few;
        few.count = acc.rows < static_cast<uint64_t>(*s.rows_min) ? 1 : 0;
        add("rows_min", "", fmt::format("rows >= {}", *s.rows_min), acc.rows, few, 0);
    }
    if (s.rows_max) {
        Tally many;
        many.count = acc.rows > static_cast<uint64_t>(*s.rows_max) ? 1 : 0;
        add("rows_max", "", fmt::format("rows <= {}", *s.rows_max), acc.rows, many, 0);
    }
    if (s.extra_columns != config::ExtraColumns::ignore) {
        Tally extra;
        for (const auto& [name, pos] : acc.extra) {
            extra.samples.emplace_back(pos, display_value(name, 60));
        }
        extra.count = acc.extra_total;
        if (extra.samples.size() > k_samples) {
            extra.samples.resize(k_samples);
        }
        add("extra_columns", "", "no columns beyond the schema's",
            acc.extra_total + rules.columns.size(), extra, 0);
        if (extra.count > 0 && s.extra_columns == config::ExtraColumns::warn) {
            out.back().verdict = Verdict::warn;
        }
    }
    return out;
}

}  // namespace mloop::data
