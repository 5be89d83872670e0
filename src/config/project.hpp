// The project file as typed data (SPEC §5). Every value that a later step may complain about
// keeps the position it was written at, so errors found at run time still say file:line:col.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/yaml_tree.hpp"

namespace mloop::config {

using Seconds = std::chrono::seconds;

// A string from the file and where it was written. May contain ${…} variables.
struct Text {
    std::string value;
    Mark mark;
};

using Command = std::vector<Text>;  // an argument vector, never a shell line

// A scalar whose type is whatever the YAML said (params, sweep values, build args).
struct Scalar {
    enum class Type { string, integer, number, boolean };
    Type type = Type::string;
    std::string text;
    Mark mark;
};

struct NamedScalar {
    std::string name;
    Scalar value;
};

struct Dataset {
    std::string name;
    Text path;
    std::string format;       // csv | jsonl; empty: from the suffix
    bool compressed = false;  // .gz, from the suffix
    bool snapshot = true;
    Mark mark;
};

enum class ColumnType { string, integer, floating, boolean, category, datetime };
const char* column_type_name(ColumnType t);

struct Column {
    std::string name;
    ColumnType type = ColumnType::string;
    bool type_known = true;  // false when the file named a type that does not exist
    bool unique = false;
    bool nullable = true;
    std::optional<double> max_null_fraction;
    std::optional<double> min;
    std::optional<double> max;
    std::vector<std::string> values;  // category values
    std::optional<Text> pattern;      // a regular expression (RE2 syntax)
    double mostly = 1.0;              // the share of rows that must pass
    Mark mark;
};

enum class ExtraColumns { error, warn, ignore };

struct Schema {
    std::vector<Column> columns;
    std::optional<int64_t> rows_min;
    std::optional<int64_t> rows_max;
    ExtraColumns extra_columns = ExtraColumns::error;
    Mark mark;
};

struct Stage {
    Text name;
    Command command;
    std::vector<Text> inputs;
    std::vector<Text> outputs;
    std::vector<Text> after;
    Mark mark;
};

struct SweepParam {
    std::string name;
    std::vector<Scalar> values;  // a list of choices
    // or a range
    std::optional<double> min;
    std::optional<double> max;
    Scalar::Type range_type = Scalar::Type::number;  // integer | number
    bool log = false;
    Mark mark;
};

struct Sweep {
    enum class Method { grid, random };
    Method method = Method::grid;
    int trials = 10;
    int64_t seed = 0;
    int parallel = 1;
    std::string objective_metric;
    bool maximize = true;
    Mark objective_mark;
    std::vector<SweepParam> params;
    Mark mark;
};

struct Triggers {
    bool data_changed = true;
    bool code_changed = true;
    bool drift = false;
    bool performance = false;
    std::optional<Seconds> max_age;
};

struct Train {
    Command command;
    bool command_given = false;  // the key is present, even if its value was rejected
    std::vector<NamedScalar> params;
    Text metrics{"metrics.json", {}};
    std::vector<Text> artifacts;
    std::vector<Text> inputs;
    std::optional<Seconds> timeout;
    std::vector<std::pair<std::string, Text>> env;
    std::vector<Text> secrets;
    std::vector<Stage> stages;
    std::optional<Sweep> sweep;
    Triggers triggers;
    Mark mark;
};

struct Gate {
    Text metric;
    std::optional<double> min;
    std::optional<double> max;
    std::optional<Text> baseline;  // an alias or environment
    std::optional<double> max_drop;
    std::optional<double> max_increase_pct;
    Mark mark;
};

struct Model {
    std::string name;  // default: the project's name
    bool name_given = false;
    std::vector<Gate> gates;
    Command evaluate;
    Mark mark;
};

struct Package {
    std::optional<Text> image;
    std::string base_image = "python:3.11-slim";
    Command serve;
    int port = 8080;
    std::vector<Text> files;
    std::vector<NamedScalar> build_args;
    bool push = false;
    Text template_name{"Dockerfile", {}};
    Mark mark;
};

struct Analysis {
    enum class Kind { prometheus, command, monitor };
    Kind kind = Kind::command;
    // prometheus
    Text url;
    Text query;
    std::optional<double> min;
    std::optional<double> max;
    // command
    Command command;
    // monitor
    std::vector<Text> current;
    Mark mark;
};

enum class Target { docker, kubernetes };
enum class Strategy { rolling, canary, bluegreen };
const char* strategy_name(Strategy s);

struct Environment {
    std::string name;
    Target target = Target::docker;
    int port = 8080;
    std::string network = "host";  // host | bridge
    std::optional<Text> context;
    std::string namespace_name = "default";
    int replicas = 1;
    Strategy strategy = Strategy::rolling;
    std::vector<int> canary_steps{25, 50, 100};
    Seconds canary_pause{60};
    Seconds scale_down_delay{600};
    int max_restarts = 3;
    std::optional<Text> requires_env;
    std::vector<Analysis> analysis;
    Mark mark;
};

struct Deploy {
    std::string health_path = "/healthz";
    Seconds health_timeout{120};
    std::string cpu = "500m";
    std::string memory = "512Mi";
    std::vector<Environment> environments;
    Mark mark;
};

enum class DriftMethod { auto_, ks, psi, wasserstein, jensenshannon, chisquare };
const char* drift_method_name(DriftMethod m);

struct ColumnDrift {
    Text column;
    std::optional<DriftMethod> method;
    std::optional<double> threshold;
};

struct Kpi {
    Text column;
    std::string agg = "mean";  // mean | sum | min | max | count | median
    std::optional<double> min;
    std::optional<double> max;
    Mark mark;
};

struct Alert {
    enum class Kind { webhook, command };
    Kind kind = Kind::webhook;
    Text url;
    Command command;
    Mark mark;
};

struct Monitor {
    Text reference{"auto", {}};
    std::vector<Text> current;
    std::optional<std::string> prediction;
    std::optional<std::string> id;
    std::optional<std::string> timestamp;
    std::optional<Seconds> window;
    std::optional<Text> feedback_path;
    std::string feedback_id;  // default: monitor.id
    DriftMethod drift_method = DriftMethod::auto_;
    std::optional<double> drift_threshold;
    double drift_share = 0.5;
    std::vector<ColumnDrift> drift_columns;
    std::optional<Text> performance_metric;
    std::optional<double> performance_min;
    std::optional<double> performance_max;
    std::vector<Kpi> kpis;
    bool resources = true;
    std::vector<Alert> alerts;
    bool on_alert_retrain = false;
    std::optional<Text> prometheus_textfile;
    std::optional<Text> prometheus_pushgateway;
    Mark mark;
};

struct Project {
    std::filesystem::path file;  // the project file, absolute
    std::filesystem::path root;  // its directory
    std::string display_file;    // the path shown in messages
    int format = 1;
    std::string name;
    Mark name_mark;
    std::vector<Dataset> data;
    std::optional<Schema> schema;
    std::optional<Text> target;
    std::vector<Text> features;
    bool features_given = false;
    std::optional<Train> train;
    Model model;
    std::optional<Package> package;
    std::optional<Deploy> deploy;
    std::optional<Monitor> monitor;

    const Dataset* dataset(std::string_view name) const;
    const Environment* environment(std::string_view name) const;
    // The environment `wanted`, or a UsageError naming the project file, with a guess at the
    // name meant and the environments there are (deploy, rollback, status and monitor).
    const Environment& require_environment(const std::string& wanted) const;
    // The feature columns: `features`, or the schema's columns minus target and unique ones.
    std::vector<std::string> feature_names() const;
};

}  // namespace mloop::config
