// Where `mloop monitor` sends its alerts (SPEC §5 monitor.alerts): a webhook gets a POST of
// JSON {"text": …, "report": {…}} (Slack's incoming-webhook shape, with the report beside the
// text); a command gets the report JSON on its standard input. ${env.NAME} in either is the
// environment variable. An alert goes once per incident: at the first report of the
// environment that has alerts after one that had none (or after no report at all), not at
// every report while the incident lasts.
#pragma once

#include <string>
#include <vector>

#include "monitor/monitor.hpp"

namespace mloop::monitor {

// Whether `r` opens an incident: it has alerts, and the environment's report before it had
// none.
bool opens_incident(train::Session& s, const Report& r);

// Sends the alerts of `r` to every destination of monitor.alerts; records what was sent in the
// report (registry and file). Failures are returned, not thrown.
std::vector<Sent> send_alerts(train::Session& s, Report& r);

}  // namespace mloop::monitor
