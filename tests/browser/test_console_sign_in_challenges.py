"""Cognito's sign-in challenges in the console (issue 11 follow-up), on the local stack's moto pool.

A user an admin created signs in with the temporary password and must choose a new one ("New
password"); a user with an authenticator app enrolled is asked for its code ("Code"). The local
stack's moto checks TOTP codes as Cognito does (local/moto_server.py), so the test computes the code
from the secret the pool handed out at enrolment, as an authenticator app would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from typing import Any

import boto3
from browser_harness import BrowserStack, Screenshots
from console_support import console_url
from playwright.sync_api import expect

expect.set_options(timeout=30_000)
PASSWORD = "Correct-Horse-42"


def _cognito(stack: BrowserStack) -> tuple[Any, str]:
    """The stack's Cognito (moto) and its agents' pool id, from what the stack printed."""
    pool_line = stack.wait_for_output("cognito     pool ")
    aws = re.search(r"^\s+aws\s+(\S+)", "".join(stack.output), re.MULTILINE)
    assert aws, "the local stack did not print its aws endpoint"
    pool_id = pool_line.split("pool ")[1].split()[0]
    client = boto3.client("cognito-idp", endpoint_url=aws[1], region_name=pool_id.split("_")[0],
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    return client, pool_id


def _client_id(stack: BrowserStack) -> str:
    return stack.wait_for_output("cognito     pool ").split("client ")[1].split()[0]


def _invite(cognito: Any, pool_id: str, username: str, temporary: str) -> None:
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, TemporaryPassword=temporary,
                              MessageAction="SUPPRESS")
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName="agent")


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), as authenticator apps compute Cognito's codes."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int((time.time() if at is None else at) // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def _fresh_code(secret: str, margin: float = 20.0) -> str:
    """A code with at least `margin` seconds of its 30-second step left (waits for the next step if not)."""
    deadline = time.monotonic() + 31
    while 30 - time.time() % 30 < margin and time.monotonic() < deadline:
        time.sleep(0.2)
    return totp(secret)


def _sign_in_form(page: Any, stack: BrowserStack, username: str, password: str) -> None:
    page.goto(console_url(stack))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_user_sets_a_new_password_at_first_sign_in(browser_stack: BrowserStack, page: Any,
                                                         shots: Screenshots) -> None:
    cognito, pool_id = _cognito(browser_stack)
    _invite(cognito, pool_id, "nina", "Temporary-Pass-1")

    # given an invited agent signing in with the temporary password
    _sign_in_form(page, browser_stack, "nina", "Temporary-Pass-1")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    shots.step("cognito asks for a new password")

    # a mismatch and a password the pool's policy refuses are explained, not sent or lost
    page.get_by_label("New password", exact=True).fill("Brand-New-Pass-7")
    page.get_by_label("Confirm new password").fill("Brand-New-Pass-8")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_have_text("The passwords do not match.")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose another password")
    shots.step("a weak new password is refused")

    # when the agent chooses a good one, the console signs in
    page.get_by_label("New password", exact=True).fill("Brand-New-Pass-7")
    page.get_by_label("Confirm new password").fill("Brand-New-Pass-7")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_text("nina · agent")).to_be_visible()
    shots.step("signed in with the new password")

    # then the new password is the account's password from now on
    user = cognito.admin_get_user(UserPoolId=pool_id, Username="nina")
    assert user["UserStatus"] == "CONFIRMED"
    answer = cognito.initiate_auth(ClientId=_client_id(browser_stack), AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "nina", "PASSWORD": "Brand-New-Pass-7"})
    assert "AuthenticationResult" in answer


def test_a_user_with_an_authenticator_app_enters_its_code(browser_stack: BrowserStack, page: Any,
                                                          shots: Screenshots) -> None:
    cognito, pool_id = _cognito(browser_stack)
    client_id = _client_id(browser_stack)
    _invite(cognito, pool_id, "otto", "Temporary-Pass-1")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username="otto", Password=PASSWORD, Permanent=True)
    # otto enrols an authenticator app (what the pool's own flow does once signed in)
    tokens = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "otto", "PASSWORD": PASSWORD})["AuthenticationResult"]
    secret = cognito.associate_software_token(AccessToken=tokens["AccessToken"])["SecretCode"]
    cognito.verify_software_token(AccessToken=tokens["AccessToken"], UserCode=_fresh_code(secret))
    cognito.set_user_mfa_preference(AccessToken=tokens["AccessToken"],
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})

    # given otto's password, the console asks for the app's code
    _sign_in_form(page, browser_stack, "otto", PASSWORD)
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    shots.step("cognito asks for the authenticator code")

    # a wrong code is refused and the form stays
    wrong = f"{(int(_fresh_code(secret)) + 1) % 1_000_000:06d}"
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_have_text("Incorrect code. Try the current one.")
    shots.step("a wrong code is refused")

    # the current code signs in
    page.get_by_label("Code").fill(_fresh_code(secret))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("otto · agent")).to_be_visible()
    shots.step("signed in with the code")
