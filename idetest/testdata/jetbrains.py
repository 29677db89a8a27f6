#!/usr/bin/env python3
"""What JetBrains Gateway does over SSH, with paramiko, against HOST from an ssh_config.

jetbrains.py CONFIG HOST BINARY BACKEND_PORT SESSIONS IDLE_SECONDS

Opens one direct-tcpip channel to 127.0.0.1:BACKEND_PORT inside (an echo server) and keeps it
for IDLE_SECONDS; meanwhile runs SESSIONS short exec sessions (every fifth with a PTY, four at
a time) running `printf 'out<i>\\n'; exit <(i*7)%256>`, uploads BINARY with SFTP into the home
folder as mochi-upload, chmods it +x over SFTP and runs `./mochi-upload version` there. Then it
sends on the channel again. Prints one JSON report; the Go test judges it.
"""
import concurrent.futures
import hashlib
import json
import sys
import time

import paramiko


def main():
    config, host, binary, backend_port, sessions, idle = sys.argv[1:7]
    backend_port, sessions, idle = int(backend_port), int(sessions), float(idle)
    cfg = paramiko.SSHConfig.from_path(config).lookup(host)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(cfg["hostname"], port=int(cfg.get("port", 22)), username=cfg.get("user"),
                   key_filename=cfg.get("identityfile"), look_for_keys=False, allow_agent=False,
                   timeout=30)
    transport = client.get_transport()
    report = {}

    def line(ch):
        buf = b""
        while not buf.endswith(b"\n"):
            b = ch.recv(1)
            if not b:
                break
            buf += b
        return buf.decode()

    backend = transport.open_channel("direct-tcpip", ("127.0.0.1", backend_port), ("127.0.0.1", 0))
    report["backend_greeting"] = line(backend)
    backend.sendall(b"ping-before\n")
    report["backend_before"] = line(backend)
    opened = time.monotonic()

    def run(i):
        ch = transport.open_session(timeout=60)
        pty = i % 5 == 0
        if pty:
            ch.get_pty(term="xterm", width=120, height=40)
        ch.exec_command("printf 'out%d\\n' %d; exit %d" % (i, i, (i * 7) % 256))
        out = b""
        while True:
            b = ch.recv(65536)
            if not b:
                break
            out += b
        code = ch.recv_exit_status()
        ch.close()
        return {"i": i, "pty": pty, "code": code, "out": out.decode(errors="replace")}

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        report["sessions"] = list(pool.map(run, range(sessions)))
    report["sessions_seconds"] = round(time.monotonic() - start, 2)

    start = time.monotonic()
    sftp = client.open_sftp()
    sftp.put(binary, "mochi-upload")
    sftp.chmod("mochi-upload", 0o755)
    report["upload_size"] = sftp.stat("mochi-upload").st_size
    report["upload_mode"] = sftp.stat("mochi-upload").st_mode & 0o777
    home = sftp.normalize(".")
    report["sftp_home"] = home
    sftp.close()
    report["upload_seconds"] = round(time.monotonic() - start, 2)
    # exec sessions start in the workspace folder; the upload went to the SFTP home.
    _, stdout, stderr = client.exec_command("cd '%s' && sha256sum mochi-upload && ./mochi-upload version" % home)
    report["run_out"] = stdout.read().decode()
    report["run_err"] = stderr.read().decode()
    report["run_code"] = stdout.channel.recv_exit_status()
    with open(binary, "rb") as f:
        report["local_sha256"] = hashlib.sha256(f.read()).hexdigest()

    rest = idle - (time.monotonic() - opened)
    if rest > 0:
        time.sleep(rest)
    report["idle_seconds"] = round(time.monotonic() - opened, 1)
    backend.sendall(b"ping-after\n")
    report["backend_after"] = line(backend)
    backend.close()
    client.close()
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
