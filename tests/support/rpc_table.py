"""UCloud's RPC table as DESIGN.md fixes it, written down in the tests (never read from the
app): method, path and who may call each RPC. The authorization tests call these paths,
so an RPC that lost its guard in the code fails them."""

from __future__ import annotations

TABLE: dict[str, tuple[str, str, set[str]]] = {
    "createNewUser": ("POST", "/auth/users/register", {"ADMIN", "SERVICE"}),
    "updateUserInfo": ("POST", "/auth/users/updateUserInfo", {"USER", "ADMIN"}),
    "getUserInfo": ("GET", "/auth/users/userInfo", {"USER", "ADMIN"}),
    "changePassword": ("POST", "/auth/users/password", {"USER", "ADMIN"}),
    "changePasswordWithReset": ("POST", "/auth/users/password/reset", {"SERVICE"}),
    "lookupUsers": ("POST", "/auth/users/lookup", {"ADMIN", "SERVICE"}),
    "lookupEmail": ("POST", "/auth/users/lookup/email", {"ADMIN", "SERVICE"}),
    "lookupUserWithEmail": ("POST", "/auth/users/lookup/with-email", {"SERVICE"}),
    "retrieveOptionalUserInfo": ("GET", "/auth/users/retrieveOptionalInfo", {"USER", "ADMIN"}),
    "updateOptionalUserInfo": ("POST", "/auth/users/optionalInfo", {"USER", "ADMIN"}),
    "retrievePrincipal": ("POST", "/auth/users/retrievePrincipal", {"SERVICE"}),
    "lookupUID": ("POST", "/auth/users/lookupUID", {"SERVICE"}),
    "openUserIterator": ("POST", "/auth/users/iterator/open", {"SERVICE"}),
    "fetchNextIterator": ("POST", "/auth/users/iterator/next", {"SERVICE"}),
    "closeIterator": ("POST", "/auth/users/iterator/close", {"SERVICE"}),
}
