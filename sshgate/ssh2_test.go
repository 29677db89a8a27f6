package sshgate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ssh2Script drives the gateway like open-remote-ssh does with the npm ssh2 client: a
// base64 script as a long exec command line run by `bash -l`, a direct-tcpip channel
// (forwardOut) with half-close, and SFTP.
const ssh2Script = `
const { Client } = require('ssh2');
const fs = require('fs');
const [port, keyPath, hostKey, script, fwdPort, dir] = process.argv.slice(1);
const out = {};
const c = new Client();
c.on('ready', () => {
  c.exec('echo ' + script + ' | base64 -d | bash -l', (err, stream) => {
    if (err) throw err;
    let data = '';
    stream.on('data', d => data += d).on('close', (code) => {
      out.exec = { code, data };
      c.forwardOut('127.0.0.1', 0, '127.0.0.1', Number(fwdPort), (err, ch) => {
        if (err) throw err;
        let got = '';
        ch.on('data', d => got += d).on('close', () => {
          out.forward = got;
          c.sftp((err, sftp) => {
            if (err) throw err;
            const remote = dir + '/up.bin';
            sftp.fastPut(dir + '/src.bin', remote, (err) => {
              if (err) throw err;
              sftp.chmod(remote, 0o604, (err) => {
                if (err) throw err;
                sftp.stat(remote, (err, st) => {
                  if (err) throw err;
                  out.mode = (st.mode & 0o777).toString(8);
                  console.log(JSON.stringify(out));
                  c.end();
                });
              });
            });
          });
        });
        ch.end('hello');
      });
    });
  });
}).connect({
  host: '127.0.0.1', port: Number(port), username: 'ws1',
  privateKey: fs.readFileSync(keyPath),
  hostVerifier: (key) => key.toString('base64') === hostKey,
});
`

func TestNodeSSH2Client(t *testing.T) {
	needBinary(t, "node")
	nodePath := os.Getenv("MOCHI_TEST_NODE_PATH")
	if nodePath == "" {
		nodePath = "/opt/mochi-testdeps/node_modules"
	}
	check := exec.Command("node", "-e", "require('ssh2')")
	check.Env = append(os.Environ(), "NODE_PATH="+nodePath)
	if err := check.Run(); err != nil {
		t.Skip("npm ssh2 not installed (npm install ssh2 and set MOCHI_TEST_NODE_PATH)")
	}
	e := newRealEnv(t)
	dir := t.TempDir()
	want := writeRandom(t, filepath.Join(dir, "src.bin"), 400000, 0o644)
	// A script of ~30 KB, as the install scripts are.
	pad := make([]byte, 10000)
	rand.Read(pad)
	script := "# " + hex.EncodeToString(pad) + "\necho \"shell=$0\"; echo marker: start; exit 3\n"
	hostKey := base64.StdEncoding.EncodeToString(e.srv.HostKey().Marshal())
	cmd := e.command("node", "-e", ssh2Script, strconv.Itoa(e.port), e.keyPath, hostKey,
		base64.StdEncoding.EncodeToString([]byte(script)), strconv.Itoa(counterServer(t)), dir)
	cmd.Env = append(cmd.Env, "NODE_PATH="+nodePath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node ssh2: %v\n%s", err, out)
	}
	var res struct {
		Exec struct {
			Code int
			Data string
		}
		Forward string
		Mode    string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse %q: %v", out, err)
	}
	if res.Exec.Code != 3 || !strings.Contains(res.Exec.Data, "marker: start") || !strings.Contains(res.Exec.Data, "shell=bash") {
		t.Fatalf("exec: %+v", res.Exec)
	}
	if res.Forward != "got 5" || res.Mode != "604" {
		t.Fatalf("forward %q mode %q", res.Forward, res.Mode)
	}
	sameFile(t, want, filepath.Join(dir, "up.bin"), 0o604)
}
