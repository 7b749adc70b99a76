// Sign-in: Cognito access tokens (USER_PASSWORD_AUTH, refreshed before they expire) or a company-issued
// agent JWT from the URL fragment (#token=…, which never reaches a server). Tokens live in memory and in
// sessionStorage (this tab only); sign-out forgets them and revokes the refresh token.
// Cognito may answer a password with a challenge first: a new password for an account an admin created
// (NEW_PASSWORD_REQUIRED) or the code of an authenticator app (SOFTWARE_TOKEN_MFA); the sign-in page
// asks for it and answers with `respond`.

/** The challenges the sign-in page can answer, and the ChallengeResponses key of each answer. */
export const CHALLENGES = { NEW_PASSWORD_REQUIRED: "NEW_PASSWORD", SOFTWARE_TOKEN_MFA: "SOFTWARE_TOKEN_MFA_CODE" };

const KEY = "console.session";

function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

/** Who the token says the user is — for the interface only; the API checks every request itself. */
export function principalOf(token) {
  const claims = claimsOf(token) || {};
  const groups = claims["cognito:groups"] || [];
  // a company JWT without `role` is an agent's (as the API reads it); a Cognito user needs a role group
  const role = claims.role || ["admin", "supervisor", "agent"].find((r) => groups.includes(r))
    || (claims.token_use ? null : "agent");
  return { id: claims.username || claims.sub || "", role, exp: Number(claims.exp || 0) * 1000 };
}

export class AuthError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

export class Session extends EventTarget {
  constructor(cognito) {
    super();
    this.cognito = cognito || null; // {region, user_pool_id, client_id, endpoint?}
    this.state = null; // {kind: "cognito"|"jwt", access, refresh?, exp}
    this._timer = null;
    try { this.state = JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { this.state = null; }
    if (this.state && this.state.exp <= Date.now()) this.state = this.state.refresh ? this.state : null;
    this._schedule();
  }

  get signedIn() { return Boolean(this.state); }
  get principal() { return this.state ? principalOf(this.state.access) : null; }

  _save(state) {
    this.state = state;
    if (state) sessionStorage.setItem(KEY, JSON.stringify(state)); else sessionStorage.removeItem(KEY);
    this._schedule();
    this.dispatchEvent(new Event("change"));
  }

  _schedule() {
    clearTimeout(this._timer);
    if (!this.state || !this.state.refresh) return;
    const wait = Math.max(1000, this.state.exp - Date.now() - 120_000); // two minutes before expiry
    this._timer = setTimeout(() => this.refresh().catch(() => this.expire()), wait);
  }

  _endpoint() {
    return this.cognito.endpoint || `https://cognito-idp.${this.cognito.region}.amazonaws.com/`;
  }

  async _cognito(target, body) {
    const response = await fetch(this._endpoint(), {
      method: "POST",
      headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const type = String(data.__type || "").split("#").pop();
      throw new AuthError(type || "error", data.message || response.statusText);
    }
    return data;
  }

  /** Signs in, or returns the challenge to answer first: `{name, username, session}` (see `respond`). */
  async signIn(username, password) {
    if (!this.cognito) throw new AuthError("not_configured", "sign-in with a password is not configured");
    const data = await this._cognito("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH", ClientId: this.cognito.client_id,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this._signedIn(data, username);
  }

  /** Answers `challenge` (from `signIn` or an earlier `respond`) with a new password or a code. */
  async respond(challenge, answer) {
    const data = await this._cognito("RespondToAuthChallenge", {
      ChallengeName: challenge.name, ClientId: this.cognito.client_id, Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, [CHALLENGES[challenge.name]]: answer },
    });
    return this._signedIn(data, challenge.username);
  }

  _signedIn(data, username) {
    if (data.ChallengeName) {
      if (!(data.ChallengeName in CHALLENGES)) throw new AuthError(data.ChallengeName, data.ChallengeName);
      const params = data.ChallengeParameters || {};
      // USER_ID_FOR_SRP is the user name Cognito expects in the answer (it differs for an e-mail alias)
      return { name: data.ChallengeName, username: params.USER_ID_FOR_SRP || params.USERNAME || username,
        session: data.Session };
    }
    const result = data.AuthenticationResult;
    this._save({ kind: "cognito", access: result.AccessToken, refresh: result.RefreshToken,
      exp: Date.now() + result.ExpiresIn * 1000 });
    return null;
  }

  async refresh() {
    if (!this.state || !this.state.refresh) return;
    const data = await this._cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: this.cognito.client_id,
      AuthParameters: { REFRESH_TOKEN: this.state.refresh },
    });
    const result = data.AuthenticationResult;
    this._save({ ...this.state, access: result.AccessToken, exp: Date.now() + result.ExpiresIn * 1000 });
  }

  /** `#token=<agent JWT>` in the address: use it, and take it out of the address bar and history. */
  fromFragment() {
    const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!match) return false;
    const token = decodeURIComponent(match[1]);
    history.replaceState(null, "", location.pathname + location.search + "#/work");
    const { exp } = principalOf(token);
    this._save({ kind: "jwt", access: token, exp: exp || Date.now() + 3600_000 });
    return true;
  }

  /** A valid access token (refreshed first if it is about to expire). */
  async token() {
    if (!this.state) throw new AuthError("signed_out", "signed out");
    if (this.state.exp - Date.now() < 60_000) {
      if (!this.state.refresh) { this.expire(); throw new AuthError("expired", "expired"); }
      await this.refresh();
    }
    return this.state.access;
  }

  expire() { this._save(null); this.dispatchEvent(new Event("expired")); }

  async signOut() {
    const state = this.state;
    this._save(null);
    if (state && state.refresh && this.cognito) {
      // best effort: the refresh token can no longer mint access tokens
      await this._cognito("RevokeToken", { Token: state.refresh, ClientId: this.cognito.client_id }).catch(() => {});
    }
  }
}
