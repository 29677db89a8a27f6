#!/usr/bin/env python3
"""Regenerate results.json from the reference CLI (@devcontainers/cli).

For every case of cases.json the reference builds a Dockerfile configuration with one local
Feature (a Features build is where the reference passes the statically resolved image user,
as _DEV_CONTAINERS_IMAGE_USER). From its trace log this script records the base image it
inspects and that user; whether the build itself succeeds does not matter. The local test
images have no Config.User, so the user is the Dockerfile's USER or "root".

Usage: MOCHI_REFCLI=/opt/refcli/node_modules/.bin/devcontainer ./refresh.py
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.environ.get("MOCHI_REFCLI", "/opt/refcli/node_modules/.bin/devcontainer")
IMAGE = "mochi-dockerfile-ref-test"


def resolve(case):
    ws = tempfile.mkdtemp(prefix="mochi-dockerfile-")
    try:
        dc = os.path.join(ws, ".devcontainer")
        os.makedirs(os.path.join(dc, "f"))
        with open(os.path.join(dc, "Dockerfile"), "w") as f:
            f.write(case["dockerfile"])
        build = {"dockerfile": "Dockerfile", "args": case.get("args", {})}
        if case.get("target"):
            build["target"] = case["target"]
        with open(os.path.join(dc, "devcontainer.json"), "w") as f:
            json.dump({"build": build, "features": {"./f": {}}}, f)
        with open(os.path.join(dc, "f", "devcontainer-feature.json"), "w") as f:
            json.dump({"id": "f", "version": "1.0.0", "name": "f"}, f)
        with open(os.path.join(dc, "f", "install.sh"), "w") as f:
            f.write("#!/bin/sh\ntrue\n")
        os.chmod(os.path.join(dc, "f", "install.sh"), 0o755)
        p = subprocess.run([REF, "build", "--workspace-folder", ws, "--image-name", IMAGE, "--log-level", "trace"],
                           capture_output=True, text=True)
        inspect = re.search(r"Run: docker inspect --type image (\S+)", p.stderr)
        user = re.search(r"--build-arg _DEV_CONTAINERS_IMAGE_USER=(\S*)", p.stderr)
        if not inspect or not user:
            raise SystemExit(f"{case['name']}: no resolution in the reference's log:\n{p.stderr}")
        return {"baseImage": inspect.group(1), "imageUser": user.group(1)}
    finally:
        subprocess.run(["docker", "rmi", "-f", IMAGE], capture_output=True)
        shutil.rmtree(ws)


def dangling():
    p = subprocess.run(["docker", "images", "-q", "-f", "dangling=true"], capture_output=True, text=True)
    return set(p.stdout.split())


def remove_leftovers(before):
    """Remove what failed builds leave behind: untagged images that appeared since before and
    the never-started build containers created from them."""
    new = dangling() - before
    p = subprocess.run(["docker", "ps", "-a", "--filter", "status=created", "--format", "{{.ID}} {{.Image}}"],
                       capture_output=True, text=True)
    stale = [line.split()[0] for line in p.stdout.splitlines() if line.split()[1] in new]
    if stale:
        subprocess.run(["docker", "rm"] + stale, capture_output=True)
    if new:
        subprocess.run(["docker", "rmi"] + sorted(new), capture_output=True)


def main():
    cases = json.load(open(os.path.join(HERE, "cases.json")))
    results = {}
    before = dangling()
    for case in cases:
        results[case["name"]] = resolve(case)
        print(case["name"], results[case["name"]])
    remove_leftovers(before)
    with open(os.path.join(HERE, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
