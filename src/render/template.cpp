#include "render/template.hpp"

#include <fmt/format.h>

#include "error/error.hpp"

namespace mloop::render {

std::string render_template(const std::string& name, const std::string& text,
                            const TemplateData& data) {
    kainjow::mustache::mustache tmpl(text);
    if (!tmpl.is_valid()) {
        throw error::UsageError(
            fmt::format("template '{}' does not parse: {}", name, tmpl.error_message()));
    }
    tmpl.set_custom_escape([](const std::string& s) { return s; });
    std::string out = tmpl.render(data);
    if (!tmpl.is_valid()) {
        throw error::UsageError(
            fmt::format("template '{}' cannot be rendered: {}", name, tmpl.error_message()));
    }
    return out;
}

}  // namespace mloop::render
