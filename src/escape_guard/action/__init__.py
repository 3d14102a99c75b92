"""``escape-guard action``: the GitHub Action, run with the environment a runner gives."""
