#include "config/keys.hpp"

#include <algorithm>

namespace mloop::config {

namespace {

// clang-format off
constexpr KeyInfo k_keys[] = {
    {"mloop", "integer", "1", "file format version; this mloop reads version 1"},
    {"project", "name", "", "required; [a-z][a-z0-9-]{0,40}; names the model, images and deployments"},

    {"data", "mapping", "", "named datasets"},
    {"data.*", "path or mapping", "", "a dataset: a file or directory path, or a mapping with path, format and snapshot"},
    {"data.*.path", "path", "", "required; a file (csv or jsonl, optionally .gz) or a directory, relative to the project"},
    {"data.*.format", "csv | jsonl", "from the suffix", "how to read the file"},
    {"data.*.snapshot", "boolean", "true", "copy the data into the store at each run; false records its hash only"},

    {"schema", "mapping", "", "expectations checked by 'mloop validate data'"},
    {"schema.columns", "mapping", "", "expected columns, by name"},
    {"schema.columns.*", "mapping", "", "one column and its expectations"},
    {"schema.columns.*.type", "string | int | float | bool | category | datetime", "string", "the column's type; datetime is ISO 8601"},
    {"schema.columns.*.unique", "boolean", "false", "every non-null value differs"},
    {"schema.columns.*.nullable", "boolean", "true", "empty values are allowed"},
    {"schema.columns.*.max_null_fraction", "number in [0, 1]", "", "the largest share of empty values"},
    {"schema.columns.*.min", "number", "", "smallest allowed value (int and float columns)"},
    {"schema.columns.*.max", "number", "", "largest allowed value (int and float columns)"},
    {"schema.columns.*.values", "list of strings", "", "the allowed categories (category columns)"},
    {"schema.columns.*.pattern", "regular expression", "", "RE2 syntax; every non-null value must match"},
    {"schema.columns.*.mostly", "number in (0, 1]", "1", "the share of rows that must meet this column's expectations"},
    {"schema.rows", "mapping", "", "bounds on the number of rows"},
    {"schema.rows.min", "integer", "", "fewest rows"},
    {"schema.rows.max", "integer", "", "most rows"},
    {"schema.extra_columns", "error | warn | ignore", "error", "what a column not named under schema.columns is"},

    {"target", "column name", "", "the label column"},
    {"features", "list of column names", "schema columns minus target and unique columns", "the model's input columns"},

    {"train", "mapping", "", "how a model is trained ('mloop train')"},
    {"train.command", "command", "", "the training command as an argument list; required unless stages are given"},
    {"train.params", "mapping", "", "hyper-parameters, written to ${run.dir}/params.json and as MLOOP_PARAM_<NAME>"},
    {"train.params.*", "scalar", "", "one parameter: a string, number or boolean"},
    {"train.metrics", "path", "metrics.json", "in ${run.dir}; a flat JSON object of numbers"},
    {"train.artifacts", "list of paths", "", "in ${run.dir}; they become the model version's files"},
    {"train.inputs", "list of paths", "", "code and data files that define the run; datasets named in the command are added"},
    {"train.timeout", "duration", "none", "the command is stopped after this long"},
    {"train.env", "mapping of strings", "", "environment variables set for the command"},
    {"train.env.*", "string", "", "one environment variable"},
    {"train.secrets", "list of names", "", "environment variables passed through, masked in all output, never stored"},
    {"train.stages", "list", "", "a pipeline instead of command; a stage re-runs only when its inputs changed"},
    {"train.stages[].name", "name", "", "required; unique among the stages"},
    {"train.stages[].command", "command", "", "required; the stage's command"},
    {"train.stages[].inputs", "list of paths", "", "files the stage reads"},
    {"train.stages[].outputs", "list of paths", "", "files the stage writes"},
    {"train.stages[].after", "list of stage names", "", "stages that must run first"},
    {"train.sweep", "mapping", "", "hyper-parameter search for 'mloop train --sweep'"},
    {"train.sweep.method", "grid | random", "grid", "every combination, or seeded random draws"},
    {"train.sweep.trials", "integer", "10", "number of random trials"},
    {"train.sweep.seed", "integer", "0", "seed of the random search"},
    {"train.sweep.parallel", "integer", "1", "trials run at once (-j overrides)"},
    {"train.sweep.objective", "mapping", "", "required; how trials are ranked"},
    {"train.sweep.objective.metric", "metric name", "", "required; the metric to rank by"},
    {"train.sweep.objective.goal", "max | min", "max", "whether larger or smaller is better"},
    {"train.sweep.params", "mapping", "", "required; the values to search, by parameter"},
    {"train.sweep.params.*", "list or mapping", "", "a list of values, or a range with min, max, type and log"},
    {"train.sweep.params.*.min", "number", "", "lower end of the range"},
    {"train.sweep.params.*.max", "number", "", "upper end of the range"},
    {"train.sweep.params.*.type", "int | float", "float", "the range's values"},
    {"train.sweep.params.*.log", "boolean", "false", "draw on a log scale (min must be positive)"},
    {"train.triggers", "mapping", "", "when 'mloop train --if-triggered' trains"},
    {"train.triggers.data_changed", "boolean", "true", "a dataset's hash differs from the last successful run's"},
    {"train.triggers.code_changed", "boolean", "true", "the git commit or an input file differs"},
    {"train.triggers.drift", "boolean", "false", "the last monitor report of production flagged drift"},
    {"train.triggers.performance", "boolean", "false", "the last monitor report found performance below its minimum"},
    {"train.triggers.max_age", "duration", "none", "the production model is older than this"},

    {"model", "mapping", "", "the model registry entry and its quality gates"},
    {"model.name", "name", "the project's name", "the registered model's name"},
    {"model.gates", "list", "", "checks of 'mloop validate model', run before promote and deploy"},
    {"model.gates[].metric", "metric name", "", "required; the metric checked"},
    {"model.gates[].min", "number", "", "the metric must be at least this"},
    {"model.gates[].max", "number", "", "the metric must be at most this"},
    {"model.gates[].baseline", "alias", "", "compare with the version the alias (an environment's, or one promote moves) points at"},
    {"model.gates[].max_drop", "number", "", "with baseline: the metric may fall by at most this much"},
    {"model.gates[].max_increase_pct", "number", "", "with baseline: the metric may rise by at most this percentage"},
    {"model.evaluate", "command", "", "evaluates ${model.dir} and writes metrics.json in ${run.dir}; candidate and baseline run on the same data"},

    {"package", "mapping", "", "how 'mloop package' builds the serving image"},
    {"package.image", "image repository", "mloop/<project>", "the image's repository; the tag is v<version>"},
    {"package.base_image", "image", "python:3.11-slim", "the FROM of the built-in Python template"},
    {"package.serve", "command", "", "the server command inside the image"},
    {"package.port", "integer", "8080",
     "the port the server listens on in the image (a docker environment's port overrides it)"},
    {"package.files", "list of paths", "",
     "copied into the image under /app (the model's files go to /model)"},
    {"package.build_args", "mapping", "", "docker build --build-arg values"},
    {"package.build_args.*", "scalar", "", "one build argument"},
    {"package.push", "boolean", "false", "push after building, as with --push"},
    {"package.template", "name", "Dockerfile", "a built-in template, or one in the project's templates/ directory"},

    {"deploy", "mapping", "", "where and how 'mloop deploy' runs the image"},
    {"deploy.health", "mapping", "", "the health check"},
    {"deploy.health.path", "URL path", "/healthz", "answered with 2xx when the server is ready"},
    {"deploy.health.timeout", "duration", "120s", "how long a deployment may take to become healthy"},
    {"deploy.resources", "mapping", "", "resource requests and limits of each replica"},
    {"deploy.resources.cpu", "quantity", "500m", "CPU, in Kubernetes quantity syntax"},
    {"deploy.resources.memory", "quantity", "512Mi", "memory, in Kubernetes quantity syntax"},
    {"deploy.environments", "mapping", "", "named environments"},
    {"deploy.environments.*", "mapping", "", "one environment; its name is also the alias of the version it runs"},
    {"deploy.environments.*.target", "docker | kubernetes", "docker", "where it runs"},
    {"deploy.environments.*.port", "integer", "8080",
     "docker: the port the server listens on (PORT); with network bridge it is published on "
     "127.0.0.1"},
    {"deploy.environments.*.network", "host | bridge", "host", "the container's network (docker)"},
    {"deploy.environments.*.context", "name", "kubectl's current context", "kubectl --context (kubernetes)"},
    {"deploy.environments.*.namespace", "name", "default", "the Kubernetes namespace"},
    {"deploy.environments.*.replicas", "integer", "1", "number of pods (kubernetes)"},
    {"deploy.environments.*.strategy", "rolling | canary | bluegreen", "rolling", "how a new version replaces the old one (kubernetes)"},
    {"deploy.environments.*.canary", "mapping", "", "the canary's steps"},
    {"deploy.environments.*.canary.steps", "list of percentages", "[25, 50, 100]", "the canary's share of replicas at each step, rising to 100"},
    {"deploy.environments.*.canary.pause", "duration", "60s", "wait after each step before the analysis; 0s: none"},
    {"deploy.environments.*.bluegreen", "mapping", "", "blue-green settings"},
    {"deploy.environments.*.bluegreen.scale_down_delay", "duration", "10m", "how long the old colour stays up after the switch; 0s: scaled down at once"},
    {"deploy.environments.*.max_restarts", "integer", "3", "container restarts that fail a rollout"},
    {"deploy.environments.*.requires", "environment", "", "the version must have succeeded there first"},
    {"deploy.environments.*.analysis", "list", "", "checks run after each canary step or before the blue-green switch"},
    {"deploy.environments.*.analysis[].prometheus", "mapping", "", "a Prometheus query compared with a threshold"},
    {"deploy.environments.*.analysis[].prometheus.url", "URL", "", "required; the Prometheus server"},
    {"deploy.environments.*.analysis[].prometheus.query", "PromQL", "", "required; a query that returns one number"},
    {"deploy.environments.*.analysis[].prometheus.min", "number", "", "the value must be at least this"},
    {"deploy.environments.*.analysis[].prometheus.max", "number", "", "the value must be at most this"},
    {"deploy.environments.*.analysis[].command", "command", "", "passes when it exits 0"},
    {"deploy.environments.*.analysis[].monitor", "mapping", "", "drift and performance of the canary's traffic"},
    {"deploy.environments.*.analysis[].monitor.current", "path or list of paths", "", "required; the canary's prediction log"},

    {"monitor", "mapping", "", "what 'mloop monitor' compares and whom it tells"},
    {"monitor.reference", "auto, dataset or path", "auto", "auto: the dataset that trained the version deployed in the environment"},
    {"monitor.current", "path, glob or list", "", "the serving data: csv or jsonl, optionally .gz"},
    {"monitor.prediction", "column name", "", "the model's output column"},
    {"monitor.id", "column name", "", "the request id, to join feedback"},
    {"monitor.timestamp", "column name", "", "the request time (ISO 8601), for window"},
    {"monitor.window", "duration", "", "only rows newer than this (needs timestamp)"},
    {"monitor.feedback", "mapping", "", "labels that arrive later"},
    {"monitor.feedback.path", "path", "", "required; csv or jsonl with the id and target columns"},
    {"monitor.feedback.id", "column name", "monitor.id", "the id column in the feedback file"},
    {"monitor.drift", "mapping", "", "drift detection"},
    {"monitor.drift.method", "auto | ks | psi | wasserstein | jensenshannon | chisquare", "auto", "the test used for every feature"},
    {"monitor.drift.threshold", "number", "the method's default", "p-value (ks, chisquare) or distance that marks drift"},
    {"monitor.drift.share", "number in (0, 1]", "0.5", "the dataset drifts when at least this share of features drift"},
    {"monitor.drift.columns", "mapping", "", "per-column method and threshold"},
    {"monitor.drift.columns.*", "mapping", "", "one column's override"},
    {"monitor.drift.columns.*.method", "auto | ks | psi | wasserstein | jensenshannon | chisquare", "monitor.drift.method", "the column's test"},
    {"monitor.drift.columns.*.threshold", "number", "the method's default", "the column's threshold"},
    {"monitor.performance", "mapping", "", "model quality on labelled serving data"},
    {"monitor.performance.metric", "accuracy | precision | recall | f1 | auc | log_loss | rmse | mae | r2", "", "required; the metric"},
    {"monitor.performance.min", "number", "", "alert below this"},
    {"monitor.performance.max", "number", "", "alert above this"},
    {"monitor.kpis", "list", "", "business numbers computed over the serving data"},
    {"monitor.kpis[].column", "column name", "", "required; the column aggregated"},
    {"monitor.kpis[].agg", "mean | sum | min | max | count | median", "mean", "the aggregate"},
    {"monitor.kpis[].min", "number", "", "alert below this"},
    {"monitor.kpis[].max", "number", "", "alert above this"},
    {"monitor.resources", "boolean", "true", "report CPU and memory of the serving containers or pods"},
    {"monitor.alerts", "list", "", "where alerts go"},
    {"monitor.alerts[].webhook", "URL", "", "POST of JSON {\"text\": …, \"report\": {…}}"},
    {"monitor.alerts[].command", "command", "", "run with the report JSON on stdin"},
    {"monitor.on_alert", "retrain | none", "none", "retrain: start 'mloop train --if-triggered'"},
    {"monitor.prometheus", "mapping", "", "export of the report's numbers"},
    {"monitor.prometheus.textfile", "path", "", "written atomically for node_exporter's textfile collector"},
    {"monitor.prometheus.pushgateway", "URL", "", "a Prometheus Pushgateway to push to"},
};
// clang-format on

}  // namespace

std::span<const KeyInfo> keys() {
    return k_keys;
}

const KeyInfo* find_key(std::string_view path) {
    for (const auto& k : k_keys) {
        if (k.path == path) {
            return &k;
        }
    }
    return nullptr;
}

std::vector<std::string> child_keys(std::string_view parent) {
    std::vector<std::string> out;
    for (const auto& k : k_keys) {
        std::string_view p = k.path;
        std::string_view rest;
        if (parent.empty()) {
            rest = p;
        } else if (p.size() > parent.size() && p.substr(0, parent.size()) == parent &&
                   p[parent.size()] == '.') {
            rest = p.substr(parent.size() + 1);
        } else if (p.size() > parent.size() + 2 && p.substr(0, parent.size()) == parent &&
                   p.substr(parent.size(), 3) == "[].") {
            continue;  // children of list items are asked for with "parent[]"
        } else {
            continue;
        }
        if (rest.find('.') != std::string_view::npos || rest.find("[]") != std::string_view::npos) {
            continue;
        }
        out.emplace_back(rest);
    }
    return out;
}

}  // namespace mloop::config
