"""The MikroCloud portal: where a user lands after registering and verifying the email.
An OpenID Connect client of the realm that shows the user's profile, read through the
sidecar's getUserInfo RPC."""
