#include "package/provenance.hpp"

#include "store/sha256.hpp"
#include "util/text.hpp"

namespace mloop::package {

namespace {

// {"sha256": "<hex>"} from "sha256:<hex>".
nlohmann::ordered_json digest_set(const std::string& digest) {
    const std::string hex = util::starts_with(digest, "sha256:") ? digest.substr(7) : digest;
    return {{"sha256", hex}};
}

}  // namespace

nlohmann::ordered_json provenance_statement(const ProvenanceInput& in) {
    using json = nlohmann::ordered_json;
    json deps = json::array();
    if (in.run && in.run->git.commit) {
        deps.push_back({{"uri", "git+" + in.labels.at("org.opencontainers.image.source")},
                        {"digest", {{"gitCommit", *in.run->git.commit}}},
                        {"annotations", {{"dirty", in.run->git.dirty}}}});
    }
    for (const auto& i : in.inputs) {
        deps.push_back({{"uri", i.path},
                        {"name", i.name},
                        {"digest", digest_set(i.digest)},
                        {"annotations", {{"kind", i.kind}}}});
    }
    for (const auto& a : in.artifacts) {
        deps.push_back({{"uri", "model/" + a.path},
                        {"digest", digest_set(a.digest)},
                        {"annotations", {{"kind", "artifact"}}}});
    }
    deps.push_back({{"uri", "Dockerfile"},
                    {"digest", digest_set(store::sha256(in.dockerfile).str())},
                    {"annotations", {{"template", in.image.template_name}}}});
    json params = {{"model", in.image.model},
                   {"version", in.image.version},
                   {"template", in.image.template_name},
                   {"labels", in.labels}};
    if (in.run) {
        params["run"] = in.run->id;
    }
    return json{{"_type", "https://in-toto.io/Statement/v1"},
                {"subject", json::array({{{"name", in.image.reference()},
                                          {"digest", digest_set(in.image.image_id)}}})},
                {"predicateType", "https://slsa.dev/provenance/v1"},
                {"predicate",
                 {{"buildDefinition",
                   {{"buildType", "https://mloop.dev/package/v1"},
                    {"externalParameters", params},
                    {"internalParameters", {{"argv", in.build_argv}}},
                    {"resolvedDependencies", deps}}},
                  {"runDetails",
                   {{"builder", {{"id", "https://mloop.dev/mloop@" MLOOP_VERSION}}},
                    {"metadata",
                     {{"invocationId", in.image.model + "@" + std::to_string(in.image.version)},
                      {"startedOn", in.started},
                      {"finishedOn", in.finished}}},
                    {"byproducts", json::array({{{"name", "build-context"},
                                                 {"digest", digest_set(in.image.context)}}})}}}}}};
}

}  // namespace mloop::package
