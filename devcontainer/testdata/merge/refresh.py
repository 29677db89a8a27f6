#!/usr/bin/env python3
"""Regenerate random.json: random metadata entries merged by the reference CLI.

Each case is a devcontainer.metadata label of random entries (every merged property, with
values chosen to hit the merge rules' corner cases) on a local image, plus a random
devcontainer.json for that image; the reference's read-configuration
--include-merged-configuration output is recorded (configFilePath dropped). The image carries
the label mochi.test=1 and is removed at the end.

Usage: MOCHI_REFCLI=/opt/refcli/node_modules/.bin/devcontainer SEED=2024 N=60 ./refresh.py
"""
import json, random, subprocess, tempfile, os, shutil
HERE = os.path.dirname(os.path.abspath(__file__))
random.seed(int(os.environ.get("SEED","2024")))
REF=os.environ.get("MOCHI_REFCLI", "/opt/refcli/node_modules/.bin/devcontainer")
def rstr(): return random.choice(["", "a", "b", "root", "vscode", "x y"])
def hook(): return random.choice(["", "echo a", [], ["echo","b"], {}, {"p":"echo p","q":["echo","q"]}])
def ports(): return [random.choice([3000, 3000.0, "localhost:3000", "db:5432", 8080, "localhost:8080", "127.0.0.1:3000", "3000"]) for _ in range(random.randint(0,4))]
def mem(): return random.choice(["1gb","2GB","512mb","1024","3tb","0","", "1.5gb", 100, 2048])
def gpu(): return random.choice([True, False, "optional", {"cores":2}, {"memory":"4gb"}, {"cores":1,"memory":"8gb"}])
def mount(): return random.choice(["type=volume,source=v1,target=/a","source=v2,target=/a,type=volume","src=v3,dst=/b,type=volume",{"type":"volume","source":"v4","target":"/b"},{"type":"bind","source":"/tmp","target":"/c"}])
def entry():
    e={}
    gens={
     "id": lambda: random.choice(["feat/a","./b","c"]),
     "init": lambda: random.choice([True,False]),
     "privileged": lambda: random.choice([True,False]),
     "capAdd": lambda: random.sample(["A","B","C","D"], random.randint(0,3)),
     "securityOpt": lambda: random.sample(["x","y","z"], random.randint(0,2)),
     "entrypoint": lambda: random.choice(["", "/e1", "/e2"]),
     "mounts": lambda: [mount() for _ in range(random.randint(0,3))],
     "onCreateCommand": hook, "updateContentCommand": hook, "postCreateCommand": hook, "postStartCommand": hook, "postAttachCommand": hook,
     "waitFor": lambda: random.choice(["","onCreateCommand","postCreateCommand"]),
     "remoteUser": rstr, "containerUser": rstr, "userEnvProbe": lambda: random.choice(["","none","loginShell"]),
     "remoteEnv": lambda: {random.choice(["A","B","C"]): random.choice(["1","2",None]) for _ in range(random.randint(0,3))},
     "containerEnv": lambda: {random.choice(["A","B","C"]): random.choice(["1","2"]) for _ in range(random.randint(0,3))},
     "overrideCommand": lambda: random.choice([True,False]),
     "updateRemoteUserUID": lambda: random.choice([True,False]),
     "portsAttributes": lambda: {random.choice(["3000","8080"]): {"label": random.choice(["a","b"])} for _ in range(random.randint(0,2))},
     "otherPortsAttributes": lambda: random.choice([{}, {"onAutoForward":"ignore"}]),
     "forwardPorts": ports,
     "shutdownAction": lambda: random.choice(["","none","stopContainer"]),
     "hostRequirements": lambda: {k: v() for k,v in random.sample([("cpus",lambda: random.choice([0,1,2,4])),("memory",mem),("storage",mem),("gpu",gpu)], random.randint(0,4))},
     "customizations": lambda: {k: {"v": random.randint(0,9)} for k in random.sample(["vscode","jetbrains"], random.randint(0,2))},
    }
    for k in random.sample(list(gens), random.randint(0,8)):
        e[k]=gens[k]()
    return e
cases=[]
for i in range(int(os.environ.get("N","60"))):
    entries=[entry() for _ in range(random.randint(1,4))]
    label=json.dumps(entries)
    img="mochi-diffmerge-test:latest"
    ctx=tempfile.mkdtemp()
    open(os.path.join(ctx,"Dockerfile"),"w").write("FROM mochi-test/busybox:latest\n")
    subprocess.run(["docker","build","-q","-t",img,"--label","mochi.test=1","--label","devcontainer.metadata="+label,ctx],check=True,capture_output=True)
    ws=tempfile.mkdtemp(); os.makedirs(ws+"/.devcontainer")
    cfg=entry(); cfg.pop("id",None); cfg["image"]=img
    json.dump(cfg,open(ws+"/.devcontainer/devcontainer.json","w"))
    p=subprocess.run([REF,"read-configuration","--workspace-folder",ws,"--include-merged-configuration"],capture_output=True,text=True)
    if p.returncode!=0:
        cases.append({"label":label,"config":cfg,"error":p.stdout[-500:]})
    else:
        m=json.loads(p.stdout)["mergedConfiguration"]; m.pop("configFilePath",None)
        cases.append({"label":label,"config":cfg,"merged":m})
    shutil.rmtree(ctx); shutil.rmtree(ws)
subprocess.run(["docker","rmi","mochi-diffmerge-test:latest"],capture_output=True)
json.dump(cases,open(os.path.join(HERE,"random.json"),"w"),indent=1)
print(len(cases), sum(1 for c in cases if "error" in c))
