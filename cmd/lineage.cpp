// mloop lineage REF [--downstream] [--format tree|json|dot]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "lineage/graph.hpp"
#include "lineage/record.hpp"
#include "render/dot.hpp"
#include "render/tree.hpp"

namespace mloop::cli {

namespace {

const std::vector<std::string> k_formats = {"tree", "json", "dot"};

class LineageCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("ref", m_ref,
                       "a deployment (deploy/7), model version, run, dataset (digest or path), "
                       "artifact or commit")
            ->type_name("REF")
            ->required();
        app.add_flag("--downstream", m_downstream,
                     "what used it, transitively (runs, trials, evaluations, model versions, "
                     "images, deployments), instead of what it came from");
        app.add_option("--format", m_format,
                       "tree (the default), json (as --json) or dot (Graphviz)")
            ->type_name("FORMAT");
    }

    int run(Context& ctx) override {
        const std::string format =
            lineage::choose_format(ctx.out.json(), m_format, k_formats, "tree");
        const auto place =
            lineage::locate(fs::current_path(), ctx.globals.file, ctx.globals.registry);
        auto reg = lineage::open_record(place.paths);
        if (!reg) {
            lineage::nothing_recorded(m_ref);
        }
        const auto ref = lineage::resolve_ref(reg->db(), m_ref, place);
        const lineage::Graph g =
            m_downstream ? lineage::downstream(reg->db(), ref) : lineage::upstream(reg->db(), ref);
        if (format == "json") {
            if (ctx.out.json()) {
                ctx.out.json(lineage::json_of(g));
            } else {
                ctx.out.raw(lineage::json_of(g).dump(2) + "\n");
            }
        } else if (format == "dot") {
            ctx.out.raw(render::dot_text(lineage::dot_of(g)));
        } else {
            ctx.out.raw(render::tree_text(lineage::tree_of(g)));
        }
        return 0;
    }

  private:
    std::string m_ref;
    bool m_downstream = false;
    std::string m_format;
};

}  // namespace

std::unique_ptr<Command> make_lineage() {
    return std::make_unique<LineageCommand>();
}

}  // namespace mloop::cli
