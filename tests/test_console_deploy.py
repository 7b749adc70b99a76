"""The console's static files deploy to S3 (moto) with the types and caching a browser needs."""

from __future__ import annotations

import json

from infra.deploy_console import console_files, upload


def test_console_upload_puts_every_file_and_the_config(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="console-test")
    config = {"api": "https://x.execute-api.eu-west-1.amazonaws.com/api", "ws": "wss://y/api",
              "cognito": {"region": "eu-west-1", "user_pool_id": "eu-west-1_P", "client_id": "c"}}
    keys = upload(s3, "console-test", config)
    assert {"index.html", "console.css", "js/app.js", "js/workspace.js", "config.json",
            "node_modules/chart.js/dist/chart.umd.min.js", "sdk/connection.js", "sdk/outbox.js",
            "sdk/backoff.js", "sdk/storage.js", "sdk/errors.js", "sdk/transports.js"} <= set(keys)
    index = s3.get_object(Bucket="console-test", Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8" and index["CacheControl"] == "no-cache"
    module = s3.get_object(Bucket="console-test", Key="js/app.js")
    assert module["ContentType"].startswith("text/javascript")
    stored = json.loads(s3.get_object(Bucket="console-test", Key="config.json")["Body"].read())
    assert stored == config


def test_only_console_files_are_uploaded():
    keys = [key for key, _ in console_files()]
    assert not [k for k in keys if k.endswith((".json", ".map")) or k.startswith(".")]
