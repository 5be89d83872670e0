#include "git/git.hpp"

#include <git2.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "error/error.hpp"
#include "store/sha256.hpp"
#include "util/fs.hpp"

// With the static libgit2 (CMakeLists.txt links it with --wrap), its start-up load of the
// system's CA certificates lands here and loads none: mloop never talks HTTPS through libgit2,
// and parsing ~140 PEM certificates was most of the cost of every command that looks at git.
// A TLS connection made through libgit2 would fail certificate verification, not go unchecked.
extern "C" int __wrap_mbedtls_x509_crt_parse_file(void*, const char*) {
    return 0;
}
extern "C" int __wrap_mbedtls_x509_crt_parse_path(void*, const char*) {
    return 0;
}

namespace mloop::git {

namespace fs = std::filesystem;

namespace {

// libgit2 wants one init per process before any call; mloop never shuts it down (the process
// ends soon enough, and shutdown would race other threads).
void ensure_init() {
    static std::once_flag once;
    std::call_once(once, [] { git_libgit2_init(); });
}

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
template <class T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using Repo = Owned<git_repository, git_repository_free>;
using Ref = Owned<git_reference, git_reference_free>;
using Commit = Owned<git_commit, git_commit_free>;
using Tree = Owned<git_tree, git_tree_free>;
using Diff = Owned<git_diff, git_diff_free>;
using StatusList = Owned<git_status_list, git_status_list_free>;

[[noreturn]] void fail(const fs::path& dir, const char* what) {
    const git_error* e = git_error_last();
    throw error::ExternalError(fmt::format("git: cannot {} in '{}': {}", what,
                                           util::display_path(dir),
                                           e != nullptr ? e->message : "unknown error"));
}

std::string oid_hex(const git_oid* oid) {
    char buf[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(buf, sizeof buf, oid);
    return buf;
}

}  // namespace

State inspect(const fs::path& dir) {
    ensure_init();
    State st;
    git_repository* raw = nullptr;
    const int rc = git_repository_open_ext(&raw, dir.c_str(), 0, nullptr);
    if (rc == GIT_ENOTFOUND) {
        return st;
    }
    if (rc != 0) {
        fail(dir, "open the repository");
    }
    Repo repo(raw);
    st.in_repository = true;
    if (const char* wd = git_repository_workdir(repo.get()); wd != nullptr) {
        st.workdir = fs::path(wd).lexically_normal();
    }

    git_reference* head_raw = nullptr;
    const int head_rc = git_repository_head(&head_raw, repo.get());
    Ref head(head_raw);
    Tree head_tree;
    if (head_rc == 0) {
        if (git_reference_is_branch(head.get())) {
            st.branch = git_reference_shorthand(head.get());
        }
        git_commit* c = nullptr;
        if (git_commit_lookup(&c, repo.get(), git_reference_target(head.get())) != 0) {
            fail(dir, "read HEAD's commit");
        }
        Commit commit(c);
        st.commit = oid_hex(git_commit_id(commit.get()));
        git_tree* t = nullptr;
        if (git_commit_tree(&t, commit.get()) != 0) {
            fail(dir, "read HEAD's tree");
        }
        head_tree.reset(t);
    } else if (head_rc == GIT_EUNBORNBRANCH) {
        // No commit yet: the branch HEAD names is still worth recording.
        git_reference* sym = nullptr;
        if (git_reference_lookup(&sym, repo.get(), "HEAD") == 0) {
            Ref s(sym);
            if (const char* target = git_reference_symbolic_target(s.get()); target != nullptr) {
                std::string name = target;
                const std::string prefix = "refs/heads/";
                st.branch = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
            }
        }
    } else if (head_rc != GIT_ENOTFOUND) {
        fail(dir, "read HEAD");
    }

    if (git_repository_is_bare(repo.get())) {
        return st;
    }
    // Dirty means tracked files changed, staged or not; untracked files do not count (as with
    // `git describe --dirty`): build outputs and data would otherwise mark every run dirty.
    git_status_options opts = GIT_STATUS_OPTIONS_INIT;
    opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX;
    git_status_list* list_raw = nullptr;
    if (git_status_list_new(&list_raw, repo.get(), &opts) != 0) {
        fail(dir, "read the status");
    }
    StatusList list(list_raw);
    const size_t n = git_status_list_entrycount(list.get());
    for (size_t i = 0; i < n; ++i) {
        const git_status_entry* e = git_status_byindex(list.get(), i);
        if (e->status == GIT_STATUS_CURRENT || (e->status & GIT_STATUS_IGNORED) ||
            e->status == GIT_STATUS_WT_NEW) {
            continue;
        }
        const git_diff_delta* d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
        if (d != nullptr && d->new_file.path != nullptr) {
            st.changed.emplace_back(d->new_file.path);
        }
    }
    std::sort(st.changed.begin(), st.changed.end());
    st.changed.erase(std::unique(st.changed.begin(), st.changed.end()), st.changed.end());
    st.dirty = !st.changed.empty();
    if (!st.dirty) {
        return st;
    }
    // The digest of the patch from HEAD to the work tree (through the index) identifies exactly
    // which uncommitted state a run saw.
    git_diff* diff_raw = nullptr;
    git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
    if (git_diff_tree_to_workdir_with_index(&diff_raw, repo.get(), head_tree.get(), &dopts) != 0) {
        fail(dir, "diff the work tree");
    }
    Diff diff(diff_raw);
    git_buf buf = GIT_BUF_INIT;
    if (git_diff_to_buf(&buf, diff.get(), GIT_DIFF_FORMAT_PATCH) != 0) {
        fail(dir, "format the diff");
    }
    st.diff_digest = store::sha256(std::string_view(buf.ptr, buf.size)).str();
    git_buf_dispose(&buf);
    return st;
}

bool is_modified(const State& state, const fs::path& path) {
    if (!state.in_repository) {
        return false;
    }
    fs::path rel = path.is_absolute() ? path.lexically_relative(state.workdir) : path;
    const std::string r = rel.lexically_normal().generic_string();
    return std::binary_search(state.changed.begin(), state.changed.end(), r);
}

}  // namespace mloop::git
