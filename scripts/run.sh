#!/usr/bin/env bash
# Installs what is missing, builds otad and runs it on its embedded SQLite database.
# The endpoint and an AccessKey pair to use are printed before the server starts.
# Environment: OTAD_LISTEN (default 127.0.0.1:8080), OTAD_DATA (default .otad-data).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target otad

listen="${OTAD_LISTEN:-127.0.0.1:8080}"
data="${OTAD_DATA:-.otad-data}"
mkdir -p "$data"
credentials="$data/access-key.env"
if [[ -z "${ALIBABA_CLOUD_ACCESS_KEY_ID:-}" ]]; then
  if [[ ! -f "$credentials" ]]; then
    umask 077
    # About a quarter of random bytes are letters or digits: read plenty.
    id="LTAI$(head -c 1000 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 20)"
    secret="$(head -c 1000 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 30)"
    printf 'ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n' \
      "$id" "$secret" >"$credentials"
  fi
  set -a
  # shellcheck disable=SC1090
  . "$credentials"
  set +a
fi

cat <<INFO
otad endpoint:      http://$listen   (SDK Config: endpoint '$listen', protocol 'http')
AccessKeyId:        $ALIBABA_CLOUD_ACCESS_KEY_ID
AccessKeySecret:    $ALIBABA_CLOUD_ACCESS_KEY_SECRET
data directory:     $data   (the key pair is kept in $credentials)
Stop with Ctrl-C.
INFO
exec build/release/apps/otad/otad serve --listen "$listen" --data "$data"
