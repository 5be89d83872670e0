#include "package/package.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "assets/assets.hpp"
#include "config/variables.hpp"
#include "docker/docker.hpp"
#include "error/error.hpp"
#include "package/provenance.hpp"
#include "process/mask.hpp"
#include "registry/registry.hpp"
#include "registry/validations.hpp"
#include "render/template.hpp"
#include "store/tree.hpp"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace mloop::package {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using util::ms_since;

namespace {

std::string rfc3339_now() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int64_t train_run_of(registry::Db& db, const registry::VersionRef& v) {
    registry::Stmt s = db.prepare(
        "SELECT mv.run_id FROM model_versions mv JOIN models m ON "
        "m.id = mv.model_id WHERE m.name = ? AND mv.version = ?");
    s.bind_all(v.model, v.version);
    if (!s.step()) {
        throw error::UsageError(fmt::format("no model version {}", v.text()));
    }
    return s.int64(0);
}

// `rel` beneath the project root, refusing absolute paths and '..' (SPEC §8).
fs::path project_file(const config::Project& p, const config::Text& rel) {
    const fs::path r(rel.value);
    if (r.is_absolute() || rel.value.empty()) {
        throw error::UsageError(
            fmt::format("{}:{}:{}: package file {} must be a path inside "
                        "the project",
                        p.display_file, rel.mark.line, rel.mark.column, util::quote(rel.value)));
    }
    for (const auto& part : r) {
        if (part == "..") {
            throw error::UsageError(fmt::format("{}:{}:{}: package file {} leaves the project",
                                                p.display_file, rel.mark.line, rel.mark.column,
                                                util::quote(rel.value)));
        }
    }
    const fs::path abs = p.root / r;
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(abs, ec);
    const fs::path root = fs::weakly_canonical(p.root, ec);
    const std::string cs = canon.string();
    if (cs != root.string() && cs.rfind(root.string() + "/", 0) != 0) {
        throw error::UsageError(fmt::format("{}:{}:{}: package file {} leads out of the project",
                                            p.display_file, rel.mark.line, rel.mark.column,
                                            util::quote(rel.value)));
    }
    if (!fs::exists(abs, ec)) {
        throw error::UsageError(fmt::format("{}:{}:{}: package file {} does not exist",
                                            p.display_file, rel.mark.line, rel.mark.column,
                                            util::quote(rel.value)));
    }
    return abs;
}

std::string json_argv(const std::vector<std::string>& argv) {
    return nlohmann::json(argv).dump();
}

// A package value with its variables expanded (package.serve, package.build_args).
std::string expand_value(const config::Project& p, const registry::VersionRef& v,
                         const std::optional<std::string>& commit, const config::Text& text,
                         const std::string& key) {
    auto r = config::expand(text.value, [&](std::string_view name) -> std::optional<std::string> {
        if (name == "model.name") {
            return v.model;
        }
        if (name == "model.version") {
            return std::to_string(v.version);
        }
        if (name == "model.dir") {
            return std::string("/model");
        }
        if (name == "project") {
            return p.name;
        }
        if (name == "git.commit") {
            return commit.value_or("");
        }
        if (util::starts_with(name, "data.")) {
            if (const auto* d = p.dataset(name.substr(5))) {
                return d->path.value;
            }
            return std::nullopt;
        }
        if (util::starts_with(name, "env.")) {
            const char* e = std::getenv(std::string(name.substr(4)).c_str());
            return std::string(e != nullptr ? e : "");
        }
        return std::nullopt;
    });
    if (!r) {
        throw error::UsageError(fmt::format("{}:{}:{}: {}: {}", p.display_file, text.mark.line,
                                            text.mark.column, key, r.error()));
    }
    return r.value();
}

// The model server's argv: package.serve with its variables expanded.
std::vector<std::string> serve_argv(const config::Project& p, const registry::VersionRef& v,
                                    const std::optional<std::string>& commit) {
    std::vector<std::string> out;
    if (p.package) {
        for (const auto& arg : p.package->serve) {
            out.push_back(expand_value(p, v, commit, arg, "package.serve"));
        }
    }
    return out;
}

void copy_into(const fs::path& src, const fs::path& dest) {
    std::error_code ec;
    if (dest.has_parent_path()) {
        fs::create_directories(dest.parent_path(), ec);
    }
    if (fs::is_directory(src, ec)) {
        fs::copy(src, dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    } else {
        fs::copy_file(src, dest, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) {
        throw error::UsageError(fmt::format("cannot copy '{}' into the build context: {}",
                                            util::display_path(src), ec.message()));
    }
}

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) {
        throw error::RegistryError(fmt::format("cannot write '{}'", util::display_path(path)));
    }
}

}  // namespace

std::string repository(const config::Project& project) {
    if (project.package && project.package->image && !project.package->image->value.empty()) {
        return project.package->image->value;
    }
    return "mloop/" + project.name;
}

std::optional<fs::path> find_model_server() {
    std::error_code ec;
    if (const char* env = std::getenv("MLOOP_SERVE"); env != nullptr && *env != '\0') {
        return fs::exists(env, ec) ? std::optional<fs::path>(env) : std::nullopt;
    }
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return std::nullopt;
    }
    for (const fs::path& candidate :
         {self.parent_path() / "mloop-serve",
          self.parent_path().parent_path() / "libexec" / "mloop" / "mloop-serve"}) {
        if (fs::is_regular_file(candidate, ec)) {
            return candidate;
        }
    }
    return std::nullopt;
}

std::string template_text(const config::Project& project, const std::string& name) {
    std::error_code ec;
    const fs::path own = project.root / "templates" / name;
    if (fs::is_regular_file(own, ec)) {
        std::ifstream f(own, std::ios::binary);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    if (const auto* file = assets::find_template(name)) {
        return std::string(file->data);
    }
    const config::Mark m = project.package ? project.package->template_name.mark : config::Mark{};
    throw error::UsageError(
        fmt::format("{}:{}:{}: no template {}: neither templates/{} in the project nor a "
                    "built-in one",
                    project.display_file, m.line, m.column, util::quote(name), name),
        "the built-in Dockerfile templates are 'Dockerfile' (a Python server) and "
        "'Dockerfile.scratch' (mloop's static model server)");
}

std::optional<std::string> gate_refusal(const train::GateReport& report) {
    if (report.passed()) {
        return std::nullopt;
    }
    std::vector<std::string> failed;
    for (const auto& g : report.gates) {
        if (g.verdict == "fail") {
            failed.push_back(g.metric);
        }
    }
    return fmt::format("{} fails its gates ({})", report.candidate.text(),
                       util::join(failed, ", "));
}

std::vector<DataCheck> training_data(train::Session& s, const registry::VersionRef& v) {
    std::vector<DataCheck> out;
    for (const auto& in : registry::Runs(s.db()).inputs(train_run_of(s.db(), v))) {
        if (in.kind == "dataset") {
            out.push_back({in.name, in.digest, registry::passed(s.db(), in.digest)});
        }
    }
    return out;
}

std::vector<std::string> data_refusals(const std::vector<DataCheck>& data) {
    std::vector<std::string> out;
    for (const auto& d : data) {
        if (d.passed && !*d.passed) {
            out.push_back(fmt::format("its training data {} ({}) failed validation", d.name,
                                      d.digest.substr(0, 19)));
        }
    }
    return out;
}

Result package(train::Session& s, const Options& o) {
    const auto started = Clock::now();
    Result r;
    const config::Project& p = s.project;
    registry::Db& db = s.db();
    r.version = registry::resolve_version(
        db, o.version.empty() ? p.model.name + "@latest" : o.version, p.model.name);
    const registry::VersionRef& v = r.version;
    const int64_t run_id = train_run_of(db, v);
    registry::Runs runs(db);
    const auto run = runs.get(run_id);
    const auto artifacts = runs.artifacts(run_id);
    const auto inputs = runs.inputs(run_id);

    // Refusals: failing gates, training data that failed validation.
    if (o.check_gates) {
        r.gates = train::check_gates(s, v, o.echo);
        if (auto why = gate_refusal(*r.gates)) {
            r.refusals.push_back(std::move(*why));
        }
    }
    r.data = training_data(s, v);
    for (auto& why : data_refusals(r.data)) {
        r.refusals.push_back(std::move(why));
    }
    if (!r.refusals.empty()) {
        if (!o.force) {
            r.refused = true;
            r.total_ms = ms_since(started);
            return r;
        }
        r.forced = true;
    }

    // The Dockerfile.
    const std::string repo = repository(p);
    const std::string tag = fmt::format("v{}", v.version);
    r.template_name = p.package ? p.package->template_name.value : std::string("Dockerfile");
    const std::string text = template_text(p, r.template_name);
    const auto serve = serve_argv(p, v, run ? run->git.commit : std::nullopt);
    render::TemplateData data;
    data.set("base_image", p.package ? p.package->base_image : std::string("python:3.11-slim"));
    data.set("port", std::to_string(p.package ? p.package->port : 8080));
    data.set("project", p.name);
    data.set("model", v.model);
    data.set("version", std::to_string(v.version));
    data.set("has_serve", !serve.empty());
    data.set("serve", json_argv(serve));
    render::TemplateData files = render::template_list();
    bool requirements = false;
    if (p.package) {
        for (const auto& f : p.package->files) {
            render::TemplateData item;
            item.set("path", f.value);
            files.push_back(item);
            requirements = requirements || f.value == "requirements.txt";
        }
    }
    data.set("files", files);
    data.set("has_files", p.package && !p.package->files.empty());
    data.set("has_requirements", requirements);
    render::TemplateData args = render::template_list();
    std::vector<std::pair<std::string, std::string>> build_args;
    if (p.package) {
        for (const auto& a : p.package->build_args) {
            render::TemplateData item;
            item.set("name", a.name);
            args.push_back(item);
            build_args.emplace_back(a.name, expand_value(p, v, run ? run->git.commit : std::nullopt,
                                                         config::Text{a.value.text, a.value.mark},
                                                         "package.build_args." + a.name));
        }
    }
    // docker's builder keeps a build argument's value in the image's history (docker history
    // shows it beside every RUN after its ARG), and the image is pushed: a secret there would
    // be stored where nothing masks it (SPEC §8).
    for (const auto& [name, value] : build_args) {
        if (process::mask(value, s.secrets) != value) {
            throw error::UsageError(
                fmt::format("package.build_args.{} carries a secret", name),
                "docker keeps build arguments in the image's history, which is pushed with it: "
                "they are for values that are not secret");
        }
    }
    data.set("build_args", args);
    r.dockerfile = render::render_template(r.template_name, text, data);
    const bool needs_server = r.dockerfile.find("mloop-serve") != std::string::npos;

    // Lineage labels (SPEC §6).
    std::vector<std::string> data_digests;
    for (const auto& in : inputs) {
        if (in.kind == "dataset") {
            data_digests.push_back(in.name + "=" + in.digest);
        }
    }
    r.labels = {
        {"org.opencontainers.image.created", rfc3339_now()},
        {"org.opencontainers.image.source", "file://" + p.root.string()},
        {"org.opencontainers.image.title", p.name},
        {"io.mloop.project", p.name},
        {"io.mloop.model", v.model},
        {"io.mloop.version", std::to_string(v.version)},
        {"io.mloop.run", std::to_string(run_id)},
        {"io.mloop.data", util::join(data_digests, ",")},
    };
    if (run && run->git.commit) {
        r.labels["org.opencontainers.image.revision"] = *run->git.commit;
    }

    // The labels go into the Dockerfile as one LABEL instruction: docker's classic builder
    // turns each --label into a build step of its own (about a second each under vfs).
    std::string label_line = "\n# lineage labels, added by mloop package\nLABEL";
    for (const auto& [k, val] : r.labels) {
        std::string quoted;
        for (const char c : val) {
            if (c == '"' || c == '\\' || c == '$') {
                quoted += '\\';
            }
            quoted += (c == '\n' || c == '\r') ? ' ' : c;
        }
        label_line += " \\\n    " + k + "=\"" + quoted + "\"";
    }
    r.dockerfile += label_line + "\n";

    r.context = fs::absolute(s.paths.state / "build" / fmt::format("{}-v{}", v.model, v.version));
    const fs::path iidfile = r.context.string() + ".iid";
    docker::BuildSpec spec{r.context.string(), (r.context / "Dockerfile").string(),
                           repo + ":" + tag,   {},
                           build_args,         o.no_cache,
                           iidfile.string()};
    // What is shown and recorded (provenance) has secrets masked; docker gets the real values.
    r.build_argv = docker::build_args(spec);
    r.build_argv.insert(r.build_argv.begin(), "docker");
    for (auto& a : r.build_argv) {
        a = process::mask(a, s.secrets);
    }
    if (o.dry_run) {
        r.total_ms = ms_since(started);
        return r;
    }

    // The build context: model/ from the store, package.files under app/, the server,
    // .dockerignore.
    std::error_code ec;
    fs::remove_all(r.context, ec);
    workspace::make_private_dir(r.context.parent_path());
    fs::create_directories(r.context / "model");
    std::vector<std::string> allowed{"model"};
    for (const auto& a : artifacts) {
        const fs::path dest = r.context / "model" / a.path;
        fs::create_directories(dest.parent_path());
        s.objects->restore(*store::Digest::parse(a.digest), dest);
    }
    if (p.package) {
        for (const auto& f : p.package->files) {
            copy_into(project_file(p, f), r.context / "app" / f.value);
        }
        if (!p.package->files.empty()) {
            allowed.push_back("app");
        }
    }
    if (needs_server) {
        const auto server = find_model_server();
        if (!server) {
            throw error::ExternalError(
                fmt::format("template '{}' needs the model server mloop-serve, which is not "
                            "installed beside mloop",
                            r.template_name),
                "install mloop with 'cmake --install', or set MLOOP_SERVE to the server's path");
        }
        copy_into(*server, r.context / "mloop-serve");
        allowed.push_back("mloop-serve");
    }
    // Everything but model/, app/ and the server stays out of the build, the Dockerfile
    // included: so a template may COPY the whole context (`COPY . /`) in one layer.
    std::string ignore = "# written by mloop package: only what the Dockerfile copies\n*\n";
    for (const auto& a : allowed) {
        ignore += "!" + a + "\n";
    }
    write_text(r.context / ".dockerignore", ignore);
    write_text(r.context / "Dockerfile", r.dockerfile);

    docker::Client docker(*s.runner, s.secrets);
    const auto docker_started = Clock::now();
    fs::remove(iidfile, ec);
    docker.run_streaming(docker::build_args(spec), "build " + spec.tag, o.quiet);
    std::string image_id;
    {
        std::ifstream f(iidfile);
        std::getline(f, image_id);
    }
    fs::remove(iidfile, ec);
    const auto info = docker::inspect_image(docker, image_id.empty() ? spec.tag : image_id);
    r.docker_ms += ms_since(docker_started);
    if (!info) {
        throw error::ExternalError(
            fmt::format("docker built {} but cannot find the image afterwards", spec.tag));
    }

    registry::Image image;
    image.model = v.model;
    image.version = v.version;
    image.repository = repo;
    image.tag = tag;
    image.image_id = info->id;
    image.size = info->size;
    // A digest of what was built; the directory goes (it may hold expanded build values).
    image.context = store::hash_path(r.context).str();
    fs::remove_all(r.context, ec);
    image.template_name = r.template_name;

    // Provenance, stored and written beside the build context.
    ProvenanceInput pin;
    pin.image = image;
    pin.labels = r.labels;
    pin.run = run;
    pin.inputs = inputs;
    pin.artifacts = artifacts;
    pin.dockerfile = r.dockerfile;
    pin.build_argv = r.build_argv;
    pin.started = r.labels["org.opencontainers.image.created"];
    pin.finished = rfc3339_now();
    const std::string statement = provenance_statement(pin).dump(2) + "\n";
    const auto prov_digest = s.objects->put_bytes(statement);
    image.provenance = prov_digest.str();
    r.provenance = fs::absolute(s.paths.state / "provenance" /
                                fmt::format("{}-v{}.intoto.json", v.model, v.version));
    workspace::make_private_dir(r.provenance.parent_path());
    write_text(r.provenance, statement);

    db.write([&] {
        registry::Objects(db).record(*image.provenance, static_cast<int64_t>(statement.size()),
                                     "file");
        image.id = registry::Images(db).add(image);
        registry::Events(db).append(
            "packaged", v.text(),
            nlohmann::json(
                {{"image", image.reference()}, {"image_id", image.image_id}, {"forced", r.forced}})
                .dump());
    });

    if (o.push || (p.package && p.package->push)) {
        const auto push_started = Clock::now();
        docker.run_streaming({"push", "--", spec.tag}, "push " + spec.tag, o.quiet);
        const auto pushed = docker::inspect_image(docker, image.image_id);
        r.docker_ms += ms_since(push_started);
        std::string digest;
        if (pushed) {
            for (const auto& d : pushed->repo_digests) {
                if (util::starts_with(d, repo + "@")) {
                    digest = d;
                }
            }
        }
        if (digest.empty()) {
            throw error::ExternalError(
                fmt::format("docker pushed {} but reports no registry digest for it", spec.tag));
        }
        db.write([&] { registry::Images(db).set_pushed(image.id, digest); });
        image.repo_digest = digest;
        r.pushed = true;
    }
    r.image = image;
    r.total_ms = ms_since(started);
    return r;
}

registry::Image ensure_packaged(train::Session& s, const registry::VersionRef& v, bool quiet,
                                bool force) {
    registry::Db& db = s.db();
    if (auto image = registry::Images(db).latest_for(v.model, v.version)) {
        docker::Client docker(*s.runner, s.secrets);
        if (docker::inspect_image(docker, image->image_id)) {
            return *image;
        }
    }
    Options o;
    o.version = v.model + "@" + std::to_string(v.version);
    o.quiet = quiet;
    o.check_gates = false;  // the caller has checked them
    o.force = force;
    auto r = package(s, o);
    if (r.refused || !r.image) {
        throw error::CheckFailed(
            fmt::format("{} cannot be packaged: {}", v.text(), util::join(r.refusals, "; ")));
    }
    return *r.image;
}

}  // namespace mloop::package
