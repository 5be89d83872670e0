// mloop show REF
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "lineage/json.hpp"
#include "lineage/record.hpp"
#include "lineage/show.hpp"
#include "lineage/text.hpp"
#include "registry/registry.hpp"
#include "util/fs.hpp"

namespace mloop::cli {

namespace {

class ShowCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("ref", m_ref,
                       "a run (42, run/42), a model version (churn@3, churn@production), a "
                       "deployment (deploy/7), a digest (sha256:…), a commit or a path")
            ->type_name("REF")
            ->required();
    }

    int run(Context& ctx) override {
        const auto place =
            lineage::locate(fs::current_path(), ctx.globals.file, ctx.globals.registry);
        auto reg = lineage::open_record(place.paths);
        if (!reg) {
            lineage::nothing_recorded(m_ref);
        }
        const registry::Ref ref = lineage::resolve_ref(reg->db(), m_ref, place);
        const lineage::Detail detail = lineage::show(reg->db(), ref);
        const fs::path runs_dir = util::display_path(place.paths.runs);
        if (ctx.out.json()) {
            ctx.out.json(lineage::show_json(detail, runs_dir));
            return 0;
        }
        lineage::TextStyle style;
        style.now_ms = registry::now_ms();
        style.color = !ctx.out.style("\033[0m").empty();
        style.runs_dir = runs_dir;
        style.show_path = util::display_path;
        ctx.out.raw(lineage::show_text(detail, style));
        return 0;
    }

  private:
    std::string m_ref;
};

}  // namespace

std::unique_ptr<Command> make_show() {
    return std::make_unique<ShowCommand>();
}

}  // namespace mloop::cli
