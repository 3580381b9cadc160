"""The user route group: the caller's profile and preferences."""
