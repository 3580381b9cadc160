"""Backups with point-in-time recovery through Barman (``barman`` from PyPI), driven as a command line.

``barman.py`` writes Barman's configuration from the settings and runs its commands; ``restore.py``
recovers a backup to an instant into a scratch instance; ``job.py`` is the backup daemon (scheduled
backups, WAL processing, metrics, readiness = ``barman check``); ``__main__.py`` is the CLI.
"""
