// mloop diff REF REF [--format table|json|markdown]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "lineage/diff.hpp"
#include "lineage/json.hpp"
#include "lineage/record.hpp"
#include "lineage/text.hpp"

namespace mloop::cli {

namespace {

const std::vector<std::string> k_formats = {"table", "json", "markdown"};

class DiffCommand : public Command {
  public:
    void setup(CLI::App& app) override {
        app.add_option("a", m_a, "the run or model version to compare from")
            ->type_name("REF")
            ->required();
        app.add_option("b", m_b, "the run or model version to compare to")
            ->type_name("REF")
            ->required();
        app.add_option("--format", m_format,
                       "table (the default), json (as --json) or markdown (for CI summaries and "
                       "pull-request comments)")
            ->type_name("FORMAT");
    }

    int run(Context& ctx) override {
        const std::string format =
            lineage::choose_format(ctx.out.json(), m_format, k_formats, "table");
        const auto place =
            lineage::locate(fs::current_path(), ctx.globals.file, ctx.globals.registry);
        auto reg = lineage::open_record(place.paths);
        if (!reg) {
            lineage::nothing_recorded(m_a);
        }
        const auto a = lineage::resolve_ref(reg->db(), m_a, place);
        const auto b = lineage::resolve_ref(reg->db(), m_b, place);
        const lineage::RunDiff d = lineage::diff(reg->db(), a, b);
        if (format == "json") {
            // --format json without --json: the same one document.
            if (ctx.out.json()) {
                ctx.out.json(lineage::diff_json(d));
            } else {
                ctx.out.raw(lineage::diff_json(d).dump(2) + "\n");
            }
        } else if (format == "markdown") {
            ctx.out.raw(lineage::diff_markdown(d));
        } else {
            ctx.out.raw(lineage::diff_text(d));
        }
        return 0;
    }

  private:
    std::string m_a;
    std::string m_b;
    std::string m_format;
};

}  // namespace

std::unique_ptr<Command> make_diff() {
    return std::make_unique<DiffCommand>();
}

}  // namespace mloop::cli
