// The one table of project-file keys: path, type, default and documentation. The parser
// rejects any key not in it (with "did you mean"), `mloop help mloop.yaml` prints it, and the
// tests check that mloop.yaml(5) documents every row and that the parser reads every row.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mloop::config {

struct KeyInfo {
    std::string_view path;  // "train.timeout"; "*" stands for a name, "[]" for a list item
    std::string_view type;
    std::string_view default_value;  // "" when the key has no default
    std::string_view doc;
};

std::span<const KeyInfo> keys();

const KeyInfo* find_key(std::string_view path);

// The names allowed directly under `parent` (e.g. "train" → command, params, …); "*" when the
// parent takes any name.
std::vector<std::string> child_keys(std::string_view parent);

}  // namespace mloop::config
