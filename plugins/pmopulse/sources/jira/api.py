"""The Jira Cloud REST calls a pull needs, with both of Jira's ways of paging.

Issue search (`/rest/api/3/search/jql`) pages by an opaque `nextPageToken` that is absent
on the last page; everything else pages by `startAt` with `isLast` or `total`. The search
embeds at most 40 changelog histories and 20 worklogs per issue, with their `total`: only
when an issue has more is its own changelog or worklog endpoint asked, so most issues
cost no call of their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pmopulse.sources.http import ApiClient

SEARCH = "/rest/api/3/search/jql"
ISSUE_FIELDS = ("summary", "issuetype", "status", "priority", "created", "updated", "resolutiondate",
                "duedate", "labels", "project", "fixVersions", "statuscategorychangedate")
CHANGELOG_PAGE = 100   # the endpoint's maximum
WORKLOG_PAGE = 1000
LIST_PAGE = 50         # versions, boards, sprints, projects


class JiraApi:
    def __init__(self, client: ApiClient, page_size: int) -> None:
        self.client = client
        self.page_size = page_size

    def search(self, jql: str, *, worklogs: bool, hint: str) -> Iterator[dict[str, Any]]:
        """Every issue the JQL finds, with its fields and (the start of) its changelog."""
        fields = [*ISSUE_FIELDS, "worklog"] if worklogs else list(ISSUE_FIELDS)
        params: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "expand": "changelog",
                                  "maxResults": self.page_size}
        seen: set[str] = set()
        while True:
            page = self.client.get(SEARCH, params, hint=hint)
            yield from page.get("issues") or []
            token = page.get("nextPageToken")
            # Loop on the token, not on counts: Jira may return fewer than maxResults.
            if page.get("isLast") or not token:
                return
            if token in seen:
                raise self.client.error(f"GET {SEARCH} returned the same search page token twice "
                                        f"({hint}); try again later")
            seen.add(token)
            params["nextPageToken"] = token

    def histories(self, issue: Mapping[str, Any]) -> list[dict[str, Any]]:
        """All changelog histories of an issue: the embedded ones when they are complete."""
        changelog = issue.get("changelog") or {}
        histories: list[dict[str, Any]] = changelog.get("histories") or []
        if int(changelog.get("total", len(histories))) <= len(histories):
            return histories
        key = issue["key"]
        return list(self._offset_pages(f"/rest/api/3/issue/{quote(key)}/changelog", "values",
                                       CHANGELOG_PAGE, hint=f"issue {key}"))

    def worklogs(self, issue: Mapping[str, Any]) -> list[dict[str, Any]]:
        """All worklogs of an issue: the embedded ones (up to 20) when they are complete."""
        embedded = (issue.get("fields") or {}).get("worklog") or {}
        logs: list[dict[str, Any]] = embedded.get("worklogs") or []
        if int(embedded.get("total", len(logs))) <= len(logs):
            return logs
        key = issue["key"]
        return list(self._offset_pages(f"/rest/api/3/issue/{quote(key)}/worklog", "worklogs",
                                       WORKLOG_PAGE, hint=f"issue {key}"))

    def project_keys(self) -> list[str]:
        """Every project the credentials can browse."""
        return [str(p["key"]) for p in self._offset_pages("/rest/api/3/project/search", "values",
                                                          LIST_PAGE, hint="the project list")]

    def statuses(self) -> list[dict[str, Any]]:
        """Every status of the site's workflows, with its id and category (a team-managed
        project's own statuses have ids of their own)."""
        answer = self.client.get("/rest/api/3/status", hint="the status list")
        return list(answer) if isinstance(answer, list) else []

    def versions(self, project: str) -> Iterator[dict[str, Any]]:
        return self._offset_pages(f"/rest/api/3/project/{quote(project)}/version", "values", LIST_PAGE,
                                  hint=f"project {project}")

    def boards(self, project: str) -> Iterator[dict[str, Any]]:
        return self._offset_pages("/rest/agile/1.0/board", "values", LIST_PAGE,
                                  params={"projectKeyOrId": project}, hint=f"project {project}")

    def sprints(self, board: int, project: str) -> Iterator[dict[str, Any]]:
        """A board's sprints; a kanban board answers 400 ("does not support sprints"): none."""
        return self._offset_pages(f"/rest/agile/1.0/board/{board}/sprint", "values", LIST_PAGE,
                                  hint=f"project {project}, board {board}", empty_on=(400,))

    def _offset_pages(self, path: str, key: str, size: int, *, params: Mapping[str, Any] | None = None,
                      hint: str, empty_on: Sequence[int] = ()) -> Iterator[dict[str, Any]]:
        start = 0
        while True:
            page = self.client.get(path, {**(params or {}), "startAt": start, "maxResults": size},
                                   hint=hint, empty_on=empty_on)
            if page is None:
                return
            items = page.get(key) or []
            yield from items
            start += len(items)
            if not items or page.get("isLast") is True:
                return
            if "isLast" not in page and start >= int(page.get("total", 0)):
                return
