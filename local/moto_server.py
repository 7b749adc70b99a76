"""moto in server mode, with DynamoDB requests applied one at a time.

moto's DynamoDB backend is not safe under concurrent requests (a transaction deep-copies tables
that another thread is changing). Real DynamoDB serialises writes per item, so the local stack
serialises DynamoDB calls; other services stay concurrent (SQS long polls must not block), and
SQS long polls sleep instead of spinning (:mod:`local.moto_long_poll`), and DynamoDB transactions and
queries cost what the items they touch cost, not the whole table (:mod:`local.moto_fast`).

    python -m local.moto_server --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from typing import Any

from moto.moto_server.threaded_moto_server import create_backend_app
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
from werkzeug.serving import make_server

from local import moto_fast, moto_long_poll

_dynamodb_lock = threading.Lock()


class SerialisedDynamoDB:
    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with _dynamodb_lock:
                # Materialise the body inside the lock: the work happens while it is produced.
                return list(self._app(environ, start_response))
        return self._app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--access-log", action="store_true",
                        help="log every request (a tenth of the server's time under load; off by default)")
    args = parser.parse_args()
    if not args.access_log:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Cognito checks authenticator-app (TOTP) codes at sign-in; moto accepts any code unless told to check
    # them (it does so against the secret AssociateSoftwareToken hands out). Set before its first request.
    os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    moto_long_poll.install()
    moto_fast.install()
    app = SerialisedDynamoDB(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"moto listening on http://{args.host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
