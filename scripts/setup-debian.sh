#!/usr/bin/env bash
# Prepare a Debian 12 machine (as root) to build and test mochi.
#
# Idempotent: every step checks first and does nothing when its result is already there, so a
# second run on a prepared machine takes under a second. Steps:
#   1. apt packages (docker.io, debootstrap, busybox-static, SSH clients, lxc, hyperfine, ...);
#      nodejs/npm only when no node is installed;
#   2. dockerd, started by hand when it is not answering (no systemd on the build machines);
#   3. the local base images the tests use (no image registry is reachable):
#        mochi-test/busybox:latest   busybox-static + docker import, CMD /bin/sh
#        mochi-test/debian:bookworm  debootstrap --variant=minbase + docker import
#   4. the reference CLI (@devcontainers/cli, pinned) with npm, used as the oracle by difftest/
#      and bench/.
#
# Environment:
#   MOCHI_REFCLI_DIR   where the reference CLI is installed (default /opt/refcli)
#   MOCHI_SKIP_APT=1   skip step 1 (for machines where packages are managed elsewhere)
#   MOCHI_BUSYBOX_IMAGE, MOCHI_DEBIAN_IMAGE  other tags for the base images (to test this script)
set -euo pipefail

REFCLI_VERSION=0.89.0
REFCLI_DIR=${MOCHI_REFCLI_DIR:-/opt/refcli}
BUSYBOX_IMAGE=${MOCHI_BUSYBOX_IMAGE:-mochi-test/busybox:latest}
DEBIAN_IMAGE=${MOCHI_DEBIAN_IMAGE:-mochi-test/debian:bookworm}

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: run as root (sudo $0)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# --- 1. packages -----------------------------------------------------------------------------

# Package -> a file it installs; a package is installed only when its file is missing, so the
# common case (everything present) costs no dpkg or apt call at all.
packages=(
	docker.io:/usr/sbin/dockerd
	docker-compose:/usr/bin/docker-compose
	debootstrap:/usr/sbin/debootstrap
	git:/usr/bin/git
	rsync:/usr/bin/rsync
	openssh-client:/usr/bin/ssh
	openssh-server:/usr/sbin/sshd
	python3-paramiko:/usr/lib/python3/dist-packages/paramiko/__init__.py
	dropbear-bin:/usr/bin/dbclient
	putty-tools:/usr/bin/plink
	lxc:/usr/bin/lxc-start
	hyperfine:/usr/bin/hyperfine
	ca-certificates:/etc/ssl/certs/ca-certificates.crt
	make:/usr/bin/make
)

install_packages() {
	local want=() entry
	for entry in "${packages[@]}"; do
		[ -e "${entry#*:}" ] || want+=("${entry%%:*}")
	done
	# /bin/busybox may come from the dynamic busybox package, useless in an image: check the
	# package itself.
	if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
		want+=(busybox-static)
	fi
	if ! command -v node >/dev/null 2>&1; then want+=(nodejs); fi
	if ! command -v npm >/dev/null 2>&1; then want+=(npm); fi
	if [ ${#want[@]} -eq 0 ]; then
		log "packages: all present"
		return
	fi
	log "packages: installing ${want[*]}"
	apt-get update -qq
	apt-get install -y -qq "${want[@]}" >/dev/null
}

if [ "${MOCHI_SKIP_APT:-0}" != 1 ]; then
	install_packages
fi

# --- 2. docker daemon ------------------------------------------------------------------------

docker_ready() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if docker_ready; then
	log "dockerd: running"
else
	log "dockerd: starting (log in /var/log/dockerd.log)"
	# setsid: the daemon must outlive this script and any process group it runs in.
	setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
	for _ in $(seq 1 60); do
		docker_ready && break
		sleep 0.5
	done
	if ! docker_ready; then
		echo "setup: dockerd did not answer within 30s; last lines of /var/log/dockerd.log:" >&2
		tail -n 20 /var/log/dockerd.log >&2 || true
		exit 1
	fi
fi

# --- 3. local base images --------------------------------------------------------------------

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

if have_image "$BUSYBOX_IMAGE"; then
	log "image $BUSYBOX_IMAGE: present"
else
	log "image $BUSYBOX_IMAGE: building"
	dir=$(mktemp -d)
	mkdir -p "$dir/bin"
	cp /bin/busybox "$dir/bin/busybox"
	for applet in cat echo env id ls mkdir sh sleep; do
		ln -s busybox "$dir/bin/$applet"
	done
	tar -C "$dir" -c . | docker import --change 'CMD ["/bin/sh"]' - "$BUSYBOX_IMAGE" >/dev/null
	rm -rf "$dir"
fi

if have_image "$DEBIAN_IMAGE"; then
	log "image $DEBIAN_IMAGE: present"
else
	log "image $DEBIAN_IMAGE: debootstrap (about 30s; log in /var/log/mochi-debootstrap.log)"
	dir=$(mktemp -d)
	if ! debootstrap --variant=minbase bookworm "$dir" >/var/log/mochi-debootstrap.log 2>&1; then
		tail -n 20 /var/log/mochi-debootstrap.log >&2
		rm -rf "$dir"
		exit 1
	fi
	# Leave no apt lists or caches in the image: containers run apt-get update themselves.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
	tar -C "$dir" -c . | docker import - "$DEBIAN_IMAGE" >/dev/null
	rm -rf "$dir"
fi

# --- 4. reference CLI ------------------------------------------------------------------------

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
	log "warning: node $(node --version 2>/dev/null || echo missing) is older than the reference CLI's minimum (20)"
fi
refcli="$REFCLI_DIR/node_modules/.bin/devcontainer"
if [ -x "$refcli" ] && [ "$("$refcli" --version 2>/dev/null)" = "$REFCLI_VERSION" ]; then
	log "reference CLI $REFCLI_VERSION: present in $REFCLI_DIR"
else
	log "reference CLI $REFCLI_VERSION: npm install into $REFCLI_DIR"
	mkdir -p "$REFCLI_DIR"
	(cd "$REFCLI_DIR" && npm install --no-audit --no-fund --save-exact --loglevel=error \
		"@devcontainers/cli@$REFCLI_VERSION" >/dev/null)
	"$refcli" --version >/dev/null
fi

log "done"
