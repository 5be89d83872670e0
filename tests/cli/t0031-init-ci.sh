#!/usr/bin/env bash
# mloop init --ci github|gitlab: a workflow that is valid YAML and runs the loop in order, written
# beside a new project or alone into an existing one, never over a file.
. "$(dirname "$0")/lib.sh"

# check_workflow github|gitlab FILE PROJECT: parses FILE with PyYAML and checks its structure.
check_workflow() {
    /usr/bin/python3 - "$@" <<'EOF' || fail "$2 fails its check"
import re, subprocess, sys, yaml

system, path, project = sys.argv[1:4]
doc = yaml.safe_load(open(path))
loop = ["mloop validate --format markdown", "mloop train --if-triggered",
        "mloop validate model --format markdown", "mloop package", "mloop deploy staging"]

def mloop_commands(scripts):
    """The mloop commands of shell scripts, in order, without redirections."""
    out = []
    for script in scripts:
        # Each script must at least be valid shell.
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("mloop ") and line != "mloop --version":
                out.append(re.split(r"\s+(>>|\|)", line)[0])
    return out

def expect(cond, what):
    if not cond:
        sys.exit(f"{path}: {what}")

if system == "github":
    expect(doc["name"] == "mloop", "name")
    on = doc["on"]
    expect({"push", "pull_request", "schedule", "workflow_dispatch"} <= set(on), f"on: {on}")
    expect(doc["env"]["MLOOP_REGISTRY"] == ".mloop/registry.db", "MLOOP_REGISTRY")
    expect(doc["concurrency"]["cancel-in-progress"] is False, "concurrency")
    steps = doc["jobs"]["loop"]["steps"]
    names = [s.get("name", "") for s in steps]
    uses = [s.get("uses", "") for s in steps]
    expect(uses[0] == "actions/checkout@v4", "checkout first")
    expect("Install mloop" in names, "an install step")
    restore = uses.index("actions/cache/restore@v4")
    save = uses.index("actions/cache/save@v4")
    first_mloop = next(i for i, s in enumerate(steps) if s.get("run", "").startswith("mloop validate"))
    expect(restore < first_mloop < save == len(steps) - 1, "cache restored before, saved after")
    expect(steps[save]["if"] == "always()", "saved even on failure")
    for i in (restore, save):
        w = steps[i]["with"]
        expect(w["path"] == ".mloop", "the cache holds .mloop")
        expect(w["key"].startswith(f"mloop-{project}-${{{{ github.ref_name }}}}-"), w["key"])
    runs = [s["run"] for s in steps if "run" in s]
    summary = [r for r in runs if r.endswith('>> "$GITHUB_STEP_SUMMARY"')]
    expect(summary == ['mloop validate --format markdown >> "$GITHUB_STEP_SUMMARY"',
                       'mloop validate model --format markdown >> "$GITHUB_STEP_SUMMARY"'],
           f"summaries: {summary}")
    deploy = [s for s in steps if s.get("run") in ("mloop package", "mloop deploy staging")]
    expect(all("refs/heads/main" in s["if"] for s in deploy), "package and deploy on main only")
    expect(mloop_commands(runs) == loop, f"commands: {mloop_commands(runs)}")
else:
    expect(doc["variables"]["MLOOP_REGISTRY"] == ".mloop/registry.db", "MLOOP_REGISTRY")
    job = doc["mloop"]
    expect(job["stage"] in doc["stages"], "stage")
    expect(job["cache"]["paths"] == [".mloop/"], "the cache holds .mloop/")
    expect(job["cache"]["when"] == "always", "saved even on failure")
    expect(job["cache"]["key"] == f"mloop-{project}-$CI_COMMIT_REF_SLUG", job["cache"]["key"])
    expect(job["artifacts"]["paths"] == ["mloop-report.md"], "the report is an artifact")
    expect(job["artifacts"]["when"] == "always", "the report is kept on failure")
    expect(any("mloop" in line for line in job["before_script"]), "an install check")
    expect(job["script"][0] == "mloop validate --format markdown >> mloop-report.md", "report")
    expect(mloop_commands(job["script"]) == loop, f"commands: {mloop_commands(job['script'])}")
    expect("CI_DEFAULT_BRANCH" in job["script"][-1], "package and deploy on the default branch")
EOF
}

test_expect_success 'init --ci github in a new directory writes the project and the workflow' '
    mkdir "Fraud Model" && cd "Fraud Model" &&
    run mloop init --ci github &&
    expect_code 0 &&
    expect_stdout "created mloop.yaml
created .github/workflows/mloop.yml
created .gitignore" &&
    expect_stderr_contains "initialized mloop project '"'"'fraud-model'"'"'" &&
    expect_stderr_contains "the GitHub Actions workflow needs its install step adapted: see .github/workflows/mloop.yml" &&
    grep -qx ".mloop/" .gitignore &&
    check_workflow github .github/workflows/mloop.yml fraud-model &&
    grep -q "Adapt this step" .github/workflows/mloop.yml &&
    ! grep -q "{{project}}" .github/workflows/mloop.yml &&
    run mloop validate config &&
    expect_code 0
'

test_expect_success 'init --ci gitlab in a project writes only the workflow' '
    printf "mloop: 1\nproject: churn-model\n" >mloop.yaml &&
    printf "*.pyc\n" >.gitignore &&
    run mloop init --ci gitlab &&
    expect_code 0 &&
    expect_stdout "created .gitlab-ci.yml" &&
    expect_stderr "wrote the GitLab CI workflow of project '"'"'churn-model'"'"'
next: adapt its install step, then commit .gitlab-ci.yml" &&
    [ "$(cat .gitignore)" = "*.pyc" ] &&
    [ "$(cat mloop.yaml)" = "$(printf "mloop: 1\nproject: churn-model")" ] &&
    check_workflow gitlab .gitlab-ci.yml churn-model &&
    run mloop init --ci github &&
    expect_code 0 &&
    expect_stdout "created .github/workflows/mloop.yml" &&
    check_workflow github .github/workflows/mloop.yml churn-model
'

test_expect_success 'init --ci DIR and --example --ci' '
    run mloop init --example --ci gitlab demo &&
    expect_code 0 &&
    expect_stdout_contains "created demo/.gitlab-ci.yml" &&
    [ -f demo/train.py ] &&
    check_workflow gitlab demo/.gitlab-ci.yml churn &&
    run mloop init --ci github demo &&
    expect_code 0 &&
    expect_stdout "created demo/.github/workflows/mloop.yml" &&
    check_workflow github demo/.github/workflows/mloop.yml churn
'

test_expect_success 'init --ci never overwrites a workflow and then writes nothing' '
    mkdir -p .github/workflows && printf "mine\n" >.github/workflows/mloop.yml &&
    run mloop init --ci github &&
    expect_code 2 &&
    expect_stderr "mloop: error: '"'"'.github/workflows/mloop.yml'"'"' already exists; mloop init never overwrites a file
hint: remove it or init another directory" &&
    [ "$(cat .github/workflows/mloop.yml)" = mine ] &&
    [ ! -e mloop.yaml ] && [ ! -e .gitignore ] &&
    printf "project: p\n" >mloop.yaml && printf "mine\n" >.gitlab-ci.yml &&
    run mloop init --ci gitlab &&
    expect_code 2 &&
    [ "$(cat .gitlab-ci.yml)" = mine ]
'

test_expect_success 'an unknown CI system is a usage error with a suggestion' '
    run mloop init --ci githb &&
    expect_code 2 &&
    expect_stderr "mloop: error: unknown CI system '"'"'githb'"'"' for --ci
hint: did you mean '"'"'github'"'"'?" &&
    run mloop init --ci jenkins &&
    expect_code 2 &&
    expect_stderr_contains "hint: --ci takes '"'"'github'"'"' or '"'"'gitlab'"'"'" &&
    run mloop init --ci &&
    expect_code 2 &&
    run mloop init --ci "" &&
    expect_code 2 &&
    expect_stderr_contains "unknown CI system '"'"''"'"' for --ci" &&
    [ -z "$(ls -A)" ]
'

test_expect_success 'init --ci --dry-run writes nothing; --json names the workflow' '
    run mloop init --ci github --dry-run &&
    expect_code 0 &&
    expect_stdout "would create mloop.yaml
would create .github/workflows/mloop.yml
would create .gitignore" &&
    [ -z "$(ls -A)" ] &&
    run mloop --json init --ci gitlab &&
    expect_code 0 &&
    expect_json "j[\"ci\"] == \"gitlab\" and j[\"workflow\"] == \".gitlab-ci.yml\"" &&
    expect_json "j[\"created\"] == [\"mloop.yaml\", \".gitignore\", \".gitlab-ci.yml\"]" &&
    run mloop --json init --ci github &&
    expect_json "j[\"created\"] == [\".github/workflows/mloop.yml\"] and j[\"gitignore_added\"] == []" &&
    run mloop --json init -q &&
    expect_code 2
'

test_done
