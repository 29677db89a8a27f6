# Shared by bench/ssh.sh and bench/ide.sh, sourced after lib.sh: brings up the two sides they
# compare. mochi: a workspace of bench/fixture-ssh behind mochi's own gateway (its own
# MOCHI_HOME and port). sshd: OpenSSH's sshd in a container made from the same image. Both serve
# 512 MiB on 127.0.0.1:9000 inside. Sets MOCHI_HOME, ws, name, mhost, mcfg (mochi) and key,
# shost, sport, sid (sshd); the caller sets its EXIT trap to remove them. sshd is reached at
# its container's address, not through a published port: Docker's userland proxy would cost
# sshd a copy of every byte that mochi's gateway (on the host, linked to its agent by a unix
# socket) does not pay.
BENCH_FIXTURE=fixture-ssh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export MOCHI_HOME="$BENCH_TMP/mochi-home" MOCHI_NO_SERVER=
mkdir -p "$MOCHI_HOME" && chmod 700 "$MOCHI_HOME"
echo "127.0.0.1:$(free_port)" >"$MOCHI_HOME/server.addr"
ws=$(new_workspace mochi)
name=$("$MOCHI_BIN" up --workspace-folder "$ws" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["workspace"])')
mcfg="$MOCHI_HOME/ssh_config"
mhost="$name.mochi"

if ! docker image inspect mochi-bench/sshd >/dev/null 2>&1; then
	printf 'FROM mochi-test/debian:bookworm\nRUN apt-get update -qq && apt-get install -y -qq openssh-server perl >/dev/null && mkdir -p /run/sshd\n' |
		docker build -q --label mochi.test=1 -t mochi-bench/sshd - >/dev/null
fi
key="$BENCH_TMP/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -f "$key"
sport=22
sid=$(docker run -d --label mochi.bench=1 --label mochi.test=1 mochi-bench/sshd sh -c "
	mkdir -p /root/.ssh && echo '$(cat "$key.pub")' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys &&
	nohup perl -MIO::Socket::INET -e '\$s=IO::Socket::INET->new(LocalAddr=>\"127.0.0.1\",LocalPort=>9000,Listen=>5,ReuseAddr=>1) or die; \$b=\"\\0\" x 1048576; while(\$c=\$s->accept){ print \$c \$b for 1..512; close \$c }' >/dev/null 2>&1 &
	exec /usr/sbin/sshd -D -e")
shost=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$sid")
