#!/usr/bin/env bash
# The steps of trustscan's GitHub Action (action.yml runs them; tests/test_action.py runs
# the scan step as written). Inputs arrive as environment variables, never spliced into
# the script, so a branch name or a path cannot become shell code.
set -euo pipefail
set -f  # INPUT_ARGS is split into words, never globbed
here="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:?install or scan}" in
  install)
    # trustscan at the Action's own ref, its dependencies pinned with hashes.
    venv="$RUNNER_TEMP/trustscan-venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps \
      -r "$here/action-requirements.lock"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation "$here"
    echo "$venv/bin" >> "$GITHUB_PATH"
    ;;
  scan)
    summary="$RUNNER_TEMP/trustscan-summary.md"
    args=(scan --no-progress --sarif "${INPUT_SARIF:-trustscan.sarif}" --markdown "$summary")
    if [ -n "${INPUT_PATH:-}" ]; then args+=("$INPUT_PATH"); fi
    if [ -n "${INPUT_BASELINE_REF:-}" ]; then args+=("--baseline-ref=$INPUT_BASELINE_REF"); fi
    # shellcheck disable=SC2206
    extra=(${INPUT_ARGS:-})
    status=0
    trustscan "${args[@]}" "${extra[@]}" || status=$?
    if [ -f "$summary" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      cat "$summary" >> "$GITHUB_STEP_SUMMARY"
    fi
    exit "$status"
    ;;
  *)
    echo "usage: $0 install|scan" >&2
    exit 2
    ;;
esac
