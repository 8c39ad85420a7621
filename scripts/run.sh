#!/usr/bin/env bash
# Installs what is missing, builds otad and its Mosquitto plugin, starts Mosquitto as the
# device broker and runs otad on its embedded SQLite database.
# The endpoints and an AccessKey pair to use are printed before the server starts.
# Environment: OTAD_LISTEN (default 127.0.0.1:8080), OTAD_DATA (default .otad-data),
# OTAD_MQTT_PORT (default 1883; the broker listens on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target otad otad_mosquitto_plugin

listen="${OTAD_LISTEN:-127.0.0.1:8080}"
data="${OTAD_DATA:-.otad-data}"
mqtt_port="${OTAD_MQTT_PORT:-1883}"
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

# The broker: stopped again when otad exits.
scripts/broker.sh stop "$data" >/dev/null
scripts/broker.sh start "$data" "$mqtt_port"
trap 'scripts/broker.sh stop "$data" >/dev/null' EXIT

cat <<INFO
otad endpoint:      http://$listen   (SDK Config: endpoint '$listen', protocol 'http')
AccessKeyId:        $ALIBABA_CLOUD_ACCESS_KEY_ID
AccessKeySecret:    $ALIBABA_CLOUD_ACCESS_KEY_SECRET
device broker:      mqtt://127.0.0.1:$mqtt_port   (devices log in with their DeviceSecret)
data directory:     $data   (the key pair is kept in $credentials)
Stop with Ctrl-C.
INFO
OTAD_MQTT_PASSWORD="$(cat "$data/mqtt-password")" \
  build/release/apps/otad/otad serve --listen "$listen" --data "$data" --mqtt "127.0.0.1:$mqtt_port"
