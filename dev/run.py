#!/usr/bin/env python3
"""`make run` and `make seed`: the demo on one machine (stdlib only; run with the project's venv).

    dev/run.py serve [--host H] [--port P] [--workers N] [--stripe-fake-port P] [--seed]
    dev/run.py seed

serve: the database (DATABASE_URL, else the embedded cluster in .pg, started on demand), migrated
(tools/migrate.py), the demo data loaded (db/seeds/*.sql; into DATABASE_URL only with --seed, which
`make run SEED=1` passes), then the worker (`python -m worker --supervise`, as its login ssr_worker:
WORKER_DATABASE_URL), the local Stripe fake when STRIPE_SECRET_KEY is not set (dev/stripe_fake.py: it
also plays the hosted Checkout page and sends the app a signed webhook when "paid"), and the app under
gunicorn as its least-privilege login ssr_app (APP_DATABASE_URL) with its payments pool as ssr_payments
(PAYMENTS_DATABASE_URL). Each variable when set; else, on the embedded cluster, the same server and
database as that login (given LOGIN and the password of the cluster's passfile, which the URLs name:
?passfile=...); with DATABASE_URL set, APP_DATABASE_URL defaults to it as user ssr_app. It prints two
demo tokens and serves until stopped (Ctrl-C, SIGTERM): the worker and the fake stop with it.

Demo defaults, used only when the variable is not set: PUBLIC_BASE_URL http://HOST:PORT, JWT_SECRET
(and then DEMO_SIGN_IN=1: one-click sign-in as the seed's Alice, Ana, Sam and Sue), STRIPE_WEBHOOK_SECRET. The
demo secrets are public, so the app accepts them only in demo mode; with a JWT_SECRET of your own
and the local fake, the webhook secret and SECRET_KEY default to random ones made for this run.
With real Stripe keys (STRIPE_SECRET_KEY set, not the demo's) there is no default at all:
JWT_SECRET, STRIPE_WEBHOOK_SECRET and SECRET_KEY must be given, else serve refuses to start.

seed: the same database, migrated, with the demo data loaded.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DIR = ROOT / ".pg"
DEMO_CUSTOMER = "33333333-3333-4333-8333-000000000001"  # Alice, in db/seeds
DEMO_MECHANIC = "22222222-2222-4222-8222-000000000001"  # Ana, of AutoPro
DEMO_JWT_SECRET = "demo-only-jwt-secret-change-me-0123456789"
DEMO_WEBHOOK_SECRET = "whsec_demo_only_local"
DEMO_STRIPE_KEY = "sk_test_demo_local"
REAL_STRIPE_SECRETS = ("JWT_SECRET", "STRIPE_WEBHOOK_SECRET", "SECRET_KEY")


def missing_secrets(env: dict) -> list[str]:
    """With real Stripe keys, the secrets that are not given (serve falls back to no default then)."""
    key = env.get("STRIPE_SECRET_KEY")
    if not key or key == DEMO_STRIPE_KEY:
        return []
    return [k for k in REAL_STRIPE_SECRETS if not env.get(k)]


def python(*args: str, env: dict | None = None) -> str:
    """Run the venv's python with ARGS in the project folder; its stdout (it must succeed)."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE,
                          text=True).stdout.strip()


def database_url() -> str:
    """DATABASE_URL, or the embedded cluster's (started on demand)."""
    return os.environ.get("DATABASE_URL") or python("dev/pgcluster.py", "start", str(PG_DIR))


def migrate(url: str) -> None:
    subprocess.run([sys.executable, "tools/migrate.py", "--database-url", url], cwd=ROOT, check=True)


def seed(url: str) -> None:
    """Load every db/seeds/*.sql, each in one transaction."""
    for f in sorted((ROOT / "db" / "seeds").glob("*.sql")):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", url, "-f", str(f)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print("seed: demo data loaded", flush=True)


# The logins a cluster we run gives LOGIN and a password (its passfile): variable -> role.
LOGINS = {"APP_DATABASE_URL": "ssr_app", "PAYMENTS_DATABASE_URL": "ssr_payments",
          "WORKER_DATABASE_URL": "ssr_worker"}


def login_url(url: str, role: str, embedded: bool) -> str:
    """url as login `role`; on the embedded cluster the role is first given LOGIN and its password
    (pgcluster.py login-url --enable-login)."""
    return python("dev/pgcluster.py", "login-url", url, "--role", role,
                  *(["--enable-login"] if embedded else []))


def serve_env(url: str, host: str, port: int, embedded: bool) -> tuple[dict, str]:
    """The environment of the worker and the app, and the app's database URL. The worker runs as
    ssr_worker (WORKER_DATABASE_URL), the app's payments pool as ssr_payments (PAYMENTS_DATABASE_URL),
    the app as ssr_app: each variable when set, else (the embedded cluster) the login of the same
    server and database. With DATABASE_URL set, only APP_DATABASE_URL is derived (ssr_app on it)."""
    env = dict(os.environ, DATABASE_URL=url)
    for var, role in LOGINS.items():
        if not env.get(var) and (embedded or var == "APP_DATABASE_URL"):
            env[var] = login_url(url, role, embedded)
    app_url = env.pop("APP_DATABASE_URL", "") or python("dev/pgcluster.py", "app-url", url)
    if not env.get("PUBLIC_BASE_URL"):
        env["PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    missing = missing_secrets(env)
    if missing:
        raise SystemExit(refusal(missing))
    if not env.get("JWT_SECRET"):
        env["DEMO_SIGN_IN"] = "1"
        env["JWT_SECRET"] = DEMO_JWT_SECRET
    if not env.get("STRIPE_WEBHOOK_SECRET"):
        # The fake signs its webhooks with whatever it is given: the public demo secret only in
        # demo mode (the app refuses it otherwise), else a random one for this run.
        env["STRIPE_WEBHOOK_SECRET"] = (DEMO_WEBHOOK_SECRET if env.get("DEMO_SIGN_IN")
                                        else "whsec_" + secrets.token_hex(24))
    if not env.get("SECRET_KEY") and not env.get("DEMO_SIGN_IN"):
        env["SECRET_KEY"] = secrets.token_urlsafe(48)  # sessions do not outlive this run
    return env, app_url


def refusal(missing: list[str]) -> str:
    return ("run: refusing to start: STRIPE_SECRET_KEY is a real Stripe key, so no demo secret is used; set "
            + ", ".join(missing) + " (STRIPE_WEBHOOK_SECRET: the endpoint's signing secret, whsec_...; JWT_SECRET "
            "and SECRET_KEY: at least 32 random bytes each)")


def serve(a: argparse.Namespace) -> int:
    missing = missing_secrets(dict(os.environ))
    if missing:  # before anything is started or migrated
        print(refusal(missing), file=sys.stderr, flush=True)
        return 2
    embedded = not os.environ.get("DATABASE_URL")
    url = database_url()
    migrate(url)
    if embedded or a.seed:
        seed(url)
    else:
        print("run: DATABASE_URL is set: demo data NOT loaded into it (make run SEED=1 loads it there)", flush=True)
    env, app_url = serve_env(url, a.host, a.port, embedded)
    children: list[subprocess.Popen] = []
    try:
        if not env.get("STRIPE_SECRET_KEY"):
            env["STRIPE_SECRET_KEY"] = DEMO_STRIPE_KEY
            env["STRIPE_API_BASE"] = f"http://127.0.0.1:{a.stripe_fake_port}"
            children.append(subprocess.Popen(
                [sys.executable, "-m", "dev.stripe_fake", "--port", str(a.stripe_fake_port),
                 "--api-key", env["STRIPE_SECRET_KEY"],
                 "--webhook-url", f"http://127.0.0.1:{a.port}/api/stripe/webhook",
                 "--webhook-secret", env["STRIPE_WEBHOOK_SECRET"]], cwd=ROOT, env=env))
            print(f"Stripe: local fake on {env['STRIPE_API_BASE']} (set STRIPE_SECRET_KEY for the real one)", flush=True)
        children.append(subprocess.Popen([sys.executable, "-m", "worker", "--supervise"], cwd=ROOT, env=env))
        base = env["PUBLIC_BASE_URL"]
        print(f"serving on {base} (database {app_url}; payments {env.get('PAYMENTS_DATABASE_URL', app_url)}; "
              f"the worker {env.get('WORKER_DATABASE_URL', url)})", flush=True)
        for who, sub, role in (("customer token (Alice)", DEMO_CUSTOMER, "customer"),
                               ("mechanic token (Ana, AutoPro)", DEMO_MECHANIC, "mechanic")):
            token = python("-m", "dev.devtoken", "--ttl", "86400", sub, role, env=env)
            print(f"demo {who}: {token}", flush=True)
        if env.get("DEMO_SIGN_IN"):
            print(f"in a browser: {base}/account/sign-in (demo sign-in as Alice, customer; Ana, mechanic; Sam or Sue, staff)",
                  flush=True)
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        app = subprocess.Popen([gunicorn, "-c", "gunicorn.conf.py", "--bind", f"{a.host}:{a.port}",
                                "--workers", str(a.workers), "app.wsgi:app"],
                               # The payments pool: PAYMENTS_DATABASE_URL (set above for the embedded
                               # cluster); on a server of yours without it, the owner's URL, as the worker's.
                               cwd=ROOT, env=dict(env, DATABASE_URL=app_url,
                                                  PAYMENTS_DATABASE_URL=env.get("PAYMENTS_DATABASE_URL") or url))
        children.append(app)

        def stop(signum, _frame):
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        return app.wait()
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="migrate, seed, serve the app with the worker (make run)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=4)
    s.add_argument("--stripe-fake-port", type=int, default=12111)
    s.add_argument("--seed", action="store_true", help="load the demo data into DATABASE_URL too")
    sub.add_parser("seed", help="migrate and load the demo data (make seed)")
    a = ap.parse_args(argv)
    if a.cmd == "seed":
        url = database_url()
        migrate(url)
        seed(url)
        return 0
    return serve(a)


if __name__ == "__main__":
    sys.exit(main())
