#include "registry/deployments.hpp"

#include <unistd.h>

#include <functional>
#include <stdexcept>

#include <fmt/format.h>

#include "registry/registry.hpp"
#include "util/proc.hpp"

namespace mloop::registry {

namespace {

constexpr const char* k_image_columns =
    "i.id, m.name, i.version, i.repository, i.tag, i.image_id, i.repo_digest, i.size, "
    "i.context, i.provenance, i.template, i.created_at, i.pushed_at";

Image image_from(const Stmt& s) {
    Image i;
    i.id = s.int64(0);
    i.model = s.text(1);
    i.version = s.int64(2);
    i.repository = s.text(3);
    i.tag = s.text(4);
    i.image_id = s.text(5);
    i.repo_digest = s.opt_text(6);
    i.size = s.opt_int64(7);
    i.context = s.text(8);
    i.provenance = s.opt_text(9);
    i.template_name = s.text(10);
    i.created_at = s.int64(11);
    i.pushed_at = s.opt_int64(12);
    return i;
}

constexpr const char* k_deployment_columns =
    "d.id, d.env, d.kind, d.target, d.strategy, m.name, d.version, d.image, d.state, "
    "d.previous, d.rollback_to, d.spec, d.manifests, d.forced, d.started_at, d.ended_at, "
    "d.host, d.pid, d.process, d.user, d.reason";

Deployment deployment_from(const Stmt& s) {
    Deployment d;
    d.id = s.int64(0);
    d.env = s.text(1);
    d.kind = s.text(2);
    d.target = s.text(3);
    d.strategy = s.text(4);
    d.model = s.text(5);
    d.version = s.int64(6);
    d.image = s.int64(7);
    d.state = s.text(8);
    d.previous = s.opt_int64(9);
    d.rollback_to = s.opt_int64(10);
    d.spec = s.text(11);
    d.manifests = s.text(12);
    d.forced = s.int64(13) != 0;
    d.started_at = s.int64(14);
    d.ended_at = s.opt_int64(15);
    d.host = s.text(16);
    d.pid = s.int64(17);
    d.process = s.opt_text(18);
    d.user = s.opt_text(19);
    d.reason = s.opt_text(20);
    return d;
}

int64_t model_id_of(Db& db, const std::string& model) {
    Stmt s = db.prepare("SELECT id FROM models WHERE name = ?");
    s.bind(1, model);
    if (!s.step()) {
        throw std::logic_error("no model named " + model);
    }
    return s.int64(0);
}

std::vector<Deployment> deployments_where(Db& db, const std::string& where,
                                          const std::function<void(Stmt&)>& bind) {
    Stmt s =
        db.prepare(fmt::format("SELECT {} FROM deployments d JOIN models m ON m.id = "
                               "d.model_id WHERE {}",
                               k_deployment_columns, where));
    bind(s);
    std::vector<Deployment> out;
    while (s.step()) {
        out.push_back(deployment_from(s));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Images

int64_t Images::add(const Image& image) {
    m_db.require_transaction("Images::add");
    m_db.prepare(
            "INSERT INTO images (model_id, version, repository, tag, image_id, repo_digest, "
            "size, context, provenance, template, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind_all(model_id_of(m_db, image.model), image.version, image.repository, image.tag,
                  image.image_id, image.repo_digest, image.size, image.context, image.provenance,
                  image.template_name, now_ms())
        .run();
    return m_db.last_insert_rowid();
}

void Images::set_pushed(int64_t id, const std::string& repo_digest) {
    m_db.require_transaction("Images::set_pushed");
    m_db.prepare("UPDATE images SET repo_digest = ?, pushed_at = ? WHERE id = ?")
        .bind_all(repo_digest, now_ms(), id)
        .run();
}

std::optional<Image> Images::get(int64_t id) {
    Stmt s = m_db.prepare(
        fmt::format("SELECT {} FROM images i JOIN models m ON m.id = i.model_id WHERE i.id = ?",
                    k_image_columns));
    s.bind(1, id);
    if (!s.step()) {
        return std::nullopt;
    }
    return image_from(s);
}

std::optional<Image> Images::latest_for(const std::string& model, int64_t version) {
    auto all = for_version(model, version);
    if (all.empty()) {
        return std::nullopt;
    }
    return all.front();
}

std::vector<Image> Images::for_version(const std::string& model, int64_t version) {
    Stmt s =
        m_db.prepare(fmt::format("SELECT {} FROM images i JOIN models m ON m.id = "
                                 "i.model_id WHERE m.name = ? AND i.version = ? "
                                 "ORDER BY i.id DESC",
                                 k_image_columns));
    s.bind_all(model, version);
    std::vector<Image> out;
    while (s.step()) {
        out.push_back(image_from(s));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Deployments

int64_t Deployments::begin(Deployment d) {
    m_db.require_transaction("Deployments::begin");
    const pid_t pid = ::getpid();
    m_db.prepare(
            "INSERT INTO deployments (env, kind, target, strategy, model_id, version, image, "
            "state, previous, rollback_to, spec, manifests, forced, started_at, host, pid, "
            "process, user) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?)")
        .bind_all(d.env, d.kind, d.target, d.strategy, model_id_of(m_db, d.model), d.version,
                  d.image, d.previous, d.rollback_to, d.spec, d.manifests,
                  static_cast<int64_t>(d.forced), now_ms(), util::host_name(),
                  static_cast<int64_t>(pid), util::process_identity(pid), util::user_name())
        .run();
    return m_db.last_insert_rowid();
}

void Deployments::set_state(int64_t id, const std::string& state,
                            const std::optional<std::string>& reason) {
    m_db.require_transaction("Deployments::set_state");
    const bool final = state != "pending" && state != "progressing";
    m_db.prepare(
            "UPDATE deployments SET state = ?, reason = COALESCE(?, reason), "
            "ended_at = CASE WHEN ? THEN ? ELSE ended_at END WHERE id = ?")
        .bind_all(state, reason, static_cast<int64_t>(final), now_ms(), id)
        .run();
}

void Deployments::set_spec(int64_t id, const std::string& spec, const std::string& manifests) {
    m_db.require_transaction("Deployments::set_spec");
    m_db.prepare("UPDATE deployments SET spec = ?, manifests = ? WHERE id = ?")
        .bind_all(spec, manifests, id)
        .run();
}

int64_t Deployments::step_begun(int64_t id, const std::string& step, const std::string& detail) {
    const auto write = [&] {
        Stmt s = m_db.prepare(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM deploy_steps WHERE deployment_id = ?");
        s.bind(1, id);
        s.step();
        const int64_t seq = s.int64(0);
        m_db.prepare(
                "INSERT INTO deploy_steps (deployment_id, seq, step, state, detail, at) "
                "VALUES (?, ?, ?, 'begun', ?, ?)")
            .bind_all(id, seq, step, detail.empty() ? std::optional<std::string>() : detail,
                      now_ms())
            .run();
        return seq;
    };
    return m_db.in_transaction() ? write() : m_db.write(write);
}

void Deployments::step_ended(int64_t id, int64_t seq, bool ok, const std::string& detail) {
    const auto write = [&] {
        m_db.prepare(
                "UPDATE deploy_steps SET state = ?, detail = COALESCE(?, detail), at = ? "
                "WHERE deployment_id = ? AND seq = ?")
            .bind_all(std::string(ok ? "done" : "failed"),
                      detail.empty() ? std::optional<std::string>() : detail, now_ms(), id, seq)
            .run();
    };
    if (m_db.in_transaction()) {
        write();
    } else {
        m_db.write(write);
    }
}

std::vector<DeployStep> Deployments::steps(int64_t id) {
    Stmt s = m_db.prepare(
        "SELECT seq, step, state, detail, at FROM deploy_steps "
        "WHERE deployment_id = ? ORDER BY seq");
    s.bind(1, id);
    std::vector<DeployStep> out;
    while (s.step()) {
        out.push_back({s.int64(0), s.text(1), s.text(2), s.opt_text(3), s.int64(4)});
    }
    return out;
}

std::optional<Deployment> Deployments::get(int64_t id) {
    auto v = deployments_where(m_db, "d.id = ?", [&](Stmt& s) { s.bind(1, id); });
    if (v.empty()) {
        return std::nullopt;
    }
    return v.front();
}

std::vector<Deployment> Deployments::list(const std::string& env, size_t limit) {
    if (env.empty()) {
        return deployments_where(m_db, "1 ORDER BY d.id DESC LIMIT ?",
                                 [&](Stmt& s) { s.bind(1, static_cast<int64_t>(limit)); });
    }
    return deployments_where(m_db, "d.env = ? ORDER BY d.id DESC LIMIT ?",
                             [&](Stmt& s) { s.bind_all(env, static_cast<int64_t>(limit)); });
}

std::optional<Deployment> Deployments::current(const std::string& env) {
    auto v = deployments_where(m_db,
                               "d.env = ? AND d.state = 'succeeded' ORDER BY d.id DESC "
                               "LIMIT 1",
                               [&](Stmt& s) { s.bind(1, env); });
    if (v.empty()) {
        return std::nullopt;
    }
    return v.front();
}

std::optional<Deployment> Deployments::succeeded_before(const std::string& env, int64_t before) {
    auto v = deployments_where(m_db,
                               "d.env = ? AND d.state = 'succeeded' AND d.id < ? "
                               "ORDER BY d.id DESC LIMIT 1",
                               [&](Stmt& s) { s.bind_all(env, before); });
    if (v.empty()) {
        return std::nullopt;
    }
    return v.front();
}

std::vector<Deployment> Deployments::unfinished(const std::string& env) {
    return deployments_where(m_db,
                             "d.env = ? AND d.state IN ('pending', 'progressing') ORDER BY d.id",
                             [&](Stmt& s) { s.bind(1, env); });
}

std::vector<std::string> Deployments::environments() {
    Stmt s = m_db.prepare("SELECT DISTINCT env FROM deployments ORDER BY env");
    std::vector<std::string> out;
    while (s.step()) {
        out.push_back(s.text(0));
    }
    return out;
}

std::vector<Deployment> Deployments::of_version(const std::string& model, int64_t version) {
    return deployments_where(m_db, "m.name = ? AND d.version = ? ORDER BY d.id",
                             [&](Stmt& s) { s.bind_all(model, version); });
}

std::vector<Deployment> Deployments::of_image(int64_t image) {
    return deployments_where(m_db, "d.image = ? ORDER BY d.id", [&](Stmt& s) { s.bind(1, image); });
}

bool Deployments::owner_alive(const Deployment& d) {
    if (d.host != util::host_name()) {
        return true;
    }
    return d.process && util::process_is(static_cast<pid_t>(d.pid), *d.process);
}

}  // namespace mloop::registry
