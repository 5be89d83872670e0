// Mustache templates (templates/ and a project's overrides) rendered without HTML escaping:
// they produce Dockerfiles, Kubernetes manifests and scripts, where '&' and '<' are literal.
#pragma once

#include <string>

#include <kainjow/mustache.hpp>

namespace mloop::render {

using TemplateData = kainjow::mustache::data;

// Renders `text` (named `name` in errors). A template that does not parse is a UsageError (exit 2)
// naming it and the parser's message.
std::string render_template(const std::string& name, const std::string& text,
                            const TemplateData& data);

// A mustache list of objects, each built by the caller.
inline TemplateData template_list() {
    return TemplateData(TemplateData::type::list);
}

}  // namespace mloop::render
