#!/usr/bin/env python3
"""Checks of the deploy/ artefacts that no off-the-shelf linter makes.

Used by scripts/check-deploy.sh and scripts/prometheus-e2e.sh; needs PyYAML (in .venv-ops).

  deploy_checks.py dashboards DIR --rules-out FILE   JSON, panels, targets; every PromQL
                                                     expression written as a rule for promtool
  deploy_checks.py alerts ALERTS TESTS... --runbook MD
                                                     runbook anchors, labels, a firing test each
  deploy_checks.py metrics-doc MD FILE...            every stockpilot_* metric used is documented
  deploy_checks.py compose CONFIG_JSON [--prod]      properties of `docker compose config`
  deploy_checks.py k8s RENDERED_YAML                 properties of the rendered manifests
  deploy_checks.py exprs DIR ALERTS                  every expression as JSON lines
  deploy_checks.py app-env compose|k8s FILE SERVICE  the container environment (config check)
  deploy_checks.py evaluate URL DIR ALERTS           evaluates every expression through a running
                                                     Prometheus (scripts/prometheus-e2e.sh)
"""
import argparse
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

# Grafana's macros and this repository's dashboard variables, replaced by concrete values
# before an expression is parsed or evaluated. $__range is the time picker's span.
SUBSTITUTIONS = [
    ("$__rate_interval", "1m"),
    ("$__interval", "15s"),
    ("$__range", "5m"),
    ("${job}", "stockpilot"),
    ("$job", "stockpilot"),
    ("${instance}", ".*"),
    ("$instance", ".*"),
    ("${provider}", ".*"),
    ("$provider", ".*"),
]

# Metrics that exist only once something happens that a healthy test run without an LLM does
# not do. An expression using one of them may return no series in the e2e run.
OPTIONAL_METRICS = {
    "stockpilot_research_runs_total": "needs a research run (made by the e2e when the binary has them)",
    "stockpilot_active_analysts": "needs a research run (made by the e2e when the binary has them)",
    "stockpilot_http_overloaded_total": "needs more concurrent requests than server.max_concurrent_requests",
}

# Every metric the server is meant to export (docs/operations.md, "Metrics").
EXPECTED_METRICS = [
    "stockpilot_http_requests_total", "stockpilot_http_request_duration_seconds",
    "stockpilot_http_requests_in_flight", "stockpilot_http_overloaded_total",
    "stockpilot_db_pool_connections", "stockpilot_cache_operations_total",
    "stockpilot_rate_limited_total", "stockpilot_sync_jobs_total", "stockpilot_sync_rows_total",
    "stockpilot_sync_failures_pending", "stockpilot_upstream_requests_total",
    "stockpilot_llm_calls_total", "stockpilot_llm_tokens_total", "stockpilot_llm_cost_total",
    "stockpilot_llm_request_duration_seconds", "stockpilot_llm_provider_available",
    "stockpilot_llm_circuit_state", "stockpilot_research_runs_total", "stockpilot_active_analysts",
    "stockpilot_build_info", "stockpilot_ready", "stockpilot_sync_schedule_last_run_timestamp_seconds",
]

METRIC_RE = re.compile(r"\b(stockpilot_[a-z0-9_]+)")
HIST_SUFFIX = re.compile(r"_(bucket|sum|count)$")


def substitute(expr):
    for k, v in SUBSTITUTIONS:
        expr = expr.replace(k, v)
    return expr


def metrics_in(expr):
    names = set()
    for m in METRIC_RE.findall(expr):
        names.add(HIST_SUFFIX.sub("", m) if m.endswith(("_bucket", "_sum", "_count")) and "duration" in m else m)
    return names


def fail(problems):
    for p in problems:
        print(f"  - {p}", file=sys.stderr)
    return 1 if problems else 0


def load_dashboards(directory):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path, encoding="utf-8") as f:
            out.append((path, json.load(f)))
    return out


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        for inner in p.get("panels", []) or []:
            yield inner


def dashboard_exprs(directory):
    """(file, dashboard title, panel title, expr) for every target and variable query."""
    for path, dash in load_dashboards(directory):
        for var in dash.get("templating", {}).get("list", []):
            q = var.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", q or "")
            if m:
                yield path, dash["title"], f"variable ${var['name']}", m.group(1)
        for p in panels_of(dash):
            for t in p.get("targets", []) or []:
                if t.get("expr"):
                    yield path, dash["title"], p.get("title", "?"), t["expr"]


def cmd_dashboards(args):
    problems = []
    dashboards = load_dashboards(args.dir)
    if not dashboards:
        problems.append(f"no dashboards in {args.dir}")
    uids = {}
    for path, dash in dashboards:
        name = os.path.basename(path)
        for key in ("uid", "title", "panels", "schemaVersion"):
            if key not in dash:
                problems.append(f"{name}: no '{key}'")
        if dash.get("uid") in uids:
            problems.append(f"{name}: uid {dash['uid']} also used by {uids[dash['uid']]}")
        uids[dash.get("uid")] = name
        ids = set()
        for p in panels_of(dash):
            if p.get("id") in ids:
                problems.append(f"{name}: panel id {p.get('id')} used twice")
            ids.add(p.get("id"))
            if p.get("type") == "row":
                continue
            targets = [t for t in p.get("targets", []) or [] if t.get("expr", "").strip()]
            if not targets:
                problems.append(f"{name}: panel '{p.get('title')}' has no PromQL expression")
            ds = p.get("datasource", {})
            if ds.get("uid") != args.datasource_uid:
                problems.append(f"{name}: panel '{p.get('title')}' uses datasource {ds} (want uid {args.datasource_uid})")
    rules = []
    for i, (path, title, panel, expr) in enumerate(dashboard_exprs(args.dir)):
        rules.append({"record": f"dashboard:expr_{i}", "expr": substitute(expr),
                      "labels": {"dashboard": os.path.basename(path), "panel": panel}})
    with open(args.rules_out, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard-expressions", "rules": rules}]}, f, sort_keys=False)
    print(f"  {len(dashboards)} dashboards, {len(rules)} PromQL expressions written to {args.rules_out}")
    return fail(problems)


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(markdown_path):
    out = set()
    with open(markdown_path, encoding="utf-8") as f:
        in_code = False
        for line in f:
            if line.startswith("```"):
                in_code = not in_code
            if not in_code and line.startswith("#"):
                out.add(slug(line.lstrip("#")))
    return out


def cmd_alerts(args):
    problems = []
    with open(args.alerts, encoding="utf-8") as f:
        groups = yaml.safe_load(f)["groups"]
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    have = anchors(args.runbook)
    fired = set()
    for t in args.tests:
        with open(t, encoding="utf-8") as f:
            for test in yaml.safe_load(f).get("tests", []):
                for a in test.get("alert_rule_test", []) or []:
                    if a.get("exp_alerts"):
                        fired.add(a["alertname"])
    runbook_name = os.path.basename(args.runbook)
    for r in alerts:
        name = r["alert"]
        labels, ann = r.get("labels", {}), r.get("annotations", {})
        if labels.get("severity") not in ("critical", "warning", "info"):
            problems.append(f"{name}: severity label missing or unknown")
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                problems.append(f"{name}: annotation {key} missing")
        url = ann.get("runbook_url", "")
        m = re.fullmatch(r"(?:.*/)?docs/" + re.escape(runbook_name) + r"#([\w\-]+)", url)
        if not m:
            problems.append(f"{name}: runbook_url {url!r} does not point into docs/{runbook_name}")
        elif m.group(1) not in have:
            problems.append(f"{name}: runbook anchor #{m.group(1)} is not a heading of {args.runbook}")
        if name not in fired:
            problems.append(f"{name}: no promtool test expects it to fire")
    print(f"  {len(alerts)} alerts: each has severity, summary, description, a runbook anchor that exists and a firing test")
    return fail(problems)


def cmd_metrics_doc(args):
    with open(args.doc, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Metrics\n(.*?)(?=^## )", text, re.S | re.M)
    if not m:
        return fail([f"{args.doc} has no '## Metrics' section"])
    documented = set(re.findall(r"`(stockpilot_[a-z0-9_]+)", m.group(1)))
    used = set()
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            used |= metrics_in(f.read())
    missing = sorted(used - documented)
    print(f"  {len(used)} stockpilot_* metrics used by alerts and dashboards, {len(documented)} documented")
    return fail([f"{n} is used but not in the Metrics section of {args.doc}" for n in missing])


def cmd_compose(args):
    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    problems = []
    services = cfg.get("services", {})
    expected = {"migrate", "stockpilot", "postgres", "redis", "nginx", "prometheus", "alertmanager", "grafana"}
    if args.profile_ollama:
        expected.add("ollama")
    missing = expected - set(services)
    if missing:
        problems.append(f"services missing: {sorted(missing)}")
    for name, s in services.items():
        hc = s.get("healthcheck") or {}
        if name != "migrate" and (not hc or hc.get("disable")):
            problems.append(f"{name}: no healthcheck")
        for dep, cond in (s.get("depends_on") or {}).items():
            if cond.get("condition") not in ("service_healthy", "service_completed_successfully"):
                problems.append(f"{name}: depends_on {dep} without a health condition")
    sp = services.get("stockpilot", {})
    env = sp.get("environment", {})
    if env.get("STOCKPILOT_DATABASE__AUTO_MIGRATE") != "false":
        problems.append("stockpilot: auto_migrate is not off (the migrate service runs migrations)")
    if services.get("migrate", {}).get("command") != ["migrate", "upgrade", "head"]:
        problems.append("migrate: command is not `migrate upgrade head`")
    if not sp.get("read_only") or str(sp.get("user", "")).split(":")[0] in ("", "0", "root"):
        problems.append("stockpilot: not read-only or runs as root")
    if "ports" in sp:
        problems.append("stockpilot: publishes ports (only nginx should)")
    if "redis" in services and "requirepass" not in " ".join(services["redis"].get("command", [])):
        problems.append("redis: no password")
    if args.prod:
        for key in ("DATABASE_URL", "REDIS_URL", "STOCKPILOT_ENCRYPTION_KEY"):
            if key in env:
                problems.append(f"stockpilot: {key} still set next to {key}_FILE")
            if f"{key}_FILE" not in env:
                problems.append(f"stockpilot: {key}_FILE not set")
        if sp.get("deploy", {}).get("replicas") != 3:
            problems.append("stockpilot: replicas is not 3")
        for name, s in services.items():
            if name == "migrate":
                continue
            if s.get("restart") != "unless-stopped":
                problems.append(f"{name}: restart is not unless-stopped")
            if not s.get("deploy", {}).get("resources", {}).get("limits"):
                problems.append(f"{name}: no resource limits")
        if not cfg.get("networks", {}).get("data", {}).get("internal"):
            problems.append("network data is not internal")
        for name in ("postgres", "redis"):
            s = services.get(name, {})
            if s.get("ports"):
                problems.append(f"{name}: publishes ports in production")
            if set(s.get("networks", {})) != {"data"}:
                problems.append(f"{name}: not only on the data network")
        if "POSTGRES_PASSWORD" in services.get("postgres", {}).get("environment", {}):
            problems.append("postgres: POSTGRES_PASSWORD still set in production")
        for name in ("stockpilot", "postgres", "redis", "grafana"):
            if not services.get(name, {}).get("secrets"):
                problems.append(f"{name}: uses no Docker secret")
    what = "production overlay" if args.prod else "base file"
    print(f"  {what}: {len(services)} services; healthchecks, depends_on conditions, migration step"
          + (", secrets, replicas, limits, internal data network" if args.prod else ""))
    return fail(problems)


def cmd_k8s(args):
    with open(args.rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    problems = []
    by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    dep = by.get(("Deployment", "stockpilot"))
    if not dep:
        return fail(["no Deployment stockpilot"])
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    if spec.get("replicas") != 3:
        problems.append("Deployment: replicas is not 3")
    checks = [
        (c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health", "liveness probe is not /health"),
        (c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/ready", "readiness probe is not /ready"),
        (bool(c.get("startupProbe")), "no startup probe"),
        (bool(c.get("resources", {}).get("requests")) and bool(c.get("resources", {}).get("limits")), "no resource requests/limits"),
        (pod.get("securityContext", {}).get("runAsNonRoot") is True, "pod does not require a non-root user"),
        (c.get("securityContext", {}).get("readOnlyRootFilesystem") is True, "root filesystem is writable"),
        (c.get("securityContext", {}).get("allowPrivilegeEscalation") is False, "privilege escalation allowed"),
        (bool(pod.get("topologySpreadConstraints")), "no topology spread constraints"),
    ]
    problems += [f"Deployment: {msg}" for ok, msg in checks if not ok]
    cms = [d for d in docs if d["kind"] == "ConfigMap"]
    if not any(cm.get("data", {}).get("STOCKPILOT_DATABASE__AUTO_MIGRATE") == "false" for cm in cms):
        problems.append("ConfigMap: auto_migrate is not off")
    jobs = [d for d in docs if d["kind"] == "Job"]
    if not any(j["spec"]["template"]["spec"]["containers"][0].get("args") == ["migrate", "upgrade", "head"] for j in jobs):
        problems.append("no Job running `migrate upgrade head`")
    else:
        img = jobs[0]["spec"]["template"]["spec"]["containers"][0]["image"]
        if img != c["image"]:
            problems.append(f"migration Job image {img} differs from the Deployment's {c['image']}")
    for kind in ("Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap"):
        if not any(d["kind"] == kind for d in docs):
            problems.append(f"no {kind}")
    phases = {"namespace", "config", "migration", "api"}
    for d in docs:
        comp = d["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        if comp not in phases:
            problems.append(f"{d['kind']}/{d['metadata']['name']}: label app.kubernetes.io/component is {comp!r}, "
                            f"scripts/deploy.sh applies only {sorted(phases)}")
    if args.image and c["image"] != args.image:
        problems.append(f"image is {c['image']}, expected {args.image}")
    print(f"  {len(docs)} resources; Deployment {c['image']}: replicas, probes, resources, securityContext, spread; migration Job; auto_migrate off")
    return fail(problems)


def cmd_exprs(args):
    for path, title, panel, expr in dashboard_exprs(args.dir):
        optional = sorted({OPTIONAL_METRICS[m] for m in metrics_in(expr) if m in OPTIONAL_METRICS})
        print(json.dumps({"source": f"{os.path.basename(path)} / {panel}", "expr": substitute(expr),
                          "kind": "dashboard", "optional": "; ".join(optional)}))
    with open(args.alerts, encoding="utf-8") as f:
        for g in yaml.safe_load(f)["groups"]:
            for r in g["rules"]:
                print(json.dumps({"source": f"alert {r.get('alert') or r.get('record')}", "expr": r["expr"].strip(),
                                  "kind": "alert", "metrics": sorted(metrics_in(r["expr"])),
                                  "optional": "alert condition: no series while healthy"}))


# Stand-in values for the secret files the manifests point at (app-env).
DUMMY_SECRETS = {
    "DATABASE_URL_FILE": "postgres://stockpilot:dummy@postgres:5432/stockpilot",
    "REDIS_URL_FILE": "redis://:dummy@redis:6379/0",
    "STOCKPILOT_ENCRYPTION_KEY_FILE": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}


def cmd_app_env(args):
    """The environment a stockpilot container gets, as NAME=VALUE lines, secret files replaced
    by stand-ins written into --secrets-dir."""
    env = {}
    if args.dockerfile:  # the image's ENV, which the container environment extends
        with open(args.dockerfile, encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
        for line in text.splitlines():
            if line.startswith("ENV "):
                for pair in line[4:].split():
                    k, _, v = pair.partition("=")
                    env[k] = v
    if args.kind == "compose":
        with open(args.file, encoding="utf-8") as f:
            svc = json.load(f)["services"][args.service]
        env.update({k: v for k, v in (svc.get("environment") or {}).items() if v is not None})
    else:
        with open(args.file, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        by = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        kind, name = args.service.split("/")
        pod = by[(kind, name)]["spec"]["template"]["spec"]
        c = pod["containers"][0]
        for src in c.get("envFrom", []):
            cm = by[("ConfigMap", src["configMapRef"]["name"])]
            env.update(cm.get("data", {}))
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
    for name, value in list(env.items()):
        if name.endswith("_FILE"):
            if name not in DUMMY_SECRETS:
                print(f"no stand-in for {name}", file=sys.stderr)
                return 1
            path = os.path.join(args.secrets_dir, name.lower())
            with open(path, "w", encoding="utf-8") as f:
                f.write(DUMMY_SECRETS[name] + "\n")
            env[name] = path
    for k, v in sorted(env.items()):
        print(f"{k}={v}")
    return 0


def prom_query(base, expr):
    url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "time": f"{time.time():.3f}"})
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    if body.get("status") != "success":
        return None, f"{body.get('errorType')}: {body.get('error')}"
    data = body["data"]
    if data["resultType"] in ("vector", "matrix"):
        return len(data["result"]), None
    return 1, None  # scalar or string


RESEARCH_METRICS = ("stockpilot_research_runs_total", "stockpilot_active_analysts")


def cmd_evaluate(args):
    failures = []
    optional_metrics = dict(OPTIONAL_METRICS)
    if args.research_ran:  # this run made a research run: its metrics must be there
        for m in RESEARCH_METRICS:
            optional_metrics.pop(m)
    # 1. Which of the expected metrics does Prometheus have?
    with urllib.request.urlopen(args.url.rstrip("/") + "/api/v1/label/__name__/values", timeout=30) as r:
        names = set(json.load(r)["data"])
    print("metrics scraped from stockpilot:")
    for m in EXPECTED_METRICS:
        present = m in names or f"{m}_bucket" in names
        note = "" if present else (f"absent, allowed: {optional_metrics[m]}" if m in optional_metrics else "ABSENT")
        print(f"  {'ok  ' if present or m in optional_metrics else 'FAIL'}  {m:<56} {'present' if present else note}")
        if not present and m not in optional_metrics:
            failures.append(f"metric {m} is not exported")
    # 2. The alert rules as loaded by Prometheus.
    with urllib.request.urlopen(args.url.rstrip("/") + "/api/v1/rules", timeout=30) as r:
        groups = json.load(r)["data"]["groups"]
    rules = [rule for g in groups for rule in g["rules"]]
    bad = [f"{r['name']}: {r.get('health')} {r.get('lastError', '')}" for r in rules if r.get("health") != "ok"]
    print(f"\nalert rules loaded by Prometheus: {len(rules)}, evaluated without error: {len(rules) - len(bad)}")
    for b in bad:
        print(f"  FAIL  {b}")
        failures.append(f"rule {b}")
    # 3. Every expression of every dashboard and alert.
    exprs = []
    for path, title, panel, expr in dashboard_exprs(args.dir):
        optional = sorted({optional_metrics[m] for m in metrics_in(expr) if m in optional_metrics})
        exprs.append((f"{os.path.basename(path)} / {panel}", substitute(expr), "; ".join(optional)))
    with open(args.alerts, encoding="utf-8") as f:
        for g in yaml.safe_load(f)["groups"]:
            for r in g["rules"]:
                exprs.append((f"alert {r.get('alert')}", " ".join(r["expr"].split()), "alert condition"))
    print(f"\n{'result':<8} {'series':>6}  {'source':<62} expression")
    empty_required = []
    for source, expr, optional in exprs:
        n, err = prom_query(args.url, expr)
        if err:
            status = "ERROR"
            failures.append(f"{source}: {err}")
        elif n == 0 and not optional:
            status = "NO DATA"
            empty_required.append(source)
            failures.append(f"{source}: no series")
        elif n == 0:
            status = "empty"
        else:
            status = "ok"
        short = expr if len(expr) <= 150 else expr[:147] + "..."
        print(f"{status:<8} {'-' if n is None else n:>6}  {source:<62} {short}")
        if err:
            print(f"{'':16}{err}")
    allowed = [(s, o) for s, e, o in exprs if o and o != "alert condition"]
    expr_failures = sum(1 for f_ in failures if not f_.startswith(("metric ", "rule ")))
    print(f"\n{len(exprs)} expressions: {len(exprs) - expr_failures} without problems."
          " 'empty' is allowed for alert conditions (no series while healthy) and for expressions"
          " over metrics that need an LLM provider, a research run, rate limiting or overload:")
    for reason in sorted({o for _, o in allowed}):
        print(f"  - {reason}")
    if failures:
        print("\nFAILED:")
        for f_ in failures:
            print(f"  - {f_}")
    print(f"{len(exprs) + len(EXPECTED_METRICS) + len(rules) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dashboards"); p.add_argument("dir"); p.add_argument("--rules-out", required=True)
    p.add_argument("--datasource-uid", default="prometheus"); p.set_defaults(fn=cmd_dashboards)
    p = sub.add_parser("alerts"); p.add_argument("alerts"); p.add_argument("tests", nargs="+")
    p.add_argument("--runbook", required=True); p.set_defaults(fn=cmd_alerts)
    p = sub.add_parser("metrics-doc"); p.add_argument("doc"); p.add_argument("files", nargs="+"); p.set_defaults(fn=cmd_metrics_doc)
    p = sub.add_parser("compose"); p.add_argument("config"); p.add_argument("--prod", action="store_true")
    p.add_argument("--profile-ollama", action="store_true"); p.set_defaults(fn=cmd_compose)
    p = sub.add_parser("k8s"); p.add_argument("rendered"); p.add_argument("--image"); p.set_defaults(fn=cmd_k8s)
    p = sub.add_parser("exprs"); p.add_argument("dir"); p.add_argument("alerts"); p.set_defaults(fn=cmd_exprs)
    p = sub.add_parser("app-env"); p.add_argument("kind", choices=["compose", "k8s"]); p.add_argument("file")
    p.add_argument("service"); p.add_argument("--secrets-dir", required=True); p.add_argument("--dockerfile")
    p.set_defaults(fn=cmd_app_env)
    p = sub.add_parser("evaluate"); p.add_argument("url"); p.add_argument("dir"); p.add_argument("alerts")
    p.add_argument("--research-ran", action="store_true")
    p.set_defaults(fn=cmd_evaluate)
    args = ap.parse_args()
    sys.exit(args.fn(args))


if __name__ == "__main__":
    main()
