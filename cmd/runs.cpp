// mloop runs [--limit N] [--status S] [--model NAME]
#include <limits>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "lineage/json.hpp"
#include "lineage/record.hpp"
#include "lineage/runs.hpp"
#include "lineage/text.hpp"
#include "registry/registry.hpp"
#include "util/fs.hpp"

namespace mloop::cli {

namespace {

class RunsCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("--limit", m_limit, "show at most N runs, newest first (default 20; 0: all)")
            ->type_name("N");
        app.add_option("--status", m_status,
                       "only runs in this state: running, succeeded, failed, interrupted, "
                       "crashed, inputs-changed")
            ->type_name("STATE");
        app.add_option("--model", m_model, "only runs that produced a version of this model")
            ->type_name("NAME");
    }

    int run(Context& ctx) override {
        const auto place =
            lineage::locate(fs::current_path(), ctx.globals.file, ctx.globals.registry);
        auto reg = lineage::open_record(place.paths);
        lineage::RunsOptions o;
        o.limit = m_limit <= 0 ? static_cast<size_t>(std::numeric_limits<int64_t>::max())
                               : static_cast<size_t>(m_limit);
        if (!m_status.empty()) {
            o.state = m_status;
        }
        if (!m_model.empty()) {
            o.model = m_model;
        }
        if (auto hints = lineage::project_hints(place.project_file)) {
            o.key_metrics = hints->key_metrics;
        }
        lineage::RunsResult r;
        if (reg) {
            r = lineage::list_runs(reg->db(), o);
        } else {
            lineage::check_state(o.state);  // a misspelt state is an error even before any run
        }
        if (ctx.out.json()) {
            ctx.out.json(lineage::runs_json(r));
            return 0;
        }
        if (r.runs.empty()) {
            ctx.out.note(!reg ? "nothing recorded yet; 'mloop train' records runs"
                         : (o.state || o.model)
                             ? "no run matches"
                             : "no runs recorded yet; 'mloop train' records them");
            return 0;
        }
        lineage::TextStyle style;
        style.now_ms = registry::now_ms();
        style.color = !ctx.out.style("\033[0m").empty();
        ctx.out.raw(lineage::runs_text(r, style));
        return 0;
    }

  private:
    int64_t m_limit = 20;
    std::string m_status;
    std::string m_model;
};

}  // namespace

std::unique_ptr<Command> make_runs() {
    return std::make_unique<RunsCommand>();
}

}  // namespace mloop::cli
