"""The portal's pages, one blueprint per area: signing in and out, the profile."""
