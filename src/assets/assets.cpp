#include "assets/assets.hpp"

namespace mloop::assets {

const File* find_template(std::string_view name) {
    for (const auto& f : templates()) {
        if (f.path == name) {
            return &f;
        }
    }
    return nullptr;
}

}  // namespace mloop::assets
