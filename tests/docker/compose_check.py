#!/usr/bin/env python3
"""Checks docker-compose.yml and docker/Dockerfile without a Docker engine.

What a `docker compose up` would trip over first: the compose file parses,
names only build contexts, Dockerfiles, stages and files that exist, has a
health check and restart policy per service, publishes 1883 and 9001, keeps
broker persistence, the store and the keys in named volumes; the Dockerfile
builds from Debian 12 only, installs packages only from scripts/packages.txt
(through scripts/packages.sh, never a list of its own) and copies no keys.

Usage: compose_check.py SOURCE_DIR
"""
import os
import re
import shlex
import subprocess
import sys

import yaml

errors = []



def volume_parts(spec):
    """SOURCE and TARGET of a short volume spec; SOURCE may be ${VAR:-default}."""
    m = re.match(r"(\$\{[^}]*\}|[^:]+):([^:]+)", spec)
    return (m.group(1), m.group(2)) if m else (spec, "")

def check(ok, message):
    if not ok:
        errors.append(message)
    return ok


def dockerfile_instructions(path):
    """(instruction, argument) pairs, continuation lines joined, comments dropped."""
    out, current = [], ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if current and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            current += line
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


def apt_install_words(run):
    """The words after each `apt-get install` in a RUN line, up to && or ;."""
    words = []
    for part in re.split(r"&&|;", run):
        tokens = re.findall(r"\$\([^)]*\)|\S+", part)
        for i in range(len(tokens) - 1):
            if tokens[i] == "apt-get" and tokens[i + 1] == "install":
                words.append(tokens[i + 2:])
    return words


def main(src):
    compose_path = os.path.join(src, "docker-compose.yml")
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
    check(isinstance(compose, dict), "docker-compose.yml is not a mapping")
    services = compose.get("services", {})
    declared_volumes = set((compose.get("volumes") or {}).keys())
    check({"broker", "room-manager"} <= set(services),
          f"services must include broker and room-manager, got {sorted(services)}")

    packages = subprocess.run(["bash", os.path.join(src, "scripts/packages.sh"), "all"],
                              check=True, capture_output=True, text=True).stdout.split()
    check(len(packages) > 10, "scripts/packages.sh lists too few packages")
    mounts = {}

    for name, svc in services.items():
        build = svc.get("build")
        if not check(isinstance(build, dict), f"{name}: build must be a mapping"):
            continue
        context = os.path.normpath(os.path.join(src, build.get("context", ".")))
        check(os.path.isdir(context), f"{name}: build context {context} missing")
        dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
        if not check(os.path.isfile(dockerfile), f"{name}: {dockerfile} missing"):
            continue
        instructions = dockerfile_instructions(dockerfile)

        # Stages and base images.
        stages = set()
        for word, arg in instructions:
            if word == "FROM":
                parts = arg.split()
                image = parts[0]
                if image not in stages:
                    check(image == "debian:bookworm",
                          f"{dockerfile}: base image {image} is not debian:bookworm")
                if len(parts) == 3 and parts[1].upper() == "AS":
                    stages.add(parts[2])
        check(len(stages) >= 2, f"{dockerfile}: not multi-stage")
        check(build.get("target") in stages,
              f"{name}: target {build.get('target')} is no stage of {dockerfile}")

        # Every COPY source exists in the context; keys are never copied.
        destinations = set()
        for word, arg in instructions:
            if word != "COPY":
                continue
            args = shlex.split(arg)
            from_stage = any(a.startswith("--from=") for a in args)
            args = [a for a in args if not a.startswith("--")]
            *sources, dest = args
            for s in sources:
                if not from_stage:
                    check(os.path.exists(os.path.join(context, s)),
                          f"{dockerfile}: COPY source {s} missing")
                check(not re.search(r"\.pem$|secret|^data", s),
                      f"{dockerfile}: COPY {s} would bake keys into the image")
            if len(sources) == 1:
                destinations.add(dest)
            check(dest != "/" or sources != ["."], "COPY . / ?")
        dockerignore = os.path.join(context, ".dockerignore")
        if check(os.path.isfile(dockerignore), f"{dockerignore} missing"):
            ignored = open(dockerignore).read().split()
            check("data" in ignored, ".dockerignore must keep data/ (keys) out")
            check("build" in ignored, ".dockerignore must keep build/ out")

        # Package installs: only names from scripts/packages.txt via packages.sh.
        copies_list = any(w == "COPY" and "scripts/packages.txt" in a for w, a in instructions)
        check(copies_list, f"{dockerfile}: does not COPY scripts/packages.txt")
        installs = [ws for w, a in instructions if w == "RUN" for ws in apt_install_words(a)]
        check(len(installs) >= 2, f"{dockerfile}: expected an apt-get install per stage")
        modes = set()
        for words in installs:
            for token in words:
                if token.startswith("-"):
                    continue
                check(token not in packages,
                      f"{dockerfile}: package {token} named in the Dockerfile, not the list")
                m = re.match(r"\$\(bash \S*packages\.sh (\w+)\)$", token)
                if m:
                    modes.add(m.group(1))
                    continue
                check(re.match(r"\$\(cat \S*runtime-libs\.txt\)$", token),
                      f"{dockerfile}: apt-get install takes {token}, not the package list")
        check({"all", "runtime"} <= modes,
              f"{dockerfile}: build stage must install `packages.sh all`, "
              f"runtime stage `packages.sh runtime` (found {sorted(modes)})")

        # Entrypoint and health check run files the image has.
        entrypoints = [a for w, a in instructions if w == "ENTRYPOINT"]
        for e in entrypoints:
            exe = yaml.safe_load(e)[0]
            check(exe in destinations, f"{dockerfile}: ENTRYPOINT {exe} is not copied in")
        health = svc.get("healthcheck", {})
        test = health.get("test")
        if check(isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"),
                 f"{name}: healthcheck.test must be a CMD list"):
            exe = test[1].split()[0]
            check(exe in destinations or f"/usr/local/bin/{exe}" in destinations,
                  f"{name}: health check command {exe} is not copied into the image")
        check(svc.get("restart") in ("always", "unless-stopped", "on-failure"),
              f"{name}: restart policy {svc.get('restart')!r}")

        # Volumes: named ones declared at the top; bind mounts exist.
        mounts[name] = {}
        for v in svc.get("volumes", []):
            source, target = volume_parts(v)
            # ${VAR:-default}: what a plain `docker compose up` mounts.
            default = re.fullmatch(r"\$\{\w+:-(.+)\}", source)
            if default:
                source = default.group(1)
            if source.startswith((".", "/")):
                check(os.path.exists(os.path.join(src, source)),
                      f"{name}: mounted {source} missing")
            else:
                check(source in declared_volumes, f"{name}: volume {source} not declared")
                mounts[name][target] = source

    # The layout the entrypoints expect (their defaults).
    broker = mounts.get("broker", {})
    manager = mounts.get("room-manager", {})
    check("/var/lib/mqchat/broker" in broker, "broker: no persistence volume")
    check("/var/lib/mqchat/store" in manager, "room-manager: no store volume")
    keys = manager.get("/var/lib/mqchat/keys")
    check(keys is not None and broker.get("/var/lib/mqchat/keys") == keys,
          "broker and room-manager must share the keys volume")
    check(len({keys, broker.get("/var/lib/mqchat/broker"),
               manager.get("/var/lib/mqchat/store")}) == 3,
          "keys, store and broker persistence need three separate volumes")

    # Ports: published as given, and the broker listens on them.
    ports = [str(p) for p in services.get("broker", {}).get("ports", [])]
    check("1883:1883" in ports and "9001:9001" in ports,
          f"broker must publish 1883 and 9001, got {ports}")
    check("8883:8883" in ports and "9443:9443" in ports,
          f"broker must publish the TLS ports 8883 and 9443, got {ports}")
    check("/etc/mqchat/tls" in [volume_parts(v)[1] for v in
                                services.get("broker", {}).get("volumes", [])],
          "broker: no mount for a real TLS certificate at /etc/mqchat/tls")
    env = services.get("broker", {}).get("environment", {})
    check(str(env.get("MQCHAT_MQTT_PORT")) == "1883" and str(env.get("MQCHAT_WS_PORT")) == "9001",
          "broker environment must set MQCHAT_MQTT_PORT=1883 and MQCHAT_WS_PORT=9001")
    template = open(os.path.join(src, "mosquitto/mosquitto.conf.in")).read()
    check(re.search(r"^listener @WS_PORT@.*\n(?:#.*\n)*protocol websockets", template, re.M),
          "mosquitto.conf.in has no websockets listener on @WS_PORT@")

    # The bare-metal scripts read the same list the same way.
    deps = open(os.path.join(src, "scripts/install-deps.sh")).read()
    check("packages.sh" in deps, "scripts/install-deps.sh does not read the list via packages.sh")

    if errors:
        for e in dict.fromkeys(errors):
            print("FAIL:", e, file=sys.stderr)
        return 1
    print(f"compose check passed: {sorted(services)}, {len(packages)} packages in one list")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
