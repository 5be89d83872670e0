#include <doctest/doctest.h>

#include "error/error.hpp"
#include "render/template.hpp"

using namespace mloop::render;

TEST_SUITE("render") {
    TEST_CASE("templates: values as they are (no HTML escaping), lists and sections") {
        TemplateData d;
        d.set("serve", "[\"/s\", \"a&b <c>\"]");
        TemplateData files = template_list();
        for (const char* f : {"x.py", "y.txt"}) {
            TemplateData item;
            item.set("path", f);
            files.push_back(item);
        }
        d.set("files", files);
        d.set("has_serve", true);
        CHECK(render_template(
                  "t",
                  "{{#files}}COPY {{path}}\n{{/files}}{{#has_serve}}CMD {{serve}}{{/has_serve}}",
                  d) == "COPY x.py\nCOPY y.txt\nCMD [\"/s\", \"a&b <c>\"]");
    }

    TEST_CASE("a template that does not parse is a usage error naming it") {
        TemplateData d;
        try {
            (void)render_template("templates/Dockerfile", "{{#open}} never closed", d);
            FAIL("no error");
        } catch (const mloop::error::UsageError& e) {
            CHECK(std::string(e.what()).find("template 'templates/Dockerfile' does not parse") ==
                  0);
        }
    }
}
