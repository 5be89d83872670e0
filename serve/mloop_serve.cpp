// mloop-serve: the churn example's model server, copied into a FROM scratch image by
// `mloop package`. A fully static executable: no shared libraries, no /etc files, no DNS, no
// shell (and never built with the sanitizers).
//
//   POST /predict   {"age": 44, ..., "id": "x"}            → {"request_id": "x", "score": 0.73}
//                   {"instances": [{...}, {...}]}          → {"predictions": [{...}, {...}]}
//                   bad input → 400 {"error": "...", "field": "instances[1].age"}
//   GET  /healthz   200 ok (the model is loaded before the server listens)
//   GET  /metrics   Prometheus text format 0.0.4
//
// Every prediction is appended to the predictions log as one JSON line that `mloop monitor`
// reads: {"request_id": ..., "ts": "2024-05-01T12:00:00.123Z", <the row's other keys and
// values as sent>, "score": ...}. The id is the row's "request_id" or "id", else a generated one.
//
// Flags fall back to the environment, since `docker run -e` is how a deployment sets them:
// --model (MLOOP_MODEL_PATH), --port (PORT), --log (MLOOP_PREDICTIONS_LOG), --model-name
// (MLOOP_MODEL), --model-version (MLOOP_MODEL_VERSION). SIGTERM and SIGINT stop it, exit 0.
// Exit 1: the model cannot be loaded or the address cannot be bound; exit 2: bad usage.
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http.hpp"
#include "metrics.hpp"
#include "model.hpp"

#ifndef MLOOP_VERSION
#define MLOOP_VERSION "unknown"
#endif

namespace mloop::serve {

namespace {

constexpr size_t k_max_instances = 10000;
constexpr size_t k_max_id_bytes = 256;
constexpr int k_max_json_depth = 64;

struct Options {
    std::string model_path = "/model/model.json";
    std::string host = "0.0.0.0";
    uint16_t port = 8080;
    std::string log_path;
    std::string model_name = "unknown";
    std::string model_version = "unknown";
    int threads = 8;
};

struct UsageError {
    std::string message;
};

constexpr const char* k_usage =
    "usage: mloop-serve [--model PATH] [--host ADDR] [--port N] [--log PATH]\n"
    "                   [--model-name NAME] [--model-version VERSION] [--threads N]\n"
    "\n"
    "  --model PATH        the mloop-logreg/1 model.json (env MLOOP_MODEL_PATH;\n"
    "                      default /model/model.json)\n"
    "  --host ADDR         numeric IPv4 or IPv6 address to listen on (default 0.0.0.0)\n"
    "  --port N            TCP port, 0 for any free one (env PORT; default 8080)\n"
    "  --log PATH          append every prediction to this JSON-lines file\n"
    "                      (env MLOOP_PREDICTIONS_LOG; default: no log)\n"
    "  --model-name NAME   the model_info metric's model label (env MLOOP_MODEL)\n"
    "  --model-version V   the model_info metric's version label (env MLOOP_MODEL_VERSION)\n"
    "  --threads N         worker threads, one per open connection (default 8)\n";

std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0')
        return std::nullopt;
    return std::string(v);
}

long parse_int(const std::string& text, long min, long max, const std::string& what) {
    char* end = nullptr;
    errno = 0;
    long v = text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' '
                 ? -1
                 : std::strtol(text.c_str(), &end, 10);
    if (text.empty() || errno != 0 || end == nullptr || *end != '\0' || v < min || v > max) {
        throw UsageError{what + " must be an integer from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + text + "'"};
    }
    return v;
}

// Returns nullopt after printing help or the version.
std::optional<Options> parse_options(int argc, char** argv) {
    Options o;
    if (auto v = env("MLOOP_MODEL_PATH"))
        o.model_path = *v;
    if (auto v = env("PORT"))
        o.port = static_cast<uint16_t>(parse_int(*v, 0, 65535, "PORT"));
    if (auto v = env("MLOOP_PREDICTIONS_LOG"))
        o.log_path = *v;
    if (auto v = env("MLOOP_MODEL"))
        o.model_name = *v;
    if (auto v = env("MLOOP_MODEL_VERSION"))
        o.model_version = *v;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(k_usage, stdout);
            return std::nullopt;
        }
        if (arg == "--version") {
            std::printf("mloop-serve %s\n", MLOOP_VERSION);
            return std::nullopt;
        }
        std::string name = arg;
        std::optional<std::string> value;
        if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
            name = arg.substr(0, eq);
            value = arg.substr(eq + 1);
        }
        auto take = [&]() -> std::string {
            if (value)
                return *value;
            if (i + 1 >= argc)
                throw UsageError{name + " needs a value"};
            return argv[++i];
        };
        if (name == "--model") {
            o.model_path = take();
        } else if (name == "--host") {
            o.host = take();
        } else if (name == "--port") {
            o.port = static_cast<uint16_t>(parse_int(take(), 0, 65535, "--port"));
        } else if (name == "--log") {
            o.log_path = take();
        } else if (name == "--model-name") {
            o.model_name = take();
        } else if (name == "--model-version") {
            o.model_version = take();
        } else if (name == "--threads") {
            o.threads = static_cast<int>(parse_int(take(), 1, 256, "--threads"));
        } else {
            throw UsageError{"unknown argument '" + arg + "'"};
        }
    }
    if (o.model_path.empty())
        throw UsageError{"--model must not be empty"};
    return o;
}

// "2024-05-01T12:00:00.123Z", computed without the time-zone database (there is no /etc).
std::string iso_utc_ms(std::chrono::system_clock::time_point tp) {
    using namespace std::chrono;
    auto ms = floor<milliseconds>(tp);
    auto day = floor<days>(ms);
    year_month_day ymd{day};
    hh_mm_ss hms{ms - day};
    char buf[40];
    std::snprintf(
        buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", static_cast<int>(ymd.year()),
        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
        static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
        static_cast<long>(hms.seconds().count()), static_cast<long>(hms.subseconds().count()));
    return buf;
}

// Ids for rows sent without one: start time and a random word (replicas may start in the same
// millisecond), then a counter.
class IdSource {
  public:
    IdSource() {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
        uint32_t random = 0;
        if (::getrandom(&random, sizeof random, GRND_NONBLOCK) != sizeof random) {
            random = static_cast<uint32_t>(::getpid());
        }
        char buf[48];
        std::snprintf(buf, sizeof buf, "%llx-%08x-", static_cast<unsigned long long>(ms), random);
        m_prefix = buf;
    }
    std::string next() { return m_prefix + std::to_string(++m_counter); }

  private:
    std::string m_prefix;
    std::atomic<uint64_t> m_counter{0};
};

// Appends whole lines: one write(2) per request under a mutex, on an O_APPEND descriptor so
// that other writers of the same file never interleave inside a line either.
class PredictionLog {
  public:
    PredictionLog(const std::string& path, Metrics& metrics) : m_path(path), m_metrics(metrics) {
        if (path.empty())
            return;
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (m_fd < 0) {
            std::fprintf(stderr,
                         "mloop-serve: error: cannot open predictions log '%s': %s; predictions "
                         "are not logged\n",
                         path.c_str(), std::strerror(errno));
        }
    }
    ~PredictionLog() {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    PredictionLog(const PredictionLog&) = delete;
    PredictionLog& operator=(const PredictionLog&) = delete;

    void append(std::string_view lines, size_t count) {
        if (m_fd < 0 || lines.empty())
            return;
        std::lock_guard lock(m_mutex);
        std::string_view left = lines;
        while (!left.empty()) {
            ssize_t n = ::write(m_fd, left.data(), left.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                for (size_t i = 0; i < count; ++i)
                    m_metrics.record_log_error();
                // Once per run of failures, not once per request.
                if (!m_failing) {
                    std::fprintf(stderr,
                                 "mloop-serve: error: cannot write predictions log '%s': %s\n",
                                 m_path.c_str(), n < 0 ? std::strerror(errno) : "nothing written");
                }
                m_failing = true;
                return;
            }
            left.remove_prefix(static_cast<size_t>(n));
        }
        m_failing = false;
    }

  private:
    std::string m_path;
    Metrics& m_metrics;
    std::mutex m_mutex;
    int m_fd = -1;
    bool m_failing = false;
};

// Compact JSON; invalid UTF-8 (only possible in a shortened message) becomes U+FFFD.
std::string dump(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response json_response(int status, const Json& body) {
    Response res;
    res.status = status;
    res.content_type = "application/json";
    res.body = dump(body) + "\n";
    return res;
}

Response bad_request(const std::string& message, const std::string& field) {
    Json body = {{"error", message}};
    if (!field.empty())
        body["field"] = field;
    return json_response(400, body);
}

struct DepthError {};

class App {
  public:
    App(const Options& options, Model model)
        : m_model(std::move(model)),
          m_metrics(options.model_name, options.model_version),
          m_log(options.log_path, m_metrics) {}

    Response handle(const Request& req) {
        bool read_only = req.method == "GET" || req.method == "HEAD";
        if (req.path == "/predict") {
            if (req.method != "POST")
                return not_allowed("POST");
            return predict(req);
        }
        if (req.path == "/healthz") {
            if (!read_only)
                return not_allowed("GET, HEAD");
            Response res;
            res.body = "ok\n";
            return res;
        }
        if (req.path == "/metrics") {
            if (!read_only)
                return not_allowed("GET, HEAD");
            Response res;
            res.content_type = "text/plain; version=0.0.4; charset=utf-8";
            res.body = m_metrics.render();
            return res;
        }
        return json_response(404, {{"error", "no such path: " + req.path},
                                   {"paths", {"/predict", "/healthz", "/metrics"}}});
    }

    void observe(const Request& req, const Response& res, double seconds) {
        const std::string& p = req.path;
        bool known = p == "/predict" || p == "/healthz" || p == "/metrics";
        m_metrics.record_request(known ? p : "other", res.status, seconds);
    }

  private:
    static Response not_allowed(const char* allow) {
        Response res =
            json_response(405, {{"error", std::string("method not allowed; use ") + allow}});
        res.headers.emplace_back("Allow", allow);
        return res;
    }

    // The row's id as sent (a string or an integer), if it has one.
    static std::optional<Json> row_id(const Json& row) {
        for (const char* key : {"request_id", "id"}) {
            auto it = row.find(key);
            if (it == row.end() || it->is_null())
                continue;
            bool ok = it->is_number_integer() ||
                      (it->is_string() && !it->get_ref<const std::string&>().empty() &&
                       it->get_ref<const std::string&>().size() <= k_max_id_bytes);
            if (!ok) {
                throw RowError(key, std::string("'") + key +
                                        "' must be a non-empty string of at most 256 bytes or "
                                        "an integer, got " +
                                        shown(*it));
            }
            return *it;
        }
        return std::nullopt;
    }

    Response predict(const Request& req) {
        Json body;
        try {
            // Bounded nesting: the parser is iterative, but dumping a value is recursive.
            body = Json::parse(req.body, [](int depth, Json::parse_event_t, Json&) {
                if (depth > k_max_json_depth)
                    throw DepthError{};
                return true;
            });
        } catch (const Json::exception& e) {  // a syntax error or a number out of range
            return bad_request("invalid JSON: " + json_message(e), "");
        } catch (const DepthError&) {
            return bad_request(
                "invalid JSON: nested deeper than " + std::to_string(k_max_json_depth) + " levels",
                "");
        }
        if (!body.is_object()) {
            return bad_request("expected a JSON object of features or {\"instances\": [...]}", "");
        }
        std::vector<const Json*> rows;
        auto instances = body.find("instances");
        bool batch = instances != body.end();
        if (batch) {
            if (!instances->is_array() || instances->empty()) {
                return bad_request("'instances' must be a non-empty array of objects", "instances");
            }
            if (instances->size() > k_max_instances) {
                return bad_request("'instances' has " + std::to_string(instances->size()) +
                                       " rows; at most " + std::to_string(k_max_instances) +
                                       " per request",
                                   "instances");
            }
            for (const Json& row : *instances)
                rows.push_back(&row);
        } else {
            rows.push_back(&body);
        }

        std::vector<double> scores;
        std::vector<std::optional<Json>> ids;
        scores.reserve(rows.size());
        ids.reserve(rows.size());
        for (size_t i = 0; i < rows.size(); ++i) {
            std::string where = batch ? "instances[" + std::to_string(i) + "]" : "";
            try {
                if (!rows[i]->is_object()) {
                    throw RowError("",
                                   "expected a JSON object of features, got " + shown(*rows[i]));
                }
                ids.push_back(row_id(*rows[i]));
                scores.push_back(score(m_model, *rows[i]));
            } catch (const RowError& e) {
                std::string field = where;
                if (!e.field.empty())
                    field += (field.empty() ? "" : ".") + e.field;
                return bad_request(where.empty() ? e.what() : where + ": " + e.what(), field);
            }
        }

        std::string ts = iso_utc_ms(std::chrono::system_clock::now());
        std::string lines;
        Json answers = Json::array();
        for (size_t i = 0; i < rows.size(); ++i) {
            // Ids are made only for a request that is answered, so they count predictions.
            Json id = ids[i] ? std::move(*ids[i]) : Json(m_ids.next());
            // Written out by hand for the key order: request_id, ts, the row's keys, score.
            lines += "{\"request_id\":" + dump(id) + ",\"ts\":\"" + ts + "\"";
            for (const auto& [key, value] : rows[i]->items()) {
                if (key != "request_id" && key != "id" && key != "ts" && key != "score") {
                    lines += ',' + dump(Json(key)) + ':' + dump(value);
                }
            }
            lines += ",\"score\":" + dump(Json(scores[i])) + "}\n";
            answers.push_back({{"request_id", std::move(id)}, {"score", scores[i]}});
        }
        m_metrics.record_scores(scores);
        m_log.append(lines, rows.size());
        return json_response(
            200, batch ? Json{{"predictions", std::move(answers)}} : std::move(answers[0]));
    }

    Model m_model;
    Metrics m_metrics;
    PredictionLog m_log;
    IdSource m_ids;
};

const Server* g_server = nullptr;

extern "C" void on_stop_signal(int) {
    if (g_server != nullptr)
        g_server->stop();
}

int run(int argc, char** argv) {
    std::optional<Options> options;
    try {
        options = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "mloop-serve: error: %s\n%s", e.message.c_str(), k_usage);
        return 2;
    }
    if (!options)
        return std::fflush(stdout) == 0 ? 0 : 1;

    Model model;
    try {
        model = load_model(options->model_path);
    } catch (const ModelError& e) {
        std::fprintf(stderr, "mloop-serve: error: %s\n", e.what());
        return 1;
    }

    App app(*options, std::move(model));
    ServerOptions so;
    so.host = options->host;
    so.port = options->port;
    so.threads = options->threads;
    Server server(
        so, [&app](const Request& req) { return app.handle(req); },
        [&app](const Request& req, const Response& res, double s) { app.observe(req, res, s); });
    try {
        server.listen();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mloop-serve: error: %s\n", e.what());
        return 1;
    }

    g_server = &server;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::string host = options->host.find(':') != std::string::npos && options->host[0] != '['
                           ? "[" + options->host + "]"
                           : options->host;
    std::fprintf(stderr, "mloop-serve: listening on %s:%u (model %s version %s, %s)\n",
                 host.c_str(), static_cast<unsigned>(server.port()), options->model_name.c_str(),
                 options->model_version.c_str(), options->model_path.c_str());
    server.run();
    g_server = nullptr;
    std::fprintf(stderr, "mloop-serve: stopped\n");
    return 0;
}

}  // namespace

}  // namespace mloop::serve

int main(int argc, char** argv) {
    try {
        return mloop::serve::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mloop-serve: error: %s\n", e.what());
        return 1;
    }
}
