// Files compiled into the binary, so an installed mloop needs nothing beside it: the
// templates/ directory and the example project of examples/churn/.
#pragma once

#include <span>
#include <string_view>

namespace mloop::assets {

struct File {
    std::string_view path;  // relative, with '/' separators
    std::string_view data;
    unsigned mode;  // 0644 or 0755
};

std::span<const File> templates();
std::span<const File> example();

// The template called `name`, or nullptr.
const File* find_template(std::string_view name);

}  // namespace mloop::assets
