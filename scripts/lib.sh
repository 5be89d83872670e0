# Shared by scripts/demo, scripts/test and bench/*: the Debian packages mloop needs, installed
# when missing (quietly, idempotently), and the build directories.

# Libraries and tools to build mloop.
MLOOP_BUILD_PACKAGES=(
    cmake ninja-build g++ pkg-config
    libcli11-dev libyaml-cpp-dev libgit2-dev libsqlite3-dev libspdlog-dev libfmt-dev
    nlohmann-json3-dev libre2-dev doctest-dev
    libssl-dev zlib1g-dev libmbedtls-dev libhttp-parser-dev libssh2-1-dev libpcre2-dev
    libfast-float-dev
    libboost-math-dev libkainjow-mustache-dev
)
# What the example project and the tests run.
MLOOP_RUN_PACKAGES=(python3)
MLOOP_TEST_PACKAGES=(python3 python3-yaml bsdutils zsh fish clang-format groff-base curl sqlite3 file
    prometheus-pushgateway chromium)
# The real peers of the CD tests and of the demo: a docker engine and a local image registry.
MLOOP_DOCKER_PACKAGES=(docker.io docker-registry)
MLOOP_BENCH_PACKAGES=(hyperfine git python3-yaml python3-pandas python3-numpy)
MLOOP_BENCH_PACKAGES+=(python3-scipy python3-sklearn)  # bench/stats, bench/stats_check

# ensure_packages PKG...: installs the packages that are not installed yet.
ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_docker: a docker engine that answers (started without a bridge or iptables, so that
# containers use the host's network and nothing leaves 127.0.0.1), and a local image registry
# on 127.0.0.1:5000. Idempotent: an engine or registry that already answers is used as it is.
ensure_docker() {
    ensure_packages "${MLOOP_DOCKER_PACKAGES[@]}"
    local i
    if ! docker info >/dev/null 2>&1; then
        echo "starting dockerd" >&2
        (setsid dockerd --bridge=none --iptables=false --ip-masq=false --storage-driver=vfs \
            >/tmp/mloop-dockerd.log 2>&1 &)
        for i in $(seq 120); do
            docker info >/dev/null 2>&1 && break
            sleep 0.5
        done
        docker info >/dev/null 2>&1 || {
            echo "dockerd did not start; see /tmp/mloop-dockerd.log" >&2
            tail -5 /tmp/mloop-dockerd.log >&2
            return 1
        }
    fi
    if ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
        mkdir -p /tmp/mloop-registry
        cat >/tmp/mloop-registry/config.yml <<'YML'
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: /tmp/mloop-registry/data}}
http: {addr: 127.0.0.1:5000}
YML
        (setsid docker-registry serve /tmp/mloop-registry/config.yml \
            >/tmp/mloop-registry/log 2>&1 &)
        for i in $(seq 40); do
            curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break
            sleep 0.25
        done
    fi
}

# build_release: an optimised build in build/release, as the demo and benchmarks use it.
build_release() {
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLOOP_TESTS=OFF >/dev/null
    cmake --build build/release
}
