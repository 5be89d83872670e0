// `mloop train --if-triggered`: whether anything that should cause retraining has happened since
// the last successful run (SPEC §5 train.triggers), and why.
#pragma once

#include <string>
#include <vector>

#include "train/session.hpp"

namespace mloop::train {

struct TriggerCheck {
    std::string name;  // data_changed | code_changed | max_age | drift | performance | first_run
    bool fired = false;
    std::string reason;  // "data/train.csv: sha256:ab12… → sha256:cd34…", "production is 31d old"
};

struct TriggerReport {
    std::vector<TriggerCheck> checks;  // the enabled ones, in the file's order
    bool fired() const;
    std::string json() const;  // the fired ones, recorded as the run's triggered_by
};

TriggerReport evaluate_triggers(Session& s);

}  // namespace mloop::train
