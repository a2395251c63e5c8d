"""Structural checks for deploy/ that a schema cannot express. Used by deploy/validate.sh.

  check_manifests.py yaml FILE...            every file parses as (multi-document) YAML
  check_manifests.py overlays K8S_DIR        overlay patches parse and target resources of the base
  check_manifests.py policy RENDERED NAME    rendered manifests keep Tote's rules (probes, limits, non-root)
  check_manifests.py compose FILE            compose services, dependencies and health checks hang together

Prints one line per finding and exits 1 if there is any.
"""

import os
import sys

import yaml


def fail(problems, message):
    problems.append(message)
    print(f"  FAIL {message}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def cmd_yaml(files):
    problems = []
    for path in files:
        try:
            docs = load_all(path)
        except yaml.YAMLError as e:
            fail(problems, f"{path}: not valid YAML: {e}")
            continue
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict):
                fail(problems, f"{path}: document {i + 1} is not a mapping")
    return problems


def resource_ids(kustomize_dir):
    """(kind, name) of every resource a kustomization lists, following nested bases."""
    ids = set()
    kust = load_all(os.path.join(kustomize_dir, "kustomization.yaml"))[0]
    for res in kust.get("resources", []):
        path = os.path.normpath(os.path.join(kustomize_dir, res))
        if os.path.isdir(path):
            ids |= resource_ids(path)
        else:
            for doc in load_all(path):
                ids.add((doc.get("kind"), doc.get("metadata", {}).get("name")))
    return ids


def cmd_overlays(k8s_dir):
    problems = []
    overlays_dir = os.path.join(k8s_dir, "overlays")
    for overlay in sorted(os.listdir(overlays_dir)):
        odir = os.path.join(overlays_dir, overlay)
        kfile = os.path.join(odir, "kustomization.yaml")
        if not os.path.isfile(kfile):
            fail(problems, f"{odir}: no kustomization.yaml")
            continue
        kust = load_all(kfile)[0]
        for res in kust.get("resources", []):
            if not os.path.exists(os.path.join(odir, res)):
                fail(problems, f"{kfile}: resource {res!r} does not exist")
        try:
            known = resource_ids(odir)
        except (OSError, yaml.YAMLError, IndexError) as e:
            fail(problems, f"{kfile}: cannot read its resources: {e}")
            continue
        names = {n for (_, n) in known}
        checked = 0
        for patch in kust.get("patches", []):
            if "path" in patch:
                ppath = os.path.join(odir, patch["path"])
                if not os.path.isfile(ppath):
                    fail(problems, f"{kfile}: patch file {patch['path']!r} does not exist")
                    continue
                for doc in load_all(ppath):
                    target = (doc.get("kind"), doc.get("metadata", {}).get("name"))
                    if target not in known:
                        fail(problems, f"{ppath}: patches {target[0]}/{target[1]}, which the base does not define")
                    checked += 1
            if "target" in patch:
                t = patch["target"]
                exists = (t.get("kind"), t.get("name")) in known if t.get("kind") else t.get("name") in names
                if t.get("name") and not exists:
                    fail(problems, f"{kfile}: inline patch targets {t.get('kind')}/{t['name']}, which the base does not define")
                if "patch" in patch:
                    try:
                        yaml.safe_load(patch["patch"])
                    except yaml.YAMLError as e:
                        fail(problems, f"{kfile}: inline patch for {t.get('kind')}/{t.get('name')} is not valid YAML: {e}")
                checked += 1
        for rep in kust.get("replicas", []):
            if ("Deployment", rep["name"]) not in known:
                fail(problems, f"{kfile}: replicas for {rep['name']}, which is not a Deployment of the base")
            checked += 1
        print(f"  ok   overlay {overlay}: {checked} patches/replica counts target existing resources")
    return problems


def containers(doc):
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return pod, pod.get("containers", [])


def cmd_policy(rendered, label):
    problems = []
    docs = load_all(rendered)
    kinds = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc["metadata"]["name"])
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        name = f"{label}: {doc['kind']}/{doc['metadata']['name']}"
        pod, ctrs = containers(doc)
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            fail(problems, f"{name}: pod securityContext.runAsNonRoot is not true")
        for c in ctrs:
            sc = c.get("securityContext", {})
            if not sc.get("readOnlyRootFilesystem"):
                fail(problems, f"{name}/{c['name']}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation", True):
                fail(problems, f"{name}/{c['name']}: allowPrivilegeEscalation is not false")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(kind, {}):
                        fail(problems, f"{name}/{c['name']}: resources.{kind}.{r} missing")
            if ":" not in c.get("image", "").rsplit("/", 1)[-1]:
                fail(problems, f"{name}/{c['name']}: image {c.get('image')!r} has no tag")
            if c.get("name") == "api":
                live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
                ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
                if live != "/health":
                    fail(problems, f"{name}/api: livenessProbe must be GET /health (is {live!r})")
                if ready != "/ready":
                    fail(problems, f"{name}/api: readinessProbe must be GET /ready (is {ready!r})")
    for kind in ("Deployment", "Job", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap"):
        if kind not in kinds:
            fail(problems, f"{label}: no {kind} rendered")
    if not problems:
        summary = ", ".join(f"{k} {len(v)}" for k, v in sorted(kinds.items()))
        print(f"  ok   policy {label}: {summary}")
    return problems


def cmd_compose(path):
    problems = []
    doc = load_all(path)[0]
    services = doc.get("services", {})
    for needed in ("postgres", "rabbitmq", "migrate", "api", "worker"):
        if needed not in services:
            fail(problems, f"{path}: service {needed!r} missing")
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep, cond in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
            if dep not in services:
                fail(problems, f"{path}: {name} depends on unknown service {dep!r}")
                continue
            c = cond.get("condition", "service_started")
            if c == "service_healthy" and "healthcheck" not in services[dep]:
                fail(problems, f"{path}: {name} waits for {dep} to be healthy, but {dep} has no healthcheck")
            if c not in ("service_started", "service_healthy", "service_completed_successfully"):
                fail(problems, f"{path}: {name} -> {dep}: unknown condition {c!r}")
    for name in ("api", "worker"):
        cond = services.get(name, {}).get("depends_on", {}).get("migrate", {}).get("condition")
        if cond != "service_completed_successfully":
            fail(problems, f"{path}: {name} must wait for migrate to complete (condition is {cond!r})")
    if services.get("migrate", {}).get("command") != ["migrate"]:
        fail(problems, f"{path}: migrate must run `tote migrate`")
    if not problems:
        print(f"  ok   compose structure: {', '.join(services)}")
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "yaml":
        problems = cmd_yaml(args)
    elif cmd == "overlays":
        problems = cmd_overlays(args[0])
    elif cmd == "policy":
        problems = cmd_policy(args[0], args[1])
    elif cmd == "compose":
        problems = cmd_compose(args[0])
    else:
        print(f"unknown check {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
