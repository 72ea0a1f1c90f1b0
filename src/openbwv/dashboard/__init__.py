"""The home page: what each role looks after, with headline figures from the domains."""
