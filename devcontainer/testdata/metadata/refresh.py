#!/usr/bin/env python3
"""Regenerate the metadata goldens from the reference CLI (@devcontainers/cli).

Each case directory holds workspace/ (copied to a temporary folder and opened with the
reference), optionally base-label.json (an image mochi-metadata-test-base:latest is built with
that devcontainer.metadata label first) and after.json (a changed devcontainer.json read back
against the container created by `up`). Outputs, all taken verbatim from the reference:

  label.txt          devcontainer.metadata label of the container (`up`) or image (`build`)
  instruction.txt    the LABEL instruction of the generated Dockerfile (Features and Dockerfile
                     configurations, which the reference builds instead of running `up`)
  read-merged.json   mergedConfiguration of `read-configuration --include-merged-configuration`
  up-merged.json     mergedConfiguration of `up --include-merged-configuration`
  after-merged.json  mergedConfiguration of read-configuration with after.json, container up

configFilePath is dropped from the merged objects (it holds the temporary path). Everything the
script creates carries the label mochi.test=1 and is removed at the end.

Usage: MOCHI_REFCLI=/opt/refcli/node_modules/.bin/devcontainer ./refresh.py [case...]
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.environ.get("MOCHI_REFCLI", "/opt/refcli/node_modules/.bin/devcontainer")
ENV = dict(os.environ, MOCHI_REF_VAR="refvalue", HOME="/root")
BASE_IMAGE = "mochi-metadata-test-base:latest"


def run(args, check=True):
    p = subprocess.run(args, env=ENV, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def merged(stdout):
    m = json.loads(stdout)["mergedConfiguration"]
    m.pop("configFilePath", None)
    return json.dumps(m, separators=(",", ":"), ensure_ascii=False) + "\n"


def write(case, name, text):
    with open(os.path.join(HERE, case, name), "w") as f:
        f.write(text)


def cleanup(case):
    ids = run(["docker", "ps", "-aq", "--filter", f"label=mochi.case={case}"]).stdout.split()
    if ids:
        run(["docker", "rm", "-f", "-v"] + ids)
    for v in run(["docker", "volume", "ls", "-q"]).stdout.split():
        if v.startswith("mochi-metadata-test-"):
            run(["docker", "volume", "rm", v], check=False)


def refresh(case):
    src = os.path.join(HERE, case)
    ws = tempfile.mkdtemp(prefix="mochi-metadata-")
    shutil.copytree(os.path.join(src, "workspace"), ws, dirs_exist_ok=True)
    ids = ["--id-label", "mochi.test=1", "--id-label", f"mochi.case={case}"]
    base = os.path.join(src, "base-label.json")
    try:
        if os.path.exists(base):
            label = open(base).read().strip()
            ctx = tempfile.mkdtemp(prefix="mochi-metadata-base-")
            with open(os.path.join(ctx, "Dockerfile"), "w") as f:
                f.write("FROM mochi-test/debian:bookworm\n")
            run(["docker", "build", "-q", "-t", BASE_IMAGE, "--label", "mochi.test=1",
                 "--label", f"devcontainer.metadata={label}", ctx])
            shutil.rmtree(ctx)
        p = run([REF, "read-configuration", "--workspace-folder", ws, "--include-merged-configuration"] + ids)
        write(case, "read-merged.json", merged(p.stdout))
        config = open(os.path.join(ws, ".devcontainer", "devcontainer.json")).read()
        if '"features"' in config or '"build"' in config:
            # The label is written by a LABEL instruction of a generated Dockerfile.
            image = f"mochi-metadata-test-{case}"
            p = run([REF, "build", "--workspace-folder", ws, "--image-name", image, "--log-level", "trace"])
            generated = re.findall(r"Run: docker build .*?-f (\S+)", p.stderr)
            text = next(t for t in (open(f).read() for f in reversed(generated)) if "LABEL devcontainer.metadata=" in t)
            start = text.rindex("LABEL devcontainer.metadata=")
            end = text.index('"\n', start) + 1
            write(case, "instruction.txt", text[start:end] + "\n")
            out = run(["docker", "inspect", image, "--format", '{{index .Config.Labels "devcontainer.metadata"}}'])
            write(case, "label.txt", out.stdout)
            run(["docker", "rmi", image])
            return
        p = run([REF, "up", "--workspace-folder", ws, "--include-merged-configuration"] + ids, check=False)
        cid = run(["docker", "ps", "-aq", "--filter", f"label=mochi.case={case}"]).stdout.split()[0]
        out = run(["docker", "inspect", cid, "--format", '{{index .Config.Labels "devcontainer.metadata"}}'])
        write(case, "label.txt", out.stdout)
        if p.returncode == 0:
            write(case, "up-merged.json", merged(p.stdout))
            after = os.path.join(src, "after.json")
            if os.path.exists(after):
                shutil.copy(after, os.path.join(ws, ".devcontainer", "devcontainer.json"))
                p = run([REF, "read-configuration", "--workspace-folder", ws, "--include-merged-configuration"] + ids)
                write(case, "after-merged.json", merged(p.stdout))
    finally:
        cleanup(case)
        if os.path.exists(base):
            run(["docker", "rmi", BASE_IMAGE], check=False)
        shutil.rmtree(ws)


def main():
    cases = sys.argv[1:] or sorted(d for d in os.listdir(HERE) if os.path.isdir(os.path.join(HERE, d)))
    for case in cases:
        print("refreshing", case)
        refresh(case)


if __name__ == "__main__":
    main()
