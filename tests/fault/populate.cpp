// Builds a small, sound project state for the fsck suite: two stored artifacts and a dataset
// snapshot, recorded in the registry the way `mloop train` records them.
//
//   fault_populate PROJECT_DIR      prints the digests it stored, one per line
#include <cstdio>
#include <fstream>

#include <spdlog/spdlog.h>

#include "error/error.hpp"
#include "registry/records.hpp"
#include "registry/registry.hpp"
#include "store/objects.hpp"
#include "workspace/workspace.hpp"

using namespace mloop;

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    if (argc != 2) {
        std::fprintf(stderr, "usage: fault_populate PROJECT_DIR\n");
        return 2;
    }
    try {
        const auto paths = workspace::paths_for(argv[1], "");
        workspace::make_private_dir(paths.state);
        std::ofstream(paths.root / "model.json") << R"({"weights": [1, 2, 3]})"
                                                 << "\n";
        std::ofstream(paths.root / "metrics.json") << R"({"auc": 0.84})"
                                                   << "\n";
        std::ofstream(paths.root / "train.csv") << "a,b\n1,2\n3,4\n";
        store::ObjectStore objects(paths.objects);
        const auto model = objects.put_file(paths.root / "model.json");
        const auto metrics = objects.put_file(paths.root / "metrics.json");
        const auto data = objects.put_file(paths.root / "train.csv");
        auto reg = registry::Registry::open(paths.registry);
        auto& db = reg->db();
        registry::Runs runs(db);
        db.write([&] {
            registry::Objects o(db);
            for (const auto& d : {model, metrics, data}) {
                o.record(d.str(), 20, "file");
            }
            registry::Dataset ds;
            ds.digest = data.str();
            ds.path = "train.csv";
            ds.size = 12;
            ds.rows = 2;
            ds.snapshot = data.str();
            registry::RunStart start;
            start.command = R"(["python3","train.py"])";
            start.inputs.push_back(
                {"train", "dataset", "train.csv", data.str(), registry::Datasets(db).upsert(ds)});
            const int64_t id = runs.begin(start);
            registry::RunEnd end;
            end.state = "succeeded";
            end.exit_code = 0;
            end.metrics = {{"auc", 0.84}};
            end.artifacts = {{"model.json", model.str(), 23}, {"metrics.json", metrics.str(), 14}};
            runs.finish(id, end);
            registry::Models(db).register_version("demo", id);
        });
        std::printf("%s\n%s\n%s\n", model.str().c_str(), metrics.str().c_str(), data.str().c_str());
    } catch (const error::Error& e) {
        std::fprintf(stderr, "mloop: error: %s\n", e.what());
        return static_cast<int>(e.code());
    }
    return 0;
}
