"""The build stage: a revision's files, the go commands that compile them, their heap records.

- ``checkout``: each revision seen in the working tree through ``-overlay``, or checked out;
- ``modules``: the repository's modules and the ``go build`` each needs;
- ``compile``: one go command with escape-analysis diagnostics, streamed through the parser;
- ``together``: both revisions compiled by one go command;
- ``analysis``: both revisions' normalized records, built together or apart.
"""
