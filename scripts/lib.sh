# Shared by scripts/demo, scripts/test and bench/*: the Debian packages mloop needs, installed
# when missing (quietly, idempotently), and the build directories.

# Libraries and tools to build mloop.
MLOOP_BUILD_PACKAGES=(
    cmake ninja-build g++ pkg-config
    libcli11-dev libyaml-cpp-dev libgit2-dev libsqlite3-dev libspdlog-dev libfmt-dev
    nlohmann-json3-dev libre2-dev doctest-dev
    libssl-dev zlib1g-dev libmbedtls-dev libhttp-parser-dev libssh2-1-dev libpcre2-dev
    libfast-float-dev
    libboost-math-dev
)
# What the example project and the tests run.
MLOOP_RUN_PACKAGES=(python3)
MLOOP_TEST_PACKAGES=(python3 python3-yaml bsdutils zsh fish clang-format groff-base)
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

# build_release: an optimised build in build/release, as the demo and benchmarks use it.
build_release() {
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLOOP_TESTS=OFF >/dev/null
    cmake --build build/release
}
