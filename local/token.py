"""Mint development tokens for the local stack: `python -m local.token customer alice [--vip]`.

In production the company's own backend issues these (HS256, secret shared with the platform).
"""

from __future__ import annotations

import argparse
import os
import time

import jwt

from local.devserver import DEV_SECRETS


def mint(kind: str, subject: str, *, name: str | None = None, vip: bool = False, role: str = "agent",
         ttl: int = 3600, secret: str | None = None) -> str:
    secret_name = "CUSTOMER_TOKEN_SECRET" if kind == "customer" else "AGENT_TOKEN_SECRET"
    key = secret or os.environ.get(secret_name) or DEV_SECRETS[secret_name]
    claims: dict[str, object] = {"sub": subject, "exp": int(time.time()) + ttl, "iat": int(time.time())}
    if name:
        claims["name"] = name
    if kind == "customer":
        claims["vip"] = vip
    else:
        claims["role"] = role
    return jwt.encode(claims, key, algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["customer", "agent"])
    parser.add_argument("subject", help="customer id or agent id")
    parser.add_argument("--name")
    parser.add_argument("--vip", action="store_true")
    parser.add_argument("--role", default="agent", choices=["agent", "supervisor", "admin"])
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    args = parser.parse_args()
    print(mint(args.kind, args.subject, name=args.name, vip=args.vip, role=args.role, ttl=args.ttl))


if __name__ == "__main__":
    main()
