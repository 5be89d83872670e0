// How `mloop deploy` and `mloop rollback` print a deployment: a few lines for people, one JSON
// document for scripts.
#pragma once

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "deploy/deploy.hpp"

namespace mloop::cli {

void print_deployment(Context& ctx, const deploy::Result& r);
nlohmann::ordered_json deployment_json(const deploy::Result& r);
// The exit code: 0 succeeded (or rendered, dry run, --no-wait), 1 refused, rolled back or
// failed its health check.
int deployment_exit_code(Context& ctx, const deploy::Result& r);
void print_recoveries(Context& ctx, const std::vector<deploy::Recovery>& recovered);
nlohmann::ordered_json recoveries_json(const std::vector<deploy::Recovery>& recovered);
void print_notes(Context& ctx, const std::vector<std::string>& notes);

}  // namespace mloop::cli
