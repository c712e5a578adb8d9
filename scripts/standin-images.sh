#!/usr/bin/env bash
# Build LOCAL STAND-INS for the base images that a rendered Compose project names, for CI machines where no
# image registry is reachable. They are NOT the official images: each is Debian bookworm (from a debootstrap
# rootfs) with Debian's packages or the host's Node, laid out like the official image so that the rendered
# files run on it unmodified:
#   nodered/node-red:<version>  the host's node + npm, node-red@<version> from npm in /usr/src/node-red,
#                               user node-red 1000:1000, /data; no compiler (like the official Alpine image)
#   haproxy:<tag>               Debian's haproxy, config at /usr/local/etc/haproxy/haproxy.cfg, user haproxy
#   eclipse-mosquitto:<tag>     Debian's mosquitto + clients, /mosquitto/{config,data,log}, user 1883:1883
# Usage: scripts/standin-images.sh IMAGE...   (e.g. nodered/node-red:4.1.8 haproxy:2.8-alpine eclipse-mosquitto:2.0)
# Idempotent: an image whose tag already exists with the io.ff-ha.standin label is kept (cache by tag);
# FF_HA_STANDIN_REBUILD=1 rebuilds. The debootstrap rootfs is cached in $FF_HA_CI_CACHE (default
# /var/lib/ff-ha-ci). Inside the images npm trusts the host's CA bundle (TLS is re-signed on the way out here).
set -euo pipefail
CACHE=${FF_HA_CI_CACHE:-/var/lib/ff-ha-ci}
MIRROR=${FF_HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=ff-ha-standin/debian:bookworm
DOCKER=${DOCKER:-docker}
LABEL=io.ff-ha.standin
CA=/etc/ssl/certs/ca-certificates.crt

say() { echo "standin-images: $*" >&2; }

standin_label() {
  $DOCKER image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true
}

base_image() {
  if $DOCKER image inspect "$BASE" >/dev/null 2>&1; then return; fi
  local rootfs=$CACHE/rootfs-bookworm
  if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
    command -v debootstrap >/dev/null || { say "debootstrap is not installed: apt-get install debootstrap"; exit 1; }
    say "debootstrap --variant=minbase bookworm $rootfs (about 1-4 minutes)"
    mkdir -p "$CACHE"
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase bookworm "$rootfs.tmp" "$MIRROR" >/dev/null
    mv "$rootfs.tmp" "$rootfs"
  fi
  say "importing $rootfs as $BASE"
  tar -C "$rootfs" --exclude=./proc --exclude=./sys --exclude=./dev -c . | $DOCKER import --change 'CMD ["bash"]' - "$BASE" >/dev/null
}

# The build context: a Dockerfile on stdin plus the files named, copied into a temporary directory.
build() {
  local tag=$1 dir=$2
  say "building stand-in $tag"
  $DOCKER build -q --label "$LABEL=yes" -t "$tag" "$dir" >/dev/null
}

node_red() {
  local tag=$1 version=${1##*:}
  version=${version%%-*}
  local dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  cp "$(readlink -f "$(command -v node)")" "$dir/node"
  cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$dir/npm"
  cp -r "$(dirname "$(readlink -f "$(command -v node)")")/../include/node" "$dir/include"
  cp "$CA" "$dir/ca-certificates.crt"
  local registry
  registry=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
  cat >"$dir/entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official image's entrypoint (npm start -- --userDir /data).
exec node /usr/src/node-red/node_modules/node-red/red.js --userDir /data "$@"
EOF
  cat >"$dir/Dockerfile" <<EOF
# STAND-IN for nodered/node-red:$version (not the official image): Debian bookworm, the CI host's Node.
FROM $BASE
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY include /usr/local/include/node
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY entrypoint.sh /usr/src/node-red/entrypoint.sh
# npm_config_nodedir: node-gyp uses these headers instead of downloading them (no nodejs.org here).
# npm_config_cafile: in the environment, not only in the global npmrc, which npm stops reading when a build
# installs with another --prefix.
ENV NODE_RED_VERSION=$version NODE_PATH=/usr/src/node-red/node_modules:/data/node_modules FLOWS=flows.json npm_config_nodedir=/usr/local npm_config_cafile=/etc/ssl/certs/ca-certificates.crt npm_config_registry=$registry
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && mkdir -p /usr/local/etc \\
 && printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nregistry=%s\nfund=false\naudit=false\nupdate-notifier=false\n' '$registry' > /usr/local/etc/npmrc \\
 && groupadd -g 1000 node-red && useradd -u 1000 -g 1000 -d /usr/src/node-red -s /bin/sh node-red \\
 && mkdir -p /data /usr/src/node-red \\
 && chmod +x /usr/src/node-red/entrypoint.sh \\
 && chown -R node-red:node-red /data /usr/src/node-red
USER node-red
WORKDIR /usr/src/node-red
RUN printf '{"name":"node-red-docker","version":"$version","private":true,"dependencies":{"node-red":"$version"}}\n' > package.json \\
 && npm install --omit=dev --no-audit --no-fund \\
 && rm -rf /usr/src/node-red/.npm
VOLUME ["/data"]
EXPOSE 1880
ENTRYPOINT ["./entrypoint.sh"]
EOF
  build "$tag" "$dir"
}

haproxy() {
  local tag=$1 dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  cat >"$dir/Dockerfile" <<EOF
# STAND-IN for $tag (not the official image): Debian bookworm's haproxy.
FROM $BASE
RUN apt-get update -q && apt-get install -y -q --no-install-recommends haproxy && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /usr/local/etc/haproxy && cp /etc/haproxy/haproxy.cfg /usr/local/etc/haproxy/haproxy.cfg
USER haproxy
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
EOF
  build "$tag" "$dir"
}

mosquitto() {
  local tag=$1 dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  cat >"$dir/Dockerfile" <<EOF
# STAND-IN for $tag (not the official image): Debian bookworm's mosquitto, laid out like eclipse-mosquitto.
FROM $BASE
RUN groupadd -r -g 1883 mosquitto && useradd -r -u 1883 -g 1883 -d /var/empty -s /usr/sbin/nologin mosquitto \\
 && apt-get update -q && apt-get install -y -q --no-install-recommends mosquitto mosquitto-clients && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /mosquitto/config /mosquitto/data /mosquitto/log \\
 && printf 'listener 1883\nallow_anonymous true\n' > /mosquitto/config/mosquitto.conf \\
 && chown -R 1883:1883 /mosquitto
VOLUME ["/mosquitto/data", "/mosquitto/log"]
EXPOSE 1883
CMD ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
EOF
  build "$tag" "$dir"
}

[ $# -gt 0 ] || { echo "usage: $0 IMAGE... (nodered/node-red:<version>, haproxy:<tag>, eclipse-mosquitto:<tag>)" >&2; exit 2; }
for image in "$@"; do
  if $DOCKER image inspect "$image" >/dev/null 2>&1; then
    if [ "$(standin_label "$image")" != yes ]; then say "$image: present and not a stand-in (kept as is)"; continue; fi
    if [ "${FF_HA_STANDIN_REBUILD:-}" != 1 ]; then say "$image: stand-in present (cached)"; continue; fi
  fi
  base_image
  case "$image" in
    nodered/node-red:*) node_red "$image" ;;
    haproxy:*) haproxy "$image" ;;
    eclipse-mosquitto:*) mosquitto "$image" ;;
    *) say "no stand-in recipe for $image"; exit 2 ;;
  esac
done
