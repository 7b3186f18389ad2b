"""Users: search, create, change, credentials, mails, sessions, groups and role
mappings."""

from __future__ import annotations

from idpack.keycloak.areas.base import Json, RealmEndpoint, _q
from idpack.keycloak.errors import KeycloakRequestError


class UsersApi(RealmEndpoint):
    def all_users(self) -> list[Json]:
        """Every user, briefly (id, username, ...), PAGE_SIZE a request."""
        return self._all("/users", {"briefRepresentation": "true"})

    def users_page(self, first: int, limit: int, *, brief: bool = True) -> list[Json]:
        """One page of the users in username order (brief: no attributes)."""
        users: list[Json] = self._send("GET", "/users", params={
            "first": first, "max": limit, "briefRepresentation": str(brief).lower()})
        return users

    def users_by_username(self, username: str) -> list[Json]:
        """Users whose username is exactly this one (Keycloak lower-cases usernames)."""
        users: list[Json] = self._send("GET", "/users", params={
            "username": username, "exact": "true", "briefRepresentation": "false"})
        return users

    def users_by_attribute(self, name: str, value: str) -> list[Json]:
        """Users whose attribute `name` is exactly `value` (Keycloak's `q` search)."""
        users: list[Json] = self._send("GET", "/users", params={
            "q": f"{name}:{value}", "exact": "true", "briefRepresentation": "false"})
        return users

    def users_by_email(self, email: str) -> list[Json]:
        users: list[Json] = self._send("GET", "/users", params={
            "email": email, "exact": "true", "briefRepresentation": "false"})
        return users

    def user(self, user_id: str) -> Json:
        if not user_id:
            raise KeycloakRequestError("GET", f"{self.base}/users/", 404, "no user id")
        user: Json = self._send("GET", f"/users/{_q(user_id)}")
        return user

    def create_user(self, representation: Json) -> str:
        """The new user's id (from the answer's Location: no search after)."""
        return self.client.create(f"{self.base}/users", representation)

    def update_user(self, user_id: str, representation: Json) -> None:
        self._send("PUT", f"/users/{_q(user_id)}", representation)

    def delete_user(self, user_id: str) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}")

    def reset_password(self, user_id: str, password: str, temporary: bool = False) -> None:
        self._send("PUT", f"/users/{_q(user_id)}/reset-password",
                   {"type": "password", "value": password, "temporary": temporary})

    def send_verify_email(self, user_id: str, lifespan: int = 86400) -> None:
        """Keycloak mails the user a verification link (valid `lifespan` seconds)."""
        self._send("PUT", f"/users/{_q(user_id)}/send-verify-email",
                   params={"lifespan": str(lifespan)})

    def send_required_actions_email(self, user_id: str, actions: list[str],
                                    lifespan: int = 86400) -> None:
        """Keycloak mails the user one link that leads through `actions` (set a password,
        verify the address, ...), valid `lifespan` seconds."""
        self._send("PUT", f"/users/{_q(user_id)}/execute-actions-email", actions,
                   params={"lifespan": str(lifespan)})

    def credentials(self, user_id: str) -> list[Json]:
        found: list[Json] = self._send("GET", f"/users/{_q(user_id)}/credentials")
        return found

    def federated_identities(self, user_id: str) -> list[Json]:
        """The identity providers' accounts linked to the user (identityProvider, userId,
        userName)."""
        links: list[Json] = self._send("GET", f"/users/{_q(user_id)}/federated-identity")
        return links

    def brute_force_status(self, user_id: str) -> Json:
        """numFailures, disabled (locked out), lastFailure, ... of one user."""
        status: Json = self._send("GET", f"/attack-detection/brute-force/users/{_q(user_id)}")
        return status

    def user_sessions(self, user_id: str) -> list[Json]:
        sessions: list[Json] = self._send("GET", f"/users/{_q(user_id)}/sessions")
        return sessions

    def delete_session(self, session_id: str) -> None:
        self._send("DELETE", f"/sessions/{_q(session_id)}")

    def sign_out_everywhere(self, user_id: str) -> None:
        """End every session of the user and set the user's not-before to now, so no
        token issued before (refresh and offline tokens too) is accepted any more."""
        self._send("POST", f"/users/{_q(user_id)}/logout")

    def consents(self, user_id: str) -> list[Json]:
        """The clients the user granted consent or holds offline tokens for."""
        found: list[Json] = self._send("GET", f"/users/{_q(user_id)}/consents")
        return found

    def revoke_consent(self, user_id: str, client_id: str) -> None:
        """Revoke the user's consent to a client (by clientId) and its offline tokens."""
        self._send("DELETE", f"/users/{_q(user_id)}/consents/{_q(client_id)}")

    def effective_realm_roles_of_user(self, user_id: str) -> list[Json]:
        """Direct and composite (e.g. through default-roles-<realm>) realm roles."""
        roles: list[Json] = self._send(
            "GET", f"/users/{_q(user_id)}/role-mappings/realm/composite",
            params={"briefRepresentation": "true"})
        return roles

    def user_groups(self, user_id: str) -> list[Json]:
        groups: list[Json] = self._send("GET", f"/users/{_q(user_id)}/groups",
                                        params={"briefRepresentation": "true"})
        return groups

    def set_user_group(self, user_id: str, group_id: str, member: bool) -> None:
        self._send("PUT" if member else "DELETE",
                   f"/users/{_q(user_id)}/groups/{_q(group_id)}")

    def role_mappings(self, user_id: str) -> Json:
        mappings: Json = self._send("GET", f"/users/{_q(user_id)}/role-mappings")
        return mappings

    def add_realm_role_mappings(self, user_id: str, roles: list[Json]) -> None:
        self._send("POST", f"/users/{_q(user_id)}/role-mappings/realm", roles)

    def remove_realm_role_mappings(self, user_id: str, roles: list[Json]) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}/role-mappings/realm", roles)

    def add_client_role_mappings(self, user_id: str, client_uuid: str,
                                 roles: list[Json]) -> None:
        self._send("POST", f"/users/{_q(user_id)}/role-mappings/clients/{_q(client_uuid)}",
                   roles)

    def remove_client_role_mappings(self, user_id: str, client_uuid: str,
                                    roles: list[Json]) -> None:
        self._send("DELETE", f"/users/{_q(user_id)}/role-mappings/clients/{_q(client_uuid)}",
                   roles)
