// mloop models [NAME] [--limit N]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "lineage/json.hpp"
#include "lineage/models.hpp"
#include "lineage/record.hpp"
#include "lineage/text.hpp"
#include "registry/registry.hpp"

namespace mloop::cli {

namespace {

class ModelsCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("name", m_name, "one model: its versions and the history of its aliases")
            ->type_name("NAME");
        app.add_option("--limit", m_limit,
                       "with NAME, show at most N versions, newest first (default 20; 0: all)")
            ->type_name("N");
    }

    int run(Context& ctx) override {
        const auto place =
            lineage::locate(fs::current_path(), ctx.globals.file, ctx.globals.registry);
        auto reg = lineage::open_record(place.paths);
        lineage::TextStyle style;
        style.now_ms = registry::now_ms();
        style.color = !ctx.out.style("\033[0m").empty();
        if (!m_name.empty()) {
            if (!reg) {
                throw error::UsageError(fmt::format("no model '{}'", m_name),
                                        "nothing has been recorded yet; 'mloop train' registers "
                                        "model versions");
            }
            std::vector<std::string> key_metrics;
            if (auto hints = lineage::project_hints(place.project_file)) {
                key_metrics = hints->key_metrics;
            }
            const auto d = lineage::model_detail(
                reg->db(), m_name, m_limit <= 0 ? 0 : static_cast<size_t>(m_limit), key_metrics);
            if (ctx.out.json()) {
                ctx.out.json(lineage::model_json(d));
            } else {
                ctx.out.raw(lineage::model_text(d, style));
            }
            return 0;
        }
        std::vector<lineage::ModelSummary> models;
        if (reg) {
            models = lineage::list_models(reg->db());
        }
        if (ctx.out.json()) {
            ctx.out.json(lineage::models_json(models));
        } else if (models.empty()) {
            ctx.out.note("nothing recorded yet; 'mloop train' registers model versions");
        } else {
            ctx.out.raw(lineage::models_text(models, style));
        }
        return 0;
    }

  private:
    std::string m_name;
    int64_t m_limit = 20;
};

}  // namespace

std::unique_ptr<Command> make_models() {
    return std::make_unique<ModelsCommand>();
}

}  // namespace mloop::cli
