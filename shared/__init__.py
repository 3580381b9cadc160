"""Code the WagerBabe services have in common: settings, logging, db, redis, errors, tokens."""

VERSION = "0.1.0"
