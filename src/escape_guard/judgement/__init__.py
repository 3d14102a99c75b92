"""The judgement stage: two revisions' records compared, and what the check concludes from them.

- ``compare``: new, fixed, moved and indirect escapes between base and head;
- ``suppress``: findings the repository has accepted, by comment or configuration;
- ``verdict``: whether the check fails, and why;
- ``merge``: shard reports of one pull request joined into one.
"""
