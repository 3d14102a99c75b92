"""GitHub's JSON representations of the fake's records, field for field as the REST API sends.

``api`` is the API base URL (the fake's ``.url``); web links point at https://github.com.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import diffs
from .state import BOT, CheckRun, IssueComment, Pull, Repo, Review, ReviewComment, State, User
from .state import node_id as _node

WEB = "https://github.com"
# The GitHub App behind GITHUB_TOKEN: what check runs created by a workflow report as "app".
_ACTIONS_APP_ID = 15368
_EPOCH = "2019-05-15T15:20:30Z"


def user(api: str, who: User) -> dict[str, Any]:
    """A simple-user object."""
    home = f"{api}/users/{who.login}"
    html = f"{WEB}/apps/github-actions" if who == BOT else f"{WEB}/{who.login}"
    avatar = f"in/{_ACTIONS_APP_ID}" if who == BOT else f"u/{who.id}"
    return {
        "login": who.login,
        "id": who.id,
        "node_id": who.node_id,
        "avatar_url": f"https://avatars.githubusercontent.com/{avatar}?v=4",
        "gravatar_id": "",
        "url": home,
        "html_url": html,
        "followers_url": f"{home}/followers",
        "following_url": f"{home}/following{{/other_user}}",
        "gists_url": f"{home}/gists{{/gist_id}}",
        "starred_url": f"{home}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{home}/subscriptions",
        "organizations_url": f"{home}/orgs",
        "repos_url": f"{home}/repos",
        "events_url": f"{home}/events{{/privacy}}",
        "received_events_url": f"{home}/received_events",
        "type": who.type,
        "user_view_type": "public",
        "site_admin": False,
    }


_REPO_LINKS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def repo(api: str, r: Repo, *, full: bool = True) -> dict[str, Any]:
    """A repository object; ``full`` adds what GET /repos/{owner}/{repo} alone returns."""
    home = f"{api}/repos/{r.full_name}"
    out: dict[str, Any] = {
        "id": r.id,
        "node_id": _node("R", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "private": r.private,
        "owner": user(api, r.owner),
        "html_url": f"{WEB}/{r.full_name}",
        "description": None,
        "fork": r.parent is not None,
        "url": home,
        **{key: home + suffix for key, suffix in _REPO_LINKS.items()},
        "created_at": _EPOCH,
        "updated_at": _EPOCH,
        "pushed_at": _EPOCH,
        "git_url": f"git://github.com/{r.full_name}.git",
        "ssh_url": f"git@github.com:{r.full_name}.git",
        "clone_url": f"{WEB}/{r.full_name}.git",
        "svn_url": f"{WEB}/{r.full_name}",
        "homepage": None,
        "size": 1,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Go",
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": True,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if r.private else "public",
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": r.default_branch,
    }
    if full:
        out |= {"network_count": 0, "subscribers_count": 0}
        if r.parent is not None:
            out |= {
                "parent": repo(api, r.parent, full=False),
                "source": repo(api, r.parent, full=False),
            }
    return out


def pull(api: str, state: State, p: Pull) -> dict[str, Any]:
    """A pull-request object (GET /repos/{owner}/{repo}/pulls/{pull_number})."""
    home = f"{api}/repos/{p.repo.full_name}"
    self_url = f"{home}/pulls/{p.number}"
    html = f"{WEB}/{p.repo.full_name}/pull/{p.number}"
    links = {
        "self": self_url,
        "html": html,
        "issue": f"{home}/issues/{p.number}",
        "comments": f"{home}/issues/{p.number}/comments",
        "review_comments": f"{self_url}/comments",
        "review_comment": f"{home}/pulls/comments{{/number}}",
        "commits": f"{self_url}/commits",
        "statuses": f"{home}/statuses/{p.head_sha}",
    }
    files = p.files.values()
    return {
        "url": self_url,
        "id": p.id,
        "node_id": _node("PR", p.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": links["issue"],
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": p.number,
        "state": "open",
        "locked": False,
        "title": p.title,
        "user": user(api, p.user),
        "body": None,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(api, p.head_repo, p.head_ref, p.head_sha),
        "base": _branch(api, p.repo, p.base_ref, p.base_sha),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": "CONTRIBUTOR",
        "auto_merge": None,
        "draft": False,
        "merged": False,
        "mergeable": True,
        "rebaseable": True,
        "mergeable_state": "clean",
        "merged_by": None,
        "comments": len(state.conversation(p.repo, p.number)),
        "review_comments": len(state.pull_comments(p)),
        "maintainer_can_modify": False,
        "commits": len(p.head_history) + 1,
        "additions": sum(f.additions for f in files),
        "deletions": sum(f.deletions for f in files),
        "changed_files": len(p.files),
    }


def _branch(api: str, r: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{r.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(api, r.owner),
        "repo": repo(api, r, full=False),
    }


def pull_file(api: str, p: Pull, f: diffs.FileDiff) -> dict[str, Any]:
    """A diff-entry object (GET /pulls/{n}/files)."""
    blob = hashlib.sha1(f"{p.head_sha}:{f.path}".encode()).hexdigest()  # an id, not a secret
    out: dict[str, Any] = {
        "sha": blob,
        "filename": f.path,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": f"{WEB}/{p.repo.full_name}/blob/{p.head_sha}/{f.path}",
        "raw_url": f"{WEB}/{p.repo.full_name}/raw/{p.head_sha}/{f.path}",
        "contents_url": f"{api}/repos/{p.repo.full_name}/contents/{f.path}?ref={p.head_sha}",
    }
    if f.patch:
        out["patch"] = f.patch
    if f.previous_path:
        out["previous_filename"] = f.previous_path
    return out


def review(api: str, r: Review) -> dict[str, Any]:
    """A pull-request-review object."""
    pull_url = f"{api}/repos/{r.pull.repo.full_name}/pulls/{r.pull.number}"
    html = f"{WEB}/{r.pull.repo.full_name}/pull/{r.pull.number}#pullrequestreview-{r.id}"
    out = {
        "id": r.id,
        "node_id": _node("PRR", r.id),
        "user": user(api, r.user),
        "body": r.body,
        "state": r.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": _association(r.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": r.commit_id,
    }
    if r.submitted_at is not None:
        out["submitted_at"] = r.submitted_at
    return out


def review_comment(api: str, c: ReviewComment, *, outdated: bool) -> dict[str, Any]:
    """A pull-request-review-comment object. An outdated comment has ``line: null``."""
    home = f"{api}/repos/{c.pull.repo.full_name}"
    url = f"{home}/pulls/comments/{c.id}"
    pull_url = f"{home}/pulls/{c.pull.number}"
    html = f"{WEB}/{c.pull.repo.full_name}/pull/{c.pull.number}#discussion_r{c.id}"
    out: dict[str, Any] = {
        "url": url,
        "pull_request_review_id": c.review_id,
        "id": c.id,
        "node_id": _node("PRRC", c.id),
        "diff_hunk": c.diff_hunk,
        "path": c.path,
        # A comment that still applies is carried forward to the current head.
        "commit_id": c.commit_id if outdated else c.pull.head_sha,
        "original_commit_id": c.commit_id,
        "user": user(api, c.user),
        "body": c.body,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": _association(c.user),
        "_links": {
            "self": {"href": url},
            "html": {"href": html},
            "pull_request": {"href": pull_url},
        },
        "reactions": _reactions(f"{url}/reactions"),
        "start_line": None if outdated else c.start_line,
        "original_start_line": c.start_line,
        "start_side": c.start_side if c.start_line is not None else None,
        "line": None if outdated else c.line,
        "original_line": c.line,
        "side": c.side,
        "original_position": c.position,
        "position": None if outdated else c.position,
        "subject_type": c.subject_type,
    }
    if c.in_reply_to_id is not None:
        out["in_reply_to_id"] = c.in_reply_to_id
    return out


def issue_comment(api: str, c: IssueComment) -> dict[str, Any]:
    """An issue-comment object."""
    url = f"{api}/repos/{c.repo.full_name}/issues/comments/{c.id}"
    return {
        "url": url,
        "html_url": f"{WEB}/{c.repo.full_name}/pull/{c.number}#issuecomment-{c.id}",
        "issue_url": f"{api}/repos/{c.repo.full_name}/issues/{c.number}",
        "id": c.id,
        "node_id": _node("IC", c.id),
        "user": user(api, c.user),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "author_association": _association(c.user),
        "body": c.body,
        "reactions": _reactions(f"{url}/reactions"),
        "performed_via_github_app": None,
    }


def check_run(api: str, run: CheckRun, pulls: list[Pull]) -> dict[str, Any]:
    """A check-run object; PULLS are the open pull requests whose head is the run's SHA."""
    url = f"{api}/repos/{run.repo.full_name}/check-runs/{run.id}"
    html = f"{WEB}/{run.repo.full_name}/runs/{run.id}"
    return {
        "id": run.id,
        "name": run.name,
        "node_id": _node("CR", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id or "",
        "url": url,
        "html_url": html,
        "details_url": run.details_url or html,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{url}/annotations",
        },
        "check_suite": {"id": run.check_suite_id},
        "app": _actions_app(api),
        "pull_requests": [_pull_ref(api, p) for p in pulls],
    }


def annotation(run: CheckRun, raw: dict[str, Any]) -> dict[str, Any]:
    """A check-annotation object from an annotation as the client sent it."""
    return {
        "path": raw["path"],
        "blob_href": f"{WEB}/{run.repo.full_name}/blob/{run.head_sha}/{raw['path']}",
        "start_line": raw["start_line"],
        "end_line": raw["end_line"],
        "start_column": raw.get("start_column"),
        "end_column": raw.get("end_column"),
        "annotation_level": raw["annotation_level"],
        "title": raw.get("title", ""),
        "message": raw["message"],
        "raw_details": raw.get("raw_details", ""),
    }


def commit(api: str, r: Repo, sha: str) -> dict[str, Any]:
    """A commit object with what a fake knows of it: its SHA."""
    home = f"{api}/repos/{r.full_name}"
    tree = hashlib.sha1(f"tree:{sha}".encode()).hexdigest()  # an id, not a secret
    person = {"name": "Mona Octocat", "email": "mona@example.com", "date": _EPOCH}
    return {
        "url": f"{home}/commits/{sha}",
        "sha": sha,
        "node_id": _node("C", int(sha[:12], 16) if _is_hex(sha) else 0),
        "html_url": f"{WEB}/{r.full_name}/commit/{sha}",
        "comments_url": f"{home}/commits/{sha}/comments",
        "commit": {
            "url": f"{home}/git/commits/{sha}",
            "author": person,
            "committer": person,
            "message": "A commit",
            "comment_count": 0,
            "tree": {"sha": tree, "url": f"{home}/git/trees/{tree}"},
        },
        "author": None,
        "committer": None,
        "parents": [],
        "stats": {"additions": 0, "deletions": 0, "total": 0},
        "files": [],
    }


def rate_limit(limit: int, remaining: int, reset: int) -> dict[str, Any]:
    """The GET /rate_limit document."""
    core = {"limit": limit, "remaining": remaining, "reset": reset, "used": limit - remaining}
    other = {"limit": 1000, "remaining": 1000, "reset": reset, "used": 0}
    return {
        "resources": {"core": core, "graphql": other, "search": other, "code_search": other},
        "rate": core,
    }


def _pull_ref(api: str, p: Pull) -> dict[str, Any]:
    def ref(r: Repo, name: str, sha: str) -> dict[str, Any]:
        return {
            "ref": name,
            "sha": sha,
            "repo": {"id": r.id, "url": f"{api}/repos/{r.full_name}", "name": r.name},
        }

    return {
        "id": p.id,
        "number": p.number,
        "url": f"{api}/repos/{p.repo.full_name}/pulls/{p.number}",
        "head": ref(p.head_repo, p.head_ref, p.head_sha),
        "base": ref(p.repo, p.base_ref, p.base_sha),
    }


def _actions_app(api: str) -> dict[str, Any]:
    owner = User("github", 9919, "Organization")
    return {
        "id": _ACTIONS_APP_ID,
        "slug": "github-actions",
        "node_id": "MDM6QXBwMTUzNjg=",
        "owner": user(api, owner),
        "name": "GitHub Actions",
        "description": "Automate your workflow from idea to production",
        "external_url": "https://help.github.com/en/actions",
        "html_url": f"{WEB}/apps/github-actions",
        "created_at": "2018-07-30T09:30:17Z",
        "updated_at": "2019-12-10T19:04:12Z",
        "permissions": {"checks": "write", "pull_requests": "write", "metadata": "read"},
        "events": ["check_run", "pull_request"],
    }


def _reactions(url: str) -> dict[str, Any]:
    counts = dict.fromkeys(
        ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"), 0
    )
    return {"url": url, "total_count": 0, **counts}


def _association(who: User) -> str:
    return "NONE" if who.type == "Bot" else "CONTRIBUTOR"


def _is_hex(text: str) -> bool:
    return all(ch in "0123456789abcdef" for ch in text.lower()) and bool(text)
