"""gunicorn settings for the app (`gunicorn -c gunicorn.conf.py app.wsgi:app`, what `make run` does).

Every limit of the HTTP server lives here. `--bind` and `--workers` come from the command line
(make run HOST=... PORT=... WORKERS=...).

- timeout: a worker silent for this long is killed and replaced. It must stay above the longest
  a request may legitimately take: the app's statement_timeout + pool wait (a 503 with Retry-After
  comes first) and a Stripe call (STRIPE_TIMEOUT per attempt, 3 attempts). Checked below.
- limit_request_line / limit_request_field_size / limit_request_fields: gunicorn refuses past these
  with its own plain-text answer, before the app. They are set above the app's own limits
  (app/guards.py: request line 4096 bytes, header field 8190, all headers 32 KiB), so requests in
  between get the app's JSON 414/431. 8190 is gunicorn's maximum request line.
- Logs: gunicorn's error and access logs and the app's loggers on stderr, one line each, JSON lines
  with LOG_FORMAT=json (app/logs.py).
"""

import os

from app.logs import gunicorn_logconfig

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "45"))
graceful_timeout = 20
keepalive = 5

limit_request_line = 8190
limit_request_field_size = 16380
limit_request_fields = 100

# No control socket: its default path ($HOME/.gunicorn/gunicorn.ctl) is shared by every gunicorn of
# the user, so `gunicornc` could reach another instance (tests, another checkout) than this one.
control_socket_disable = True

logconfig_dict = gunicorn_logconfig()
accesslog = "-"

_db_worst = (int(os.environ.get("STATEMENT_TIMEOUT_MS", "5000")) / 1000 + float(os.environ.get("POOL_TIMEOUT", "5"))) * 2
_stripe_worst = float(os.environ.get("STRIPE_TIMEOUT", "5")) * 3 + 3  # 3 attempts and their backoff
if timeout <= _db_worst + _stripe_worst:
    raise RuntimeError(
        f"GUNICORN_TIMEOUT={timeout} must exceed two database calls ({_db_worst:g} s at worst) and a Stripe call "
        f"({_stripe_worst:g} s): lower STATEMENT_TIMEOUT_MS, POOL_TIMEOUT or STRIPE_TIMEOUT, or raise it"
    )
