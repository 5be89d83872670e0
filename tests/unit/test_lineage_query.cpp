// Every query the record commands run on their hot paths is an index lookup: EXPLAIN QUERY PLAN
// must not show a full SCAN of runs, params, metrics or run_inputs (the registry stays fast at
// 100 000 runs; bench/record measures it).
#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <vector>

#include "lineage/graph.hpp"
#include "lineage/models.hpp"
#include "lineage/runs.hpp"
#include "lineage/show.hpp"
#include "test_lineage_fixture.hpp"

using namespace mloop;
using namespace lineage_test;

namespace {

std::vector<std::string> plan(registry::Db& db, const std::string& sql) {
    registry::Stmt s = db.prepare("EXPLAIN QUERY PLAN " + sql);
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(3));
    }
    return out;
}

// A full scan: "SCAN runs" (or "SCAN r" for "runs r") without "USING … INDEX" (a covering-index
// scan of the right rows starts with SCAN too but names its index).
bool full_scan(const std::string& sql, const std::vector<std::string>& steps,
               const std::string& table) {
    std::vector<std::string> names = {table};
    const std::regex alias("\\b" + table + "\\s+([a-z]+)\\b");
    for (std::sregex_iterator it(sql.begin(), sql.end(), alias), end; it != end; ++it) {
        const std::string a = (*it)[1];
        if (a != "WHERE" && a != "ORDER" && a != "JOIN" && a != "ON") {
            names.push_back(a);
        }
    }
    for (const auto& s : steps) {
        for (const auto& name : names) {
            const bool scan = s.rfind("SCAN " + name, 0) == 0 &&
                              (s.size() == 5 + name.size() || s[5 + name.size()] == ' ');
            if (scan && s.find("INDEX") == std::string::npos) {
                return true;
            }
        }
    }
    return false;
}

// A walk of a table in rowid order that its LIMIT stops: "SCAN runs" with no sort step reads
// the newest rows first and stops after LIMIT of them that match.
bool walk_stopped_by_limit(const std::string& sql, const std::vector<std::string>& steps) {
    for (const auto& s : steps) {
        if (s.find("TEMP B-TREE") != std::string::npos) {
            return false;  // a sort: every row is read before the first comes out
        }
    }
    return std::regex_search(sql, std::regex("ORDER BY ([a-z]+\\.)?id DESC LIMIT [0-9]+$"));
}

}  // namespace

TEST_SUITE("lineage") {
    TEST_CASE("the record's queries use indexes") {
        Fixture f;
        registry::Db& db = f.db();
        // `mloop runs` walks runs newest first and stops at its limit: no index can do better
        // than the table's own rowid order. With --status or --model the walk is as long as the
        // limit while the matching runs are common (a project has one model; most runs succeed)
        // and longer for a rare state or model: bench/record measures both.
        const std::vector<std::string> walks = {
            "SELECT id FROM runs ORDER BY id DESC LIMIT 20",
            "SELECT id FROM runs WHERE state = 'failed' ORDER BY id DESC LIMIT 20",
            "SELECT id FROM runs r WHERE EXISTS (SELECT 1 FROM model_versions v JOIN models m ON "
            "m.id = v.model_id WHERE v.run_id = r.id AND m.name = 'm') ORDER BY r.id DESC LIMIT "
            "20",
        };
        for (const auto& sql : walks) {
            INFO(sql);
            const auto steps = plan(db, sql);
            CHECK(walk_stopped_by_limit(sql, steps));
            for (const auto& s : steps) {
                if (s.find("SUBQUERY") == std::string::npos && s.rfind("SCAN", 0) != 0) {
                    CHECK(s.find("USING") != std::string::npos);  // the probes are indexed
                }
            }
        }
        const std::vector<std::string> hot = {
            // mloop runs
            "SELECT id FROM runs WHERE state = 'running'",
            "SELECT name, value FROM metrics WHERE run_id = 5 ORDER BY name",
            "SELECT name, value, type FROM params WHERE run_id = 5 ORDER BY name",
            "SELECT m.name, v.version FROM model_versions v JOIN models m ON m.id = v.model_id "
            "WHERE v.run_id = 5",
            // show and lineage
            "SELECT stage FROM stage_runs WHERE run_id = 5",
            "SELECT stage, path FROM stage_outputs WHERE run_id = 5",
            "SELECT passed FROM validations WHERE digest = 'x' ORDER BY id DESC LIMIT 1",
            "SELECT id FROM runs WHERE parent_id = 2 ORDER BY id",
            "SELECT m.name FROM evaluations e JOIN model_versions v ON v.model_id = e.model_id "
            "AND v.version = e.version JOIN models m ON m.id = e.model_id WHERE e.run_id = 6",
            "SELECT e.run_id FROM evaluations e JOIN models m ON m.id = e.model_id WHERE m.name = "
            "'m' AND e.version = 1",
            "SELECT run_id FROM run_inputs WHERE digest = 'x' ORDER BY run_id DESC LIMIT 50",
            "SELECT COUNT(*) FROM run_inputs WHERE digest = 'x'",
            "SELECT run_id FROM artifacts WHERE digest = 'x'",
            "SELECT run_id FROM stage_outputs WHERE digest = 'x'",
            "SELECT digest FROM datasets WHERE path = 'x'",
            "SELECT id FROM runs WHERE git_commit = 'x' ORDER BY id DESC",
            "SELECT a.alias FROM aliases a JOIN models m ON m.id = a.model_id WHERE m.name = 'm' "
            "AND a.version = 1",
            "SELECT source_run FROM stage_runs WHERE run_id = 5 AND stage = 'prep'",
            // models
            "SELECT m.name, (SELECT MAX(version) FROM model_versions v WHERE v.model_id = m.id) "
            "FROM models m",
            "SELECT v.version FROM model_versions v JOIN models m ON m.id = v.model_id WHERE "
            "m.name = 'm' ORDER BY v.version DESC LIMIT 20",
            "SELECT h.alias FROM alias_moves h JOIN models m ON m.id = h.model_id WHERE m.name = "
            "'m' ORDER BY h.id",
            // images and deployments: show, lineage, models, references
            "SELECT i.id FROM images i JOIN models m ON m.id = i.model_id WHERE m.name = 'm' AND "
            "i.version = 1 ORDER BY i.id DESC",
            "SELECT i.id FROM images i JOIN models m ON m.id = i.model_id WHERE i.id = 1",
            "SELECT d.id FROM deployments d JOIN models m ON m.id = d.model_id WHERE m.name = 'm' "
            "AND d.version = 1 ORDER BY d.id",
            "SELECT d.id FROM deployments d JOIN models m ON m.id = d.model_id WHERE d.image = 1 "
            "ORDER BY d.id",
            "SELECT d.id FROM deployments d JOIN models m ON m.id = d.model_id WHERE d.env = 'x' "
            "AND d.state = 'succeeded' ORDER BY d.id DESC LIMIT 1",
            "SELECT d.id FROM deployments d JOIN models m ON m.id = d.model_id WHERE d.id = 1",
            "SELECT id FROM deployments WHERE env = 'x' AND id > 2 AND rollback_to = 2 ORDER BY "
            "id",
            "SELECT seq FROM deploy_steps WHERE deployment_id = 1 ORDER BY seq",
            "SELECT DISTINCT env FROM deployments ORDER BY env",
            "SELECT id, env FROM deployments WHERE id < 9 ORDER BY id DESC LIMIT 3",
            "SELECT id, env FROM deployments WHERE id > 9 ORDER BY id LIMIT 3",
        };
        for (const auto& sql : hot) {
            const auto steps = plan(db, sql);
            INFO(sql);
            for (const char* table :
                 {"runs", "params", "metrics", "run_inputs", "model_versions", "artifacts",
                  "stage_runs", "stage_outputs", "validations", "evaluations", "datasets", "images",
                  "deployments", "deploy_steps"}) {
                INFO(table);
                CHECK_FALSE(full_scan(sql, steps, table));
            }
        }
    }

    TEST_CASE("listing, showing and tracing touch only what they show") {
        Fixture f;
        lineage::RunsOptions o;
        o.limit = 2;
        const auto r = lineage::list_runs(f.db(), o);
        REQUIRE(r.runs.size() == 2);
        CHECK(r.runs[0].run.id == 6);
        CHECK(r.key_metrics == std::vector<std::string>{"auc", "log_loss"});
        o.model = "m";
        o.limit = 20;
        const auto m = lineage::list_runs(f.db(), o);
        REQUIRE(m.runs.size() == 3);
        CHECK(m.runs[0].run.id == 4);
        o.model.reset();
        o.state = "failed";
        CHECK(lineage::list_runs(f.db(), o).runs.at(0).run.id == 5);
        o.state = "faild";
        CHECK_THROWS_WITH(lineage::list_runs(f.db(), o), "'faild' is not a run state");
    }
}

TEST_SUITE("lineage") {
    TEST_CASE(
        "stages come in the order they ran, a cached one before the next in its millisecond") {
        Fixture f;
        f.db().write([&] {
            f.db().exec(
                "INSERT INTO stage_runs (run_id, stage, state, cache_key, source_run, started_at, "
                "ended_at) VALUES (3, 'zeta', 'cached', 'k', 1, 50, 50), "
                "(3, 'alpha', 'succeeded', 'k2', NULL, 50, 90), "
                "(3, 'omega', 'running', 'k3', NULL, 50, NULL), "
                "(3, 'beta', 'succeeded', 'k4', NULL, 10, 40)");
        });
        std::vector<std::string> names;
        for (const auto& s : lineage::stages_of(f.db(), 3)) {
            names.push_back(s.name);
        }
        CHECK(names == std::vector<std::string>{"beta", "zeta", "alpha", "omega"});
    }
}
