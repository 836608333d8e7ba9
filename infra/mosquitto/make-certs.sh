#!/bin/sh
# Makes a private CA, a server certificate for the broker and client certificates, with openssl.
#
#   infra/mosquitto/make-certs.sh OUT_DIR SERVER_NAME[,NAME|IP...] [CLIENT...]
#
# e.g. make-certs.sh /etc/mosquitto/certs broker.lan,10.0.0.2 cam1 camstream-web
# writes ca.crt ca.key server.crt server.key and <client>.crt <client>.key for each client.
# An existing ca.crt/ca.key in OUT_DIR is reused, so new certificates can be added later.
# DAYS (default 825) sets how long the new certificates last; DAYS=-1 makes an already expired one
# (for tests). Keep ca.key off the broker once the certificates are made.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 OUT_DIR SERVER_NAME[,NAME|IP...] [CLIENT...]" >&2
  exit 2
fi
out=$1
names=$2
shift 2
days=${DAYS:-825}
umask 077
mkdir -p "$out"
cd "$out"

if [ ! -f ca.key ] || [ ! -f ca.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
    -subj "/CN=camstream MQTT CA" -keyout ca.key -out ca.crt 2>/dev/null
fi

# subjectAltName from the comma-separated names: IP addresses as IP:, the rest as DNS:.
san=$(echo "$names" | tr ',' '\n' | while read -r name; do
  case $name in
    *[!0-9.]* ) case $name in *:*) echo "IP:$name" ;; *) echo "DNS:$name" ;; esac ;;
    * ) echo "IP:$name" ;;
  esac
done | paste -sd, -)
first=$(echo "$names" | cut -d, -f1)

# sign NAME CN EXTENSIONS: NAME.key and NAME.crt, signed by the CA.
sign() {
  ext=$(mktemp)
  printf '%s\n' "$3" > "$ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -sha256 -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile "$ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$ext"
}

sign server "$first" "basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san"
for client in "$@"; do
  sign "$client" "$client" "basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
done
# Mosquitto reads the files after dropping root: the certificates are public, the keys are not.
chmod 644 ca.crt server.crt
for client in "$@"; do chmod 644 "$client.crt"; done
echo "made in $out: ca.crt server.crt server.key${*:+ and client certificates for: $*}"
