# The shape of the script VS Code Remote-SSH sends to `ssh -T HOST bash`: detect the platform,
# find (or unpack) the server for one commit, start it with a connection token file, wait for
# it to listen, print the result between two markers the client parses and stay alive. The test fills in
# __ID__, __COMMIT__ and __LISTEN__ (--port=0, or --socket-path=PATH).
echo "__ID__: running"
DISTRO_COMMIT="__COMMIT__"
SERVER_LISTEN_FLAG="__LISTEN__"
SERVER_DATA_DIR="$HOME/.vscode-server"
SERVER_DIR="$SERVER_DATA_DIR/bin/$DISTRO_COMMIT"
SERVER_SCRIPT="$SERVER_DIR/bin/code-server-oss"
SERVER_LOGFILE="$SERVER_DATA_DIR/.$DISTRO_COMMIT.log"
SERVER_PIDFILE="$SERVER_DATA_DIR/.$DISTRO_COMMIT.pid"
SERVER_TOKENFILE="$SERVER_DATA_DIR/.$DISTRO_COMMIT.token"
LISTENING_ON=
OS_RELEASE_ID=
ARCH=
PLATFORM=

print_install_results_and_exit() {
	echo "__ID__: start"
	echo "exitCode==$1=="
	echo "listeningOn==$LISTENING_ON=="
	echo "connectionToken==$SERVER_CONNECTION_TOKEN=="
	echo "logFile==$SERVER_LOGFILE=="
	echo "osReleaseId==$OS_RELEASE_ID=="
	echo "arch==$ARCH=="
	echo "platform==$PLATFORM=="
	echo "tmpDir==${TMPDIR:-/tmp}=="
	echo "__ID__: end"
	[ "$1" = 0 ] || exit 0
	# Stay alive: the ssh process carries the tunnel for as long as the session lasts.
	while true; do sleep 180; printf ' '; done
}

KERNEL="$(uname -s)"
case $KERNEL in
	Linux) PLATFORM="linux" ;;
	Darwin) PLATFORM="darwin" ;;
	*) echo "Error platform not supported: $KERNEL"; print_install_results_and_exit 1 ;;
esac
ARCH="$(uname -m)"
case $ARCH in
	x86_64 | amd64) SERVER_ARCH="x64" ;;
	armv7l | armv8l) SERVER_ARCH="armhf" ;;
	arm64 | aarch64) SERVER_ARCH="arm64" ;;
	*) echo "Error architecture not supported: $ARCH"; print_install_results_and_exit 1 ;;
esac
OS_RELEASE_ID="$(grep -i '^ID=' /etc/os-release 2>/dev/null | sed 's/^ID=//gi' | sed 's/"//g')"
if [ -z "$OS_RELEASE_ID" ]; then
	OS_RELEASE_ID="$(grep -i '^ID=' /usr/lib/os-release 2>/dev/null | sed 's/^ID=//gi' | sed 's/"//g')"
	[ -n "$OS_RELEASE_ID" ] || OS_RELEASE_ID="unknown"
fi

mkdir -p "$SERVER_DATA_DIR" || { echo "Error creating server data directory"; print_install_results_and_exit 1; }

# The server is not downloaded here (the workspace may have no internet): as Remote-SSH does
# with remote.SSH.localServerDownload, ask the client for the tarball between trigger markers
# and wait for it and its .done flag to be copied (scp) into the data folder.
if [ ! -f "$SERVER_SCRIPT" ]; then
	TARBALL_NAME="vscode-server-$DISTRO_COMMIT-$PLATFORM-$SERVER_ARCH.tar"
	TARBALL="$SERVER_DATA_DIR/$TARBALL_NAME"
	if [ ! -f "$TARBALL.done" ]; then
		echo "__ID__:trigger_server_download"
		echo "artifact==server-$PLATFORM-$SERVER_ARCH=="
		echo "destFolder==$SERVER_DATA_DIR=="
		echo "destFile==$TARBALL_NAME=="
		echo "__ID__:trigger_server_download_end"
		for i in $(seq 3000); do
			[ -f "$TARBALL.done" ] && break
			[ $((i % 30)) -eq 0 ] && printf ' '
			sleep 0.1
		done
		echo
	fi
	if [ ! -f "$TARBALL.done" ]; then
		echo "Error the client sent no server tarball to $TARBALL"
		print_install_results_and_exit 1
	fi
	mkdir -p "$SERVER_DIR" && tar -xf "$TARBALL" -C "$SERVER_DIR" --strip-components 1 ||
		{ echo "Error extracting $TARBALL"; print_install_results_and_exit 1; }
	rm -f "$TARBALL" "$TARBALL.done"
fi

# A fresh connection token in a file only the user can read.
SERVER_CONNECTION_TOKEN="$(cat /proc/sys/kernel/random/uuid)"
(umask 077 && printf '%s' "$SERVER_CONNECTION_TOKEN" > "$SERVER_TOKENFILE")

# A server left by an earlier session goes, with node under its sh wrapper (no ps in minimal
# images: children are found through /proc/PID/stat).
kill_tree() {
	for child in $(grep -l "^[0-9]* ([^)]*) . $1 " /proc/[0-9]*/stat 2>/dev/null | cut -d/ -f3); do
		kill_tree "$child"
	done
	kill "$1" 2>/dev/null
}
if [ -f "$SERVER_PIDFILE" ] && kill -0 "$(cat "$SERVER_PIDFILE")" 2>/dev/null; then
	kill_tree "$(cat "$SERVER_PIDFILE")"
fi
rm -f "$SERVER_LOGFILE"
"$SERVER_SCRIPT" --start-server --host=127.0.0.1 $SERVER_LISTEN_FLAG --accept-server-license-terms \
	--enable-remote-auto-shutdown --connection-token-file "$SERVER_TOKENFILE" --telemetry-level off \
	</dev/null >"$SERVER_LOGFILE" 2>&1 &
echo $! >"$SERVER_PIDFILE"

for _ in $(seq 600); do
	LISTENING_ON="$(sed -n 's/.*Extension host agent listening on \(.*\)$/\1/p' "$SERVER_LOGFILE" 2>/dev/null | head -n1 | tr -d '\r')"
	[ -n "$LISTENING_ON" ] && break
	kill -0 "$(cat "$SERVER_PIDFILE")" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$LISTENING_ON" ]; then
	echo "Error server did not start:"
	tail -n 30 "$SERVER_LOGFILE"
	print_install_results_and_exit 1
fi
print_install_results_and_exit 0
